package main

import (
	"bytes"
	"context"

	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeAndJobsClient starts `bingli serve` on a free loopback port, runs a bulk job
// through `bingli jobs submit --wait`, and checks the results match `bingli tag`.
func TestServeAndJobsClient(t *testing.T) {
	model := filepath.Join("..", "..", "weights", "ccks2017-lite")
	var out, logs syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &logs, log: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, e, []string{"serve", "--addr", "127.0.0.1:0", "--model", model, "--data-dir", t.TempDir()})
	}()
	var url string
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	for i := 0; i < 500 && url == ""; i++ {
		url = re.FindString(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" {
		cancel()
		t.Fatalf("serve printed no URL; stderr:\n%s", logs.String())
	}
	input, err := os.ReadFile(filepath.Join("..", "..", "examples", "record.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	code, got, stderr := runCLI(t, string(input), "jobs", "submit", "-", "--wait", "--server", url)
	if code != 0 {
		t.Fatalf("jobs submit: %d %s", code, stderr)
	}
	code, want, stderr := runCLI(t, string(input), "tag", "--model", model)
	if code != 0 {
		t.Fatalf("tag: %d %s", code, stderr)
	}
	if got != want {
		t.Errorf("job results differ from bingli tag:\n%s\nwant\n%s", got, want)
	}
	if code, _, stderr := runCLI(t, "", "jobs", "status", "nope", "--server", url); code != 1 || !strings.Contains(stderr, "404") {
		t.Errorf("status of an unknown job: %d %s", code, stderr)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve exited %d: %s", code, logs.String())
	}
}

func TestServeRefusesOpenAddressWithoutTokens(t *testing.T) {
	t.Setenv("BINGLI_TOKENS", "")
	code, _, stderr := runCLI(t, "", "serve", "--addr", "0.0.0.0:0")
	if code != 2 || !strings.Contains(stderr, "--insecure-no-auth") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}
