package tensor

import "fmt"

// RNNWeights holds one direction's parameters of a GRU or LSTM in PyTorch's
// layout, so weights load unchanged from PyTorch checkpoints: G gate blocks
// of H rows stacked along the first dimension (G = 3 for a GRU, gates r, z,
// n; G = 4 for an LSTM, gates i, f, g, o).
type RNNWeights struct {
	WIH *Tensor // [G·H, In] input-to-hidden
	WHH *Tensor // [G·H, H] hidden-to-hidden
	BIH *Tensor // [G·H]
	BHH *Tensor // [G·H]
}

// Workspace widths, in multiples of H, of the Work tensor the recurrent ops
// save for their backward: Work is [T, B, GRUWorkWidth·H] for a GRU and
// [T, B, LSTMWorkWidth·H] for an LSTM. Its contents are private to the
// backend; only its shape is part of the contract.
const (
	GRUWorkWidth  = 5
	LSTMWorkWidth = 7
)

// RNNSequence describes one direction of a recurrent pass over a padded,
// time-major batch. A bidirectional layer is two calls with the same X,
// one with Reverse set, writing adjacent column blocks of one Out
// ([T, B, 2H] with OutCol 0 and H): no concatenation op is needed.
type RNNSequence struct {
	// X is the input, [T, B, In].
	X *Tensor
	// XW, when not nil, is the input projection already computed, [T, B, G·H]: row (t, b)
	// holds WIH·x + BIH of that position. The op then reads neither X (which may be nil) nor
	// WIH's values nor BIH. Forward only: a backward refuses it. It is for inference, where a
	// layer whose input is a concatenation of embeddings can look its projection up in
	// precomputed tables (one row per symbol) instead of multiplying at every position
	// (nn.RNN.ForwardProjected). Backends without it return ErrUnsupported.
	XW *Tensor
	// Lengths holds B valid lengths in [0, T] (nil means all T): position
	// t of sequence b is valid iff t < Lengths[b]. Padded positions leave
	// the state unchanged and output zeros, so a reverse pass effectively
	// starts at each sequence's own last valid position.
	Lengths []int32
	// Reverse runs from t = T−1 down to 0.
	Reverse bool
	// H0 and C0 are the initial states, [B, H]; nil means zeros. C0 is
	// for the LSTM only.
	H0, C0 *Tensor
	// Out, [T, B, W] with W ≥ OutCol+H, receives the hidden states in
	// columns [OutCol, OutCol+H); the forward writes no other column.
	Out    *Tensor
	OutCol int
	// HT and CT, [B, H], receive the final states (the state after each
	// sequence's last valid step); nil when not wanted. CT is LSTM only.
	HT, CT *Tensor
	// Work receives what the backward needs (see GRUWorkWidth).
	Work *Tensor
}

// RNNGrads holds the upstream gradients a recurrent backward reads and the
// gradients it accumulates (+=).
type RNNGrads struct {
	// DOut is the gradient of Out, read at columns [DOutCol, DOutCol+H);
	// its values at padded positions are ignored.
	DOut    *Tensor
	DOutCol int
	// DHT and DCT are the gradients of the final states, [B, H]; nil
	// means zero.
	DHT, DCT *Tensor
	// DX, [T, B, In], accumulates the input gradient.
	DX *Tensor
	// DH0 and DC0, [B, H], accumulate the initial-state gradients; nil
	// when not wanted.
	DH0, DC0 *Tensor
	// DW accumulates the weight gradients (shapes as RNNWeights).
	DW RNNWeights
}

