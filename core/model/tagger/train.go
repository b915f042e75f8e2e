package tagger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bingli/bingli/lexicon"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/bingli/bingli/core/corpus"
	"github.com/bingli/bingli/core/eval"
	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/weights"
)

// TrainConfig holds the training hyper-parameters.
type TrainConfig struct {
	Epochs      int     `json:"epochs"`
	BatchSize   int     `json:"batch_size"`
	LR          float32 `json:"lr"`
	WeightDecay float32 `json:"weight_decay"`
	ClipNorm    float32 `json:"clip_norm"`
	// Patience stops training after this many epochs without a better dev F1 (0: never).
	Patience int    `json:"patience"`
	Seed     uint64 `json:"seed"`
	// DictBlank is the probability that a training segment is shown, for one epoch, with
	// its dictionary features blanked (every BIO-type feature "O", no match bits), so that
	// the characters alone must carry its mentions: with every segment matched, a model
	// learns to doubt text the dictionary does not know (0: off).
	DictBlank float64 `json:"dict_blank,omitempty"`
}

// DefaultTrainConfig mirrors the peer recipe of the issue: Adam(W) 1e-3, batch 32, gradient
// clipping 5, 40 epochs, the epoch picked on dev.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Epochs: 40, BatchSize: 32, LR: 1e-3, ClipNorm: 5, Patience: 8, Seed: 1}
}

// EpochStats reports one epoch.
type EpochStats struct {
	Epoch     int     `json:"epoch"`
	TrainLoss float64 `json:"train_loss"` // mean batch loss
	DevF1     float64 `json:"dev_f1"`     // strict micro F1 on the dev documents
	DevP      float64 `json:"dev_p"`
	DevR      float64 `json:"dev_r"`
	Seconds   float64 `json:"seconds"` // wall time of the epoch's training part
	Best      bool    `json:"best"`    // the dev F1 improved
}

// Trainer runs epochs over labelled segments, scores each epoch on dev documents, keeps the
// weights of the best dev epoch, and saves and resumes checkpoints.
type Trainer struct {
	Model   *Model
	Enc     *Encoder
	Cfg     TrainConfig
	Train   []Segment
	Dev     []corpus.Document
	History []EpochStats
	// BestF1 and BestEpoch describe the best dev epoch so far; best holds its weights.
	BestF1    float64
	BestEpoch int
	best      map[string][]float32
	opt       *nn.AdamW
	params    []*nn.Parameter
	// OnBatch, when set, is called after every batch (for progress bars).
	OnBatch func(epoch, done, total int, loss float64)
	// OnEpoch, when set, is called after every epoch.
	OnEpoch func(EpochStats)
	// StopAfter, when set, makes Run start no epoch after this time (a time budget).
	StopAfter time.Time
}

// NewTrainer prepares training of m on train, scoring on dev.
func NewTrainer(m *Model, enc *Encoder, cfg TrainConfig, train []Segment, dev []corpus.Document) (*Trainer, error) {
	if cfg.Epochs <= 0 || cfg.BatchSize <= 0 || !(cfg.LR > 0) {
		return nil, fmt.Errorf("tagger: train config %+v: epochs, batch size and lr must be positive", cfg)
	}
	if len(train) == 0 {
		return nil, errors.New("tagger: no training segments")
	}
	for i := range train {
		if train[i].Tags == nil {
			return nil, fmt.Errorf("tagger: training segment %d has no tags", i)
		}
	}
	params := m.Parameters()
	ocfg := nn.DefaultAdamW(cfg.LR)
	ocfg.WeightDecay = cfg.WeightDecay
	ocfg.ClipNorm = cfg.ClipNorm
	opt, err := nn.NewAdamW(m.Backend(), params, ocfg)
	if err != nil {
		return nil, err
	}
	return &Trainer{Model: m, Enc: enc, Cfg: cfg, Train: train, Dev: dev, opt: opt, params: params, BestEpoch: 0}, nil
}

// Epochs returns how many epochs have run.
func (t *Trainer) Epochs() int { return len(t.History) }

// Run trains until Cfg.Epochs epochs have run or patience runs out, then loads the best
// dev epoch's weights into the model (the last epoch's when there is no dev set).
func (t *Trainer) Run(ctx context.Context) error {
	for len(t.History) < t.Cfg.Epochs {
		if t.Cfg.Patience > 0 && t.BestEpoch > 0 && len(t.History)-t.BestEpoch >= t.Cfg.Patience {
			break
		}
		if !t.StopAfter.IsZero() && time.Now().After(t.StopAfter) {
			break
		}
		if _, err := t.RunEpoch(ctx); err != nil {
			return err
		}
	}
	return t.RestoreBest()
}

