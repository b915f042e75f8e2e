package nn

import (
	"fmt"

	"github.com/bingli/bingli/core/tensor"
)

// LayerNorm normalises the last dimension: y = (x − μ)/√(σ² + Eps) ⊙ γ + β
// (torch.nn.LayerNorm; parameters "<name>.weight" = γ, initialised to
// one, and "<name>.bias" = β, zero). ForwardResidual is the fused
// post-norm residual step y = LayerNorm(x + r) of a transformer block.
type LayerNorm struct {
	Weight, Bias *Parameter
	Dim          int
	Eps          float32

	be tensor.Backend
}

// LayerNormCtx is what LayerNorm's backward needs from a forward call.
type LayerNormCtx struct {
	be         tensor.Backend
	x          *tensor.Tensor // the normalised input (x + r for the residual form)
	mean, rstd *tensor.Tensor
	residual   bool
	// Y is the forward's output, owned by the context.
	Y *tensor.Tensor
}

// Free releases the context's output and statistics.
func (c *LayerNormCtx) Free() {
	c.be.Free(c.Y)
	c.be.Free(c.mean)
	c.be.Free(c.rstd)
	if c.residual {
		c.be.Free(c.x)
	}
}

// NewLayerNorm returns a layer norm over dim features (PyTorch's default
// eps is 1e-5; BERT uses 1e-12).
func NewLayerNorm(be tensor.Backend, name string, dim int, eps float32) (*LayerNorm, error) {
	if dim < 1 || !(eps > 0) {
		return nil, fmt.Errorf("nn: layer norm %q: dim %d, eps %v: %w", name, dim, eps, tensor.ErrArgument)
	}
	w, err := NewParameter(be, join(name, "weight"), dim)
	if err != nil {
		return nil, err
	}
	if err := be.Fill(w.Value, 1); err != nil {
		return nil, fmt.Errorf("nn: layer norm %q: %w", name, err)
	}
	b, err := NewParameter(be, join(name, "bias"), dim)
	if err != nil {
		return nil, err
	}
	return &LayerNorm{Weight: w, Bias: b, Dim: dim, Eps: eps, be: be}, nil
}

// Parameters implements Module.
func (l *LayerNorm) Parameters() []*Parameter { return []*Parameter{l.Weight, l.Bias} }

// Forward normalises x [..., Dim].
func (l *LayerNorm) Forward(x *tensor.Tensor) (*tensor.Tensor, *LayerNormCtx, error) {
	ctx, err := l.alloc(x)
	if err != nil {
		return nil, nil, err
	}
	ctx.x = x
	if err := l.be.LayerNorm(ctx.Y, ctx.mean, ctx.rstd, x, l.Weight.Value, l.Bias.Value, l.Eps); err != nil {
		ctx.Free()
		return nil, nil, fmt.Errorf("nn: layer norm %q: %w", l.Weight.Name, err)
	}
	return ctx.Y, ctx, nil
}

// ForwardResidual returns LayerNorm(x + r); x and r are [..., Dim].
func (l *LayerNorm) ForwardResidual(x, r *tensor.Tensor) (*tensor.Tensor, *LayerNormCtx, error) {
	ctx, err := l.alloc(x)
	if err != nil {
		return nil, nil, err
	}
	ctx.residual = true
	if ctx.x, err = l.be.New(x.Shape()...); err == nil {
		err = l.be.AddLayerNorm(ctx.Y, ctx.x, ctx.mean, ctx.rstd, x, r, l.Weight.Value, l.Bias.Value, l.Eps)
	}
	if err != nil {
		ctx.Free()
		return nil, nil, fmt.Errorf("nn: layer norm %q: %w", l.Weight.Name, err)
	}
	return ctx.Y, ctx, nil
}

func (l *LayerNorm) alloc(x *tensor.Tensor) (*LayerNormCtx, error) {
	if x == nil || x.Rank() == 0 || x.Dim(-1) != l.Dim {
		return nil, fmt.Errorf("nn: layer norm %q: input %v, want [..., %d]: %w", l.Weight.Name, x, l.Dim, tensor.ErrShape)
	}
	rows, _ := x.Matrix()
	ctx := &LayerNormCtx{be: l.be}
	var err error
	if ctx.Y, err = l.be.New(x.Shape()...); err != nil {
		return nil, fmt.Errorf("nn: layer norm %q: %w", l.Weight.Name, err)
	}
	if ctx.mean, err = l.be.New(rows); err == nil {
		ctx.rstd, err = l.be.New(rows)
	}
	if err != nil {
		ctx.Free()
		return nil, fmt.Errorf("nn: layer norm %q: %w", l.Weight.Name, err)
	}
	return ctx, nil
}

// Backward accumulates the parameter gradients and, when dx is non-nil,
// the input gradient of a Forward call.
func (l *LayerNorm) Backward(ctx *LayerNormCtx, dy, dx *tensor.Tensor) error {
	if ctx == nil || ctx.residual {
		return fmt.Errorf("nn: layer norm %q backward: needs a Forward context: %w", l.Weight.Name, tensor.ErrArgument)
	}
	return l.backward(ctx, dy, dx, nil)
}

// BackwardResidual accumulates the parameter gradients and the gradient of
// x + r into dx and dr (either may be nil, or both the same tensor) of a
// ForwardResidual call.
func (l *LayerNorm) BackwardResidual(ctx *LayerNormCtx, dy, dx, dr *tensor.Tensor) error {
	if ctx == nil || !ctx.residual {
		return fmt.Errorf("nn: layer norm %q backward: needs a ForwardResidual context: %w", l.Weight.Name, tensor.ErrArgument)
	}
	return l.backward(ctx, dy, dx, dr)
}

func (l *LayerNorm) backward(ctx *LayerNormCtx, dy, dx, dr *tensor.Tensor) error {
	// The backend ops require their input-gradient destinations; a scratch
	// tensor stands in for an unwanted one.
	var scratch []*tensor.Tensor
	defer func() {
		for _, s := range scratch {
			l.be.Free(s)
		}
	}()
	need := func(t *tensor.Tensor) (*tensor.Tensor, error) {
		if t != nil {
			return t, nil
		}
		s, err := l.be.New(ctx.x.Shape()...)
		scratch = append(scratch, s)
		return s, err
	}
	var err error
	if dx, err = need(dx); err != nil {
		return fmt.Errorf("nn: layer norm %q backward: %w", l.Weight.Name, err)
	}
	w, b := l.Weight, l.Bias
	if ctx.residual {
		if dr, err = need(dr); err == nil {
			err = l.be.AddLayerNormBackward(dx, dr, w.Grad, b.Grad, dy, ctx.x, ctx.mean, ctx.rstd, w.Value)
		}
	} else {
		err = l.be.LayerNormBackward(dx, w.Grad, b.Grad, dy, ctx.x, ctx.mean, ctx.rstd, w.Value)
	}
	if err != nil {
		return fmt.Errorf("nn: layer norm %q backward: %w", l.Weight.Name, err)
	}
	return nil
}
