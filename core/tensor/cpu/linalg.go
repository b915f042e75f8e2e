package cpu

import "github.com/bingli/bingli/core/tensor"

// defaultKernel is the micro-kernel every Backend uses.
var defaultKernel kernelFunc = microKernel

// MatMul implements tensor.Linalg.
func (c *Backend) MatMul(transA, transB bool, alpha float32, a, b *tensor.Tensor, beta float32, out *tensor.Tensor) error {
	m, n, k, err := tensor.CheckMatMul(transA, transB, a, b, out)
	if err != nil {
		return err
	}
	if err := own("MatMul", a, b, out); err != nil {
		return err
	}
	_, lda := a.Matrix()
	_, ldb := b.Matrix()
	sgemm(defaultKernel, c.threads, transA, transB, m, n, k, alpha, f32(a), lda, f32(b), ldb, beta, f32(out), n)
	return nil
}

// BatchedMatMul implements tensor.Linalg. Batches of small products run
// in parallel over the batch; large products parallelise inside the GEMM.
func (c *Backend) BatchedMatMul(transA, transB bool, alpha float32, a, b *tensor.Tensor, beta float32, out *tensor.Tensor) error {
	batch, m, n, k, shared, err := tensor.CheckBatchedMatMul(transA, transB, a, b, out)
	if err != nil {
		return err
	}
	if err := own("BatchedMatMul", a, b, out); err != nil {
		return err
	}
	lda, ldb := a.Dim(2), b.Dim(2)
	sa, sb, sc := m*k, k*n, m*n
	if shared {
		sb = 0
	}
	ad, bd, cd := f32(a), f32(b), f32(out)
	one := func(i, threads int) {
		sgemm(defaultKernel, threads, transA, transB, m, n, k, alpha, ad[i*sa:(i+1)*sa], lda,
			bd[i*sb:i*sb+k*n], ldb, beta, cd[i*sc:(i+1)*sc], n)
	}
	if 2*m*n*k >= 4*parallelFlops || batch == 1 {
		for i := range batch {
			one(i, c.threads)
		}
		return nil
	}
	c.parallel(batch, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			one(i, 1)
		}
	})
	return nil
}
