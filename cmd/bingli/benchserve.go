package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bingli/bingli/core/corpus"
)

func runBenchServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "bench serve", "[flags]", `
Load-tests "bingli serve" on 127.0.0.1 and prints tables. It starts this binary's serve as a
child process (CPU backend, no rate limit, a temporary job store), then:

 1. POST /v1/ner, one document per request, from 1, 16 and 64 concurrent clients
    (--concurrency) for --duration each: requests/s, documents/s, characters/s, p50 and p99
    latency, errors.
 2. Serving overhead (--reps, 0 skips): the whole input as a bulk job through the API
    (upload, process, download the results) against "bingli tag" on the same file with the
    same model and threads, alternately; medians, and a check that both outputs are equal.
 3. With --soak D, POST /v1/ner at --soak-concurrency for D, sampling the server's RSS
    (/proc) and Go heap in use (/metrics) every --sample: start, end and peak.

The input is --input (JSON lines with "id" and "text") or, by default, the Yidu-S4K training
texts from the shared data folder (--data); no data is written outside a temporary folder.

With --nats URL (a running NATS server with JetStream) the server runs jobs on --workers
"bingli worker" child processes through JetStream, so step 2 measures the distributed path.
--device is passed to serve, the workers and "bingli tag" alike.`)
	modelDir := fs.String("model", "weights/ccks2017-lite", "model bundle folder")
	input := fs.String("input", "", "JSON lines {\"id\",\"text\"} (default: Yidu-S4K training texts)")
	dataFlag := fs.String("data", "", "shared data folder (default: $BINGLI_DATA or shared/data beside the checkout)")
	conc := fs.String("concurrency", "1,16,64", "comma-separated client counts for /v1/ner")
	duration := fs.Duration("duration", 20*time.Second, "measured time per concurrency level")
	warmup := fs.Duration("warmup", 3*time.Second, "unmeasured load before each level")
	reps := fs.Int("reps", 3, "bulk job vs bingli tag repetitions (0: skip)")
	soak := fs.Duration("soak", 0, "soak test length (0: none)")
	soakConc := fs.Int("soak-concurrency", 16, "clients during the soak")
	sample := fs.Duration("sample", 10*time.Second, "memory sampling interval during the soak")
	threads := fs.Int("threads", runtime.GOMAXPROCS(0), "CPU threads for the model (server and bingli tag)")
	natsURL := fs.String("nats", "", "NATS server URL: run the bulk jobs on worker processes through JetStream")
	workers := fs.Int("workers", 1, "with --nats: worker processes to start")
	device := fs.String("device", "cpu", "backend for serve, the workers and bingli tag: cpu, cuda or auto")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	var levels []int
	for _, f := range strings.Split(*conc, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return usagef("--concurrency %q: want positive integers", *conc)
		}
		levels = append(levels, n)
	}
	tmp, err := os.MkdirTemp("", "bingli-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	docs, inputPath, source, err := benchInput(*input, *dataFlag, tmp)
	if err != nil {
		return err
	}
	chars := 0
	for _, d := range docs {
		chars += len([]rune(d.Text))
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	model := resolvePath(*modelDir)
	srv, err := startBenchServer(ctx, exe, model, filepath.Join(tmp, "store"), *threads, *device, *natsURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	jobsOn := "in the server"
	if *natsURL != "" {
		for i := range *workers {
			w := exec.CommandContext(ctx, exe, "worker", "--nats", *natsURL, "--model", model, "--device", *device,
				"--threads", strconv.Itoa(*threads), "--name", fmt.Sprintf("bench-%d", i))
			w.Cancel = func() error { return w.Process.Signal(syscall.SIGTERM) }
			w.Stderr = &tailBuffer{max: 16 << 10}
			if err := w.Start(); err != nil {
				return fmt.Errorf("starting bingli worker: %w", err)
			}
			defer func() { _ = w.Process.Signal(syscall.SIGTERM); _ = w.Wait() }()
		}
		jobsOn = fmt.Sprintf("on %d bingli worker process(es) via NATS %s", *workers, *natsURL)
	}
	host, _ := os.Hostname()
	fmt.Fprintf(e.stdout, "bench serve: %s, %d documents, %d characters (mean %.0f per document); model %s; server pid %d on %s, --device %s, %d threads, jobs run %s; host %s, %d CPUs, load average %s, %s\n\n",
		source, len(docs), chars, float64(chars)/float64(len(docs)), model, srv.cmd.Process.Pid, srv.url, *device, *threads, jobsOn, host, runtime.NumCPU(), loadAvg(),
		time.Now().UTC().Format("2006-01-02 15:04 UTC"))

	bodies := make([][]byte, len(docs))
	for i, d := range docs {
		bodies[i], _ = json.Marshal(map[string]any{"documents": []any{map[string]any{"id": i, "text": d.Text}}})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}, Timeout: 5 * time.Minute}

	if len(levels) > 0 {
		fmt.Fprintf(e.stdout, "POST /v1/ner, one document per request, %s per level after %s warm-up\n", *duration, *warmup)
	}
	for i, c := range levels {
		if i == 0 {
			fmt.Fprintf(e.stdout, "%-11s %9s %9s %8s %11s %9s %9s %7s\n", "concurrency", "requests", "req/s", "docs/s", "chars/s", "p50 ms", "p99 ms", "errors")
		}
		if *warmup > 0 {
			if _, err := loadNER(ctx, client, srv.url, bodies, docs, c, *warmup, nil); err != nil {
				return err
			}
		}
		r, err := loadNER(ctx, client, srv.url, bodies, docs, c, *duration, nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%-11d %9d %9.1f %8.1f %11.0f %9.1f %9.1f %7d\n", c, r.n, r.perSec(r.n), r.perSec(r.n), r.perSec(r.chars),
			r.pct(50), r.pct(99), r.errors)
		if r.errors > 0 {
			fmt.Fprintf(e.stderr, "bench serve: first error: %s\n", r.firstErr)
		}
	}

	if *reps > 0 {
		fmt.Fprintf(e.stdout, "\nserving overhead: the %d documents as one bulk job (upload, process, download) vs bingli tag on the same file, %d threads, %d runs each (medians)\n", len(docs), *threads, *reps)
		var jobT, tagT []float64
		for i := range *reps {
			jt, jobOut, err := runBenchJob(ctx, client, srv.url, inputPath)
			if err != nil {
				return err
			}
			tt, tagOut, err := runBenchTag(ctx, exe, model, inputPath, filepath.Join(tmp, "tag.jsonl"), *threads, *device)
			if err != nil {
				return err
			}
			if !bytes.Equal(jobOut, tagOut) {
				return fmt.Errorf("run %d: the bulk job's results differ from bingli tag's output", i+1)
			}
			jobT, tagT = append(jobT, jt), append(tagT, tt)
			fmt.Fprintf(e.stderr, "bench serve: run %d: job %.2f s, tag %.2f s\n", i+1, jt, tt)
		}
		jm, tm := median(jobT), median(tagT)
		fmt.Fprintf(e.stdout, "%-22s %9s %9s %11s   %s\n", "path", "median s", "docs/s", "chars/s", "runs (s)")
		fmt.Fprintf(e.stdout, "%-22s %9.2f %9.1f %11.0f   %s\n", "bulk job via the API", jm, float64(len(docs))/jm, float64(chars)/jm, fmtRuns(jobT))
		fmt.Fprintf(e.stdout, "%-22s %9.2f %9.1f %11.0f   %s\n", "bingli tag", tm, float64(len(docs))/tm, float64(chars)/tm, fmtRuns(tagT))
		fmt.Fprintf(e.stdout, "job / tag throughput: %.3f (goal ≥ 0.90); outputs identical\n", tm/jm)
	}

	if *soak > 0 {
		fmt.Fprintf(e.stdout, "\nsoak: POST /v1/ner at concurrency %d for %s after a %s warm-up, memory sampled every %s\n", *soakConc, *soak, *warmup, *sample)
		var samples []memSample
		var mu sync.Mutex
		take := func() {
			m, err := srv.memory(ctx, client)
			if err != nil {
				fmt.Fprintf(e.stderr, "bench serve: sampling memory: %v\n", err)
				return
			}
			mu.Lock()
			samples = append(samples, m)
			mu.Unlock()
			fmt.Fprintf(e.stderr, "bench serve: soak %s: RSS %.1f MB, heap in use %.1f MB\n", m.at.Round(time.Second), m.rssMB, m.heapMB)
		}
		if *warmup > 0 { // memory at rest is not the baseline: the first sample follows a warm-up
			if _, err := loadNER(ctx, client, srv.url, bodies, docs, *soakConc, *warmup, nil); err != nil {
				return err
			}
		}
		take()
		start := time.Now()
		r, err := loadNER(ctx, client, srv.url, bodies, docs, *soakConc, *soak, func() {
			t := time.NewTicker(*sample)
			defer t.Stop()
			for time.Since(start) < *soak-*sample/2 {
				<-t.C
				take()
			}
		})
		if err != nil {
			return err
		}
		take()
		first, last := samples[0], samples[len(samples)-1]
		var peakRSS, peakHeap float64
		for _, s := range samples {
			peakRSS, peakHeap = max(peakRSS, s.rssMB), max(peakHeap, s.heapMB)
		}
		fmt.Fprintf(e.stdout, "%-16s %9s %9s %9s %8s\n", "MB", "start", "end", "peak", "samples")
		fmt.Fprintf(e.stdout, "%-16s %9.1f %9.1f %9.1f %8d\n", "RSS", first.rssMB, last.rssMB, peakRSS, len(samples))
		fmt.Fprintf(e.stdout, "%-16s %9.1f %9.1f %9.1f %8d\n", "Go heap in use", first.heapMB, last.heapMB, peakHeap, len(samples))
		fmt.Fprintf(e.stdout, "requests %d (%.1f/s), p50 %.1f ms, p99 %.1f ms, errors %d\n", r.n, r.perSec(r.n), r.pct(50), r.pct(99), r.errors)
	}
	fmt.Fprintf(e.stdout, "\nload average at the end: %s\n", loadAvg())
	return srv.stop()
}

// loadAvg returns /proc/loadavg's 1, 5 and 15-minute load averages ("n/a" elsewhere): other
// work on the machine moves every number above.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// benchInput reads the documents and writes them as JSON lines for the job and bingli tag.
func benchInput(input, dataFlag, tmp string) ([]corpus.Document, string, string, error) {
	var ds *corpus.Dataset
	var source string
	if input != "" {
		var err error
		if ds, err = corpus.ReadJSONL(input); err != nil {
			return nil, "", "", err
		}
		source = input
	} else {
		dir, err := resolveDataDir(dataFlag)
		if err != nil {
			return nil, "", "", err
		}
		if ds, err = corpus.Read("yidu", filepath.Join(dir, datasetPaths["yidu"])); err != nil {
			return nil, "", "", err
		}
		source = "Yidu-S4K training texts"
	}
	path := filepath.Join(tmp, "input.jsonl")
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for i := range ds.Docs {
		if err := enc.Encode(map[string]string{"id": ds.Docs[i].ID, "text": ds.Docs[i].Text}); err != nil {
			return nil, "", "", err
		}
	}
	if len(ds.Docs) == 0 {
		return nil, "", "", errors.New("no documents")
	}
	return ds.Docs, path, source, os.WriteFile(path, b.Bytes(), 0o600)
}

// benchServer is a `bingli serve` child process.
type benchServer struct {
	cmd  *exec.Cmd
	url  string
	tail *tailBuffer
	once sync.Once
	err  error
}

func startBenchServer(ctx context.Context, exe, model, store string, threads int, device, natsURL string) (*benchServer, error) {
	args := []string{"serve", "--addr", "127.0.0.1:0", "--model", model, "--data-dir", store, "--rate", "0",
		"--threads", strconv.Itoa(threads), "--web", filepath.Join(store, "no-web"), "--device", device}
	if natsURL != "" {
		args = append(args, "--nats", natsURL)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	tail := &tailBuffer{max: 16 << 10}
	cmd.Stderr = tail
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting bingli serve: %w", err)
	}
	s := &benchServer{cmd: cmd, tail: tail}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("bingli serve did not start: %w\n%s", err, tail)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	s.url = regexp.MustCompile(`http://[0-9.:]+`).FindString(line)
	if s.url == "" {
		s.stop()
		return nil, fmt.Errorf("bingli serve printed no URL: %q", line)
	}
	return s, nil
}

// stop ends the server with SIGTERM (a graceful shutdown) and reports how it exited.
func (s *benchServer) stop() error {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		if err := s.cmd.Wait(); err != nil {
			s.err = fmt.Errorf("bingli serve: %w\n%s", err, s.tail)
		}
	})
	return s.err
}

