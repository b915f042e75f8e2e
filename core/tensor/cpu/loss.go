package cpu

import (
	"fmt"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// SoftmaxCrossEntropy implements tensor.Losses.
func (c *Backend) SoftmaxCrossEntropy(dlogits, logits *tensor.Tensor, targets []int32, ignoreIndex int32) (float32, int, error) {
	const op = "SoftmaxCrossEntropy"
	_, cols, err := tensor.CheckCrossEntropy(dlogits, logits, targets, ignoreIndex)
	if err != nil {
		return 0, 0, err
	}
	if err := own(op, dlogits, logits); err != nil {
		return 0, 0, err
	}
	n := 0
	for _, t := range targets {
		if t != ignoreIndex {
			n++
		}
	}
	if n == 0 {
		return 0, 0, nil
	}
	x, g := f32(logits), f32(dlogits)
	p := make([]float32, cols)
	inv := 1 / float32(n)
	var loss float64
	for r, t := range targets {
		if t == ignoreIndex {
			continue
		}
		xr := x[r*cols : (r+1)*cols]
		lse := softmaxRow(p, xr)
		loss += lse - float64(xr[t])
		if g != nil {
			p[t]--
			axpy(g[r*cols:(r+1)*cols], p, inv)
		}
	}
	return float32(loss / float64(n)), n, nil
}

// BCEWithLogits implements tensor.Losses: per element
// max(x, 0) − x·t + log(1 + e^(−|x|)). An empty tensor has loss 0.
func (c *Backend) BCEWithLogits(dlogits, logits, targets *tensor.Tensor) (float32, error) {
	const op = "BCEWithLogits"
	if err := tensor.CheckLoss(op, dlogits, logits, targets); err != nil {
		return 0, err
	}
	if err := own(op, dlogits, logits, targets); err != nil {
		return 0, err
	}
	x, t, g := f32(logits), f32(targets), f32(dlogits)
	if len(x) == 0 {
		return 0, nil
	}
	inv := 1 / float32(len(x))
	var loss float64
	for i, v := range x {
		xv, tv := float64(v), float64(t[i])
		loss += max(xv, 0) - xv*tv + math.Log1p(math.Exp(-math.Abs(xv)))
		if g != nil {
			g[i] += (sigmoid(v) - t[i]) * inv
		}
	}
	return float32(loss / float64(len(x))), nil
}

// MSE implements tensor.Losses. An empty tensor has loss 0.
func (c *Backend) MSE(dpred, pred, target *tensor.Tensor) (float32, error) {
	const op = "MSE"
	if err := tensor.CheckLoss(op, dpred, pred, target); err != nil {
		return 0, err
	}
	if err := own(op, dpred, pred, target); err != nil {
		return 0, err
	}
	p, t, g := f32(pred), f32(target), f32(dpred)
	if len(p) == 0 {
		return 0, nil
	}
	scale := 2 / float32(len(p))
	var loss float64
	for i, v := range p {
		d := v - t[i]
		loss += float64(d) * float64(d)
		if g != nil {
			g[i] += scale * d
		}
	}
	return float32(loss / float64(len(p))), nil
}

// AdamW implements tensor.Optimizer.
func (c *Backend) AdamW(param, grad, m, v *tensor.Tensor, cfg tensor.AdamWConfig, step int, gradScale float32) error {
	const op = "AdamW"
	if err := tensor.CheckAdamW(param, grad, m, v, cfg, step); err != nil {
		return err
	}
	if err := own(op, param, grad, m, v); err != nil {
		return err
	}
	p, g, ms, vs := f32(param), f32(grad), f32(m), f32(v)
	bc1 := float32(1 - math.Pow(float64(cfg.Beta1), float64(step)))
	bc2 := float32(1 - math.Pow(float64(cfg.Beta2), float64(step)))
	for i := range p {
		gi := gradScale * g[i]
		mi := cfg.Beta1*ms[i] + (1-cfg.Beta1)*gi
		vi := cfg.Beta2*vs[i] + (1-cfg.Beta2)*gi*gi
		ms[i], vs[i] = mi, vi
		mhat, vhat := mi/bc1, vi/bc2
		p[i] -= cfg.LR * (mhat/(float32(math.Sqrt(float64(vhat)))+cfg.Eps) + cfg.WeightDecay*p[i])
	}
	return nil
}

// GradNorm implements tensor.Optimizer.
func (c *Backend) GradNorm(grads ...*tensor.Tensor) (float32, error) {
	const op = "GradNorm"
	for i, g := range grads {
		if g == nil {
			return 0, fmt.Errorf("%s: grad %d is nil: %w", op, i, tensor.ErrArgument)
		}
	}
	if err := own(op, grads...); err != nil {
		return 0, err
	}
	var ss float64
	for _, g := range grads {
		for _, v := range f32(g) {
			ss += float64(v) * float64(v)
		}
	}
	return float32(math.Sqrt(ss)), nil
}
