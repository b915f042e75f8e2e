package tensor

import "fmt"

// The Check functions below are the shape contracts of the Backend ops,
// shared so that every backend accepts and rejects exactly the same calls.
// Each returns an error wrapping ErrArgument, ErrShape or ErrIndex, with the
// op name as prefix. They do not check which backend owns a tensor; the
// backend does that when it unwraps storage.

func nilErr(op, name string) error {
	return fmt.Errorf("%s: %s is nil: %w", op, name, ErrArgument)
}

// CheckSameShape checks that every tensor is non-nil and that all have the
// shape of the first.
func CheckSameShape(op string, ts ...*Tensor) error {
	for i, t := range ts {
		if t == nil {
			return nilErr(op, fmt.Sprintf("tensor %d", i))
		}
		if !t.HasShape(ts[0].shape...) {
			return fmt.Errorf("%s: shapes %v and %v differ: %w", op, ts[0].shape, t.shape, ErrShape)
		}
	}
	return nil
}

// CheckOptionalSameShape is CheckSameShape where the tensors after ref may be
// nil (absent optional outputs or inputs).
func CheckOptionalSameShape(op string, ref *Tensor, ts ...*Tensor) error {
	if ref == nil {
		return nilErr(op, "reference tensor")
	}
	for _, t := range ts {
		if t != nil && !t.HasShape(ref.shape...) {
			return fmt.Errorf("%s: shapes %v and %v differ: %w", op, ref.shape, t.shape, ErrShape)
		}
	}
	return nil
}

// CheckVector checks that v is non-nil with exactly n elements.
func CheckVector(op, name string, v *Tensor, n int) error {
	if v == nil {
		return nilErr(op, name)
	}
	if v.size != n {
		return fmt.Errorf("%s: %s %v must have %d elements: %w", op, name, v.shape, n, ErrShape)
	}
	return nil
}

// CheckBias checks x [..., D] against a [D] vector bias (AddBias,
// AddBiasBackward, SumRows) and returns x's matrix view.
func CheckBias(op string, x, bias *Tensor) (rows, cols int, err error) {
	if x == nil {
		return 0, 0, nilErr(op, "x")
	}
	if bias == nil {
		return 0, 0, nilErr(op, "bias")
	}
	rows, cols = x.Matrix()
	if bias.Rank() != 1 || bias.shape[0] != cols {
		return 0, 0, fmt.Errorf("%s: vector %v does not match last dimension of %v: %w", op, bias.shape, x.shape, ErrShape)
	}
	return rows, cols, nil
}

// CheckMatMul checks C = op(A)·op(B) and returns M, N, K.
func CheckMatMul(transA, transB bool, a, b, c *Tensor) (m, n, k int, err error) {
	const op = "MatMul"
	if a == nil || b == nil || c == nil {
		return 0, 0, 0, nilErr(op, "operand")
	}
	m, k = a.Matrix()
	if transA {
		m, k = k, m
	}
	kb, n := b.Matrix()
	if transB {
		kb, n = n, kb
	}
	cm, cn := c.Matrix()
	if k != kb || cm != m || cn != n {
		return 0, 0, 0, fmt.Errorf("%s(transA=%v, transB=%v): A %v, B %v, C %v: %w",
			op, transA, transB, a.shape, b.shape, c.shape, ErrShape)
	}
	if a.storage == c.storage || b.storage == c.storage {
		return 0, 0, 0, fmt.Errorf("%s: C aliases an input: %w", op, ErrArgument)
	}
	return m, n, k, nil
}

// CheckBatchedMatMul checks the batched product and returns the batch size,
// M, N, K and whether B is shared by the batch.
func CheckBatchedMatMul(transA, transB bool, a, b, c *Tensor) (batch, m, n, k int, shared bool, err error) {
	const op = "BatchedMatMul"
	if a == nil || b == nil || c == nil {
		return 0, 0, 0, 0, false, nilErr(op, "operand")
	}
	if a.Rank() != 3 || b.Rank() != 3 || c.Rank() != 3 {
		return 0, 0, 0, 0, false, fmt.Errorf("%s: A %v, B %v, C %v must be rank 3: %w", op, a.shape, b.shape, c.shape, ErrShape)
	}
	batch = a.shape[0]
	m, k = a.shape[1], a.shape[2]
	if transA {
		m, k = k, m
	}
	kb, n := b.shape[1], b.shape[2]
	if transB {
		kb, n = n, kb
	}
	shared = b.shape[0] == 1 && batch != 1
	if (b.shape[0] != batch && !shared) || c.shape[0] != batch || k != kb || c.shape[1] != m || c.shape[2] != n {
		return 0, 0, 0, 0, false, fmt.Errorf("%s(transA=%v, transB=%v): A %v, B %v, C %v: %w",
			op, transA, transB, a.shape, b.shape, c.shape, ErrShape)
	}
	if a.storage == c.storage || b.storage == c.storage {
		return 0, 0, 0, 0, false, fmt.Errorf("%s: C aliases an input: %w", op, ErrArgument)
	}
	return batch, m, n, k, shared, nil
}

