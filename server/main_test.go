package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// childEnv makes the test binary run a server instead of the tests (the crash-resume test
// starts it as a child process and kills it).
const childEnv = "BINGLI_SERVER_TEST_CHILD"

var liteModel *pipeline.ModelTagger

func TestMain(m *testing.M) {
	t, err := pipeline.LoadModelTagger(cpu.New(runtime.GOMAXPROCS(0)), filepath.Join("..", "weights", "ccks2017-lite"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "loading the lite model:", err)
		os.Exit(1)
	}
	liteModel = t
	if os.Getenv(workerEnv) != "" {
		if err := runWorkerChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(childEnv) != "" {
		if err := runChild(); err != nil {
			fmt.Fprintln(os.Stderr, "child server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild serves the job API on 127.0.0.1 with the data dir and chunk size the parent
// chose, writing its address to a file once listening; BINGLI_CHILD_DELAY slows each batch;
// BINGLI_CHILD_NATS runs jobs on NATS workers.
func runChild() error {
	delay, _ := time.ParseDuration(os.Getenv("BINGLI_CHILD_DELAY"))
	s, err := New(Config{
		Model:    Model{Name: "ccks2017-lite", Backend: "cpu", Tagger: &slowTagger{BatchTagger: liteModel, delay: delay}},
		DataDir:  os.Getenv("BINGLI_CHILD_DATA"),
		JobChunk: 4,
		MaxBatch: 4,
		NATS:     os.Getenv("BINGLI_CHILD_NATS"),
		Window:   4,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addrFile := os.Getenv("BINGLI_CHILD_ADDR")
	if err := os.WriteFile(addrFile+".tmp", []byte(ln.Addr().String()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(addrFile+".tmp", addrFile); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	return s.Serve(ctx, ln, "", "", 5*time.Second)
}

// slowTagger delays every batch, and counts batch sizes.
type slowTagger struct {
	pipeline.BatchTagger
	delay time.Duration
	mu    sync.Mutex
	sizes []int
}

func (t *slowTagger) TagDocuments(ctx context.Context, texts []string) ([][]pipeline.Entity, error) {
	t.mu.Lock()
	t.sizes = append(t.sizes, len(texts))
	t.mu.Unlock()
	time.Sleep(t.delay)
	return t.BatchTagger.TagDocuments(ctx, texts)
}

var sampleTexts = []string{
	"患者男，65岁，因反复胸痛3天入院。既往高血压病史10年，口服硝苯地平控释片治疗。",
	"因头痛伴心悸，检查心电图和颅脑CT。",
	"查体：双肺呼吸音清，心率88次/分。心电图示ST段压低。",
	"诊断：冠状动脉粥样硬化性心脏病，不稳定型心绞痛。予阿司匹林口服。",
	"腹部B超提示胆囊结石，患者右上腹疼痛，行腹腔镜胆囊切除术。",
}

// newTestServer returns a server on the lite model; mod adjusts the config.
func newTestServer(t *testing.T, mod func(*Config)) *Server {
	t.Helper()
	cfg := Config{Model: Model{Name: "ccks2017-lite", Backend: "cpu", Tagger: liteModel}, DataDir: t.TempDir()}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// do sends one request from a loopback client and returns the recorded response.
func do(s *Server, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewBufferString(body))
	req.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// doRaw is do without a Content-Length when chunked.
func doRaw(s *Server, method, path, body string, chunked bool) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = "127.0.0.1:40000"
	if chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func decodeError(t *testing.T, rec *httptest.ResponseRecorder) httpError {
	t.Helper()
	var b struct{ Error httpError }
	if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil {
		t.Fatalf("error body %q: %v", rec.Body.String(), err)
	}
	return b.Error
}

func nerBody(texts ...string) string {
	docs := make([]document, len(texts))
	for i, s := range texts {
		docs[i] = document{ID: json.RawMessage(strconv.Quote("d" + strconv.Itoa(i))), Text: s}
	}
	b, _ := json.Marshal(map[string]any{"documents": docs})
	return string(b)
}

// wantEntities tags texts directly, as `bingli tag` does.
func wantEntities(t *testing.T, texts []string) [][]pipeline.Entity {
	t.Helper()
	out := make([][]pipeline.Entity, len(texts))
	for i, s := range texts {
		ents, err := liteModel.Tag(s)
		if err != nil {
			t.Fatal(err)
		}
		if ents == nil {
			ents = []pipeline.Entity{}
		}
		out[i] = ents
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitJob polls until the job leaves queued/running.
func waitJob(t *testing.T, get func() job) job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		j := get()
		if j.State != stateQueued && j.State != stateRunning {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("job did not finish in 30 s")
	return job{}
}

func getJob(t *testing.T, s *Server, id string, header ...string) job {
	t.Helper()
	rec := do(s, "GET", "/v1/jobs/"+id, "", header...)
	if rec.Code != 200 {
		t.Fatalf("GET job: %d %s", rec.Code, rec.Body)
	}
	var j job
	if err := json.Unmarshal(rec.Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	return j
}
