package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/bingli/bingli/core/tensor"
)

// NoPadding disables an Embedding's padding row.
const NoPadding = -1

// Embedding maps ids to rows of a [Vocab, Dim] table (torch.nn.Embedding;
// parameter "<name>.weight"). If PaddingIdx is a valid id, its row starts
// at zero and never receives a gradient, so it stays zero under AdamW
// (the optimizer's default rule exempts embeddings from weight decay).
type Embedding struct {
	Weight     *Parameter
	Vocab, Dim int
	PaddingIdx int

	be   tensor.Backend
	zero *tensor.Tensor // [1, Dim] zeros that overwrite the padding row's gradient
}

// EmbeddingCtx is what Embedding.Backward needs from a Forward call.
type EmbeddingCtx struct {
	be  tensor.Backend
	ids []int32
	// Y is the forward's output, owned by the context.
	Y *tensor.Tensor
}

// Free releases the context's output.
func (c *EmbeddingCtx) Free() { c.be.Free(c.Y) }

// NewEmbedding returns an embedding with weights drawn from N(0, std²)
// (PyTorch uses std = 1; BERT 0.02). paddingIdx is NoPadding or an id in
// [0, vocab).
func NewEmbedding(be tensor.Backend, name string, vocab, dim, paddingIdx int, std float64, r *rand.Rand) (*Embedding, error) {
	if vocab < 1 || dim < 1 || paddingIdx < NoPadding || paddingIdx >= vocab {
		return nil, fmt.Errorf("nn: embedding %q: vocab %d, dim %d, padding %d: %w", name, vocab, dim, paddingIdx, tensor.ErrArgument)
	}
	w, err := NewParameter(be, join(name, "weight"), vocab, dim)
	if err != nil {
		return nil, err
	}
	data := make([]float32, vocab*dim)
	for i := range data {
		data[i] = float32(std * r.NormFloat64())
	}
	e := &Embedding{Weight: w, Vocab: vocab, Dim: dim, PaddingIdx: paddingIdx, be: be}
	if paddingIdx != NoPadding {
		clear(data[paddingIdx*dim : (paddingIdx+1)*dim])
		if e.zero, err = be.New(1, dim); err != nil {
			return nil, fmt.Errorf("nn: embedding %q: %w", name, err)
		}
	}
	if err := be.Upload(w.Value, data); err != nil {
		return nil, fmt.Errorf("nn: embedding %q: %w", name, err)
	}
	return e, nil
}

// Parameters implements Module.
func (e *Embedding) Parameters() []*Parameter { return []*Parameter{e.Weight} }

// Forward gathers the rows of ids. lead is the shape of ids (for example
// [T, B]); the output is [lead..., Dim]. With no lead the output is
// [len(ids), Dim]. Ids outside [0, Vocab) are an error.
func (e *Embedding) Forward(ids []int32, lead ...int) (*tensor.Tensor, *EmbeddingCtx, error) {
	if len(lead) == 0 {
		lead = []int{len(ids)}
	}
	if n, err := tensor.SizeOf(lead); err != nil || n != len(ids) {
		return nil, nil, fmt.Errorf("nn: embedding %q: %d ids do not fill shape %v: %w", e.Weight.Name, len(ids), lead, tensor.ErrShape)
	}
	y, err := e.be.New(append(append([]int(nil), lead...), e.Dim)...)
	if err != nil {
		return nil, nil, fmt.Errorf("nn: embedding %q: %w", e.Weight.Name, err)
	}
	if err := e.be.Embedding(y, e.Weight.Value, ids); err != nil {
		e.be.Free(y)
		return nil, nil, fmt.Errorf("nn: embedding %q: %w", e.Weight.Name, err)
	}
	return y, &EmbeddingCtx{be: e.be, ids: append([]int32(nil), ids...), Y: y}, nil
}

// Backward scatter-adds dy (the shape of the forward's output) into the
// weight gradient; the padding row's gradient is reset to zero.
func (e *Embedding) Backward(ctx *EmbeddingCtx, dy *tensor.Tensor) error {
	if ctx == nil {
		return fmt.Errorf("nn: embedding %q backward: nil context: %w", e.Weight.Name, tensor.ErrArgument)
	}
	if err := e.be.EmbeddingBackward(e.Weight.Grad, dy, ctx.ids); err != nil {
		return fmt.Errorf("nn: embedding %q backward: %w", e.Weight.Name, err)
	}
	if e.PaddingIdx == NoPadding {
		return nil
	}
	// Viewed as one row, the padding row is a block of columns.
	flat, err := e.Weight.Grad.Reshape(1, e.Vocab*e.Dim)
	if err == nil {
		err = e.be.CopyCols(flat, e.PaddingIdx*e.Dim, e.zero, 0, e.Dim, false)
	}
	if err != nil {
		return fmt.Errorf("nn: embedding %q backward: padding row: %w", e.Weight.Name, err)
	}
	return nil
}
