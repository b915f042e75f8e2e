package nn_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
)

func upload(t *testing.T, be tensor.Backend, dst *tensor.Tensor, data []float32) {
	t.Helper()
	if err := be.Upload(dst, data); err != nil {
		t.Fatal(err)
	}
}

func download(t *testing.T, be tensor.Backend, x *tensor.Tensor) []float32 {
	t.Helper()
	v, err := be.ToSlice(x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAdamWLinearRegression(t *testing.T) {
	be := newBackend()
	r := nn.NewRNG(3)
	const n, in = 16, 3
	wTrue, bTrue := []float32{1.5, -2, 0.5}, float32(0.25)
	xs, ys := make([]float32, n*in), make([]float32, n)
	for i := range n {
		ys[i] = bTrue
		for j := range in {
			xs[i*in+j] = float32(r.NormFloat64())
			ys[i] += wTrue[j] * xs[i*in+j]
		}
	}
	x := must[*tensor.Tensor](t)(be.FromSlice(xs, n, in))
	y := must[*tensor.Tensor](t)(be.FromSlice(ys, n, 1))
	l := must[*nn.Linear](t)(nn.NewLinear(be, "fc", in, 1, true, r))
	cfg := nn.DefaultAdamW(0)
	cfg.WeightDecay = 0 // decay would bias the least-squares solution
	cfg.Schedule = must[nn.Schedule](t)(nn.WarmupCosine(0.1, 0, 10, 400))
	opt := must[*nn.AdamW](t)(nn.NewAdamW(be, l.Parameters(), cfg))
	dpred := must[*tensor.Tensor](t)(be.New(n, 1))
	var loss float32
	for range 400 {
		if err := opt.ZeroGrad(); err != nil {
			t.Fatal(err)
		}
		pred, ctx, err := l.Forward(x)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.Fill(dpred, 0); err != nil {
			t.Fatal(err)
		}
		if loss, err = be.MSE(dpred, pred, y); err != nil {
			t.Fatal(err)
		}
		if err := l.Backward(ctx, dpred, nil); err != nil {
			t.Fatal(err)
		}
		ctx.Free()
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	if loss > 1e-5 {
		t.Errorf("final MSE %g, want < 1e-5", loss)
	}
	w, b := download(t, be, l.Weight.Value), download(t, be, l.Bias.Value)
	for j := range in {
		if math.Abs(float64(w[j]-wTrue[j])) > 1e-2 {
			t.Errorf("w[%d] = %v, want %v", j, w[j], wTrue[j])
		}
	}
	if math.Abs(float64(b[0]-bTrue)) > 1e-2 {
		t.Errorf("b = %v, want %v", b[0], bTrue)
	}
}

// twoParams returns parameters whose gradients are (3, 0) and (0, 4, 0):
// global norm 5.
func twoParams(t *testing.T, be tensor.Backend) []*nn.Parameter {
	t.Helper()
	a := must[*nn.Parameter](t)(nn.NewParameter(be, "a.weight", 1, 2))
	b := must[*nn.Parameter](t)(nn.NewParameter(be, "b.weight", 3, 1))
	upload(t, be, a.Grad, []float32{3, 0})
	upload(t, be, b.Grad, []float32{0, 4, 0})
	return []*nn.Parameter{a, b}
}

func TestClipGradNorm(t *testing.T) {
	cases := []struct {
		name      string
		max, want float32 // clip threshold, norm afterwards
	}{
		{"above", 1, 1},
		{"below", 10, 5},
		{"equal", 5, 5},
		{"disabled", 0, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			be := newBackend()
			ps := twoParams(t, be)
			before, err := nn.ClipGradNorm(be, ps, c.max)
			if err != nil {
				t.Fatal(err)
			}
			if before != 5 {
				t.Errorf("norm before clipping %v, want 5", before)
			}
			after := must[float32](t)(be.GradNorm(ps[0].Grad, ps[1].Grad))
			if math.Abs(float64(after-c.want)) > 1e-5 {
				t.Errorf("norm after clipping to %v: %v, want %v", c.max, after, c.want)
			}
		})
	}
}

// TestAdamWClipping checks that the clipping AdamW folds into its update
// equals an update from gradients clipped beforehand.
func TestAdamWClipping(t *testing.T) {
	be := newBackend()
	clipped := twoParams(t, be)
	manual := twoParams(t, be)
	if _, err := nn.ClipGradNorm(be, manual, 2); err != nil {
		t.Fatal(err)
	}
	cfg := nn.DefaultAdamW(0.1)
	cfg.ClipNorm = 2
	st := must[nn.StepStats](t)(must[*nn.AdamW](t)(nn.NewAdamW(be, clipped, cfg)).Step())
	if !st.Clipped || st.GradNorm != 5 || st.Step != 1 || st.LR != 0.1 {
		t.Errorf("stats %+v, want step 1, LR 0.1, norm 5, clipped", st)
	}
	cfg.ClipNorm = 0
	st = must[nn.StepStats](t)(must[*nn.AdamW](t)(nn.NewAdamW(be, manual, cfg)).Step())
	if st.Clipped {
		t.Errorf("stats %+v: clipped without a threshold", st)
	}
	for i := range clipped {
		a, b := download(t, be, clipped[i].Value), download(t, be, manual[i].Value)
		for j := range a {
			if math.Abs(float64(a[j]-b[j])) > 1e-7 {
				t.Errorf("%s[%d]: %v with folded clipping, %v with manual clipping", clipped[i].Name, j, a[j], b[j])
			}
		}
	}
}

func TestAdamWNonFinite(t *testing.T) {
	be := newBackend()
	ps := twoParams(t, be)
	upload(t, be, ps[0].Grad, []float32{float32(math.NaN()), 0})
	before := download(t, be, ps[1].Value)
	opt := must[*nn.AdamW](t)(nn.NewAdamW(be, ps, nn.DefaultAdamW(0.1)))
	if _, err := opt.Step(); !errors.Is(err, nn.ErrNonFinite) {
		t.Fatalf("step with a NaN gradient: %v, want ErrNonFinite", err)
	}
	if opt.Steps() != 0 || download(t, be, ps[1].Value)[0] != before[0] {
		t.Error("a skipped step changed the optimizer or the parameters")
	}
}

func TestSchedules(t *testing.T) {
	linear := must[nn.Schedule](t)(nn.LinearWarmupDecay(1, 10, 110))
	cosine := must[nn.Schedule](t)(nn.WarmupCosine(1, 0.1, 10, 110))
	noWarmup := must[nn.Schedule](t)(nn.WarmupCosine(2, 0, 0, 4))
	cases := []struct {
		name string
		s    nn.Schedule
		step int
		want float64
	}{
		{"constant", nn.Constant(3e-4), 1000, 3e-4},
		{"linear first", linear, 1, 0.1},
		{"linear warm", linear, 10, 1},
		{"linear middle", linear, 60, 0.5},
		{"linear end", linear, 110, 0},
		{"linear after", linear, 200, 0},
		{"cosine warmup", cosine, 5, 0.5},
		{"cosine peak", cosine, 10, 1},
		{"cosine middle", cosine, 60, 0.55},
		{"cosine end", cosine, 110, 0.1},
		{"cosine after", cosine, 500, 0.1},
		{"no warmup first", noWarmup, 1, 2 * (1 + math.Cos(math.Pi/4)) / 2},
		{"no warmup half", noWarmup, 2, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.s(c.step); math.Abs(float64(got)-c.want) > 1e-6 {
				t.Errorf("step %d: %v, want %v", c.step, got, c.want)
			}
		})
	}
	for _, bad := range [][2]int{{-1, 10}, {10, 10}, {5, 3}} {
		if _, err := nn.LinearWarmupDecay(1, bad[0], bad[1]); !errors.Is(err, tensor.ErrArgument) {
			t.Errorf("warmup %d, total %d: %v, want ErrArgument", bad[0], bad[1], err)
		}
		if _, err := nn.WarmupCosine(1, 0, bad[0], bad[1]); !errors.Is(err, tensor.ErrArgument) {
			t.Errorf("cosine warmup %d, total %d: %v, want ErrArgument", bad[0], bad[1], err)
		}
	}
}

// TestAdamWRestore saves the state after three steps and checks that a
// fresh optimizer restored from it takes exactly the same fourth step.
func TestAdamWRestore(t *testing.T) {
	be := newBackend()
	grads := rand.New(rand.NewPCG(5, 5))
	newModel := func(seed uint64) []*nn.Parameter {
		r := nn.NewRNG(seed)
		l := must[*nn.Linear](t)(nn.NewLinear(be, "fc", 3, 2, true, r))
		norm := must[*nn.LayerNorm](t)(nn.NewLayerNorm(be, "norm", 2, 1e-5))
		return must[[]*nn.Parameter](t)(nn.Collect(l, norm))
	}
	setGrads := func(ps []*nn.Parameter) {
		for _, p := range ps {
			g := make([]float32, p.Grad.Size())
			for i := range g {
				g[i] = float32(grads.NormFloat64())
			}
			upload(t, be, p.Grad, g)
		}
	}
	cfg := nn.DefaultAdamW(0)
	cfg.Schedule = must[nn.Schedule](t)(nn.LinearWarmupDecay(0.01, 2, 10))
	cfg.ClipNorm = 1

	ps := newModel(1)
	opt := must[*nn.AdamW](t)(nn.NewAdamW(be, ps, cfg))
	for range 3 {
		setGrads(ps)
		if _, err := opt.Step(); err != nil {
			t.Fatal(err)
		}
	}
	savedStep := opt.Steps()
	saved := make(map[string][]float32)
	for _, s := range opt.State() {
		saved[s.Name] = download(t, be, s.Tensor)
	}
	values := make([][]float32, len(ps))
	for i, p := range ps {
		values[i] = download(t, be, p.Value)
	}
	setGrads(ps)
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}

	resumed := newModel(2)
	for i, p := range resumed {
		upload(t, be, p.Value, values[i])
		if err := be.Copy(p.Grad, ps[i].Grad); err != nil {
			t.Fatal(err)
		}
	}
	opt2 := must[*nn.AdamW](t)(nn.NewAdamW(be, resumed, cfg))
	if err := opt2.Restore(savedStep, saved); err != nil {
		t.Fatal(err)
	}
	st := must[nn.StepStats](t)(opt2.Step())
	if st.Step != 4 {
		t.Errorf("resumed step %d, want 4", st.Step)
	}
	for i, p := range resumed {
		got, want := download(t, be, p.Value), download(t, be, ps[i].Value)
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("%s[%d] = %v after resuming, %v without", p.Name, j, got[j], want[j])
			}
		}
	}

	t.Run("errors", func(t *testing.T) {
		missing := map[string][]float32{}
		short := map[string][]float32{}
		for k, v := range saved {
			short[k] = v
			if k != "exp_avg.fc.bias" {
				missing[k] = v
			}
		}
		short["exp_avg_sq.norm.weight"] = []float32{1}
		for name, vals := range map[string]map[string][]float32{"missing": missing, "short": short} {
			if err := opt2.Restore(3, vals); !errors.Is(err, tensor.ErrShape) {
				t.Errorf("%s entry: %v, want ErrShape", name, err)
			}
		}
		if opt2.Steps() != 4 {
			t.Errorf("a failed restore changed the step count to %d", opt2.Steps())
		}
	})
}

