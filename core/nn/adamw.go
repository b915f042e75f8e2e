package nn

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/bingli/bingli/core/tensor"
)

// ErrNonFinite reports a gradient norm that is NaN or infinite; the
// optimizer then skips the update (the step count does not advance).
var ErrNonFinite = errors.New("nn: non-finite gradient norm")

// AdamWConfig configures AdamW.
type AdamWConfig struct {
	// Schedule gives the learning rate of each step.
	Schedule Schedule
	// Beta1, Beta2 and Eps are Adam's constants (0.9, 0.999, 1e-8 in
	// DefaultAdamW).
	Beta1, Beta2, Eps float32
	// WeightDecay is the decoupled decay λ: p −= lr·λ·p each step, for the
	// parameters NoDecay does not exempt.
	WeightDecay float32
	// ClipNorm > 0 rescales all gradients together so that their global
	// L2 norm is at most ClipNorm (torch.nn.utils.clip_grad_norm_); 0
	// disables clipping.
	ClipNorm float32
	// NoDecay exempts parameters from weight decay; nil means
	// DefaultNoDecay.
	NoDecay func(*Parameter) bool
}

// DefaultAdamW returns PyTorch's AdamW defaults (β = 0.9, 0.999,
// eps = 1e-8, weight decay 0.01) with a constant learning rate and no
// clipping.
func DefaultAdamW(lr float32) AdamWConfig {
	return AdamWConfig{Schedule: Constant(lr), Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
}

// DefaultNoDecay is the usual transformer rule: no weight decay for
// biases, normalisation parameters and embeddings. A parameter is exempt
// if it has fewer than two dimensions (biases, LayerNorm γ and β, CRF
// start/end scores), or if a component of its dotted name starts with
// "bias", contains "norm" (any case: "ln" alone does not count, so name
// LayerNorms "...norm..."), or contains "embed". Everything else (Linear,
// RNN and CRF transition matrices) decays.
func DefaultNoDecay(p *Parameter) bool {
	if p.Value.Rank() < 2 {
		return true
	}
	for _, c := range strings.Split(strings.ToLower(p.Name), ".") {
		if strings.HasPrefix(c, "bias") || strings.Contains(c, "norm") || strings.Contains(c, "embed") {
			return true
		}
	}
	return false
}

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), using
// the backend's fused update. Its state is the step count and two moment
// tensors per parameter, exposed by State for checkpoints.
type AdamW struct {
	cfg    AdamWConfig
	be     tensor.Backend
	params []*Parameter
	decay  []bool
	m, v   []*tensor.Tensor
	grads  []*tensor.Tensor
	step   int
}

// StepStats reports one optimizer step.
type StepStats struct {
	Step     int     // the step just taken, from 1
	LR       float32 // its learning rate
	GradNorm float32 // global gradient norm before clipping
	Clipped  bool    // whether the gradients were scaled down
}

// NewAdamW returns an optimizer over params with zero moments.
func NewAdamW(be tensor.Backend, params []*Parameter, cfg AdamWConfig) (*AdamW, error) {
	if cfg.Schedule == nil || !(cfg.Beta1 >= 0 && cfg.Beta1 < 1) || !(cfg.Beta2 >= 0 && cfg.Beta2 < 1) ||
		!(cfg.Eps > 0) || !(cfg.WeightDecay >= 0) || !(cfg.ClipNorm >= 0) {
		return nil, fmt.Errorf("nn: AdamW config %+v: %w", cfg, tensor.ErrArgument)
	}
	if cfg.NoDecay == nil {
		cfg.NoDecay = DefaultNoDecay
	}
	o := &AdamW{cfg: cfg, be: be, params: params}
	seen := make(map[string]bool)
	for _, p := range params {
		if seen[p.Name] {
			return nil, fmt.Errorf("nn: AdamW: duplicate parameter name %q: %w", p.Name, tensor.ErrArgument)
		}
		seen[p.Name] = true
		m, err := be.New(p.Value.Shape()...)
		if err != nil {
			return nil, fmt.Errorf("nn: AdamW state for %q: %w", p.Name, err)
		}
		v, err := be.New(p.Value.Shape()...)
		if err != nil {
			return nil, fmt.Errorf("nn: AdamW state for %q: %w", p.Name, err)
		}
		o.m, o.v = append(o.m, m), append(o.v, v)
		o.grads = append(o.grads, p.Grad)
		o.decay = append(o.decay, !cfg.NoDecay(p))
	}
	return o, nil
}

// Steps returns the number of steps taken (restored by Restore).
func (o *AdamW) Steps() int { return o.step }

// ZeroGrad sets every parameter's gradient to zero.
func (o *AdamW) ZeroGrad() error { return ZeroGrad(o.be, o.params) }

