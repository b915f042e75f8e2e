package tagger

import (
	"errors"
	"fmt"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/lexicon"
)

// Architecture is the name bundles record for this model.
const Architecture = "bilm-bner-tagger"

// Config is the tagger's architecture. Every feature block and the attention layer can be
// switched off, so an ablation is one field.
type Config struct {
	Vocab        int `json:"vocab"`         // character vocabulary size
	Tags         int `json:"tags"`          // BIO labels (TagSet.Len)
	CharDim      int `json:"char_dim"`      // character embedding width (128)
	DictDim      int `json:"dict_dim"`      // dictionary BIO-type embedding width (50); 0: no dictionary block
	DictFeatures int `json:"dict_features"` // dictionary feature ids (len(lexicon.FeatureLabels()))
	// MatchFeatures is the width of the multi-hot "all matches" block (lexicon.NumMatchFeatures):
	// every dictionary occurrence covering a character, by origin, type and position, fed to
	// the GRU as 0/1 inputs. 0: no match block.
	MatchFeatures int `json:"match_features,omitempty"`
	// DictNoDropout keeps the dictionary blocks out of the input dropout: it then drops
	// character-embedding units only.
	DictNoDropout bool    `json:"dict_no_dropout,omitempty"`
	ExtraDim      int     `json:"extra_dim"` // width of external features (BiLM, CbBERT) given per batch; 0: none
	Hidden        int     `json:"hidden"`    // GRU hidden size per direction (128)
	Attention     string  `json:"attention"` // "full", "window" or "none"
	Heads         int     `json:"heads"`     // attention heads (divide 2·Hidden)
	Window        int     `json:"window"`    // block width of windowed attention
	Dropout       float32 `json:"dropout"`   // dropout on the input features and before the emissions
}

// DefaultConfig is the paper's shape: char 128, dictionary 50, BiGRU 128 per direction,
// full self-attention, dropout 0.5.
func DefaultConfig(vocab, tags int) Config {
	return Config{
		Vocab: vocab, Tags: tags, CharDim: 128, DictDim: 50, DictFeatures: len(lexicon.FeatureLabels()),
		Hidden: 128, Attention: "full", Heads: 4, Window: 32, Dropout: 0.5,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Vocab < 6 || c.Tags < 3:
		return fmt.Errorf("tagger: vocab %d and tags %d too small", c.Vocab, c.Tags)
	case c.CharDim <= 0 || c.Hidden <= 0:
		return fmt.Errorf("tagger: char_dim %d and hidden %d must be positive", c.CharDim, c.Hidden)
	case c.DictDim < 0 || (c.DictDim > 0 && c.DictFeatures <= 0):
		return fmt.Errorf("tagger: dict_dim %d needs dict_features (got %d)", c.DictDim, c.DictFeatures)
	case c.MatchFeatures != 0 && c.MatchFeatures != lexicon.NumMatchFeatures:
		return fmt.Errorf("tagger: match_features %d: want 0 or %d", c.MatchFeatures, lexicon.NumMatchFeatures)
	case c.ExtraDim < 0:
		return fmt.Errorf("tagger: negative extra_dim")
	case !(c.Dropout >= 0 && c.Dropout < 1):
		return fmt.Errorf("tagger: dropout %v outside [0, 1)", c.Dropout)
	}
	switch c.Attention {
	case "none":
	case "full", "window":
		if c.Heads <= 0 || (2*c.Hidden)%c.Heads != 0 {
			return fmt.Errorf("tagger: %d heads do not divide %d", c.Heads, 2*c.Hidden)
		}
		if c.Attention == "window" && c.Window <= 0 {
			return fmt.Errorf("tagger: windowed attention needs window > 0")
		}
	default:
		return fmt.Errorf("tagger: attention %q: want full, window or none", c.Attention)
	}
	return nil
}

// InputDim is the width of the concatenated feature blocks.
func (c Config) InputDim() int { return c.CharDim + c.DictDim + c.MatchFeatures + c.ExtraDim }

