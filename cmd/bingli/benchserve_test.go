package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// cliEnv makes the test binary act as the bingli command (bench serve starts its own
// executable as "bingli serve" and "bingli tag").
const cliEnv = "BINGLI_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(cliEnv) == "1" {
		e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
			log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, e, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestBenchServe runs a short `bingli bench serve` on the examples: both tables come out,
// with no errors and identical job and tag outputs.
func TestBenchServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	t.Setenv(cliEnv, "1")
	code, out, stderr := runCLI(t, "", "bench", "serve", "--input", filepath.Join("..", "..", "examples", "record.jsonl"),
		"--model", filepath.Join("..", "..", "weights", "ccks2017-lite"), "--duration", "500ms", "--warmup", "0s",
		"--concurrency", "1,4", "--reps", "1", "--threads", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^1 +\d+ +[\d.]+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+ +0$`),
		regexp.MustCompile(`(?m)^4 +\d+ +[\d.]+ +[\d.]+ +\d+ +[\d.]+ +[\d.]+ +0$`),
		regexp.MustCompile(`(?m)^bulk job via the API +[\d.]+ +[\d.]+`),
		regexp.MustCompile(`outputs identical`),
	} {
		if !want.MatchString(out) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "load average at the end") {
		t.Errorf("output lacks the closing load average:\n%s", out)
	}
}
