package cpu

import (
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// LayerNorm implements tensor.Normalization.
func (c *Backend) LayerNorm(y, mean, rstd, x, gamma, beta *tensor.Tensor, eps float32) error {
	const op = "LayerNorm"
	rows, cols, err := tensor.CheckLayerNorm(op, y, mean, rstd, x, gamma, beta)
	if err != nil {
		return err
	}
	if err := own(op, y, mean, rstd, x, gamma, beta); err != nil {
		return err
	}
	layerNorm(f32(y), f32(mean), f32(rstd), f32(x), f32(gamma), f32(beta), rows, cols, eps)
	return nil
}

func layerNorm(y, mean, rstd, x, gamma, beta []float32, rows, cols int, eps float32) {
	for r := range rows {
		xr, yr := x[r*cols:(r+1)*cols], y[r*cols:(r+1)*cols]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(cols)
		var ss float64
		for _, v := range xr {
			d := float64(v) - mu
			ss += d * d
		}
		rs := 1 / math.Sqrt(ss/float64(cols)+float64(eps))
		m32, r32 := float32(mu), float32(rs)
		for j, v := range xr {
			yr[j] = (v-m32)*r32*gamma[j] + beta[j]
		}
		if mean != nil {
			mean[r], rstd[r] = m32, r32
		}
	}
}

// LayerNormBackward implements tensor.Normalization.
func (c *Backend) LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *tensor.Tensor) error {
	const op = "LayerNormBackward"
	rows, cols, err := tensor.CheckLayerNormBackward(op, dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	if err != nil {
		return err
	}
	if err := own(op, dx, dgamma, dbeta, dy, x, mean, rstd, gamma); err != nil {
		return err
	}
	layerNormBackward(f32(dx), nil, f32(dgamma), f32(dbeta), f32(dy), f32(x), f32(mean), f32(rstd), f32(gamma), rows, cols)
	return nil
}

// layerNormBackward adds the input gradient to dx and, if non-nil, dr.
func layerNormBackward(dx, dr, dgamma, dbeta, dy, x, mean, rstd, gamma []float32, rows, cols int) {
	g := make([]float32, cols)
	for r := range rows {
		xr, dyr := x[r*cols:(r+1)*cols], dy[r*cols:(r+1)*cols]
		mu, rs := mean[r], rstd[r]
		var sumG, sumGX float32
		for j, v := range xr {
			xhat := (v - mu) * rs
			gj := dyr[j] * gamma[j]
			g[j] = gj
			sumG += gj
			sumGX += gj * xhat
			dgamma[j] += dyr[j] * xhat
			dbeta[j] += dyr[j]
		}
		n := float32(cols)
		mg, mgx := sumG/n, sumGX/n
		for j, v := range xr {
			xhat := (v - mu) * rs
			g[j] = rs * (g[j] - mg - xhat*mgx)
		}
		axpy(dx[r*cols:(r+1)*cols], g, 1)
		if dr != nil {
			axpy(dr[r*cols:(r+1)*cols], g, 1)
		}
	}
}

// AddLayerNorm implements tensor.Normalization.
func (c *Backend) AddLayerNorm(y, sum, mean, rstd, x, r, gamma, beta *tensor.Tensor, eps float32) error {
	const op = "AddLayerNorm"
	if err := tensor.CheckSameShape(op, x, r, sum); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckLayerNorm(op, y, mean, rstd, x, gamma, beta)
	if err != nil {
		return err
	}
	if err := own(op, y, sum, mean, rstd, x, r, gamma, beta); err != nil {
		return err
	}
	s, a, b := f32(sum), f32(x), f32(r)
	for i := range s {
		s[i] = a[i] + b[i]
	}
	layerNorm(f32(y), f32(mean), f32(rstd), s, f32(gamma), f32(beta), rows, cols, eps)
	return nil
}

// AddLayerNormBackward implements tensor.Normalization.
func (c *Backend) AddLayerNormBackward(dx, dr, dgamma, dbeta, dy, sum, mean, rstd, gamma *tensor.Tensor) error {
	const op = "AddLayerNormBackward"
	if err := tensor.CheckSameShape(op, sum, dr); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckLayerNormBackward(op, dx, dgamma, dbeta, dy, sum, mean, rstd, gamma)
	if err != nil {
		return err
	}
	if err := own(op, dx, dr, dgamma, dbeta, dy, sum, mean, rstd, gamma); err != nil {
		return err
	}
	layerNormBackward(f32(dx), f32(dr), f32(dgamma), f32(dbeta), f32(dy), f32(sum), f32(mean), f32(rstd), f32(gamma), rows, cols)
	return nil
}

// BatchNorm implements tensor.Normalization.
func (c *Backend) BatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta *tensor.Tensor, training bool, momentum, eps float32) error {
	const op = "BatchNorm"
	rows, cols, err := tensor.CheckBatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta, training, momentum, eps)
	if err != nil {
		return err
	}
	if err := own(op, y, mean, invStd, runMean, runVar, x, gamma, beta); err != nil {
		return err
	}
	xs, ys, g, b := f32(x), f32(y), f32(gamma), f32(beta)
	rm, rv := f32(runMean), f32(runVar)
	mu := make([]float32, cols)
	is := make([]float32, cols)
	if training {
		sum := make([]float64, cols)
		sq := make([]float64, cols)
		for r := range rows {
			for j, v := range xs[r*cols : (r+1)*cols] {
				sum[j] += float64(v)
			}
		}
		for j := range sum {
			sum[j] /= float64(rows)
		}
		for r := range rows {
			for j, v := range xs[r*cols : (r+1)*cols] {
				d := float64(v) - sum[j]
				sq[j] += d * d
			}
		}
		for j := range cols {
			v := sq[j] / float64(rows)
			mu[j] = float32(sum[j])
			is[j] = float32(1 / math.Sqrt(v+float64(eps)))
			rm[j] = (1-momentum)*rm[j] + momentum*mu[j]
			rv[j] = (1-momentum)*rv[j] + momentum*float32(sq[j]/float64(rows-1))
		}
		copy(f32(mean), mu)
		copy(f32(invStd), is)
	} else {
		for j := range cols {
			mu[j] = rm[j]
			is[j] = float32(1 / math.Sqrt(float64(rv[j])+float64(eps)))
		}
	}
	for r := range rows {
		xr, yr := xs[r*cols:(r+1)*cols], ys[r*cols:(r+1)*cols]
		for j, v := range xr {
			yr[j] = (v-mu[j])*is[j]*g[j] + b[j]
		}
	}
	return nil
}

