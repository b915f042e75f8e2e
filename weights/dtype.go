package weights

import (
	"fmt"
	"math"
)

// DType is a safetensors element type. The constants are declared in the
// order of the reference implementation's Dtype enum (increasing alignment);
// the writer relies on that order to lay tensors out with the widest types
// first. The zero value is not a valid type.
type DType uint8

// The element types of the safetensors format (all little-endian).
const (
	BOOL   DType = iota + 1 // 1 byte, 0 or 1
	U8                      // uint8
	I8                      // int8
	F8E5M2                  // 8-bit float, "F8_E5M2" (raw bytes only)
	F8E4M3                  // 8-bit float, "F8_E4M3" (raw bytes only)
	I16                     // int16
	U16                     // uint16
	F16                     // IEEE 754 half precision
	BF16                    // bfloat16 (upper half of a float32)
	I32                     // int32
	U32                     // uint32
	F32                     // float32
	F64                     // float64
	I64                     // int64
	U64                     // uint64
)

var dtypeNames = [...]string{
	BOOL: "BOOL", U8: "U8", I8: "I8", F8E5M2: "F8_E5M2", F8E4M3: "F8_E4M3",
	I16: "I16", U16: "U16", F16: "F16", BF16: "BF16", I32: "I32", U32: "U32",
	F32: "F32", F64: "F64", I64: "I64", U64: "U64",
}

var dtypeSizes = [...]int{
	BOOL: 1, U8: 1, I8: 1, F8E5M2: 1, F8E4M3: 1, I16: 2, U16: 2, F16: 2,
	BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
}

// String returns the name the safetensors header uses, e.g. "F32".
func (d DType) String() string {
	if !d.valid() {
		return fmt.Sprintf("DType(%d)", uint8(d))
	}
	return dtypeNames[d]
}

// Size returns the size of one element in bytes (0 for an invalid DType).
func (d DType) Size() int {
	if !d.valid() {
		return 0
	}
	return dtypeSizes[d]
}

func (d DType) valid() bool { return d >= BOOL && d <= U64 }

// ParseDType maps a header dtype name ("F32", "BF16", ...) to its DType.
func ParseDType(s string) (DType, error) {
	for d := BOOL; d <= U64; d++ {
		if dtypeNames[d] == s {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown dtype %q: %w", s, ErrInvalid)
}

// halfToFloat32 converts IEEE 754 binary16 bits to float32 exactly
// (subnormals, infinities and NaN payloads included).
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // signed zero
		return math.Float32frombits(sign)
	}
	// Subnormal: normalise the mantissa.
	e := uint32(113)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// float32ToHalf converts a float32 to binary16 bits, rounding to nearest
// even; values beyond the half range become ±Inf, NaN stays NaN (quiet).
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Subnormal half (or zero): shift the implicit-one mantissa.
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		half := uint32(1) << (shift - 1)
		r := m >> shift
		rem := m & (1<<shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++ // may carry into the exponent, up to Inf: correct
	}
	return sign | uint16(r)
}

// bf16ToFloat32 widens bfloat16 bits to float32 exactly.
func bf16ToFloat32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// float32ToBF16 rounds a float32 to bfloat16 bits (nearest even), keeping
// NaN a NaN, as PyTorch does.
func float32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
