package nn

import (
	"fmt"

	"github.com/bingli/bingli/core/tensor"
)

// SwapLeading returns a new tensor holding x [A, B, D] with its first two
// dimensions swapped, [B, A, D]: time-major [T, B, D] to batch-major
// [B, T, D] and back. The backend has no transpose op, so this is a row
// gather (Backend.Embedding with x as the table), which every backend has
// and which costs one copy.
func SwapLeading(be tensor.Backend, x *tensor.Tensor) (*tensor.Tensor, error) {
	if x == nil || x.Rank() != 3 {
		return nil, fmt.Errorf("nn: swap leading dimensions of %v: want rank 3: %w", x, tensor.ErrShape)
	}
	a, b, d := x.Dim(0), x.Dim(1), x.Dim(2)
	y, err := be.New(b, a, d)
	if err != nil {
		return nil, fmt.Errorf("nn: swap leading dimensions: %w", err)
	}
	if err := gatherRows(be, y, x, swapIDs(a, b)); err != nil {
		be.Free(y)
		return nil, fmt.Errorf("nn: swap leading dimensions: %w", err)
	}
	return y, nil
}

// SwapLeadingBackward accumulates the gradient of SwapLeading: dx [A, B, D]
// += dy [B, A, D] with the first two dimensions swapped back.
func SwapLeadingBackward(be tensor.Backend, dx, dy *tensor.Tensor) error {
	if dx == nil || dy == nil || dx.Rank() != 3 || !dy.HasShape(dx.Dim(1), dx.Dim(0), dx.Dim(2)) {
		return fmt.Errorf("nn: swap leading dimensions backward: dx %v, dy %v: %w", dx, dy, tensor.ErrShape)
	}
	if err := scatterRows(be, dx, dy, swapIDs(dx.Dim(0), dx.Dim(1))); err != nil {
		return fmt.Errorf("nn: swap leading dimensions backward: %w", err)
	}
	return nil
}

// swapIDs returns, for each row (j, i) of the swapped [B, A] layout, its
// row i·B + j in the original [A, B] layout.
func swapIDs(a, b int) []int32 {
	ids := make([]int32, a*b)
	for j := range b {
		for i := range a {
			ids[j*a+i] = int32(i*b + j)
		}
	}
	return ids
}

// gatherRows sets dst row r = src row ids[r], both viewed as matrices with
// src's last dimension as columns.
func gatherRows(be tensor.Backend, dst, src *tensor.Tensor, ids []int32) error {
	rows, cols := src.Matrix()
	table, err := src.Reshape(rows, cols)
	if err != nil {
		return err
	}
	return be.Embedding(dst, table, ids)
}

// scatterRows is gatherRows' adjoint: dst row ids[r] += src row r.
func scatterRows(be tensor.Backend, dst, src *tensor.Tensor, ids []int32) error {
	rows, cols := dst.Matrix()
	table, err := dst.Reshape(rows, cols)
	if err != nil {
		return err
	}
	return be.EmbeddingBackward(table, src, ids)
}
