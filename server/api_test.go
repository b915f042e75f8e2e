package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	s := newTestServer(t, nil)
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string // for errors: the field the error must name
		contains                 string // for successes: a substring of the body
	}{
		{"healthz", "GET", "/healthz", "", 200, "", `"ok"`},
		{"readyz", "GET", "/readyz", "", 200, "", `"ready"`},
		{"metrics", "GET", "/metrics", "", 200, "", `bingli_backend_info{backend="cpu"} 1`},
		{"openapi", "GET", "/openapi.json", "", 200, "", `"openapi": "3.0.3"`},
		{"index placeholder", "GET", "/", "", 200, "", "not built yet"},
		{"models", "GET", "/v1/models", "", 200, "", `"schema":"ccks2017"`},
		{"ner", "POST", "/v1/ner", nerBody(sampleTexts[1]), 200, "", `"type":"症状和体征"`},
		{"ner model named", "POST", "/v1/ner", `{"model":"ccks2017-lite","documents":[{"id":7,"text":"头痛"}]}`, 200, "", `"id":7`},
		{"ner unknown model", "POST", "/v1/ner", `{"model":"x","documents":[{"id":1,"text":"a"}]}`, 400, "model", ""},
		{"ner unknown field", "POST", "/v1/ner", `{"documents":[],"extra":1}`, 400, "extra", ""},
		{"ner unknown doc field", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a"},{"id":2,"txt":"a"}]}`, 400, "documents[1].txt", ""},
		{"ner text wrong type", "POST", "/v1/ner", `{"documents":[{"id":1,"text":5}]}`, 400, "documents[0].text", ""},
		{"ner documents wrong type", "POST", "/v1/ner", `{"documents":{}}`, 400, "documents", ""},
		{"ner id missing", "POST", "/v1/ner", `{"documents":[{"text":"a"}]}`, 400, "documents[0].id", ""},
		{"ner id object", "POST", "/v1/ner", `{"documents":[{"id":{},"text":"a"}]}`, 400, "documents[0].id", ""},
		{"ner text missing", "POST", "/v1/ner", `{"documents":[{"id":"a"}]}`, 400, "documents[0].text", ""},
		{"ner documents missing", "POST", "/v1/ner", `{}`, 400, "documents", ""},
		{"ner documents empty", "POST", "/v1/ner", `{"documents":[]}`, 400, "documents", ""},
		{"ner trailing data", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a"}]} {}`, 400, "", ""},
		{"ner invalid JSON", "POST", "/v1/ner", `{"documents":[`, 400, "", ""},
		{"ner empty body", "POST", "/v1/ner", ``, 400, "", ""},
		{"ner wrong method", "GET", "/v1/ner", ``, 405, "", ""},
		{"jobs wrong method", "PUT", "/v1/jobs/x", ``, 405, "", ""},
		{"deid tag", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"患者张三，男，45岁，电话13812345678，因高血压入院。"}]}`, 200, "", `"masked":"患者[姓名]，男，[年龄]，电话[电话]，因高血压入院。"`},
		{"deid mask", "POST", "/v1/deid", `{"mode":"mask","documents":[{"id":1,"text":"电话13812345678"}]}`, 200, "", `"category":"PHONE"`},
		{"deid surrogate seeded", "POST", "/v1/deid", `{"mode":"surrogate","seed":7,"documents":[{"id":"a","text":"于2019年3月5日入院"}]}`, 200, "", `"mode":"surrogate"`},
		{"deid bad mode", "POST", "/v1/deid", `{"mode":"blur","documents":[{"id":1,"text":"a"}]}`, 400, "mode", ""},
		{"deid seed wrong type", "POST", "/v1/deid", `{"seed":"x","documents":[{"id":1,"text":"a"}]}`, 400, "seed", ""},
		{"deid unknown field", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"a"}],"modes":"tag"}`, 400, "modes", ""},
		{"deid documents missing", "POST", "/v1/deid", `{"mode":"tag"}`, 400, "documents", ""},
		{"unknown route", "GET", "/v2/x", ``, 404, "", ""},
		{"job unknown", "GET", "/v1/jobs/nope", ``, 404, "id", ""},
		{"job results unknown", "GET", "/v1/jobs/nope/results", ``, 404, "id", ""},
		{"job delete unknown", "DELETE", "/v1/jobs/nope", ``, 404, "id", ""},
		{"jobs list empty", "GET", "/v1/jobs", ``, 200, "", `{"jobs":[]}`},
		{"job kind unknown", "POST", "/v1/jobs?kind=summarise", `{"id":1,"text":"a"}`, 400, "kind", ""},
		{"job deid bad mode", "POST", "/v1/jobs?kind=deid&mode=blur", `{"id":1,"text":"a"}`, 400, "mode", ""},
		{"job deid bad seed", "POST", "/v1/jobs?kind=deid&seed=-1", `{"id":1,"text":"a"}`, 400, "seed", ""},
		{"job ner with mode", "POST", "/v1/jobs?kind=ner&mode=tag", `{"id":1,"text":"a"}`, 400, "mode", ""},
		{"job unknown option", "POST", "/v1/jobs?priority=1", `{"id":1,"text":"a"}`, 400, "priority", ""},
		{"job bad line", "POST", "/v1/jobs", "{\"id\":1,\"text\":\"a\"}\n{\"id\":2}\n", 400, "line 2.text", ""},
		{"job empty upload", "POST", "/v1/jobs", "\n\n", 400, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(s, tc.method, tc.path, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status >= 400 {
				e := decodeError(t, rec)
				if e.Field != tc.field || e.Message == "" || e.Code == "" {
					t.Errorf("error %+v, want field %q", e, tc.field)
				}
				return
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("body %.300s lacks %q", rec.Body, tc.contains)
			}
		})
	}
}

