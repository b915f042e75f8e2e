package weights

import (
	"math"
	"testing"
)

func TestHalfConversionExhaustive(t *testing.T) {
	// Every binary16 value widens exactly and narrows back to itself.
	for h := 0; h < 1<<16; h++ {
		f := halfToFloat32(uint16(h))
		back := float32ToHalf(f)
		if f != f { // NaN: must stay NaN
			if back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x became %#04x", h, back)
			}
			continue
		}
		if back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
}

func TestFloat32ToHalfRounding(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3c00},
		{1 + 1.0/2048, 0x3c00},             // tie, round to even (down)
		{1 + 3.0/2048, 0x3c02},             // tie, round to even (up)
		{1 + 1.0/2048 + 1.0/65536, 0x3c01}, // just above the tie
		{65504, 0x7bff},                    // max half
		{65520, 0x7c00},                    // rounds to Inf
		{1e10, 0x7c00},                     // overflow
		{-1e10, 0xfc00},                    // negative overflow
		{5.9604645e-08, 0x0001},            // smallest subnormal
		{2.9802322e-08, 0x0000},            // half of it: tie to even (0)
		{2.9802326e-08, 0x0001},            // just above the tie
		{6.097555e-05, 0x03ff},             // largest subnormal
		{float32(math.Copysign(0, -1)), 0x8000},
		{float32(math.Inf(-1)), 0xfc00},
	}
	for _, tc := range tests {
		if got := float32ToHalf(tc.in); got != tc.want {
			t.Errorf("float32ToHalf(%v) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
}

func TestBF16Rounding(t *testing.T) {
	tests := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above tie
		{0x7f7fffff, 0x7f80}, // max float rounds to Inf
		{0x7f800000, 0x7f80}, // Inf
		{0x7f800001, 0x7fc0}, // signalling NaN stays NaN
		{0xffc00000, 0xffc0}, // negative quiet NaN
	}
	for _, tc := range tests {
		if got := float32ToBF16(math.Float32frombits(tc.in)); got != tc.want {
			t.Errorf("float32ToBF16(%#08x) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
	for h := 0; h < 1<<16; h++ {
		f := bf16ToFloat32(uint16(h))
		if f == f && float32ToBF16(f) != uint16(h) {
			t.Fatalf("bf16 %#04x does not round-trip", h)
		}
	}
}

func TestParseDType(t *testing.T) {
	for d := BOOL; d <= U64; d++ {
		got, err := ParseDType(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDType(%q) = %v, %v", d.String(), got, err)
		}
		if d.Size() == 0 {
			t.Errorf("%v has size 0", d)
		}
	}
	if _, err := ParseDType("f32"); err == nil {
		t.Error("dtype names are case-sensitive")
	}
	if DType(0).Size() != 0 || DType(0).String() != "DType(0)" {
		t.Error("zero DType")
	}
}
