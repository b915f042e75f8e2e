package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// workerEnv makes the test binary run a NATS worker instead of the tests.
const workerEnv = "BINGLI_WORKER_TEST_CHILD"

// runWorkerChild runs RunWorker against BINGLI_WORKER_TEST_CHILD (a NATS URL). It appends
// "ready" and "start JOB START" lines to BINGLI_WORKER_MARK; BINGLI_WORKER_DELAY slows each
// batch; BINGLI_WORKER_EXIT_AFTER_PUBLISH=1 makes it exit after storing its first result and
// before acking the chunk.
func runWorkerChild() error {
	delay, _ := time.ParseDuration(os.Getenv("BINGLI_WORKER_DELAY"))
	mark, err := os.OpenFile(os.Getenv("BINGLI_WORKER_MARK"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer mark.Close()
	cfg := WorkerConfig{
		NATS:      os.Getenv(workerEnv),
		Model:     Model{Name: "ccks2017-lite", Backend: "cpu", Tagger: &slowTagger{BatchTagger: liteModel, delay: delay}},
		Name:      filepath.Base(mark.Name()),
		AckWait:   time.Second,
		ready:     func() { fmt.Fprintln(mark, "ready") },
		beforeTag: func(h chunkHeader) { fmt.Fprintf(mark, "start %s %d\n", h.job, h.start) },
	}
	if os.Getenv("BINGLI_WORKER_EXIT_AFTER_PUBLISH") == "1" {
		cfg.afterPublish = func(chunkHeader) { os.Exit(3) }
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return RunWorker(ctx, cfg)
}

// startNATS runs an embedded NATS server with JetStream on 127.0.0.1.
func startNATS(t *testing.T) string {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("NATS did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL()
}

// startWorker starts a worker child process and waits until it is consuming.
func startWorker(t *testing.T, url, name string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	mark := filepath.Join(t.TempDir(), name)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), workerEnv+"="+url, "BINGLI_WORKER_MARK="+mark), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, 20*time.Second, name+" ready", func() bool {
		b, _ := os.ReadFile(mark)
		return bytes.Contains(b, []byte("ready\n"))
	})
	return cmd, mark
}

func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNATSWorkers runs a job on three worker processes over an embedded NATS JetStream: one
// is killed with SIGKILL while it holds a chunk, one exits after storing a result but before
// acking its chunk. The job must finish with each input's result exactly once, in order, equal
// to direct tagging; a forged duplicate result afterwards must change nothing.
func TestNATSWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	url := startNATS(t)
	s := newTestServer(t, func(c *Config) { c.NATS, c.JobChunk, c.Window = url, 4, 8 })

	_, _ = startWorker(t, url, "steady", "BINGLI_WORKER_DELAY=5ms")
	victim, victimMark := startWorker(t, url, "victim", "BINGLI_WORKER_DELAY=10s")
	quitter, _ := startWorker(t, url, "quitter", "BINGLI_WORKER_EXIT_AFTER_PUBLISH=1")

	input, texts := jobInput(120)
	rec := do(s, "POST", "/v1/jobs", input)
	if rec.Code != 202 {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)

	waitFor(t, 20*time.Second, "the victim to take a chunk", func() bool {
		b, _ := os.ReadFile(victimMark)
		return bytes.Contains(b, []byte("start "+j.ID))
	})
	if cur := getJob(t, s, j.ID); cur.State == stateDone {
		t.Fatal("the job finished while the victim held a chunk")
	}
	if err := victim.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = victim.Wait()

	final := waitJob(t, func() job { return getJob(t, s, j.ID) })
	if final.State != stateDone || final.Done != 120 || final.Failed != 0 || final.Total != 120 {
		t.Fatalf("finished %+v", final)
	}
	if err := quitter.Wait(); err == nil || quitter.ProcessState.ExitCode() != 3 {
		t.Errorf("the quitter did not exit after publishing: %v", err)
	}
	results := do(s, "GET", "/v1/jobs/"+j.ID+"/results", "")
	checkResults(t, results.Body.Bytes(), texts)

	// A late copy of the first chunk's result (past JetStream's duplicate window: another
	// message id) is acked and dropped.
	in, err := os.Open(s.store.inputPath(j.ID))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(in)
	var first int64
	for range 4 {
		line, _ := br.ReadBytes('\n')
		first += int64(len(line))
	}
	in.Close()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	forged := nats.NewMsg(resultPrefix + j.ID)
	chunkHeader{job: j.ID, start: 0, end: first, docs: 4}.set(forged.Header)
	forged.Header.Set(nats.MsgIdHdr, "forged")
	forged.Data = zenc.EncodeAll([]byte(strings.Repeat("{\"id\":\"forged\"}\n", 4)), nil)
	ctx := context.Background()
	if _, err := js.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the forged result to be consumed", func() bool {
		return counterValue(s.metrics.distResults.WithLabelValues("gone")) >= 1
	})
	again := do(s, "GET", "/v1/jobs/"+j.ID+"/results", "")
	if again.Body.String() != results.Body.String() {
		t.Error("a duplicate result changed the job's results")
	}
	if n, _ := s.store.outstanding(ctx, j.ID); n != 0 {
		t.Errorf("%d chunks left in the store", n)
	}
	if m := do(s, "GET", "/metrics", "").Body.String(); !strings.Contains(m, "bingli_job_chunks_outstanding 0") ||
		!strings.Contains(m, `bingli_dist_results_total{outcome="stored"}`) {
		t.Errorf("NATS metrics missing")
	}
}

