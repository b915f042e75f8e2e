package nn_test

import (
	"errors"
	"math"
	"testing"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
)

func TestEmbeddingPadding(t *testing.T) {
	be := newBackend()
	e := must[*nn.Embedding](t)(nn.NewEmbedding(be, "emb", 4, 3, 0, 1, nn.NewRNG(1)))
	y, ctx, err := e.Forward([]int32{0, 2, 0, 1}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !y.HasShape(2, 2, 3) {
		t.Fatalf("output %v, want [2 2 3]", y)
	}
	out := download(t, be, y)
	for _, row := range []int{0, 2} {
		for j := range 3 {
			if out[row*3+j] != 0 {
				t.Errorf("padding position %d embeds to %v, want zeros", row, out[row*3:row*3+3])
			}
		}
	}
	dy := must[*tensor.Tensor](t)(be.New(2, 2, 3))
	if err := be.Fill(dy, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Backward(ctx, dy); err != nil {
		t.Fatal(err)
	}
	g := download(t, be, e.Weight.Grad)
	want := []float32{0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("gradient %v, want %v", g, want)
		}
	}
	opt := must[*nn.AdamW](t)(nn.NewAdamW(be, e.Parameters(), nn.DefaultAdamW(0.1)))
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if w := download(t, be, e.Weight.Value); w[0] != 0 || w[1] != 0 || w[2] != 0 {
		t.Errorf("padding row %v after an update, want zeros", w[:3])
	}
}

func TestDropout(t *testing.T) {
	be := newBackend()
	x := must[*tensor.Tensor](t)(be.New(1000))
	if err := be.Fill(x, 1); err != nil {
		t.Fatal(err)
	}
	run := func(d *nn.Dropout) []float32 {
		y, _, err := d.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		return download(t, be, y)
	}
	d := must[*nn.Dropout](t)(nn.NewDropout(be, 0.25, 9))
	first, second := run(d), run(d)
	if d.Offset != 2000 {
		t.Errorf("offset %d after two calls on 1000 elements, want 2000", d.Offset)
	}
	zeros, same := 0, 0
	for i, v := range first {
		switch v {
		case 0:
			zeros++
		case 1 / 0.75:
		default:
			t.Fatalf("element %d = %v, want 0 or 1/(1−p)", i, v)
		}
		if v == second[i] {
			same++
		}
	}
	if zeros < 200 || zeros > 300 {
		t.Errorf("%d of 1000 dropped at p = 0.25", zeros)
	}
	if same == len(first) {
		t.Error("two calls drew the same mask")
	}
	replay := must[*nn.Dropout](t)(nn.NewDropout(be, 0.25, 9))
	for i, v := range run(replay) {
		if v != first[i] {
			t.Fatal("the same seed and offset drew a different mask")
		}
	}
	d.Training = false
	y, ctx, err := d.Forward(x)
	if err != nil || y != x {
		t.Fatalf("evaluation forward returned %v, %v; want the input itself", y, err)
	}
	ctx.Free() // must not free the caller's input
	if download(t, be, x)[0] != 1 {
		t.Error("evaluation context freed the input")
	}
}

func TestSwapLeading(t *testing.T) {
	be := newBackend()
	x := must[*tensor.Tensor](t)(be.FromSlice([]float32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 2, 3, 2))
	y := must[*tensor.Tensor](t)(nn.SwapLeading(be, x))
	if !y.HasShape(3, 2, 2) {
		t.Fatalf("shape %v, want [3 2 2]", y)
	}
	want := []float32{0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11}
	got := download(t, be, y)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("swapped %v, want %v", got, want)
		}
	}
	back := must[*tensor.Tensor](t)(nn.SwapLeading(be, y))
	for i, v := range download(t, be, back) {
		if v != float32(i) {
			t.Fatal("swapping twice is not the identity")
		}
	}
}

