package cpu

import "math"

// Float32 exp and tanh (Cephes' expf and tanhf polynomials, about 1 ulp):
// several times cheaper than the float64 math package on amd64 and on
// wasm, and accurate far beyond the conformance tolerances.

const (
	log2e  = 1.44269504088896341
	ln2Hi  = 0.693359375
	ln2Lo  = -2.12194440e-4
	expMax = 88.72283905206835
	expMin = -103.972084
)

// expf returns e^x in float32.
func expf(x float32) float32 {
	switch {
	case x > expMax:
		return float32(math.Inf(1))
	case x < expMin:
		return 0
	case x != x:
		return x
	}
	n := float32(math.Floor(float64(log2e*x + 0.5)))
	r := x - n*ln2Hi - n*ln2Lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	e := p*r*r + r + 1
	// Scale by 2^n in two steps so that n down to −150 stays representable.
	k := int32(n)
	if k < -126 {
		e *= math.Float32frombits(uint32(k+126+127) << 23)
		return e * math.Float32frombits(1<<23) // 2^−126
	}
	if k > 127 {
		return e * 2 * math.Float32frombits(uint32(k-1+127)<<23)
	}
	return e * math.Float32frombits(uint32(k+127)<<23)
}

// tanhf returns tanh(x) in float32.
func tanhf(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a < 0.625 {
		z := x * x
		p := float32(-5.70498872745e-3)
		p = p*z + 2.06390887954e-2
		p = p*z - 5.37397155531e-2
		p = p*z + 1.33314422036e-1
		p = p*z - 3.33332819422e-1
		return p*z*x + x
	}
	if a > 9 {
		if x < 0 {
			return -1
		}
		return 1
	}
	y := 1 - 2/(expf(2*a)+1)
	if x < 0 {
		return -y
	}
	return y
}

// sigmoid returns 1/(1 + e^−x) in float32.
func sigmoid(x float32) float32 { return 1 / (1 + expf(-x)) }

// sigmoidHook and tanhHook, when set, compute a leading part of sigmoidSlice's and
// tanhSlice's work with the same operations and return how many elements they did; the
// browser build sets them to WebAssembly SIMD kernels (gemm_js.go), nil everywhere else.
var (
	sigmoidHook func(x []float32) int
	tanhHook    func(dst, src []float32) int
)

// sigmoidSlice sets x[i] = σ(x[i]) through the vectorised exp.
func sigmoidSlice(x []float32) {
	if sigmoidHook != nil {
		x = x[sigmoidHook(x):]
	}
	for i := range x {
		x[i] = -x[i]
	}
	expSlice(x, x)
	for i := range x {
		x[i] = 1 / (1 + x[i])
	}
}

// tanhSlice sets dst[i] = tanh(src[i]) = 2σ(2x) − 1 through the vectorised exp (dst may be
// src). Its absolute error is about 1e-7; near 0 that is a larger relative error than
// tanhf's, which the recurrent gates, its users, do not notice.
func tanhSlice(dst, src []float32) {
	dst = dst[:len(src)]
	if tanhHook != nil {
		done := tanhHook(dst, src)
		dst, src = dst[done:], src[done:]
	}
	for i, v := range src {
		dst[i] = -2 * v
	}
	expSlice(dst, dst)
	for i := range dst {
		dst[i] = 2/(1+dst[i]) - 1
	}
}