// CheckCopyCols checks a CopyCols call and returns the shared row count.
func CheckCopyCols(dst *Tensor, dstCol int, src *Tensor, srcCol, width int) (rows int, err error) {
	const op = "CopyCols"
	if dst == nil || src == nil {
		return 0, nilErr(op, "operand")
	}
	dr, dc := dst.Matrix()
	sr, sc := src.Matrix()
	if dr != sr || dstCol < 0 || srcCol < 0 || width < 0 || dstCol+width > dc || srcCol+width > sc {
		return 0, fmt.Errorf("%s: dst %v cols [%d,%d), src %v cols [%d,%d): %w",
			op, dst.shape, dstCol, dstCol+width, src.shape, srcCol, srcCol+width, ErrShape)
	}
	if dst.storage == src.storage && dstCol != srcCol && dstCol < srcCol+width && srcCol < dstCol+width {
		return 0, fmt.Errorf("%s: overlapping column ranges of one tensor: %w", op, ErrArgument)
	}
	return dr, nil
}

// CheckActivation checks an activation id.
func CheckActivation(op string, f Activation) error {
	if f < ReLU || f > Sigmoid {
		return fmt.Errorf("%s: unknown activation %d: %w", op, int(f), ErrArgument)
	}
	return nil
}

// CheckActivateBackward checks ActivateBackward's operands: the one of x
// or y that f reads must be present.
func CheckActivateBackward(f Activation, dx, x, y, dy *Tensor) error {
	const op = "ActivateBackward"
	if err := CheckActivation(op, f); err != nil {
		return err
	}
	if f == ReLU || f == GELU {
		if x == nil {
			return nilErr(op, "x (needed by "+f.String()+")")
		}
	} else if y == nil {
		return nilErr(op, "y (needed by "+f.String()+")")
	}
	if err := CheckSameShape(op, dx, dy); err != nil {
		return err
	}
	return CheckOptionalSameShape(op, dx, x, y)
}

// CheckLayerNorm checks LayerNorm (and AddLayerNorm's y against x) and
// returns the matrix view of x. mean and rstd may both be nil.
func CheckLayerNorm(op string, y, mean, rstd, x, gamma, beta *Tensor) (rows, cols int, err error) {
	if err := CheckSameShape(op, x, y); err != nil {
		return 0, 0, err
	}
	rows, cols = x.Matrix()
	if err := CheckVector(op, "gamma", gamma, cols); err != nil {
		return 0, 0, err
	}
	if err := CheckVector(op, "beta", beta, cols); err != nil {
		return 0, 0, err
	}
	if (mean == nil) != (rstd == nil) {
		return 0, 0, fmt.Errorf("%s: mean and rstd must be both nil or both set: %w", op, ErrArgument)
	}
	if mean != nil {
		if err := CheckVector(op, "mean", mean, rows); err != nil {
			return 0, 0, err
		}
		if err := CheckVector(op, "rstd", rstd, rows); err != nil {
			return 0, 0, err
		}
	}
	return rows, cols, nil
}

// CheckLayerNormBackward checks LayerNormBackward (x is AddLayerNorm's
// sum for AddLayerNormBackward) and returns the matrix view of x.
func CheckLayerNormBackward(op string, dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) (rows, cols int, err error) {
	if err := CheckSameShape(op, x, dx, dy); err != nil {
		return 0, 0, err
	}
	rows, cols = x.Matrix()
	for _, v := range []struct {
		name string
		t    *Tensor
		n    int
	}{{"dgamma", dgamma, cols}, {"dbeta", dbeta, cols}, {"gamma", gamma, cols}, {"mean", mean, rows}, {"rstd", rstd, rows}} {
		if err := CheckVector(op, v.name, v.t, v.n); err != nil {
			return 0, 0, err
		}
	}
	return rows, cols, nil
}

// CheckBatchNorm checks BatchNorm and returns the matrix view of x.
func CheckBatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta *Tensor, training bool, momentum, eps float32) (rows, cols int, err error) {
	const op = "BatchNorm"
	if err := CheckSameShape(op, x, y); err != nil {
		return 0, 0, err
	}
	rows, cols = x.Matrix()
	vecs := []struct {
		name string
		t    *Tensor
	}{{"gamma", gamma}, {"beta", beta}, {"runMean", runMean}, {"runVar", runVar}}
	if training {
		vecs = append(vecs, struct {
			name string
			t    *Tensor
		}{"mean", mean}, struct {
			name string
			t    *Tensor
		}{"invStd", invStd})
		if rows < 2 {
			return 0, 0, fmt.Errorf("%s: training needs at least 2 rows, x is %v: %w", op, x.shape, ErrShape)
		}
	}
	for _, v := range vecs {
		if err := CheckVector(op, v.name, v.t, cols); err != nil {
			return 0, 0, err
		}
	}
	if !(momentum >= 0 && momentum <= 1) || !(eps > 0) {
		return 0, 0, fmt.Errorf("%s: momentum %v must be in [0,1] and eps %v > 0: %w", op, momentum, eps, ErrArgument)
	}
	return rows, cols, nil
}