func TestDefaultNoDecay(t *testing.T) {
	be := newBackend()
	cases := []struct {
		name  string
		shape []int
		want  bool
	}{
		{"fc.weight", []int{2, 3}, false},
		{"fc.bias", []int{2}, true},
		{"gru.weight_ih_l0_reverse", []int{6, 3}, false},
		{"gru.bias_hh_l0", []int{6}, true},
		{"attention.in_proj_weight", []int{12, 4}, false},
		{"attention.in_proj_bias", []int{12}, true},
		{"char_embedding.weight", []int{10, 4}, true},
		{"encoder.layer_norm.weight", []int{4}, true},
		{"bert.embeddings.word_embeddings.weight", []int{10, 4}, true},
		{"crf.transitions", []int{3, 3}, false},
		{"crf.start_transitions", []int{3}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := must[*nn.Parameter](t)(nn.NewParameter(be, c.name, c.shape...))
			if got := nn.DefaultNoDecay(p); got != c.want {
				t.Errorf("DefaultNoDecay = %v, want %v", got, c.want)
			}
		})
	}
}

func TestHostMirror(t *testing.T) {
	be := newBackend()
	crf := must[*nn.CRF](t)(nn.NewCRF(2))
	copy(crf.Trans, []float32{1, 2, 3, 4})
	m := must[*nn.HostMirror](t)(nn.NewHostMirror(be, "crf", crf.Params()))
	var names []string
	for _, p := range m.Parameters() {
		names = append(names, p.Name)
	}
	if want := []string{"crf.transitions", "crf.start_transitions", "crf.end_transitions"}; !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if got := download(t, be, m.Parameters()[0].Value); got[3] != 4 {
		t.Errorf("uploaded transitions %v", got)
	}
	copy(crf.TransGrad, []float32{1, -1, 0.5, 0})
	if err := m.PushGrads(); err != nil {
		t.Fatal(err)
	}
	cfg := nn.DefaultAdamW(0.1)
	cfg.WeightDecay = 0
	opt := must[*nn.AdamW](t)(nn.NewAdamW(be, m.Parameters(), cfg))
	if _, err := opt.Step(); err != nil {
		t.Fatal(err)
	}
	if err := m.PullValues(); err != nil {
		t.Fatal(err)
	}
	// Adam's first step moves each entry by lr·sign(g).
	want := []float32{0.9, 2.1, 2.9, 4}
	for i, v := range crf.Trans {
		if math.Abs(float64(v-want[i])) > 1e-5 {
			t.Errorf("host transitions %v, want %v", crf.Trans, want)
			break
		}
	}
	bad := []nn.Param{{Name: "x", Shape: []int{2, 2}, Data: make([]float32, 3), Grad: make([]float32, 4)}}
	if _, err := nn.NewHostMirror(be, "", bad); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("mismatched host parameter: %v, want ErrShape", err)
	}
}