func TestOpenAPIListsEveryRoute(t *testing.T) {
	s := newTestServer(t, nil)
	var doc struct {
		Paths map[string]map[string]any
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.echo.Routes() {
		if r.Path == "/" || strings.HasSuffix(r.Path, "/*") || r.Method == "echo_route_not_found" {
			continue
		}
		p := strings.ReplaceAll(r.Path, ":id", "{id}")
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("openapi.json lacks %s %s", r.Method, p)
		}
	}
}

// TestNERMatchesTag checks that /v1/ner returns, per document and in order, exactly what the
// tagger (and so `bingli tag`) returns.
func TestNERMatchesTag(t *testing.T) {
	s := newTestServer(t, nil)
	rec := do(s, "POST", "/v1/ner", nerBody(sampleTexts...))
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var resp nerResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	want := wantEntities(t, sampleTexts)
	if resp.Schema != "ccks2017" || resp.Model != "ccks2017-lite" || len(resp.Documents) != len(want) {
		t.Fatalf("response %+v", resp)
	}
	for i, d := range resp.Documents {
		if string(d.ID) != `"d`+string(rune('0'+i))+`"` || mustJSON(t, d.Entities) != mustJSON(t, want[i]) {
			t.Errorf("doc %d: %s %s, want %s", i, d.ID, mustJSON(t, d.Entities), mustJSON(t, want[i]))
		}
	}
}

func TestAuth(t *testing.T) {
	const good = "correct-horse-battery-staple"
	toks, err := LoadTokens("", "  ,"+good+", another-token-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(c *Config) { c.Tokens = toks })
	for _, tc := range []struct {
		name, header string
		status       int
	}{
		{"missing", "", 401},
		{"not bearer", "Basic " + good, 401},
		{"wrong", "Bearer " + good + "x", 401},
		{"right", "Bearer " + good, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/v1/models", "/v1/jobs"} {
				rec := do(s, "GET", path, "", "Authorization", tc.header)
				if rec.Code != tc.status {
					t.Errorf("%s: %d, want %d", path, rec.Code, tc.status)
				}
			}
		})
	}
	if rec := do(s, "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("/healthz needs no token: %d", rec.Code)
	}
	if _, err := LoadTokens("", "short"); err == nil {
		t.Error("a short token was accepted")
	}
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("# comment\n\n"+good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ft, err := LoadTokens(file, ""); err != nil || ft.Len() != 1 {
		t.Errorf("tokens file: %v, %v", ft, err)
	}
}

// TestJobsAreOwned checks that one token cannot see another token's jobs.
func TestJobsAreOwned(t *testing.T) {
	a, b := "token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"
	toks, _ := LoadTokens("", a+","+b)
	s := newTestServer(t, func(c *Config) { c.Tokens = toks })
	rec := do(s, "POST", "/v1/jobs", `{"id":1,"text":"头痛"}`, "Authorization", "Bearer "+a)
	if rec.Code != 202 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	if rec := do(s, "GET", "/v1/jobs/"+j.ID, "", "Authorization", "Bearer "+b); rec.Code != 404 {
		t.Errorf("another token's job: %d", rec.Code)
	}
	if rec := do(s, "GET", "/v1/jobs", "", "Authorization", "Bearer "+b); !strings.Contains(rec.Body.String(), `"jobs":[]`) {
		t.Errorf("another token's list: %s", rec.Body)
	}
}

