package weights

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randMatrix(rng *rand.Rand, n int, scale float64) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(rng.NormFloat64() * scale)
	}
	return w
}

func TestQuantizeBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := randMatrix(rng, 7*33, 1)
	big[5] = 1e30
	tests := []struct {
		name       string
		w          []float32
		rows, cols int
	}{
		{"gaussian", randMatrix(rng, 384*256, 0.05), 384, 256},
		{"wide range rows", big, 7, 33},
		{"tiny", randMatrix(rng, 4*9, 1e-30), 4, 9},
		{"one column", []float32{3, -3, 0.5}, 3, 1},
		{"empty", nil, 0, 5},
		{"halves", []float32{127, 0.5, 1.5, -0.5, -2.5}, 1, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, s := Quantize(tc.w, tc.rows, tc.cols)
			d := Dequantize(q, s, tc.rows, tc.cols)
			for r := 0; r < tc.rows; r++ {
				var maxabs float32
				for c := 0; c < tc.cols; c++ {
					maxabs = max(maxabs, float32(math.Abs(float64(tc.w[r*tc.cols+c]))))
				}
				if want := maxabs / 127; math.Abs(float64(s[r]-want)) > 1e-6*float64(want) {
					t.Errorf("row %d: scale %g, want %g", r, s[r], want)
				}
				for c := 0; c < tc.cols; c++ {
					i := r*tc.cols + c
					if q[i] == -128 {
						t.Fatalf("q = -128 at %d", i)
					}
					if err := math.Abs(float64(tc.w[i] - d[i])); err > float64(s[r])/2*(1+1e-5) {
						t.Fatalf("row %d col %d: |%g - %g| = %g > scale/2 = %g", r, c, tc.w[i], d[i], err, s[r]/2)
					}
				}
			}
		})
	}
	// Halves round away from zero: 0.5 → 1, 1.5 → 2, -2.5 → -3 (scale 1).
	q, _ := Quantize([]float32{127, 0.5, 1.5, -0.5, -2.5}, 1, 5)
	if want := []int8{127, 1, 2, -1, -3}; string(int8sToBytes(q)) != string(int8sToBytes(want)) {
		t.Errorf("rounding: got %v, want %v", q, want)
	}
}

func int8sToBytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func TestQuantizeSpecialRows(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	q, s := Quantize([]float32{0, 0, 0, 0, 2, nan, -inf, inf, nan, nan, nan, nan}, 3, 4)
	if s[0] != 0 || q[0]|q[1]|q[2]|q[3] != 0 {
		t.Errorf("zero row: q %v scale %v", q[:4], s[0])
	}
	if want := []int8{127, 0, -127, 127}; string(int8sToBytes(q[4:8])) != string(int8sToBytes(want)) || s[1] != 2.0/127 {
		t.Errorf("non-finite row: q %v scale %v", q[4:8], s[1])
	}
	if s[2] != 0 {
		t.Errorf("all-NaN row: scale %v", s[2])
	}
	for _, v := range Dequantize(q, s, 3, 4) {
		if v != v || math.IsInf(float64(v), 0) {
			t.Fatal("dequantised a non-finite value")
		}
	}
}

// matMulFloat32Naive is the float reference: y = x · wᵀ.
func matMulFloat32Naive(y, x []float32, n int, w []float32, rows, cols int) {
	for i := 0; i < n; i++ {
		for r := 0; r < rows; r++ {
			var acc float32
			for k := 0; k < cols; k++ {
				acc += x[i*cols+k] * w[r*cols+k]
			}
			y[i*rows+r] = acc
		}
	}
}

func TestMatMulInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sz := range []struct{ n, rows, cols int }{
		{32, 384, 256}, {1, 1, 1}, {3, 5, 7}, {2, 4, 0}, {0, 4, 3}, {5, 9, 33},
	} {
		w := randMatrix(rng, sz.rows*sz.cols, 0.1)
		x := randMatrix(rng, sz.n*sz.cols, 1)
		q, s := Quantize(w, sz.rows, sz.cols)
		deq := Dequantize(q, s, sz.rows, sz.cols)
		got := make([]float32, sz.n*sz.rows)
		want := make([]float32, sz.n*sz.rows)
		MatMulInt8(got, x, sz.n, q, s, sz.rows, sz.cols)
		matMulFloat32Naive(want, x, sz.n, deq, sz.rows, sz.cols)
		for i := range got {
			// Same products, different summation order: float32 rounding only.
			if d := math.Abs(float64(got[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("%+v: y[%d] = %g, want %g", sz, i, got[i], want[i])
			}
		}
		// Against the unquantised weights the error is bounded by
		// Σ|x|·scale/2 per output.
		matMulFloat32Naive(want, x, sz.n, w, sz.rows, sz.cols)
		for i := 0; i < sz.n; i++ {
			var sumAbs float64
			for k := 0; k < sz.cols; k++ {
				sumAbs += math.Abs(float64(x[i*sz.cols+k]))
			}
			for r := 0; r < sz.rows; r++ {
				bound := sumAbs*float64(s[r])/2 + 1e-4
				if d := math.Abs(float64(got[i*sz.rows+r] - want[i*sz.rows+r])); d > bound {
					t.Fatalf("%+v: y[%d,%d] off by %g > %g", sz, i, r, d, bound)
				}
			}
		}
	}
}

func TestQuantizedInFile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w := randMatrix(rng, 6*10, 1)
	src := &File{}
	src.Add(FromFloat32("lin.w", []int{6, 10}, w))
	src.Add(FromFloat32("lin.b", []int{6}, w[:6]))
	src.Add(FromInt64("steps", []int{1}, []int64{9}))

	qf, err := src.QuantizeAll(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qf.Expect("lin.w.q", I8, 6, 10); err != nil {
		t.Error(err)
	}
	if _, err := qf.Expect("lin.w.scale", F32, 6); err != nil {
		t.Error(err)
	}
	if _, err := qf.Expect("lin.b", F32, 6); err != nil {
		t.Error("1-D tensors stay float:", err)
	}
	// The file survives serialisation, and Float32 reads both forms.
	qf, err = Parse(mustWrite(t, qf))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*File{src, qf} {
		got, err := f.Float32("lin.w", 6, 10)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w {
			if math.Abs(float64(got[i]-w[i])) > 0.02 {
				t.Fatalf("lin.w[%d] = %g, want %g", i, got[i], w[i])
			}
		}
	}
	m, err := qf.Quantized("lin.w", -1, 10)
	if err != nil || m.Rows != 6 || m.Cols != 10 || len(m.Q) != 60 || len(m.Scale) != 6 {
		t.Errorf("Quantized: %+v, %v", m, err)
	}

	tests := []struct {
		name  string
		shape []int
		want  string
		is    error
	}{
		{"lin.w", []int{6, 11}, "tensor lin.w.q: want shape [6 11], got [6 10]", ErrMismatch},
		{"lin.w", []int{60}, "tensor lin.w: stored int8-quantised, which is 2-D", ErrMismatch},
		{"lin.b", []int{7}, "tensor lin.b: want shape [7], got [6]", ErrMismatch},
		{"steps", []int{1}, "tensor steps: dtype I64 cannot be read as", ErrMismatch},
		{"nope", []int{1}, "tensor nope: not found", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			_, err := qf.Float32(tc.name, tc.shape...)
			if !errors.Is(err, tc.is) || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}

	bad := &File{}
	bad.Add(FromInt8("x.q", []int{2, 2}, []int8{1, 2, 3, 4}))
	bad.Add(FromFloat32("x.scale", []int{3}, []float32{1, 1, 1}))
	if _, err := bad.Float32("x", 2, 2); err == nil || !strings.HasPrefix(err.Error(), "tensor x.scale: want shape [2], got [3]") {
		t.Errorf("scale shape: %v", err)
	}
	if err := bad.AddQuantized("y", []float32{1}, 2, 2); !errors.Is(err, ErrInvalid) {
		t.Errorf("AddQuantized size mismatch: %v", err)
	}
	if err := bad.AddQuantized("x", []float32{1}, 1, 1); err == nil || !strings.Contains(err.Error(), "tensor x.q: duplicate name") {
		t.Errorf("AddQuantized duplicate: %v", err)
	}
}
