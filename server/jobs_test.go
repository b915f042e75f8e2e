package server

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// jobInput returns n JSON lines cycling through the samples, with ids "doc-0" ….
func jobInput(n int) (string, []string) {
	var b strings.Builder
	texts := make([]string, n)
	for i := range n {
		texts[i] = sampleTexts[i%len(sampleTexts)]
		fmt.Fprintf(&b, "{\"id\":\"doc-%d\",\"text\":%q,\"extra\":true}\n", i, texts[i])
	}
	return b.String(), texts
}

// checkResults checks that body holds exactly one result per input, in order, equal to
// direct tagging.
func checkResults(t *testing.T, body []byte, texts []string) {
	t.Helper()
	want := wantEntities(t, texts)
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	i := 0
	for ; sc.Scan(); i++ {
		var r docResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("result line %d: %v", i+1, err)
		}
		if i >= len(texts) {
			t.Fatalf("more results than inputs: %s", sc.Bytes())
		}
		if string(r.ID) != fmt.Sprintf(`"doc-%d"`, i) || mustJSON(t, r.Entities) != mustJSON(t, want[i]) || r.Error != "" {
			t.Fatalf("result line %d: %s", i+1, sc.Bytes())
		}
	}
	if i != len(texts) {
		t.Fatalf("%d results for %d inputs", i, len(texts))
	}
}

func TestJobLifecycle(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.JobChunk = 3 })
	input, texts := jobInput(10)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(input))
	_ = zw.Close()
	rec := do(s, "POST", "/v1/jobs?kind=ner", gz.String(), "Content-Encoding", "gzip")
	if rec.Code != 202 {
		t.Fatalf("submit: %d %s", rec.Code, rec.Body)
	}
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	if j.Total != 10 || rec.Header().Get("Location") != "/v1/jobs/"+j.ID {
		t.Fatalf("submitted %+v", j)
	}
	j = waitJob(t, func() job { return getJob(t, s, j.ID) })
	if j.State != stateDone || j.Done != 10 || j.Failed != 0 {
		t.Fatalf("finished %+v", j)
	}
	for _, enc := range []string{"", "gzip", "zstd", "gzip;q=0"} {
		rec := do(s, "GET", "/v1/jobs/"+j.ID+"/results", "", "Accept-Encoding", enc)
		if rec.Code != 200 || rec.Header().Get("X-Bingli-Job-State") != stateDone {
			t.Fatalf("results (%s): %d", enc, rec.Code)
		}
		body := rec.Body.Bytes()
		switch got := rec.Header().Get("Content-Encoding"); {
		case got == "gzip" && enc == "gzip":
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
		case got == "zstd" && enc == "zstd":
			zr, err := zstd.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(zr)
			zr.Close()
		case got != "":
			t.Fatalf("Accept-Encoding %q answered with %q", enc, got)
		}
		checkResults(t, body, texts)
	}
	if rec := do(s, "GET", "/v1/jobs", ""); !strings.Contains(rec.Body.String(), j.ID) {
		t.Errorf("list lacks the job: %s", rec.Body)
	}
	if rec := do(s, "DELETE", "/v1/jobs/"+j.ID, ""); rec.Code != 204 {
		t.Errorf("delete: %d", rec.Code)
	}
	if rec := do(s, "GET", "/v1/jobs/"+j.ID, ""); rec.Code != 404 {
		t.Errorf("deleted job: %d", rec.Code)
	}
	if _, err := os.Stat(s.store.jobDir(j.ID)); !os.IsNotExist(err) {
		t.Errorf("job files left behind: %v", err)
	}
}

func TestJobCancel(t *testing.T) {
	slow := &slowTagger{BatchTagger: liteModel, delay: 50 * time.Millisecond}
	s := newTestServer(t, func(c *Config) { c.JobChunk, c.MaxBatch, c.Model.Tagger = 1, 1, slow })
	input, _ := jobInput(100)
	rec := do(s, "POST", "/v1/jobs", input)
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	time.Sleep(120 * time.Millisecond)
	if rec := do(s, "DELETE", "/v1/jobs/"+j.ID, ""); rec.Code != 204 {
		t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
	}
	time.Sleep(100 * time.Millisecond)
	slow.mu.Lock()
	n := len(slow.sizes)
	slow.mu.Unlock()
	if n >= 50 {
		t.Errorf("the job kept running after cancel: %d batches", n)
	}
}

