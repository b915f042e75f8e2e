package lexicon

import (
	"slices"
	"strings"
	"testing"
)

// lower is the fixture normaliser: Latin lower-case only.
func lower(s string) string { return strings.ToLower(s) }

type fixtureTerm struct {
	term string
	typ  CanonicalType
}

func buildFixture(t testing.TB, terms ...fixtureTerm) *Dictionary {
	t.Helper()
	b := NewBuilder(lower)
	for _, ft := range terms {
		if _, err := b.AddListTerm(ft.term, ft.typ, "fixture"); err != nil {
			t.Fatal(err)
		}
	}
	d, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// words builds a fixture where every term has type Medical.
func words(t testing.TB, terms ...string) *Dictionary {
	t.Helper()
	fts := make([]fixtureTerm, len(terms))
	for i, w := range terms {
		fts[i] = fixtureTerm{w, TypeMedical}
	}
	return buildFixture(t, fts...)
}

// render shows a segmentation as words and single runes joined by "|".
func render(runes []rune, ms []Match) string {
	var parts []string
	i := 0
	for _, m := range ms {
		for ; i < m.Start; i++ {
			parts = append(parts, string(runes[i]))
		}
		parts = append(parts, string(runes[m.Start:m.End]))
		i = m.End
	}
	for ; i < len(runes); i++ {
		parts = append(parts, string(runes[i]))
	}
	return strings.Join(parts, "|")
}

func TestPaperExample(t *testing.T) {
	d := buildFixture(t,
		fixtureTerm{"头痛", TypeSymptom},
		fixtureTerm{"心悸", TypeSymptom},
		fixtureTerm{"心电图", TypeCheck},
		fixtureTerm{"颅脑CT", TypeCheck},
		fixtureTerm{"心电", TypeMedical},
		fixtureTerm{"颅脑", TypeBody},
		fixtureTerm{"电图", TypeMedical},
	)
	text := []rune(lower("因头痛伴心悸，检查心电图和颅脑CT"))
	want := "O B-Symptom I-Symptom O B-Symptom I-Symptom O O O B-Check I-Check I-Check O B-Check I-Check I-Check I-Check"
	for _, mode := range []Mode{Forward, Backward, Bidirectional} {
		t.Run(mode.String(), func(t *testing.T) {
			ms := d.Segment(text, mode)
			if got := render(text, ms); got != "因|头痛|伴|心悸|，|检|查|心电图|和|颅脑ct" {
				t.Errorf("segmentation %s", got)
			}
		})
	}
	var labels []string
	for _, f := range d.Features(text) {
		labels = append(labels, f.String())
	}
	if got := strings.Join(labels, " "); got != want {
		t.Errorf("features\n got %s\nwant %s", got, want)
	}
}

// TestBidirectionalRule checks every branch of the BiMM rule.
func TestBidirectionalRule(t *testing.T) {
	tests := []struct {
		name      string
		dict      []string
		text      string
		fmm, bmm  string
		bimm      string
		whyBranch string
	}{
		{
			name: "more words: backward", dict: []string{"研究", "研究生", "生命", "起源"},
			text: "研究生命起源",
			fmm:  "研究生|命|起源", bmm: "研究|生命|起源", bimm: "研究|生命|起源",
			whyBranch: "BMM has 3 words, FMM 2",
		},
		{
			name: "more words: forward", dict: []string{"左心", "室壁", "心室壁"},
			text: "左心室壁",
			fmm:  "左心|室壁", bmm: "左|心室壁", bimm: "左心|室壁",
			whyBranch: "FMM has 2 words, BMM 1",
		},
		{
			name: "fewer singles: backward", dict: []string{"胃肠", "肠道出血"},
			text: "胃肠道出血",
			fmm:  "胃肠|道|出|血", bmm: "胃|肠道出血", bimm: "胃|肠道出血",
			whyBranch: "1 word each; BMM has 1 single, FMM 3",
		},
		{
			name: "fewer singles: forward", dict: []string{"肺动脉", "脉高"},
			text: "肺动脉高",
			fmm:  "肺动脉|高", bmm: "肺|动|脉高", bimm: "肺动脉|高",
			whyBranch: "1 word each; FMM has 1 single, BMM 2",
		},
		{
			name: "longer longest word: forward", dict: []string{"急性心肌", "梗死", "急性心", "肌梗死"},
			text: "急性心肌梗死",
			fmm:  "急性心肌|梗死", bmm: "急性心|肌梗死", bimm: "急性心肌|梗死",
			whyBranch: "2 words, 0 singles each; FMM's longest word has 4 runes, BMM's 3",
		},
		{
			name: "longer longest word: backward", dict: []string{"急性", "心肌梗死", "急性心", "肌梗死"},
			text: "急性心肌梗死",
			fmm:  "急性心|肌梗死", bmm: "急性|心肌梗死", bimm: "急性|心肌梗死",
			whyBranch: "2 words, 0 singles each; BMM's longest word has 4 runes, FMM's 3",
		},
		{
			name: "full tie: backward", dict: []string{"结婚", "和尚", "尚未"},
			text: "结婚的和尚未结婚的",
			fmm:  "结婚|的|和尚|未|结婚|的", bmm: "结婚|的|和|尚未|结婚|的", bimm: "结婚|的|和|尚未|结婚|的",
			whyBranch: "chunk 和尚未: 1 word, 1 single, longest 2 each",
		},
		{
			name: "per chunk: each ambiguity decided alone", dict: []string{"左心", "室壁", "心室壁", "研究", "研究生", "生命", "起源"},
			text: "左心室壁，研究生命起源",
			fmm:  "左心|室壁|，|研究生|命|起源", bmm: "左|心室壁|，|研究|生命|起源", bimm: "左心|室壁|，|研究|生命|起源",
			whyBranch: "forward wins the first chunk, backward the second",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := words(t, tt.dict...)
			text := []rune(tt.text)
			for _, c := range []struct {
				mode Mode
				want string
			}{{Forward, tt.fmm}, {Backward, tt.bmm}, {Bidirectional, tt.bimm}} {
				if got := render(text, d.Segment(text, c.mode)); got != c.want {
					t.Errorf("%s: got %s, want %s (%s)", c.mode, got, c.want, tt.whyBranch)
				}
			}
		})
	}
}

