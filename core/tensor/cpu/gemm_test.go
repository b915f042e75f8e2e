package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveGEMM is the float64 triple loop the blocked GEMM is checked against.
func naiveGEMM(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s float64
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha)*s + float64(beta)*float64(c[i*ldc+j])
		}
	}
	return out
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// TestSGEMM checks the blocked GEMM, with the build's micro-kernel and with
// the portable one, against float64 on sizes that straddle every block edge.
func TestSGEMM(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 300}, {13, 33, 257}, {100, 40, 9}, {2, 1030, 5}, {300, 40, 50}, {40, 300, 50}}
	if !testing.Short() {
		sizes = append(sizes, [3]int{20, 1040, 270})
	}
	kernels := map[string]kernelFunc{"build": microKernel, "go": kernelGo}
	for _, sz := range sizes {
		for kname, kern := range kernels {
			for _, threads := range []int{1, 2} {
				for _, tA := range []bool{false, true} {
					for _, tB := range []bool{false, true} {
						m, n, k := sz[0], sz[1], sz[2]
						name := fmt.Sprintf("%dx%dx%d/%s/t%d/tA=%v/tB=%v", m, n, k, kname, threads, tA, tB)
						t.Run(name, func(t *testing.T) {
							lda, ldb, ldc := k+1, n+2, n+3
							if tA {
								lda = m + 1
							}
							if tB {
								ldb = k + 2
							}
							rowsA, rowsB := m, k
							if tA {
								rowsA = k
							}
							if tB {
								rowsB = n
							}
							a := randSlice(r, rowsA*lda)
							b := randSlice(r, rowsB*ldb)
							c0 := randSlice(r, m*ldc)
							want := naiveGEMM(tA, tB, m, n, k, 0.5, a, lda, b, ldb, -1.5, c0, ldc)
							c := append([]float32(nil), c0...)
							sgemm(kern, threads, tA, tB, m, n, k, 0.5, a, lda, b, ldb, -1.5, c, ldc)
							tol := 1e-5 * math.Sqrt(float64(k)) * 4
							for i := range m {
								for j := range n {
									if d := math.Abs(float64(c[i*ldc+j]) - want[i*n+j]); d > tol*(1+math.Abs(want[i*n+j])) {
										t.Fatalf("C[%d,%d] = %v, want %v", i, j, c[i*ldc+j], want[i*n+j])
									}
								}
								for j := n; j < ldc; j++ {
									if c[i*ldc+j] != c0[i*ldc+j] {
										t.Fatalf("padding C[%d,%d] was written", i, j)
									}
								}
							}
						})
					}
				}
			}
		}
	}
	for name, kern := range kernels {
		t.Run("kernel/"+name, func(t *testing.T) {
			k := 37
			a, b := randSlice(r, k*mr), randSlice(r, k*nr)
			c := make([]float32, (mr-1)*20+nr)
			kern(k, a, b, c, 20)
			for i := range mr {
				for j := range nr {
					var s float64
					for p := range k {
						s += float64(a[p*mr+i]) * float64(b[p*nr+j])
					}
					if math.Abs(float64(c[i*20+j])-s) > 1e-4 {
						t.Fatalf("kernel C[%d,%d] = %v, want %v", i, j, c[i*20+j], s)
					}
				}
			}
		})
	}
}

// BenchmarkSGEMM reports GFLOP/s for the square and tagger shapes with the
// build's kernel and with the portable Go kernel, on 1 and 2 goroutines.
func BenchmarkSGEMM(b *testing.B) {
	shapes := []struct {
		name    string
		m, n, k int
	}{{"256x256x256", 256, 256, 256}, {"tagger_M1600_K256_N384", 32 * 50, 384, 256}}
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range shapes {
		a, bb, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		for _, threads := range []int{1, 2} {
			for _, kern := range []struct {
				name string
				fn   kernelFunc
			}{{KernelName(), microKernel}, {"go", kernelGo}} {
				b.Run(fmt.Sprintf("%s/threads=%d/kernel=%s", s.name, threads, kern.name), func(b *testing.B) {
					for b.Loop() {
						sgemm(kern.fn, threads, false, false, s.m, s.n, s.k, 1, a, s.k, bb, s.n, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
				// x·Wᵀ with W stored [N, K], as a Linear layer calls it.
				b.Run(fmt.Sprintf("%s/transB/threads=%d/kernel=%s", s.name, threads, kern.name), func(b *testing.B) {
					for b.Loop() {
						sgemm(kern.fn, threads, false, true, s.m, s.n, s.k, 1, a, s.k, bb, s.k, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestDequantize checks the build's int8 dequantisation, tails included.
func TestDequantize(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 9, 31, 64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			q := make([]int8, n+3)
			for i := range q {
				q[i] = int8(i*37 - 128)
			}
			dst := make([]float32, n)
			dequantize(dst, q, 0.5)
			for i, v := range dst {
				if want := 0.5 * float32(q[i]); v != want {
					t.Fatalf("dst[%d] = %v, want %v", i, v, want)
				}
			}
		})
	}
}

// TestSGEMMPacked checks the prepacked-B product (the recurrent ops' per-step GEMM) against
// the float64 reference, including k deeper than one packing block and ragged edges.
func TestSGEMMPacked(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct{ m, n, k int }{{1, 16, 8}, {7, 300, 600}, {13, 384, 128}, {32, 128, 384}, {5, 17, 257}} {
		for _, transB := range []bool{false, true} {
			for _, threads := range []int{1, 3} {
				a := randSlice(r, tc.m*tc.k)
				b := randSlice(r, tc.k*tc.n)
				ldb := tc.n
				if transB {
					ldb = tc.k
				}
				pb := prepackB(transB, b, ldb, tc.k, tc.n)
				if pb == nil {
					t.Fatalf("%+v: not prepacked", tc)
				}
				c := randSlice(r, tc.m*tc.n)
				want := naiveGEMM(false, transB, tc.m, tc.n, tc.k, 1, a, tc.k, b, ldb, 1, c, tc.n)
				sgemmPacked(defaultKernel, threads, tc.m, 1, a, tc.k, pb, 1, c, tc.n)
				for i := range want {
					if d := math.Abs(float64(c[i]) - want[i]); d > 1e-4*(1+math.Abs(want[i])) {
						t.Fatalf("%+v transB=%v threads=%d: c[%d] = %v, want %v", tc, transB, threads, i, c[i], want[i])
					}
				}
			}
		}
	}
	if prepackB(false, nil, 1, 4, nc+1) != nil {
		t.Error("a B wider than one column block was prepacked")
	}
}
