package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/bingli/bingli/core/tensor"
)

// AttentionConfig describes a SelfAttention layer.
type AttentionConfig struct {
	// Dim is the model dimension, split evenly across Heads.
	Dim, Heads int
	// Window > 0 restricts attention to non-overlapping blocks of Window
	// positions (position t attends to the keys of block ⌊t/Window⌋ of its
	// own sequence): cost O(T·Window) instead of O(T²), for the browser
	// tagger. 0 means full attention.
	Window int
}

// SelfAttention is multi-head scaled-dot-product self-attention over
// batch-major [B, T, Dim] inputs with key padding: keys at t ≥ lengths[b]
// are masked. Queries at padded positions still produce (finite) outputs,
// which callers ignore. Parameters follow torch.nn.MultiheadAttention
// (batch_first=True): "<name>.in_proj_weight" [3·Dim, Dim] and
// "<name>.in_proj_bias" hold the Q, K, V projections stacked in that
// order, "<name>.out_proj.weight" and "<name>.out_proj.bias" the output
// projection. All weights start Xavier-uniform (the stacked projection as
// one [3·Dim, Dim] matrix, as PyTorch does), biases at zero. There is no
// dropout on the attention probabilities (the fused op has none).
type SelfAttention struct {
	AttentionConfig
	InProj, OutProj *Linear

	be tensor.Backend
}

// AttentionCtx is what SelfAttention.Backward needs from a Forward call.
type AttentionCtx struct {
	be         tensor.Backend
	in, out    *LinearCtx
	b, t       int
	window     int     // effective block size
	padIDs     []int32 // padded row → source row; nil when no padding
	backIDs    []int32 // output row → padded row; nil when no padding
	qkvp       *tensor.Tensor
	q, k, v    *tensor.Tensor // [B·blocks, window, Dim]
	probs, att *tensor.Tensor
	attT       *tensor.Tensor // att in [B, T, Dim] rows
	// Y is the forward's output, owned by the context.
	Y *tensor.Tensor
}

// Free releases everything the forward allocated, the output included.
func (c *AttentionCtx) Free() {
	c.in.Free()
	c.out.Free()
	if c.padIDs != nil {
		c.be.Free(c.qkvp)
		c.be.Free(c.attT)
	}
	for _, t := range []*tensor.Tensor{c.q, c.k, c.v, c.probs, c.att} {
		c.be.Free(t)
	}
}

// NewSelfAttention returns a self-attention layer; Heads must divide Dim.
func NewSelfAttention(be tensor.Backend, name string, cfg AttentionConfig, r *rand.Rand) (*SelfAttention, error) {
	if cfg.Dim < 1 || cfg.Heads < 1 || cfg.Dim%cfg.Heads != 0 || cfg.Window < 0 {
		return nil, fmt.Errorf("nn: attention %q: config %+v: %w", name, cfg, tensor.ErrArgument)
	}
	in, err := newLinear(be, join(name, "in_proj_weight"), join(name, "in_proj_bias"), cfg.Dim, 3*cfg.Dim, r)
	if err != nil {
		return nil, err
	}
	out, err := NewLinear(be, join(name, "out_proj"), cfg.Dim, cfg.Dim, true, r)
	if err != nil {
		return nil, err
	}
	return &SelfAttention{AttentionConfig: cfg, InProj: in, OutProj: out, be: be}, nil
}

// Parameters implements Module.
func (a *SelfAttention) Parameters() []*Parameter {
	return append(a.InProj.Parameters(), a.OutProj.Parameters()...)
}

// Forward attends over x [B, T, Dim] (T ≥ 1) with lengths[b] ∈ [0, T]
// valid keys per sequence (nil: all T) and returns [B, T, Dim].
//
// The windowed form pads T up to a multiple of the window, views the
// padded batch as [B·T/W, W, Dim] (one attention "sequence" per block)
// and gives block j of sequence b the key length clamp(lengths[b] − j·W,
// 0, W); a block with no valid key outputs zeros before the output
// projection.
func (a *SelfAttention) Forward(x *tensor.Tensor, lengths []int32) (*tensor.Tensor, *AttentionCtx, error) {
	name := a.InProj.Weight.Name
	if x == nil || x.Rank() != 3 || x.Dim(2) != a.Dim || x.Dim(1) == 0 {
		return nil, nil, fmt.Errorf("nn: attention %q: input %v, want [B, T ≥ 1, %d]: %w", name, x, a.Dim, tensor.ErrShape)
	}
	B, T := x.Dim(0), x.Dim(1)
	if err := tensor.CheckLengths("nn: attention "+name, lengths, B, T); err != nil {
		return nil, nil, err
	}
	ctx := &AttentionCtx{be: a.be, b: B, t: T, window: T}
	if a.Window > 0 && a.Window < T {
		ctx.window = a.Window
	}
	W := ctx.window
	blocks := (T + W - 1) / W
	keyLens := blockLengths(lengths, B, T, W, blocks)
	if blocks*W != T {
		ctx.padIDs, ctx.backIDs = padIDs(B, T, blocks*W)
	}
	y, err := a.forward(ctx, x, keyLens, blocks)
	if err != nil {
		ctx.Free()
		return nil, nil, fmt.Errorf("nn: attention %q: %w", name, err)
	}
	return y, ctx, nil
}

