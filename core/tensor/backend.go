package tensor

// Backend is a device that owns tensor storage and runs ops on it. Model
// code calls only Backend methods, so the same model runs on every backend.
// The method groups are separate interfaces only to keep the documentation
// navigable; a Backend implements them all.
type Backend interface {
	Memory
	Linalg
	Elementwise
	Activations
	Normalization
	Regularization
	Losses
	Indexing
	Reductions
	Optimizer
	Recurrent
	Attention
	Quantized
}

// Memory creates tensors and moves data between the host and the backend.
type Memory interface {
	// Name identifies the backend ("cpu", "cuda:0", ...).
	Name() string
	// New returns a zero-filled tensor of the given shape.
	New(shape ...int) (*Tensor, error)
	// FromSlice returns a tensor holding a copy of data, which must have
	// exactly as many elements as shape implies.
	FromSlice(data []float32, shape ...int) (*Tensor, error)
	// Upload copies data (len = dst.Size()) into dst.
	Upload(dst *Tensor, data []float32) error
	// ToSlice returns a new host copy of t's elements in row-major order.
	ToSlice(t *Tensor) ([]float32, error)
	// Download copies t's elements into dst (len = t.Size()).
	Download(dst []float32, t *Tensor) error
	// Copy copies src into dst; both must have the same shape.
	Copy(dst, src *Tensor) error
	// Fill sets every element of dst to v.
	Fill(dst *Tensor, v float32) error
	// Free releases t's storage; t and every view of it become invalid,
	// and ops given them return an error wrapping ErrArgument. Freeing nil
	// is a no-op.
	Free(t *Tensor)
}

// Linalg holds the matrix products.
type Linalg interface {
	// MatMul computes C = α·op(A)·op(B) + β·C, where op(X) is X or Xᵀ.
	// A, B and C are viewed as matrices (Tensor.Matrix): op(A) is [M, K],
	// op(B) is [K, N] and C is [M, N]. With β = 0, C's previous contents
	// are ignored (NaNs in it do not propagate). C must not alias A or B.
	MatMul(transA, transB bool, alpha float32, a, b *Tensor, beta float32, c *Tensor) error
	// BatchedMatMul computes C[i] = α·op(A[i])·op(B[i]) + β·C[i] for every
	// batch index i. A is [batch, ·, ·], B is [batch, ·, ·] or
	// [1, ·, ·] (one B shared by the whole batch), C is [batch, M, N];
	// op(A[i]) is [M, K] and op(B[i]) is [K, N].
	BatchedMatMul(transA, transB bool, alpha float32, a, b *Tensor, beta float32, c *Tensor) error
}

// Elementwise holds arithmetic on tensors of one shape. Forward ops may
// write in place (dst the same tensor as an input).
type Elementwise interface {
	// Add sets dst = a + b; all three have the same shape.
	Add(dst, a, b *Tensor) error
	// Sub sets dst = a − b; all three have the same shape.
	Sub(dst, a, b *Tensor) error
	// Mul sets dst = a ⊙ b; all three have the same shape.
	Mul(dst, a, b *Tensor) error
	// Scale sets dst = α·x; same shape.
	Scale(dst, x *Tensor, alpha float32) error
	// AddScaled accumulates dst += α·x; same shape. It is the backward of
	// Add, Sub and Scale.
	AddScaled(dst, x *Tensor, alpha float32) error
	// MulAdd accumulates dst += a ⊙ b; all the same shape. It is the
	// backward of Mul: da += dy ⊙ b, db += dy ⊙ a.
	MulAdd(dst, a, b *Tensor) error
	// AddBias sets dst = x + bias broadcast over rows: x and dst have the
	// same shape [..., D], bias is [D].
	AddBias(dst, x, bias *Tensor) error
	// AddBiasBackward accumulates dbias += Σ_rows dy: dy is [..., D],
	// dbias is [D].
	AddBiasBackward(dbias, dy *Tensor) error
	// CopyCols copies a block of columns between matrices with the same
	// row count: dst[r, dstCol+j] = src[r, srcCol+j] for j < width, or
	// += when accumulate is set. It concatenates features along the last
	// dimension and (accumulating) splits their gradient.
	CopyCols(dst *Tensor, dstCol int, src *Tensor, srcCol, width int, accumulate bool) error
}

// Activation selects a pointwise nonlinearity.
type Activation int

// The activations. GELU is the tanh approximation used by BERT and GPT-2:
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
const (
	ReLU Activation = iota + 1
	GELU
	Tanh
	Sigmoid
)

// String names the activation.
func (a Activation) String() string {
	switch a {
	case ReLU:
		return "ReLU"
	case GELU:
		return "GELU"
	case Tanh:
		return "Tanh"
	case Sigmoid:
		return "Sigmoid"
	}
	return "Activation(?)"
}

// Activations holds the pointwise nonlinearities and softmax.
type Activations interface {
	// Activate sets dst = f(x) for the activation f; same shape.
	Activate(f Activation, dst, x *Tensor) error
	// ActivateBackward accumulates dx += dy ⊙ f'(x), where y = f(x).
	// ReLU and GELU read x (y may be nil); Tanh and Sigmoid read y (x may
	// be nil). All given tensors have the same shape.
	ActivateBackward(f Activation, dx, x, y, dy *Tensor) error
	// Softmax sets dst to the softmax of each row of x (over the last
	// dimension); same shape.
	Softmax(dst, x *Tensor) error
	// SoftmaxBackward accumulates dx += y ⊙ (dy − Σ_j dy_j·y_j) row by row,
	// where y = Softmax(x); all the same shape.
	SoftmaxBackward(dx, y, dy *Tensor) error
}

