package tagger

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/lexicon"
)

var testLabels = []string{"O", "B-S", "I-S", "B-B", "I-B"}

// tinySegments returns labelled segments with a learnable pattern: characters 6 and 7 start
// and continue an S entity, 8 starts a B entity.
func tinySegments(n int, r *rand.Rand) []Segment {
	segs := make([]Segment, n)
	for i := range segs {
		T := 3 + r.IntN(6)
		s := Segment{Chars: make([]int32, T), Dict: make([]uint8, T), Tags: make([]int32, T), Match: make([]lexicon.MatchBits, T)}
		for t := 0; t < T; t++ {
			s.Match[t] = lexicon.MatchBits{r.Uint64() & r.Uint64(), r.Uint64() & r.Uint64() & r.Uint64()}
			c := int32(9 + r.IntN(4))
			switch {
			case t+1 < T && r.IntN(4) == 0:
				s.Chars[t], s.Tags[t] = 6, 1
				t++
				s.Chars[t], s.Tags[t] = 7, 2
				s.Dict[t] = 2
				continue
			case r.IntN(5) == 0:
				c = 8
				s.Tags[t] = 3
			}
			s.Chars[t] = c
		}
		segs[i] = s
	}
	return segs
}

// tinyModelBatch builds a model of cfg (seed 7) and a batch of three tiny segments.
func tinyModelBatch(t *testing.T, be tensor.Backend, cfg Config) (*Model, *Batch) {
	t.Helper()
	m, err := New(be, cfg, testLabels, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, err := MakeBatch(tinySegments(3, rand.New(rand.NewPCG(1, 2))), []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

func tinyConfig(attention string) Config {
	return Config{Vocab: 13, Tags: len(testLabels), CharDim: 5, DictDim: 3, DictFeatures: 4,
		Hidden: 4, Attention: attention, Heads: 2, Window: 2, Dropout: 0}
}

// TestGradCheck compares the tagger's backward with central finite differences of its loss,
// for every parameter tensor (a few elements each), with and without attention.
func TestGradCheck(t *testing.T) {
	for _, tc := range []struct {
		att   string
		match bool // the all-matches block, dictionary kept out of dropout
	}{{"none", false}, {"full", false}, {"window", false}, {"none", true}, {"full", true}} {
		name := tc.att
		if tc.match {
			name += "+match"
		}
		t.Run(name, func(t *testing.T) {
			be := cpu.New(1)
			cfg := tinyConfig(tc.att)
			if tc.match {
				cfg.MatchFeatures, cfg.DictNoDropout = lexicon.NumMatchFeatures, true
			}
			m, b := tinyModelBatch(t, be, cfg)
			params := m.Parameters()
			if err := nn.ZeroGrad(be, params); err != nil {
				t.Fatal(err)
			}
			if _, err := m.Loss(b); err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				if err := m.SyncCRF(); err != nil {
					t.Fatal(err)
				}
				l, err := m.CRF.NLL(mustEmissions(t, m, b), b.lens(), b.Tags)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			r := rand.New(rand.NewPCG(3, 4))
			var num, ana []float64
			for _, p := range params {
				vals, _ := be.ToSlice(p.Value)
				grads, _ := be.ToSlice(p.Grad)
				for k := 0; k < 4; k++ {
					i := r.IntN(len(vals))
					if p.Name == "char_embedding.weight" && i < 5 {
						continue // padding row: no gradient by design
					}
					const h = 1e-2
					orig := vals[i]
					vals[i] = orig + h
					be.Upload(p.Value, vals)
					lp := loss()
					vals[i] = orig - h
					be.Upload(p.Value, vals)
					lm := loss()
					vals[i] = orig
					be.Upload(p.Value, vals)
					num = append(num, (lp-lm)/(2*h))
					ana = append(ana, float64(grads[i]))
				}
			}
			loss()
			var diff, na, nb float64
			for i := range num {
				diff += (num[i] - ana[i]) * (num[i] - ana[i])
				na += num[i] * num[i]
				nb += ana[i] * ana[i]
			}
			// float32 network, h = 1e-2: a relative error of the whole sampled gradient vector
			// below 1e-2 separates a correct backward from a wrong one (a sign or missing term
			// gives errors near 1).
			rel := math.Sqrt(diff) / math.Max(math.Sqrt(na), math.Sqrt(nb))
			if rel > 1e-2 || math.IsNaN(rel) {
				for i := range num {
					t.Logf("numeric %.6f analytic %.6f", num[i], ana[i])
				}
				t.Fatalf("relative gradient error %.3g", rel)
			}
		})
	}
}

func mustEmissions(t *testing.T, m *Model, b *Batch) []float32 {
	t.Helper()
	ctx, err := m.forward(b, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.free(m.be)
	return ctx.emissions
}

func TestMakeBatchLayout(t *testing.T) {
	segs := []Segment{
		{Chars: []int32{5, 6, 7}, Dict: []uint8{0, 1, 2}, Tags: []int32{1, 2, 0}},
		{Chars: []int32{8}, Dict: []uint8{3}, Tags: []int32{3}},
	}
	b, err := MakeBatch(segs, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if b.T != 3 || b.B != 2 {
		t.Fatalf("T, B = %d, %d", b.T, b.B)
	}
	wantChars := []int32{5, 8, 6, 0, 7, 0} // time-major
	wantTags := []int32{1, 2, 0, 3, 0, 0}  // batch-major
	for i := range wantChars {
		if b.Chars[i] != wantChars[i] || b.Tags[i] != wantTags[i] {
			t.Fatalf("chars %v tags %v", b.Chars, b.Tags)
		}
	}
	if b.Match != nil {
		t.Errorf("match features in a batch of segments without them")
	}

	// Match features: time-major rows of 0/1, one per feature bit; padding rows stay 0.
	segs[0].Match = []lexicon.MatchBits{{1 << 3, 0}, {0, 1 << 2}, {}}
	segs[1].Match = []lexicon.MatchBits{{1, 0}}
	if b, err = MakeBatch(segs, []int{0, 1}); err != nil {
		t.Fatal(err)
	}
	const M = lexicon.NumMatchFeatures
	want := make([]float32, 3*2*M)
	want[(0*2+0)*M+3] = 1  // t 0, segment 0, bit 3
	want[(0*2+1)*M+0] = 1  // t 0, segment 1, bit 0
	want[(1*2+0)*M+66] = 1 // t 1, segment 0, bit 64 + 2
	if len(b.Match) != len(want) {
		t.Fatalf("%d match values, want %d", len(b.Match), len(want))
	}
	for i := range want {
		if b.Match[i] != want[i] {
			t.Fatalf("match value %d (t %d, b %d, bit %d) is %v, want %v", i, i/M/2, i/M%2, i%M, b.Match[i], want[i])
		}
	}
	segs[1].Match = nil
	if _, err := MakeBatch(segs, []int{0, 1}); err == nil {
		t.Error("segments with and without match features batched together")
	}
	segs[1].Match = []lexicon.MatchBits{{}, {}}
	if _, err := MakeBatch(segs, []int{0, 1}); err == nil {
		t.Error("a segment with more match features than characters accepted")
	}
	if _, err := MakeBatch(segs, nil); err == nil {
		t.Error("empty batch accepted")
	}
	if _, err := MakeBatch([]Segment{{}}, []int{0}); err == nil {
		t.Error("empty segment accepted")
	}
}

func TestSpans(t *testing.T) {
	ts, err := NewTagSet([]string{"S", "B"})
	if err != nil {
		t.Fatal(err)
	}
	// O B-S I-S I-B B-B B-S O I-S
	got := ts.Spans([]int32{0, 1, 2, 4, 3, 1, 0, 2})
	want := []Span{{1, 3, "S"}, {3, 4, "B"}, {4, 5, "B"}, {5, 6, "S"}, {7, 8, "S"}}
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
	if _, err := TagSetFromLabels([]string{"O", "B-X", "I-Y"}); err == nil {
		t.Error("mismatched pair accepted")
	}
}

// TestDictNoDropout checks that with DictNoDropout the training forward drops character
// units only: the dictionary and match columns of the GRU input are exactly the features.
func TestDictNoDropout(t *testing.T) {
	be := cpu.New(1)
	cfg := tinyConfig("none")
	cfg.Dropout, cfg.MatchFeatures, cfg.DictNoDropout = 0.5, lexicon.NumMatchFeatures, true
	m, b := tinyModelBatch(t, be, cfg)
	m.SetTraining(true)
	ctx, err := m.forward(b, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ctx.free(be)
	x, _ := be.ToSlice(ctx.x)
	dictW, _ := be.ToSlice(m.Dict.Weight.Value)
	D, M, in := cfg.DictDim, cfg.MatchFeatures, cfg.InputDim()
	zeros := 0
	for p := 0; p < b.T*b.B; p++ {
		row := x[p*in : (p+1)*in]
		for k := 0; k < cfg.CharDim; k++ {
			if row[k] == 0 {
				zeros++
			}
		}
		f := int(b.Dict[p])
		for k := 0; k < D; k++ {
			if row[cfg.CharDim+k] != dictW[f*D+k] {
				t.Fatalf("position %d: dictionary column %d is %v, want %v", p, k, row[cfg.CharDim+k], dictW[f*D+k])
			}
		}
		for k := 0; k < M; k++ {
			if row[cfg.CharDim+D+k] != b.Match[p*M+k] {
				t.Fatalf("position %d: match column %d is %v, want %v", p, k, row[cfg.CharDim+D+k], b.Match[p*M+k])
			}
		}
	}
	if zeros == 0 {
		t.Errorf("no character unit was dropped")
	}
}

// TestFoldInputs: decoding with the input projection folded into the embeddings gives the
// unfolded model's paths and, to rounding, its marginals, with and without the dictionary
// block and attention; a model with match features is not folded; Loss ignores the tables
// (same loss, and its backward works).
func TestFoldInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(Config) Config
		fold bool
	}{
		{"dict", func(c Config) Config { return c }, true},
		{"chars only", func(c Config) Config { c.DictDim, c.DictFeatures = 0, 0; return c }, true},
		{"dict+attention", func(c Config) Config { c.Attention = "full"; return c }, true},
		{"match features", func(c Config) Config { c.MatchFeatures = lexicon.NumMatchFeatures; return c }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := cpu.New(1)
			m, b := tinyModelBatch(t, be, tc.cfg(tinyConfig("none")))
			if m.Dict == nil {
				b.Dict = nil
			}
			want, err := m.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			lossBefore, err := m.Loss(b)
			if err != nil {
				t.Fatal(err)
			}
			folded, err := m.FoldInputs()
			if err != nil || folded != tc.fold {
				t.Fatalf("FoldInputs: %v, %v; want %v", folded, err, tc.fold)
			}
			got, err := m.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Paths, want.Paths) {
				t.Errorf("paths: folded %v, unfolded %v", got.Paths, want.Paths)
			}
			for i := range want.Marginals {
				if d := math.Abs(float64(got.Marginals[i] - want.Marginals[i])); d > 1e-5 {
					t.Fatalf("marginal %d: folded %v, unfolded %v", i, got.Marginals[i], want.Marginals[i])
				}
			}
			lossAfter, err := m.Loss(b)
			if err != nil || lossAfter != lossBefore {
				t.Errorf("training loss with tables %v (%v), without %v", lossAfter, err, lossBefore)
			}
		})
	}
}
