//go:build amd64 && !purego

package cpu

// hasAVX2FMA reports whether the CPU and OS support AVX2 and FMA (YMM state
// enabled), which kernelAVX2 needs.
var hasAVX2FMA = detectAVX2FMA()

func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0
}

// microKernel runs the AVX2/FMA assembly kernel when available and the
// portable Go kernel otherwise. The slice expressions check the bounds the
// assembly relies on.
func microKernel(k int, a, b, c []float32, ldc int) {
	if !hasAVX2FMA {
		kernelGo(k, a, b, c, ldc)
		return
	}
	a = a[:k*mr]
	b = b[:k*nr]
	c = c[:(mr-1)*ldc+nr]
	kernelAVX2(k, &a[0], &b[0], &c[0], ldc)
}

// dequantize sets dst[i] = scale·q[i] (len(q) ≥ len(dst)), eight values
// per AVX2 step when available.
func dequantize(dst []float32, q []int8, scale float32) {
	n := len(dst)
	q = q[:n]
	if !hasAVX2FMA || n < 8 {
		dequantizeGo(dst, q, scale)
		return
	}
	body := n &^ 7
	dequantAVX2(&dst[0], &q[0], body, scale)
	dequantizeGo(dst[body:], q[body:], scale)
}

// KernelName reports which GEMM micro-kernel this build uses.
func KernelName() string {
	if hasAVX2FMA {
		return "avx2-fma-6x16"
	}
	return "go"
}

// kernelAVX2 adds the product of a packed 6×k A micro-panel and a packed
// k×16 B micro-panel to the 6×16 tile at c (row stride ldc elements); k ≥ 1.
//
//go:noescape
func kernelAVX2(k int, a, b, c *float32, ldc int)

// dequantAVX2 sets dst[i] = scale·float32(src[i]) for i < n, n a positive
// multiple of 8.
//
//go:noescape
func dequantAVX2(dst *float32, src *int8, n int, scale float32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)