// TestWindowedAttention checks that a windowed layer only mixes positions
// of one block, and that a window covering the sequence is full attention.
func TestWindowedAttention(t *testing.T) {
	be := newBackend()
	const B, T, D = 2, 5, 4
	full := must[*nn.SelfAttention](t)(nn.NewSelfAttention(be, "a", nn.AttentionConfig{Dim: D, Heads: 2}, nn.NewRNG(4)))
	wide := must[*nn.SelfAttention](t)(nn.NewSelfAttention(be, "a", nn.AttentionConfig{Dim: D, Heads: 2, Window: 8}, nn.NewRNG(4)))
	win := must[*nn.SelfAttention](t)(nn.NewSelfAttention(be, "a", nn.AttentionConfig{Dim: D, Heads: 2, Window: 2}, nn.NewRNG(4)))
	r := nn.NewRNG(5)
	x := must[*tensor.Tensor](t)(be.New(B, T, D))
	randomize(t, be, x, 1, r)
	lengths := []int32{5, 4}
	out := func(a *nn.SelfAttention) []float32 {
		y, _, err := a.Forward(x, lengths)
		if err != nil {
			t.Fatal(err)
		}
		return download(t, be, y)
	}
	f, w := out(full), out(wide)
	for i := range f {
		if math.Abs(float64(f[i]-w[i])) > 1e-6 {
			t.Fatalf("window ≥ T differs from full attention at %d: %v vs %v", i, w[i], f[i])
		}
	}
	before := out(win)
	// Change position 3 (block 1 = positions 2, 3) of every sequence.
	xs := download(t, be, x)
	for b := range B {
		for j := range D {
			xs[(b*T+3)*D+j] += 1
		}
	}
	upload(t, be, x, xs)
	after := out(win)
	for b := range B {
		for pos := range T {
			changed := false
			for j := range D {
				i := (b*T+pos)*D + j
				changed = changed || before[i] != after[i]
			}
			if inBlock := pos == 2 || pos == 3; changed != inBlock {
				t.Errorf("sequence %d position %d: changed %v, want %v", b, pos, changed, inBlock)
			}
		}
	}
}

func TestRNNNames(t *testing.T) {
	be := newBackend()
	cases := []struct {
		cfg  nn.RNNConfig
		want []string
	}{
		{nn.RNNConfig{Cell: nn.GRU, Input: 3, Hidden: 2, Bidirectional: true}, []string{
			"enc.weight_ih_l0", "enc.weight_hh_l0", "enc.bias_ih_l0", "enc.bias_hh_l0",
			"enc.weight_ih_l0_reverse", "enc.weight_hh_l0_reverse", "enc.bias_ih_l0_reverse", "enc.bias_hh_l0_reverse",
		}},
		{nn.RNNConfig{Cell: nn.LSTM, Input: 3, Hidden: 2, Layer: 1}, []string{
			"enc.weight_ih_l1", "enc.weight_hh_l1", "enc.bias_ih_l1", "enc.bias_hh_l1",
		}},
	}
	for _, c := range cases {
		t.Run(c.cfg.Cell.String(), func(t *testing.T) {
			l := must[*nn.RNN](t)(nn.NewRNN(be, "enc", c.cfg, nn.NewRNG(1)))
			gates := 3
			if c.cfg.Cell == nn.LSTM {
				gates = 4
			}
			bound := 1 / math.Sqrt(float64(c.cfg.Hidden))
			for i, p := range l.Parameters() {
				if p.Name != c.want[i] {
					t.Errorf("parameter %d is %q, want %q", i, p.Name, c.want[i])
				}
				if p.Value.Dim(0) != gates*c.cfg.Hidden {
					t.Errorf("%s: shape %v, want %d gate rows", p.Name, p.Value, gates*c.cfg.Hidden)
				}
				for _, v := range download(t, be, p.Value) {
					if math.Abs(float64(v)) > bound {
						t.Fatalf("%s: %v outside ±1/√H", p.Name, v)
					}
				}
			}
		})
	}
}

