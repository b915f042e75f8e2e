package cpu

import (
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// Attention implements tensor.Attention. The (batch, head) pairs are
// independent and split across goroutines; each writes only its own head's
// columns of out and its own block of probs.
func (c *Backend) Attention(out, probs, q, k, v *tensor.Tensor, keyLengths []int32, heads int, causal bool) error {
	const op = "Attention"
	d, err := tensor.CheckAttention(out, probs, q, k, v, keyLengths, heads)
	if err != nil {
		return err
	}
	if err := own(op, out, probs, q, k, v); err != nil {
		return err
	}
	od, pd, qd, kd, vd := f32(out), f32(probs), f32(q), f32(k), f32(v)
	scale := float32(1 / math.Sqrt(float64(d.HeadDim)))
	c.parallel(d.B*heads, 1, func(lo, hi int) {
		for bh := lo; bh < hi; bh++ {
			b, h := bh/heads, bh%heads
			qo, ko := b*d.Tq*d.D+h*d.HeadDim, b*d.Tk*d.D+h*d.HeadDim
			p := pd[bh*d.Tq*d.Tk : (bh+1)*d.Tq*d.Tk]
			sgemm(defaultKernel, 1, false, true, d.Tq, d.Tk, d.HeadDim, scale, qd[qo:], d.D, kd[ko:], d.D, 0, p, d.Tk)
			keys := d.Tk
			if keyLengths != nil {
				keys = int(keyLengths[b])
			}
			for i := range d.Tq {
				row := p[i*d.Tk : (i+1)*d.Tk]
				visible := keys
				if causal {
					visible = min(visible, i+1)
				}
				softmaxRow(row[:visible], row[:visible])
				clear(row[visible:])
			}
			sgemm(defaultKernel, 1, false, false, d.Tq, d.HeadDim, d.Tk, 1, p, d.Tk, vd[ko:], d.D, 0, od[qo:], d.D)
		}
	})
	return nil
}

// AttentionBackward implements tensor.Attention.
func (c *Backend) AttentionBackward(dq, dk, dv, dout, probs, q, k, v *tensor.Tensor, heads int) error {
	const op = "AttentionBackward"
	d, err := tensor.CheckAttentionBackward(dq, dk, dv, dout, probs, q, k, v, heads)
	if err != nil {
		return err
	}
	if err := own(op, dq, dk, dv, dout, probs, q, k, v); err != nil {
		return err
	}
	dqd, dkd, dvd, dod := f32(dq), f32(dk), f32(dv), f32(dout)
	pd, qd, kd, vd := f32(probs), f32(q), f32(k), f32(v)
	scale := float32(1 / math.Sqrt(float64(d.HeadDim)))
	c.parallel(d.B*heads, 1, func(lo, hi int) {
		ds := make([]float32, d.Tq*d.Tk)
		for bh := lo; bh < hi; bh++ {
			b, h := bh/heads, bh%heads
			qo, ko := b*d.Tq*d.D+h*d.HeadDim, b*d.Tk*d.D+h*d.HeadDim
			p := pd[bh*d.Tq*d.Tk : (bh+1)*d.Tq*d.Tk]
			// dP = dO·Vᵀ, dV += Pᵀ·dO.
			sgemm(defaultKernel, 1, false, true, d.Tq, d.Tk, d.HeadDim, 1, dod[qo:], d.D, vd[ko:], d.D, 0, ds, d.Tk)
			sgemm(defaultKernel, 1, true, false, d.Tk, d.HeadDim, d.Tq, 1, p, d.Tk, dod[qo:], d.D, 1, dvd[ko:], d.D)
			// dS = scale·P ⊙ (dP − ⟨dP, P⟩) row by row (in place).
			for i := range d.Tq {
				row, pr := ds[i*d.Tk:(i+1)*d.Tk], p[i*d.Tk:(i+1)*d.Tk]
				var dot float32
				for j, pv := range pr {
					dot += pv * row[j]
				}
				for j, pv := range pr {
					row[j] = scale * pv * (row[j] - dot)
				}
			}
			// dQ += dS·K, dK += dSᵀ·Q.
			sgemm(defaultKernel, 1, false, false, d.Tq, d.HeadDim, d.Tk, 1, ds, d.Tk, kd[ko:], d.D, 1, dqd[qo:], d.D)
			sgemm(defaultKernel, 1, true, false, d.Tk, d.HeadDim, d.Tq, 1, ds, d.Tk, qd[qo:], d.D, 1, dkd[ko:], d.D)
		}
	})
	return nil
}
