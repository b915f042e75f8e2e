package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/bingli/bingli/core/tensor"
)

// Every method checks its call with the tensor package's Check functions (so
// the CPU and CUDA backends accept and reject the same calls), resolves the
// device pointers, fills an args block as bingli_cuda.h documents for the op,
// and runs it.

// MatMul implements tensor.Linalg.
func (b *Backend) MatMul(transA, transB bool, alpha float32, x, y *tensor.Tensor, beta float32, c *tensor.Tensor) error {
	const op = "MatMul"
	m, n, k, err := tensor.CheckMatMul(transA, transB, x, y, c)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, x, y, c); err != nil {
		return err
	}
	_, xc := x.Matrix()
	_, yc := y.Matrix()
	a.i = [16]int64{boolInt(transA), boolInt(transB), int64(m), int64(n), int64(k), int64(xc), int64(yc), int64(n), 1}
	a.f[0], a.f[1] = alpha, beta
	return b.call("bc_gemm", &a, nil, nil)
}

// BatchedMatMul implements tensor.Linalg.
func (b *Backend) BatchedMatMul(transA, transB bool, alpha float32, x, y *tensor.Tensor, beta float32, c *tensor.Tensor) error {
	const op = "BatchedMatMul"
	batch, m, n, k, shared, err := tensor.CheckBatchedMatMul(transA, transB, x, y, c)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, x, y, c); err != nil {
		return err
	}
	xc, yc := x.Dim(2), y.Dim(2)
	strideB := int64(y.Dim(1) * yc)
	if shared {
		strideB = 0
	}
	a.i = [16]int64{boolInt(transA), boolInt(transB), int64(m), int64(n), int64(k), int64(xc), int64(yc), int64(n),
		int64(batch), int64(x.Dim(1) * xc), strideB, int64(m * n)}
	a.f[0], a.f[1] = alpha, beta
	return b.call("bc_gemm", &a, nil, nil)
}

// elementwise runs a same-shape op over dst and its inputs.
func (b *Backend) elementwise(op, fn string, alpha float32, dst *tensor.Tensor, in ...*tensor.Tensor) error {
	if err := tensor.CheckSameShape(op, append([]*tensor.Tensor{dst}, in...)...); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, append([]*tensor.Tensor{dst}, in...)...); err != nil {
		return err
	}
	a.i[0] = int64(dst.Size())
	a.f[0] = alpha
	return b.call(fn, &a, nil, nil)
}

// Add implements tensor.Elementwise.
func (b *Backend) Add(dst, x, y *tensor.Tensor) error {
	return b.elementwise("Add", "bc_add", 0, dst, x, y)
}

// Sub implements tensor.Elementwise.
func (b *Backend) Sub(dst, x, y *tensor.Tensor) error {
	return b.elementwise("Sub", "bc_sub", 0, dst, x, y)
}

// Mul implements tensor.Elementwise.
func (b *Backend) Mul(dst, x, y *tensor.Tensor) error {
	return b.elementwise("Mul", "bc_mul", 0, dst, x, y)
}

// MulAdd implements tensor.Elementwise.
func (b *Backend) MulAdd(dst, x, y *tensor.Tensor) error {
	return b.elementwise("MulAdd", "bc_mul_add", 0, dst, x, y)
}

// Scale implements tensor.Elementwise.
func (b *Backend) Scale(dst, x *tensor.Tensor, alpha float32) error {
	return b.elementwise("Scale", "bc_scale", alpha, dst, x)
}

// AddScaled implements tensor.Elementwise.
func (b *Backend) AddScaled(dst, x *tensor.Tensor, alpha float32) error {
	return b.elementwise("AddScaled", "bc_add_scaled", alpha, dst, x)
}

// AddBias implements tensor.Elementwise.
func (b *Backend) AddBias(dst, x, bias *tensor.Tensor) error {
	const op = "AddBias"
	if err := tensor.CheckSameShape(op, dst, x); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckBias(op, x, bias)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x, bias); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_add_bias", &a, nil, nil)
}

// AddBiasBackward implements tensor.Elementwise.
func (b *Backend) AddBiasBackward(dbias, dy *tensor.Tensor) error {
	return b.sumRows("AddBiasBackward", dbias, dy, true)
}

// SumRows implements tensor.Reductions.
func (b *Backend) SumRows(dst, x *tensor.Tensor) error { return b.sumRows("SumRows", dst, x, false) }

