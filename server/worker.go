package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/bingli/bingli/core/deid"
)

// WorkerConfig configures RunWorker.
type WorkerConfig struct {
	// NATS is the NATS server URL (the same one `bingli serve --nats` uses).
	NATS string
	// Model is the model this worker tags with, one chunk at a time (the worker must be its
	// only user: a model is not safe for concurrent use); it takes the chunks of jobs for
	// that model name only (subject bingli.chunks.<model>.>).
	Model Model
	// Name identifies the worker in logs and in its results (default host:pid).
	Name string
	// AckWait is how long NATS waits for a chunk's ack before redelivering it to another
	// worker (default 60 s); while tagging, the worker reports progress every AckWait/3, so
	// only a dead or hung worker's chunk is redelivered.
	AckWait time.Duration
	// Log receives the worker's events (default: discard). Document text is never logged.
	Log *slog.Logger

	// afterPublish, in tests, runs after a result is stored in NATS and before the chunk is
	// acked (a worker that dies there must not duplicate results).
	afterPublish func(h chunkHeader)
	// beforeTag, in tests, runs when a chunk has been received; ready once the worker's
	// consumer exists.
	beforeTag func(h chunkHeader)
	ready     func()
}

// errResultTooLarge replaces a chunk's results that do not fit a NATS message.
var errResultTooLarge = errors.New("result larger than the NATS max payload")

// RunWorker takes job chunks from NATS JetStream and tags them until ctx is done; a chunk in
// progress is finished first. For each chunk it publishes the result lines to
// bingli.results.<job> and waits for JetStream to store them, and only then acks the chunk:
// a worker that dies before the ack has its chunk redelivered to another worker after
// AckWait, and a duplicate result is dropped by the server.
func RunWorker(ctx context.Context, cfg WorkerConfig) error {
	if cfg.Model.Tagger == nil {
		return errors.New("worker: no model")
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = time.Minute
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Name == "" {
		host, _ := os.Hostname()
		cfg.Name = host + ":" + strconv.Itoa(os.Getpid())
	}
	nc, err := connectNATS(cfg.NATS, "bingli-worker "+cfg.Name)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("JetStream: %w", err)
	}
	chunks, _, err := ensureStreams(ctx, js)
	if err != nil {
		return err
	}
	tok := subjectToken(cfg.Model.Name)
	cons, err := chunks.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       "workers-" + tok,
		FilterSubject: "bingli.chunks." + tok + ".>",
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		Description:   "bingli workers for model " + cfg.Model.Name,
	})
	if err != nil {
		return fmt.Errorf("chunk consumer: %w", err)
	}
	cfg.Log.Info("worker ready", "worker", cfg.Name, "model", cfg.Model.Name, "backend", cfg.Model.Backend)
	if cfg.ready != nil {
		cfg.ready()
	}
	w := &worker{cfg: cfg, nc: nc, js: js}
	for ctx.Err() == nil {
		msg, err := cons.Next(jetstream.FetchMaxWait(time.Second))
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) || ctx.Err() != nil {
				continue
			}
			cfg.Log.Warn("fetching a chunk failed", "err", err)
			select {
			case <-time.After(time.Second):
			case <-ctx.Done():
			}
			continue
		}
		w.handle(ctx, msg)
	}
	return nil
}

type worker struct {
	cfg WorkerConfig
	nc  *nats.Conn
	js  jetstream.JetStream
}

