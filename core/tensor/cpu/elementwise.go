package cpu

import (
	"fmt"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

// binary checks and unwraps dst, a, b of one shape.
func binary(op string, dst, a, b *tensor.Tensor) (d, x, y []float32, err error) {
	if err := tensor.CheckSameShape(op, dst, a, b); err != nil {
		return nil, nil, nil, err
	}
	if err := own(op, dst, a, b); err != nil {
		return nil, nil, nil, err
	}
	return f32(dst), f32(a), f32(b), nil
}

// unary checks and unwraps dst, x of one shape.
func unary(op string, dst, x *tensor.Tensor) (d, s []float32, err error) {
	if err := tensor.CheckSameShape(op, dst, x); err != nil {
		return nil, nil, err
	}
	if err := own(op, dst, x); err != nil {
		return nil, nil, err
	}
	return f32(dst), f32(x), nil
}

// Add implements tensor.Elementwise.
func (c *Backend) Add(dst, a, b *tensor.Tensor) error {
	d, x, y, err := binary("Add", dst, a, b)
	if err != nil {
		return err
	}
	x, y = x[:len(d)], y[:len(d)] // lets the compiler drop the loop's bounds checks
	for i := range d {
		d[i] = x[i] + y[i]
	}
	return nil
}

// Sub implements tensor.Elementwise.
func (c *Backend) Sub(dst, a, b *tensor.Tensor) error {
	d, x, y, err := binary("Sub", dst, a, b)
	if err != nil {
		return err
	}
	x, y = x[:len(d)], y[:len(d)] // lets the compiler drop the loop's bounds checks
	for i := range d {
		d[i] = x[i] - y[i]
	}
	return nil
}

// Mul implements tensor.Elementwise.
func (c *Backend) Mul(dst, a, b *tensor.Tensor) error {
	d, x, y, err := binary("Mul", dst, a, b)
	if err != nil {
		return err
	}
	x, y = x[:len(d)], y[:len(d)] // lets the compiler drop the loop's bounds checks
	for i := range d {
		d[i] = x[i] * y[i]
	}
	return nil
}

// MulAdd implements tensor.Elementwise.
func (c *Backend) MulAdd(dst, a, b *tensor.Tensor) error {
	d, x, y, err := binary("MulAdd", dst, a, b)
	if err != nil {
		return err
	}
	for i := range d {
		d[i] += x[i] * y[i]
	}
	return nil
}

// Scale implements tensor.Elementwise.
func (c *Backend) Scale(dst, x *tensor.Tensor, alpha float32) error {
	d, s, err := unary("Scale", dst, x)
	if err != nil {
		return err
	}
	for i := range d {
		d[i] = alpha * s[i]
	}
	return nil
}

// AddScaled implements tensor.Elementwise.
func (c *Backend) AddScaled(dst, x *tensor.Tensor, alpha float32) error {
	d, s, err := unary("AddScaled", dst, x)
	if err != nil {
		return err
	}
	axpy(d, s, alpha)
	return nil
}

// axpy sets d += alpha·s.
func axpy(d, s []float32, alpha float32) {
	s = s[:len(d)]
	for i := range d {
		d[i] += alpha * s[i]
	}
}

// AddBias implements tensor.Elementwise.
func (c *Backend) AddBias(dst, x, bias *tensor.Tensor) error {
	const op = "AddBias"
	if err := tensor.CheckSameShape(op, dst, x); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckBias(op, x, bias)
	if err != nil {
		return err
	}
	if err := own(op, dst, x, bias); err != nil {
		return err
	}
	d, s, bv := f32(dst), f32(x), f32(bias)
	for r := range rows {
		dr, sr := d[r*cols:(r+1)*cols], s[r*cols:(r+1)*cols]
		for j, v := range bv {
			dr[j] = sr[j] + v
		}
	}
	return nil
}

// AddBiasBackward implements tensor.Elementwise.
func (c *Backend) AddBiasBackward(dbias, dy *tensor.Tensor) error {
	const op = "AddBiasBackward"
	rows, cols, err := tensor.CheckBias(op, dy, dbias)
	if err != nil {
		return err
	}
	if err := own(op, dbias, dy); err != nil {
		return err
	}
	sumRows(f32(dbias), f32(dy), rows, cols)
	return nil
}

// sumRows adds the rows of the rows×cols matrix x into d.
func sumRows(d, x []float32, rows, cols int) {
	for r := range rows {
		axpy(d, x[r*cols:(r+1)*cols], 1)
	}
}

// CopyCols implements tensor.Elementwise.
func (c *Backend) CopyCols(dst *tensor.Tensor, dstCol int, src *tensor.Tensor, srcCol, width int, accumulate bool) error {
	const op = "CopyCols"
	rows, err := tensor.CheckCopyCols(dst, dstCol, src, srcCol, width)
	if err != nil {
		return err
	}
	if err := own(op, dst, src); err != nil {
		return err
	}
	_, dc := dst.Matrix()
	_, sc := src.Matrix()
	d, s := f32(dst), f32(src)
	for r := range rows {
		dr := d[r*dc+dstCol : r*dc+dstCol+width]
		sr := s[r*sc+srcCol : r*sc+srcCol+width]
		if accumulate {
			axpy(dr, sr, 1)
		} else {
			copy(dr, sr)
		}
	}
	return nil
}

const (
	geluC = 0.044715
	geluS = 0.7978845608028654 // √(2/π)
)

// Activate implements tensor.Activations.
func (c *Backend) Activate(f tensor.Activation, dst, x *tensor.Tensor) error {
	const op = "Activate"
	if err := tensor.CheckActivation(op, f); err != nil {
		return err
	}
	d, s, err := unary(op, dst, x)
	if err != nil {
		return err
	}
	activate(f, d, s)
	return nil
}

func activate(f tensor.Activation, d, s []float32) {
	s = s[:len(d)]
	switch f {
	case tensor.ReLU:
		for i, v := range s {
			d[i] = max(v, 0)
		}
	case tensor.GELU:
		for i, x := range s {
			d[i] = 0.5 * x * (1 + tanhf(geluS*(x+geluC*x*x*x)))
		}
	case tensor.Tanh:
		for i, v := range s {
			d[i] = tanhf(v)
		}
	case tensor.Sigmoid:
		for i, v := range s {
			d[i] = sigmoid(v)
		}
	}
}

// ActivateBackward implements tensor.Activations.
func (c *Backend) ActivateBackward(f tensor.Activation, dx, x, y, dy *tensor.Tensor) error {
	const op = "ActivateBackward"
	if err := tensor.CheckActivateBackward(f, dx, x, y, dy); err != nil {
		return err
	}
	if err := own(op, dx, x, y, dy); err != nil {
		return err
	}
	d, xs, ys, g := f32(dx), f32(x), f32(y), f32(dy)
	switch f {
	case tensor.ReLU:
		for i, v := range xs {
			if v > 0 {
				d[i] += g[i]
			}
		}
	case tensor.GELU:
		for i, x := range xs {
			t := tanhf(geluS * (x + geluC*x*x*x))
			dt := (1 - t*t) * geluS * (1 + 3*geluC*x*x)
			d[i] += g[i] * (0.5*(1+t) + 0.5*x*dt)
		}
	case tensor.Tanh:
		for i, v := range ys {
			d[i] += g[i] * (1 - v*v)
		}
	case tensor.Sigmoid:
		for i, v := range ys {
			d[i] += g[i] * v * (1 - v)
		}
	}
	return nil
}

// Softmax implements tensor.Activations.
func (c *Backend) Softmax(dst, x *tensor.Tensor) error {
	d, s, err := unary("Softmax", dst, x)
	if err != nil {
		return err
	}
	rows, cols := x.Matrix()
	for r := range rows {
		softmaxRow(d[r*cols:(r+1)*cols], s[r*cols:(r+1)*cols])
	}
	return nil
}

// softmaxRow writes the softmax of s into d (which may be s) and returns
// log Σ exp(s).
func softmaxRow(d, s []float32) float64 {
	if len(s) == 0 {
		return math.Inf(-1)
	}
	m := s[0]
	for _, v := range s {
		m = max(m, v)
	}
	for i, v := range s {
		d[i] = v - m
	}
	expSlice(d, d)
	var sum float64
	for _, e := range d {
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range d {
		d[i] *= inv
	}
	return float64(m) + math.Log(sum)
}

// SoftmaxBackward implements tensor.Activations.
func (c *Backend) SoftmaxBackward(dx, y, dy *tensor.Tensor) error {
	d, ys, g, err := binary("SoftmaxBackward", dx, y, dy)
	if err != nil {
		return err
	}
	rows, cols := y.Matrix()
	for r := range rows {
		softmaxBackwardRow(d[r*cols:(r+1)*cols], ys[r*cols:(r+1)*cols], g[r*cols:(r+1)*cols], 1)
	}
	return nil
}

// softmaxBackwardRow sets d += scale·y ⊙ (g − ⟨g, y⟩).
func softmaxBackwardRow(d, y, g []float32, scale float32) {
	var dot float32
	for i, v := range y {
		dot += v * g[i]
	}
	for i, v := range y {
		d[i] += scale * v * (g[i] - dot)
	}
}

// Dropout implements tensor.Regularization.
func (c *Backend) Dropout(dst, x *tensor.Tensor, p float32, seed, offset uint64) error {
	const op = "Dropout"
	if err := tensor.CheckDropout(op, dst, x, p); err != nil {
		return err
	}
	d, s, err := unary(op, dst, x)
	if err != nil {
		return err
	}
	scale := 1 / (1 - p)
	for i, v := range s {
		if tensor.DropoutUniform(seed, offset+uint64(i)) >= p {
			d[i] = v * scale
		} else {
			d[i] = 0
		}
	}
	return nil
}

// DropoutBackward implements tensor.Regularization.
func (c *Backend) DropoutBackward(dx, dy *tensor.Tensor, p float32, seed, offset uint64) error {
	const op = "DropoutBackward"
	if err := tensor.CheckDropout(op, dx, dy, p); err != nil {
		return err
	}
	d, g, err := unary(op, dx, dy)
	if err != nil {
		return err
	}
	scale := 1 / (1 - p)
	for i, v := range g {
		if tensor.DropoutUniform(seed, offset+uint64(i)) >= p {
			d[i] += v * scale
		}
	}
	return nil
}

// Embedding implements tensor.Indexing.
func (c *Backend) Embedding(dst, table *tensor.Tensor, ids []int32) error {
	const op = "Embedding"
	dim, err := tensor.CheckEmbedding(op, table, dst, ids)
	if err != nil {
		return err
	}
	if err := own(op, dst, table); err != nil {
		return err
	}
	d, t := f32(dst), f32(table)
	for i, id := range ids {
		copy(d[i*dim:(i+1)*dim], t[int(id)*dim:(int(id)+1)*dim])
	}
	return nil
}

// EmbeddingBackward implements tensor.Indexing.
func (c *Backend) EmbeddingBackward(dtable, dy *tensor.Tensor, ids []int32) error {
	const op = "EmbeddingBackward"
	dim, err := tensor.CheckEmbedding(op, dtable, dy, ids)
	if err != nil {
		return err
	}
	if err := own(op, dtable, dy); err != nil {
		return err
	}
	d, g := f32(dtable), f32(dy)
	for i, id := range ids {
		axpy(d[int(id)*dim:(int(id)+1)*dim], g[i*dim:(i+1)*dim], 1)
	}
	return nil
}

// SumRows implements tensor.Reductions.
func (c *Backend) SumRows(dst, x *tensor.Tensor) error {
	const op = "SumRows"
	rows, cols, err := tensor.CheckBias(op, x, dst)
	if err != nil {
		return err
	}
	if err := own(op, dst, x); err != nil {
		return err
	}
	clear(f32(dst))
	sumRows(f32(dst), f32(x), rows, cols)
	return nil
}

// SumCols implements tensor.Reductions.
func (c *Backend) SumCols(dst, x *tensor.Tensor) error {
	const op = "SumCols"
	if x == nil {
		return fmt.Errorf("%s: x is nil: %w", op, tensor.ErrArgument)
	}
	rows, cols := x.Matrix()
	if err := tensor.CheckVector(op, "dst", dst, rows); err != nil {
		return err
	}
	if err := own(op, dst, x); err != nil {
		return err
	}
	d, s := f32(dst), f32(x)
	for r := range rows {
		var sum float32
		for _, v := range s[r*cols : (r+1)*cols] {
			sum += v
		}
		d[r] = sum
	}
	return nil
}

// Sum implements tensor.Reductions.
func (c *Backend) Sum(x *tensor.Tensor) (float32, error) {
	const op = "Sum"
	if x == nil {
		return 0, fmt.Errorf("%s: x is nil: %w", op, tensor.ErrArgument)
	}
	if err := own(op, x); err != nil {
		return 0, err
	}
	var s float64
	for _, v := range f32(x) {
		s += float64(v)
	}
	return float32(s), nil
}

// Mean implements tensor.Reductions.
func (c *Backend) Mean(x *tensor.Tensor) (float32, error) {
	s, err := c.Sum(x)
	if err != nil {
		return 0, fmt.Errorf("Mean: %w", err)
	}
	if x.Size() == 0 {
		return 0, fmt.Errorf("Mean: empty tensor %v: %w", x, tensor.ErrShape)
	}
	return s / float32(x.Size()), nil
}
