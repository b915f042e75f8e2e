package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/bingli/bingli/core/tensor"
)

// Linear is y = x·Wᵀ + b with W [Out, In] in PyTorch's layout
// (torch.nn.Linear; parameters "<name>.weight" and "<name>.bias"). Inputs
// are [..., In]; every leading dimension is a batch dimension.
type Linear struct {
	Weight  *Parameter
	Bias    *Parameter // nil without bias
	In, Out int

	be tensor.Backend
}

// LinearCtx is what Linear.Backward needs from a Forward call.
type LinearCtx struct {
	be tensor.Backend
	x  *tensor.Tensor
	// Y is the forward's output, owned by the context.
	Y *tensor.Tensor
}

// Free releases the context's output.
func (c *LinearCtx) Free() { c.be.Free(c.Y) }

// NewLinear returns a linear layer with Xavier-uniform weights and a zero
// bias.
func NewLinear(be tensor.Backend, name string, in, out int, bias bool, r *rand.Rand) (*Linear, error) {
	biasName := ""
	if bias {
		biasName = join(name, "bias")
	}
	return newLinear(be, join(name, "weight"), biasName, in, out, r)
}

// newLinear names the parameters explicitly (an empty biasName means no
// bias), for layers that follow PyTorch names such as "in_proj_weight".
func newLinear(be tensor.Backend, weightName, biasName string, in, out int, r *rand.Rand) (*Linear, error) {
	if in < 1 || out < 1 {
		return nil, fmt.Errorf("nn: linear %q: %d inputs, %d outputs: %w", weightName, in, out, tensor.ErrArgument)
	}
	w, err := NewParameter(be, weightName, out, in)
	if err != nil {
		return nil, err
	}
	if err := InitXavierUniform(be, w.Value, r); err != nil {
		return nil, err
	}
	l := &Linear{Weight: w, In: in, Out: out, be: be}
	if biasName != "" {
		if l.Bias, err = NewParameter(be, biasName, out); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Parameters implements Module.
func (l *Linear) Parameters() []*Parameter {
	if l.Bias == nil {
		return []*Parameter{l.Weight}
	}
	return []*Parameter{l.Weight, l.Bias}
}

// Forward returns y = x·Wᵀ + b, [..., Out] for x [..., In].
func (l *Linear) Forward(x *tensor.Tensor) (*tensor.Tensor, *LinearCtx, error) {
	if x == nil || x.Rank() == 0 || x.Dim(-1) != l.In {
		return nil, nil, fmt.Errorf("nn: linear %q: input %v, want [..., %d]: %w", l.Weight.Name, x, l.In, tensor.ErrShape)
	}
	shape := x.Shape()
	shape[len(shape)-1] = l.Out
	y, err := l.be.New(shape...)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: linear %q: %w", l.Weight.Name, err)
	}
	var bias *tensor.Tensor
	if l.Bias != nil {
		bias = l.Bias.Value
	}
	if err := tensor.Linear(l.be, y, x, l.Weight.Value, bias, 0); err != nil {
		l.be.Free(y)
		return nil, nil, fmt.Errorf("nn: linear %q: %w", l.Weight.Name, err)
	}
	return y, &LinearCtx{be: l.be, x: x, Y: y}, nil
}

// Backward accumulates dW += dyᵀ·x, db += Σ dy and, when dx is non-nil,
// dx += dy·W. dy has the output's shape, dx the input's.
func (l *Linear) Backward(ctx *LinearCtx, dy, dx *tensor.Tensor) error {
	if ctx == nil {
		return fmt.Errorf("nn: linear %q backward: nil context: %w", l.Weight.Name, tensor.ErrArgument)
	}
	if dy == nil || !dy.HasShape(ctx.Y.Shape()...) {
		return fmt.Errorf("nn: linear %q backward: dy %v, want %v: %w", l.Weight.Name, dy, ctx.Y, tensor.ErrShape)
	}
	if err := l.be.MatMul(true, false, 1, dy, ctx.x, 1, l.Weight.Grad); err != nil {
		return fmt.Errorf("nn: linear %q backward: %w", l.Weight.Name, err)
	}
	if l.Bias != nil {
		if err := l.be.AddBiasBackward(l.Bias.Grad, dy); err != nil {
			return fmt.Errorf("nn: linear %q backward: %w", l.Weight.Name, err)
		}
	}
	if dx == nil {
		return nil
	}
	if !dx.HasShape(ctx.x.Shape()...) {
		return fmt.Errorf("nn: linear %q backward: dx %v, want %v: %w", l.Weight.Name, dx, ctx.x, tensor.ErrShape)
	}
	if err := l.be.MatMul(false, false, 1, dy, l.Weight.Value, 1, dx); err != nil {
		return fmt.Errorf("nn: linear %q backward: %w", l.Weight.Name, err)
	}
	return nil
}