// RunEpoch trains one epoch and scores it on dev.
func (t *Trainer) RunEpoch(ctx context.Context) (EpochStats, error) {
	epoch := len(t.History) + 1
	st := EpochStats{Epoch: epoch}
	m := t.Model
	m.SetTraining(true)
	// Each epoch's batch order is a function of (seed, epoch), so a resumed run sees the
	// same batches as an uninterrupted one.
	rng := rand.New(rand.NewPCG(t.Cfg.Seed, uint64(epoch)))
	batches := Batches(t.Train, t.Cfg.BatchSize, rng)
	// A stream of its own, so that blanking leaves the batch order as it was.
	blankRNG := rand.New(rand.NewPCG(t.Cfg.Seed^0x626c616e6b, uint64(epoch)))
	start := time.Now()
	var sum float64
	for i, idx := range batches {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		b, err := MakeBatch(t.Train, idx)
		if err != nil {
			return st, err
		}
		if t.Cfg.DictBlank > 0 {
			blankDict(b, blankRNG, t.Cfg.DictBlank)
		}
		if err := t.opt.ZeroGrad(); err != nil {
			return st, err
		}
		loss, err := m.Loss(b)
		if err != nil {
			return st, fmt.Errorf("epoch %d batch %d: %w", epoch, i+1, err)
		}
		if _, err := t.opt.Step(); err != nil {
			if errors.Is(err, nn.ErrNonFinite) {
				continue // skip a batch whose gradient overflowed; the step does not advance
			}
			return st, err
		}
		if err := m.SyncCRF(); err != nil {
			return st, err
		}
		sum += loss
		if t.OnBatch != nil {
			t.OnBatch(epoch, i+1, len(batches), sum/float64(i+1))
		}
	}
	st.TrainLoss = sum / float64(len(batches))
	st.Seconds = time.Since(start).Seconds()
	if math.IsNaN(st.TrainLoss) {
		return st, fmt.Errorf("epoch %d: training loss is NaN", epoch)
	}
	if len(t.Dev) > 0 {
		res, err := t.Score(ctx, t.Dev)
		if err != nil {
			return st, err
		}
		st.DevF1, st.DevP, st.DevR = res.Micro.F1(), res.Micro.Precision(), res.Micro.Recall()
	}
	if len(t.Dev) == 0 || st.DevF1 > t.BestF1 || t.BestEpoch == 0 {
		st.Best = true
		t.BestF1, t.BestEpoch = st.DevF1, epoch
		snap, err := t.snapshot()
		if err != nil {
			return st, err
		}
		t.best = snap
	}
	t.History = append(t.History, st)
	if t.OnEpoch != nil {
		t.OnEpoch(st)
	}
	return st, nil
}

// Score tags docs with the current weights and scores them strictly against their entities.
func (t *Trainer) Score(ctx context.Context, docs []corpus.Document) (*eval.Result, error) {
	preds, err := t.Model.Predict(ctx, t.Enc, docs, 64)
	if err != nil {
		return nil, err
	}
	return ScorePredictions(docs, preds)
}

// ScorePredictions scores predictions (one list per document) against the documents.
func ScorePredictions(docs []corpus.Document, preds [][]Entity) (*eval.Result, error) {
	pd := make([]corpus.Document, len(docs))
	for i, d := range docs {
		pd[i] = corpus.Document{ID: d.ID, Text: d.Text}
		for _, e := range preds[i] {
			pd[i].Entities = append(pd[i].Entities, corpus.Entity{Start: e.Start, End: e.End, Type: e.Type})
		}
	}
	return eval.Score(docs, pd)
}

// snapshot copies every parameter to the host.
func (t *Trainer) snapshot() (map[string][]float32, error) {
	be := t.Model.Backend()
	out := make(map[string][]float32, len(t.params))
	for _, p := range t.params {
		v, err := be.ToSlice(p.Value)
		if err != nil {
			return nil, err
		}
		out[p.Name] = v
	}
	return out, nil
}

// RestoreBest loads the best epoch's weights into the model.
func (t *Trainer) RestoreBest() error {
	if t.best == nil {
		return nil
	}
	return t.Model.loadValues(t.best)
}

// loadValues uploads named parameter values (all must be present, with the right sizes).
func (m *Model) loadValues(vals map[string][]float32) error {
	params := m.Parameters()
	for _, p := range params {
		v, ok := vals[p.Name]
		if !ok {
			return fmt.Errorf("tagger: no values for parameter %s", p.Name)
		}
		if len(v) != p.Value.Size() {
			return fmt.Errorf("tagger: parameter %s: %d values, want %d (shape %v)", p.Name, len(v), p.Value.Size(), p.Value.Shape())
		}
	}
	for _, p := range params {
		if err := m.be.Upload(p.Value, vals[p.Name]); err != nil {
			return fmt.Errorf("tagger: parameter %s: %w", p.Name, err)
		}
	}
	return m.SyncCRF()
}