func (b *Backend) sumRows(op string, dst, x *tensor.Tensor, accumulate bool) error {
	rows, cols, err := tensor.CheckBias(op, x, dst)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x); err != nil {
		return err
	}
	a.i[0], a.i[1], a.i[2] = int64(rows), int64(cols), boolInt(accumulate)
	return b.call("bc_sum_rows", &a, nil, nil)
}

// SumCols implements tensor.Reductions.
func (b *Backend) SumCols(dst, x *tensor.Tensor) error {
	const op = "SumCols"
	if x == nil {
		return fmt.Errorf("%s: x is nil: %w", op, tensor.ErrArgument)
	}
	rows, cols := x.Matrix()
	if err := tensor.CheckVector(op, "dst", dst, rows); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_sum_cols", &a, nil, nil)
}

// Sum implements tensor.Reductions.
func (b *Backend) Sum(x *tensor.Tensor) (float32, error) {
	const op = "Sum"
	if x == nil {
		return 0, fmt.Errorf("%s: x is nil: %w", op, tensor.ErrArgument)
	}
	var a args
	if err := b.ptrs(op, &a, 0, x); err != nil {
		return 0, err
	}
	a.i[0] = int64(x.Size())
	if err := b.call("bc_sum", &a, nil, nil); err != nil {
		return 0, err
	}
	return float32(a.out[0]), nil
}

// Mean implements tensor.Reductions.
func (b *Backend) Mean(x *tensor.Tensor) (float32, error) {
	s, err := b.Sum(x)
	if err != nil {
		return 0, fmt.Errorf("Mean: %w", err)
	}
	if x.Size() == 0 {
		return 0, fmt.Errorf("Mean: empty tensor %v: %w", x, tensor.ErrShape)
	}
	return s / float32(x.Size()), nil
}

// CopyCols implements tensor.Elementwise.
func (b *Backend) CopyCols(dst *tensor.Tensor, dstCol int, src *tensor.Tensor, srcCol, width int, accumulate bool) error {
	const op = "CopyCols"
	rows, err := tensor.CheckCopyCols(dst, dstCol, src, srcCol, width)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, src); err != nil {
		return err
	}
	_, dc := dst.Matrix()
	_, sc := src.Matrix()
	a.i = [16]int64{int64(rows), int64(dc), int64(sc), int64(dstCol), int64(srcCol), int64(width), boolInt(accumulate)}
	return b.call("bc_copy_cols", &a, nil, nil)
}

// Activate implements tensor.Activations.
func (b *Backend) Activate(f tensor.Activation, dst, x *tensor.Tensor) error {
	const op = "Activate"
	if err := tensor.CheckActivation(op, f); err != nil {
		return err
	}
	if err := tensor.CheckSameShape(op, dst, x); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(dst.Size()), int64(f)
	return b.call("bc_activate", &a, nil, nil)
}

// ActivateBackward implements tensor.Activations.
func (b *Backend) ActivateBackward(f tensor.Activation, dx, x, y, dy *tensor.Tensor) error {
	const op = "ActivateBackward"
	if err := tensor.CheckActivateBackward(f, dx, x, y, dy); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dx, x, y, dy); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(dx.Size()), int64(f)
	return b.call("bc_activate_backward", &a, nil, nil)
}

// Softmax implements tensor.Activations.
func (b *Backend) Softmax(dst, x *tensor.Tensor) error {
	const op = "Softmax"
	if err := tensor.CheckSameShape(op, dst, x); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x); err != nil {
		return err
	}
	rows, cols := x.Matrix()
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_softmax", &a, nil, nil)
}

// SoftmaxBackward implements tensor.Activations.
func (b *Backend) SoftmaxBackward(dx, y, dy *tensor.Tensor) error {
	const op = "SoftmaxBackward"
	if err := tensor.CheckSameShape(op, dx, y, dy); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dx, y, dy); err != nil {
		return err
	}
	rows, cols := y.Matrix()
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_softmax_backward", &a, nil, nil)
}

// LayerNorm implements tensor.Normalization.
func (b *Backend) LayerNorm(y, mean, rstd, x, gamma, beta *tensor.Tensor, eps float32) error {
	const op = "LayerNorm"
	rows, cols, err := tensor.CheckLayerNorm(op, y, mean, rstd, x, gamma, beta)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, y, mean, rstd, x, gamma, beta); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	a.f[0] = eps
	return b.call("bc_layernorm", &a, nil, nil)
}

