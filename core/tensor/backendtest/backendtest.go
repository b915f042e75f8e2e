// Package backendtest is the conformance suite every tensor.Backend must
// pass. A backend's test calls Run with a constructor:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, func() tensor.Backend { return cpu.New(0) })
//	}
//
// The suite uses only the tensor.Backend interface. It checks every op's
// forward pass against a float64 reference on random inputs of several
// shapes (odd sizes and size-1 dimensions included), every backward pass
// against central finite differences of that float64 reference, the
// accumulate-into-gradient convention (gradient buffers start non-zero),
// and that invalid calls return errors wrapping the tensor package's
// sentinel errors instead of panicking.
//
// # Tolerances (float32 results against float64 references)
//
//   - Exact arithmetic (copies, Add, Sub, Mul, Scale, gathers, dropout
//     masks): |got − want| ≤ 1e-6 + 1e-6·|want|.
//   - Transcendental ops (GELU, tanh, sigmoid, softmax, the losses) and
//     normalisations: 1e-5 + 1e-4·|want|, which allows fast float32
//     exp/tanh on a GPU.
//   - Sums over n terms (MatMul with inner size k, reductions, losses):
//     an absolute allowance of 2e-6·n on top of the above.
//   - Gradients: the norm-wise relative error ‖g − g_fd‖ / ‖g_fd‖ of each
//     gradient tensor, against central differences (step 1e-5) of the
//     float64 reference, must be below 1e-3.
//   - AdamW: 1e-5 + 1e-4·|want| after three steps.
package backendtest

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bingli/bingli/core/tensor"
)

// Run runs the whole suite against the backend newBackend returns. The
// constructor is called once; every test shares that backend.
func Run(t *testing.T, newBackend func() tensor.Backend) {
	b := newBackend()
	groups := []struct {
		name string
		fn   func(*suite)
	}{
		{"Memory", testMemory},
		{"MatMul", testMatMul},
		{"BatchedMatMul", testBatchedMatMul},
		{"Elementwise", testElementwise},
		{"CopyCols", testCopyCols},
		{"Activations", testActivations},
		{"Softmax", testSoftmax},
		{"LayerNorm", testLayerNorm},
		{"AddLayerNorm", testAddLayerNorm},
		{"BatchNorm", testBatchNorm},
		{"Dropout", testDropout},
		{"Losses", testLosses},
		{"Embedding", testEmbedding},
		{"Reductions", testReductions},
		{"Optimizer", testOptimizer},
		{"Recurrent", testRecurrent},
		{"Attention", testAttention},
		{"Int8", testInt8},
		{"Linear", testLinear},
		{"Errors", testErrors},
	}
	for i, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			g.fn(&suite{t: t, b: b, r: rand.New(rand.NewPCG(uint64(i)+1, 42))})
		})
	}
}

// suite bundles a test, the backend under test and a seeded generator.
type suite struct {
	t *testing.T
	b tensor.Backend
	r *rand.Rand
}

// run runs fn as a subtest with its own suite.
func (s *suite) run(name string, fn func(s *suite)) {
	s.t.Helper()
	s.t.Run(name, func(t *testing.T) {
		fn(&suite{t: t, b: s.b, r: s.r})
	})
}

// ok fails the test on a non-nil error.
func (s *suite) ok(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("unexpected error: %v", err)
	}
}

// randn returns n standard normal values rounded to float32, so the
// backend and the float64 reference see the same inputs.
func (s *suite) randn(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(s.r.NormFloat64()))
	}
	return v
}

// uniform returns n values in [lo, hi) rounded to float32.
func (s *suite) uniform(n int, lo, hi float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(lo + (hi-lo)*s.r.Float64()))
	}
	return v
}

// up uploads data as a tensor of the given shape.
func (s *suite) up(data []float64, shape ...int) *tensor.Tensor {
	s.t.Helper()
	f := make([]float32, len(data))
	for i, v := range data {
		f[i] = float32(v)
	}
	x, err := s.b.FromSlice(f, shape...)
	s.ok(err)
	return x
}

// rand uploads a standard normal tensor and returns it with its values.
func (s *suite) rand(shape ...int) (*tensor.Tensor, []float64) {
	s.t.Helper()
	n, err := tensor.SizeOf(shape)
	s.ok(err)
	v := s.randn(n)
	return s.up(v, shape...), v
}

// zeros returns a zero tensor.
func (s *suite) zeros(shape ...int) *tensor.Tensor {
	s.t.Helper()
	x, err := s.b.New(shape...)
	s.ok(err)
	return x
}

