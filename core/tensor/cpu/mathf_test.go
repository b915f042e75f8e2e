package cpu

import (
	"math"
	"testing"
)

// TestMathf bounds the float32 functions' error against float64 math.
func TestMathf(t *testing.T) {
	tests := []struct {
		name   string
		f      func(float32) float32
		ref    func(float64) float64
		lo, hi float32
		rel    float64
	}{
		{"expf", expf, math.Exp, -87, 88, 4e-7},
		{"tanhf", tanhf, math.Tanh, -12, 12, 4e-7},
		{"sigmoid", sigmoid, func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }, -80, 80, 6e-7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const steps = 200003
			for i := range steps + 1 {
				x := tc.lo + (tc.hi-tc.lo)*float32(i)/steps
				got, want := float64(tc.f(x)), tc.ref(float64(x))
				if d := math.Abs(got - want); d > tc.rel*math.Abs(want)+1e-38 {
					t.Fatalf("%s(%v) = %v, want %v (rel %.3g)", tc.name, x, got, want, d/math.Abs(want))
				}
			}
		})
	}
	for _, c := range []struct {
		got, want float32
	}{
		{expf(100), float32(math.Inf(1))}, {expf(-200), 0}, {tanhf(-30), -1}, {tanhf(30), 1}, {sigmoid(-200), 0},
	} {
		if c.got != c.want {
			t.Errorf("limit: got %v, want %v", c.got, c.want)
		}
	}
	if v := expf(float32(math.NaN())); v == v {
		t.Errorf("expf(NaN) = %v", v)
	}
}