// AddLayerNorm implements tensor.Normalization.
func (b *Backend) AddLayerNorm(y, sum, mean, rstd, x, r, gamma, beta *tensor.Tensor, eps float32) error {
	const op = "AddLayerNorm"
	if err := tensor.CheckSameShape(op, x, r, sum); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckLayerNorm(op, y, mean, rstd, x, gamma, beta)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, y, mean, rstd, x, gamma, beta, r, sum); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	a.f[0] = eps
	return b.call("bc_layernorm", &a, nil, nil)
}

// LayerNormBackward implements tensor.Normalization.
func (b *Backend) LayerNormBackward(dx, dgamma, dbeta, dy, x, mean, rstd, gamma *tensor.Tensor) error {
	const op = "LayerNormBackward"
	rows, cols, err := tensor.CheckLayerNormBackward(op, dx, dgamma, dbeta, dy, x, mean, rstd, gamma)
	if err != nil {
		return err
	}
	return b.layerNormBackward(op, rows, cols, dx, nil, dgamma, dbeta, dy, x, mean, rstd, gamma)
}

// AddLayerNormBackward implements tensor.Normalization.
func (b *Backend) AddLayerNormBackward(dx, dr, dgamma, dbeta, dy, sum, mean, rstd, gamma *tensor.Tensor) error {
	const op = "AddLayerNormBackward"
	if err := tensor.CheckSameShape(op, sum, dr); err != nil {
		return err
	}
	rows, cols, err := tensor.CheckLayerNormBackward(op, dx, dgamma, dbeta, dy, sum, mean, rstd, gamma)
	if err != nil {
		return err
	}
	return b.layerNormBackward(op, rows, cols, dx, dr, dgamma, dbeta, dy, sum, mean, rstd, gamma)
}

func (b *Backend) layerNormBackward(op string, rows, cols int, ts ...*tensor.Tensor) error {
	var a args
	if err := b.ptrs(op, &a, 0, ts...); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_layernorm_backward", &a, nil, nil)
}

// BatchNorm implements tensor.Normalization.
func (b *Backend) BatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta *tensor.Tensor, training bool, momentum, eps float32) error {
	const op = "BatchNorm"
	rows, cols, err := tensor.CheckBatchNorm(y, mean, invStd, runMean, runVar, x, gamma, beta, training, momentum, eps)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, y, mean, invStd, runMean, runVar, x, gamma, beta); err != nil {
		return err
	}
	a.i[0], a.i[1], a.i[2] = int64(rows), int64(cols), boolInt(training)
	a.f[0], a.f[1] = eps, momentum
	return b.call("bc_batchnorm", &a, nil, nil)
}

// BatchNormBackward implements tensor.Normalization.
func (b *Backend) BatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma *tensor.Tensor) error {
	const op = "BatchNormBackward"
	rows, cols, err := tensor.CheckBatchNormBackward(dx, dgamma, dbeta, dy, x, mean, invStd, gamma)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dx, dgamma, dbeta, dy, x, mean, invStd, gamma); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(rows), int64(cols)
	return b.call("bc_batchnorm_backward", &a, nil, nil)
}

// Dropout implements tensor.Regularization.
func (b *Backend) Dropout(dst, x *tensor.Tensor, p float32, seed, offset uint64) error {
	return b.dropout("Dropout", dst, x, p, seed, offset, false)
}

// DropoutBackward implements tensor.Regularization.
func (b *Backend) DropoutBackward(dx, dy *tensor.Tensor, p float32, seed, offset uint64) error {
	return b.dropout("DropoutBackward", dx, dy, p, seed, offset, true)
}

func (b *Backend) dropout(op string, dst, x *tensor.Tensor, p float32, seed, offset uint64, backward bool) error {
	if err := tensor.CheckDropout(op, dst, x, p); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dst, x); err != nil {
		return err
	}
	a.i[0], a.i[1], a.i[2], a.i[3] = int64(dst.Size()), int64(seed), int64(offset), boolInt(backward)
	a.f[0] = p
	return b.call("bc_dropout", &a, nil, nil)
}