// UsesDictionary reports whether the model reads dictionary features of any kind.
func (c Config) UsesDictionary() bool { return c.DictDim > 0 || c.MatchFeatures > 0 }

// Model is the tagger: its layers and the backend they live on.
type Model struct {
	Cfg  Config
	be   tensor.Backend
	Char *nn.Embedding
	Dict *nn.Embedding // nil without the dictionary block
	In   *nn.Dropout
	RNN  *nn.RNN
	Att  *nn.SelfAttention // nil without attention
	Mid  *nn.Dropout
	Out  *nn.Linear
	CRF  *nn.CRF
	crf  *nn.HostMirror
	// folded holds FoldInputs' tables, nil until it is called.
	folded *foldedInputs
}

// foldedInputs are the RNN's input projection folded into the embeddings, one table per
// RNN direction: char [Vocab, G·H] and dict [DictFeatures, G·H] (nil without the
// dictionary block); BIH is in the last block's table.
type foldedInputs struct {
	char, dict []*tensor.Tensor
}

// FoldInputs precomputes the RNN's input projection of every character and dictionary
// symbol (nn.RNN.ProjectTable), so that inference looks a position's projection up (two
// rows added) instead of multiplying its input vector by WIH: for the lite models about
// half of a decode's multiply-adds. It applies to models whose RNN input is embeddings only
// (no match features, no external features) and reports whether it did. The tables hold
// the weights of the moment: call it again after they change. Only Decode uses them (Loss,
// which needs the backward, does not).
// Results agree with the unfolded model to float32 rounding (sums in another order).
func (m *Model) FoldInputs() (bool, error) {
	if m.Cfg.MatchFeatures > 0 || m.Cfg.ExtraDim > 0 {
		return false, nil
	}
	m.freeFolded()
	f := &foldedInputs{}
	var err error
	if f.char, err = m.RNN.ProjectTable(m.Char.Weight.Value, 0, m.Dict == nil); err != nil {
		return false, err
	}
	if m.Dict != nil {
		if f.dict, err = m.RNN.ProjectTable(m.Dict.Weight.Value, m.Cfg.CharDim, true); err != nil {
			for _, t := range f.char {
				m.be.Free(t)
			}
			return false, err
		}
	}
	m.folded = f
	return true, nil
}

func (m *Model) freeFolded() {
	if m.folded == nil {
		return
	}
	for _, t := range append(m.folded.char, m.folded.dict...) {
		m.be.Free(t)
	}
	m.folded = nil
}

// projectFolded returns each RNN direction's input projection of batch b from the folded
// tables.
func (m *Model) projectFolded(b *Batch) ([]*tensor.Tensor, error) {
	be := m.be
	var out []*tensor.Tensor
	fail := func(err error) ([]*tensor.Tensor, error) {
		for _, t := range out {
			be.Free(t)
		}
		return nil, fmt.Errorf("tagger: folded input projection: %w", err)
	}
	for d, tc := range m.folded.char {
		p, err := be.New(b.T, b.B, tc.Dim(1))
		if err != nil {
			return fail(err)
		}
		out = append(out, p)
		if err := be.Embedding(p, tc, b.Chars); err != nil {
			return fail(err)
		}
		if m.folded.dict == nil {
			continue
		}
		q, err := be.New(b.T, b.B, tc.Dim(1))
		if err != nil {
			return fail(err)
		}
		err = be.Embedding(q, m.folded.dict[d], b.Dict)
		if err == nil {
			err = be.Add(p, p, q)
		}
		be.Free(q)
		if err != nil {
			return fail(err)
		}
	}
	return out, nil
}