func TestPrefer(t *testing.T) {
	tests := []struct {
		name string
		f, b chunkSummary
		want bool
	}{
		{"more words forward", chunkSummary{3, 5, 2}, chunkSummary{2, 0, 9}, true},
		{"more words backward", chunkSummary{2, 0, 9}, chunkSummary{3, 5, 2}, false},
		{"fewer singles forward", chunkSummary{2, 1, 2}, chunkSummary{2, 2, 9}, true},
		{"fewer singles backward", chunkSummary{2, 2, 9}, chunkSummary{2, 1, 2}, false},
		{"longer longest forward", chunkSummary{2, 1, 4}, chunkSummary{2, 1, 3}, true},
		{"longer longest backward", chunkSummary{2, 1, 3}, chunkSummary{2, 1, 4}, false},
		{"tie backward", chunkSummary{2, 1, 3}, chunkSummary{2, 1, 3}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := prefer(tt.f, tt.b); got != tt.want {
				t.Errorf("prefer(%v, %v) = %v", tt.f, tt.b, got)
			}
		})
	}
}

func TestSegmentEdgeCases(t *testing.T) {
	d := words(t, "头痛", "头痛伴", "心悸")
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", ""},
		{"one rune", "头", "头"},
		{"no alphabet runes", "abc123", "a|b|c|1|2|3"},
		{"word at both ends", "心悸头痛", "心悸|头痛"},
		{"longest wins", "头痛伴心悸", "头痛伴|心悸"},
		{"prefix only", "头", "头"},
		{"astral rune", "𠀀头痛", "𠀀|头痛"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := []rune(tt.text)
			for _, mode := range []Mode{Forward, Backward, Bidirectional} {
				if got := render(text, d.Segment(text, mode)); got != tt.want {
					t.Errorf("%s: got %q, want %q", mode, got, tt.want)
				}
			}
			if f := d.Features(text); len(f) != len(text) {
				t.Errorf("features: %d for %d runes", len(f), len(text))
			}
		})
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	d := words(t, "头痛")
	text := []rune("头痛头痛")
	ms := d.AppendSegment([]Match{{Start: 7, End: 9}}, text, Backward)
	want := []Match{{7, 9, 0}, {0, 2, TypeMedical}, {2, 4, TypeMedical}}
	if !slices.Equal(ms, want) {
		t.Errorf("got %v, want %v", ms, want)
	}
	fs := d.AppendFeatures([]Feature{5}, text)
	if len(fs) != 5 || fs[0] != 5 || fs[1] != FeatureOf(TypeMedical, false) || fs[2] != FeatureOf(TypeMedical, true) {
		t.Errorf("got %v", fs)
	}
}

func TestFeatureLabels(t *testing.T) {
	labels := FeatureLabels()
	if len(labels) != NumFeatures || labels[0] != "O" {
		t.Fatalf("labels %v", labels)
	}
	seen := map[string]bool{}
	for _, typ := range CanonicalTypes() {
		b, i := FeatureOf(typ, false), FeatureOf(typ, true)
		if labels[b] != "B-"+typ.String() || labels[i] != "I-"+typ.String() {
			t.Errorf("%v: %s %s", typ, labels[b], labels[i])
		}
		seen[labels[b]], seen[labels[i]] = true, true
	}
	if len(seen) != NumFeatures-1 {
		t.Errorf("labels not distinct: %v", labels)
	}
	if FeatureOf(TypeNone, true) != 0 {
		t.Error("TypeNone must give O")
	}
}

func TestZeroAllocs(t *testing.T) {
	d := words(t, "头痛", "心悸", "心电图", "颅脑ct", "心电")
	text := []rune(strings.Repeat("因头痛伴心悸，检查心电图和颅脑ct。", 20))
	ms := make([]Match, 0, len(text))
	fs := make([]Feature, 0, len(text))
	d.AppendSegment(ms, text, Bidirectional) // warm the pool
	for _, mode := range []Mode{Forward, Backward, Bidirectional} {
		if n := testing.AllocsPerRun(50, func() { d.AppendSegment(ms, text, mode) }); n > 0 {
			t.Errorf("%s: %v allocs per call", mode, n)
		}
	}
	d.AppendFeatures(fs, text)
	if n := testing.AllocsPerRun(50, func() { d.AppendFeatures(fs, text) }); n > 0 {
		t.Errorf("features: %v allocs per call", n)
	}
}