// down downloads x as float64.
func (s *suite) down(x *tensor.Tensor) []float64 {
	s.t.Helper()
	f, err := s.b.ToSlice(x)
	s.ok(err)
	v := make([]float64, len(f))
	for i, e := range f {
		v[i] = float64(e)
	}
	return v
}

// tolerance is an absolute plus relative error bound.
type tolerance struct{ abs, rel float64 }

var (
	exact         = tolerance{1e-6, 1e-6}
	transcendent  = tolerance{1e-5, 1e-4}
	gradRelTol    = 1e-3
	fdStep        = 1e-5
	sumAllowance  = 2e-6
	fillAllowance = 0.25
)

// sumTol widens tol for a sum of n float32 terms.
func sumTol(tol tolerance, n int) tolerance {
	return tolerance{tol.abs + sumAllowance*float64(n), tol.rel}
}

// near checks got against want element by element.
func (s *suite) near(name string, got, want []float64, tol tolerance) {
	s.t.Helper()
	if len(got) != len(want) {
		s.t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(got[i] - want[i]); !(d <= tol.abs+tol.rel*math.Abs(want[i])) {
			s.t.Fatalf("%s[%d] = %.8g, want %.8g (|diff| %.3g > %.3g + %.3g·|want|)", name, i, got[i], want[i], d, tol.abs, tol.rel)
		}
	}
}

// nearTensor downloads x and checks it against want.
func (s *suite) nearTensor(name string, x *tensor.Tensor, want []float64, tol tolerance) {
	s.t.Helper()
	s.near(name, s.down(x), want, tol)
}

// scalar checks one value.
func (s *suite) scalar(name string, got float32, want float64, tol tolerance) {
	s.t.Helper()
	s.near(name, []float64{float64(got)}, []float64{want}, tol)
}

// accum is a gradient buffer that starts with random contents, so that the
// check also proves the op accumulates.
type accum struct {
	t    *tensor.Tensor
	init []float64
}

// grad returns a randomly pre-filled gradient buffer of the given shape.
func (s *suite) grad(shape ...int) accum {
	s.t.Helper()
	n, err := tensor.SizeOf(shape)
	s.ok(err)
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(float32(fillAllowance * s.r.NormFloat64()))
	}
	return accum{s.up(v, shape...), v}
}

// delta downloads the accumulated gradient minus the initial contents.
func (s *suite) delta(a accum) []float64 {
	s.t.Helper()
	v := s.down(a.t)
	for i := range v {
		v[i] -= a.init[i]
	}
	return v
}

// fd returns the central-difference gradient of loss with respect to x,
// perturbing x in place.
func fd(x []float64, loss func() float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		orig := x[i]
		x[i] = orig + fdStep
		lp := loss()
		x[i] = orig - fdStep
		lm := loss()
		x[i] = orig
		g[i] = (lp - lm) / (2 * fdStep)
	}
	return g
}

// gradCheck compares the gradient an op accumulated into a against the
// finite-difference gradient of loss with respect to x.
func (s *suite) gradCheck(name string, a accum, x []float64, loss func() float64) {
	s.t.Helper()
	s.gradNear(name, s.delta(a), fd(x, loss))
}

// gradNear checks the norm-wise relative error of got against want.
func (s *suite) gradNear(name string, got, want []float64) {
	s.t.Helper()
	var num, den float64
	for i := range got {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	rel := math.Sqrt(num) / math.Max(math.Sqrt(den), 1e-6)
	if !(rel < gradRelTol) {
		s.t.Fatalf("gradient %s: relative error %.3g ≥ %g\n got  %.6g\n want %.6g", name, rel, gradRelTol, got, want)
	}
}

// dot is Σ w_i·y_i, the scalar whose gradient a backward with upstream
// gradient w computes.
func dot(w, y []float64) float64 {
	var s float64
	for i := range w {
		s += w[i] * y[i]
	}
	return s
}

// wantErr checks that err wraps target.
func (s *suite) wantErr(name string, err, target error) {
	s.t.Helper()
	if !errors.Is(err, target) {
		s.t.Errorf("%s: error %v, want one wrapping %v", name, err, target)
	}
}

// size returns the element count of shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// matrix returns the matrix view of shape (as tensor.Tensor.Matrix).
func matrix(shape []int) (rows, cols int) {
	return size(shape[:len(shape)-1]), shape[len(shape)-1]
}

// shapes are the tensor shapes elementwise and row-wise ops are tested on.
var shapes = [][]int{{1}, {1, 1}, {7}, {1, 5}, {4, 1}, {3, 5}, {2, 3, 4}, {33, 17}}

// emptyShapes are the shapes with no elements the elementwise ops must
// accept.
var emptyShapes = [][]int{{0}, {2, 0}, {0, 3}}
