package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failingFile is a job file whose writes fail with err.
type failingFile struct {
	jobFile
	err error
}

func (f failingFile) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: "/secret/server/path", Err: f.err}
}

func (f failingFile) WriteAt([]byte, int64) (int, error) { return f.Write(nil) }

// TestJobDiskErrors fails a job's results writes with a full disk and with missing
// permissions, and a job upload with a full disk: the job fails (the upload is refused with
// 507) with a message that says so and carries no server path.
func TestJobDiskErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		inject  func(name string, flag int, perm os.FileMode) (jobFile, error)
		wantMsg string
	}{
		{"disk full", func(name string, flag int, perm os.FileMode) (jobFile, error) {
			f, err := openOSFile(name, flag, perm)
			if err != nil || strings.HasSuffix(name, "input.jsonl") {
				return f, err
			}
			return failingFile{f, syscall.ENOSPC}, nil
		}, "writing job results: the server's disk is full: no space left on device"},
		{"permission", func(name string, flag int, perm os.FileMode) (jobFile, error) {
			if strings.HasSuffix(name, "input.jsonl") {
				return openOSFile(name, flag, perm)
			}
			return nil, &fs.PathError{Op: "open", Path: "/secret/server/path", Err: syscall.EACCES}
		}, "opening job results: the server may not write its job store: permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestServer(t, nil)
			s.store.openFile = tc.inject
			input, _ := jobInput(3)
			rec := do(s, "POST", "/v1/jobs", input)
			if rec.Code != 202 {
				t.Fatalf("submit: %d %s", rec.Code, rec.Body)
			}
			var j job
			_ = json.Unmarshal(rec.Body.Bytes(), &j)
			j = waitJob(t, func() job { return getJob(t, s, j.ID) })
			if j.State != stateFailed || j.Error != tc.wantMsg {
				t.Errorf("job %s: %q, want failed: %q", j.State, j.Error, tc.wantMsg)
			}
		})
	}
	s := newTestServer(t, nil)
	s.store.openFile = func(name string, flag int, perm os.FileMode) (jobFile, error) {
		f, err := openOSFile(name, flag, perm)
		return failingFile{f, syscall.ENOSPC}, err
	}
	input, _ := jobInput(3)
	rec := do(s, "POST", "/v1/jobs", input)
	if e := decodeError(t, rec); rec.Code != 507 || e.Code != "insufficient_storage" ||
		!strings.Contains(e.Message, "disk is full") || strings.Contains(e.Message, "/secret") {
		t.Errorf("upload on a full disk: %d %+v", rec.Code, e)
	}
	if rec := do(s, "GET", "/v1/jobs", ""); strings.Contains(rec.Body.String(), `"id"`) {
		t.Errorf("a failed upload left a job: %s", rec.Body)
	}
}

// TestTLS serves HTTPS with a freshly generated self-signed certificate.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)

	s := newTestServer(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln, certFile, keyFile, 5*time.Second) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Post("https://"+ln.Addr().String()+"/v1/ner", "application/json", strings.NewReader(nerBody("头痛")))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Errorf("HTTPS /v1/ner: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if resp, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}
	cancel()
	if err := <-served; err != nil {
		t.Error(err)
	}
}

// TestMoreErrorPaths covers error answers TestRoutes does not: readiness while shutting
// down, an unsupported upload encoding, a broken gzip upload.
func TestMoreErrorPaths(t *testing.T) {
	s := newTestServer(t, nil)
	for _, tc := range []struct {
		name, method, path, body string
		header                   []string
		status                   int
		code                     string
	}{
		{"upload encoding", "POST", "/v1/jobs", `{"id":1,"text":"a"}`, []string{"Content-Encoding", "br"}, 415, "unsupported_encoding"},
		{"upload broken gzip", "POST", "/v1/jobs", `not gzip`, []string{"Content-Encoding", "gzip"}, 400, "bad_request"},
		{"deid too many documents", "POST", "/v1/deid", nerBody(strings.Split(strings.Repeat("a,", 1025), ",")...), nil, 413, "too_large"},
	} {
		rec := do(s, tc.method, tc.path, tc.body, tc.header...)
		if e := decodeError(t, rec); rec.Code != tc.status || e.Code != tc.code {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, rec.Code, e, tc.status, tc.code)
		}
	}
	s.ready.Store(false)
	if rec := do(s, "GET", "/readyz", ""); rec.Code != 503 || decodeError(t, rec).Code != "not_ready" {
		t.Errorf("/readyz while shutting down: %d", rec.Code)
	}
}

