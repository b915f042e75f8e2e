package tagger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/core/text"
	"github.com/bingli/bingli/lexicon"
	"github.com/bingli/bingli/weights"
)

// syntheticDocs makes documents from templates: "患者<sym>，查<body>无异常。" with symptoms
// and body parts drawn from small lists, so a tagger can learn them.
func syntheticDocs(n int, seed uint64) []corpus.Document {
	r := rand.New(rand.NewPCG(seed, 99))
	syms := []string{"头痛", "心悸", "腹痛", "咳嗽", "发热"}
	bodies := []string{"腹部", "胸部", "头颅", "双肺"}
	fill := []string{"患者", "自诉", "今日", "查体", "未见"}
	docs := make([]corpus.Document, n)
	for i := range docs {
		var sb strings.Builder
		var ents []corpus.Entity
		pos := 0
		write := func(s, typ string) {
			l := len([]rune(s))
			if typ != "" {
				ents = append(ents, corpus.Entity{Start: pos, End: pos + l, Type: typ})
			}
			sb.WriteString(s)
			pos += l
		}
		for k := 0; k < 2+r.IntN(3); k++ {
			write(fill[r.IntN(len(fill))], "")
			write(syms[r.IntN(len(syms))], "症状")
			write("，查", "")
			write(bodies[r.IntN(len(bodies))], "部位")
			write("无异常。", "")
		}
		docs[i] = corpus.Document{ID: fmt.Sprint(i), Text: sb.String(), Entities: ents}
	}
	return docs
}

// setup builds a small model and its synthetic data. features is "chars", "dict" (the BiMM
// feature block) or "match" (BiMM block + all-matches block, dictionary kept out of dropout).
func setup(t *testing.T, features string) (*Model, *Encoder, []Segment, []corpus.Document) {
	t.Helper()
	train := syntheticDocs(40, 1)
	dev := syntheticDocs(10, 2)
	var texts []string
	for _, d := range train {
		texts = append(texts, d.Text)
	}
	tags, err := NewTagSet([]string{"症状", "部位"})
	if err != nil {
		t.Fatal(err)
	}
	enc := &Encoder{Vocab: text.BuildVocab(texts, 1, text.VocabOptions{}), Tags: tags, MaxLen: 16}
	cfg := Config{Vocab: enc.Vocab.Len(), Tags: tags.Len(), CharDim: 16, Hidden: 16, Attention: "full", Heads: 2, Dropout: 0.1}
	if features != "chars" {
		b := lexicon.NewBuilder(nil)
		for _, term := range []string{"头痛", "腹部"} {
			if _, err := b.AddListTerm(term, lexicon.TypeSymptom, "test"); err != nil {
				t.Fatal(err)
			}
		}
		if enc.Dict, err = b.Build(); err != nil {
			t.Fatal(err)
		}
		cfg.DictDim, cfg.DictFeatures = 4, len(lexicon.FeatureLabels())
		if features == "match" {
			cfg.MatchFeatures, cfg.DictNoDropout, enc.Match = lexicon.NumMatchFeatures, true, true
		}
	}
	m, err := New(cpu.New(1), cfg, tags.Labels, 3)
	if err != nil {
		t.Fatal(err)
	}
	var segs []Segment
	for i, d := range train {
		e, err := enc.Encode(d, i, true)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, e.Segments...)
	}
	return m, enc, segs, dev
}

// TestTrainLearns trains on a synthetic task and requires a high dev F1, then checks that a
// bundle round trip (float32 and int8) predicts the same entities.
func TestTrainLearns(t *testing.T) {
	for _, features := range []string{"dict", "match"} {
		t.Run(features, func(t *testing.T) { testTrainLearns(t, features) })
	}
}

