package synth

import (
	"math/rand/v2"
	"testing"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/deid"
)

func TestInjectKeepsOffsets(t *testing.T) {
	doc := corpus.Document{ID: "d", Text: "患者咳嗽3天。查体：双肺呼吸音粗。诊断：肺炎。", Entities: []corpus.Entity{{Start: 2, End: 4, Type: "sym"}, {Start: 20, End: 22, Type: "dis"}}}
	for seed := uint64(0); seed < 50; seed++ {
		d := Inject(doc, 3, rand.New(rand.NewPCG(seed, 1)))
		rs := []rune(d.Text)
		for i, e := range d.Entities {
			want := []rune(doc.Text)[doc.Entities[i].Start:doc.Entities[i].End]
			if string(rs[e.Start:e.End]) != string(want) {
				t.Fatalf("seed %d: entity moved to %q, want %q in %q", seed, string(rs[e.Start:e.End]), string(want), d.Text)
			}
		}
		for _, g := range d.PHI {
			if g.Start < 0 || g.End > len(rs) || g.Start >= g.End || !overlapsAny(d.Injected, g.Start, g.End) {
				t.Fatalf("seed %d: bad gold %+v", seed, g)
			}
		}
	}
}

func TestEvaluate(t *testing.T) {
	docs := []Doc{{ID: "a", Text: "患者张三，咳嗽。", PHI: []Gold{{2, 4, deid.Name}}, Injected: []deid.Range{{Start: 0, End: 5}}, Entities: []corpus.Entity{{Start: 5, End: 7, Type: "sym"}}}}
	r, err := Evaluate(docs, [][]deid.Span{{{Start: 2, End: 4, Category: deid.Name}, {Start: 5, End: 6, Category: deid.Name}}})
	if err != nil {
		t.Fatal(err)
	}
	cs := r.PerCategory[deid.Name]
	if cs.Found != 1 || cs.Detected != 1 || cs.Correct != 1 || cs.OutsideDet != 1 || r.FalseMasked != 1 || r.MedicalRunes != 2 {
		t.Errorf("got %+v, %+v", cs, r)
	}
	if _, err := Evaluate(docs, nil); err == nil {
		t.Error("length mismatch accepted")
	}
}