// Recurrent holds the fused sequence ops: one call runs a whole direction
// of a layer over T steps, saving what the backward needs in Work, so a GPU
// backend keeps the recurrence on the device.
type Recurrent interface {
	// GRU runs one direction of a PyTorch-style GRU:
	//	r = σ(W_ir x + b_ir + W_hr h + b_hr)
	//	z = σ(W_iz x + b_iz + W_hz h + b_hz)
	//	n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
	//	h' = (1 − z) ⊙ n + z ⊙ h
	// over seq, with Work [T, B, GRUWorkWidth·H].
	GRU(w RNNWeights, seq *RNNSequence) error
	// GRUBackward accumulates the gradients of a GRU call; seq must be the
	// forward's (its X, Lengths, Reverse, H0 and Work; Out is not read).
	GRUBackward(w RNNWeights, seq *RNNSequence, g *RNNGrads) error
	// LSTM runs one direction of a PyTorch-style LSTM:
	//	i, f, o = σ(W_{i,f,o} x + b + U h + b'),  g = tanh(W_g x + b + U_g h + b')
	//	c' = f ⊙ c + i ⊙ g,  h' = o ⊙ tanh(c')
	// over seq, with Work [T, B, LSTMWorkWidth·H].
	LSTM(w RNNWeights, seq *RNNSequence) error
	// LSTMBackward accumulates the gradients of an LSTM call; seq must be
	// the forward's (X, Lengths, Reverse, H0, C0, Work).
	LSTMBackward(w RNNWeights, seq *RNNSequence, g *RNNGrads) error
}

// Attention holds fused multi-head scaled-dot-product attention.
type Attention interface {
	// Attention computes, for each batch b and head h (head h owns
	// columns [h·dh, (h+1)·dh) of the model dimension D = heads·dh):
	//	P = softmax(Q_bh K_bhᵀ / √dh + mask),  O_bh = P V_bh
	// q and out are [B, Tq, D]; k and v are [B, Tk, D]; probs, [B, heads,
	// Tq, Tk], receives P for the backward. keyLengths (nil = all Tk)
	// masks keys j ≥ keyLengths[b] (key padding); causal also masks keys
	// j > i for query i. A query with no visible key gets zero
	// probabilities and a zero output.
	Attention(out, probs, q, k, v *Tensor, keyLengths []int32, heads int, causal bool) error
	// AttentionBackward accumulates dq, dk and dv (shapes of q, k, v) from
	// dout, given the forward's probs, q, k and v.
	AttentionBackward(dq, dk, dv, dout, probs, q, k, v *Tensor, heads int) error
}

// RNNDims are the sizes of a recurrent call.
type RNNDims struct {
	T, B, In, H int
}