// TestErrors checks that bad shapes, ids, lengths and configurations are
// reported as errors wrapping the tensor package's sentinels.
func TestErrors(t *testing.T) {
	be := newBackend()
	r := nn.NewRNG(1)
	lin := must[*nn.Linear](t)(nn.NewLinear(be, "fc", 3, 2, true, r))
	emb := must[*nn.Embedding](t)(nn.NewEmbedding(be, "emb", 4, 2, nn.NoPadding, 1, r))
	gru := must[*nn.RNN](t)(nn.NewRNN(be, "gru", nn.RNNConfig{Cell: nn.GRU, Input: 3, Hidden: 2, Bidirectional: true}, r))
	att := must[*nn.SelfAttention](t)(nn.NewSelfAttention(be, "att", nn.AttentionConfig{Dim: 4, Heads: 2, Window: 2}, r))
	norm := must[*nn.LayerNorm](t)(nn.NewLayerNorm(be, "norm", 3, 1e-5))
	x3 := must[*tensor.Tensor](t)(be.New(2, 3))
	x4 := must[*tensor.Tensor](t)(be.New(2, 4))
	seq := must[*tensor.Tensor](t)(be.New(4, 2, 3))
	batch := must[*tensor.Tensor](t)(be.New(2, 3, 4))
	empty := must[*tensor.Tensor](t)(be.New(2, 0, 4))
	_, linCtx, err := lin.Forward(x3)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"linear input", second(lin.Forward(x4)), tensor.ErrShape},
		{"linear dy", lin.Backward(linCtx, x3, nil), tensor.ErrShape},
		{"linear dx", lin.Backward(linCtx, must[*tensor.Tensor](t)(be.New(2, 2)), x4), tensor.ErrShape},
		{"linear nil context", lin.Backward(nil, x3, nil), tensor.ErrArgument},
		{"linear config", second(nn.NewLinear(be, "fc", 0, 2, true, r)), tensor.ErrArgument},
		{"embedding id", second(emb.Forward([]int32{1, 4})), tensor.ErrIndex},
		{"embedding negative id", second(emb.Forward([]int32{-1})), tensor.ErrIndex},
		{"embedding lead shape", second(emb.Forward([]int32{1, 2, 3}, 2, 2)), tensor.ErrShape},
		{"embedding padding", second(nn.NewEmbedding(be, "e", 4, 2, 4, 1, r)), tensor.ErrArgument},
		{"embedding nil context", emb.Backward(nil, x3), tensor.ErrArgument},
		{"rnn input", second(gru.Forward(batch, nil)), tensor.ErrShape},
		{"rnn length", second(gru.Forward(seq, []int32{4, 5})), tensor.ErrIndex},
		{"rnn lengths count", second(gru.Forward(seq, []int32{4})), tensor.ErrShape},
		{"rnn cell", second(nn.NewRNN(be, "r", nn.RNNConfig{Input: 3, Hidden: 2}, r)), tensor.ErrArgument},
		{"rnn nil context", gru.Backward(nil, seq, nil), tensor.ErrArgument},
		{"attention heads", second(nn.NewSelfAttention(be, "a", nn.AttentionConfig{Dim: 4, Heads: 3}, r)), tensor.ErrArgument},
		{"attention input", second(att.Forward(seq, nil)), tensor.ErrShape},
		{"attention empty", second(att.Forward(empty, nil)), tensor.ErrShape},
		{"attention length", second(att.Forward(batch, []int32{3, 4})), tensor.ErrIndex},
		{"attention lengths count", second(att.Forward(batch, []int32{3})), tensor.ErrShape},
		{"attention nil context", att.Backward(nil, batch, nil), tensor.ErrArgument},
		{"layer norm input", second(norm.Forward(x4)), tensor.ErrShape},
		{"layer norm residual", second(norm.ForwardResidual(x3, seq)), tensor.ErrShape},
		{"layer norm eps", second(nn.NewLayerNorm(be, "n", 3, 0)), tensor.ErrArgument},
		{"dropout probability", second(nn.NewDropout(be, 1, 0)), tensor.ErrArgument},
		{"swap rank", second(nn.SwapLeading(be, x3)), tensor.ErrShape},
		{"swap backward", nn.SwapLeadingBackward(be, seq, seq), tensor.ErrShape},
		{"adamw eps", second(nn.NewAdamW(be, lin.Parameters(), nn.AdamWConfig{Schedule: nn.Constant(1), Beta1: 0.9, Beta2: 0.9})), tensor.ErrArgument},
		{"adamw duplicate", second(nn.NewAdamW(be, append(lin.Parameters(), lin.Weight), nn.DefaultAdamW(1))), tensor.ErrArgument},
		{"collect duplicate", second(nn.Collect(lin, lin)), tensor.ErrArgument},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Errorf("error %v, want %v", c.err, c.want)
			}
		})
	}
}