type memSample struct {
	at            time.Duration
	rssMB, heapMB float64
}

var benchStart = time.Now()

// memory reads the server's resident set (Linux /proc) and Go heap in use (/metrics).
func (s *benchServer) memory(ctx context.Context, client *http.Client) (memSample, error) {
	m := memSample{at: time.Since(benchStart)}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return m, fmt.Errorf("RSS: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			m.rssMB = kb / 1024
		}
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url+"/metrics", nil)
	resp, err := client.Do(req)
	if err != nil {
		return m, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "go_memstats_heap_inuse_bytes "); ok {
			v, _ := strconv.ParseFloat(rest, 64)
			m.heapMB = v / (1 << 20)
		}
	}
	return m, sc.Err()
}

// loadResult is one load level's outcome.
type loadResult struct {
	n, chars, errors int
	lat              []time.Duration
	elapsed          time.Duration
	firstErr         string
}

func (r *loadResult) perSec(v int) float64 { return float64(v) / r.elapsed.Seconds() }

func (r *loadResult) pct(p int) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	i := min(len(r.lat)-1, (len(r.lat)*p+99)/100-1)
	return float64(r.lat[max(i, 0)].Microseconds()) / 1000
}

// loadNER sends /v1/ner requests from c clients for d (each client finishes its request in
// flight), cycling through the documents; during, if set, runs alongside.
func loadNER(ctx context.Context, client *http.Client, url string, bodies [][]byte, docs []corpus.Document, c int, d time.Duration, during func()) (*loadResult, error) {
	var next atomic.Int64
	var mu sync.Mutex
	res := &loadResult{}
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	if during != nil {
		wg.Add(1)
		go func() { defer wg.Done(); during() }()
	}
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var n, chars, errs int
			var firstErr string
			for lctx.Err() == nil {
				i := int(next.Add(1)-1) % len(bodies)
				t0 := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/ner", bytes.NewReader(bodies[i]))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t0))
				n++
				chars += len([]rune(docs[i].Text))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.n += n
			res.chars += chars
			res.errors += errs
			if res.firstErr == "" {
				res.firstErr = firstErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	slices.Sort(res.lat)
	return res, nil
}

// runBenchJob uploads the input as a bulk job, waits for it, downloads the results, and
// returns the seconds all that took and the results.
func runBenchJob(ctx context.Context, client *http.Client, url, input string) (float64, []byte, error) {
	f, err := os.Open(input)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	c := &jobsClient{base: url, http: client}
	start := time.Now()
	resp, err := c.do(ctx, "POST", "/v1/jobs?kind=ner", f)
	if err != nil {
		return 0, nil, err
	}
	var j jobStatus
	err = json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if err != nil {
		return 0, nil, fmt.Errorf("job: %w", err)
	}
	for {
		resp, err := c.do(ctx, "GET", "/v1/jobs/"+j.ID, nil)
		if err != nil {
			return 0, nil, err
		}
		err = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("job status: %w", err)
		}
		if j.State == "done" {
			break
		}
		if j.State != "queued" && j.State != "running" {
			return 0, nil, fmt.Errorf("job %s: %s", j.State, j.Error)
		}
		select {
		case <-ctx.Done():
			return 0, nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	resp, err = c.do(ctx, "GET", "/v1/jobs/"+j.ID+"/results", nil)
	if err != nil {
		return 0, nil, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	secs := time.Since(start).Seconds()
	if err != nil {
		return 0, nil, fmt.Errorf("job results: %w", err)
	}
	if j.Failed != 0 {
		return 0, nil, fmt.Errorf("job: %d documents failed", j.Failed)
	}
	if resp, err := c.do(ctx, "DELETE", "/v1/jobs/"+j.ID, nil); err == nil {
		resp.Body.Close()
	}
	return secs, out, nil
}

// runBenchTag runs `bingli tag` on the input as a child process and returns its wall time
// and output.
func runBenchTag(ctx context.Context, exe, model, input, out string, threads int, device string) (float64, []byte, error) {
	cmd := exec.CommandContext(ctx, exe, "tag", "--model", model, "--threads", strconv.Itoa(threads), "--device", device, "--out", out, input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, nil, fmt.Errorf("bingli tag: %w: %s", err, stderr.String())
	}
	secs := time.Since(start).Seconds()
	b, err := os.ReadFile(out)
	return secs, b, err
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func fmtRuns(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return strings.Join(parts, ", ")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