// New builds a model with freshly initialised weights from seed.
func New(be tensor.Backend, cfg Config, labels []string, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(labels) != cfg.Tags {
		return nil, fmt.Errorf("tagger: %d labels for %d tags", len(labels), cfg.Tags)
	}
	r := nn.NewRNG(seed)
	m := &Model{Cfg: cfg, be: be}
	var err error
	if m.Char, err = nn.NewEmbedding(be, "char_embedding", cfg.Vocab, cfg.CharDim, 0, 1, r); err != nil {
		return nil, err
	}
	if cfg.DictDim > 0 {
		if m.Dict, err = nn.NewEmbedding(be, "dict_embedding", cfg.DictFeatures, cfg.DictDim, nn.NoPadding, 1, r); err != nil {
			return nil, err
		}
	}
	if m.In, err = nn.NewDropout(be, cfg.Dropout, seed^0x5eed1); err != nil {
		return nil, err
	}
	if m.Mid, err = nn.NewDropout(be, cfg.Dropout, seed^0x5eed2); err != nil {
		return nil, err
	}
	if m.RNN, err = nn.NewRNN(be, "gru", nn.RNNConfig{Cell: nn.GRU, Input: cfg.InputDim(), Hidden: cfg.Hidden, Bidirectional: true}, r); err != nil {
		return nil, err
	}
	if cfg.Attention != "none" {
		win := 0
		if cfg.Attention == "window" {
			win = cfg.Window
		}
		if m.Att, err = nn.NewSelfAttention(be, "attention", nn.AttentionConfig{Dim: 2 * cfg.Hidden, Heads: cfg.Heads, Window: win}, r); err != nil {
			return nil, err
		}
	}
	if m.Out, err = nn.NewLinear(be, "emission", 2*cfg.Hidden, cfg.Tags, true, r); err != nil {
		return nil, err
	}
	if m.CRF, err = nn.NewCRF(cfg.Tags); err != nil {
		return nil, err
	}
	if err := m.CRF.SetConstraints(nn.BIOConstraints(labels)); err != nil {
		return nil, err
	}
	if m.crf, err = nn.NewHostMirror(be, "crf", m.CRF.Params()); err != nil {
		return nil, err
	}
	return m, nil
}

// Backend returns the backend the model lives on.
func (m *Model) Backend() tensor.Backend { return m.be }

// Parameters returns every trainable parameter (the CRF's through its host mirror).
func (m *Model) Parameters() []*nn.Parameter {
	mods := []nn.Module{m.Char}
	if m.Dict != nil {
		mods = append(mods, m.Dict)
	}
	mods = append(mods, m.RNN)
	if m.Att != nil {
		mods = append(mods, m.Att)
	}
	mods = append(mods, m.Out, m.crf)
	ps, err := nn.Collect(mods...)
	if err != nil {
		panic(err) // names are fixed above; a duplicate is a programming error
	}
	return ps
}

// SetTraining switches dropout on or off.
func (m *Model) SetTraining(on bool) {
	m.In.Training = on
	m.Mid.Training = on
}

// SyncCRF copies the CRF's parameters from the mirrored tensors to the host layer; call it
// after an optimizer step or after loading weights into Parameters.
func (m *Model) SyncCRF() error { return m.crf.PullValues() }

// Batch is a padded batch of segments. Chars and Dict are time-major (position t of
// sequence b at t·B + b), Match too ([T, B, lexicon.NumMatchFeatures] of 0/1), Tags
// batch-major (b·T + t), as the CRF wants them.
type Batch struct {
	T, B    int
	Lengths []int32
	Chars   []int32
	Dict    []int32
	Match   []float32
	Tags    []int32
	// Extra holds external per-character features [T, B, ExtraDim] when Config.ExtraDim > 0.
	Extra *tensor.Tensor
}

