package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bingli/bingli/core/tensor"
)

// Cell selects the recurrence of an RNN layer.
type Cell int

// The recurrent cells, with PyTorch's gate order (see tensor.RNNWeights).
const (
	GRU Cell = iota + 1
	LSTM
)

// String names the cell.
func (c Cell) String() string {
	switch c {
	case GRU:
		return "GRU"
	case LSTM:
		return "LSTM"
	}
	return "Cell(?)"
}

// gates is the number of gate blocks, workWidth the backend workspace
// width in multiples of H.
func (c Cell) gates() (gates, workWidth int) {
	if c == LSTM {
		return 4, tensor.LSTMWorkWidth
	}
	return 3, tensor.GRUWorkWidth
}

// RNNConfig describes one recurrent layer.
type RNNConfig struct {
	Cell          Cell
	Input, Hidden int
	Bidirectional bool
	// Layer is the index k in the parameter names (weight_ih_l{k}); stack
	// single layers under one prefix with k = 0, 1, ... to mirror a
	// PyTorch module with num_layers > 1.
	Layer int
}

// RNN is one uni- or bidirectional GRU or LSTM layer over time-major padded
// batches, [T, B, Input] → [T, B, D·Hidden] with D = 2 when bidirectional:
// the forward direction fills columns [0, H), the reverse one [H, 2H), as
// PyTorch's output. Parameter names are PyTorch's (nn.GRU / nn.LSTM):
// "<name>.weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", and
// the same with the suffix "_reverse" for the reverse direction. Weights
// and biases start at U(±1/√Hidden), as in PyTorch.
type RNN struct {
	RNNConfig
	// Dirs holds the forward direction and, when bidirectional, the
	// reverse one.
	Dirs []RNNDirection

	be tensor.Backend
}

// RNNDirection holds one direction's parameters.
type RNNDirection struct {
	WeightIH, WeightHH, BiasIH, BiasHH *Parameter
}

func (d *RNNDirection) values() tensor.RNNWeights {
	return tensor.RNNWeights{WIH: d.WeightIH.Value, WHH: d.WeightHH.Value, BIH: d.BiasIH.Value, BHH: d.BiasHH.Value}
}

func (d *RNNDirection) grads() tensor.RNNWeights {
	return tensor.RNNWeights{WIH: d.WeightIH.Grad, WHH: d.WeightHH.Grad, BIH: d.BiasIH.Grad, BHH: d.BiasHH.Grad}
}

// RNNCtx is what RNN.Backward needs from a Forward call.
type RNNCtx struct {
	be      tensor.Backend
	seqs    []tensor.RNNSequence
	lengths []int32
	// Y is the forward's output, owned by the context.
	Y *tensor.Tensor
}

// Free releases the context's output and workspaces.
func (c *RNNCtx) Free() {
	c.be.Free(c.Y)
	for _, s := range c.seqs {
		c.be.Free(s.Work)
	}
}

// NewRNN returns a recurrent layer with PyTorch's initialisation.
func NewRNN(be tensor.Backend, name string, cfg RNNConfig, r *rand.Rand) (*RNN, error) {
	if (cfg.Cell != GRU && cfg.Cell != LSTM) || cfg.Input < 1 || cfg.Hidden < 1 || cfg.Layer < 0 {
		return nil, fmt.Errorf("nn: rnn %q: config %+v: %w", name, cfg, tensor.ErrArgument)
	}
	l := &RNN{RNNConfig: cfg, be: be}
	gates, _ := cfg.Cell.gates()
	g, h := gates*cfg.Hidden, cfg.Hidden
	bound := 1 / math.Sqrt(float64(h))
	suffixes := []string{""}
	if cfg.Bidirectional {
		suffixes = append(suffixes, "_reverse")
	}
	for _, suf := range suffixes {
		var d RNNDirection
		for _, p := range []struct {
			dst   **Parameter
			kind  string
			shape []int
		}{
			{&d.WeightIH, "weight_ih", []int{g, cfg.Input}},
			{&d.WeightHH, "weight_hh", []int{g, h}},
			{&d.BiasIH, "bias_ih", []int{g}},
			{&d.BiasHH, "bias_hh", []int{g}},
		} {
			param, err := NewParameter(be, join(name, fmt.Sprintf("%s_l%d%s", p.kind, cfg.Layer, suf)), p.shape...)
			if err != nil {
				return nil, err
			}
			if err := InitUniform(be, param.Value, bound, r); err != nil {
				return nil, err
			}
			*p.dst = param
		}
		l.Dirs = append(l.Dirs, d)
	}
	return l, nil
}