// handle tags one chunk, publishes its result and acks it. On a failure to publish it leaves
// the chunk unacked, so that it is redelivered.
func (w *worker) handle(ctx context.Context, msg jetstream.Msg) {
	h, err := parseChunkHeader(msg.Headers())
	if err != nil {
		w.cfg.Log.Error("dropping a malformed chunk", "err", err)
		_ = msg.Term()
		return
	}
	if w.cfg.beforeTag != nil {
		w.cfg.beforeTag(h)
	}
	start := time.Now()
	data, failed, err := w.process(msg, h)
	out := nats.NewMsg(resultPrefix + h.job)
	h.failed = failed
	h.set(out.Header)
	out.Header.Set(hdrWorker, w.cfg.Name)
	if err != nil {
		w.cfg.Log.Error("chunk failed", "job", h.job, "start", h.start, "err", err)
		out.Header.Set(hdrError, err.Error())
	} else {
		out.Data = data
	}
	// Publishing is not cut short by ctx: a worker told to stop finishes its chunk.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*w.cfg.AckWait)
	defer cancel()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		_, err = w.js.PublishMsg(pctx, out, jetstream.WithMsgID(chunkMsgID(h.job, h.start, h.end)))
		if err == nil {
			break
		}
		if pctx.Err() != nil {
			w.cfg.Log.Error("publishing a result failed; the chunk will be redelivered", "job", h.job, "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-pctx.Done():
		}
	}
	if w.cfg.afterPublish != nil {
		w.cfg.afterPublish(h)
	}
	if err := msg.DoubleAck(pctx); err != nil {
		w.cfg.Log.Warn("acking a chunk failed (its result is stored; a redelivery is dropped as a duplicate)", "job", h.job, "err", err)
	}
	w.cfg.Log.Info("chunk done", "job", h.job, "start", h.start, "docs", h.docs, "failed", failed,
		"ms", time.Since(start).Milliseconds())
}

// process decodes a chunk, tags it (reporting progress to NATS meanwhile) and encodes one
// result line per document, zstd-compressed.
func (w *worker) process(msg jetstream.Msg, h chunkHeader) ([]byte, int64, error) {
	hd := msg.Headers()
	kind := hd.Get(hdrKind)
	if kind != "ner" && kind != "deid" {
		return nil, 0, fmt.Errorf("chunk of unknown kind %q", kind)
	}
	var mode deid.Mode
	var seed uint64
	if kind == "deid" {
		var err error
		if mode, err = deid.ParseMode(hd.Get(hdrMode)); err != nil {
			return nil, 0, fmt.Errorf("chunk deid mode: %w", err)
		}
		if seed, err = strconv.ParseUint(hd.Get(hdrSeed), 10, 64); err != nil {
			return nil, 0, fmt.Errorf("chunk deid seed: %w", err)
		}
	}
	raw, err := zdec.DecodeAll(msg.Data(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("decompressing chunk: %w", err)
	}
	var docs []document
	for line := range bytes.Lines(raw) {
		var d document
		if err := json.Unmarshal(line, &d); err != nil {
			return nil, 0, fmt.Errorf("corrupt chunk: %w", err)
		}
		docs = append(docs, d)
	}
	if int64(len(docs)) != h.docs {
		return nil, 0, fmt.Errorf("chunk holds %d documents, its header says %d", len(docs), h.docs)
	}
	stop := make(chan struct{})
	beat := make(chan struct{})
	go func() {
		defer close(beat)
		t := time.NewTicker(w.cfg.AckWait / 3)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = msg.InProgress()
			case <-stop:
				return
			}
		}
	}()
	res := tagAll(context.Background(), w.cfg.Model.Tagger, docTexts(docs))
	close(stop)
	<-beat
	var buf bytes.Buffer
	failed, err := encodeResults(&buf, kind, mode, seed, docs, res)
	if err != nil {
		return nil, 0, err
	}
	data := zenc.EncodeAll(buf.Bytes(), nil)
	if int64(len(data)) > w.nc.MaxPayload()-8<<10 {
		for i := range res {
			res[i] = tagResult{err: fmt.Errorf("%w (%d bytes compressed)", errResultTooLarge, len(data))}
		}
		buf.Reset()
		if failed, err = encodeResults(&buf, kind, mode, seed, docs, res); err != nil {
			return nil, 0, err
		}
		data = zenc.EncodeAll(buf.Bytes(), nil)
	}
	return data, failed, nil
}