// SoftmaxCrossEntropy implements tensor.Losses.
func (b *Backend) SoftmaxCrossEntropy(dlogits, logits *tensor.Tensor, targets []int32, ignoreIndex int32) (float32, int, error) {
	const op = "SoftmaxCrossEntropy"
	rows, cols, err := tensor.CheckCrossEntropy(dlogits, logits, targets, ignoreIndex)
	if err != nil {
		return 0, 0, err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dlogits, logits); err != nil {
		return 0, 0, err
	}
	n := 0
	for _, t := range targets {
		if t != ignoreIndex {
			n++
		}
	}
	if n == 0 {
		return 0, 0, nil
	}
	a.i[0], a.i[1], a.i[2], a.i[3] = int64(rows), int64(cols), int64(ignoreIndex), int64(n)
	if err := b.call("bc_softmax_xent", &a, hostPtr(targets), nil); err != nil {
		return 0, 0, err
	}
	return float32(a.out[0]), n, nil
}

// BCEWithLogits implements tensor.Losses.
func (b *Backend) BCEWithLogits(dlogits, logits, targets *tensor.Tensor) (float32, error) {
	return b.pointLoss("BCEWithLogits", "bc_bce_logits", dlogits, logits, targets)
}

// MSE implements tensor.Losses.
func (b *Backend) MSE(dpred, pred, target *tensor.Tensor) (float32, error) {
	return b.pointLoss("MSE", "bc_mse", dpred, pred, target)
}

func (b *Backend) pointLoss(op, fn string, grad, pred, target *tensor.Tensor) (float32, error) {
	if err := tensor.CheckLoss(op, grad, pred, target); err != nil {
		return 0, err
	}
	var a args
	if err := b.ptrs(op, &a, 0, grad, pred, target); err != nil {
		return 0, err
	}
	a.i[0] = int64(pred.Size())
	if err := b.call(fn, &a, nil, nil); err != nil {
		return 0, err
	}
	return float32(a.out[0]), nil
}

// Embedding implements tensor.Indexing.
func (b *Backend) Embedding(dst, table *tensor.Tensor, ids []int32) error {
	return b.embedding("Embedding", "bc_embedding", dst, table, ids)
}

// EmbeddingBackward implements tensor.Indexing.
func (b *Backend) EmbeddingBackward(dtable, dy *tensor.Tensor, ids []int32) error {
	return b.embedding("EmbeddingBackward", "bc_embedding_backward", dy, dtable, ids)
}

// embedding runs a gather (rows ← table) or a scatter-add (table += rows).
func (b *Backend) embedding(op, fn string, rows, table *tensor.Tensor, ids []int32) error {
	dim, err := tensor.CheckEmbedding(op, table, rows, ids)
	if err != nil {
		return err
	}
	var a args
	first, second := rows, table
	if fn == "bc_embedding_backward" {
		first, second = table, rows
	}
	if err := b.ptrs(op, &a, 0, first, second); err != nil {
		return err
	}
	a.i[0], a.i[1] = int64(len(ids)), int64(dim)
	return b.call(fn, &a, hostPtr(ids), nil)
}

// AdamW implements tensor.Optimizer.
func (b *Backend) AdamW(param, grad, m, v *tensor.Tensor, cfg tensor.AdamWConfig, step int, gradScale float32) error {
	const op = "AdamW"
	if err := tensor.CheckAdamW(param, grad, m, v, cfg, step); err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, param, grad, m, v); err != nil {
		return err
	}
	a.i[0] = int64(param.Size())
	bc1 := float32(1 - math.Pow(float64(cfg.Beta1), float64(step)))
	bc2 := float32(1 - math.Pow(float64(cfg.Beta2), float64(step)))
	a.f = [8]float32{cfg.LR, cfg.Beta1, cfg.Beta2, cfg.Eps, cfg.WeightDecay, gradScale, bc1, bc2}
	return b.call("bc_adamw", &a, nil, nil)
}

// GradNorm implements tensor.Optimizer.
func (b *Backend) GradNorm(grads ...*tensor.Tensor) (float32, error) {
	const op = "GradNorm"
	for i, g := range grads {
		if g == nil {
			return 0, fmt.Errorf("%s: grad %d is nil: %w", op, i, tensor.ErrArgument)
		}
		if _, err := b.dev(op, g); err != nil {
			return 0, err
		}
	}
	var total float64
	for lo := 0; lo < len(grads); lo += 16 {
		chunk := grads[lo:min(lo+16, len(grads))]
		var a args
		if err := b.ptrs(op, &a, 0, chunk...); err != nil {
			return 0, err
		}
		sizes := make([]int64, len(chunk))
		for i, g := range chunk {
			sizes[i] = int64(g.Size())
		}
		a.i[0] = int64(len(chunk))
		if err := b.call("bc_sumsq", &a, hostPtr(sizes), nil); err != nil {
			return 0, err
		}
		total += a.out[0]
	}
	return float32(math.Sqrt(total)), nil
}