func TestJobsDisabledWithoutDataDir(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.DataDir = "" })
	if rec := do(s, "GET", "/v1/jobs", ""); rec.Code != 503 {
		t.Errorf("%d", rec.Code)
	}
}

// TestCrashResume runs the server as a child process (this test binary, see TestMain),
// kills it with SIGKILL in the middle of a job, restarts it on the same data directory, and
// checks that the job finishes with each input's result exactly once.
func TestCrashResume(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	crashResume(t, "", nil)
}

// crashResume is TestCrashResume, with the jobs on NATS workers when natsURL is set; kill, if
// set, runs right after the server is killed.
func crashResume(t *testing.T, natsURL string, kill func()) {
	dataDir := t.TempDir()
	start := func(delay string) (*exec.Cmd, string) {
		addrFile := filepath.Join(t.TempDir(), "addr")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=1", "BINGLI_CHILD_DATA="+dataDir,
			"BINGLI_CHILD_ADDR="+addrFile, "BINGLI_CHILD_DELAY="+delay, "BINGLI_CHILD_NATS="+natsURL)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		for range 500 {
			if b, err := os.ReadFile(addrFile); err == nil {
				return cmd, "http://" + string(b)
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("child server did not start")
		return nil, ""
	}
	get := func(url string) job {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var j job
		if err := json.NewDecoder(resp.Body).Decode(&j); err != nil {
			t.Fatal(err)
		}
		return j
	}

	cmd, url := start("25ms")
	input, texts := jobInput(200)
	resp, err := http.Post(url+"/v1/jobs", "application/x-ndjson", strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	var j job
	_ = json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("submit: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		cur := get(url + "/v1/jobs/" + j.ID)
		if cur.Done >= 40 {
			if cur.State == stateDone {
				t.Fatal("the job finished before the kill")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %+v", cur)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if kill != nil {
		kill()
	}

	_, url = start("0s")
	final := waitJob(t, func() job { return get(url + "/v1/jobs/" + j.ID) })
	if final.State != stateDone || final.Done != 200 || final.Failed != 0 {
		t.Fatalf("after restart: %+v", final)
	}
	resp, err = http.Get(url + "/v1/jobs/" + j.ID + "/results")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	checkResults(t, body, texts)
}

// TestDeidJob runs a deid job and checks each result against POST /v1/deid on the same
// document with the same mode and seed.
func TestDeidJob(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.JobChunk = 2 })
	texts := []string{"患者张三，男，45岁，于2019年3月5日因高血压入院。", "电话13812345678，住院号ZY20190305。", "无"}
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
	if j.Kind != "deid" || j.Mode != "surrogate" || j.Seed != 9 {
		t.Fatalf("submitted %+v", j)
	}
	j = waitJob(t, func() job { return getJob(t, s, j.ID) })
	if j.State != stateDone || j.Done != 3 || j.Failed != 0 || j.Mode != "surrogate" {
		t.Fatalf("finished %+v", j)
	}
	res := do(s, "GET", "/v1/jobs/"+j.ID+"/results", "")
	lines := strings.Split(strings.TrimSpace(res.Body.String()), "\n")
	if len(lines) != len(texts) {
		t.Fatalf("%d result lines: %s", len(lines), res.Body)
	}
	for i, txt := range texts {
		body := fmt.Sprintf(`{"mode":"surrogate","seed":9,"documents":[{"id":%d,"text":%q}]}`, i, txt)
		direct := do(s, "POST", "/v1/deid", body)
		var want deidResponse
		if err := json.Unmarshal(direct.Body.Bytes(), &want); err != nil || len(want.Documents) != 1 {
			t.Fatalf("direct deid: %v %s", err, direct.Body)
		}
		var got deidResult
		if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
			t.Fatal(err)
		}
		if got.Masked != want.Documents[0].Masked || len(got.PHI) != len(want.Documents[0].PHI) {
			t.Errorf("doc %d: job %+v, direct %+v", i, got, want.Documents[0])
		}
	}
	var first deidResult
	_ = json.Unmarshal([]byte(lines[0]), &first)
	if len(first.PHI) == 0 || first.PHI[0].Category != "NAME" || strings.Contains(first.Masked, "张三") ||
		!strings.Contains(first.Masked, "高血压") {
		t.Errorf("first result: %s", lines[0])
	}
}
