package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/pipeline"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/internal/apijson"
)

var (
	modelOnce sync.Once
	modelTg   pipeline.Tagger
	modelErr  error
)

// tagger loads the shipped ccks2017-lite bundle once (about 40 ms).
func tagger(t testing.TB) pipeline.Tagger {
	t.Helper()
	modelOnce.Do(func() { modelTg, modelErr = pipeline.LoadModelTagger(cpu.New(1), "../../weights/ccks2017-lite") })
	if modelErr != nil {
		t.Fatal(modelErr)
	}
	return modelTg
}

func do(h http.Handler, method, path, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestErrors(t *testing.T) {
	h := New("ccks2017-lite", tagger(t), Limits{MaxBody: 4096, MaxDocs: 2, MaxDocChars: 50})
	long := strings.Repeat("头", 51)
	tests := []struct {
		name, method, path, body string
		status                   int
		code, field, msg         string
	}{
		{"not JSON", "POST", "/v1/ner", "hello", 400, "bad_request", "", "invalid JSON"},
		{"empty body", "POST", "/v1/ner", "", 400, "bad_request", "", "empty body"},
		{"truncated", "POST", "/v1/deid", `{"documents":[`, 400, "bad_request", "", "truncated"},
		{"invalid UTF-8", "POST", "/v1/ner", "{\"documents\":[{\"id\":1,\"text\":\"\xff\"}]}", 400, "bad_request", "", "not valid UTF-8 (byte 30)"},
		{"over-size body", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"` + strings.Repeat("a", 5000) + `"}]}`, 413, "too_large", "", "larger than 4096 bytes"},
		{"trailing data", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a"}]} {}`, 400, "bad_request", "", "after the JSON value"},
		{"no documents", "POST", "/v1/ner", `{}`, 400, "bad_request", "documents", "missing"},
		{"empty documents", "POST", "/v1/ner", `{"documents":[]}`, 400, "bad_request", "documents", "empty"},
		{"too many documents", "POST", "/v1/ner", `{"documents":[{"id":1,"text":""},{"id":2,"text":""},{"id":3,"text":""}]}`, 413, "too_large", "documents", "at most 2"},
		{"long document", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"` + long + `"}]}`, 413, "too_large", "documents[0].text", "51 characters"},
		{"unknown field", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a","x":1}]}`, 400, "bad_request", "documents[0].x", "unknown field"},
		{"text not a string", "POST", "/v1/ner", `{"documents":[{"id":1,"text":5}]}`, 400, "bad_request", "documents[0].text", "want string"},
		{"missing id", "POST", "/v1/ner", `{"documents":[{"text":"a"}]}`, 400, "bad_request", "documents[0].id", "missing"},
		{"object id", "POST", "/v1/ner", `{"documents":[{"id":{},"text":"a"}]}`, 400, "bad_request", "documents[0].id", "string or a number"},
		{"missing text", "POST", "/v1/deid", `{"documents":[{"id":1}]}`, 400, "bad_request", "documents[0].text", "missing"},
		{"unknown model", "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a"}],"model":"x"}`, 400, "bad_request", "model", "unknown model"},
		{"bad mode", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"a"}],"mode":"x"}`, 400, "bad_request", "mode", "tag, surrogate or mask"},
		{"negative seed", "POST", "/v1/deid", `{"documents":[{"id":1,"text":"a"}],"seed":-1}`, 400, "bad_request", "seed", "want uint64"},
		{"wrong method", "GET", "/v1/deid", "", 405, "method_not_allowed", "", "use POST"},
		{"unknown route", "POST", "/v2/ner", "{}", 404, "not_found", "", "no route"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, tc.method, tc.path, tc.body)
			var got struct{ Error Error }
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("status %d, body %q: %v", rec.Code, rec.Body, err)
			}
			if rec.Code != tc.status || got.Error.Code != tc.code || got.Error.Field != tc.field || !strings.Contains(got.Error.Message, tc.msg) {
				t.Errorf("got %d %+v, want %d %s field %q message containing %q", rec.Code, got.Error, tc.status, tc.code, tc.field, tc.msg)
			}
		})
	}
	if rec := do(h, "PUT", "/v1/ner", ""); rec.Header().Get("Allow") != "POST" {
		t.Errorf("405 without Allow: %v", rec.Header())
	}
}

