package cpu

import "unsafe"

// kernelFast is the portable micro-kernel of the generic (non-amd64, or purego) build: the
// same product as kernelGo, with the tile walked in 3×4 sub-tiles (12 accumulators, 3 A
// operands, one B operand at a time) and the packed panels read through unsafe offsets
// after one bounds check per call. kernelGo re-slices its operands at every k step, and
// under GOARCH=wasm those index checks stay in the inner loop and cost as much as the
// arithmetic (the wasm backend has no bounds-check elimination across the loop). The k loop
// is unrolled by two (constant offsets fold into the loads; half the loop overhead). Measured
// with k = 64 on the dev machine, before unrolling: wasm (node) 0.79 → 1.08 GFLOP/s, native
// purego 1.38 → 1.79 GFLOP/s (BenchmarkKernels); unrolling then cut the model time of a
// 1,000-character record in Chromium from 158 to 133 ms and from 121 to 85 ms in two
// interleaved runs (web/bench.html, docs/BENCHMARKS.md).
func kernelFast(k int, a, b, c []float32, ldc int) {
	if k <= 0 {
		return
	}
	_ = a[k*mr-1]
	_ = b[k*nr-1]
	_ = c[(mr-1)*ldc+nr-1]
	pa := unsafe.Pointer(unsafe.SliceData(a))
	pb := unsafe.Pointer(unsafe.SliceData(b))
	for i := 0; i < mr; i += 3 {
		for j := 0; j < nr; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23 float32
			ao, bo := uintptr(i)*4, uintptr(j)*4
			p := 0
			for ; p+2 <= k; p += 2 {
				a0 := *(*float32)(unsafe.Add(pa, ao))
				a1 := *(*float32)(unsafe.Add(pa, ao+4))
				a2 := *(*float32)(unsafe.Add(pa, ao+8))
				b0 := *(*float32)(unsafe.Add(pb, bo))
				c00 += a0 * b0
				c10 += a1 * b0
				c20 += a2 * b0
				b1 := *(*float32)(unsafe.Add(pb, bo+4))
				c01 += a0 * b1
				c11 += a1 * b1
				c21 += a2 * b1
				b2 := *(*float32)(unsafe.Add(pb, bo+8))
				c02 += a0 * b2
				c12 += a1 * b2
				c22 += a2 * b2
				b3 := *(*float32)(unsafe.Add(pb, bo+12))
				c03 += a0 * b3
				c13 += a1 * b3
				c23 += a2 * b3
				{
					a0 = *(*float32)(unsafe.Add(pa, ao+mr*4))
					a1 = *(*float32)(unsafe.Add(pa, ao+mr*4+4))
					a2 = *(*float32)(unsafe.Add(pa, ao+mr*4+8))
					b0 = *(*float32)(unsafe.Add(pb, bo+nr*4))
					c00 += a0 * b0
					c10 += a1 * b0
					c20 += a2 * b0
					b1 = *(*float32)(unsafe.Add(pb, bo+nr*4+4))
					c01 += a0 * b1
					c11 += a1 * b1
					c21 += a2 * b1
					b2 = *(*float32)(unsafe.Add(pb, bo+nr*4+8))
					c02 += a0 * b2
					c12 += a1 * b2
					c22 += a2 * b2
					b3 = *(*float32)(unsafe.Add(pb, bo+nr*4+12))
					c03 += a0 * b3
					c13 += a1 * b3
					c23 += a2 * b3
				}
				ao += 2 * mr * 4
				bo += 2 * nr * 4
			}
			if p < k {
				a0 := *(*float32)(unsafe.Add(pa, ao))
				a1 := *(*float32)(unsafe.Add(pa, ao+4))
				a2 := *(*float32)(unsafe.Add(pa, ao+8))
				b0 := *(*float32)(unsafe.Add(pb, bo))
				c00 += a0 * b0
				c10 += a1 * b0
				c20 += a2 * b0
				b1 := *(*float32)(unsafe.Add(pb, bo+4))
				c01 += a0 * b1
				c11 += a1 * b1
				c21 += a2 * b1
				b2 := *(*float32)(unsafe.Add(pb, bo+8))
				c02 += a0 * b2
				c12 += a1 * b2
				c22 += a2 * b2
				b3 := *(*float32)(unsafe.Add(pb, bo+12))
				c03 += a0 * b3
				c13 += a1 * b3
				c23 += a2 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			r2 := c[(i+2)*ldc+j : (i+2)*ldc+j+4 : (i+2)*ldc+j+4]
			r0[0] += c00
			r0[1] += c01
			r0[2] += c02
			r0[3] += c03
			r1[0] += c10
			r1[1] += c11
			r1[2] += c12
			r1[3] += c13
			r2[0] += c20
			r2[1] += c21
			r2[2] += c22
			r2[3] += c23
		}
	}
}