// CheckRNN checks a GRU (gates 3) or LSTM (gates 4) forward call and
// returns its sizes. H is taken from WHH.
func CheckRNN(op string, gates int, w RNNWeights, seq *RNNSequence) (RNNDims, error) {
	var d RNNDims
	if seq == nil {
		return d, nilErr(op, "sequence")
	}
	if (seq.X == nil && seq.XW == nil) || seq.Out == nil || seq.Work == nil || w.WIH == nil || w.WHH == nil || w.BIH == nil || w.BHH == nil {
		return d, nilErr(op, "X, Out, Work or a weight")
	}
	if w.WHH.Rank() != 2 || w.WHH.shape[0] != gates*w.WHH.shape[1] {
		return d, fmt.Errorf("%s: WHH %v must be [%d·H, H]: %w", op, w.WHH.shape, gates, ErrShape)
	}
	d.H = w.WHH.shape[1]
	g := gates * d.H
	switch {
	case seq.XW != nil:
		if seq.XW.Rank() != 3 || seq.XW.shape[2] != g || w.WIH.Rank() != 2 {
			return d, fmt.Errorf("%s: XW %v must be [T, B, %d]: %w", op, seq.XW.shape, g, ErrShape)
		}
		d.T, d.B, d.In = seq.XW.shape[0], seq.XW.shape[1], w.WIH.shape[1]
		if seq.X != nil && !seq.X.HasShape(d.T, d.B, d.In) {
			return d, fmt.Errorf("%s: X %v does not match XW %v: %w", op, seq.X.shape, seq.XW.shape, ErrShape)
		}
	case seq.X.Rank() != 3:
		return d, fmt.Errorf("%s: X %v must be [T, B, In]: %w", op, seq.X.shape, ErrShape)
	default:
		d.T, d.B, d.In = seq.X.shape[0], seq.X.shape[1], seq.X.shape[2]
	}
	if !w.WIH.HasShape(g, d.In) || !w.BIH.HasShape(g) || !w.BHH.HasShape(g) {
		return d, fmt.Errorf("%s: WIH %v, BIH %v, BHH %v do not fit In=%d, H=%d: %w",
			op, w.WIH.shape, w.BIH.shape, w.BHH.shape, d.In, d.H, ErrShape)
	}
	width := GRUWorkWidth
	if gates == 4 {
		width = LSTMWorkWidth
	}
	if !seq.Work.HasShape(d.T, d.B, width*d.H) {
		return d, fmt.Errorf("%s: Work %v, want [%d %d %d]: %w", op, seq.Work.shape, d.T, d.B, width*d.H, ErrShape)
	}
	o := seq.Out
	if o.Rank() != 3 || o.shape[0] != d.T || o.shape[1] != d.B || seq.OutCol < 0 || seq.OutCol+d.H > o.shape[2] {
		return d, fmt.Errorf("%s: Out %v cannot hold columns [%d, %d) of [%d %d ·]: %w",
			op, o.shape, seq.OutCol, seq.OutCol+d.H, d.T, d.B, ErrShape)
	}
	states := []*Tensor{seq.H0, seq.HT}
	if gates == 4 {
		states = append(states, seq.C0, seq.CT)
	} else if seq.C0 != nil || seq.CT != nil {
		return d, fmt.Errorf("%s: a GRU has no cell state: %w", op, ErrArgument)
	}
	for _, s := range states {
		if s != nil && !s.HasShape(d.B, d.H) {
			return d, fmt.Errorf("%s: state %v, want [%d %d]: %w", op, s.shape, d.B, d.H, ErrShape)
		}
	}
	if err := CheckLengths(op, seq.Lengths, d.B, d.T); err != nil {
		return d, err
	}
	return d, nil
}

// CheckLengths checks that lengths is nil or holds n values in [0, max].
func CheckLengths(op string, lengths []int32, n, max int) error {
	if lengths == nil {
		return nil
	}
	if len(lengths) != n {
		return fmt.Errorf("%s: %d lengths for a batch of %d: %w", op, len(lengths), n, ErrShape)
	}
	for i, l := range lengths {
		if l < 0 || int(l) > max {
			return fmt.Errorf("%s: length %d of sequence %d outside [0, %d]: %w", op, l, i, max, ErrIndex)
		}
	}
	return nil
}

