package main

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/server"
)

func runWorker(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "worker", "--nats URL [flags]", `
Tags bulk-job chunks for a "bingli serve --nats URL" server: takes chunks from the NATS
JetStream stream BINGLI_CHUNKS (jobs for its model only), tags them, publishes each chunk's
results to BINGLI_RESULTS and acks the chunk only once JetStream has stored them. A worker
that dies has its chunk redelivered to another after --ack-wait. Start as many as you like,
on as many machines; SIGINT or SIGTERM stops one after its current chunk.

--config FILE reads a JSON object of flag names to values; flags given on the command line
win.`)
	natsURL := fs.String("nats", envOr("BINGLI_NATS", ""), "NATS server URL (default $BINGLI_NATS)")
	modelDir := fs.String("model", "weights/ccks2017-lite", "model bundle folder (must be the model the server serves)")
	deviceName := fs.String("device", "auto", device.FlagHelp)
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads for the model")
	ackWait := fs.Duration("ack-wait", time.Minute, "how long NATS waits for a chunk's ack before giving it to another worker (the worker reports progress meanwhile)")
	name := fs.String("name", "", "worker name in logs (default host:pid)")
	config := fs.String("config", "", "JSON file of flag values (command-line flags win)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if err := applyConfig(fs, *config); err != nil {
		return err
	}
	if *natsURL == "" {
		return usagef("--nats URL is required (or set BINGLI_NATS)")
	}
	be, backend, err := chooseBackend(*deviceName, *threads, e.stderr)
	if err != nil {
		return err
	}
	dir := resolvePath(*modelDir)
	tagger, err := pipeline.LoadModelTagger(be, dir)
	if err != nil {
		return fmt.Errorf("loading model: %w", err)
	}
	fmt.Fprintf(e.stderr, "bingli worker: model %s on %s, NATS %s\n", dir, backend, *natsURL)
	return server.RunWorker(ctx, server.WorkerConfig{
		NATS:    *natsURL,
		Model:   server.Model{Name: filepath.Base(filepath.Clean(dir)), Backend: backend, Tagger: tagger},
		Name:    *name,
		AckWait: *ackWait,
		Log:     e.log,
	})
}