// Step clips the gradients (if configured) and updates every parameter.
// On a non-finite gradient norm it changes nothing and returns an error
// wrapping ErrNonFinite, so the caller can skip the batch.
func (o *AdamW) Step() (StepStats, error) {
	st := StepStats{Step: o.step + 1, LR: o.cfg.Schedule(o.step + 1)}
	if len(o.params) == 0 {
		o.step++
		return st, nil
	}
	norm, err := o.be.GradNorm(o.grads...)
	if err != nil {
		return st, fmt.Errorf("nn: AdamW: %w", err)
	}
	st.GradNorm = norm
	if math.IsNaN(float64(norm)) || math.IsInf(float64(norm), 0) {
		return st, fmt.Errorf("nn: AdamW step %d: norm %v: %w", st.Step, norm, ErrNonFinite)
	}
	scale := clipScale(norm, o.cfg.ClipNorm)
	st.Clipped = scale < 1
	for i, p := range o.params {
		cfg := tensor.AdamWConfig{LR: st.LR, Beta1: o.cfg.Beta1, Beta2: o.cfg.Beta2, Eps: o.cfg.Eps}
		if o.decay[i] {
			cfg.WeightDecay = o.cfg.WeightDecay
		}
		if err := o.be.AdamW(p.Value, p.Grad, o.m[i], o.v[i], cfg, st.Step, scale); err != nil {
			return st, fmt.Errorf("nn: AdamW update of %q: %w", p.Name, err)
		}
	}
	o.step++
	return st, nil
}

// clipScale is the factor that brings norm down to maxNorm (1 when it is
// already below, or when maxNorm is 0), with PyTorch's 1e-6 guard.
func clipScale(norm, maxNorm float32) float32 {
	if maxNorm <= 0 || norm <= maxNorm {
		return 1
	}
	return maxNorm / (norm + 1e-6)
}

// ClipGradNorm scales the gradients of params in place so that their
// global L2 norm is at most maxNorm, and returns the norm before clipping
// (torch.nn.utils.clip_grad_norm_). AdamW folds the same scaling into its
// update instead; use this with other update rules or to inspect norms.
func ClipGradNorm(be tensor.Backend, params []*Parameter, maxNorm float32) (float32, error) {
	grads := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		grads[i] = p.Grad
	}
	if len(grads) == 0 {
		return 0, nil
	}
	norm, err := be.GradNorm(grads...)
	if err != nil {
		return 0, fmt.Errorf("nn: clip gradients: %w", err)
	}
	if math.IsNaN(float64(norm)) || math.IsInf(float64(norm), 0) {
		return norm, fmt.Errorf("nn: clip gradients: norm %v: %w", norm, ErrNonFinite)
	}
	if s := clipScale(norm, maxNorm); s < 1 {
		for _, g := range grads {
			if err := be.Scale(g, g, s); err != nil {
				return norm, fmt.Errorf("nn: clip gradients: %w", err)
			}
		}
	}
	return norm, nil
}

// StateTensor is one named optimizer state tensor.
type StateTensor struct {
	Name   string
	Tensor *tensor.Tensor
}

// State returns the live moment tensors, named "exp_avg.<param>" and
// "exp_avg_sq.<param>" (PyTorch's state keys, prefixed to the parameter
// name), in parameter order. Save them with Steps to resume training.
func (o *AdamW) State() []StateTensor {
	st := make([]StateTensor, 0, 2*len(o.params))
	for i, p := range o.params {
		st = append(st, StateTensor{"exp_avg." + p.Name, o.m[i]}, StateTensor{"exp_avg_sq." + p.Name, o.v[i]})
	}
	return st
}

// Restore sets the step count and uploads every moment tensor from values
// (keyed as State names them). A missing or wrongly sized entry is an
// error, and then nothing has changed; extra entries are ignored.
func (o *AdamW) Restore(step int, values map[string][]float32) error {
	if step < 0 {
		return fmt.Errorf("nn: AdamW restore: step %d: %w", step, tensor.ErrArgument)
	}
	st := o.State()
	for _, s := range st {
		v, ok := values[s.Name]
		if !ok || len(v) != s.Tensor.Size() {
			return fmt.Errorf("nn: AdamW restore: %q has %d values (present: %v), want %d: %w",
				s.Name, len(v), ok, s.Tensor.Size(), tensor.ErrShape)
		}
	}
	for _, s := range st {
		if err := o.be.Upload(s.Tensor, values[s.Name]); err != nil {
			return fmt.Errorf("nn: AdamW restore %q: %w", s.Name, err)
		}
	}
	o.step = step
	return nil
}