// MakeBatch pads the segments idx of segs into a batch.
func MakeBatch(segs []Segment, idx []int) (*Batch, error) {
	if len(idx) == 0 {
		return nil, errors.New("tagger: empty batch")
	}
	b := &Batch{B: len(idx), Lengths: make([]int32, len(idx))}
	for i, s := range idx {
		n := segs[s].Len()
		if n == 0 {
			return nil, fmt.Errorf("tagger: segment %d is empty", s)
		}
		b.Lengths[i] = int32(n)
		b.T = max(b.T, n)
	}
	b.Chars = make([]int32, b.T*b.B)
	hasDict, hasTags := segs[idx[0]].Dict != nil, segs[idx[0]].Tags != nil
	hasMatch := segs[idx[0]].Match != nil
	if hasDict {
		b.Dict = make([]int32, b.T*b.B)
	}
	const M = lexicon.NumMatchFeatures
	if hasMatch {
		b.Match = make([]float32, b.T*b.B*M)
	}
	if hasTags {
		b.Tags = make([]int32, b.T*b.B)
	}
	for i, s := range idx {
		seg := &segs[s]
		if (seg.Dict != nil) != hasDict || (seg.Tags != nil) != hasTags || (seg.Match != nil) != hasMatch {
			return nil, errors.New("tagger: segments of one batch differ in their features")
		}
		if hasMatch && len(seg.Match) != len(seg.Chars) {
			return nil, fmt.Errorf("tagger: segment %d has %d match features for %d characters", s, len(seg.Match), len(seg.Chars))
		}
		for t := range seg.Chars {
			b.Chars[t*b.B+i] = seg.Chars[t]
			if hasDict {
				b.Dict[t*b.B+i] = int32(seg.Dict[t])
			}
			if hasMatch {
				row := b.Match[(t*b.B+i)*M : (t*b.B+i+1)*M]
				for f := range row {
					if seg.Match[t].Has(f) {
						row[f] = 1
					}
				}
			}
			if hasTags {
				b.Tags[i*b.T+t] = seg.Tags[t]
			}
		}
	}
	return b, nil
}

// lens converts the batch lengths for the CRF.
func (b *Batch) lens() []int {
	out := make([]int, b.B)
	for i, l := range b.Lengths {
		out[i] = int(l)
	}
	return out
}

// forwardCtx holds what the backward needs.
type forwardCtx struct {
	char, dict *nn.EmbeddingCtx
	x          *tensor.Tensor
	in         *nn.DropoutCtx
	rnn        *nn.RNNCtx
	hb         *tensor.Tensor // RNN output, batch-major (attention only)
	att        *nn.AttentionCtx
	z          *tensor.Tensor // RNN output + attention, time-major
	mid        *nn.DropoutCtx
	out        *nn.LinearCtx
	emissions  []float32 // [B, T, K] host
}

func (c *forwardCtx) free(be tensor.Backend) {
	if c.out != nil {
		c.out.Free()
	}
	if c.mid != nil {
		c.mid.Free()
	}
	if c.att != nil {
		c.att.Free()
		be.Free(c.z) // with attention z is ours; without, it is the RNN's output
	}
	be.Free(c.hb)
	if c.rnn != nil {
		c.rnn.Free()
	}
	if c.in != nil {
		c.in.Free()
	}
	be.Free(c.x)
	if c.dict != nil {
		c.dict.Free()
	}
	if c.char != nil {
		c.char.Free()
	}
}