func TestLoopbackRule(t *testing.T) {
	for _, tc := range []struct {
		addr             string
		tokens, insecure bool
		ok               bool
	}{
		{"127.0.0.1:8080", false, false, true},
		{"[::1]:8080", false, false, true},
		{"localhost:8080", false, false, true},
		{"0.0.0.0:8080", false, false, false},
		{":8080", false, false, false},
		{"192.0.2.7:8080", false, false, false},
		{"0.0.0.0:8080", true, false, true},
		{"0.0.0.0:8080", false, true, true},
	} {
		if err := CheckBind(tc.addr, tc.tokens, tc.insecure); (err == nil) != tc.ok {
			t.Errorf("CheckBind(%s, tokens %v, insecure %v) = %v", tc.addr, tc.tokens, tc.insecure, err)
		}
	}
	// Without tokens, a non-loopback client is refused on /v1 (should a proxy forward one).
	s := newTestServer(t, nil)
	req, _ := http.NewRequest("GET", "/v1/models", nil)
	req.RemoteAddr = "192.0.2.7:5555"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 403 {
		t.Errorf("remote client without tokens: %d", rec.Code)
	}
	insecure := newTestServer(t, func(c *Config) { c.InsecureNoAuth = true })
	rec = httptest.NewRecorder()
	insecure.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("remote client with --insecure-no-auth: %d", rec.Code)
	}
}

func TestLimits(t *testing.T) {
	s := newTestServer(t, func(c *Config) {
		c.MaxBody = 1024
		c.MaxDocChars = 10
		c.MaxDocs = 3
	})
	big := nerBody(strings.Repeat("痛", 400))
	for _, tc := range []struct {
		name, body string
		chunked    bool
		field      string
	}{
		{"body over limit", big, false, ""},
		{"body over limit, no length", big, true, ""},
		{"document too long", nerBody("12345678901"), false, "documents[0].text"},
		{"too many documents", nerBody("a", "b", "c", "d"), false, "documents"},
		{"job line too long", "", false, "line 1.text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *httptest.ResponseRecorder
			if tc.name == "job line too long" {
				rec = doRaw(s, "POST", "/v1/jobs", `{"id":1,"text":"12345678901"}`, false)
			} else {
				rec = doRaw(s, "POST", "/v1/ner", tc.body, tc.chunked)
			}
			if rec.Code != 413 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if e := decodeError(t, rec); e.Field != tc.field {
				t.Errorf("field %q, want %q", e.Field, tc.field)
			}
		})
	}
	if rec := do(s, "POST", "/v1/ner", nerBody("1234567890")); rec.Code != 200 {
		t.Errorf("document at the limit: %d", rec.Code)
	}
}

func TestRateLimit(t *testing.T) {
	s := newTestServer(t, func(c *Config) { c.RatePerSec, c.Burst = 1, 3 })
	codes := map[int]int{}
	var retry string
	for range 5 {
		rec := do(s, "GET", "/v1/models", "")
		codes[rec.Code]++
		if rec.Code == 429 {
			retry = rec.Header().Get("Retry-After")
		}
	}
	if codes[200] != 3 || codes[429] != 2 || retry != "1" {
		t.Errorf("codes %v, Retry-After %q", codes, retry)
	}
	if rec := do(s, "GET", "/healthz", ""); rec.Code != 200 {
		t.Errorf("/healthz is not rate-limited: %d", rec.Code)
	}
	l := newRateLimiter(2, 1)
	now := time.Now()
	if _, ok := l.allow("a", now); !ok {
		t.Fatal("first request refused")
	}
	if _, ok := l.allow("a", now); ok {
		t.Fatal("burst exceeded")
	}
	if _, ok := l.allow("b", now); !ok {
		t.Fatal("limits are per key")
	}
	if _, ok := l.allow("a", now.Add(600*time.Millisecond)); !ok {
		t.Fatal("bucket did not refill")
	}
}

func TestCORSOff(t *testing.T) {
	s := newTestServer(t, nil)
	rec := do(s, "OPTIONS", "/v1/ner", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if h := rec.Header().Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("CORS header %q", h)
	}
	rec = do(s, "POST", "/v1/ner", nerBody("头痛"), "Origin", "https://evil.example")
	if h := rec.Header().Get("Access-Control-Allow-Origin"); h != "" {
		t.Errorf("CORS header %q", h)
	}
}

func TestWebDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>tagger page</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, func(c *Config) { c.WebDir = dir })
	if rec := do(s, "GET", "/", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), "tagger page") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// TestLogHygiene sends text through every route that takes it, including in ids, unknown
