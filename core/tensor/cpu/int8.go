package cpu

import (
	"fmt"

	"github.com/bingli/bingli/core/tensor"
)

// int8Storage is the CPU's storage of an Int8Matrix.
type int8Storage struct {
	q     []int8
	scale []float32
}

func (s *int8Storage) Len() int { return len(s.q) }

// UploadInt8 implements tensor.Quantized.
func (c *Backend) UploadInt8(q []int8, scale []float32, rows, cols int) (*tensor.Int8Matrix, error) {
	if rows < 0 || cols < 0 || len(q) != rows*cols || len(scale) != rows {
		return nil, fmt.Errorf("UploadInt8: %d values and %d scales for [%d %d]: %w", len(q), len(scale), rows, cols, tensor.ErrShape)
	}
	return tensor.WrapInt8(&int8Storage{q: append([]int8(nil), q...), scale: append([]float32(nil), scale...)}, rows, cols)
}

// int8Block bounds the number of weight rows dequantised at a time: large
// enough that repacking x once per block is cheap, small enough that the
// float panel stays in cache.
const int8Block = 256

// MatMulInt8T implements tensor.Quantized. Blocks of int8Block weight rows
// are dequantised (scale folded in) into a float32 panel and multiplied
// with the GEMM, so the int8 path runs at the float kernel's speed while
// the full float32 matrix never exists; blocks are split across goroutines.
func (c *Backend) MatMulInt8T(y, x *tensor.Tensor, w *tensor.Int8Matrix) error {
	const op = "MatMulInt8T"
	n, in, out, err := tensor.CheckMatMulInt8T(y, x, w)
	if err != nil {
		return err
	}
	if err := own(op, y, x); err != nil {
		return err
	}
	ws, ok := w.Storage().(*int8Storage)
	if !ok {
		return fmt.Errorf("%s: weight matrix: %w", op, tensor.ErrBackend)
	}
	if out == 0 {
		return nil
	}
	xd, yd := f32(x), f32(y)
	// A multiple of c.threads blocks of at most int8Block rows (rounded up
	// to the GEMM's panel width) keeps the goroutines evenly loaded.
	blocks := c.threads * ((out + c.threads*int8Block - 1) / (c.threads * int8Block))
	rows := ((out+blocks-1)/blocks + nr - 1) / nr * nr
	blocks = (out + rows - 1) / max(rows, 1)
	c.parallel(blocks, 1, func(lo, hi int) {
		panel := make([]float32, rows*in)
		for blk := lo; blk < hi; blk++ {
			r0, r1 := blk*rows, min((blk+1)*rows, out)
			for r := r0; r < r1; r++ {
				dequantize(panel[(r-r0)*in:(r-r0+1)*in], ws.q[r*in:(r+1)*in], ws.scale[r])
			}
			sgemm(defaultKernel, 1, false, true, n, r1-r0, in, 1, xd, in, panel, in, 0, yd[r0:], out)
		}
	})
	return nil
}

// dequantizeGo sets dst[i] = scale·q[i]; it is the portable version and
// handles the tail the assembly leaves.
func dequantizeGo(dst []float32, q []int8, scale float32) {
	q = q[:len(dst)]
	for i, v := range q {
		dst[i] = scale * float32(v)
	}
}