// TestNATSInProcess runs a deid job and a canceled job on in-process workers (fast enough for
// -short) and checks the deid results against POST /v1/deid.
func TestNATSInProcess(t *testing.T) {
	url := startNATS(t)
	var logs logBuffer
	s := newTestServer(t, func(c *Config) { c.NATS, c.JobChunk, c.Window, c.Log = url, 2, 4, newLogger(&logs) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	for i := range 2 {
		own := ownModel(t) // a model is not safe for concurrent use: each worker has its own
		go func() {
			done <- RunWorker(ctx, WorkerConfig{NATS: url, Name: fmt.Sprint("w", i), AckWait: 5 * time.Second,
				Model: Model{Name: "ccks2017-lite", Backend: "cpu", Tagger: own}, Log: newLogger(&logs)})
		}()
	}
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Error(err)
			}
		}
		got := logs.String()
		if !strings.Contains(got, "chunk done") {
			t.Errorf("worker logs not captured: %s", got)
		}
		for _, secret := range []string{"张三", "13812345678", "头痛"} {
			if strings.Contains(got, secret) {
				t.Errorf("document text %q in the server or worker logs", secret)
			}
		}
	}()
	texts := []string{"患者张三，男，45岁，于2019年3月5日因高血压入院。", "电话13812345678，住院号ZY20190305。", "无", "李四，女，因头痛就诊。", "查体：心率88次/分。"}
	var in strings.Builder
	for i, txt := range texts {
		fmt.Fprintf(&in, "{\"id\":%d,\"text\":%q}\n", i, txt)
	}
	rec := do(s, "POST", "/v1/jobs?kind=deid&mode=surrogate&seed=9", in.String())
	if rec.Code != 202 {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	j = waitJob(t, func() job { return getJob(t, s, j.ID) })
	if j.State != stateDone || j.Done != int64(len(texts)) || j.Failed != 0 {
		t.Fatalf("finished %+v", j)
	}
	lines := strings.Split(strings.TrimSpace(do(s, "GET", "/v1/jobs/"+j.ID+"/results", "").Body.String()), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d result lines", len(lines))
	}
	for i, txt := range texts {
		direct := do(s, "POST", "/v1/deid", fmt.Sprintf(`{"mode":"surrogate","seed":9,"documents":[{"id":%d,"text":%q}]}`, i, txt))
		var want deidResponse
		if err := json.Unmarshal(direct.Body.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(want.Documents[0]); strings.TrimSpace(lines[i]) != string(got) {
			t.Errorf("doc %d: job %s, direct %s", i, lines[i], got)
		}
	}

	// Cancel a job while it runs: it and its files go, and late results are dropped.
	big, _ := jobInput(400)
	rec = do(s, "POST", "/v1/jobs", big)
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	waitFor(t, 10*time.Second, "progress", func() bool { return getJob(t, s, j.ID).Done > 0 })
	if rec := do(s, "DELETE", "/v1/jobs/"+j.ID, ""); rec.Code != 204 {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	if n, _ := s.store.outstanding(context.Background(), j.ID); n != 0 {
		t.Errorf("%d chunks of a deleted job left", n)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// TestResultIdempotent stores a chunk's result twice, before and after it is committed: the
// results file gets it once.
func TestResultIdempotent(t *testing.T) {
	st, err := openStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	ctx := context.Background()
	j := &job{ID: "j1", Kind: "ner", Model: "m", State: stateQueued, Total: 3}
	if err := st.insert(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(st.jobDir(j.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	d := &distRunner{st: st, metrics: newMetrics("cpu"), log: newLogger(io.Discard), progress: make(chan struct{}, 1)}
	c1 := chunkHeader{job: "j1", start: 0, end: 10, docs: 2}
	c2 := chunkHeader{job: "j1", start: 10, end: 15, docs: 1}
	for _, c := range []struct {
		h   chunkHeader
		eof bool
	}{{c1, false}, {c2, true}} {
		if ok, err := st.addChunk(ctx, c.h, c.eof); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	store := func(h chunkHeader, lines string) bool {
		ok, err := st.saveResult(ctx, h, []byte(lines))
		if err != nil {
			t.Fatal(err)
		}
		if err := d.drain(ctx, "j1"); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	// The second chunk's result arrives first, and twice: it waits for the first.
	if !store(c2, "c\n") || store(c2, "X\n") {
		t.Fatal("second chunk: stored twice or not at all")
	}
	if !store(c1, "a\nb\n") || store(c1, "Y\nY\n") || store(c2, "Z\n") {
		t.Fatal("a result stored after its chunk was committed")
	}
	b, _ := os.ReadFile(st.resultsPath("j1"))
	got, _ := st.getAny(ctx, "j1")
	if string(b) != "a\nb\nc\n" || got.State != stateDone || got.Done != 3 {
		t.Fatalf("results %q, job %+v", b, got)
	}
}

// TestWorkerStopFinishesChunk stops a worker while it tags a chunk: it finishes the chunk
// first, so the job completes with no other worker and no redelivery.
func TestWorkerStopFinishesChunk(t *testing.T) {
	url := startNATS(t)
	s := newTestServer(t, func(c *Config) { c.NATS, c.JobChunk = url, 2 })
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunWorker(ctx, WorkerConfig{NATS: url, AckWait: 30 * time.Second,
			Model:     Model{Name: "ccks2017-lite", Tagger: &slowTagger{BatchTagger: ownModel(t), delay: 300 * time.Millisecond}},
			beforeTag: func(chunkHeader) { started <- struct{}{} }})
	}()
	input, texts := jobInput(2)
	rec := do(s, "POST", "/v1/jobs", input)
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the worker took no chunk")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	j = waitJob(t, func() job { return getJob(t, s, j.ID) })
	if j.State != stateDone {
		t.Fatalf("job %+v", j)
	}
	checkResults(t, do(s, "GET", "/v1/jobs/"+j.ID+"/results", "").Body.Bytes(), texts)
}

// ownModel loads a separate instance of the lite model.
func ownModel(t *testing.T) *pipeline.ModelTagger {
	t.Helper()
	m, err := pipeline.LoadModelTagger(cpu.New(1), filepath.Join("..", "weights", "ccks2017-lite"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNATSServerCrash kills the server (SIGKILL, a child process) in the middle of a job
// that runs on NATS workers, restarts it on the same store, and checks that the job finishes
// with each input's result exactly once. The worker is stopped while the server is down and
// restarted with it, so chunks in flight are redelivered and results already published wait
// in JetStream for the new server.
func TestNATSServerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	url := startNATS(t)
	model := ownModel(t)
	var stop context.CancelFunc
	var done chan error
	startW := func() {
		var ctx context.Context
		ctx, stop = context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() {
			done <- RunWorker(ctx, WorkerConfig{NATS: url, AckWait: time.Second,
				Model: Model{Name: "ccks2017-lite", Tagger: &slowTagger{BatchTagger: model, delay: 10 * time.Millisecond}}})
		}()
	}
	startW()
	defer func() { stop(); <-done }()
	crashResume(t, url, func() {
		stop()
		if err := <-done; err != nil {
			t.Error(err)
		}
		startW()
	})
}

// TestReadRawChunk cuts stored input lines into chunks by count and size; a line longer than
// the size bound (or the reader's buffer) travels alone.
func TestReadRawChunk(t *testing.T) {
	long := strings.Repeat("x", 100<<10) // longer than the 64 KiB reader buffer
	lines := []string{"a\n", "bb\n", "ccc\n", long + "\n", "d\n", long + "\n", long + "\n", "e\n"}
	br := bufio.NewReaderSize(strings.NewReader(strings.Join(lines, "")), 64<<10)
	var got []string
	for {
		raw, docs, eof, err := readRawChunk(br, 3, 8)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%d", docs, len(raw)))
		if eof {
			break
		}
	}
	want := []string{"2:5", "1:4", "1:102401", "1:2", "1:102401", "1:102401", "1:2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("chunks %v, want %v", got, want)
	}
}
