package backendtest

import (
	"math"

	"github.com/bingli/bingli/core/tensor"
)

func f32s(v []float64) []float32 {
	f := make([]float32, len(v))
	for i, e := range v {
		f[i] = float32(e)
	}
	return f
}

func testMemory(s *suite) {
	b := s.b
	s.run("NewIsZero", func(s *suite) {
		s.nearTensor("New", s.zeros(2, 3), make([]float64, 6), exact)
		z := s.zeros()
		if z.Size() != 1 || z.Rank() != 0 {
			s.t.Fatalf("rank-0 tensor: size %d rank %d", z.Size(), z.Rank())
		}
	})
	s.run("RoundTrip", func(s *suite) {
		x, v := s.rand(2, 3)
		s.nearTensor("ToSlice", x, v, exact)
		w := s.randn(6)
		s.ok(b.Upload(x, f32s(w)))
		got := make([]float32, 6)
		s.ok(b.Download(got, x))
		s.near("Download", s.down(s.up(fromF32(got), 6)), w, exact)
	})
	s.run("CopyFill", func(s *suite) {
		x, v := s.rand(3, 1, 2)
		y := s.zeros(3, 1, 2)
		s.ok(b.Copy(y, x))
		s.nearTensor("Copy", y, v, exact)
		s.ok(b.Fill(y, 2.5))
		s.nearTensor("Fill", y, []float64{2.5, 2.5, 2.5, 2.5, 2.5, 2.5}, exact)
	})
	s.run("ReshapeSharesStorage", func(s *suite) {
		x, _ := s.rand(2, 3)
		r, err := x.Reshape(3, 2)
		s.ok(err)
		s.ok(b.Fill(x, 1))
		s.nearTensor("view", r, []float64{1, 1, 1, 1, 1, 1}, exact)
		if _, err := x.Reshape(4, 2); err == nil {
			s.t.Fatal("Reshape to a different size succeeded")
		}
	})
	s.run("Free", func(s *suite) {
		x, _ := s.rand(4)
		b.Free(x)
		b.Free(nil)
		s.wantErr("Fill after Free", b.Fill(x, 1), tensor.ErrArgument)
	})
}

func fromF32(f []float32) []float64 {
	v := make([]float64, len(f))
	for i, e := range f {
		v[i] = float64(e)
	}
	return v
}

// refMatMul computes α·op(A)·op(B) + β·C in float64.
func refMatMul(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var sum float64
			for p := range k {
				ai, bi := i*k+p, p*n+j
				if transA {
					ai = p*m + i
				}
				if transB {
					bi = j*k + p
				}
				sum += a[ai] * b[bi]
			}
			out[i*n+j] = alpha * sum
			if beta != 0 {
				out[i*n+j] += beta * c[i*n+j]
			}
		}
	}
	return out
}

func testMatMul(s *suite) {
	dims := [][3]int{{1, 1, 1}, {1, 7, 3}, {5, 1, 2}, {4, 6, 1}, {7, 17, 33}, {33, 20, 65}, {13, 40, 300}, {70, 20, 100}, {3, 4, 0}, {0, 4, 2}}
	for _, d := range dims {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, beta := range []float64{0, -0.5} {
					m, n, k := d[0], d[1], d[2]
					s.run(name("m=%d,n=%d,k=%d,tA=%v,tB=%v,beta=%v", m, n, k, tA, tB, beta), func(s *suite) {
						sa, sb := []int{m, k}, []int{k, n}
						if tA {
							sa = []int{k, m}
						}
						if tB {
							sb = []int{n, k}
						}
						a, av := s.rand(sa...)
						bt, bv := s.rand(sb...)
						c, cv := s.rand(m, n)
						if beta == 0 {
							s.ok(s.b.Fill(c, float32(math.NaN())))
						}
						s.ok(s.b.MatMul(tA, tB, 1.5, a, bt, float32(beta), c))
						s.nearTensor("C", c, refMatMul(tA, tB, m, n, k, 1.5, av, bv, beta, cv), sumTol(exact, k))
					})
				}
			}
		}
	}
	s.run("Rank3MatrixView", func(s *suite) {
		a, av := s.rand(2, 3, 4)
		bt, bv := s.rand(4, 5)
		c := s.zeros(2, 3, 5)
		s.ok(s.b.MatMul(false, false, 1, a, bt, 0, c))
		s.nearTensor("C", c, refMatMul(false, false, 6, 5, 4, 1, av, bv, 0, nil), sumTol(exact, 4))
	})
}

func testBatchedMatMul(s *suite) {
	for _, d := range [][4]int{{1, 2, 3, 4}, {3, 5, 1, 7}, {4, 6, 9, 2}} {
		for _, shared := range []bool{false, true} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					batch, m, n, k := d[0], d[1], d[2], d[3]
					s.run(name("batch=%d,m=%d,n=%d,k=%d,shared=%v,tA=%v,tB=%v", batch, m, n, k, shared, tA, tB), func(s *suite) {
						sa, sb := []int{batch, m, k}, []int{batch, k, n}
						if tA {
							sa = []int{batch, k, m}
						}
						if tB {
							sb = []int{batch, n, k}
						}
						if shared {
							sb[0] = 1
						}
						a, av := s.rand(sa...)
						bt, bv := s.rand(sb...)
						c, cv := s.rand(batch, m, n)
						s.ok(s.b.BatchedMatMul(tA, tB, 0.5, a, bt, 2, c))
						var want []float64
						for i := range batch {
							bi := i
							if shared {
								bi = 0
							}
							want = append(want, refMatMul(tA, tB, m, n, k, 0.5, av[i*m*k:(i+1)*m*k],
								bv[bi*k*n:(bi+1)*k*n], 2, cv[i*m*n:(i+1)*m*n])...)
						}
						s.nearTensor("C", c, want, sumTol(exact, k))
					})
				}
			}
		}
	}
}
