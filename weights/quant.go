package weights

import (
	"fmt"
	"maps"
	"math"
)

// Suffixes of the two tensors that store an int8-quantised weight W:
// W.q is I8 [rows, cols] and W.scale is F32 [rows].
const (
	QuantSuffix = ".q"
	ScaleSuffix = ".scale"
)

// Quantize quantises a row-major float32 matrix [rows, cols] to int8 with
// one symmetric scale per row: scale[r] = maxabs(row r)/127 and
// q = round(w/scale) with halves rounded away from zero, so q ∈ [-127, 127]
// (-128 is never used) and |w - q·scale| ≤ scale/2. An all-zero row gets
// scale 0 and q 0, and dequantises to exact zeros (so does a row whose
// maxabs/127 underflows float32, below about 1e-43). Non-finite inputs do not
// poison a row: NaN quantises to 0 and ±Inf saturates to ±127, with the
// scale taken over the finite values only. It panics if
// len(w) != rows*cols (a programming error, as with slice indexing).
func Quantize(w []float32, rows, cols int) (q []int8, scale []float32) {
	if rows < 0 || cols < 0 || len(w) != rows*cols {
		panic(fmt.Sprintf("weights.Quantize: len(w)=%d, want %d×%d", len(w), rows, cols))
	}
	q = make([]int8, len(w))
	scale = make([]float32, rows)
	for r := 0; r < rows; r++ {
		row := w[r*cols : (r+1)*cols]
		var maxabs float64
		for _, v := range row {
			if a := math.Abs(float64(v)); a > maxabs && !math.IsInf(a, 0) {
				maxabs = a
			}
		}
		s := float32(maxabs / 127)
		if s == 0 {
			continue // all zero, or so tiny that the scale underflows
		}
		scale[r] = s
		inv := 1 / float64(s)
		qr := q[r*cols : (r+1)*cols]
		for i, v := range row {
			x := math.Round(float64(v) * inv)
			switch {
			case x > 127:
				x = 127
			case x < -127:
				x = -127
			case x != x: // NaN
				x = 0
			}
			qr[i] = int8(x)
		}
	}
	return q, scale
}

// Dequantize reverses Quantize: w[r, c] = q[r, c] · scale[r]. It panics if
// the lengths do not match rows and cols.
func Dequantize(q []int8, scale []float32, rows, cols int) []float32 {
	if rows < 0 || cols < 0 || len(q) != rows*cols || len(scale) != rows {
		panic(fmt.Sprintf("weights.Dequantize: len(q)=%d, len(scale)=%d, want %d×%d", len(q), len(scale), rows, cols))
	}
	w := make([]float32, len(q))
	for r := 0; r < rows; r++ {
		s := scale[r]
		for c, v := range q[r*cols : (r+1)*cols] {
			w[r*cols+c] = float32(v) * s
		}
	}
	return w
}

// MatMulInt8 computes y = x · Wᵀ for x float32 [n, cols] and the int8
// matrix W [rows, cols] with per-row scales (the Linear layout [out, in]),
// writing y float32 [n, rows]. Each block of four rows of W is widened to
// float32 once and reused for all n rows of x; products are accumulated in
// float32 and the row's scale is applied once per output. Pure Go. It
// panics if a slice length does not match n, rows and cols.
func MatMulInt8(y, x []float32, n int, q []int8, scale []float32, rows, cols int) {
	if n < 0 || rows < 0 || cols < 0 || len(x) != n*cols || len(y) != n*rows ||
		len(q) != rows*cols || len(scale) != rows {
		panic(fmt.Sprintf("weights.MatMulInt8: len(y)=%d len(x)=%d len(q)=%d len(scale)=%d for n=%d rows=%d cols=%d",
			len(y), len(x), len(q), len(scale), n, rows, cols))
	}
	buf := make([]float32, 4*cols)
	w0, w1, w2, w3 := buf[:cols], buf[cols:2*cols], buf[2*cols:3*cols], buf[3*cols:]
	r := 0
	for ; r+4 <= rows; r += 4 {
		widen(w0, q[r*cols:(r+1)*cols])
		widen(w1, q[(r+1)*cols:(r+2)*cols])
		widen(w2, q[(r+2)*cols:(r+3)*cols])
		widen(w3, q[(r+3)*cols:(r+4)*cols])
		s0, s1, s2, s3 := scale[r], scale[r+1], scale[r+2], scale[r+3]
		for i := 0; i < n; i++ {
			d0, d1, d2, d3 := dot4(x[i*cols:(i+1)*cols], w0, w1, w2, w3)
			yi := y[i*rows+r : i*rows+r+4]
			yi[0], yi[1], yi[2], yi[3] = d0*s0, d1*s1, d2*s2, d3*s3
		}
	}
	for ; r < rows; r++ {
		widen(w0, q[r*cols:(r+1)*cols])
		for i := 0; i < n; i++ {
			y[i*rows+r] = dot(x[i*cols:(i+1)*cols], w0) * scale[r]
		}
	}
}

func widen(dst []float32, src []int8) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = float32(v)
	}
}