// Parameters implements Module.
func (l *RNN) Parameters() []*Parameter {
	var ps []*Parameter
	for _, d := range l.Dirs {
		ps = append(ps, d.WeightIH, d.WeightHH, d.BiasIH, d.BiasHH)
	}
	return ps
}

// OutputDim is the output feature size, D·Hidden.
func (l *RNN) OutputDim() int { return len(l.Dirs) * l.Hidden }

// Forward runs the layer over x [T, B, Input]. lengths holds B valid
// lengths in [0, T] (nil: all T); outputs at padded positions are zero and
// the reverse direction starts at each sequence's last valid position.
func (l *RNN) Forward(x *tensor.Tensor, lengths []int32) (*tensor.Tensor, *RNNCtx, error) {
	if x == nil || x.Rank() != 3 || x.Dim(2) != l.Input {
		return nil, nil, fmt.Errorf("nn: rnn %q: input %v, want [T, B, %d]: %w", l.name(), x, l.Input, tensor.ErrShape)
	}
	return l.run(x.Dim(0), x.Dim(1), lengths, func(_ int, seq *tensor.RNNSequence) { seq.X = x })
}

// ProjectTable returns, for each direction, the rows its input projection takes from a
// symbol whose embedding (a row of table, [V, width]) fills input columns [col, col+width):
// table·WIH[:, col:col+width]ᵀ, plus BIH when withBias, [V, G·H] each. When the layer's input
// is a concatenation of embedding blocks, the projection of a position is the sum of one row
// per block (BIH added to exactly one of them): ForwardProjected then replaces a product of
// In·G·H multiply-adds per position by G·H additions per block. Float32 sums in another
// order than the product's, so results agree to rounding, not bit for bit.
func (l *RNN) ProjectTable(table *tensor.Tensor, col int, withBias bool) ([]*tensor.Tensor, error) {
	if table == nil || table.Rank() != 2 || col < 0 || col+table.Dim(1) > l.Input {
		return nil, fmt.Errorf("nn: rnn %q: table %v cannot fill input columns from %d of %d: %w", l.name(), table, col, l.Input, tensor.ErrShape)
	}
	width := table.Dim(1)
	var out []*tensor.Tensor
	fail := func(err error) ([]*tensor.Tensor, error) {
		for _, t := range out {
			l.be.Free(t)
		}
		return nil, fmt.Errorf("nn: rnn %q: project table: %w", l.name(), err)
	}
	for _, d := range l.Dirs {
		w := d.values()
		g := w.WIH.Dim(0)
		sub, err := l.be.New(g, width)
		if err != nil {
			return fail(err)
		}
		p, err := l.be.New(table.Dim(0), g)
		if err == nil {
			out = append(out, p)
			if err = l.be.CopyCols(sub, 0, w.WIH, col, width, false); err == nil {
				err = l.be.MatMul(false, true, 1, table, sub, 0, p)
			}
			if err == nil && withBias {
				err = l.be.AddBias(p, p, w.BIH)
			}
		}
		l.be.Free(sub)
		if err != nil {
			return fail(err)
		}
	}
	return out, nil
}

