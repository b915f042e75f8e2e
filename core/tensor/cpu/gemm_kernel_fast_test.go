package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestKernelFastMatchesKernelGo checks the portable fast micro-kernel against kernelGo
// (which the AVX2 kernel and the GEMM tests already check) on random panels, for several
// depths and a C with a wider row stride.
func TestKernelFastMatchesKernelGo(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, k := range []int{1, 2, 7, 64, 256} {
		for _, ldc := range []int{nr, nr + 5} {
			a := make([]float32, k*mr)
			b := make([]float32, k*nr)
			for i := range a {
				a[i] = r.Float32()*2 - 1
			}
			for i := range b {
				b[i] = r.Float32()*2 - 1
			}
			c1 := make([]float32, (mr-1)*ldc+nr)
			for i := range c1 {
				c1[i] = r.Float32()
			}
			c2 := append([]float32(nil), c1...)
			kernelGo(k, a, b, c1, ldc)
			kernelFast(k, a, b, c2, ldc)
			for i := range c1 {
				if d := math.Abs(float64(c1[i] - c2[i])); d > 1e-4*math.Max(1, math.Abs(float64(c1[i]))) {
					t.Fatalf("k=%d ldc=%d: c[%d] = %g, kernelGo %g", k, ldc, i, c2[i], c1[i])
				}
			}
		}
	}
	kernelFast(0, nil, nil, nil, nr) // k = 0 does nothing
}

// BenchmarkKernels compares the portable micro-kernels at the lite tagger's depth (k = 64,
// the GRU hidden size). Under wasm:
//
//	GOOS=js GOARCH=wasm go test -run XXX -bench Kernels ./core/tensor/cpu -exec "$(go env GOROOT)/lib/wasm/go_js_wasm_exec"
func BenchmarkKernels(b *testing.B) {
	const k = 64
	a := make([]float32, k*mr)
	bb := make([]float32, k*nr)
	c := make([]float32, mr*nr)
	for i := range a {
		a[i] = float32(i%7) * 0.1
	}
	for i := range bb {
		bb[i] = float32(i%5) * 0.1
	}
	for _, kc := range []struct {
		name string
		f    kernelFunc
	}{{"go", kernelGo}, {"fast", kernelFast}} {
		b.Run(kc.name, func(b *testing.B) {
			for b.Loop() {
				kc.f(k, a, bb, c, nr)
			}
			b.ReportMetric(float64(2*mr*nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
