package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkNERLoopback measures /v1/ner over a real loopback connection with the lite model,
// one sample document per request, from GOMAXPROCS×16 concurrent clients.
func BenchmarkNERLoopback(b *testing.B) {
	s, err := New(Config{Model: Model{Name: "ccks2017-lite", Tagger: liteModel}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	body := nerBody(sampleTexts[0])
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Post(ts.URL+"/v1/ner", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
			}
		}
	})
}