// Normalization holds layer and batch normalisation.
type Normalization interface {
	// LayerNorm normalises each row of x [..., D]:
	// y = (x − μ)·rstd ⊙ γ + β with rstd = 1/√(var + eps) (biased variance).
	// gamma and beta are [D]; y has x's shape; mean and rstd are [rows]
	// and receive the statistics backward needs (both nil in inference).
	LayerNorm(y, mean, rstd, x, gamma, beta *Tensor, eps float32) error
	// LayerNormBackward accumulates dx, dgamma and dbeta from dy, given the
	// forward's x, mean, rstd and gamma.
	LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *Tensor) error
	// AddLayerNorm is the fused residual step of a transformer block:
	// sum = x + r, then y = LayerNorm(sum). x, r, sum, y share a shape;
	// sum is kept for the backward.
	AddLayerNorm(y, sum, mean, rstd, x, r, gamma, beta *Tensor, eps float32) error
	// AddLayerNormBackward accumulates the gradient of sum into both dx and
	// dr (which may be the same tensor), plus dgamma and dbeta.
	AddLayerNormBackward(dx, dr, dgamma, dbeta, dy, sum, mean, rstd, gamma *Tensor) error
	// BatchNorm normalises each column of x [N, C] (matrix view).
	// In training it uses the batch statistics (biased variance), stores
	// mean and invStd ([C]) for the backward, and updates the running
	// statistics: run = (1−momentum)·run + momentum·batch, with the
	// unbiased variance for runVar (as PyTorch). In evaluation it uses
	// runMean and runVar; mean and invStd may then be nil.
	// y = (x − μ)·invStd ⊙ γ + β; gamma, beta, runMean, runVar are [C].
	BatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta *Tensor, training bool, momentum, eps float32) error
	// BatchNormBackward accumulates dx, dgamma and dbeta for a
	// training-mode BatchNorm, given its x, mean, invStd and gamma.
	BatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma *Tensor) error
}

// Regularization holds dropout.
type Regularization interface {
	// Dropout sets dst = x ⊙ mask / (1 − p), where element i is kept
	// iff DropoutUniform(seed, offset+i) ≥ p. The mask is a pure function
	// of (seed, offset + i), so every backend draws the same mask and the
	// backward recomputes it instead of storing it. 0 ≤ p < 1.
	Dropout(dst, x *Tensor, p float32, seed, offset uint64) error
	// DropoutBackward accumulates dx += dy ⊙ mask / (1 − p) with the mask
	// of the matching Dropout call.
	DropoutBackward(dx, dy *Tensor, p float32, seed, offset uint64) error
}

// Losses return the mean loss as a host scalar and, when the gradient
// tensor is non-nil, accumulate the gradient of that mean into it.
type Losses interface {
	// SoftmaxCrossEntropy: logits is [N, C] (matrix view), targets holds N
	// class ids in [0, C) or ignoreIndex. The loss is the mean of
	// −log softmax(logits)[target] over the n non-ignored rows (0 when
	// n = 0); dlogits (same shape, may be nil) accumulates
	// (softmax − onehot)/n on those rows.
	SoftmaxCrossEntropy(dlogits, logits *Tensor, targets []int32, ignoreIndex int32) (loss float32, n int, err error)
	// BCEWithLogits returns the mean over all elements of the binary cross
	// entropy between sigmoid(logits) and targets (same shape, values in
	// [0, 1]), computed stably; dlogits accumulates (σ(x) − t)/size.
	BCEWithLogits(dlogits, logits, targets *Tensor) (float32, error)
	// MSE returns mean((pred − target)²); dpred accumulates
	// 2·(pred − target)/size.
	MSE(dpred, pred, target *Tensor) (float32, error)
}

// Indexing holds embedding lookups.
type Indexing interface {
	// Embedding gathers rows: dst[i, :] = table[ids[i], :]. table is
	// [V, D]; dst is [len(ids), D] in matrix view; every id in [0, V).
	Embedding(dst, table *Tensor, ids []int32) error
	// EmbeddingBackward scatter-adds dtable[ids[i], :] += dy[i, :];
	// repeated ids accumulate.
	EmbeddingBackward(dtable, dy *Tensor, ids []int32) error
}

// Reductions sum tensors.
type Reductions interface {
	// SumRows sets dst[j] = Σ_i x[i, j]: x is [..., D] in matrix view,
	// dst is [D].
	SumRows(dst, x *Tensor) error
	// SumCols sets dst[i] = Σ_j x[i, j]: x is [..., D] with R rows in
	// matrix view, dst has R elements (any shape).
	SumCols(dst, x *Tensor) error
	// Sum returns the sum of all elements of x.
	Sum(x *Tensor) (float32, error)
	// Mean returns the mean of all elements of x (an error if x is empty).
	Mean(x *Tensor) (float32, error)
}

// AdamWConfig holds AdamW's hyperparameters (Loshchilov & Hutter:
// weight decay decoupled from the gradient).
type AdamWConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float32
}

// Optimizer holds the fused parameter update and gradient-norm reduction.
type Optimizer interface {
	// AdamW updates one parameter in place, for step = 1, 2, ...:
	//	g  = gradScale·grad
	//	m  = β1·m + (1−β1)·g
	//	v  = β2·v + (1−β2)·g²
	//	p -= lr·( m/(1−β1^step) / (√(v/(1−β2^step)) + eps) + wd·p )
	// param, grad, m and v share a shape. gradScale folds in gradient
	// clipping (see GradNorm) or loss scaling.
	AdamW(param, grad, m, v *Tensor, cfg AdamWConfig, step int, gradScale float32) error
	// GradNorm returns the global L2 norm √(Σ_t Σ_i t_i²) over all tensors.
	GradNorm(grads ...*Tensor) (float32, error)
}
