package backendtest

import (
	"fmt"
	"math"
)

const normEps = 1e-5

// refLayerNorm returns y, mean and rstd of a row layernorm in float64.
func refLayerNorm(x, gamma, beta []float64, rows, cols int) (y, mean, rstd []float64) {
	y = make([]float64, len(x))
	mean = make([]float64, rows)
	rstd = make([]float64, rows)
	for r := range rows {
		row := x[r*cols : (r+1)*cols]
		var mu, v float64
		for _, e := range row {
			mu += e
		}
		mu /= float64(cols)
		for _, e := range row {
			v += (e - mu) * (e - mu)
		}
		rs := 1 / math.Sqrt(v/float64(cols)+normEps)
		for j, e := range row {
			y[r*cols+j] = (e-mu)*rs*gamma[j] + beta[j]
		}
		mean[r], rstd[r] = mu, rs
	}
	return y, mean, rstd
}

var normShapes = [][]int{{1, 1}, {5, 1}, {1, 4}, {3, 5}, {2, 3, 8}}

func testLayerNorm(s *suite) {
	for _, sh := range normShapes {
		s.run(fmt.Sprint(sh), func(s *suite) {
			b := s.b
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			gamma, gv := s.rand(cols)
			beta, bv := s.rand(cols)
			y, mean, rstd := s.zeros(sh...), s.zeros(rows), s.zeros(rows)
			s.ok(b.LayerNorm(y, mean, rstd, x, gamma, beta, normEps))
			wy, wm, wr := refLayerNorm(xv, gv, bv, rows, cols)
			s.nearTensor("y", y, wy, transcendent)
			s.nearTensor("mean", mean, wm, transcendent)
			s.nearTensor("rstd", rstd, wr, tolerance{1e-3, 1e-4})

			y2 := s.zeros(sh...)
			s.ok(b.LayerNorm(y2, nil, nil, x, gamma, beta, normEps))
			s.nearTensor("y without stats", y2, wy, transcendent)

			dy, w := s.rand(sh...)
			dx, dg, db := s.grad(sh...), s.grad(cols), s.grad(cols)
			s.ok(b.LayerNormBackward(dx.t, dg.t, db.t, dy, x, mean, rstd, gamma))
			loss := func() float64 {
				out, _, _ := refLayerNorm(xv, gv, bv, rows, cols)
				return dot(w, out)
			}
			s.gradCheck("dx", dx, xv, loss)
			s.gradCheck("dgamma", dg, gv, loss)
			s.gradCheck("dbeta", db, bv, loss)
		})
	}
}

func testAddLayerNorm(s *suite) {
	for _, sh := range normShapes {
		s.run(fmt.Sprint(sh), func(s *suite) {
			b := s.b
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			r, rv := s.rand(sh...)
			gamma, gv := s.rand(cols)
			beta, bv := s.rand(cols)
			y, sum, mean, rstd := s.zeros(sh...), s.zeros(sh...), s.zeros(rows), s.zeros(rows)
			s.ok(b.AddLayerNorm(y, sum, mean, rstd, x, r, gamma, beta, normEps))
			add := func() []float64 {
				out := make([]float64, len(xv))
				for i := range out {
					out[i] = xv[i] + rv[i]
				}
				return out
			}
			wy, _, _ := refLayerNorm(add(), gv, bv, rows, cols)
			s.nearTensor("sum", sum, add(), exact)
			s.nearTensor("y", y, wy, transcendent)

			dy, w := s.rand(sh...)
			dx, dr, dg, db := s.grad(sh...), s.grad(sh...), s.grad(cols), s.grad(cols)
			s.ok(b.AddLayerNormBackward(dx.t, dr.t, dg.t, db.t, dy, sum, mean, rstd, gamma))
			loss := func() float64 {
				out, _, _ := refLayerNorm(add(), gv, bv, rows, cols)
				return dot(w, out)
			}
			s.gradCheck("dx", dx, xv, loss)
			s.gradCheck("dr", dr, rv, loss)
			s.gradCheck("dgamma", dg, gv, loss)
			s.gradCheck("dbeta", db, bv, loss)
		})
	}
}

// refBatchNorm returns y and the batch mean, biased variance and unbiased
// variance of a training-mode batchnorm over the rows of x.
func refBatchNorm(x, gamma, beta []float64, rows, cols int) (y, mean, varB, varU []float64) {
	y = make([]float64, len(x))
	mean = make([]float64, cols)
	varB = make([]float64, cols)
	varU = make([]float64, cols)
	for j := range cols {
		for r := range rows {
			mean[j] += x[r*cols+j]
		}
		mean[j] /= float64(rows)
		for r := range rows {
			d := x[r*cols+j] - mean[j]
			varB[j] += d * d
		}
		varU[j] = varB[j] / float64(rows-1)
		varB[j] /= float64(rows)
		for r := range rows {
			y[r*cols+j] = (x[r*cols+j]-mean[j])/math.Sqrt(varB[j]+normEps)*gamma[j] + beta[j]
		}
	}
	return y, mean, varB, varU
}

func testBatchNorm(s *suite) {
	const momentum = 0.1
	for _, sh := range [][]int{{3, 1}, {5, 3}, {4, 2, 3}} {
		s.run(fmt.Sprint(sh), func(s *suite) {
			b := s.b
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			gamma, gv := s.rand(cols)
			beta, bv := s.rand(cols)
			runMean, rmv := s.rand(cols)
			rvv := s.uniform(cols, 0.5, 2)
			runVar := s.up(rvv, cols)
			y, mean, invStd := s.zeros(sh...), s.zeros(cols), s.zeros(cols)
			s.ok(b.BatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta, true, momentum, normEps))
			wy, wm, wvb, wvu := refBatchNorm(xv, gv, bv, rows, cols)
			s.nearTensor("y", y, wy, transcendent)
			s.nearTensor("mean", mean, wm, transcendent)
			wis := make([]float64, cols)
			newMean := make([]float64, cols)
			newVar := make([]float64, cols)
			for j := range cols {
				wis[j] = 1 / math.Sqrt(wvb[j]+normEps)
				newMean[j] = (1-momentum)*rmv[j] + momentum*wm[j]
				newVar[j] = (1-momentum)*rvv[j] + momentum*wvu[j]
			}
			s.nearTensor("invStd", invStd, wis, tolerance{1e-3, 1e-4})
			s.nearTensor("runMean", runMean, newMean, transcendent)
			s.nearTensor("runVar", runVar, newVar, transcendent)

			dy, w := s.rand(sh...)
			dx, dg, db := s.grad(sh...), s.grad(cols), s.grad(cols)
			s.ok(b.BatchNormBackward(dx.t, dg.t, db.t, dy, x, mean, invStd, gamma))
			loss := func() float64 {
				out, _, _, _ := refBatchNorm(xv, gv, bv, rows, cols)
				return dot(w, out)
			}
			s.gradCheck("dx", dx, xv, loss)
			s.gradCheck("dgamma", dg, gv, loss)
			s.gradCheck("dbeta", db, bv, loss)

			s.ok(b.BatchNorm(y, nil, nil, runMean, runVar, x, gamma, beta, false, momentum, normEps))
			want := make([]float64, len(xv))
			for r := range rows {
				for j := range cols {
					want[r*cols+j] = (xv[r*cols+j]-newMean[j])/math.Sqrt(newVar[j]+normEps)*gv[j] + bv[j]
				}
			}
			s.nearTensor("eval y", y, want, transcendent)
			s.nearTensor("eval keeps runMean", runMean, newMean, transcendent)
		})
	}
}