// GRU implements tensor.Recurrent.
func (b *Backend) GRU(w tensor.RNNWeights, seq *tensor.RNNSequence) error {
	return b.rnn("GRU", "bc_gru", 3, w, seq)
}

// LSTM implements tensor.Recurrent.
func (b *Backend) LSTM(w tensor.RNNWeights, seq *tensor.RNNSequence) error {
	return b.rnn("LSTM", "bc_lstm", 4, w, seq)
}

func (b *Backend) rnn(op, fn string, gates int, w tensor.RNNWeights, seq *tensor.RNNSequence) error {
	d, err := tensor.CheckRNN(op, gates, w, seq)
	if err != nil {
		return err
	}
	if seq.XW != nil {
		return fmt.Errorf("%s: a precomputed input projection (XW): %w", op, tensor.ErrUnsupported)
	}
	var a args
	if err := b.ptrs(op, &a, 0, seq.X, w.WIH, w.WHH, w.BIH, w.BHH, seq.Out, seq.Work, seq.H0, seq.C0, seq.HT, seq.CT); err != nil {
		return err
	}
	a.i = [16]int64{int64(d.T), int64(d.B), int64(d.In), int64(d.H), int64(seq.Out.Dim(2)), int64(seq.OutCol),
		boolInt(seq.Reverse), boolInt(seq.Lengths != nil)}
	return b.call(fn, &a, hostPtr(seq.Lengths), nil)
}

// GRUBackward implements tensor.Recurrent.
func (b *Backend) GRUBackward(w tensor.RNNWeights, seq *tensor.RNNSequence, g *tensor.RNNGrads) error {
	return b.rnnBackward("GRUBackward", "bc_gru_backward", 3, w, seq, g)
}

// LSTMBackward implements tensor.Recurrent.
func (b *Backend) LSTMBackward(w tensor.RNNWeights, seq *tensor.RNNSequence, g *tensor.RNNGrads) error {
	return b.rnnBackward("LSTMBackward", "bc_lstm_backward", 4, w, seq, g)
}

func (b *Backend) rnnBackward(op, fn string, gates int, w tensor.RNNWeights, seq *tensor.RNNSequence, g *tensor.RNNGrads) error {
	d, err := tensor.CheckRNNBackward(op, gates, w, seq, g)
	if err != nil {
		return err
	}
	var a args
	// Slot layout of bc_gru_backward: 0 X, 1 WIH, 2 WHH, 3 dBIH, 4 dBHH,
	// 5 DOut, 6 Work, 7 H0, 8 (unused), 9 DHT, 10 DCT, 11 DX, 12 DH0,
	// 13 DC0, 14 dWIH, 15 dWHH.
	if err := b.ptrs(op, &a, 0, seq.X, w.WIH, w.WHH, g.DW.BIH, g.DW.BHH, g.DOut, seq.Work, seq.H0, nil,
		g.DHT, g.DCT, g.DX, g.DH0, g.DC0, g.DW.WIH, g.DW.WHH); err != nil {
		return err
	}
	a.i = [16]int64{int64(d.T), int64(d.B), int64(d.In), int64(d.H), int64(g.DOut.Dim(2)), int64(g.DOutCol),
		boolInt(seq.Reverse), boolInt(seq.Lengths != nil)}
	return b.call(fn, &a, hostPtr(seq.Lengths), nil)
}

// Attention implements tensor.Attention.
func (b *Backend) Attention(out, probs, q, k, v *tensor.Tensor, keyLengths []int32, heads int, causal bool) error {
	const op = "Attention"
	d, err := tensor.CheckAttention(out, probs, q, k, v, keyLengths, heads)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, out, probs, q, k, v); err != nil {
		return err
	}
	a.i = [16]int64{int64(d.B), int64(d.Tq), int64(d.Tk), int64(d.D), int64(heads), boolInt(causal), boolInt(keyLengths != nil)}
	return b.call("bc_attention", &a, hostPtr(keyLengths), nil)
}