// field names and bad lines, and checks that none of it reaches the logs.
func TestLogHygiene(t *testing.T) {
	var logs logBuffer
	s := newTestServer(t, func(c *Config) { c.Log = newLogger(&logs) })
	const secret = "张三丰患者身份证号"
	bodies := []struct{ method, path, body string }{
		{"POST", "/v1/ner", nerBody(secret + "头痛")},
		{"POST", "/v1/ner", `{"documents":[{"id":"` + secret + `","text":"` + secret + `"}]}`},
		{"POST", "/v1/ner", `{"documents":[{"id":1,"` + secret + `":1}]}`},
		{"POST", "/v1/ner", `{"` + secret + `":1}`},
		{"POST", "/v1/ner", `{"documents":[{"id":1,"text":"` + secret},
		{"POST", "/v1/jobs", `{"id":"` + secret + `","text":"` + secret + `"}` + "\n"},
		{"POST", "/v1/jobs", `{"id":1,"` + secret + `":2}` + "\n"},
		{"POST", "/v1/jobs?" + secret + "=1", `{"id":1,"text":"a"}`},
		{"GET", "/v1/jobs/" + secret, ""},
	}
	for _, b := range bodies {
		do(s, b.method, b.path, b.body)
	}
	rec := do(s, "GET", "/v1/jobs", "")
	var list struct{ Jobs []job }
	_ = json.Unmarshal(rec.Body.Bytes(), &list)
	for _, j := range list.Jobs {
		waitJob(t, func() job { return getJob(t, s, j.ID) })
		do(s, "GET", "/v1/jobs/"+j.ID+"/results", "")
	}
	got := logs.String()
	if !strings.Contains(got, "route=/v1/ner") {
		t.Fatalf("the access log is not captured: %q", got)
	}
	if strings.Contains(got, secret) || strings.Contains(got, "张三") {
		t.Errorf("request text leaked into the logs:\n%s", got)
	}
}

// TestBatching sends concurrent requests through a tagger that records batch sizes: each
// request gets its own documents' results, and requests share batches.
func TestBatching(t *testing.T) {
	rec := &slowTagger{BatchTagger: liteModel, delay: 20 * time.Millisecond}
	s := newTestServer(t, func(c *Config) {
		c.Model.Tagger = rec
		c.MaxBatch = 8
		c.MaxWait = 10 * time.Millisecond
	})
	want := wantEntities(t, sampleTexts)
	const clients = 24
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Client i sends a rotation of the samples, 1 to 3 documents.
			n := 1 + i%3
			var texts []string
			var exp []string
			for k := range n {
				idx := (i + k) % len(sampleTexts)
				texts = append(texts, sampleTexts[idx])
				exp = append(exp, mustJSON(t, want[idx]))
			}
			r := do(s, "POST", "/v1/ner", nerBody(texts...))
			var resp nerResponse
			if err := json.Unmarshal(r.Body.Bytes(), &resp); err != nil || len(resp.Documents) != n {
				errs <- r.Body.String()
				return
			}
			for k, d := range resp.Documents {
				if mustJSON(t, d.Entities) != exp[k] {
					errs <- "client " + string(rune('A'+i)) + " got another document's entities"
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	total, biggest := 0, 0
	for _, n := range rec.sizes {
		total += n
		biggest = max(biggest, n)
		if n > 8 {
			t.Errorf("batch of %d > max batch 8", n)
		}
	}
	if total != 48 || biggest < 2 || len(rec.sizes) >= clients {
		t.Errorf("batches %v: want 48 documents merged into fewer than %d batches", rec.sizes, clients)
	}
}

// TestServeAndShutdown serves on a real loopback listener and shuts down gracefully while
// slow requests are in flight in a batch: they all complete.
func TestServeAndShutdown(t *testing.T) {
	slow := &slowTagger{BatchTagger: liteModel, delay: 300 * time.Millisecond}
	s := newTestServer(t, func(c *Config) { c.Model.Tagger = slow })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, "", "", 5*time.Second) }()
	url := "http://" + ln.Addr().String()
	const inFlight = 4 // merged into one slow batch
	got := make(chan int, inFlight)
	for range inFlight {
		go func() {
			resp, err := http.Post(url+"/v1/ner", "application/json", strings.NewReader(nerBody("头痛")))
			if err != nil {
				got <- 0
				return
			}
			resp.Body.Close()
			got <- resp.StatusCode
		}()
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	for range inFlight {
		if code := <-got; code != 200 {
			t.Errorf("in-flight request during shutdown: %d", code)
		}
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}
