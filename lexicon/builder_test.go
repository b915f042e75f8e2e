package lexicon

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

func TestTermRules(t *testing.T) {
	tests := []struct {
		name, term, stored string
		kept               bool
	}{
		{"two runes", "头痛", "头痛", true},
		{"one rune dropped", "痛", "", false},
		{"one Latin letter dropped", "C", "", false},
		{"trimmed then normalised", "  颅脑CT\t", "颅脑ct", true},
		{"max length kept", strings.Repeat("痛", MaxTermRunes), strings.Repeat("痛", MaxTermRunes), true},
		{"too long dropped", strings.Repeat("痛", MaxTermRunes+1), "", false},
		{"invalid UTF-8 dropped", "头\xff", "", false},
		{"no letter dropped", "4:1", "", false},
		{"digits with a letter kept", "b12", "b12", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(lower)
			kept, err := b.AddListTerm(tt.term, TypeSymptom, "s")
			if err != nil || kept != tt.kept {
				t.Fatalf("kept %v, err %v", kept, err)
			}
			d, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if tt.kept && d.Lookup([]rune(tt.stored)) == nil {
				t.Errorf("%q not stored as %q", tt.term, tt.stored)
			}
			if d.Stats().Terms != b.Len() {
				t.Errorf("terms %d, builder %d", d.Stats().Terms, b.Len())
			}
		})
	}
}

func TestAddErrors(t *testing.T) {
	b := NewBuilder(nil)
	if _, err := b.Add("头痛", TypeNone, "s"); err == nil {
		t.Error("TypeNone accepted")
	}
	if _, err := b.Add("头痛", CanonicalType(NumTypes+1), "s"); err == nil {
		t.Error("out-of-range type accepted")
	}
	if _, err := b.AddListTerm("头痛", TypeSymptom, ""); err == nil {
		t.Error("empty source accepted")
	}
}

func TestPriority(t *testing.T) {
	type add struct {
		typ        CanonicalType
		source     string
		annotation bool
	}
	tests := []struct {
		name string
		adds []add
		want []Entry
	}{
		{
			name: "type priority among list entries",
			adds: []add{{TypeDrug, "b", false}, {TypeDisease, "a", false}, {TypeSymptom, "c", false}, {TypeMedical, "d", false}},
			want: []Entry{{TypeSymptom, "c", OriginList}, {TypeDisease, "a", OriginList}, {TypeDrug, "b", OriginList}, {TypeMedical, "d", OriginList}},
		},
		{
			name: "annotation beats list",
			adds: []add{{TypeSymptom, "list", false}, {TypeDrug, "train", true}},
			want: []Entry{{TypeDrug, "train", OriginAnnotation}, {TypeSymptom, "list", OriginList}},
		},
		{
			name: "more frequent annotation first",
			adds: []add{{TypeSymptom, "train", true}, {TypeDisease, "train", true}, {TypeDisease, "train", true}},
			want: []Entry{{TypeDisease, "train", OriginAnnotation}, {TypeSymptom, "train", OriginAnnotation}},
		},
		{
			name: "equally frequent annotations by type",
			adds: []add{{TypeDisease, "train", true}, {TypeSymptom, "train", true}},
			want: []Entry{{TypeSymptom, "train", OriginAnnotation}, {TypeDisease, "train", OriginAnnotation}},
		},
		{
			name: "same type by source name, duplicates merged",
			adds: []add{{TypeDisease, "z", false}, {TypeDisease, "a", false}, {TypeDisease, "z", false}},
			want: []Entry{{TypeDisease, "a", OriginList}, {TypeDisease, "z", OriginList}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(nil)
			for _, a := range tt.adds {
				add := b.AddListTerm
				if a.annotation {
					add = b.Add
				}
				if _, err := add("头痛", a.typ, a.source); err != nil {
					t.Fatal(err)
				}
			}
			d, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			got := d.Lookup([]rune("头痛"))
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
			if ms := d.Segment([]rune("头痛"), Forward); len(ms) != 1 || ms[0].Type != tt.want[0].Type {
				t.Errorf("match %v", ms)
			}
		})
	}
}

