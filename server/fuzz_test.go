package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
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
		req, err := decodeNER(bytes.NewReader(body), 8, 50)
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
