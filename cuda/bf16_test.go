package cuda

import (
	"math"
	"testing"
)

func TestBF16Rounding(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{-2.5, 0xc020},
		{math.Float32frombits(0x3f808000), 0x3f80}, // a tie rounds to even (down)
		{math.Float32frombits(0x3f818000), 0x3f82}, // a tie rounds to even (up)
		{math.Float32frombits(0x3f808001), 0x3f81}, // above the tie rounds up
		{float32(math.Inf(1)), 0x7f80},
		{math.MaxFloat32, 0x7f80}, // overflows to +Inf, as a cast would
	} {
		if got := toBF16([]float32{tc.in})[0]; got != tc.want {
			t.Errorf("toBF16(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
	nan := toBF16([]float32{float32(math.NaN())})[0]
	back := make([]float32, 1)
	fromBF16(back, []uint16{nan})
	if !math.IsNaN(float64(back[0])) {
		t.Errorf("NaN became %v", back[0])
	}
	fromBF16(back, []uint16{0xc020})
	if back[0] != -2.5 {
		t.Errorf("fromBF16(0xc020) = %v, want -2.5", back[0])
	}
}