// forward computes the emissions of a batch: on the device in ctx.out.Y ([T, B, K]) and,
// with download, on the host in ctx.emissions ([B, T, K]). inference allows the folded
// input projection (FoldInputs), whose context has no backward.
func (m *Model) forward(b *Batch, download, inference bool) (ctx *forwardCtx, err error) {
	be, cfg := m.be, m.Cfg
	ctx = &forwardCtx{}
	defer func() {
		if err != nil {
			ctx.free(be)
			ctx = nil
		}
	}()
	if b.Dict == nil && m.Dict != nil {
		return ctx, errors.New("tagger: the model uses dictionary features but the batch has none")
	}
	if cfg.ExtraDim > 0 && (b.Extra == nil || !b.Extra.HasShape(b.T, b.B, cfg.ExtraDim)) {
		return ctx, fmt.Errorf("tagger: the model needs external features [%d %d %d]", b.T, b.B, cfg.ExtraDim)
	}
	if cfg.MatchFeatures > 0 && len(b.Match) != b.T*b.B*cfg.MatchFeatures {
		return ctx, errors.New("tagger: the model uses dictionary match features but the batch has none")
	}
	var h *tensor.Tensor
	if inference && m.folded != nil {
		xw, err := m.projectFolded(b)
		if err != nil {
			return ctx, err
		}
		h, ctx.rnn, err = m.RNN.ForwardProjected(xw, b.Lengths)
		for _, t := range xw {
			be.Free(t)
		}
		if err != nil {
			return ctx, err
		}
		return m.forwardFrom(ctx, b, h, download)
	}
	var ce, de *tensor.Tensor
	if ce, ctx.char, err = m.Char.Forward(b.Chars, b.T, b.B); err != nil {
		return ctx, err
	}
	if cfg.DictNoDropout { // dropout on the characters' block only
		if ce, ctx.in, err = m.In.Forward(ce); err != nil {
			return ctx, err
		}
	}
	if ctx.x, err = be.New(b.T, b.B, cfg.InputDim()); err != nil {
		return ctx, err
	}
	if err = be.CopyCols(ctx.x, 0, ce, 0, cfg.CharDim, false); err != nil {
		return ctx, err
	}
	col := cfg.CharDim
	if m.Dict != nil {
		if de, ctx.dict, err = m.Dict.Forward(b.Dict, b.T, b.B); err != nil {
			return ctx, err
		}
		if err = be.CopyCols(ctx.x, col, de, 0, cfg.DictDim, false); err != nil {
			return ctx, err
		}
		col += cfg.DictDim
	}
	if cfg.MatchFeatures > 0 {
		mt, err := be.FromSlice(b.Match, b.T, b.B, cfg.MatchFeatures)
		if err != nil {
			return ctx, err
		}
		err = be.CopyCols(ctx.x, col, mt, 0, cfg.MatchFeatures, false)
		be.Free(mt)
		if err != nil {
			return ctx, err
		}
		col += cfg.MatchFeatures
	}
	if cfg.ExtraDim > 0 {
		if err = be.CopyCols(ctx.x, col, b.Extra, 0, cfg.ExtraDim, false); err != nil {
			return ctx, err
		}
	}
	xd := ctx.x
	if !cfg.DictNoDropout {
		if xd, ctx.in, err = m.In.Forward(ctx.x); err != nil {
			return ctx, err
		}
	}
	if h, ctx.rnn, err = m.RNN.Forward(xd, b.Lengths); err != nil {
		return ctx, err
	}
	return m.forwardFrom(ctx, b, h, download)
}

// forwardFrom runs the layers after the RNN (output h) of forward.
func (m *Model) forwardFrom(ctx *forwardCtx, b *Batch, h *tensor.Tensor, download bool) (*forwardCtx, error) {
	be, cfg := m.be, m.Cfg
	var err error
	ctx.z = h
	if m.Att != nil {
		if ctx.hb, err = nn.SwapLeading(be, h); err != nil {
			return ctx, err
		}
		a, attCtx, err := m.Att.Forward(ctx.hb, b.Lengths)
		if err != nil {
			return ctx, err
		}
		ctx.att = attCtx
		if ctx.z, err = nn.SwapLeading(be, a); err != nil {
			return ctx, err
		}
		if err = be.Add(ctx.z, ctx.z, h); err != nil { // residual: z = h + attention(h)
			return ctx, err
		}
	}
	zd, midCtx, err := m.Mid.Forward(ctx.z)
	if err != nil {
		return ctx, err
	}
	ctx.mid = midCtx
	_, outCtx, err := m.Out.Forward(zd)
	if err != nil {
		return ctx, err
	}
	ctx.out = outCtx
	if download {
		err = ctx.download(be, b, cfg.Tags)
	}
	return ctx, err
}

// download copies the emissions to the host, batch-major.
func (c *forwardCtx) download(be tensor.Backend, b *Batch, k int) error {
	tm, err := be.ToSlice(c.out.Y)
	if err != nil {
		return err
	}
	c.emissions = timeToBatch(tm, b.T, b.B, k)
	return nil
}