func TestBuildDeterministic(t *testing.T) {
	terms := []fixtureTerm{{"头痛", TypeSymptom}, {"心悸", TypeSymptom}, {"心电图", TypeCheck}, {"颅脑ct", TypeCheck}, {"头孢", TypeDrug}}
	b1, b2 := NewBuilder(nil), NewBuilder(nil)
	for i := range terms {
		if _, err := b1.AddListTerm(terms[i].term, terms[i].typ, "s"+terms[i].typ.String()); err != nil {
			t.Fatal(err)
		}
		j := len(terms) - 1 - i
		if _, err := b2.AddListTerm(terms[j].term, terms[j].typ, "s"+terms[j].typ.String()); err != nil {
			t.Fatal(err)
		}
	}
	d1, _ := b1.Build()
	d2, _ := b2.Build()
	if d1.Hash() != d2.Hash() {
		t.Error("insertion order changes the dictionary")
	}
}

func TestStats(t *testing.T) {
	b := NewBuilder(nil)
	for _, a := range []struct {
		term   string
		typ    CanonicalType
		source string
	}{{"头痛", TypeSymptom, "x"}, {"头痛", TypeDisease, "y"}, {"心悸", TypeSymptom, "x"}, {"头孢", TypeDrug, "y"}} {
		if _, err := b.AddListTerm(a.term, a.typ, a.source); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Add("心电图", TypeCheck, "train"); err != nil {
		t.Fatal(err)
	}
	d, _ := b.Build()
	s := d.Stats()
	if s.Terms != 4 || s.Annotated != 1 || s.Alphabet != 7 {
		t.Errorf("stats %+v", s)
	}
	wantByType := map[CanonicalType]int{TypeSymptom: 2, TypeDrug: 1, TypeCheck: 1}
	wantByEntry := map[CanonicalType]int{TypeSymptom: 2, TypeDisease: 1, TypeDrug: 1, TypeCheck: 1}
	wantBySource := map[string]int{"x": 2, "y": 2, "train": 1}
	for k, v := range wantByType {
		if s.ByType[k] != v {
			t.Errorf("ByType %v", s.ByType)
		}
	}
	for k, v := range wantByEntry {
		if s.ByEntryType[k] != v {
			t.Errorf("ByEntryType %v", s.ByEntryType)
		}
	}
	for k, v := range wantBySource {
		if s.BySource[k] != v {
			t.Errorf("BySource %v", s.BySource)
		}
	}
	if s.TrieBytes != 8*s.Slots+2*65536+4*s.Alphabet {
		t.Errorf("TrieBytes %d", s.TrieBytes)
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLoadTypedTSV(t *testing.T) {
	input := "term\ttype\tsource\n" +
		"头痛\tSYMPTOM\tqamkg\n" +
		"\n" +
		"头痛\tDISEASE\tqamkg\r\n" +
		"C\tSYMPTOM\tqamkg\n" +
		"足三里\tBODY_ACUPOINT\tsogou\n" +
		"坏行\tSYMPTOM\n" +
		"未知\tFOO\tx\n" +
		"空源\tDRUG\t\n" +
		"坏\xff码\tDRUG\tx\n" +
		"维生素Ａ\tDRUG\tsogou\n"
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "Ａ", "A")) }
	for _, tt := range []struct {
		name string
		data []byte
	}{{"plain", []byte(input)}, {"gzip", gz(t, input)}} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(norm)
			rep, err := b.LoadTypedTSV(bytes.NewReader(tt.data), "list.tsv")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Rows != 9 || rep.Added != 4 || rep.Dropped != 1 || rep.Malformed != 4 || len(rep.Errors) != 4 {
				t.Fatalf("report %+v", rep)
			}
			for i, want := range []string{"list.tsv:7: malformed row: 2 fields", "list.tsv:8: malformed row: unknown type", "list.tsv:9: malformed row: empty source", "list.tsv:10: malformed row: invalid UTF-8"} {
				if !errors.Is(rep.Errors[i], ErrMalformedRow) || !strings.HasPrefix(rep.Errors[i].Error(), want) {
					t.Errorf("error %d: %v, want prefix %q", i, rep.Errors[i], want)
				}
			}
			d, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			if e := d.Lookup([]rune("足三里")); len(e) != 1 || e[0].Type != TypeTCM {
				t.Errorf("acupoint %v", e)
			}
			if e := d.Lookup([]rune("维生素a")); len(e) != 1 || e[0].Type != TypeDrug {
				t.Errorf("normalised term %v", e)
			}
			if e := d.Lookup([]rune("头痛")); len(e) != 2 || e[0].Type != TypeSymptom {
				t.Errorf("头痛 %v", e)
			}
		})
	}
}

