//go:build (!amd64 || purego) && !(js && wasm)

package cpu

// microKernel is the portable Go micro-kernel on this platform (kernelFast; kernelGo is
// the reference it is tested against).
func microKernel(k int, a, b, c []float32, ldc int) { kernelFast(k, a, b, c, ldc) }

// dequantize sets dst[i] = scale·q[i] (len(q) ≥ len(dst)).
func dequantize(dst []float32, q []int8, scale float32) { dequantizeGo(dst, q, scale) }

// KernelName reports which GEMM micro-kernel this build uses.
func KernelName() string { return "go" }
