// Package gradcheck compares the analytic gradients of nn layers and
// models with central finite differences, for the tests of core/nn and of
// the models built on it.
//
// The loss is any scalar function of the checked tensors; Probe provides
// the usual one, L = Σ w ⊙ y with fixed random weights w, whose gradient
// dL/dy = w is fed to the backward pass.
//
// # Tolerance
//
// The backends compute in float32, so a difference quotient carries the
// rounding error of the loss (relative ~1e-7, evaluated here in float64
// from the float32 outputs) divided by 2h, plus the truncation error
// O(h²·f‴). With smooth layers, O(1) activations and h = 1e-2 both are
// about 1e-5…1e-4 of a typical gradient, so a norm-wise relative error
// below 1e-3 separates correct gradients (≈1e-5…1e-4) from wrong ones
// (≈1e-1 and up). The error is measured over each tensor's whole checked
// gradient vector, ‖a − n‖ / max(‖a‖, ‖n‖), rather than per element: a
// per-element ratio is dominated by float32 noise on the elements whose
// true gradient is near zero.
package gradcheck

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/bingli/bingli/core/nn"
	"github.com/bingli/bingli/core/tensor"
)

// ErrMismatch reports gradients that differ from the finite differences by
// more than the tolerance.
var ErrMismatch = errors.New("gradcheck: analytic and numeric gradients differ")

// Func evaluates the loss from the current values of the checked tensors.
// With backward set it also runs the backward pass, accumulating into the
// Grad tensors (Check zeroes them first). It must be deterministic: reset
// any dropout offset or other state that a call advances.
type Func func(backward bool) (float64, error)

// Options tune Check; zero values select the defaults.
type Options struct {
	Step     float64 // finite-difference step h (default 1e-2)
	Tol      float64 // largest norm-wise relative error (default 1e-3)
	MaxElems int     // elements checked per tensor, a random subset if more (default 16)
	Seed     uint64  // seed of the subset choice
}

// Result is the comparison for one tensor.
type Result struct {
	Name     string
	Indices  []int     // the flat element indices checked
	Analytic []float64 // the backward pass's gradient at Indices
	Numeric  []float64 // the central differences at Indices
	RelErr   float64   // ‖Analytic − Numeric‖ / max(‖Analytic‖, ‖Numeric‖); 0 if both vanish
}

// Check compares the gradients f accumulates into each target's Grad with
// central differences (f(x + h) − f(x − h)) / 2h, perturbing each checked
// element of the target's Value in turn. Inputs are checked the same way:
// wrap them as Parameters (Value the input, Grad the tensor the backward
// accumulates the input gradient into). Values are restored afterwards.
// The error wraps ErrMismatch and names every tensor over the tolerance;
// the results are returned either way.
func Check(be tensor.Backend, f Func, targets []*nn.Parameter, opt Options) ([]Result, error) {
	if opt.Step == 0 {
		opt.Step = 1e-2
	}
	if opt.Tol == 0 {
		opt.Tol = 1e-3
	}
	if opt.MaxElems == 0 {
		opt.MaxElems = 16
	}
	r := rand.New(rand.NewPCG(opt.Seed, 7))
	if err := nn.ZeroGrad(be, targets); err != nil {
		return nil, err
	}
	if _, err := f(true); err != nil {
		return nil, fmt.Errorf("gradcheck: backward: %w", err)
	}
	var results []Result
	var bad []string
	for _, p := range targets {
		grad, err := be.ToSlice(p.Grad)
		if err != nil {
			return nil, err
		}
		res, err := numeric(be, f, p, grad, sample(r, len(grad), opt.MaxElems), opt.Step)
		if err != nil {
			return nil, err
		}
		results = append(results, res)
		if !(res.RelErr < opt.Tol) {
			bad = append(bad, fmt.Sprintf("%s: %.3g", res.Name, res.RelErr))
		}
	}
	if bad != nil {
		return results, fmt.Errorf("%w (tolerance %g): %s", ErrMismatch, opt.Tol, strings.Join(bad, ", "))
	}
	return results, nil
}

// numeric computes the central differences of f for the indices of p and
// compares them with grad.
func numeric(be tensor.Backend, f Func, p *nn.Parameter, grad []float32, idx []int, h float64) (Result, error) {
	res := Result{Name: p.Name, Indices: idx}
	orig, err := be.ToSlice(p.Value)
	if err != nil {
		return res, err
	}
	work := append([]float32(nil), orig...)
	eval := func(i int, v float32) (float64, error) {
		work[i] = v
		if err := be.Upload(p.Value, work); err != nil {
			return 0, err
		}
		return f(false)
	}
	var diff, na, nn2 float64
	for _, i := range idx {
		// Perturb by the float32-representable steps actually taken.
		hi, lo := float32(float64(orig[i])+h), float32(float64(orig[i])-h)
		fp, err := eval(i, hi)
		if err != nil {
			return res, fmt.Errorf("gradcheck: %s[%d]: %w", p.Name, i, err)
		}
		fm, err := eval(i, lo)
		if err != nil {
			return res, fmt.Errorf("gradcheck: %s[%d]: %w", p.Name, i, err)
		}
		work[i] = orig[i]
		num := (fp - fm) / (float64(hi) - float64(lo))
		a := float64(grad[i])
		res.Analytic = append(res.Analytic, a)
		res.Numeric = append(res.Numeric, num)
		diff += (a - num) * (a - num)
		na += a * a
		nn2 += num * num
	}
	if err := be.Upload(p.Value, orig); err != nil {
		return res, err
	}
	if den := math.Sqrt(max(na, nn2)); den > 0 {
		res.RelErr = math.Sqrt(diff) / den
	}
	return res, nil
}

// sample returns all of [0, n) if n ≤ k, else k distinct random indices.
func sample(r *rand.Rand, n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	return r.Perm(n)[:k]
}

// Probe is the loss L = Σ w ⊙ y for fixed weights w ~ N(0, 1): a random
// linear functional that exercises every output element with a distinct
// weight.
type Probe struct {
	w  []float64
	dy *tensor.Tensor
}

// NewProbe returns a probe for outputs of the given shape.
func NewProbe(be tensor.Backend, seed uint64, shape ...int) (*Probe, error) {
	n, err := tensor.SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("gradcheck: probe: %w", err)
	}
	r := rand.New(rand.NewPCG(seed, 11))
	p := &Probe{w: make([]float64, n)}
	w32 := make([]float32, n)
	for i := range p.w {
		w32[i] = float32(r.NormFloat64())
		p.w[i] = float64(w32[i])
	}
	if p.dy, err = be.FromSlice(w32, shape...); err != nil {
		return nil, fmt.Errorf("gradcheck: probe: %w", err)
	}
	return p, nil
}

// Loss returns Σ w ⊙ y, summed in float64 on the host.
func (p *Probe) Loss(be tensor.Backend, y *tensor.Tensor) (float64, error) {
	if y.Size() != len(p.w) {
		return 0, fmt.Errorf("gradcheck: probe of %d elements applied to %v: %w", len(p.w), y, tensor.ErrShape)
	}
	v, err := be.ToSlice(y)
	if err != nil {
		return 0, err
	}
	var s float64
	for i, x := range v {
		s += p.w[i] * float64(x)
	}
	return s, nil
}

// Grad returns dL/dy = w, shaped like the outputs; do not modify it.
func (p *Probe) Grad() *tensor.Tensor { return p.dy }
