package weights

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor is one named tensor: element type, shape (row-major, C order) and
// the raw little-endian bytes. Tensors returned by Parse share Data with the
// buffer they were parsed from; treat it as read-only or copy it.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// NumElements returns the product of the shape (1 for a scalar) or -1 if a
// dimension is negative or the product overflows.
func (t *Tensor) NumElements() int {
	n, ok := numElements(t.Shape)
	if !ok {
		return -1
	}
	return n
}

// maxElements bounds element counts so that count × 8 bytes cannot
// overflow an int on any supported platform.
const maxElements = math.MaxInt64 / 8

func numElements(shape []int) (int, bool) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d != 0 && n > maxElements/d {
			return 0, false
		}
		n *= d
	}
	return n, true
}

// check reports whether the tensor is self-consistent: a valid dtype,
// non-negative dimensions and len(Data) == elements × dtype size.
func (t *Tensor) check() error {
	if !t.DType.valid() {
		return fmt.Errorf("tensor %s: invalid dtype %v: %w", t.Name, t.DType, ErrInvalid)
	}
	n, ok := numElements(t.Shape)
	if !ok {
		return fmt.Errorf("tensor %s: shape %v has a negative dimension or overflows: %w", t.Name, t.Shape, ErrInvalid)
	}
	if want := n * t.DType.Size(); len(t.Data) != want {
		return fmt.Errorf("tensor %s: shape %v of %v needs %d bytes, data has %d: %w",
			t.Name, t.Shape, t.DType, want, len(t.Data), ErrInvalid)
	}
	return nil
}

// elements validates t and checks that its dtype is one of want.
func (t *Tensor) elements(want ...DType) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	for _, d := range want {
		if t.DType == d {
			return len(t.Data) / d.Size(), nil
		}
	}
	return 0, fmt.Errorf("tensor %s: dtype %v cannot be read as %v: %w", t.Name, t.DType, want, ErrMismatch)
}

// Float32 returns the elements as float32. F32 is copied, F16 and BF16 are
// widened exactly, F64 is rounded to nearest.
func (t *Tensor) Float32() ([]float32, error) {
	n, err := t.elements(F32, F16, BF16, F64)
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	d := t.Data
	switch t.DType {
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(d[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = halfToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = bf16ToFloat32(binary.LittleEndian.Uint16(d[2*i:]))
		}
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:])))
		}
	}
	return out, nil
}

// Float64 returns the elements of an F64, F32, F16 or BF16 tensor as float64.
func (t *Tensor) Float64() ([]float64, error) {
	if t.DType == F64 {
		n, err := t.elements(F64)
		if err != nil {
			return nil, err
		}
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*i:]))
		}
		return out, nil
	}
	f, err := t.Float32()
	if err != nil {
		return nil, err
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out, nil
}

// Int8 returns the elements of an I8 tensor.
func (t *Tensor) Int8() ([]int8, error) {
	n, err := t.elements(I8)
	if err != nil {
		return nil, err
	}
	out := make([]int8, n)
	for i, b := range t.Data {
		out[i] = int8(b)
	}
	return out, nil
}

// Uint8 returns a copy of the elements of a U8 or BOOL tensor.
func (t *Tensor) Uint8() ([]uint8, error) {
	if _, err := t.elements(U8, BOOL); err != nil {
		return nil, err
	}
	return append([]uint8(nil), t.Data...), nil
}

// Int32 returns the elements of an I32 tensor.
func (t *Tensor) Int32() ([]int32, error) {
	n, err := t.elements(I32)
	if err != nil {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// Int64 returns the elements of an I64, I32, I16, I8, U32, U16, U8 or BOOL
// tensor widened to int64 (every conversion is exact).
func (t *Tensor) Int64() ([]int64, error) {
	n, err := t.elements(I64, I32, I16, I8, U32, U16, U8, BOOL)
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	d := t.Data
	for i := range out {
		switch t.DType {
		case I64:
			out[i] = int64(binary.LittleEndian.Uint64(d[8*i:]))
		case I32:
			out[i] = int64(int32(binary.LittleEndian.Uint32(d[4*i:])))
		case U32:
			out[i] = int64(binary.LittleEndian.Uint32(d[4*i:]))
		case I16:
			out[i] = int64(int16(binary.LittleEndian.Uint16(d[2*i:])))
		case U16:
			out[i] = int64(binary.LittleEndian.Uint16(d[2*i:]))
		case I8:
			out[i] = int64(int8(d[i]))
		default: // U8, BOOL
			out[i] = int64(d[i])
		}
	}
	return out, nil
}

// FromFloat32 makes an F32 tensor. The shape is not checked against
// len(v) here; File.WriteTo and File.Add report a mismatch.
func FromFloat32(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: cloneShape(shape), Data: b}
}

// FromFloat16 makes an F16 tensor, rounding each value to nearest even
// (beyond ±65504 becomes ±Inf).
func FromFloat16(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], float32ToHalf(x))
	}
	return Tensor{Name: name, DType: F16, Shape: cloneShape(shape), Data: b}
}

// FromBFloat16 makes a BF16 tensor, rounding each value to nearest even.
func FromBFloat16(name string, shape []int, v []float32) Tensor {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], float32ToBF16(x))
	}
	return Tensor{Name: name, DType: BF16, Shape: cloneShape(shape), Data: b}
}

// FromFloat64 makes an F64 tensor.
func FromFloat64(name string, shape []int, v []float64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return Tensor{Name: name, DType: F64, Shape: cloneShape(shape), Data: b}
}

// FromInt8 makes an I8 tensor.
func FromInt8(name string, shape []int, v []int8) Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return Tensor{Name: name, DType: I8, Shape: cloneShape(shape), Data: b}
}

// FromUint8 makes a U8 tensor.
func FromUint8(name string, shape []int, v []uint8) Tensor {
	return Tensor{Name: name, DType: U8, Shape: cloneShape(shape), Data: append([]byte(nil), v...)}
}

// FromInt32 makes an I32 tensor.
func FromInt32(name string, shape []int, v []int32) Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(x))
	}
	return Tensor{Name: name, DType: I32, Shape: cloneShape(shape), Data: b}
}

// FromInt64 makes an I64 tensor.
func FromInt64(name string, shape []int, v []int64) Tensor {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: cloneShape(shape), Data: b}
}

func cloneShape(s []int) []int { return append(make([]int, 0, len(s)), s...) }
