package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/deid"
	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/pipeline"
)

const record = "患者张建国，男，56岁，住院号ZY20231187，身份证号110105196703154216，联系电话13912345678。" +
	"因反复胸闷、气短3年，加重伴咳嗽1周于2023年3月15日入院。既往有高血压病史10年，口服硝苯地平控释片。" +
	"查体：双肺呼吸音粗，可闻及湿性啰音，心率96次/分。胸部CT示右肺下叶炎症。" +
	"诊断：1.慢性阻塞性肺疾病急性加重；2.高血压病3级。予抗感染、平喘治疗后症状好转，2023年3月25日出院。\n" +
	"住址：北京市朝阳区建国路88号。主治医师：李明华。"

func loadFiles(t testing.TB, name string) (map[string][]byte, map[string]string) {
	t.Helper()
	files := map[string][]byte{}
	for _, f := range BundleFiles {
		b, err := os.ReadFile(filepath.Join("..", "weights", name, f))
		if err != nil {
			t.Fatal(err)
		}
		files[f] = b
	}
	sum := sha256.Sum256(files["config.json"])
	return files, map[string]string{name: hex.EncodeToString(sum[:])}
}

func loadEngine(t testing.TB) *Engine {
	files, pins := loadFiles(t, "ccks2017-lite")
	e, err := LoadEngine("ccks2017-lite", files, pins)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestLoadVerifiesHashes(t *testing.T) {
	files, pins := loadFiles(t, "ccks2017-lite")
	if _, err := LoadEngine("ccks2017-lite", files, map[string]string{"other": "x"}); err == nil || !strings.Contains(err.Error(), "no pinned hash") {
		t.Fatalf("unpinned bundle: err = %v", err)
	}
	bad := map[string]string{"ccks2017-lite": strings.Repeat("0", 64)}
	if _, err := LoadEngine("ccks2017-lite", files, bad); !errors.Is(err, ErrBadModel) {
		t.Fatalf("wrong pin: err = %v", err)
	}
	// A tampered weight file is caught by the hash in config.json.
	tampered := map[string][]byte{}
	for k, v := range files {
		tampered[k] = v
	}
	w := append([]byte(nil), files["model.safetensors"]...)
	w[len(w)-1] ^= 1
	tampered["model.safetensors"] = w
	if _, err := LoadEngine("ccks2017-lite", tampered, pins); err == nil {
		t.Fatal("tampered weights loaded")
	}
	delete(tampered, "lexicon.bin")
	tampered["model.safetensors"] = files["model.safetensors"]
	if _, err := LoadEngine("ccks2017-lite", tampered, pins); err == nil || !strings.Contains(err.Error(), "lexicon.bin is missing") {
		t.Fatalf("missing lexicon: err = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	e := loadEngine(t)
	var nilEngine *Engine
	if _, err := nilEngine.Tag("头痛"); !errors.Is(err, ErrNoModel) {
		t.Fatalf("no model: %v", err)
	}
	if _, err := e.Tag(""); !errors.Is(err, ErrEmpty) {
		t.Fatalf("empty: %v", err)
	}
	if _, err := e.Tag("头痛\xff\xfe"); !errors.Is(err, ErrBadUTF8) || !strings.Contains(err.Error(), "offset 6") {
		t.Fatalf("invalid UTF-8: %v", err)
	}
	e.MaxChars = 10
	if _, err := e.Tag(strings.Repeat("痛", 11)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("too long: %v", err)
	}
	if _, err := e.Deid(strings.Repeat("痛", 11), DeidOptions{}); !errors.Is(err, ErrTooLong) {
		t.Fatalf("deid too long: %v", err)
	}
	e.MaxChars = DefaultMaxChars
	if _, err := e.Deid("头痛", DeidOptions{Mode: "blur"}); err == nil {
		t.Fatal("unknown mode accepted")
	}
	if _, err := e.Deid("头痛", DeidOptions{Categories: []string{"SSN"}}); err == nil {
		t.Fatal("unknown category accepted")
	}
	if _, err := e.Deid("头痛", DeidOptions{Protected: [][2]int{{0, 5}}}); err == nil {
		t.Fatal("protected span outside the text accepted")
	}
	if _, err := e.Spans("头痛", [][]int32{{0}}); err == nil {
		t.Fatal("path of the wrong length accepted")
	}
}

func TestTagAndDeid(t *testing.T) {
	e := loadEngine(t)
	ents, err := e.Tag(record)
	if err != nil {
		t.Fatal(err)
	}
	rs := []rune(record)
	found := map[string]string{}
	for _, en := range ents {
		if string(rs[en.Start:en.End]) != en.Text || en.Confidence <= 0 || en.Confidence > 1 {
			t.Fatalf("bad entity %+v", en)
		}
		found[en.Text] = en.Type
	}
	for _, w := range []string{"胸闷", "高血压", "硝苯地平控释片", "胸部CT"} {
		if found[w] == "" {
			t.Errorf("entity %s not found (got %v)", w, found)
		}
	}
	r, err := e.Deid(record, DeidOptions{Mode: "tag"})
	if err != nil {
		t.Fatal(err)
	}
	for _, phi := range []string{"张建国", "ZY20231187", "110105196703154216", "13912345678", "2023年3月15日", "李明华"} {
		if strings.Contains(r.Masked, phi) {
			t.Errorf("masked text still holds %s: %s", phi, r.Masked)
		}
	}
	if !strings.Contains(r.Masked, "高血压") || !strings.Contains(r.Masked, "[姓名]") {
		t.Errorf("masked text: %s", r.Masked)
	}
	only, err := e.Deid(record, DeidOptions{Categories: []string{"PHONE"}, Protected: [][2]int{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(only.PHI) != 1 || only.PHI[0].Category != "PHONE" || !strings.Contains(only.Masked, "张建国") {
		t.Errorf("phone only: %+v", only)
	}
	none, err := e.Deid(record, DeidOptions{Categories: []string{}})
	if err != nil || none.Masked != record || len(none.PHI) != 0 {
		t.Errorf("no categories: %+v, %v", none, err)
	}
}

// Detecting first and finishing with DeidOptions.PHI (the pool's parallel path) gives what
// one Deid call gives, in every mode and with categories switched off; stale spans are refused.
func TestDetectThenDeid(t *testing.T) {
	e := loadEngine(t)
	ents, err := e.Tag(record)
	if err != nil {
		t.Fatal(err)
	}
	prot := [][2]int{}
	for _, en := range ents {
		prot = append(prot, [2]int{en.Start, en.End})
	}
	tests := []struct {
		mode string
		cats []string
	}{
		{"tag", nil}, {"surrogate", nil}, {"mask", nil}, {"tag", []string{"NAME", "PHONE"}}, {"tag", []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.mode, tt.cats), func(t *testing.T) {
			want, err := e.Deid(record, DeidOptions{Mode: tt.mode, Seed: 7, Categories: tt.cats, Protected: prot})
			if err != nil {
				t.Fatal(err)
			}
			phi, err := e.Detect(record, tt.cats)
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.Deid(record, DeidOptions{Mode: tt.mode, Seed: 7, Categories: tt.cats, Protected: prot, PHI: phi})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("detect then deid:\n%+v\none call:\n%+v", got, want)
			}
		})
	}
	phi, err := e.Detect(record, nil)
	if err != nil || len(phi) < 2 {
		t.Fatalf("detect: %v, %d spans", err, len(phi))
	}
	bad := map[string][]deid.Span{
		"another text":  {{Start: phi[0].Start, End: phi[0].End, Category: phi[0].Category, Text: "某某"}},
		"out of bounds": {{Start: 0, End: len([]rune(record)) + 1, Category: deid.Name}},
		"out of order":  {phi[1], phi[0]},
		"category":      {{Start: phi[0].Start, End: phi[0].End, Category: "SSN", Text: phi[0].Text}},
	}
	for name, spans := range bad {
		if _, err := e.Deid(record, DeidOptions{Protected: prot, PHI: spans}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Tagging the chunks of Split (as the worker pool does) gives the entities of tagging whole.
func TestSplitKeepsEntities(t *testing.T) {
	e := loadEngine(t)
	long := strings.Repeat(record+"\n", 6) + "「复查血常规。」患者无不适！"
	whole, err := e.Tag(long)
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range []int{1, 2, 3, 4, 7} {
		chunks, err := Split(long, parts, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(chunks) > parts || chunks[0][0] != 0 || chunks[len(chunks)-1][1] != len([]rune(long)) {
			t.Fatalf("parts %d: chunks %v", parts, chunks)
		}
		for i := 1; i < len(chunks); i++ {
			if chunks[i][0] != chunks[i-1][1] {
				t.Fatalf("parts %d: chunks %v not contiguous", parts, chunks)
			}
		}
		got, err := e.tagChunks(long, parts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, whole) {
			t.Fatalf("parts %d: chunked tagging differs from whole (%d vs %d entities)", parts, len(got), len(whole))
		}
	}
}

// Encode + an external decoder + Spans gives Tag's entities (the ONNX peer's path).
func TestEncodeSpansRoundTrip(t *testing.T) {
	e := loadEngine(t)
	segs, err := e.Encode(record)
	if err != nil {
		t.Fatal(err)
	}
	ts := make([]tagger.Segment, len(segs))
	idx := make([]int, len(segs))
	for i, s := range segs {
		ts[i] = tagger.Segment{Start: s.Start, Chars: s.Chars, Dict: s.Dict}
		idx[i] = i
	}
	b, err := tagger.MakeBatch(ts, idx)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := e.model.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.Spans(record, dec.Paths)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := e.Tag(record)
	strip := func(es []pipeline.Entity) []pipeline.Entity {
		out := make([]pipeline.Entity, len(es))
		for i, x := range es {
			x.Confidence = 0
			out[i] = x
		}
		return out
	}
	if !reflect.DeepEqual(strip(got), strip(want)) {
		t.Fatalf("spans from paths:\n%v\nwant\n%v", got, want)
	}
}

// benchRecord is about n code points of clinical text with PHI, cut at a sentence end.
func benchRecord(n int) string {
	var b strings.Builder
	for b.Len() == 0 || len([]rune(b.String())) < n {
		b.WriteString(record)
		b.WriteString("\n")
	}
	return string([]rune(b.String())[:n])
}

// BenchmarkTagDeid is what the page does per record: tag, then de-identify with the
// entities protected. Under wasm (node, the V8 of Chromium):
//
//	GOOS=js GOARCH=wasm go test -run XXX -bench TagDeid ./wasm -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
func BenchmarkTagDeid(b *testing.B) {
	e := loadEngine(b)
	for _, n := range []int{200, 1000, 5000} {
		s := benchRecord(n)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				ents, err := e.Tag(s)
				if err != nil {
					b.Fatal(err)
				}
				prot := make([][2]int, len(ents))
				for i, en := range ents {
					prot[i] = [2]int{en.Start, en.End}
				}
				if _, err := e.Deid(s, DeidOptions{Protected: prot}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/record")
		})
	}
}

// FuzzEngine: no input makes an entry point panic (errors are fine), and Split's chunks
// always tile the text. go test -run XXX -fuzz FuzzEngine -fuzztime 30s ./wasm
func FuzzEngine(f *testing.F) {
	e := loadEngine(f)
	for _, s := range []string{"", "头痛", record, "\xff\xfe", "。。。\n\n」", "患者张三，电话13912345678。\r\n住址：北京市", strings.Repeat("痛。", 300)} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, parts int) {
		e.MaxChars = 5000
		_, _ = e.Tag(s)
		for _, mode := range []string{"tag", "surrogate", "mask"} {
			_, _ = e.Deid(s, DeidOptions{Mode: mode, Protected: [][2]int{}})
		}
		if phi, err := e.Detect(s, nil); err == nil {
			if _, err := e.Deid(s, DeidOptions{Protected: [][2]int{}, PHI: phi}); err != nil {
				t.Fatalf("deid refused detect's own spans: %v", err)
			}
		}
		_, _ = e.Encode(s)
		chunks, err := Split(s, parts%9, 5000)
		if err != nil {
			return
		}
		n := len([]rune(s))
		at := 0
		for _, c := range chunks {
			if c[0] != at || c[1] <= c[0] {
				t.Fatalf("chunks %v do not tile %d characters", chunks, n)
			}
			at = c[1]
		}
		if at != n {
			t.Fatalf("chunks %v end at %d, text has %d", chunks, at, n)
		}
	})
}