// AttentionBackward implements tensor.Attention.
func (b *Backend) AttentionBackward(dq, dk, dv, dout, probs, q, k, v *tensor.Tensor, heads int) error {
	const op = "AttentionBackward"
	d, err := tensor.CheckAttentionBackward(dq, dk, dv, dout, probs, q, k, v, heads)
	if err != nil {
		return err
	}
	var a args
	if err := b.ptrs(op, &a, 0, dq, dk, dv, dout, probs, q, k, v); err != nil {
		return err
	}
	a.i = [16]int64{int64(d.B), int64(d.Tq), int64(d.Tk), int64(d.D), int64(heads)}
	return b.call("bc_attention_backward", &a, nil, nil)
}

// UploadInt8 implements tensor.Quantized: the int8 values and the scales
// stay on the device; MatMulInt8T dequantises on the fly.
func (b *Backend) UploadInt8(q []int8, scale []float32, rows, cols int) (*tensor.Int8Matrix, error) {
	if b.elem == 2 {
		return nil, fmt.Errorf("UploadInt8: int8 weights with bf16 storage: %w", tensor.ErrUnsupported)
	}
	if rows < 0 || cols < 0 || len(q) != rows*cols || len(scale) != rows {
		return nil, fmt.Errorf("UploadInt8: %d values and %d scales for [%d %d]: %w", len(q), len(scale), rows, cols, tensor.ErrShape)
	}
	s, err := b.alloc(len(q), len(q))
	if err != nil {
		return nil, fmt.Errorf("UploadInt8: %w", err)
	}
	if len(q) > 0 {
		var a args
		a.p[0], a.i[0] = s.ptr, int64(len(q))
		if err := b.call("bc_upload", &a, unsafe.Pointer(&q[0]), nil); err != nil {
			s.release()
			return nil, err
		}
	}
	if rows > 0 {
		var a args
		a.i[0] = int64(4 * rows)
		if err := b.call("bc_alloc", &a, nil, nil); err != nil {
			s.release()
			return nil, err
		}
		s.scales = a.p[0]
		a.i[0] = int64(4 * rows)
		if err := b.call("bc_upload", &a, unsafe.Pointer(&scale[0]), nil); err != nil {
			s.release()
			return nil, err
		}
	}
	return tensor.WrapInt8(s, rows, cols)
}

// MatMulInt8T implements tensor.Quantized.
func (b *Backend) MatMulInt8T(y, x *tensor.Tensor, w *tensor.Int8Matrix) error {
	const op = "MatMulInt8T"
	n, in, out, err := tensor.CheckMatMulInt8T(y, x, w)
	if err != nil {
		return err
	}
	ws, ok := w.Storage().(*storage)
	if !ok || ws.b != b {
		return fmt.Errorf("%s: weight matrix: %w", op, tensor.ErrBackend)
	}
	if ws.freed {
		return fmt.Errorf("%s: weight matrix was freed: %w", op, tensor.ErrArgument)
	}
	var a args
	if err := b.ptrs(op, &a, 2, x, y); err != nil {
		return err
	}
	a.p[0], a.p[1] = ws.ptr, ws.scales
	a.i[0], a.i[1], a.i[2] = int64(n), int64(in), int64(out)
	return b.call("bc_matmul_int8t", &a, nil, nil)
}

var _ tensor.Backend = (*Backend)(nil)

// CRFDecode implements tensor.CRFDecoder for up to 32 tags.
func (b *Backend) CRFDecode(emissions *tensor.Tensor, lengths []int32, trans, start, end []float32) ([][]int32, []float32, error) {
	const op = "CRFDecode"
	T, B, K, err := tensor.CheckCRFDecode(emissions, lengths, trans, start, end)
	if err != nil {
		return nil, nil, err
	}
	if K > 32 {
		return nil, nil, fmt.Errorf("%s: %d tags, the CUDA decoder handles at most 32: %w", op, K, tensor.ErrUnsupported)
	}
	var a args
	if err := b.ptrs(op, &a, 0, emissions); err != nil {
		return nil, nil, err
	}
	a.i[0], a.i[1], a.i[2] = int64(T), int64(B), int64(K)
	in := make([]uint32, 0, B+K*K+2*K)
	for _, l := range lengths {
		in = append(in, uint32(l))
	}
	for _, s := range [][]float32{trans, start, end} {
		for _, v := range s {
			in = append(in, math.Float32bits(v))
		}
	}
	out := make([]uint32, B*T+B*T*K)
	if err := b.call("bc_crf_decode", &a, hostPtr(in), hostPtr(out)); err != nil {
		return nil, nil, err
	}
	paths := make([][]int32, B)
	for i, l := range lengths {
		p := make([]int32, l)
		for t := range p {
			p[t] = int32(out[i*T+t])
		}
		paths[i] = p
	}
	marg := make([]float32, B*T*K)
	for i, v := range out[B*T:] {
		marg[i] = math.Float32frombits(v)
	}
	return paths, marg, nil
}