// CheckBatchNormBackward checks BatchNormBackward and returns the matrix
// view of x.
func CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma *Tensor) (rows, cols int, err error) {
	const op = "BatchNormBackward"
	if err := CheckSameShape(op, x, dx, dy); err != nil {
		return 0, 0, err
	}
	rows, cols = x.Matrix()
	for _, v := range []struct {
		name string
		t    *Tensor
	}{{"dgamma", dgamma}, {"dbeta", dbeta}, {"gamma", gamma}, {"mean", mean}, {"invStd", invStd}} {
		if err := CheckVector(op, v.name, v.t, cols); err != nil {
			return 0, 0, err
		}
	}
	return rows, cols, nil
}

// CheckDropout checks Dropout and DropoutBackward.
func CheckDropout(op string, dst, x *Tensor, p float32) error {
	if !(p >= 0 && p < 1) {
		return fmt.Errorf("%s: probability %v outside [0, 1): %w", op, p, ErrArgument)
	}
	return CheckSameShape(op, dst, x)
}

// CheckCrossEntropy checks SoftmaxCrossEntropy and returns the matrix view
// of logits.
func CheckCrossEntropy(dlogits, logits *Tensor, targets []int32, ignoreIndex int32) (rows, cols int, err error) {
	const op = "SoftmaxCrossEntropy"
	if err := CheckOptionalSameShape(op, logits, dlogits); err != nil {
		return 0, 0, err
	}
	rows, cols = logits.Matrix()
	if len(targets) != rows {
		return 0, 0, fmt.Errorf("%s: %d targets for %d rows of %v: %w", op, len(targets), rows, logits.shape, ErrShape)
	}
	for i, t := range targets {
		if t != ignoreIndex && (t < 0 || int(t) >= cols) {
			return 0, 0, fmt.Errorf("%s: target %d at row %d outside [0, %d): %w", op, t, i, cols, ErrIndex)
		}
	}
	return rows, cols, nil
}

// CheckLoss checks BCEWithLogits and MSE: pred and target share a shape,
// grad is nil or of that shape too.
func CheckLoss(op string, grad, pred, target *Tensor) error {
	if err := CheckSameShape(op, pred, target); err != nil {
		return err
	}
	return CheckOptionalSameShape(op, pred, grad)
}

// CheckEmbedding checks Embedding (rows = dst) and EmbeddingBackward
// (rows = dy) and returns the embedding width.
func CheckEmbedding(op string, table, rows *Tensor, ids []int32) (dim int, err error) {
	if table == nil || rows == nil {
		return 0, nilErr(op, "operand")
	}
	if table.Rank() != 2 {
		return 0, fmt.Errorf("%s: table %v must be rank 2: %w", op, table.shape, ErrShape)
	}
	r, c := rows.Matrix()
	if c != table.shape[1] || r != len(ids) {
		return 0, fmt.Errorf("%s: table %v, %d ids, rows %v: %w", op, table.shape, len(ids), rows.shape, ErrShape)
	}
	for i, id := range ids {
		if id < 0 || int(id) >= table.shape[0] {
			return 0, fmt.Errorf("%s: id %d at %d outside vocabulary [0, %d): %w", op, id, i, table.shape[0], ErrIndex)
		}
	}
	return c, nil
}

// CheckAdamW checks an AdamW step.
func CheckAdamW(param, grad, m, v *Tensor, cfg AdamWConfig, step int) error {
	const op = "AdamW"
	if err := CheckSameShape(op, param, grad, m, v); err != nil {
		return err
	}
	if step < 1 || !(cfg.Beta1 >= 0 && cfg.Beta1 < 1) || !(cfg.Beta2 >= 0 && cfg.Beta2 < 1) || !(cfg.Eps > 0) {
		return fmt.Errorf("%s: step %d, config %+v: %w", op, step, cfg, ErrArgument)
	}
	return nil
}

// DropoutUniform is the counter-based generator behind Dropout: a uniform
// number in [0, 1) that depends only on (seed, i). Every backend must
// compute exactly this function (64-bit SplitMix64 finalisers, top 24 bits)
// so that dropout masks agree across backends:
//
//	k = mix(seed); z = mix(k + (i+1)·0x9E3779B97F4A7C15); u = (z >> 40) / 2²⁴
func DropoutUniform(seed, i uint64) float32 {
	z := mix64(mix64(seed) + (i+1)*0x9E3779B97F4A7C15)
	return float32(z>>40) * (1.0 / (1 << 24))
}

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}