// Checkpoint metadata keys.
const (
	ckptHistory   = "history"
	ckptSteps     = "optimizer_steps"
	ckptBestEpoch = "best_epoch"
	ckptBestF1    = "best_f1"
	ckptDropout   = "dropout_offsets"
	ckptConfig    = "train_config"
)

// SaveCheckpoint writes the current weights, the optimizer state, the best epoch's weights
// and the history to one safetensors file (zstd when path ends in .zst).
func (t *Trainer) SaveCheckpoint(path string) error {
	be := t.Model.Backend()
	f := &weights.File{Metadata: map[string]string{}}
	add := func(name string, shape []int, v []float32) error {
		return f.Add(weights.FromFloat32(name, shape, v))
	}
	for _, p := range t.params {
		v, err := be.ToSlice(p.Value)
		if err != nil {
			return err
		}
		if err := add("model."+p.Name, p.Value.Shape(), v); err != nil {
			return err
		}
		if b, ok := t.best[p.Name]; ok {
			if err := add("best."+p.Name, p.Value.Shape(), b); err != nil {
				return err
			}
		}
	}
	for _, s := range t.opt.State() {
		v, err := be.ToSlice(s.Tensor)
		if err != nil {
			return err
		}
		if err := add("optim."+s.Name, s.Tensor.Shape(), v); err != nil {
			return err
		}
	}
	hist, _ := json.Marshal(t.History)
	cfg, _ := json.Marshal(t.Cfg)
	f.Metadata[ckptHistory] = string(hist)
	f.Metadata[ckptConfig] = string(cfg)
	f.Metadata[ckptSteps] = strconv.Itoa(t.opt.Steps())
	f.Metadata[ckptBestEpoch] = strconv.Itoa(t.BestEpoch)
	f.Metadata[ckptBestF1] = strconv.FormatFloat(t.BestF1, 'g', -1, 64)
	f.Metadata[ckptDropout] = fmt.Sprintf("%d,%d", t.Model.In.Offset, t.Model.Mid.Offset)
	return f.WriteFile(path)
}

// LoadCheckpoint restores a checkpoint written by SaveCheckpoint into this trainer, whose
// model must have the same architecture.
func (t *Trainer) LoadCheckpoint(path string) error {
	f, err := weights.ReadFile(path)
	if err != nil {
		return err
	}
	cur := map[string][]float32{}
	best := map[string][]float32{}
	optim := map[string][]float32{}
	for i := range f.Tensors {
		tn := &f.Tensors[i]
		v, err := tn.Float32()
		if err != nil {
			return fmt.Errorf("checkpoint %s: %w", path, err)
		}
		switch {
		case len(tn.Name) > 6 && tn.Name[:6] == "model.":
			cur[tn.Name[6:]] = v
		case len(tn.Name) > 5 && tn.Name[:5] == "best.":
			best[tn.Name[5:]] = v
		case len(tn.Name) > 6 && tn.Name[:6] == "optim.":
			optim[tn.Name[6:]] = v
		}
	}
	if err := t.Model.loadValues(cur); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	steps, err := strconv.Atoi(f.Metadata[ckptSteps])
	if err != nil {
		return fmt.Errorf("checkpoint %s: bad %s: %w", path, ckptSteps, err)
	}
	if err := t.opt.Restore(steps, optim); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	var hist []EpochStats
	if err := json.Unmarshal([]byte(f.Metadata[ckptHistory]), &hist); err != nil {
		return fmt.Errorf("checkpoint %s: bad history: %w", path, err)
	}
	t.History = hist
	if t.BestEpoch, err = strconv.Atoi(f.Metadata[ckptBestEpoch]); err != nil {
		return fmt.Errorf("checkpoint %s: bad %s: %w", path, ckptBestEpoch, err)
	}
	if t.BestF1, err = strconv.ParseFloat(f.Metadata[ckptBestF1], 64); err != nil {
		return fmt.Errorf("checkpoint %s: bad %s: %w", path, ckptBestF1, err)
	}
	if _, err := fmt.Sscanf(f.Metadata[ckptDropout], "%d,%d", &t.Model.In.Offset, &t.Model.Mid.Offset); err != nil {
		return fmt.Errorf("checkpoint %s: bad %s: %w", path, ckptDropout, err)
	}
	if len(best) > 0 {
		t.best = best
	} else {
		t.best = nil
	}
	return nil
}

// blankDict blanks the dictionary features of each segment of b with probability p.
func blankDict(b *Batch, rng *rand.Rand, p float64) {
	const M = lexicon.NumMatchFeatures
	for i := 0; i < b.B; i++ {
		if rng.Float64() >= p {
			continue
		}
		for t := 0; t < b.T; t++ {
			if b.Dict != nil {
				b.Dict[t*b.B+i] = 0
			}
			if b.Match != nil {
				clear(b.Match[(t*b.B+i)*M : (t*b.B+i+1)*M])
			}
		}
	}
}