func TestNER(t *testing.T) {
	tg := tagger(t)
	h := New("ccks2017-lite", tg, Limits{})
	texts := []string{"因头痛伴心悸，检查心电图。", "", "患者右下腹疼痛3天，行阑尾切除术。"}
	body, _ := json.Marshal(map[string]any{"documents": []map[string]any{{"id": 1, "text": texts[0]}, {"id": "b", "text": texts[1]}, {"id": -3, "text": texts[2]}}})
	rec := do(h, "POST", "/v1/ner", string(body))
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got NERResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Model != "ccks2017-lite" || got.Schema != "ccks2017" || len(got.Documents) != 3 {
		t.Fatalf("got %+v", got)
	}
	for i, want := range []string{"1", `"b"`, "-3"} {
		if string(got.Documents[i].ID) != want {
			t.Errorf("document %d: id %s, want %s", i, got.Documents[i].ID, want)
		}
		ents, err := tg.Tag(texts[i])
		if err != nil {
			t.Fatal(err)
		}
		if ents == nil {
			ents = []pipeline.Entity{}
		}
		if !reflect.DeepEqual(got.Documents[i].Entities, ents) {
			t.Errorf("document %d: %+v, want %+v", i, got.Documents[i].Entities, ents)
		}
	}
	if e := got.Documents[0].Entities; len(e) == 0 || e[0].Text != "头痛" || e[0].Start != 1 || e[0].End != 3 {
		t.Errorf("头痛 not tagged at [1,3): %+v", e)
	}
}

func TestDeid(t *testing.T) {
	tg := tagger(t)
	h := New("ccks2017-lite", tg, Limits{})
	txt := "患者张三，男，45岁，因头痛于2019年3月5日入院，电话13812345678。"
	for _, mode := range []string{"tag", "surrogate", "mask"} {
		body, _ := json.Marshal(map[string]any{"documents": []map[string]any{{"id": 7, "text": txt}}, "mode": mode, "seed": 5})
		rec := do(h, "POST", "/v1/deid", string(body))
		if rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", mode, rec.Code, rec.Body)
		}
		var got DeidResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		ents, _ := tg.Tag(txt)
		var opts deid.Options
		for _, e := range ents {
			opts.Protected = append(opts.Protected, deid.Range{Start: e.Start, End: e.End})
		}
		spans, _ := deid.Detect(txt, opts)
		masked, _ := deid.Mask(txt, spans, deid.Mode(mode), 5)
		d := got.Documents[0]
		if got.Mode != mode || d.Masked != masked || len(d.PHI) != len(spans) {
			t.Fatalf("%s: got %+v, want masked %q and %d spans", mode, got, masked, len(spans))
		}
		if mode == "tag" && masked != "患者[姓名]，男，[年龄]，因头痛于[日期]入院，电话[电话]。" {
			t.Errorf("tag mode: %q", masked)
		}
	}
	// mode and seed default to tag and 1.
	rec := do(h, "POST", "/v1/deid", `{"documents":[{"id":1,"text":"患者张三"}]}`)
	if !strings.Contains(rec.Body.String(), `"mode":"tag"`) || !strings.Contains(rec.Body.String(), `患者[姓名]`) {
		t.Errorf("defaults: %s", rec.Body)
	}
}

func TestLazyLoad(t *testing.T) {
	calls := 0
	h := NewLazy("m", func() (pipeline.Tagger, error) { calls++; return nil, errors.New("no model here") }, Limits{})
	if rec := do(h, "POST", "/v1/ner", "nope"); rec.Code != 400 || calls != 0 {
		t.Errorf("bad input: status %d, %d loads", rec.Code, calls)
	}
	for range 2 {
		rec := do(h, "POST", "/v1/ner", `{"documents":[{"id":1,"text":"a"}]}`)
		if rec.Code != 500 || !strings.Contains(rec.Body.String(), "no model here") {
			t.Errorf("load error: %d %s", rec.Code, rec.Body)
		}
	}
	if calls != 1 {
		t.Errorf("loaded %d times", calls)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"documents":[{"id":1,"text":"头痛"}]}`, `{"documents":[{"id":"a","text":""}],"mode":"mask","seed":3}`, `{"documents":[{"id":1}]}`, `[]`, `{"documents":[{"id":1,"text":"a"}]} x`, "{\"documents\":[{\"id\":1,\"text\":\"\xff\"}]}"} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxBody: 1 << 16, MaxDocs: 4, MaxDocChars: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(err error) {
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Message == "") {
				t.Fatalf("%q: error %#v is not a 4xx API error", b, err)
			}
		}
		req, err := apijson.DecodeNER(bytes.NewReader(b), lim.contract())
		check(err)
		if err == nil && (len(req.Documents) == 0 || len(req.Documents) > lim.MaxDocs) {
			t.Fatalf("%q: %d documents accepted", b, len(req.Documents))
		}
		_, err = apijson.DecodeDeid(bytes.NewReader(b), lim.contract())
		check(err)
		if i := invalidUTF8(b); i >= 0 && i < len(b) && b[i] < 0x80 {
			t.Fatalf("invalidUTF8 flagged ASCII byte %d of %q", i, b)
		}
	})
}