// CheckRNNBackward checks a recurrent backward call and returns its sizes.
func CheckRNNBackward(op string, gates int, w RNNWeights, seq *RNNSequence, g *RNNGrads) (RNNDims, error) {
	if g == nil {
		return RNNDims{}, nilErr(op, "gradients")
	}
	if seq != nil && (seq.XW != nil || seq.X == nil) {
		return RNNDims{}, fmt.Errorf("%s: a backward needs the input X, not a precomputed projection XW: %w", op, ErrArgument)
	}
	if seq != nil && seq.Out == nil {
		// The backward does not read Out; check the rest against DOut.
		s := *seq
		s.Out = g.DOut
		seq = &s
	}
	d, err := CheckRNN(op, gates, w, seq)
	if err != nil {
		return d, err
	}
	if g.DOut == nil || g.DX == nil {
		return d, nilErr(op, "DOut or DX")
	}
	o := g.DOut
	if o.Rank() != 3 || o.shape[0] != d.T || o.shape[1] != d.B || g.DOutCol < 0 || g.DOutCol+d.H > o.shape[2] {
		return d, fmt.Errorf("%s: DOut %v has no columns [%d, %d) of [%d %d ·]: %w",
			op, o.shape, g.DOutCol, g.DOutCol+d.H, d.T, d.B, ErrShape)
	}
	if !g.DX.HasShape(seq.X.shape...) {
		return d, fmt.Errorf("%s: DX %v, want %v: %w", op, g.DX.shape, seq.X.shape, ErrShape)
	}
	for _, p := range [][2]*Tensor{{g.DW.WIH, w.WIH}, {g.DW.WHH, w.WHH}, {g.DW.BIH, w.BIH}, {g.DW.BHH, w.BHH}} {
		if p[0] == nil {
			return d, nilErr(op, "a weight gradient")
		}
		if !p[0].HasShape(p[1].shape...) {
			return d, fmt.Errorf("%s: weight gradient %v, want %v: %w", op, p[0].shape, p[1].shape, ErrShape)
		}
	}
	states := []*Tensor{g.DHT, g.DH0}
	if gates == 4 {
		states = append(states, g.DCT, g.DC0)
	} else if g.DCT != nil || g.DC0 != nil {
		return d, fmt.Errorf("%s: a GRU has no cell state: %w", op, ErrArgument)
	}
	for _, s := range states {
		if s != nil && !s.HasShape(d.B, d.H) {
			return d, fmt.Errorf("%s: state gradient %v, want [%d %d]: %w", op, s.shape, d.B, d.H, ErrShape)
		}
	}
	return d, nil
}

// AttentionDims are the sizes of an attention call.
type AttentionDims struct {
	B, Tq, Tk, D, Heads, HeadDim int
}

// CheckAttention checks an Attention call and returns its sizes.
func CheckAttention(out, probs, q, k, v *Tensor, keyLengths []int32, heads int) (AttentionDims, error) {
	const op = "Attention"
	d, err := checkAttention(op, probs, q, k, v, heads)
	if err != nil {
		return d, err
	}
	if out == nil {
		return d, nilErr(op, "out")
	}
	if !out.HasShape(q.shape...) {
		return d, fmt.Errorf("%s: out %v, want %v: %w", op, out.shape, q.shape, ErrShape)
	}
	return d, CheckLengths(op, keyLengths, d.B, d.Tk)
}

// CheckAttentionBackward checks an AttentionBackward call.
func CheckAttentionBackward(dq, dk, dv, dout, probs, q, k, v *Tensor, heads int) (AttentionDims, error) {
	const op = "AttentionBackward"
	d, err := checkAttention(op, probs, q, k, v, heads)
	if err != nil {
		return d, err
	}
	if err := CheckSameShape(op, q, dq, dout); err != nil {
		return d, err
	}
	return d, CheckSameShape(op, k, dk, dv)
}

func checkAttention(op string, probs, q, k, v *Tensor, heads int) (AttentionDims, error) {
	var d AttentionDims
	if probs == nil || q == nil || k == nil || v == nil {
		return d, nilErr(op, "probs, q, k or v")
	}
	if q.Rank() != 3 || k.Rank() != 3 {
		return d, fmt.Errorf("%s: q %v and k %v must be [B, T, D]: %w", op, q.shape, k.shape, ErrShape)
	}
	d.B, d.Tq, d.D, d.Tk, d.Heads = q.shape[0], q.shape[1], q.shape[2], k.shape[1], heads
	if heads < 1 || d.D%heads != 0 {
		return d, fmt.Errorf("%s: %d heads do not divide model dimension %d: %w", op, heads, d.D, ErrArgument)
	}
	d.HeadDim = d.D / heads
	if !k.HasShape(d.B, d.Tk, d.D) || !v.HasShape(d.B, d.Tk, d.D) || !probs.HasShape(d.B, heads, d.Tq, d.Tk) {
		return d, fmt.Errorf("%s: q %v, k %v, v %v, probs %v with %d heads: %w", op, q.shape, k.shape, v.shape, probs.shape, heads, ErrShape)
	}
	return d, nil
}
