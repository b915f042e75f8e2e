package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
)

// TestServeWithNATSWorker runs `bingli serve --nats` (settings from --config) and a `bingli
// worker --device cuda` against an embedded NATS server: the job's results equal `bingli
// tag`, and the worker says it fell back to the CPU.
func TestServeWithNATSWorker(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	model := filepath.Join("..", "..", "weights", "ccks2017-lite")
	cfg := filepath.Join(t.TempDir(), "serve.json")
	if err := os.WriteFile(cfg, []byte(`{"addr": "127.0.0.1:0", "job-chunk": 1, "nats": "`+ns.ClientURL()+`", "max-wait": "2ms"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var out, logs syncBuffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &logs, log: slog.New(slog.NewTextHandler(&logs, nil))}
	served := make(chan int, 1)
	go func() {
		served <- run(ctx, e, []string{"serve", "--config", cfg, "--model", model, "--data-dir", t.TempDir()})
	}()
	var wout, wlogs syncBuffer
	we := &env{stdin: strings.NewReader(""), stdout: &wout, stderr: &wlogs, log: slog.New(slog.NewTextHandler(&wlogs, nil))}
	worked := make(chan int, 1)
	go func() {
		worked <- run(ctx, we, []string{"worker", "--nats", ns.ClientURL(), "--model", model, "--device", "cuda"})
	}()
	var url string
	re := regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	for i := 0; i < 1000 && url == ""; i++ {
		url = re.FindString(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" {
		t.Fatalf("serve printed no URL; stderr:\n%s", logs.String())
	}
	if !strings.Contains(out.String(), "on NATS workers") {
		t.Errorf("serve does not say jobs run on workers: %s", out.String())
	}
	input, err := os.ReadFile(filepath.Join("..", "..", "examples", "record.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	code, got, stderr := runCLI(t, string(input), "jobs", "submit", "-", "--wait", "--server", url)
	if code != 0 {
		t.Fatalf("jobs submit: %d %s\nserver: %s\nworker: %s", code, stderr, logs.String(), wlogs.String())
	}
	code, want, stderr := runCLI(t, string(input), "tag", "--model", model)
	if code != 0 {
		t.Fatalf("tag: %d %s", code, stderr)
	}
	if got != want {
		t.Errorf("job results differ from bingli tag:\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(wlogs.String(), "; using the CPU backend") {
		t.Errorf("worker stderr lacks the CPU fallback line:\n%s", wlogs.String())
	}
	cancel()
	if code := <-served; code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if code := <-worked; code != 0 {
		t.Errorf("worker exited %d: %s", code, wlogs.String())
	}
}

func TestApplyConfig(t *testing.T) {
	newFS := func() (*flag.FlagSet, *string, *int, *time.Duration) {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		return fs, fs.String("addr", "a", ""), fs.Int("rate", 1, ""), fs.Duration("wait", time.Second, "")
	}
	path := filepath.Join(t.TempDir(), "c.json")
	_ = os.WriteFile(path, []byte(`{"addr": "from-file", "rate": 20, "wait": "5ms"}`), 0o600)
	fs, addr, rate, wait := newFS()
	if err := fs.Parse([]string{"--rate", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := applyConfig(fs, path); err != nil {
		t.Fatal(err)
	}
	if *addr != "from-file" || *rate != 3 || *wait != 5*time.Millisecond {
		t.Errorf("addr %q rate %d wait %v: want the file's values except the command line's rate", *addr, *rate, *wait)
	}
	for body, want := range map[string]string{
		`{"adr": "x"}`:     `unknown setting "adr"`,
		`{"rate": "fast"}`: "rate",
		`[1]`:              "want a JSON object",
		`{"addr": [1]}`:    "want a string, number or boolean",
	} {
		_ = os.WriteFile(path, []byte(body), 0o600)
		fs, _, _, _ := newFS()
		if err := applyConfig(fs, path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", body, err, want)
		}
	}
}
