//go:build !amd64 || purego

package cpu

// expSlice sets dst[i] = exp(src[i]) (dst may be src).
func expSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = expf(v)
	}
}
