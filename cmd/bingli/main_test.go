package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/internal/datadir"
)

// runCLI runs the CLI in-process and returns exit status, stdout and stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, log: slog.New(slog.NewTextHandler(&errb, nil))}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout+stderr
	}{
		{"no args", nil, 2, "Commands:"},
		{"help", []string{"--help"}, 0, "Commands:"},
		{"unknown", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"tag help", []string{"tag", "--help"}, 0, "-schema string"},
		{"tag no tagger", []string{"tag", "--schema", "yidu"}, 2, "choose a tagger"},
		{"tag no schema", []string{"tag", "--dict"}, 2, "--schema is required"},
		{"tag bad schema", []string{"tag", "--dict", "--schema", "nope"}, 2, `unknown schema "nope"`},
		{"eval no mode", []string{"eval"}, 2, "give --protocol"},
		{"eval half pair", []string{"eval", "--gold", "x"}, 2, "go together"},
		{"data no sub", []string{"data"}, 2, "missing sub-command"},
		{"data stats args", []string{"data", "stats", "ccks2017"}, 2, "want DATASET PATH"},
		{"lexicon build no out", []string{"lexicon", "build"}, 2, "--out FILE is required"},
		{"version", []string{"version"}, 0, "bingli dev"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if !strings.Contains(out+errs, tc.want) {
				t.Errorf("output lacks %q\nstdout: %s\nstderr: %s", tc.want, out, errs)
			}
		})
	}
}

type tagLine struct {
	ID       json.RawMessage `json:"id"`
	Entities []struct {
		Start, End int
		Type, Text string
		Confidence float64
	} `json:"entities"`
}

func decodeLines(t *testing.T, out string) []tagLine {
	t.Helper()
	var lines []tagLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var tl tagLine
		if err := json.Unmarshal([]byte(l), &tl); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		lines = append(lines, tl)
	}
	return lines
}

// TestTagContract checks the JSON-lines contract: one line per good input in input order,
// ids echoed as given, code-point offsets into the original text, bad lines reported by
// number with exit status 1.
func TestTagContract(t *testing.T) {
	input := strings.Join([]string{
		`{"id": "a", "text": "因头痛伴心悸，检查心电图和颅脑ＣＴ。"}`,
		`{"id": 7, "text": "患者　诉腹痛，extra", "other": [1]}`,
		`not json`,
		`{"text": "no id"}`,
		``,
		`{"id": "empty", "text": ""}`,
	}, "\n")
	code, out, errs := runCLI(t, input, "tag", "--dict", "--schema", "ccks2017")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (two bad lines); stderr: %s", code, errs)
	}
	for _, want := range []string{"stdin:3:", "stdin:4: missing \"id\"", "2 inputs failed"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q: %s", want, errs)
		}
	}
	lines := decodeLines(t, out)
	if len(lines) != 3 {
		t.Fatalf("got %d output lines, want 3: %s", len(lines), out)
	}
	texts := []string{"因头痛伴心悸，检查心电图和颅脑ＣＴ。", "患者　诉腹痛，extra", ""}
	ids := []string{`"a"`, `7`, `"empty"`}
	for i, l := range lines {
		if string(l.ID) != ids[i] {
			t.Errorf("line %d id %s, want %s", i, l.ID, ids[i])
		}
		runes := []rune(texts[i])
		for _, e := range l.Entities {
			if e.Start < 0 || e.End > len(runes) || e.Start >= e.End || string(runes[e.Start:e.End]) != e.Text {
				t.Errorf("line %d: entity %+v does not match the original text", i, e)
			}
		}
	}
	got := map[string]string{}
	for _, e := range lines[0].Entities {
		got[e.Text] = e.Type
	}
	for text, typ := range map[string]string{"头痛": "症状和体征", "心悸": "症状和体征", "心电图": "检查和检验", "颅脑ＣＴ": "检查和检验"} {
		if got[text] != typ {
			t.Errorf("entity %q: type %q, want %q (all: %v)", text, got[text], typ, got)
		}
	}
}

func TestTagTextAndBRAT(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rec1.txt")
	if err := os.WriteFile(in, []byte("主诉：头痛3天。\n查体：腹部压痛。"), 0o644); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "brat")
	code, _, errs := runCLI(t, "", "tag", "--dict", "--schema", "ccks2017", "--in", "text", "--format", "brat", "--out", outDir, in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	ann, err := os.ReadFile(filepath.Join(outDir, "rec1.ann"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ann), "头痛") {
		t.Errorf("BRAT annotations lack 头痛:\n%s", ann)
	}
}

