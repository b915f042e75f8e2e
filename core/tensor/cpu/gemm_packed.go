package cpu

import "sync"

// packedB is op(B) packed once into the micro-panel layout the GEMM reads, for a product
// repeated with the same B: the recurrent weight of a GRU or LSTM is multiplied at every
// time step, and repacking it each step cost more than the multiplication itself at small
// batch sizes (a batch of one sentence spent over half its time in packB).
type packedB struct {
	n, k int
	data []float32
}

// prepackB packs op(B) (k×n) when it fits one column block (n ≤ nc), one packed panel set
// per kc-deep slice of k, and returns nil otherwise; callers then use sgemm.
func prepackB(transB bool, b []float32, ldb, k, n int) *packedB {
	if k == 0 || n == 0 || n > nc {
		return nil
	}
	width := (n + nr - 1) / nr * nr
	pb := &packedB{n: n, k: k, data: make([]float32, width*k)}
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		packB(pb.data[pc*width:], transB, b, ldb, pc, 0, kb, n)
	}
	return pb
}

// sgemmPacked computes C = α·A·op(B) + β·C with op(B) prepacked (A not transposed).
// Columns are split over up to threads goroutines in whole micro-panels.
func sgemmPacked(kern kernelFunc, threads, m int, alpha float32, a []float32, lda int, pb *packedB, beta float32, c []float32, ldc int) {
	if m == 0 {
		return
	}
	panels := (pb.n + nr - 1) / nr
	parts := 1
	if threads > 1 && 2*m*pb.n*pb.k >= parallelFlops {
		parts = min(threads, panels)
	}
	if parts == 1 {
		sgemmPackedCols(kern, m, 0, panels, alpha, a, lda, pb, beta, c, ldc)
		return
	}
	per := (panels + parts - 1) / parts
	var wg sync.WaitGroup
	for lo := 0; lo < panels; lo += per {
		hi := min(lo+per, panels)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sgemmPackedCols(kern, m, lo, hi, alpha, a, lda, pb, beta, c, ldc)
		}()
	}
	wg.Wait()
}

// sgemmPackedCols computes the columns of micro-panels [p0, p1) of C.
func sgemmPackedCols(kern kernelFunc, m, p0, p1 int, alpha float32, a []float32, lda int, pb *packedB, beta float32, c []float32, ldc int) {
	j0, j1 := p0*nr, min(p1*nr, pb.n)
	if beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc+j0 : i*ldc+j1]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if alpha == 0 {
		return
	}
	width := (pb.n + nr - 1) / nr * nr
	bufs := gemmPool.Get().(*gemmBufs)
	defer gemmPool.Put(bufs)
	var tile [mr * nr]float32
	for pc := 0; pc < pb.k; pc += kc {
		kb := min(kc, pb.k-pc)
		block := pb.data[pc*width : pc*width+kb*width]
		if alpha == 1 && panelsAHook != nil && panelsAHook(m, kb, j0, j1, a[pc:], lda, block, c, ldc, &tile) {
			continue
		}
		for ic := 0; ic < m; ic += mc {
			mb := min(mc, m-ic)
			packA(bufs.a[:], false, a, lda, ic, pc, mb, kb, alpha)
			multiplyPanels(kern, mb, kb, j0, j1, bufs.a[:], block, c[ic*ldc:], ldc, &tile)
		}
	}
}

// stepGEMM is C = A·op(B) + C for the per-time-step products of the recurrent ops: through
// the prepacked B when there is one, else the general GEMM.
func (c *Backend) stepGEMM(pb *packedB, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, out []float32, ldc int) {
	if pb != nil {
		sgemmPacked(defaultKernel, c.threads, m, 1, a, lda, pb, 1, out, ldc)
		return
	}
	sgemm(defaultKernel, c.threads, false, transB, m, n, k, 1, a, lda, b, ldb, 1, out, ldc)
}
