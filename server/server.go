package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bingli/bingli/core/pipeline"
)

// Model is the one model instance the server tags with.
type Model struct {
	Name    string // e.g. "ccks2017-lite" (the bundle's folder name)
	Backend string // "cpu" or "cuda", for /v1/models and /metrics
	Tagger  pipeline.BatchTagger
}

// Config configures a Server. Zero values take the defaults documented on each field.
type Config struct {
	Model Model
	// DataDir holds the job store (jobs.db) and the jobs' input and result files. Empty
	// disables /v1/jobs (503).
	DataDir string
	// Tokens are the accepted bearer tokens. With none, /v1 is served to loopback clients only.
	Tokens *Tokens
	// InsecureNoAuth serves /v1 to any client without tokens (only ever behind another gate).
	InsecureNoAuth bool
	// RatePerSec and Burst bound requests per token (or per client address without tokens)
	// on /v1; RatePerSec ≤ 0 disables the limit.
	RatePerSec float64
	Burst      int
	// MaxBody bounds a /v1/ner body in bytes (default 8 MiB); MaxJobBody a job upload
	// (default 1 GiB).
	MaxBody    int64
	MaxJobBody int64
	// MaxDocChars bounds one document's text in code points (default 100,000); MaxDocs the
	// documents of one /v1/ner request (default 1,024).
	MaxDocChars int
	MaxDocs     int
	// MaxBatch is the most documents the batcher hands the model at once (default 64);
	// MaxWait how long it waits for a batch to fill (default 5 ms).
	MaxBatch int
	MaxWait  time.Duration
	// JobChunk is how many documents a job commits at a time (default 64).
	JobChunk int
	// NATS, when set, is a NATS server URL: jobs are then cut into chunks published to the
	// JetStream work-queue stream BINGLI_CHUNKS for `bingli worker` processes, and their
	// results are read back from BINGLI_RESULTS into the job store (see distRunner). Requires
	// DataDir.
	NATS string
	// ChunkBytes bounds a published chunk's input bytes (default 256 KiB, and at most half
	// the NATS max payload); Window the chunks of one job outstanding at once (default 64).
	ChunkBytes int64
	Window     int
	// ReadTimeout, WriteTimeout and IdleTimeout bound connections (defaults 30 s, 60 s,
	// 120 s); job uploads and result downloads extend their own deadlines as they stream.
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	IdleTimeout  time.Duration
	// WebDir is served at / when it holds an index.html; otherwise / says the page is not
	// built yet.
	WebDir string
	// Log receives the access log and server events (default: discard).
	Log *slog.Logger
}

func (c *Config) setDefaults() {
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def64 := func(p *int64, v int64) {
		if *p <= 0 {
			*p = v
		}
	}
	defDur := func(p *time.Duration, v time.Duration) {
		if *p <= 0 {
			*p = v
		}
	}
	def64(&c.MaxBody, 8<<20)
	def64(&c.MaxJobBody, 1<<30)
	def(&c.MaxDocChars, 100_000)
	def(&c.MaxDocs, 1024)
	def(&c.MaxBatch, 64)
	defDur(&c.MaxWait, 5*time.Millisecond)
	def(&c.JobChunk, 64)
	def64(&c.ChunkBytes, 256<<10)
	def(&c.Window, 64)
	def(&c.Burst, max(1, int(2*c.RatePerSec)))
	defDur(&c.ReadTimeout, 30*time.Second)
	defDur(&c.WriteTimeout, 60*time.Second)
	defDur(&c.IdleTimeout, 120*time.Second)
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Tokens == nil {
		c.Tokens = &Tokens{}
	}
}

// runner works through the job store's active jobs: jobRunner in-process, distRunner on NATS
// workers.
type runner interface {
	run(ctx context.Context)
	wake()
	cancel(id string)
}

// Server is the HTTP API. Create it with New, serve with Serve, and Close it when Serve
// has returned.
type Server struct {
	cfg     Config
	echo    *echo.Echo
	metrics *metrics
	batcher *batcher
	store   *store // nil without DataDir
	runner  runner // nil without DataDir
	limiter *rateLimiter
	ready   atomic.Bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// New builds a server: it opens the job store (resuming unfinished jobs) and starts the
// batcher and the job runner.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if cfg.Model.Tagger == nil {
		return nil, errors.New("server: no model")
	}
	s := &Server{cfg: cfg, done: make(chan struct{})}
	s.metrics = newMetrics(cfg.Model.Backend)
	s.limiter = newRateLimiter(cfg.RatePerSec, cfg.Burst)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.batcher = newBatcher(cfg.Model.Tagger, cfg.MaxBatch, cfg.MaxWait, s.metrics)
	if cfg.DataDir != "" {
		st, err := openStore(cfg.DataDir)
		if err != nil {
			cancel()
			return nil, err
		}
		s.store = st
		if cfg.NATS != "" {
			cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
			d, err := newDistRunner(cctx, st, cfg.NATS, cfg.JobChunk, cfg.ChunkBytes, cfg.Window, s.metrics, cfg.Log)
			ccancel()
			if err != nil {
				cancel()
				st.close()
				return nil, err
			}
			s.runner = d
			s.metrics.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "bingli_job_chunks_outstanding",
				Help: "Job chunks published to NATS workers whose results are not committed yet.",
			}, func() float64 {
				qctx, qcancel := context.WithTimeout(context.Background(), time.Second)
				defer qcancel()
				var n int
				if err := st.db.QueryRowContext(qctx, `SELECT COUNT(*) FROM chunks`).Scan(&n); err != nil {
					return -1
				}
				return float64(n)
			}))
		} else {
			s.runner = newJobRunner(st, s.batcher, cfg.JobChunk, cfg.Model.Name, s.metrics, cfg.Log)
		}
	} else if cfg.NATS != "" {
		cancel()
		return nil, errors.New("server: NATS mode needs a data directory for the job store")
	}
	go func() {
		defer close(s.done)
		if s.runner != nil {
			s.runner.run(ctx)
		}
	}()
	go s.batcher.run()
	s.echo = s.routes()
	s.ready.Store(true)
	return s, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.echo }

// CheckBind refuses a non-loopback address when no tokens are configured and insecure mode
// is off, so an unauthenticated API never leaves the machine by accident.
func CheckBind(addr string, haveTokens, insecure bool) error {
	if haveTokens || insecure {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("refusing to serve on %s without tokens: set --tokens-file or BINGLI_TOKENS, bind 127.0.0.1, or pass --insecure-no-auth", addr)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Serve serves on ln (with TLS when certFile and keyFile are set) until ctx is done, then
// shuts down gracefully: it stops accepting, waits up to drain for in-flight requests (and
// so their batches) and returns. The caller then calls Close.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string, drain time.Duration) error {
	if err := CheckBind(ln.Addr().String(), s.cfg.Tokens.Len() > 0, s.cfg.InsecureNoAuth); err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" || keyFile != "" {
			err = hs.ServeTLS(ln, certFile, keyFile)
		} else {
			err = hs.Serve(ln)
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.cfg.Log.Info("shutting down", "drain", drain.String())
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// Close stops the job runner (an unfinished chunk is redone on the next start), the
// batcher, and closes the store.
func (s *Server) Close() error {
	s.ready.Store(false)
	s.cancel()
	<-s.done
	s.batcher.close()
	if s.store != nil {
		return s.store.close()
	}
	return nil
}

// webIndex reports whether dir holds a built page.
func webIndex(dir string) bool {
	if dir == "" {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, "index.html"))
	return err == nil && !st.IsDir()
}
