package cuda_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/backendtest"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/cuda"
)

// openOrSkip opens the CUDA backend, or skips the test where it cannot run
// (no library, no GPU) — unless BINGLI_REQUIRE_CUDA is set, as on the GPU
// machine, where a missing backend is a failure.
func openOrSkip(t *testing.T) *cuda.Backend {
	t.Helper()
	b, err := cuda.Open(cuda.Options{})
	if err != nil {
		if errors.Is(err, cuda.ErrUnavailable) && os.Getenv("BINGLI_REQUIRE_CUDA") == "" {
			t.Skipf("CUDA backend not available here: %v", err)
		}
		t.Fatalf("open CUDA backend: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestOpenWithoutLibrary(t *testing.T) {
	_, err := cuda.Open(cuda.Options{Library: t.TempDir() + "/missing.so"})
	if !errors.Is(err, cuda.ErrUnavailable) {
		t.Fatalf("Open with a missing library: %v, want ErrUnavailable", err)
	}
	bad := t.TempDir() + "/libbingli_cuda.so"
	if err := os.WriteFile(bad, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cuda.Open(cuda.Options{Library: bad}); !errors.Is(err, cuda.ErrUnavailable) {
		t.Fatalf("Open with a corrupt library: %v, want ErrUnavailable", err)
	}
}

func TestConformance(t *testing.T) {
	b := openOrSkip(t)
	t.Logf("device: %s", b.Device())
	backendtest.Run(t, func() tensor.Backend { return b })
}

var parityLabels = []string{"O", "B-S", "I-S", "B-B", "I-B"}

func paritySegments(n int, r *rand.Rand) []tagger.Segment {
	segs := make([]tagger.Segment, n)
	for i := range segs {
		T := 3 + r.IntN(20)
		s := tagger.Segment{Chars: make([]int32, T), Dict: make([]uint8, T), Tags: make([]int32, T)}
		// Valid BIO paths over O=0, B-S=1, I-S=2, B-B=3, I-B=4.
		for t := range T {
			s.Chars[t] = int32(6 + r.IntN(40))
			s.Dict[t] = uint8(r.IntN(4))
			prev := int32(0)
			if t > 0 {
				prev = s.Tags[t-1]
			}
			switch k := r.IntN(4); {
			case prev != 0 && k == 0:
				s.Tags[t] = (prev + 1) / 2 * 2 // I- of the running type
			case k == 1:
				s.Tags[t] = 1 + 2*int32(r.IntN(2)) // a B- tag
			}
		}
		segs[i] = s
	}
	return segs
}

// TestTaggerParity runs the whole tagger (embeddings, dictionary features,
// BiGRU, attention, dropout, emissions, CRF) on the CPU and on the GPU with
// the same weights and batch, and compares the loss, every parameter
// gradient, the Viterbi paths and the marginals.
func TestTaggerParity(t *testing.T) {
	gpu := openOrSkip(t)
	for _, att := range []string{"none", "full", "window"} {
		t.Run(att, func(t *testing.T) {
			cfg := tagger.Config{Vocab: 50, Tags: len(parityLabels), CharDim: 16, DictDim: 8, DictFeatures: 4,
				Hidden: 24, Attention: att, Heads: 4, Window: 4, Dropout: 0.3}
			mc, err := tagger.New(cpu.New(1), cfg, parityLabels, 11)
			if err != nil {
				t.Fatal(err)
			}
			mg, err := tagger.New(gpu, cfg, parityLabels, 11)
			if err != nil {
				t.Fatal(err)
			}
			segs := paritySegments(9, rand.New(rand.NewPCG(5, 6)))
			batch, err := tagger.MakeBatch(segs, []int{0, 1, 2, 3, 4, 5, 6, 7, 8})
			if err != nil {
				t.Fatal(err)
			}
			lc, err := mc.Loss(batch)
			if err != nil {
				t.Fatal(err)
			}
			lg, err := mg.Loss(batch)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(lc-lg) > 1e-4*math.Max(1, math.Abs(lc)) {
				t.Errorf("loss: CPU %.7g, CUDA %.7g", lc, lg)
			}
			pc, pg := mc.Parameters(), mg.Parameters()
			for i := range pc {
				a, err := mc.Backend().ToSlice(pc[i].Grad)
				if err != nil {
					t.Fatal(err)
				}
				b, err := gpu.ToSlice(pg[i].Grad)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(a, b); e > 1e-4 {
					t.Errorf("gradient of %s: relative difference %.2g", pc[i].Name, e)
				}
			}
			dc, err := mc.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			dg, err := mg.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			for i := range dc.Paths {
				for j := range dc.Paths[i] {
					if dc.Paths[i][j] != dg.Paths[i][j] {
						t.Fatalf("sequence %d: Viterbi paths differ: CPU %v, CUDA %v", i, dc.Paths[i], dg.Paths[i])
					}
				}
			}
			if e := relErr(dc.Marginals, dg.Marginals); e > 1e-4 {
				t.Errorf("marginals: relative difference %.2g", e)
			}
		})
	}
}

// timeToBatch reorders [T, B, K] values (the emissions' layout on the device) to [B, T, K]
// (the host CRF's).
func timeToBatch(x []float32, T, B, K int) []float32 {
	out := make([]float32, len(x))
	for t := range T {
		for b := range B {
			copy(out[(b*T+t)*K:(b*T+t+1)*K], x[(t*B+b)*K:(t*B+b+1)*K])
		}
	}
	return out
}

// relErr is ‖a − b‖ / max(‖a‖, tiny).
func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d += x * x
		n += float64(a[i]) * float64(a[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(n), 1e-12)
}

// TestCRFDecode compares the device CRF decoder with the host CRF (core/nn) on random
// emissions, with BIO constraints, for several tag counts and ragged lengths.
func TestCRFDecode(t *testing.T) {
	gpu := openOrSkip(t)
	r := rand.New(rand.NewPCG(9, 9))
	for _, types := range []int{2, 6, 15} {
		labels := []string{"O"}
		for i := range types {
			labels = append(labels, fmt.Sprintf("B-%d", i), fmt.Sprintf("I-%d", i))
		}
		K, T, B := len(labels), 40, 7
		crf, err := nn.NewCRF(K)
		if err != nil {
			t.Fatal(err)
		}
		if err := crf.SetConstraints(nn.BIOConstraints(labels)); err != nil {
			t.Fatal(err)
		}
		for i := range crf.Trans {
			crf.Trans[i] = float32(r.NormFloat64())
		}
		for i := range K {
			crf.Start[i], crf.End[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		lengths := make([]int32, B)
		lens := make([]int, B)
		for b := range B {
			lengths[b] = int32(1 + r.IntN(T))
			lens[b] = int(lengths[b])
		}
		lengths[0], lens[0] = int32(T), T
		timeMajor := make([]float32, T*B*K)
		for i := range timeMajor {
			timeMajor[i] = float32(3 * r.NormFloat64())
		}
		batchMajor := timeToBatch(timeMajor, T, B, K)
		em, err := gpu.FromSlice(timeMajor, T, B, K)
		if err != nil {
			t.Fatal(err)
		}
		trans, start, end := crf.Scores()
		paths, marg, err := gpu.CRFDecode(em, lengths, trans, start, end)
		if err != nil {
			t.Fatal(err)
		}
		wantPaths, _, err := crf.Viterbi(batchMajor, lens)
		if err != nil {
			t.Fatal(err)
		}
		wantMarg, err := crf.Marginals(batchMajor, lens)
		if err != nil {
			t.Fatal(err)
		}
		for b := range B {
			if fmt.Sprint(paths[b]) != fmt.Sprint(wantPaths[b]) {
				t.Errorf("K=%d sequence %d: path %v, host %v", K, b, paths[b], wantPaths[b])
			}
		}
		for i := range marg {
			if math.Abs(float64(marg[i]-wantMarg[i])) > 1e-5 {
				t.Fatalf("K=%d: marginal %d = %g, host %g", K, i, marg[i], wantMarg[i])
			}
		}
		gpu.Free(em)
	}
	em, err := gpu.New(2, 1, 33)
	if err != nil {
		t.Fatal(err)
	}
	z := make([]float32, 33)
	if _, _, err := gpu.CRFDecode(em, []int32{2}, make([]float32, 33*33), z, z); !errors.Is(err, tensor.ErrUnsupported) {
		t.Fatalf("33 tags: %v, want ErrUnsupported", err)
	}
}

// TestBF16Storage checks a bf16-storage backend against the CPU on an encoder-shaped
// sequence of ops (bf16 tolerance: relative 1e-2), and that ops without bf16 support
// refuse cleanly.
func TestBF16Storage(t *testing.T) {
	openOrSkip(t)
	g, err := cuda.Open(cuda.Options{BF16: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c := cpu.New(1)
	r := rand.New(rand.NewPCG(3, 3))
	randn := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		return v
	}
	const B, T, D, heads = 3, 12, 32, 4
	x, w, bias, gamma, beta := randn(B*T*D), randn(D*D), randn(D), randn(D), randn(D)
	for i := range w {
		w[i] /= float32(math.Sqrt(D)) // unit-variance activations: well-conditioned for bf16
	}
	run := func(be tensor.Backend) []float32 {
		t.Helper()
		up := func(v []float32, shape ...int) *tensor.Tensor {
			tt, err := be.FromSlice(v, shape...)
			if err != nil {
				t.Fatal(err)
			}
			return tt
		}
		xt, wt, bt, gt, bet := up(x, B, T, D), up(w, D, D), up(bias, D), up(gamma, D), up(beta, D)
		y, _ := be.New(B, T, D)
		att, _ := be.New(B, T, D)
		probs, _ := be.New(B, heads, T, T)
		sum, _ := be.New(B, T, D)
		out, _ := be.New(B, T, D)
		steps := []error{
			be.MatMul(false, true, 1, xt, wt, 0, y),
			be.AddBias(y, y, bt),
			be.Activate(tensor.GELU, y, y),
			be.Attention(att, probs, y, y, y, []int32{12, 7, 1}, heads, false),
			be.AddLayerNorm(out, sum, nil, nil, att, xt, gt, bet, 1e-5),
		}
		for i, err := range steps {
			if err != nil {
				t.Fatalf("step %d on %s: %v", i, be.Name(), err)
			}
		}
		v, err := be.ToSlice(out)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	want, got := run(c), run(g)
	if e := relErr(want, got); e > 1e-2 || math.IsNaN(e) {
		t.Fatalf("bf16 encoder block: relative difference %.3g from the fp32 CPU result", e)
	}
	t.Logf("bf16 encoder block: relative difference %.3g", relErr(want, got))
	a, _ := g.New(4)
	if _, err := g.Sum(a); !errors.Is(err, tensor.ErrUnsupported) {
		t.Fatalf("Sum with bf16 storage: %v, want ErrUnsupported", err)
	}
}

// TestCRFNLL compares the device CRF negative log-likelihood and its gradients with the host
// CRF's NLLBackward on random emissions and valid BIO gold paths.
func TestCRFNLL(t *testing.T) {
	gpu := openOrSkip(t)
	r := rand.New(rand.NewPCG(4, 4))
	labels := []string{"O", "B-a", "I-a", "B-b", "I-b", "B-c", "I-c"}
	K, T, B := len(labels), 30, 6
	crf, err := nn.NewCRF(K)
	if err != nil {
		t.Fatal(err)
	}
	if err := crf.SetConstraints(nn.BIOConstraints(labels)); err != nil {
		t.Fatal(err)
	}
	for i := range crf.Trans {
		crf.Trans[i] = float32(r.NormFloat64())
	}
	for i := range K {
		crf.Start[i], crf.End[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	lengths := make([]int32, B)
	lens := make([]int, B)
	gold := make([]int32, B*T)
	for b := range B {
		n := 1 + r.IntN(T)
		if b == 0 {
			n = T
		}
		lengths[b], lens[b] = int32(n), n
		for tt := range n {
			prev := int32(0)
			if tt > 0 {
				prev = gold[b*T+tt-1]
			}
			switch k := r.IntN(3); {
			case prev != 0 && k == 0:
				gold[b*T+tt] = (prev + 1) / 2 * 2 // continue the running entity
			case k == 1:
				gold[b*T+tt] = 1 + 2*int32(r.IntN(3))
			}
		}
	}
	timeMajor := make([]float32, T*B*K)
	for i := range timeMajor {
		timeMajor[i] = float32(2 * r.NormFloat64())
	}
	batchMajor := timeToBatch(timeMajor, T, B, K)
	crf.ZeroGrad()
	dHost := make([]float32, len(batchMajor))
	wantLoss, err := crf.NLLBackward(batchMajor, lens, gold, dHost)
	if err != nil {
		t.Fatal(err)
	}
	wantTrans := append([]float32(nil), crf.TransGrad...)
	wantStart := append([]float32(nil), crf.StartGrad...)
	wantEnd := append([]float32(nil), crf.EndGrad...)

	em, err := gpu.FromSlice(timeMajor, T, B, K)
	if err != nil {
		t.Fatal(err)
	}
	dEm, err := gpu.New(T, B, K)
	if err != nil {
		t.Fatal(err)
	}
	dTrans, dStart, dEnd := make([]float32, K*K), make([]float32, K), make([]float32, K)
	trans, start, end := crf.Scores()
	loss, err := gpu.CRFNLL(dEm, em, lengths, gold, trans, start, end, 1/float64(B), dTrans, dStart, dEnd)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-wantLoss) > 1e-6*math.Max(1, math.Abs(wantLoss)) {
		t.Errorf("loss %.9g, host %.9g", loss, wantLoss)
	}
	got, err := gpu.ToSlice(dEm)
	if err != nil {
		t.Fatal(err)
	}
	gotBatch := timeToBatch(got, T, B, K)
	for _, c := range []struct {
		name      string
		got, want []float32
	}{{"emissions", gotBatch, dHost}, {"transitions", dTrans, wantTrans}, {"start", dStart, wantStart}, {"end", dEnd, wantEnd}} {
		if e := relErr(c.want, c.got); e > 1e-5 {
			t.Errorf("%s gradient: relative difference %.2g", c.name, e)
		}
	}
}

// TestTF32Products checks the TF32 path (Options.TF32) against the fp32 CPU: TF32 keeps 10
// mantissa bits in the products, so the norm-wise relative error of a K = 512 product is a
// few 1e-4; the bound is 2e-3, for a plain product and for the fused linear layer.
func TestTF32Products(t *testing.T) {
	openOrSkip(t)
	g, err := cuda.Open(cuda.Options{TF32: true})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	c := cpu.New(1)
	r := rand.New(rand.NewPCG(5, 5))
	const M, N, K = 96, 80, 512
	randn := func(n int, scale float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(scale * r.NormFloat64())
		}
		return v
	}
	a, b, w, bias := randn(M*K, 1), randn(K*N, 1), randn(N*N, 0.05), randn(N, 1)
	run := func(be tensor.Backend) (prod, lin []float32) {
		up := func(v []float32, shape ...int) *tensor.Tensor {
			x, err := be.FromSlice(v, shape...)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		ct, err := be.New(M, N)
		if err != nil {
			t.Fatal(err)
		}
		if err := be.MatMul(false, false, 1, up(a, M, K), up(b, K, N), 0, ct); err != nil {
			t.Fatal(err)
		}
		yt, err := be.New(M, N)
		if err != nil {
			t.Fatal(err)
		}
		if err := tensor.Linear(be, yt, ct, up(w, N, N), up(bias, N), tensor.GELU); err != nil {
			t.Fatal(err)
		}
		if prod, err = be.ToSlice(ct); err != nil {
			t.Fatal(err)
		}
		if lin, err = be.ToSlice(yt); err != nil {
			t.Fatal(err)
		}
		return prod, lin
	}
	wantP, wantL := run(c)
	gotP, gotL := run(g)
	for _, x := range []struct {
		name      string
		got, want []float32
	}{{"product", gotP, wantP}, {"fused linear", gotL, wantL}} {
		e := relErr(x.want, x.got)
		t.Logf("TF32 %s: relative difference %.3g", x.name, e)
		if e > 2e-3 || math.IsNaN(e) {
			t.Errorf("TF32 %s: relative difference %.3g, want ≤ 2e-3", x.name, e)
		}
	}
}