func (a *SelfAttention) forward(ctx *AttentionCtx, x *tensor.Tensor, keyLens []int32, blocks int) (*tensor.Tensor, error) {
	be, D, W := a.be, a.Dim, ctx.window
	ctx.in = &LinearCtx{be: be}
	ctx.out = &LinearCtx{be: be}
	qkv, in, err := a.InProj.Forward(x)
	if err != nil {
		return nil, err
	}
	ctx.in, ctx.qkvp = in, qkv
	n := ctx.b * blocks // attention batch
	if ctx.padIDs != nil {
		if ctx.qkvp, err = be.New(n*W, 3*D); err != nil {
			return nil, err
		}
		if err := gatherRows(be, ctx.qkvp, qkv, ctx.padIDs); err != nil {
			return nil, err
		}
	}
	for i, dst := range []**tensor.Tensor{&ctx.q, &ctx.k, &ctx.v} {
		if *dst, err = be.New(n, W, D); err != nil {
			return nil, err
		}
		if err := be.CopyCols(*dst, 0, ctx.qkvp, i*D, D, false); err != nil {
			return nil, err
		}
	}
	if ctx.probs, err = be.New(n, a.Heads, W, W); err != nil {
		return nil, err
	}
	if ctx.att, err = be.New(n, W, D); err != nil {
		return nil, err
	}
	if err := be.Attention(ctx.att, ctx.probs, ctx.q, ctx.k, ctx.v, keyLens, a.Heads, false); err != nil {
		return nil, err
	}
	if ctx.padIDs == nil {
		ctx.attT, err = ctx.att.Reshape(ctx.b, ctx.t, D)
	} else if ctx.attT, err = be.New(ctx.b, ctx.t, D); err == nil {
		err = gatherRows(be, ctx.attT, ctx.att, ctx.backIDs)
	}
	if err != nil {
		return nil, err
	}
	y, out, err := a.OutProj.Forward(ctx.attT)
	if err != nil {
		return nil, err
	}
	ctx.out, ctx.Y = out, y
	return y, nil
}

// Backward accumulates the parameter gradients and, when dx is non-nil,
// dx += ∂L/∂x, from dy [B, T, Dim].
func (a *SelfAttention) Backward(ctx *AttentionCtx, dy, dx *tensor.Tensor) error {
	name := a.InProj.Weight.Name
	if ctx == nil || ctx.Y == nil {
		return fmt.Errorf("nn: attention %q backward: needs a Forward context: %w", name, tensor.ErrArgument)
	}
	var tmp []*tensor.Tensor
	defer func() {
		for _, t := range tmp {
			a.be.Free(t)
		}
	}()
	zeros := func(shape ...int) (*tensor.Tensor, error) {
		t, err := a.be.New(shape...)
		tmp = append(tmp, t)
		return t, err
	}
	if err := a.backward(ctx, dy, dx, zeros); err != nil {
		return fmt.Errorf("nn: attention %q backward: %w", name, err)
	}
	return nil
}

func (a *SelfAttention) backward(ctx *AttentionCtx, dy, dx *tensor.Tensor, zeros func(...int) (*tensor.Tensor, error)) error {
	be, D := a.be, a.Dim
	dattT, err := zeros(ctx.b, ctx.t, D)
	if err != nil {
		return err
	}
	if err := a.OutProj.Backward(ctx.out, dy, dattT); err != nil {
		return err
	}
	datt := dattT
	if ctx.padIDs == nil {
		datt, err = dattT.Reshape(ctx.att.Shape()...)
	} else if datt, err = zeros(ctx.att.Shape()...); err == nil {
		err = scatterRows(be, datt, dattT, ctx.backIDs)
	}
	if err != nil {
		return err
	}
	grads := make([]*tensor.Tensor, 3)
	for i := range grads {
		if grads[i], err = zeros(ctx.q.Shape()...); err != nil {
			return err
		}
	}
	if err := be.AttentionBackward(grads[0], grads[1], grads[2], datt, ctx.probs, ctx.q, ctx.k, ctx.v, a.Heads); err != nil {
		return err
	}
	dqkvp, err := zeros(ctx.qkvp.Shape()...)
	if err != nil {
		return err
	}
	for i, g := range grads {
		if err := be.CopyCols(dqkvp, i*D, g, 0, D, false); err != nil {
			return err
		}
	}
	dqkv := dqkvp
	if ctx.padIDs != nil {
		if dqkv, err = zeros(ctx.b, ctx.t, 3*D); err != nil {
			return err
		}
		if err := scatterRows(be, dqkv, dqkvp, ctx.padIDs); err != nil {
			return err
		}
	}
	return a.InProj.Backward(ctx.in, dqkv, dx)
}

// blockLengths returns the key length of every attention block: block j of
// sequence b holds positions [j·W, (j+1)·W) and sees the valid ones among
// them. With one block per sequence and no padding it returns lengths.
func blockLengths(lengths []int32, b, t, w, blocks int) []int32 {
	if blocks == 1 && w == t {
		return lengths
	}
	out := make([]int32, b*blocks)
	for i := range b {
		n := t
		if lengths != nil {
			n = int(lengths[i])
		}
		for j := range blocks {
			out[i*blocks+j] = int32(min(max(n-j*w, 0), w))
		}
	}
	return out
}

// padIDs maps the rows of a [B, tp] padded layout to rows of [B, t]
// (positions past t repeat the sequence's last row; their keys are masked
// and their outputs dropped) and back.
func padIDs(b, t, tp int) (pad, back []int32) {
	pad = make([]int32, b*tp)
	back = make([]int32, b*t)
	for i := range b {
		for j := range tp {
			pad[i*tp+j] = int32(i*t + min(j, t-1))
		}
		for j := range t {
			back[i*t+j] = int32(i*tp + j)
		}
	}
	return pad, back
}
