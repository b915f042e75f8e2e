package tensor

import (
	"errors"
	"fmt"
)

// Errors every Backend wraps (with %w) so that callers can classify failures
// with errors.Is whichever backend produced them.
var (
	// ErrShape reports tensors whose shapes do not fit the op's contract.
	ErrShape = errors.New("tensor: shape mismatch")
	// ErrArgument reports a nil tensor or an invalid scalar argument
	// (negative thread count, dropout probability outside [0, 1), ...).
	ErrArgument = errors.New("tensor: invalid argument")
	// ErrIndex reports an index (token id, class target, sequence length)
	// outside its valid range.
	ErrIndex = errors.New("tensor: index out of range")
	// ErrBackend reports a tensor owned by a different backend.
	ErrBackend = errors.New("tensor: tensor belongs to another backend")
)

// Storage is the memory behind a Tensor. Each backend defines its own
// implementation (the CPU backend a []float32, a CUDA backend a device
// pointer) and recognises its own storage with a type assertion.
type Storage interface {
	// Len is the number of float32 elements the storage holds.
	Len() int
}

// Tensor is a dense row-major float32 array owned by a Backend. The
// Tensor value itself is only a shape plus a handle to backend storage:
// it is cheap to copy, and Reshape makes views that share storage.
//
// Where an op treats a tensor as a matrix, its last dimension is the
// column count and the product of the others the row count (see Matrix):
// a [T, B, H] tensor is a [T·B, H] matrix.
type Tensor struct {
	shape   []int
	size    int
	storage Storage
}

// Wrap makes a Tensor of the given shape over storage. It is meant for
// Backend implementations; model code obtains tensors from a Backend.
// The storage must hold exactly the number of elements the shape implies.
func Wrap(storage Storage, shape ...int) (*Tensor, error) {
	if storage == nil {
		return nil, fmt.Errorf("tensor.Wrap: nil storage: %w", ErrArgument)
	}
	n, err := SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("tensor.Wrap: %w", err)
	}
	if n != storage.Len() {
		return nil, fmt.Errorf("tensor.Wrap: shape %v needs %d elements, storage holds %d: %w",
			shape, n, storage.Len(), ErrShape)
	}
	return &Tensor{shape: append([]int(nil), shape...), size: n, storage: storage}, nil
}

// SizeOf returns the number of elements of shape, or an error wrapping
// ErrShape if a dimension is negative. A rank-0 shape has one element.
func SizeOf(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in %v: %w", shape, ErrShape)
		}
		n *= d
	}
	return n, nil
}

// Storage returns the backend storage behind t.
func (t *Tensor) Storage() Storage { return t.storage }

// Shape returns a copy of t's dimensions.
func (t *Tensor) Shape() []int { return append([]int(nil), t.shape...) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns dimension i; negative i counts from the end (-1 is the last).
// It panics if i is out of range, like a slice index.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Size is the number of elements.
func (t *Tensor) Size() int { return t.size }

// Matrix returns t viewed as a matrix: cols is the last dimension and rows
// the product of the others. A rank-0 tensor is a 1×1 matrix.
func (t *Tensor) Matrix() (rows, cols int) {
	if len(t.shape) == 0 {
		return 1, 1
	}
	cols = t.shape[len(t.shape)-1]
	if cols == 0 {
		rows = 1
		for _, d := range t.shape[:len(t.shape)-1] {
			rows *= d
		}
		return rows, 0
	}
	return t.size / cols, cols
}

// Reshape returns a view of t with a new shape of the same size; the view
// shares t's storage.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	n, err := SizeOf(shape)
	if err != nil {
		return nil, fmt.Errorf("Reshape: %w", err)
	}
	if n != t.size {
		return nil, fmt.Errorf("Reshape %v to %v: sizes %d and %d differ: %w", t.shape, shape, t.size, n, ErrShape)
	}
	return &Tensor{shape: append([]int(nil), shape...), size: n, storage: t.storage}, nil
}

// HasShape reports whether t's shape equals shape.
func (t *Tensor) HasShape(shape ...int) bool {
	if len(shape) != len(t.shape) {
		return false
	}
	for i, d := range shape {
		if t.shape[i] != d {
			return false
		}
	}
	return true
}

// String describes the tensor's shape (not its contents, which may live on
// a device).
func (t *Tensor) String() string {
	if t == nil {
		return "Tensor(nil)"
	}
	return fmt.Sprintf("Tensor%v", t.shape)
}