// BatchNormBackward implements tensor.Normalization.
func (c *Backend) BatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma *tensor.Tensor) error {
	const op = "BatchNormBackward"
	rows, cols, err := tensor.CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma)
	if err != nil {
		return err
	}
	if err := own(op, dx, dgamma, dbeta, dy, x, mean, invStd, gamma); err != nil {
		return err
	}
	xs, g, d := f32(x), f32(dy), f32(dx)
	mu, is, gm := f32(mean), f32(invStd), f32(gamma)
	sumG := make([]float64, cols)
	sumGX := make([]float64, cols)
	for r := range rows {
		for j, v := range xs[r*cols : (r+1)*cols] {
			gj := float64(g[r*cols+j])
			sumG[j] += gj
			sumGX[j] += gj * float64((v-mu[j])*is[j])
		}
	}
	dg, db := f32(dgamma), f32(dbeta)
	n := float64(rows)
	for j := range cols {
		dg[j] += float32(sumGX[j])
		db[j] += float32(sumG[j])
		sumG[j] /= n
		sumGX[j] /= n
	}
	for r := range rows {
		for j, v := range xs[r*cols : (r+1)*cols] {
			xhat := (v - mu[j]) * is[j]
			d[r*cols+j] += gm[j] * is[j] * (g[r*cols+j] - float32(sumG[j]) - xhat*float32(sumGX[j]))
		}
	}
	return nil
}