func testTrainLearns(t *testing.T, features string) {
	m, enc, segs, dev := setup(t, features)
	if features == "match" && segs[0].Match == nil {
		t.Fatal("the encoder produced no match features")
	}
	cfg := TrainConfig{Epochs: 12, BatchSize: 8, LR: 1e-2, ClipNorm: 5, Seed: 1}
	tr, err := NewTrainer(m, enc, cfg, segs, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	first, last := tr.History[0], tr.History[len(tr.History)-1]
	if last.TrainLoss >= first.TrainLoss/2 {
		t.Errorf("loss did not fall: %.3f → %.3f", first.TrainLoss, last.TrainLoss)
	}
	if tr.BestF1 < 0.95 {
		t.Fatalf("best dev F1 %.3f on a trivially learnable task (history %+v)", tr.BestF1, tr.History)
	}
	res, err := tr.Score(context.Background(), dev)
	if err != nil {
		t.Fatal(err)
	}
	if res.Micro.F1() != tr.BestF1 {
		t.Errorf("after restoring the best epoch F1 is %.4f, want %.4f", res.Micro.F1(), tr.BestF1)
	}
	want, err := m.Predict(context.Background(), enc, dev, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, quant := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "bundle")
		b, err := m.Bundle(enc, BundleInfo{Schema: "test", Quantize: quant})
		if err != nil {
			t.Fatal(err)
		}
		b.Config.Notice = weights.DefaultNotice
		if err := weights.SaveBundle(dir, b); err != nil {
			t.Fatal(err)
		}
		lb, err := weights.LoadBundle(dir)
		if err != nil {
			t.Fatal(err)
		}
		m2, enc2, err := FromBundle(cpu.New(1), lb)
		if err != nil {
			t.Fatal(err)
		}
		if enc2.Match != enc.Match || m2.Cfg != m.Cfg {
			t.Fatalf("bundle round trip: match %v → %v, config %+v → %+v", enc.Match, enc2.Match, m.Cfg, m2.Cfg)
		}
		got, err := m2.Predict(context.Background(), enc2, dev, 4)
		if err != nil {
			t.Fatal(err)
		}
		res2, err := ScorePredictions(dev, got)
		if err != nil {
			t.Fatal(err)
		}
		if !quant {
			for i := range want {
				if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
					t.Fatalf("float32 bundle predicts differently on doc %d:\n got %v\nwant %v", i, got[i], want[i])
				}
			}
		} else if res2.Micro.F1() < tr.BestF1-0.02 {
			t.Errorf("int8 bundle F1 %.4f, float32 %.4f", res2.Micro.F1(), tr.BestF1)
		}
	}
}

// TestResume checks that stopping after 2 epochs, saving, and resuming in a fresh trainer
// gives exactly the weights and history of 4 uninterrupted epochs.
func TestResume(t *testing.T) {
	cfg := TrainConfig{Epochs: 4, BatchSize: 8, LR: 5e-3, ClipNorm: 5, Seed: 5}
	m1, enc, segs, dev := setup(t, "chars")
	full, err := NewTrainer(m1, enc, cfg, segs, dev)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if _, err := full.RunEpoch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	m2, _, _, _ := setup(t, "chars")
	part, err := NewTrainer(m2, enc, cfg, segs, dev)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := part.RunEpoch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ckpt := filepath.Join(t.TempDir(), "ckpt.safetensors.zst")
	if err := part.SaveCheckpoint(ckpt); err != nil {
		t.Fatal(err)
	}
	m3, _, _, _ := setup(t, "chars")
	resumed, err := NewTrainer(m3, enc, cfg, segs, dev)
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.LoadCheckpoint(ckpt); err != nil {
		t.Fatal(err)
	}
	for resumed.Epochs() < 4 {
		if _, err := resumed.RunEpoch(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := full.snapshot()
	b, _ := resumed.snapshot()
	for name, v := range a {
		for i := range v {
			if v[i] != b[name][i] {
				t.Fatalf("parameter %s[%d]: uninterrupted %v, resumed %v", name, i, v[i], b[name][i])
			}
		}
	}
	if fmt.Sprint(full.History[3].TrainLoss) != fmt.Sprint(resumed.History[3].TrainLoss) {
		t.Errorf("epoch 4 loss %v vs resumed %v", full.History[3].TrainLoss, resumed.History[3].TrainLoss)
	}
}

// TestBlankDict blanks whole segments' dictionary features and nothing else.
func TestBlankDict(t *testing.T) {
	segs := tinySegments(64, rand.New(rand.NewPCG(3, 4)))
	idx := make([]int, len(segs))
	for i := range idx {
		idx[i] = i
	}
	const M = lexicon.NumMatchFeatures
	for _, p := range []float64{0, 0.5, 0.999999} {
		b, err := MakeBatch(segs, idx)
		if err != nil {
			t.Fatal(err)
		}
		orig, _ := MakeBatch(segs, idx)
		blankDict(b, rand.New(rand.NewPCG(1, 1)), p)
		blanked := 0
		for i := 0; i < b.B; i++ {
			same, zero := true, true
			for tt := 0; tt < b.T; tt++ {
				k := tt*b.B + i
				for f := k * M; f < (k+1)*M; f++ {
					same = same && b.Match[f] == orig.Match[f]
					zero = zero && b.Match[f] == 0
				}
				same = same && b.Dict[k] == orig.Dict[k]
				zero = zero && b.Dict[k] == 0
				if b.Chars[k] != orig.Chars[k] {
					t.Fatalf("p=%v: characters changed", p)
				}
			}
			if !same && !zero {
				t.Fatalf("p=%v: segment %d partly blanked", p, i)
			}
			if !same {
				blanked++
			}
		}
		switch {
		case p == 0 && blanked != 0, p > 0.99 && blanked < b.B-2, p == 0.5 && (blanked < 16 || blanked > 48):
			t.Errorf("p=%v: %d of %d segments blanked", p, blanked, b.B)
		}
	}
}
