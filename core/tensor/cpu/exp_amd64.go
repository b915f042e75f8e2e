//go:build amd64 && !purego

package cpu

// expSlice sets dst[i] = exp(src[i]) (dst may be src), eight at a time with AVX2/FMA when
// the CPU has them. Results agree with expf within a float32 rounding or two; outside
// [ln 2^-126, ln 2^127] they saturate to the smallest normal or the largest finite value
// (softmax, sigmoid and tanh, its users, are exact to float32 precision either way).
func expSlice(dst, src []float32) {
	dst = dst[:len(src)]
	body := len(src) &^ 7
	if hasAVX2FMA && body > 0 {
		expAVX2(&dst[0], &src[0], body)
	} else {
		body = 0
	}
	for i := body; i < len(src); i++ {
		dst[i] = expf(src[i])
	}
}

//go:noescape
func expAVX2(dst, src *float32, n int)