var _ tensor.CRFDecoder = (*Backend)(nil)

// Linear implements tensor.FusedLinear: one cuBLASLt product with a bias and ReLU/GELU
// epilogue (tanh and sigmoid run as a second kernel).
func (b *Backend) Linear(y, x, w, bias *tensor.Tensor, f tensor.Activation) error {
	const op = "Linear"
	n, in, out, err := tensor.CheckLinear(y, x, w, bias, f)
	if err != nil {
		return err
	}
	if n == 0 || out == 0 {
		return nil
	}
	if in == 0 {
		// y = f(b): no product to fuse.
		if err := b.Fill(y, 0); err != nil {
			return err
		}
		if bias != nil {
			if err := b.AddBias(y, y, bias); err != nil {
				return err
			}
		}
		if f != 0 {
			return b.Activate(f, y, y)
		}
		return nil
	}
	var a args
	if err := b.ptrs(op, &a, 0, y, x, w, bias); err != nil {
		return err
	}
	a.i[0], a.i[1], a.i[2], a.i[3] = int64(n), int64(in), int64(out), int64(f)
	return b.call("bc_linear", &a, nil, nil)
}

var _ tensor.FusedLinear = (*Backend)(nil)

// CRFNLL implements tensor.CRFTrainer for up to 32 tags.
func (b *Backend) CRFNLL(dEmissions, emissions *tensor.Tensor, lengths []int32, gold []int32, trans, start, end []float32, scale float64, dTrans, dStart, dEnd []float32) (float64, error) {
	const op = "CRFNLL"
	T, B, K, err := tensor.CheckCRFDecode(emissions, lengths, trans, start, end)
	if err != nil {
		return 0, err
	}
	if dEmissions == nil || !dEmissions.HasShape(T, B, K) {
		return 0, fmt.Errorf("%s: dEmissions %v, want [%d %d %d]: %w", op, dEmissions, T, B, K, tensor.ErrShape)
	}
	if len(gold) != B*T || len(dTrans) != K*K || len(dStart) != K || len(dEnd) != K {
		return 0, fmt.Errorf("%s: %d gold tags for [%d %d], gradients %d/%d/%d for %d tags: %w",
			op, len(gold), B, T, len(dTrans), len(dStart), len(dEnd), K, tensor.ErrShape)
	}
	for i, y := range gold {
		if y < 0 || int(y) >= K {
			return 0, fmt.Errorf("%s: gold tag %d at %d outside [0, %d): %w", op, y, i, K, tensor.ErrIndex)
		}
	}
	if K > 32 {
		return 0, fmt.Errorf("%s: %d tags, the CUDA CRF handles at most 32: %w", op, K, tensor.ErrUnsupported)
	}
	var a args
	if err := b.ptrs(op, &a, 0, emissions, dEmissions); err != nil {
		return 0, err
	}
	a.i[0], a.i[1], a.i[2] = int64(T), int64(B), int64(K)
	a.f[0] = float32(scale)
	in := make([]uint32, 0, B+B*T+K*K+2*K)
	for _, l := range lengths {
		in = append(in, uint32(l))
	}
	for _, y := range gold {
		in = append(in, uint32(y))
	}
	for _, s := range [][]float32{trans, start, end} {
		for _, v := range s {
			in = append(in, math.Float32bits(v))
		}
	}
	out := make([]float64, B+K*K+2*K)
	if err := b.call("bc_crf_nll", &a, hostPtr(in), hostPtr(out)); err != nil {
		return 0, err
	}
	var sum float64
	for _, v := range out[:B] {
		sum += v
	}
	g := out[B:]
	for i := range dTrans {
		dTrans[i] += float32(g[i])
	}
	for i := range dStart {
		dStart[i] += float32(g[K*K+i])
		dEnd[i] += float32(g[K*K+K+i])
	}
	return scale * sum, nil
}

var _ tensor.CRFTrainer = (*Backend)(nil)
