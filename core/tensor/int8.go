package tensor

import "fmt"

// Int8Matrix is a row-quantised weight matrix owned by a Backend, as
// shipped in the browser's quantised model bundles: W ≈ diag(scale)·Q with
// Q an int8 [rows, cols] matrix and one float32 scale per row. Its Storage
// holds rows·cols elements (the int8 values; the backend keeps the scales
// beside them).
type Int8Matrix struct {
	rows, cols int
	storage    Storage
}

// WrapInt8 makes an Int8Matrix over backend storage holding rows·cols
// values. It is meant for Backend implementations.
func WrapInt8(storage Storage, rows, cols int) (*Int8Matrix, error) {
	if storage == nil {
		return nil, fmt.Errorf("tensor.WrapInt8: nil storage: %w", ErrArgument)
	}
	if rows < 0 || cols < 0 || storage.Len() != rows*cols {
		return nil, fmt.Errorf("tensor.WrapInt8: [%d %d] over storage of %d: %w", rows, cols, storage.Len(), ErrShape)
	}
	return &Int8Matrix{rows: rows, cols: cols, storage: storage}, nil
}

// Rows is the number of rows (output features).
func (m *Int8Matrix) Rows() int { return m.rows }

// Cols is the number of columns (input features).
func (m *Int8Matrix) Cols() int { return m.cols }

// Storage returns the backend storage behind m.
func (m *Int8Matrix) Storage() Storage { return m.storage }

// Quantized holds the int8 weight ops.
type Quantized interface {
	// UploadInt8 returns a backend copy of a row-quantised matrix: q holds
	// rows·cols int8 values row-major and scale one value per row.
	UploadInt8(q []int8, scale []float32, rows, cols int) (*Int8Matrix, error)
	// MatMulInt8T sets y = x·Wᵀ for W = diag(scale)·Q: x is [..., In] with
	// N rows in matrix view, W is [Out, In], y is [..., Out] with N rows.
	MatMulInt8T(y, x *Tensor, w *Int8Matrix) error
}

// CheckMatMulInt8T checks a MatMulInt8T call and returns N, In, Out.
func CheckMatMulInt8T(y, x *Tensor, w *Int8Matrix) (n, in, out int, err error) {
	const op = "MatMulInt8T"
	if y == nil || x == nil || w == nil {
		return 0, 0, 0, nilErr(op, "operand")
	}
	n, in = x.Matrix()
	yn, out := y.Matrix()
	if in != w.cols || out != w.rows || yn != n {
		return 0, 0, 0, fmt.Errorf("%s: x %v, W [%d %d], y %v: %w", op, x.shape, w.rows, w.cols, y.shape, ErrShape)
	}
	return n, in, out, nil
}