// second returns the error of a (value, context, error) or (value, error)
// result.
func second(vals ...any) error {
	err, _ := vals[len(vals)-1].(error)
	return err
}

// TestForwardProjected: a bidirectional GRU over two concatenated embedding blocks gives,
// to rounding, the same output from ProjectTable rows summed per position (ForwardProjected)
// as from Forward; its context refuses a backward, and bad tables are refused.
func TestForwardProjected(t *testing.T) {
	be := newBackend()
	r := nn.NewRNG(3)
	const T, B = 5, 2
	a := must[*nn.Embedding](t)(nn.NewEmbedding(be, "a", 7, 3, 0, 1, r))
	c := must[*nn.Embedding](t)(nn.NewEmbedding(be, "c", 4, 2, nn.NoPadding, 1, r))
	gru := must[*nn.RNN](t)(nn.NewRNN(be, "gru", nn.RNNConfig{Cell: nn.GRU, Input: 5, Hidden: 4, Bidirectional: true}, r))
	ids := []int32{1, 2, 3, 4, 5, 6, 0, 1, 2, 3}
	feats := []int32{0, 1, 2, 3, 0, 1, 2, 3, 3, 2}
	lengths := []int32{5, 3}
	ea, _, err := a.Forward(ids, T, B)
	if err != nil {
		t.Fatal(err)
	}
	ec, _, err := c.Forward(feats, T, B)
	if err != nil {
		t.Fatal(err)
	}
	x := must[*tensor.Tensor](t)(be.New(T, B, 5))
	if err := be.CopyCols(x, 0, ea, 0, 3, false); err != nil {
		t.Fatal(err)
	}
	if err := be.CopyCols(x, 3, ec, 0, 2, false); err != nil {
		t.Fatal(err)
	}
	want, _, err := gru.Forward(x, lengths)
	if err != nil {
		t.Fatal(err)
	}
	ta := must[[]*tensor.Tensor](t)(gru.ProjectTable(a.Weight.Value, 0, false))
	tc := must[[]*tensor.Tensor](t)(gru.ProjectTable(c.Weight.Value, 3, true))
	var xw []*tensor.Tensor
	for d := range 2 {
		pa := must[*tensor.Tensor](t)(be.New(T, B, 12))
		pc := must[*tensor.Tensor](t)(be.New(T, B, 12))
		if err := be.Embedding(pa, ta[d], ids); err != nil {
			t.Fatal(err)
		}
		if err := be.Embedding(pc, tc[d], feats); err != nil {
			t.Fatal(err)
		}
		if err := be.Add(pa, pa, pc); err != nil {
			t.Fatal(err)
		}
		xw = append(xw, pa)
	}
	got, ctx, err := gru.ForwardProjected(xw, lengths)
	if err != nil {
		t.Fatal(err)
	}
	g, w := download(t, be, got), download(t, be, want)
	for i := range w {
		if math.Abs(float64(g[i]-w[i])) > 1e-5 {
			t.Fatalf("output %d: projected %v, direct %v", i, g[i], w[i])
		}
	}
	if err := gru.Backward(ctx, got, nil); !errors.Is(err, tensor.ErrArgument) {
		t.Errorf("backward after ForwardProjected: %v, want ErrArgument", err)
	}
	if _, err := gru.ProjectTable(a.Weight.Value, 3, false); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("a table past the input columns: %v, want ErrShape", err)
	}
	if _, _, err := gru.ForwardProjected(xw[:1], lengths); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("one projection for two directions: %v, want ErrShape", err)
	}
}
