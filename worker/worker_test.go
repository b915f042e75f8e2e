//go:build unix

package main

// TestWrangler builds the Worker with build.sh, serves it with `wrangler dev --local` on
// 127.0.0.1 (workerd from npm; nothing leaves the machine) and checks its answers against
// the same handler run natively, and its 4xx answers to bad input. It needs `npm ci` in
// worker/ first and is skipped with -short or when wrangler is not installed.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/worker/api"
)

func TestWrangler(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not building and starting the Worker")
	}
	if _, err := os.Stat("node_modules/.bin/wrangler"); err != nil {
		t.Skip("wrangler is not installed: run `npm ci` in worker/ (Node 20+)")
	}
	build := exec.Command("./build.sh")
	out, err := build.CombinedOutput()
	if err != nil {
		t.Fatalf("build.sh: %v\n%s", err, out)
	}
	t.Logf("%s", bytes.TrimSpace(out))
	if m := regexp.MustCompile(`(\d+) gzip`).FindSubmatch(out); m == nil {
		t.Fatalf("build.sh printed no size")
	} else if gz, _ := strconv.Atoi(string(m[1])); gz > 10<<20 {
		t.Errorf("bundle is %d bytes gzipped, over Cloudflare's 10 MiB limit", gz)
	}

	base := startWrangler(t)
	native := api.New("ccks2017-lite", loadNative(t), api.DefaultLimits)

	t.Run("answers", func(t *testing.T) {
		rec := readRecord(t)
		ner := fmt.Sprintf(`{"documents":[{"id":1,"text":"因头痛伴心悸，检查心电图。"},{"id":"rec","text":%q},{"id":3,"text":""}]}`, rec)
		checkSame(t, base, native, "/v1/ner", ner, func(t *testing.T, got []byte) {
			var r api.NERResponse
			mustJSON(t, got, &r)
			e := r.Documents[0].Entities
			if r.Model != "ccks2017-lite" || r.Schema != "ccks2017" || len(e) != 3 || e[0] != (pipeline.Entity{Start: 1, End: 3, Type: "症状和体征", Text: "头痛", Confidence: e[0].Confidence}) {
				t.Errorf("unexpected /v1/ner answer: %s", got)
			}
		})
		for _, mode := range []string{"tag", "surrogate", "mask"} {
			body := fmt.Sprintf(`{"documents":[{"id":1,"text":"患者张三，男，45岁，因头痛于2019年3月5日入院，电话13812345678。"},{"id":2,"text":%q}],"mode":%q,"seed":9}`, rec, mode)
			checkSame(t, base, native, "/v1/deid", body, func(t *testing.T, got []byte) {
				var r api.DeidResponse
				mustJSON(t, got, &r)
				if mode == "tag" && r.Documents[0].Masked != "患者[姓名]，男，[年龄]，因头痛于[日期]入院，电话[电话]。" {
					t.Errorf("tag mode: %q", r.Documents[0].Masked)
				}
				if len(r.Documents[1].PHI) == 0 || strings.Contains(r.Documents[1].Masked, "13912345678") {
					t.Errorf("%s: the record's PHI was not masked: %s", mode, got)
				}
			})
		}
	})

	t.Run("bad input", func(t *testing.T) {
		tests := []struct {
			name, method, path, body string
			status                   int
			code, msg                string
		}{
			{"not JSON", "POST", "/v1/ner", "this is not JSON", 400, "bad_request", "invalid JSON"},
			{"invalid UTF-8", "POST", "/v1/ner", "{\"documents\":[{\"id\":1,\"text\":\"头\xff\xfe\"}]}", 400, "bad_request", "not valid UTF-8"},
			{"invalid UTF-8 (deid)", "POST", "/v1/deid", "{\"documents\":[{\"id\":1,\"text\":\"\xc3\x28\"}]}", 400, "bad_request", "not valid UTF-8"},
			{"over-size body", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"` + strings.Repeat("头", 400_000) + `"}]}`, 413, "too_large", "larger than 1048576 bytes"},
			{"long document", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"` + strings.Repeat("a", 100_001) + `"}]}`, 413, "too_large", "100001 characters"},
			{"missing text", "POST", "/v1/ner", `{"documents":[{"id":1}]}`, 400, "bad_request", `missing "text"`},
			{"bad mode", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"a"}],"mode":"blur"}`, 400, "bad_request", "tag, surrogate or mask"},
			{"wrong method", "GET", "/v1/ner", "", 405, "method_not_allowed", "use POST"},
			{"unknown route", "POST", "/v1/tag", "{}", 404, "not_found", "no route"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				status, body := request(t, tc.method, base+tc.path, tc.body)
				var got struct{ Error api.Error }
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("status %d, body %q is not a JSON error: %v", status, body, err)
				}
				if status != tc.status || got.Error.Code != tc.code || !strings.Contains(got.Error.Message, tc.msg) {
					t.Errorf("got %d %+v, want %d %s %q", status, got.Error, tc.status, tc.code, tc.msg)
				}
			})
		}
	})

	t.Run("latency", func(t *testing.T) {
		// Each request runs in a fresh Go instance (syumai/workers), which loads the model.
		body := fmt.Sprintf(`{"documents":[{"id":1,"text":%q}]}`, readRecord(t))
		for _, c := range []struct{ method, path, body, what string }{
			{"GET", "/healthz", "", "GET /healthz (a Go instance, no model)"},
			{"POST", "/v1/deid", body, fmt.Sprintf("POST /v1/deid, one %d-character record", len([]rune(readRecord(t))))},
		} {
			var ms []float64
			for range 7 {
				t0 := time.Now()
				if status, b := request(t, c.method, base+c.path, c.body); status != 200 {
					t.Fatalf("status %d: %s", status, b)
				}
				ms = append(ms, float64(time.Since(t0).Microseconds())/1000)
			}
			slices.Sort(ms)
			t.Logf("%s, 7 requests under wrangler dev: median %.0f ms (min %.0f, max %.0f)", c.what, ms[3], ms[0], ms[6])
		}
	})
}

// readRecord returns a clinical record with PHI (examples/ holds no PHI, so it is written here).
func readRecord(t *testing.T) string {
	t.Helper()
	return "姓名：王建国，性别：男，年龄：67岁，住院号：ZY20190012。联系电话：13912345678，家庭住址：浙江省杭州市西湖区文三路90号。" +
		"患者于2019年3月5日因反复胸闷、心悸3年，加重伴气促1周入院。既往有高血压病史10年，2型糖尿病5年。" +
		"查体：血压150/90mmHg，双肺呼吸音粗，心率96次/分。心电图示房颤。予阿司匹林、美托洛尔口服治疗后好转出院。主治医师：李明华。"
}

func loadNative(t *testing.T) pipeline.Tagger {
	t.Helper()
	tg, err := pipeline.LoadModelTagger(cpu.New(1), "../weights/ccks2017-lite")
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// startWrangler starts `wrangler dev --local` on a free loopback port and returns its URL.
func startWrangler(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logf, err := os.CreateTemp(t.TempDir(), "wrangler-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node_modules/.bin/wrangler", "dev", "--local", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--log-level", "warn", "--show-interactive-dev-session=false")
	cmd.Env = append(os.Environ(), "WRANGLER_SEND_METRICS=false", "CI=1", "NO_COLOR=1")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("wrangler dev did not answer on %s within 90 s:\n%s", base, log)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func request(t *testing.T, method, url, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// checkSame posts body to the Worker and to the native handler and requires the same
// answer (confidences within 1e-4: the wasm build has no AVX2 kernel), then runs check.
func checkSame(t *testing.T, base string, native http.Handler, path, body string, check func(*testing.T, []byte)) {
	t.Helper()
	status, got := request(t, "POST", base+path, body)
	if status != 200 {
		t.Fatalf("%s: status %d: %s", path, status, got)
	}
	rec := httptest.NewRecorder()
	native.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	var a, b any
	mustJSON(t, got, &a)
	mustJSON(t, rec.Body.Bytes(), &b)
	if !near(a, b) {
		t.Errorf("%s: the Worker answered\n%s\nthe native handler\n%s", path, got, rec.Body)
	}
	check(t, got)
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

// near compares decoded JSON values, numbers within 1e-4.
func near(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !near(v, y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !near(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Abs(x-y) <= 1e-4
	}
	return a == b
}