// ForwardProjected is Forward with each direction's input projection given, xw[i] [T, B,
// G·H] for direction i (tensor.RNNSequence.XW; ProjectTable builds the rows). Inference
// only: Backward refuses its context.
func (l *RNN) ForwardProjected(xw []*tensor.Tensor, lengths []int32) (*tensor.Tensor, *RNNCtx, error) {
	if len(xw) != len(l.Dirs) || xw[0] == nil || xw[0].Rank() != 3 {
		return nil, nil, fmt.Errorf("nn: rnn %q: %d input projections for %d directions: %w", l.name(), len(xw), len(l.Dirs), tensor.ErrShape)
	}
	return l.run(xw[0].Dim(0), xw[0].Dim(1), lengths, func(i int, seq *tensor.RNNSequence) { seq.XW = xw[i] })
}

// run runs every direction over [T, B] positions, input set on each sequence by input.
func (l *RNN) run(T, B int, lengths []int32, input func(dir int, seq *tensor.RNNSequence)) (*tensor.Tensor, *RNNCtx, error) {
	ctx := &RNNCtx{be: l.be}
	if lengths != nil {
		ctx.lengths = append([]int32(nil), lengths...)
	}
	var err error
	if ctx.Y, err = l.be.New(T, B, l.OutputDim()); err != nil {
		return nil, nil, fmt.Errorf("nn: rnn %q: %w", l.name(), err)
	}
	_, width := l.Cell.gates()
	for i, d := range l.Dirs {
		seq := tensor.RNNSequence{Lengths: ctx.lengths, Reverse: i == 1, Out: ctx.Y, OutCol: i * l.Hidden}
		input(i, &seq)
		if seq.Work, err = l.be.New(T, B, width*l.Hidden); err != nil {
			ctx.Free()
			return nil, nil, fmt.Errorf("nn: rnn %q: %w", l.name(), err)
		}
		ctx.seqs = append(ctx.seqs, seq)
		if l.Cell == LSTM {
			err = l.be.LSTM(d.values(), &seq)
		} else {
			err = l.be.GRU(d.values(), &seq)
		}
		if err != nil {
			ctx.Free()
			return nil, nil, fmt.Errorf("nn: rnn %q: %w", l.name(), err)
		}
	}
	return ctx.Y, ctx, nil
}

// Backward accumulates the parameter gradients and, when dx is non-nil,
// the input gradient, from dy ([T, B, D·Hidden]; values at padded
// positions are ignored).
func (l *RNN) Backward(ctx *RNNCtx, dy, dx *tensor.Tensor) error {
	if ctx == nil || len(ctx.seqs) != len(l.Dirs) {
		return fmt.Errorf("nn: rnn %q backward: needs this layer's Forward context: %w", l.name(), tensor.ErrArgument)
	}
	if dy == nil || !dy.HasShape(ctx.Y.Shape()...) {
		return fmt.Errorf("nn: rnn %q backward: dy %v, want %v: %w", l.name(), dy, ctx.Y, tensor.ErrShape)
	}
	if ctx.seqs[0].X == nil {
		return fmt.Errorf("nn: rnn %q backward: the forward ran on precomputed projections (ForwardProjected, inference only): %w", l.name(), tensor.ErrArgument)
	}
	if dx == nil {
		// The backend op always produces the input gradient.
		scratch, err := l.be.New(ctx.seqs[0].X.Shape()...)
		if err != nil {
			return fmt.Errorf("nn: rnn %q backward: %w", l.name(), err)
		}
		defer l.be.Free(scratch)
		dx = scratch
	}
	for i, d := range l.Dirs {
		g := &tensor.RNNGrads{DOut: dy, DOutCol: i * l.Hidden, DX: dx, DW: d.grads()}
		var err error
		if l.Cell == LSTM {
			err = l.be.LSTMBackward(d.values(), &ctx.seqs[i], g)
		} else {
			err = l.be.GRUBackward(d.values(), &ctx.seqs[i], g)
		}
		if err != nil {
			return fmt.Errorf("nn: rnn %q backward: %w", l.name(), err)
		}
	}
	return nil
}

// name is the parameter prefix shared by the layer, for messages.
func (l *RNN) name() string { return l.Dirs[0].WeightIH.Name }
