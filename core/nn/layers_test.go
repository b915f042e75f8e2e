package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/nn/gradcheck"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// newBackend returns a single-threaded CPU backend: the test shapes are
// tiny, and goroutines only add scheduling noise on a loaded machine.
func newBackend() tensor.Backend { return cpu.New(1) }

// randomize overwrites t with N(0, std²) values.
func randomize(t *testing.T, be tensor.Backend, x *tensor.Tensor, std float64, r *rand.Rand) {
	t.Helper()
	if err := nn.InitNormal(be, x, 0, std, r); err != nil {
		t.Fatal(err)
	}
}

// input returns a random input wrapped as a Parameter, so that gradcheck
// checks its gradient alongside the layer's parameters.
func input(t *testing.T, be tensor.Backend, name string, r *rand.Rand, shape ...int) *nn.Parameter {
	t.Helper()
	p, err := nn.NewParameter(be, name, shape...)
	if err != nil {
		t.Fatal(err)
	}
	randomize(t, be, p.Value, 1, r)
	return p
}

// probeLoss runs forward, applies a Probe to its output and, for the
// backward pass, hands the probe's gradient to backward.
func probeLoss(t *testing.T, be tensor.Backend, shape []int, forward func() (*tensor.Tensor, error), backward func(dy *tensor.Tensor) error) gradcheck.Func {
	t.Helper()
	probe, err := gradcheck.NewProbe(be, 99, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return func(grad bool) (float64, error) {
		y, err := forward()
		if err != nil {
			return 0, err
		}
		loss, err := probe.Loss(be, y)
		if err != nil || !grad {
			return loss, err
		}
		return loss, backward(probe.Grad())
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// gradCase builds a layer and returns the loss and the tensors to check.
type gradCase struct {
	name  string
	build func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter)
}

func rnnCase(cell nn.Cell, bidirectional bool) func(*testing.T, tensor.Backend, *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
	return func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
		const T, B, In, H = 4, 3, 3, 2
		cfg := nn.RNNConfig{Cell: cell, Input: In, Hidden: H, Bidirectional: bidirectional}
		l := must[*nn.RNN](t)(nn.NewRNN(be, "rnn", cfg, r))
		x := input(t, be, "x", r, T, B, In)
		lengths := []int32{4, 1, 3} // unequal, one shorter than T by several steps
		var ctx *nn.RNNCtx
		f := probeLoss(t, be, []int{T, B, l.OutputDim()}, func() (y *tensor.Tensor, err error) {
			y, ctx, err = l.Forward(x.Value, lengths)
			return y, err
		}, func(dy *tensor.Tensor) error { return l.Backward(ctx, dy, x.Grad) })
		return f, append(l.Parameters(), x)
	}
}

func attentionCase(window, T int, lengths []int32) func(*testing.T, tensor.Backend, *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
	return func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
		const B, D = 2, 4
		a := must[*nn.SelfAttention](t)(nn.NewSelfAttention(be, "attn", nn.AttentionConfig{Dim: D, Heads: 2, Window: window}, r))
		// Non-zero biases so that their gradients are exercised through
		// every path.
		randomize(t, be, a.InProj.Bias.Value, 0.5, r)
		randomize(t, be, a.OutProj.Bias.Value, 0.5, r)
		x := input(t, be, "x", r, B, T, D)
		var ctx *nn.AttentionCtx
		f := probeLoss(t, be, []int{B, T, D}, func() (y *tensor.Tensor, err error) {
			y, ctx, err = a.Forward(x.Value, lengths)
			return y, err
		}, func(dy *tensor.Tensor) error { return a.Backward(ctx, dy, x.Grad) })
		return f, append(a.Parameters(), x)
	}
}

