package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/server"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[flags]", `
Serves the HTTP API (POST /v1/ner, GET /v1/models, bulk jobs under /v1/jobs, /healthz,
/readyz, /metrics, /openapi.json) and the browser page at /.

With no tokens configured the API answers loopback clients only, and a non-loopback --addr
is refused unless --insecure-no-auth is given. Tokens come from --tokens-file (one a line)
and the BINGLI_TOKENS environment variable (comma-separated); clients send
"Authorization: Bearer TOKEN". Request text is never logged.

With --nats URL, bulk jobs are cut into chunks published to NATS JetStream and tagged by
"bingli worker" processes; /v1/ner and /v1/deid are still tagged here.

--config FILE reads a JSON object of flag names to values (e.g. {"addr": "127.0.0.1:9000",
"rate": 20, "max-wait": "2ms"}); flags given on the command line win.`)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address HOST:PORT")
	modelDir := fs.String("model", "weights/ccks2017-lite", "model bundle folder (relative paths are tried beside the binary, then in the working directory)")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads for the model")
	dataDir := fs.String("data-dir", "", "job store folder (default: bingli/server under the user cache folder)")
	webDir := fs.String("web", "web", "folder of the browser page served at / (relative paths resolved like --model)")
	tokensFile := fs.String("tokens-file", "", "file of bearer tokens, one a line")
	insecure := fs.Bool("insecure-no-auth", false, "serve /v1 without tokens on a non-loopback address")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM); with --tls-key serves HTTPS")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM)")
	rate := fs.Float64("rate", 50, "requests per second allowed per token on /v1 (0: no limit)")
	burst := fs.Int("burst", 100, "burst of requests allowed per token above --rate")
	maxBody := fs.Int64("max-body", 8<<20, "largest /v1/ner body in bytes")
	maxJobBody := fs.Int64("max-job-body", 1<<30, "largest job upload in bytes")
	maxDocChars := fs.Int("max-doc-chars", 100_000, "longest document in characters")
	maxBatch := fs.Int("max-batch", 64, "most documents per model batch")
	maxWait := fs.Duration("max-wait", 5*time.Millisecond, "longest wait for a batch to fill")
	drain := fs.Duration("drain", 30*time.Second, "how long shutdown waits for in-flight requests")
	deviceName := fs.String("device", "auto", device.FlagHelp)
	natsURL := fs.String("nats", "", "NATS server URL: run bulk jobs on `bingli worker` processes through JetStream")
	jobChunk := fs.Int("job-chunk", 64, "documents per job chunk (the unit committed, and published to workers)")
	config := fs.String("config", "", "JSON file of flag values (command-line flags win)")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if err := applyConfig(fs, *config); err != nil {
		return err
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	tokens, err := server.LoadTokens(*tokensFile, os.Getenv("BINGLI_TOKENS"))
	if err != nil {
		return err
	}
	if err := server.CheckBind(*addr, tokens.Len() > 0, *insecure); err != nil {
		return usagef("%v", err)
	}
	dir := resolvePath(*modelDir)
	be, backend, err := chooseBackend(*deviceName, *threads, e.stderr)
	if err != nil {
		return err
	}
	tagger, err := pipeline.LoadModelTagger(be, dir)
	if err != nil {
		return fmt.Errorf("loading model: %w", err)
	}
	if *dataDir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("no --data-dir and no user cache folder: %w", err)
		}
		*dataDir = filepath.Join(cache, "bingli", "server")
	}
	s, err := server.New(server.Config{
		Model:          server.Model{Name: filepath.Base(filepath.Clean(dir)), Backend: backend, Tagger: tagger},
		DataDir:        *dataDir,
		Tokens:         tokens,
		InsecureNoAuth: *insecure,
		RatePerSec:     *rate,
		Burst:          *burst,
		MaxBody:        *maxBody,
		MaxJobBody:     *maxJobBody,
		MaxDocChars:    *maxDocChars,
		MaxBatch:       *maxBatch,
		MaxWait:        *maxWait,
		JobChunk:       *jobChunk,
		NATS:           *natsURL,
		WebDir:         resolvePath(*webDir),
		Log:            e.log,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	jobsOn := "in-process"
	if *natsURL != "" {
		jobsOn = "on NATS workers at " + *natsURL
	}
	fmt.Fprintf(e.stdout, "bingli serving %s://%s/ (model %s on %s, jobs in %s, run %s)\n", scheme, ln.Addr(), dir, backend, *dataDir, jobsOn)
	return s.Serve(ctx, ln, *tlsCert, *tlsKey, *drain)
}

// resolvePath returns a relative path beside the executable when it exists there, and
// otherwise as given (relative to the working directory).
func resolvePath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	if exe, err := os.Executable(); err == nil {
		for _, base := range []string{filepath.Dir(exe), filepath.Dir(filepath.Dir(exe))} {
			cand := filepath.Join(base, p)
			if _, err := os.Stat(cand); err == nil {
				return cand
			}
		}
	}
	return p
}

// applyConfig sets the flags named in a JSON config file (an object of flag name to value:
// string, number, boolean, or a duration string), except those given on the command line.
func applyConfig(fs *flag.FlagSet, path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var vals map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&vals); err != nil {
		return usagef("config %s: want a JSON object of flag values: %v", path, err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "config" || fs.Lookup(name) == nil {
			return usagef("config %s: unknown setting %q (settings are the flags of --help)", path, name)
		}
		if set[name] {
			continue
		}
		var v any
		if err := json.Unmarshal(vals[name], &v); err != nil {
			return usagef("config %s: %s: %v", path, name, err)
		}
		var str string
		switch x := v.(type) {
		case string:
			str = x
		case bool:
			str = strconv.FormatBool(x)
		case float64:
			str = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			return usagef("config %s: %s: want a string, number or boolean", path, name)
		}
		if err := fs.Set(name, str); err != nil {
			return usagef("config %s: %s: %v", path, name, err)
		}
	}
	return nil
}
