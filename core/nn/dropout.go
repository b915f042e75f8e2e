package nn

import (
	"fmt"

	"github.com/bingli/bingli/core/tensor"
)

// Dropout zeroes each element with probability P in training and scales
// the survivors by 1/(1−P); in evaluation it is the identity. Its mask is
// the backend's counter-based function of (Seed, Offset + i): every call
// in training advances Offset by the input's size, so a run is
// reproducible from its seed (and from the saved Offset when resuming),
// and every backend draws the same masks.
type Dropout struct {
	P        float32
	Seed     uint64
	Offset   uint64
	Training bool

	be tensor.Backend
}

// DropoutCtx is what Dropout.Backward needs from a Forward call.
type DropoutCtx struct {
	be     tensor.Backend
	p      float32
	seed   uint64
	offset uint64
	masked bool
	// Y is the forward's output; owned by the context only when masked
	// (in evaluation Y is the input itself).
	Y *tensor.Tensor
}

// Free releases the context's output if the context owns it.
func (c *DropoutCtx) Free() {
	if c.masked {
		c.be.Free(c.Y)
	}
}

// NewDropout returns a dropout layer in training mode; 0 ≤ p < 1.
func NewDropout(be tensor.Backend, p float32, seed uint64) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("nn: dropout probability %v outside [0, 1): %w", p, tensor.ErrArgument)
	}
	return &Dropout{P: p, Seed: seed, Training: true, be: be}, nil
}

// Forward applies dropout. In evaluation (or with P = 0) the output is x
// itself, not a copy.
func (d *Dropout) Forward(x *tensor.Tensor) (*tensor.Tensor, *DropoutCtx, error) {
	if x == nil {
		return nil, nil, fmt.Errorf("nn: dropout: nil input: %w", tensor.ErrArgument)
	}
	if !d.Training || d.P == 0 {
		return x, &DropoutCtx{be: d.be, Y: x}, nil
	}
	y, err := d.be.New(x.Shape()...)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: dropout: %w", err)
	}
	if err := d.be.Dropout(y, x, d.P, d.Seed, d.Offset); err != nil {
		d.be.Free(y)
		return nil, nil, fmt.Errorf("nn: dropout: %w", err)
	}
	ctx := &DropoutCtx{be: d.be, p: d.P, seed: d.Seed, offset: d.Offset, masked: true, Y: y}
	d.Offset += uint64(x.Size())
	return y, ctx, nil
}

// Backward accumulates dx += dy ⊙ mask/(1−P) with the forward's mask.
func (d *Dropout) Backward(ctx *DropoutCtx, dy, dx *tensor.Tensor) error {
	if ctx == nil {
		return fmt.Errorf("nn: dropout backward: nil context: %w", tensor.ErrArgument)
	}
	var err error
	if ctx.masked {
		err = d.be.DropoutBackward(dx, dy, ctx.p, ctx.seed, ctx.offset)
	} else {
		err = d.be.AddScaled(dx, dy, 1)
	}
	if err != nil {
		return fmt.Errorf("nn: dropout backward: %w", err)
	}
	return nil
}