// dot4 returns the dot products of x with four rows at once, so each x
// element is loaded once and four independent accumulator chains keep the
// floating-point units busy.
func dot4(x, w0, w1, w2, w3 []float32) (a0, a1, a2, a3 float32) {
	n := len(x)
	w0, w1, w2, w3 = w0[:n], w1[:n], w2[:n], w3[:n]
	i := 0
	for ; i+2 <= n; i += 2 {
		xa, xb := x[i], x[i+1]
		a0 += xa*w0[i] + xb*w0[i+1]
		a1 += xa*w1[i] + xb*w1[i+1]
		a2 += xa*w2[i] + xb*w2[i+1]
		a3 += xa*w3[i] + xb*w3[i+1]
	}
	if i < n {
		xi := x[i]
		a0 += xi * w0[i]
		a1 += xi * w1[i]
		a2 += xi * w2[i]
		a3 += xi * w3[i]
	}
	return
}

func dot(x, w []float32) float32 {
	w = w[:len(x)]
	var a, b, c, d float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a += x[i] * w[i]
		b += x[i+1] * w[i+1]
		c += x[i+2] * w[i+2]
		d += x[i+3] * w[i+3]
	}
	for ; i < len(x); i++ {
		a += x[i] * w[i]
	}
	return (a + b) + (c + d)
}

// AddQuantized quantises w [rows, cols] with Quantize and adds it to f as
// name+QuantSuffix (I8 [rows, cols]) and name+ScaleSuffix (F32 [rows]).
func (f *File) AddQuantized(name string, w []float32, rows, cols int) error {
	if rows < 0 || cols < 0 || len(w) != rows*cols {
		return fmt.Errorf("tensor %s: %d values for shape [%d %d]: %w", name, len(w), rows, cols, ErrInvalid)
	}
	q, s := Quantize(w, rows, cols)
	if err := f.Add(FromInt8(name+QuantSuffix, []int{rows, cols}, q)); err != nil {
		return err
	}
	return f.Add(FromFloat32(name+ScaleSuffix, []int{rows}, s))
}

// Int8Matrix is an int8-quantised 2-D weight [Rows, Cols] with one scale
// per row, as Quantize makes it.
type Int8Matrix struct {
	Rows, Cols int
	Q          []int8
	Scale      []float32
}

// Quantized returns the int8 weight stored as name+QuantSuffix and
// name+ScaleSuffix, checking dtypes and shapes ([rows, cols] and [rows];
// -1 matches any size).
func (f *File) Quantized(name string, rows, cols int) (*Int8Matrix, error) {
	qt, err := f.Expect(name+QuantSuffix, I8, rows, cols)
	if err != nil {
		return nil, err
	}
	st, err := f.Expect(name+ScaleSuffix, F32, qt.Shape[0])
	if err != nil {
		return nil, err
	}
	m := &Int8Matrix{Rows: qt.Shape[0], Cols: qt.Shape[1]}
	if m.Q, err = qt.Int8(); err != nil {
		return nil, err
	}
	if m.Scale, err = st.Float32(); err != nil {
		return nil, err
	}
	return m, nil
}

// Float32 returns the named weight as float32 whatever its storage: a
// float tensor (F32, F16, BF16 or F64) of that name, or else an int8 pair
// (name.q, name.scale) dequantised, which requires a 2-D shape. The shape
// is checked as in Expect (-1 matches any size). Model loaders use it so
// one loader reads both full and quantised bundles.
func (f *File) Float32(name string, shape ...int) ([]float32, error) {
	t, err := f.Get(name)
	if err == nil {
		if err := matchShape(t, shape); err != nil {
			return nil, err
		}
		return t.Float32()
	}
	if _, qerr := f.Get(name + QuantSuffix); qerr != nil {
		return nil, err // report the plain name as missing
	}
	if len(shape) != 2 {
		return nil, fmt.Errorf("tensor %s: stored int8-quantised, which is 2-D, but shape %v was requested: %w",
			name, shape, ErrMismatch)
	}
	m, err := f.Quantized(name, shape[0], shape[1])
	if err != nil {
		return nil, err
	}
	return Dequantize(m.Q, m.Scale, m.Rows, m.Cols), nil
}

// QuantizeAll returns a copy of f in which every 2-D float tensor for which
// keep returns true (every 2-D float tensor if keep is nil) is replaced by
// its int8 pair; other tensors and the metadata are kept as they are.
func (f *File) QuantizeAll(keep func(t *Tensor) bool) (*File, error) {
	out := &File{Metadata: maps.Clone(f.Metadata)}
	for i := range f.Tensors {
		t := &f.Tensors[i]
		isFloat := t.DType == F32 || t.DType == F16 || t.DType == BF16 || t.DType == F64
		if !isFloat || len(t.Shape) != 2 || (keep != nil && !keep(t)) {
			if err := out.Add(*t); err != nil {
				return nil, err
			}
			continue
		}
		w, err := t.Float32()
		if err != nil {
			return nil, err
		}
		if err := out.AddQuantized(t.Name, w, t.Shape[0], t.Shape[1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
