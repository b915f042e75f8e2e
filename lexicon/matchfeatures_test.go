package lexicon

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// renderMatch lists the labels of one character's match features.
func renderMatch(m MatchBits) string {
	var out []string
	for f, l := range MatchFeatureLabels() {
		if m.Has(f) {
			out = append(out, l)
		}
	}
	return strings.Join(out, " ")
}

func TestMatchFeatures(t *testing.T) {
	b := NewBuilder(lower)
	for _, ft := range []struct {
		term string
		typ  CanonicalType
		ann  bool
	}{
		{"右肺上叶", TypeBody, true},
		{"右肺上叶切除术", TypeProcedure, true},
		{"切除术", TypeProcedure, false},
		{"上叶", TypeBody, false},
		{"上叶", TypeDisease, false}, // a second list type of the same term
	} {
		var err error
		if ft.ann {
			_, err = b.Add(ft.term, ft.typ, "train")
		} else {
			_, err = b.AddListTerm(ft.term, ft.typ, "list")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	runes := []rune("行右肺上叶切除术。")
	got := d.MatchFeatures(runes)
	want := []string{
		"",
		"annotation-Procedure-B annotation-Body-B",
		"annotation-Procedure-M annotation-Body-M",
		"list-Disease-B list-Body-B annotation-Procedure-M annotation-Body-M",
		"list-Disease-E list-Body-E annotation-Procedure-M annotation-Body-E",
		"list-Procedure-B annotation-Procedure-M",
		"list-Procedure-M annotation-Procedure-M",
		"list-Procedure-E annotation-Procedure-E",
		"",
	}
	if len(got) != len(runes) {
		t.Fatalf("%d features for %d runes", len(got), len(runes))
	}
	for i := range runes {
		if r := renderMatch(got[i]); r != want[i] {
			t.Errorf("rune %d %q: %q, want %q", i, runes[i], r, want[i])
		}
	}

	// Appending keeps what dst holds; the serialised dictionary gives the same features.
	pre := []MatchBits{{1, 0}}
	app := d.AppendMatchFeatures(pre, runes)
	if app[0] != (MatchBits{1, 0}) || !slices.Equal(app[1:], got) {
		t.Errorf("AppendMatchFeatures does not extend dst with the same features")
	}
	var buf bytes.Buffer
	if _, err := d.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.MatchFeatures(runes), got) {
		t.Errorf("a read-back dictionary gives other match features")
	}
	if len(d.MatchFeatures(nil)) != 0 {
		t.Errorf("features of no runes")
	}
	if MatchBits.Has(MatchBits{^uint64(0), ^uint64(0)}, NumMatchFeatures) || MatchBits.Has(MatchBits{^uint64(0), ^uint64(0)}, -1) {
		t.Errorf("Has outside the feature range")
	}
}

// The match features contain the BiMM path's features: every word of the segmentation sets
// its winning type's B at its start.
func TestMatchFeaturesCoverSegmentation(t *testing.T) {
	d := buildFixture(t,
		fixtureTerm{"高血压", TypeDisease}, fixtureTerm{"血压", TypeLabTest},
		fixtureTerm{"头痛", TypeSymptom}, fixtureTerm{"高血压病", TypeDisease})
	runes := []rune("既往高血压病史，头痛，测血压。")
	mf := d.MatchFeatures(runes)
	for _, w := range d.Segment(runes, Bidirectional) {
		if !mf[w.Start].Has(matchFeature(OriginList, w.Type, matchB)) || !mf[w.End-1].Has(matchFeature(OriginList, w.Type, matchE)) {
			t.Errorf("word %q (%s) missing from the match features", string(runes[w.Start:w.End]), w.Type)
		}
	}
}

func BenchmarkMatchFeatures(b *testing.B) {
	d := buildFixture(b,
		fixtureTerm{"高血压", TypeDisease}, fixtureTerm{"血压", TypeLabTest},
		fixtureTerm{"头痛", TypeSymptom}, fixtureTerm{"高血压病", TypeDisease})
	runes := []rune(strings.Repeat("既往高血压病史，头痛，测血压。", 100))
	dst := make([]MatchBits, 0, len(runes))
	b.SetBytes(int64(len(runes)))
	for b.Loop() {
		dst = d.AppendMatchFeatures(dst[:0], runes)
	}
}
