package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/bingli/bingli/internal/apijson"
	"github.com/nats-io/nats.go"
)

// FuzzDecodeNER checks that any body decodes to a request or to an API error with a 4xx
// status, never a panic, and that accepted requests respect the limits.
func FuzzDecodeNER(f *testing.F) {
	for _, s := range []string{
		`{"documents":[{"id":1,"text":"头痛"}]}`,
		`{"documents":[{"id":"a","text":"x"}],"model":"m"}`,
		`{"documents":[{"id":1,"txt":"a"}]}`,
		`{"documents":{}}`,
		`[]`, `null`, `{"documents":[null]}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := apijson.DecodeNER(bytes.NewReader(body), apijson.Limits{MaxDocs: 8, MaxDocChars: 50})
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.Status < 400 || he.Status >= 500 || he.Message == "" {
				t.Fatalf("error %v is not a 4xx API error", err)
			}
			return
		}
		if len(req.Documents) == 0 || len(req.Documents) > 8 {
			t.Fatalf("%d documents accepted", len(req.Documents))
		}
		for _, d := range req.Documents {
			if !json.Valid(d.ID) || len([]rune(d.Text)) > 50 {
				t.Fatalf("bad document accepted: %s", d.ID)
			}
		}
	})
}

// FuzzDecodeDeid is FuzzDecodeNER for /v1/deid bodies.
func FuzzDecodeDeid(f *testing.F) {
	for _, s := range []string{
		`{"documents":[{"id":1,"text":"患者张三"}],"mode":"surrogate","seed":3}`,
		`{"documents":[{"id":1,"text":"a"}],"mode":"blur"}`,
		`{"documents":[{"id":1,"text":"a"}],"seed":-1}`,
		`{"mode":null}`, "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := apijson.DecodeDeid(bytes.NewReader(body), apijson.Limits{MaxDocs: 8, MaxDocChars: 50})
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.Status < 400 || he.Status >= 500 || he.Message == "" {
				t.Fatalf("error %v is not a 4xx API error", err)
			}
			return
		}
		if len(req.Documents) == 0 || len(req.Documents) > 8 || (req.Mode != "tag" && req.Mode != "surrogate" && req.Mode != "mask") {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzJobLine checks a job upload line decodes to a document or a 4xx naming the line.
func FuzzJobLine(f *testing.F) {
	for _, s := range []string{`{"id":1,"text":"头痛","extra":[1]}`, `{"id":{},"text":"a"}`, `{"text":"a"}`, `1`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := apijson.DecodeDocument(line, "line 1", false, 50)
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) || he.Status < 400 || he.Status >= 500 || he.Field == "" && he.Message == "" {
				t.Fatalf("error %v is not a 4xx API error", err)
			}
			return
		}
		if !json.Valid(d.ID) || len([]rune(d.Text)) > 50 {
			t.Fatalf("bad document accepted: %s", d.ID)
		}
	})
}

// FuzzChunkHeader checks that any NATS headers parse to a well-formed chunk or an error.
func FuzzChunkHeader(f *testing.F) {
	f.Add("j1", "0", "10", "2", "0")
	f.Add("", "-1", "x", "0", "3")
	f.Add("j", "10", "5", "1", "2")
	f.Fuzz(func(t *testing.T, job, start, end, docs, failed string) {
		hd := nats.Header{}
		hd.Set(hdrJob, job)
		hd.Set(hdrStart, start)
		hd.Set(hdrEnd, end)
		hd.Set(hdrDocs, docs)
		hd.Set(hdrFailed, failed)
		h, err := parseChunkHeader(hd)
		if err != nil {
			return
		}
		if h.job == "" || h.start < 0 || h.end <= h.start || h.docs <= 0 || h.failed < 0 || h.failed > h.docs {
			t.Fatalf("accepted %+v", h)
		}
	})
}