func TestGradients(t *testing.T) {
	cases := []gradCase{
		{"Embedding", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			e := must[*nn.Embedding](t)(nn.NewEmbedding(be, "emb", 5, 3, nn.NoPadding, 1, r))
			ids := []int32{1, 4, 1, 0, 2, 1} // repeated ids accumulate
			var ctx *nn.EmbeddingCtx
			f := probeLoss(t, be, []int{3, 2, 3}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = e.Forward(ids, 3, 2)
				return y, err
			}, func(dy *tensor.Tensor) error { return e.Backward(ctx, dy) })
			return f, e.Parameters()
		}},
		{"Linear", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			l := must[*nn.Linear](t)(nn.NewLinear(be, "fc", 4, 3, true, r))
			randomize(t, be, l.Bias.Value, 0.5, r)
			x := input(t, be, "x", r, 2, 3, 4)
			var ctx *nn.LinearCtx
			f := probeLoss(t, be, []int{2, 3, 3}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = l.Forward(x.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return l.Backward(ctx, dy, x.Grad) })
			return f, append(l.Parameters(), x)
		}},
		{"LinearNoBias", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			l := must[*nn.Linear](t)(nn.NewLinear(be, "fc", 3, 2, false, r))
			x := input(t, be, "x", r, 4, 3)
			var ctx *nn.LinearCtx
			f := probeLoss(t, be, []int{4, 2}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = l.Forward(x.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return l.Backward(ctx, dy, x.Grad) })
			return f, append(l.Parameters(), x)
		}},
		{"LayerNorm", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			l := must[*nn.LayerNorm](t)(nn.NewLayerNorm(be, "norm", 5, 1e-5))
			randomize(t, be, l.Weight.Value, 1, r)
			randomize(t, be, l.Bias.Value, 1, r)
			x := input(t, be, "x", r, 3, 5)
			var ctx *nn.LayerNormCtx
			f := probeLoss(t, be, []int{3, 5}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = l.Forward(x.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return l.Backward(ctx, dy, x.Grad) })
			return f, append(l.Parameters(), x)
		}},
		{"LayerNormResidual", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			l := must[*nn.LayerNorm](t)(nn.NewLayerNorm(be, "norm", 4, 1e-5))
			randomize(t, be, l.Weight.Value, 1, r)
			x := input(t, be, "x", r, 2, 3, 4)
			res := input(t, be, "r", r, 2, 3, 4)
			var ctx *nn.LayerNormCtx
			f := probeLoss(t, be, []int{2, 3, 4}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = l.ForwardResidual(x.Value, res.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return l.BackwardResidual(ctx, dy, x.Grad, res.Grad) })
			return f, append(l.Parameters(), x, res)
		}},
		{"DropoutEval", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			d := must[*nn.Dropout](t)(nn.NewDropout(be, 0.5, 1))
			d.Training = false
			x := input(t, be, "x", r, 3, 4)
			var ctx *nn.DropoutCtx
			f := probeLoss(t, be, []int{3, 4}, func() (y *tensor.Tensor, err error) {
				y, ctx, err = d.Forward(x.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return d.Backward(ctx, dy, x.Grad) })
			return f, []*nn.Parameter{x}
		}},
		{"DropoutFixedMask", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			d := must[*nn.Dropout](t)(nn.NewDropout(be, 0.3, 7))
			x := input(t, be, "x", r, 3, 4)
			var ctx *nn.DropoutCtx
			f := probeLoss(t, be, []int{3, 4}, func() (y *tensor.Tensor, err error) {
				d.Offset = 40 // the same mask on every evaluation
				y, ctx, err = d.Forward(x.Value)
				return y, err
			}, func(dy *tensor.Tensor) error { return d.Backward(ctx, dy, x.Grad) })
			return f, []*nn.Parameter{x}
		}},
		{"SwapLeading", func(t *testing.T, be tensor.Backend, r *rand.Rand) (gradcheck.Func, []*nn.Parameter) {
			x := input(t, be, "x", r, 3, 2, 4)
			f := probeLoss(t, be, []int{2, 3, 4}, func() (*tensor.Tensor, error) {
				return nn.SwapLeading(be, x.Value)
			}, func(dy *tensor.Tensor) error { return nn.SwapLeadingBackward(be, x.Grad, dy) })
			return f, []*nn.Parameter{x}
		}},
		{"GRU", rnnCase(nn.GRU, false)},
		{"BiGRU", rnnCase(nn.GRU, true)},
		{"LSTM", rnnCase(nn.LSTM, false)},
		{"BiLSTM", rnnCase(nn.LSTM, true)},
		{"AttentionFull", attentionCase(0, 5, []int32{5, 3})},
		{"AttentionFullNoLengths", attentionCase(0, 3, nil)},
		{"AttentionWindowedPadded", attentionCase(2, 5, []int32{5, 3})},
		{"AttentionWindowedExact", attentionCase(2, 4, []int32{1, 4})},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := newBackend()
			f, targets := c.build(t, be, nn.NewRNG(uint64(i)+1))
			results, err := gradcheck.Check(be, f, targets, gradcheck.Options{Seed: uint64(i), MaxElems: 64})
			for _, res := range results {
				t.Logf("%-28s %3d elements  rel. error %.2e", res.Name, len(res.Indices), res.RelErr)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
