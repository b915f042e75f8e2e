package backendtest

import (
	"fmt"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

func testDropout(s *suite) {
	const seed, offset = 7, 1000
	for _, p := range []float32{0, 0.3} {
		s.run(name("p=%v", p), func(s *suite) {
			b := s.b
			x, xv := s.rand(37, 11)
			y := s.zeros(37, 11)
			s.ok(b.Dropout(y, x, p, seed, offset))
			want := make([]float64, len(xv))
			mask := make([]float64, len(xv))
			kept := 0
			for i, v := range xv {
				if tensor.DropoutUniform(seed, offset+uint64(i)) >= p {
					mask[i] = 1 / (1 - float64(p))
					kept++
				}
				want[i] = v * mask[i]
			}
			s.nearTensor("y", y, want, exact)
			if frac := float64(kept) / float64(len(xv)); math.Abs(frac-(1-float64(p))) > 0.06 {
				s.t.Errorf("kept %.3f of the elements, want about %.3f", frac, 1-p)
			}
			dy, dyv := s.rand(37, 11)
			dx := s.grad(37, 11)
			s.ok(b.DropoutBackward(dx.t, dy, p, seed, offset))
			for i := range dyv {
				want[i] = dyv[i] * mask[i]
			}
			s.near("dx", s.delta(dx), want, exact)

			// The mask of element i depends only on offset+i: a tensor
			// holding the second half of x, dropped at offset+half, matches.
			half := len(xv) / 2
			tail := s.up(xv[half:], len(xv)-half)
			ty := s.zeros(len(xv) - half)
			s.ok(b.Dropout(ty, tail, p, seed, offset+uint64(half)))
			want = want[:0]
			for i := half; i < len(xv); i++ {
				want = append(want, xv[i]*mask[i])
			}
			s.nearTensor("offset", ty, want, exact)
		})
	}
}

// refCrossEntropy returns the mean softmax cross-entropy over rows whose
// target is not ignore, and their count.
func refCrossEntropy(x []float64, targets []int32, ignore int32, cols int) (float64, int) {
	var loss float64
	n := 0
	for r, t := range targets {
		if t == ignore {
			continue
		}
		row := x[r*cols : (r+1)*cols]
		m := math.Inf(-1)
		for _, v := range row {
			m = math.Max(m, v)
		}
		var sum float64
		for _, v := range row {
			sum += math.Exp(v - m)
		}
		loss += m + math.Log(sum) - row[t]
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return loss / float64(n), n
}

func testLosses(s *suite) {
	const ignore = -100
	for _, sh := range [][]int{{1, 1}, {4, 3}, {2, 3, 5}} {
		s.run(name("SoftmaxCrossEntropy/%v", sh), func(s *suite) {
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			targets := make([]int32, rows)
			for i := range targets {
				targets[i] = int32(s.r.IntN(cols))
			}
			if rows > 1 {
				targets[1] = ignore
			}
			g := s.grad(sh...)
			loss, n, err := s.b.SoftmaxCrossEntropy(g.t, x, targets, ignore)
			s.ok(err)
			want, wn := refCrossEntropy(xv, targets, ignore, cols)
			if n != wn {
				s.t.Fatalf("counted %d targets, want %d", n, wn)
			}
			s.scalar("loss", loss, want, transcendent)
			s.gradCheck("dlogits", g, xv, func() float64 {
				l, _ := refCrossEntropy(xv, targets, ignore, cols)
				return l
			})
			loss2, _, err := s.b.SoftmaxCrossEntropy(nil, x, targets, ignore)
			s.ok(err)
			s.scalar("loss without grad", loss2, want, transcendent)
		})
	}
	s.run("SoftmaxCrossEntropy/AllIgnored", func(s *suite) {
		x, _ := s.rand(3, 4)
		g := s.grad(3, 4)
		loss, n, err := s.b.SoftmaxCrossEntropy(g.t, x, []int32{ignore, ignore, ignore}, ignore)
		s.ok(err)
		if loss != 0 || n != 0 {
			s.t.Fatalf("loss %v over %d rows, want 0 over 0", loss, n)
		}
		s.near("dlogits", s.delta(g), make([]float64, 12), exact)
	})
	for _, sh := range [][]int{{1}, {3, 4}, {2, 1, 5}} {
		s.run(name("BCEWithLogits/%v", sh), func(s *suite) {
			x, xv := s.rand(sh...)
			tv := s.uniform(len(xv), 0, 1)
			tt := s.up(tv, sh...)
			ref := func() float64 {
				var l float64
				for i, v := range xv {
					p := 1 / (1 + math.Exp(-v))
					l -= tv[i]*math.Log(p) + (1-tv[i])*math.Log(1-p)
				}
				return l / float64(len(xv))
			}
			g := s.grad(sh...)
			loss, err := s.b.BCEWithLogits(g.t, x, tt)
			s.ok(err)
			s.scalar("loss", loss, ref(), transcendent)
			s.gradCheck("dlogits", g, xv, ref)
		})
		s.run(name("MSE/%v", sh), func(s *suite) {
			x, xv := s.rand(sh...)
			tt, tv := s.rand(sh...)
			ref := func() float64 {
				var l float64
				for i, v := range xv {
					l += (v - tv[i]) * (v - tv[i])
				}
				return l / float64(len(xv))
			}
			g := s.grad(sh...)
			loss, err := s.b.MSE(g.t, x, tt)
			s.ok(err)
			s.scalar("loss", loss, ref(), sumTol(transcendent, len(xv)))
			s.gradCheck("dpred", g, xv, ref)
		})
	}
}

func testEmbedding(s *suite) {
	for _, tc := range []struct {
		vocab, dim int
		ids        []int32
		shape      []int
	}{
		{1, 1, []int32{0}, []int{1, 1}},
		{6, 3, []int32{0, 5, 2, 2}, []int{4, 3}},
		{9, 4, []int32{8, 1, 1, 3, 0, 8}, []int{2, 3, 4}},
	} {
		s.run(name("V=%d,D=%d,ids=%v", tc.vocab, tc.dim, tc.ids), func(s *suite) {
			table, tv := s.rand(tc.vocab, tc.dim)
			dst := s.zeros(tc.shape...)
			s.ok(s.b.Embedding(dst, table, tc.ids))
			var want []float64
			for _, id := range tc.ids {
				want = append(want, tv[int(id)*tc.dim:(int(id)+1)*tc.dim]...)
			}
			s.nearTensor("rows", dst, want, exact)
			dy, dyv := s.rand(tc.shape...)
			g := s.grad(tc.vocab, tc.dim)
			s.ok(s.b.EmbeddingBackward(g.t, dy, tc.ids))
			wg := make([]float64, tc.vocab*tc.dim)
			for i, id := range tc.ids {
				for j := range tc.dim {
					wg[int(id)*tc.dim+j] += dyv[i*tc.dim+j]
				}
			}
			s.near("dtable", s.delta(g), wg, exact)
		})
	}
}

func testReductions(s *suite) {
	for _, sh := range shapes {
		s.run(fmt.Sprint(sh), func(s *suite) {
			rows, cols := matrix(sh)
			x, xv := s.rand(sh...)
			colSums := make([]float64, cols)
			rowSums := make([]float64, rows)
			var total float64
			for r := range rows {
				for j := range cols {
					colSums[j] += xv[r*cols+j]
					rowSums[r] += xv[r*cols+j]
					total += xv[r*cols+j]
				}
			}
			dr := s.zeros(cols)
			s.ok(s.b.Fill(dr, 9))
			s.ok(s.b.SumRows(dr, x))
			s.nearTensor("SumRows", dr, colSums, sumTol(exact, rows))
			dc := s.zeros(rows)
			s.ok(s.b.SumCols(dc, x))
			s.nearTensor("SumCols", dc, rowSums, sumTol(exact, cols))
			sum, err := s.b.Sum(x)
			s.ok(err)
			s.scalar("Sum", sum, total, sumTol(exact, len(xv)))
			mean, err := s.b.Mean(x)
			s.ok(err)
			s.scalar("Mean", mean, total/float64(len(xv)), sumTol(exact, len(xv)))
		})
	}
}

func testOptimizer(s *suite) {
	cfg := tensor.AdamWConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}
	s.run("AdamW", func(s *suite) {
		p, pv := s.rand(3, 5)
		m, v := s.zeros(3, 5), s.zeros(3, 5)
		mv, vv := make([]float64, 15), make([]float64, 15)
		const scale = 0.5
		for step := 1; step <= 3; step++ {
			g, gv := s.rand(3, 5)
			s.ok(s.b.AdamW(p, g, m, v, cfg, step, scale))
			b1, b2 := float64(cfg.Beta1), float64(cfg.Beta2)
			for i := range pv {
				gi := scale * gv[i]
				mv[i] = b1*mv[i] + (1-b1)*gi
				vv[i] = b2*vv[i] + (1-b2)*gi*gi
				mh := mv[i] / (1 - math.Pow(b1, float64(step)))
				vh := vv[i] / (1 - math.Pow(b2, float64(step)))
				pv[i] -= float64(cfg.LR) * (mh/(math.Sqrt(vh)+float64(cfg.Eps)) + float64(cfg.WeightDecay)*pv[i])
			}
		}
		s.nearTensor("param", p, pv, transcendent)
		s.nearTensor("m", m, mv, transcendent)
		s.nearTensor("v", v, vv, transcendent)
	})
	s.run("GradNorm", func(s *suite) {
		a, av := s.rand(4, 3)
		c, cv := s.rand(7)
		var ss float64
		for _, v := range append(append([]float64(nil), av...), cv...) {
			ss += v * v
		}
		n, err := s.b.GradNorm(a, c)
		s.ok(err)
		s.scalar("norm", n, math.Sqrt(ss), transcendent)
	})
}