// backward propagates the emission gradient dem ([B, T, K] host) through the network.
func (m *Model) backward(b *Batch, ctx *forwardCtx, dem []float32) error {
	dEm, err := m.be.FromSlice(batchToTime(dem, b.T, b.B, m.Cfg.Tags), b.T, b.B, m.Cfg.Tags)
	if err != nil {
		return err
	}
	defer m.be.Free(dEm)
	return m.backwardFrom(b, ctx, dEm)
}

// backwardFrom propagates the emission gradient dEm ([T, B, K] on the backend).
func (m *Model) backwardFrom(b *Batch, ctx *forwardCtx, dEm *tensor.Tensor) error {
	be, cfg := m.be, m.Cfg
	tmp := newScratch(be)
	defer tmp.free()
	dzd, err := tmp.new(b.T, b.B, 2*cfg.Hidden)
	if err != nil {
		return err
	}
	if err := m.Out.Backward(ctx.out, dEm, dzd); err != nil {
		return err
	}
	dz, err := tmp.new(b.T, b.B, 2*cfg.Hidden)
	if err != nil {
		return err
	}
	if err := m.Mid.Backward(ctx.mid, dzd, dz); err != nil {
		return err
	}
	dh := dz // residual: dh = dz + attention backward
	if m.Att != nil {
		dab, err := tmp.new(b.B, b.T, 2*cfg.Hidden)
		if err != nil {
			return err
		}
		if err := nn.SwapLeadingBackward(be, dab, dz); err != nil {
			return err
		}
		dhb, err := tmp.new(b.B, b.T, 2*cfg.Hidden)
		if err != nil {
			return err
		}
		if err := m.Att.Backward(ctx.att, dab, dhb); err != nil {
			return err
		}
		if err := nn.SwapLeadingBackward(be, dh, dhb); err != nil {
			return err
		}
	}
	dxd, err := tmp.new(b.T, b.B, cfg.InputDim())
	if err != nil {
		return err
	}
	if err := m.RNN.Backward(ctx.rnn, dh, dxd); err != nil {
		return err
	}
	dx := dxd
	if !cfg.DictNoDropout {
		if dx, err = tmp.new(b.T, b.B, cfg.InputDim()); err != nil {
			return err
		}
		if err := m.In.Backward(ctx.in, dxd, dx); err != nil {
			return err
		}
	}
	dce, err := tmp.new(b.T, b.B, cfg.CharDim)
	if err != nil {
		return err
	}
	if err := be.CopyCols(dce, 0, dx, 0, cfg.CharDim, true); err != nil {
		return err
	}
	if cfg.DictNoDropout {
		dced := dce
		if dce, err = tmp.new(b.T, b.B, cfg.CharDim); err != nil {
			return err
		}
		if err := m.In.Backward(ctx.in, dced, dce); err != nil {
			return err
		}
	}
	if err := m.Char.Backward(ctx.char, dce); err != nil {
		return err
	}
	if m.Dict != nil {
		dde, err := tmp.new(b.T, b.B, cfg.DictDim)
		if err != nil {
			return err
		}
		if err := be.CopyCols(dde, 0, dx, cfg.CharDim, cfg.DictDim, true); err != nil {
			return err
		}
		if err := m.Dict.Backward(ctx.dict, dde); err != nil {
			return err
		}
	}
	return nil
}