// TestRateLimitPerToken exhausts one token's burst: that token gets 429, another token is
// still served.
func TestRateLimitPerToken(t *testing.T) {
	a, b := "token-aaaaaaaaaaaaaaaa", "token-bbbbbbbbbbbbbbbb"
	toks, _ := LoadTokens("", a+","+b)
	s := newTestServer(t, func(c *Config) { c.Tokens, c.RatePerSec, c.Burst = toks, 0.5, 2 })
	var codes []int
	for _, tok := range []string{a, a, a, b, b, b} {
		codes = append(codes, do(s, "GET", "/v1/models", "", "Authorization", "Bearer "+tok).Code)
	}
	if want := []int{200, 200, 429, 200, 200, 429}; !slices.Equal(codes, want) {
		t.Errorf("codes %v, want %v", codes, want)
	}
}

// TestEveryV1RouteNeedsToken checks every registered /v1 route answers 401 without a token
// when tokens are configured, and 403 to a non-loopback client when none are.
func TestEveryV1RouteNeedsToken(t *testing.T) {
	toks, _ := LoadTokens("", "token-aaaaaaaaaaaaaaaa")
	withTokens := newTestServer(t, func(c *Config) { c.Tokens = toks })
	open := newTestServer(t, nil)
	n := 0
	for _, r := range withTokens.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/") {
			continue
		}
		n++
		path := strings.ReplaceAll(r.Path, ":id", "x")
		if rec := do(withTokens, r.Method, path, "{}"); rec.Code != 401 {
			t.Errorf("%s %s without a token: %d", r.Method, path, rec.Code)
		}
		req := httptest.NewRequest(r.Method, path, strings.NewReader("{}"))
		req.RemoteAddr = "192.0.2.7:5555"
		rec := httptest.NewRecorder()
		open.Handler().ServeHTTP(rec, req)
		if rec.Code != 403 {
			t.Errorf("%s %s from a remote client without tokens configured: %d", r.Method, path, rec.Code)
		}
	}
	if n < 8 {
		t.Errorf("only %d /v1 routes found", n)
	}
}

// TestPartialResults reads a running job's results: only committed lines, each complete,
// and the header says more are to come.
func TestPartialResults(t *testing.T) {
	slow := &slowTagger{BatchTagger: liteModel, delay: 40 * time.Millisecond}
	s := newTestServer(t, func(c *Config) { c.JobChunk, c.MaxBatch, c.Model.Tagger = 1, 1, slow })
	input, _ := jobInput(30)
	rec := do(s, "POST", "/v1/jobs", input)
	var j job
	_ = json.Unmarshal(rec.Body.Bytes(), &j)
	waitFor(t, 10*time.Second, "progress", func() bool { return getJob(t, s, j.ID).Done >= 2 })
	res := do(s, "GET", "/v1/jobs/"+j.ID+"/results", "")
	lines := strings.Split(strings.TrimSuffix(res.Body.String(), "\n"), "\n")
	if res.Code != 200 || res.Header().Get("X-Bingli-Job-State") != stateRunning || len(lines) < 2 || len(lines) >= 30 {
		t.Fatalf("%d, state %q, %d lines", res.Code, res.Header().Get("X-Bingli-Job-State"), len(lines))
	}
	for i, l := range lines {
		var r docResult
		if err := json.Unmarshal([]byte(l), &r); err != nil || string(r.ID) != fmt.Sprintf(`"doc-%d"`, i) {
			t.Fatalf("line %d: %q", i, l)
		}
	}
}