func TestEvalFiles(t *testing.T) {
	dir := t.TempDir()
	gold := filepath.Join(dir, "gold.jsonl")
	pred := filepath.Join(dir, "pred.jsonl")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Gold has 3 entities; the prediction gets one exactly, one with the wrong end and
	// misses one: P = 1/2, R = 1/3.
	write(gold, `{"id":"d1","text":"头痛伴心悸，腹部压痛","entities":[{"start":0,"end":2,"type":"S"},{"start":3,"end":5,"type":"S"},{"start":6,"end":8,"type":"B"}]}`+"\n")
	write(pred, `{"id":"d1","entities":[{"start":0,"end":2,"type":"S"},{"start":3,"end":4,"type":"S"}]}`+"\n")
	code, out, errs := runCLI(t, "", "eval", "--gold", gold, "--pred", pred, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res []struct {
		Micro struct{ TP, FP, FN int } `json:"micro"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res) != 1 || res[0].Micro.TP != 1 || res[0].Micro.FP != 1 || res[0].Micro.FN != 2 {
		t.Errorf("got %+v, want TP 1, FP 1, FN 2", res)
	}
}

// TestLexiconBuildFromLists builds a dictionary from a tiny list fixture and tags with it.
func TestLexiconBuildFromLists(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("term\ttype\tsource\n阑尾炎\tDISEASE\tfixture\n右下腹\tBODY\tfixture\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "combined_typed_lexicon.tsv.gz"), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dict := filepath.Join(dir, "d.dict")
	if code, _, errs := runCLI(t, "", "lexicon", "build", "--lists", dir, "--out", dict); code != 0 {
		t.Fatalf("build: exit %d: %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "lexicon", "stats", dict)
	if code != 0 || !strings.Contains(out, "terms 2") {
		t.Fatalf("stats: exit %d: %s %s", code, out, errs)
	}
	code, out, errs = runCLI(t, `{"id":"x","text":"右下腹痛，考虑阑尾炎"}`, "tag", "--dict", "--lexicon", dict, "--schema", "yidu")
	if code != 0 {
		t.Fatalf("tag: exit %d: %s", code, errs)
	}
	want := `{"id":"x","entities":[{"start":0,"end":3,"type":"解剖部位","text":"右下腹","confidence":1},{"start":7,"end":10,"type":"疾病和诊断","text":"阑尾炎","confidence":1}]}`
	if strings.TrimSpace(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
	if code, _, errs := runCLI(t, "", "tag", "--dict", "--lexicon", filepath.Join(dir, "missing"), "--schema", "yidu"); code != 1 || !strings.Contains(errs, "missing") {
		t.Errorf("missing dictionary: exit %d, stderr %s", code, errs)
	}
}

func TestDataStatsAndConvert(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "docs.jsonl")
	if err := os.WriteFile(in, []byte(`{"id":"d1","text":"头痛伴心悸","entities":[{"start":0,"end":2,"type":"S"},{"start":3,"end":5,"type":"S"}]}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "", "data", "stats", "jsonl", in, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var st struct {
		Summary struct{ Documents, Entities int }
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Summary.Documents != 1 || st.Summary.Entities != 2 {
		t.Fatalf("stats %+v (%v): %s", st, err, out)
	}
	code, out, errs = runCLI(t, "", "data", "convert", "jsonl", in, "--to", "bio")
	if code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "头 B-S") || !strings.Contains(out, "伴 O") {
		t.Errorf("BIO output:\n%s", out)
	}
}

// TestEvalProtocolDict runs the dictionary tagger under ccks2017-split5 on the real data.
func TestEvalProtocolDict(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: full-data evaluation")
	}
	if _, err := datadir.Path("ner", "ccks2017"); err != nil {
		t.Skipf("shared data not available: %v", err)
	}
	code, out, errs := runCLI(t, "", "eval", "--protocol", "ccks2017-split5", "--dict", "--split", "test", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res []struct {
		Protocol, Split string
		Micro           struct {
			TP, FP, FN int
			F1         float64
		} `json:"micro"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(res) != 1 || res[0].Micro.TP+res[0].Micro.FN != 5868 {
		t.Fatalf("want one test result with 5,868 gold mentions, got %+v", res)
	}
	// The dictionary floor is about 71 F1; far below means matching or mapping broke.
	if f1 := res[0].Micro.F1; f1 < 0.6 {
		t.Errorf("dictionary tagger F1 %.3f on ccks2017-split5 test: expected about 0.71", f1)
	}
}

// TestShippedBundles loads every shipped model bundle and tags a record with it: the
// bundles' hashes, shapes and dictionaries must stay loadable by this code.
func TestShippedBundles(t *testing.T) {
	for _, dir := range []string{"../../weights/ccks2017-lite", "../../weights/yidu-lite"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			text := "患者因反复胸痛3天入院，心电图示ST段压低，予阿司匹林口服。"
			code, out, errs := runCLI(t, `{"id":"r","text":"`+text+`"}`, "tag", "--model", dir)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := decodeLines(t, out)
			if len(lines) != 1 || len(lines[0].Entities) == 0 {
				t.Fatalf("no entities from %s: %s", dir, out)
			}
			runes := []rune(text)
			for _, e := range lines[0].Entities {
				if string(runes[e.Start:e.End]) != e.Text || e.Confidence <= 0 || e.Confidence > 1 {
					t.Errorf("entity %+v", e)
				}
			}
		})
	}
}

// FuzzTagInput feeds arbitrary bytes to `bingli tag --dict`: it must never panic, and every
// entity it prints must match its input's text at its offsets.
func FuzzTagInput(f *testing.F) {
	f.Add(`{"id":"a","text":"头痛伴心悸，检查心电图和颅脑ＣＴ。"}`)
	f.Add("{\"id\":1,\"text\":\"\\ud800\"}\nnot json\n{}")
	f.Add(`{"id":null,"text":"x"}` + "\n" + `{"id":[1],"text":"患者\r\n腹痛"}`)
	f.Fuzz(func(t *testing.T, input string) {
		code, out, _ := runCLI(t, input, "tag", "--dict", "--schema", "yidu")
		if code != 0 && code != 1 {
			t.Fatalf("exit %d", code)
		}
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var tl tagLine
			if err := json.Unmarshal([]byte(l), &tl); err != nil {
				t.Fatalf("bad output line %q: %v", l, err)
			}
		}
	})
}

func TestPlotCurve(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curve.png")
	hist := []tagger.EpochStats{{Epoch: 1, TrainLoss: 9, DevF1: 0.6}, {Epoch: 2, TrainLoss: 4, DevF1: 0.75}, {Epoch: 3, TrainLoss: 3, DevF1: 0.8}}
	if err := plotCurve(path, hist); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 1000 || string(b[1:4]) != "PNG" {
		t.Fatalf("curve.png: %d bytes, %v", len(b), err)
	}
	if err := plotCurve(path, nil); err == nil {
		t.Error("an empty history plotted")
	}
}