func TestLoadRefusals(t *testing.T) {
	tests := []struct {
		name  string
		input string
		load  func(b *Builder, s string) (LoadReport, error)
	}{
		{"typed: bad header", "term\ttype\n头痛\tSYMPTOM\tq\n", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadTypedTSV(strings.NewReader(s), "x")
		}},
		{"typed: empty", "", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadTypedTSV(strings.NewReader(s), "x")
		}},
		{"chineseblue: bad header", "term\ttype\tsource\n", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadChineseBLUE(strings.NewReader(s), "x")
		}},
		{"chineseblue: empty", "\n\n", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadChineseBLUE(strings.NewReader(s), "x")
		}},
		{"plain: no type", "头痛\n", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadPlainList(strings.NewReader(s), "x", TypeNone, "s")
		}},
		{"plain: no source", "头痛\n", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadPlainList(strings.NewReader(s), "x", TypeSymptom, "")
		}},
		{"plain: line too long", strings.Repeat("痛", 1<<19), func(b *Builder, s string) (LoadReport, error) {
			return b.LoadPlainList(strings.NewReader(s), "x", TypeSymptom, "s")
		}},
		{"corrupt gzip", "\x1f\x8b\x00garbage", func(b *Builder, s string) (LoadReport, error) {
			return b.LoadPlainList(strings.NewReader(s), "x", TypeSymptom, "s")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.load(NewBuilder(nil), tt.input); err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestLoadChineseBLUE(t *testing.T) {
	input := "term\ttype\tsource\tfreq\n" +
		"cea\t实验室检验\tcEHRNER_train\t72\n" +
		"胸部ct\t影像检查\tcEHRNER_train\t3\n" +
		"孕妇\tcrowd\tcMedQANER_train\t5\n" +
		"头疼\tsymptom\tcMedQANER_train\t2\n" +
		"泄漏\t症状\tcEHRNER_dev\t1\n" +
		"坏频\t症状\tcEHRNER_train\tx\n" +
		"坏型\tfoo\tcMedQANER_train\t1\n" +
		"少列\t症状\n"
	b := NewBuilder(nil)
	rep, err := b.LoadChineseBLUE(strings.NewReader(input), "cb.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 8 || rep.Added != 3 || rep.Unmapped != 1 || rep.Malformed != 4 {
		t.Fatalf("report %+v", rep)
	}
	if !strings.Contains(rep.Errors[0].Error(), "cb.tsv:6:") || !strings.Contains(rep.Errors[0].Error(), "not a known training split") {
		t.Errorf("error %v", rep.Errors[0])
	}
	d, _ := b.Build()
	for term, want := range map[string]CanonicalType{"cea": TypeLabTest, "胸部ct": TypeImaging, "头疼": TypeSymptom} {
		if e := d.Lookup([]rune(term)); len(e) != 1 || e[0].Type != want {
			t.Errorf("%s: %v", term, e)
		}
	}
}

func TestLoadPlainList(t *testing.T) {
	b := NewBuilder(nil)
	rep, err := b.LoadPlainList(bytes.NewReader(gz(t, "头痛\t123\n\n心\n心悸\r\n坏\xff\n")), "p.txt", TypeSymptom, "plain")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != 4 || rep.Added != 2 || rep.Dropped != 1 || rep.Malformed != 1 || !strings.HasPrefix(rep.Errors[0].Error(), "p.txt:5:") {
		t.Fatalf("report %+v", rep)
	}
}

func TestLoadDefault(t *testing.T) {
	fsys := fstest.MapFS{
		CombinedFile:    {Data: gz(t, "term\ttype\tsource\n头痛\tSYMPTOM\tqamkg\n")},
		ChineseBLUEFile: {Data: []byte("term\ttype\tsource\tfreq\ncea\t实验室检验\tcEHRNER_train\t72\n")},
	}
	for _, tt := range []struct {
		name    string
		opt     DefaultOptions
		reports int
		cea     bool
	}{{"default excludes ChineseBLUE", DefaultOptions{}, 1, false}, {"opt-in", DefaultOptions{IncludeChineseBLUE: true}, 2, true}} {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBuilder(nil)
			reps, err := b.LoadDefault(fsys, tt.opt)
			if err != nil || len(reps) != tt.reports {
				t.Fatalf("%v %v", reps, err)
			}
			d, _ := b.Build()
			if (d.Lookup([]rune("cea")) != nil) != tt.cea || d.Lookup([]rune("头痛")) == nil {
				t.Error("wrong terms loaded")
			}
		})
	}
	if _, err := NewBuilder(nil).LoadDefault(fstest.MapFS{}, DefaultOptions{}); err == nil {
		t.Error("missing file: no error")
	}
}
