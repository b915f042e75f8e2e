package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/server"
)

func runServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "[flags]", `
Serves the HTTP API (POST /v1/ner, GET /v1/models, bulk jobs under /v1/jobs, /healthz,
/readyz, /metrics, /openapi.json) and the browser page at /.

With no tokens configured the API answers loopback clients only, and a non-loopback --addr
is refused unless --insecure-no-auth is given. Tokens come from --tokens-file (one a line)
and the BINGLI_TOKENS environment variable (comma-separated); clients send
"Authorization: Bearer TOKEN". Request text is never logged.`)
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
	if _, err := parseArgs(fs, args); err != nil {
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
	tagger, err := pipeline.LoadModelTagger(cpu.New(*threads), dir)
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
		Model:          server.Model{Name: filepath.Base(filepath.Clean(dir)), Backend: "cpu", Tagger: tagger},
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
	fmt.Fprintf(e.stdout, "bingli serving %s://%s/ (model %s, jobs in %s)\n", scheme, ln.Addr(), dir, *dataDir)
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