// Loss runs forward and backward on a labelled batch, accumulating the gradients of the mean
// CRF negative log-likelihood into Parameters, and returns that loss.
func (m *Model) Loss(b *Batch) (float64, error) {
	if b.Tags == nil {
		return 0, errors.New("tagger: batch has no gold tags")
	}
	trainer, onDevice := m.be.(tensor.CRFTrainer)
	ctx, err := m.forward(b, !onDevice, false)
	if err != nil {
		return 0, err
	}
	defer ctx.free(m.be)
	m.CRF.ZeroGrad()
	if onDevice {
		// The backend computes the NLL and its gradient where the emissions are.
		if err := m.CRF.CheckGold(b.lens(), b.Tags, b.T); err != nil {
			return 0, err
		}
		dEm, err := m.be.New(b.T, b.B, m.Cfg.Tags)
		if err != nil {
			return 0, err
		}
		defer m.be.Free(dEm)
		trans, start, end := m.CRF.Scores()
		loss, err := trainer.CRFNLL(dEm, ctx.out.Y, b.Lengths, b.Tags, trans, start, end, 1/float64(b.B),
			m.CRF.TransGrad, m.CRF.StartGrad, m.CRF.EndGrad)
		if err == nil {
			if err := m.crf.PushGrads(); err != nil {
				return 0, err
			}
			return loss, m.backwardFrom(b, ctx, dEm)
		}
		if !errors.Is(err, tensor.ErrUnsupported) {
			return 0, err
		}
		m.CRF.ZeroGrad()
		if err := ctx.download(m.be, b, m.Cfg.Tags); err != nil {
			return 0, err
		}
	}
	dem := make([]float32, len(ctx.emissions))
	loss, err := m.CRF.NLLBackward(ctx.emissions, b.lens(), b.Tags, dem)
	if err != nil {
		return 0, err
	}
	if err := m.crf.PushGrads(); err != nil {
		return 0, err
	}
	if err := m.backward(b, ctx, dem); err != nil {
		return 0, err
	}
	return loss, nil
}

// Decoded is the result of decoding one batch.
type Decoded struct {
	Paths [][]int32
	// Marginals holds the CRF posterior marginals [B, T, K], for span confidences.
	Marginals []float32
}

// Decode runs the model in evaluation mode (no dropout) and Viterbi-decodes the batch.
func (m *Model) Decode(b *Batch) (*Decoded, error) {
	wasTraining := m.In.Training
	m.SetTraining(false)
	defer m.SetTraining(wasTraining)
	dec, onDevice := m.be.(tensor.CRFDecoder)
	ctx, err := m.forward(b, !onDevice, true)
	if err != nil {
		return nil, err
	}
	defer ctx.free(m.be)
	if onDevice {
		// The backend decodes where the emissions are; only paths and marginals come back.
		trans, start, end := m.CRF.Scores()
		paths, marg, err := dec.CRFDecode(ctx.out.Y, b.Lengths, trans, start, end)
		if err == nil {
			return &Decoded{Paths: paths, Marginals: marg}, nil
		}
		if !errors.Is(err, tensor.ErrUnsupported) {
			return nil, err
		}
		if err := ctx.download(m.be, b, m.Cfg.Tags); err != nil {
			return nil, err
		}
	}
	paths, _, err := m.CRF.Viterbi(ctx.emissions, b.lens())
	if err != nil {
		return nil, err
	}
	marg, err := m.CRF.Marginals(ctx.emissions, b.lens())
	if err != nil {
		return nil, err
	}
	return &Decoded{Paths: paths, Marginals: marg}, nil
}

// timeToBatch transposes [T, B, K] to [B, T, K].
func timeToBatch(x []float32, T, B, K int) []float32 {
	out := make([]float32, len(x))
	for t := 0; t < T; t++ {
		for b := 0; b < B; b++ {
			copy(out[(b*T+t)*K:(b*T+t+1)*K], x[(t*B+b)*K:(t*B+b+1)*K])
		}
	}
	return out
}

// batchToTime transposes [B, T, K] to [T, B, K].
func batchToTime(x []float32, T, B, K int) []float32 {
	out := make([]float32, len(x))
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			copy(out[(t*B+b)*K:(t*B+b+1)*K], x[(b*T+t)*K:(b*T+t+1)*K])
		}
	}
	return out
}

// scratch allocates zeroed backend tensors and frees them together.
type scratch struct {
	be tensor.Backend
	ts []*tensor.Tensor
}

func newScratch(be tensor.Backend) *scratch { return &scratch{be: be} }

func (s *scratch) new(shape ...int) (*tensor.Tensor, error) {
	t, err := s.be.New(shape...)
	if err == nil {
		s.ts = append(s.ts, t)
	}
	return t, err
}

func (s *scratch) free() {
	for _, t := range s.ts {
		s.be.Free(t)
	}
}
