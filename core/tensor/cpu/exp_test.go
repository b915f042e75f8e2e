package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestExpSlice checks the vectorised exp against float64 math.Exp across the range the
// activations use, on lengths that exercise the 8-wide body and the scalar tail.
func TestExpSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 100} {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(r.Float64()*170 - 86)
		}
		if n > 3 {
			src[0], src[1], src[2] = 0, -1e-7, float32(math.NaN())
		}
		dst := make([]float32, n)
		expSlice(dst, src)
		for i, x := range src {
			want := math.Exp(float64(x))
			if math.IsNaN(float64(x)) {
				if !math.IsNaN(float64(dst[i])) {
					t.Errorf("exp(NaN) = %v", dst[i])
				}
				continue
			}
			if rel := math.Abs(float64(dst[i])-want) / want; rel > 3e-7 {
				t.Errorf("n=%d exp(%v) = %v, want %v (rel %.2g)", n, x, dst[i], want, rel)
			}
		}
	}
	// Far outside the float32 range, in place: tiny (0 or the smallest normal) and huge
	// (+Inf or the largest finite value), never NaN.
	s := []float32{-200, -100, 100, 200, 0, 0, 0, 0}
	expSlice(s, s)
	if s[0] < 0 || s[0] > 2e-38 || s[1] > 2e-38 || !(s[2] > 1e38) || !(s[3] > 1e38) || s[4] != 1 {
		t.Errorf("saturation: %v", s)
	}
}

func BenchmarkExpSlice(b *testing.B) {
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i%200) / -20
	}
	dst := make([]float32, len(src))
	b.SetBytes(int64(4 * len(src)))
	for b.Loop() {
		expSlice(dst, src)
	}
}
