package cpu

import "sync"

// GEMM blocking (Goto/BLIS style). A kc×nc panel of B and an mc×kc block
// of A are packed into contiguous micro-panels of nr columns and mr rows;
// the micro-kernel multiplies one A micro-panel by one B micro-panel into an
// mr×nr tile of C held in registers (12 of the 16 AVX2 registers for 6×16).
const (
	mr = 6
	nr = 16
	kc = 256
	mc = 16 * mr
	nc = 1024
)

// gemmBufs are the packing buffers of one goroutine.
type gemmBufs struct {
	a [mc * kc]float32
	b [nc * kc]float32
}

var gemmPool = sync.Pool{New: func() any { return new(gemmBufs) }}

// kernelFunc adds the product of a packed mr×k A micro-panel and a packed
// k×nr B micro-panel to the mr×nr tile of c with row stride ldc; k ≥ 1.
type kernelFunc func(k int, a, b, c []float32, ldc int)

// parallelFlops is the work below which a product runs on one goroutine.
const parallelFlops = 1 << 18

// sgemm computes C = α·op(A)·op(B) + β·C for row-major matrices with leading
// dimensions lda, ldb, ldc; op(A) is m×k, op(B) is k×n, using the
// micro-kernel kern. It splits C into row (or, for wide C, column) blocks
// over up to threads goroutines.
func sgemm(kern kernelFunc, threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if threads > 1 && 2*m*n*k >= parallelFlops {
		byRows := m >= n
		unit, extent := mr, m
		if !byRows {
			unit, extent = nr, n
		}
		units := (extent + unit - 1) / unit
		parts := min(threads, units)
		if parts > 1 {
			var wg sync.WaitGroup
			per := (units + parts - 1) / parts * unit
			for lo := 0; lo < extent; lo += per {
				hi := min(lo+per, extent)
				wg.Add(1)
				go func() {
					defer wg.Done()
					if byRows {
						sgemmSerial(kern, transA, transB, hi-lo, n, k, alpha, a[offset(transA, lo, lda):], lda, b, ldb, beta, c[lo*ldc:], ldc)
					} else {
						sgemmSerial(kern, transA, transB, m, hi-lo, k, alpha, a, lda, b[offset(!transB, lo, ldb):], ldb, beta, c[lo:], ldc)
					}
				}()
			}
			wg.Wait()
			return
		}
	}
	sgemmSerial(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// offset is where row block lo of op(A) starts in A (or column block lo
// of op(B) in B, with trans negated): row lo of a stored matrix, or column
// lo when it is stored transposed.
func offset(trans bool, lo, ld int) int {
	if trans {
		return lo
	}
	return lo * ld
}

func sgemmSerial(kern kernelFunc, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	if beta != 1 {
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
	}
	if alpha == 0 || k == 0 {
		return
	}
	bufs := gemmPool.Get().(*gemmBufs)
	defer gemmPool.Put(bufs)
	var tile [mr * nr]float32
	for jc := 0; jc < n; jc += nc {
		nb := min(nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(bufs.b[:], transB, b, ldb, pc, jc, kb, nb)
			if !transA && alpha == 1 && panelsAHook != nil && panelsAHook(m, kb, 0, nb, a[pc:], lda, bufs.b[:], c[jc:], ldc, &tile) {
				continue
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				packA(bufs.a[:], transA, a, lda, ic, pc, mb, kb, alpha)
				multiplyPanels(kern, mb, kb, 0, nb, bufs.a[:], bufs.b[:], c[ic*ldc+jc:], ldc, &tile)
			}
		}
	}
}

// panelsHook, when set, computes a whole multiplyPanels call in one go and reports whether
// it did (false: the micro-kernel runs instead). The browser build sets it to the
// WebAssembly SIMD kernel (gemm_js.go); it is nil everywhere else.
var panelsHook func(mb, kb, j0, j1 int, pa, pb, c []float32, ldc int, tile *[mr * nr]float32) bool

// panelsAHook, when set, is panelsHook reading A unpacked (row-major, row stride lda, all m
// rows, α = 1, so packA would only copy it): the browser build skips packA that way.
var panelsAHook func(m, kb, j0, j1 int, a []float32, lda int, pb, c []float32, ldc int, tile *[mr * nr]float32) bool

// multiplyPanels adds the product of packed A (mb rows, kb deep) and the packed B panels of
// columns [j0, j1) into C, whose first row and column are those of the packed blocks.
func multiplyPanels(kern kernelFunc, mb, kb, j0, j1 int, pa, pb, c []float32, ldc int, tile *[mr * nr]float32) {
	if panelsHook != nil && panelsHook(mb, kb, j0, j1, pa, pb, c, ldc, tile) {
		return
	}
	for jr := j0; jr < j1; jr += nr {
		w := min(nr, j1-jr)
		bp := pb[jr*kb : (jr+nr)*kb]
		for ir := 0; ir < mb; ir += mr {
			h := min(mr, mb-ir)
			ap := pa[ir*kb : (ir+mr)*kb]
			off := ir*ldc + jr
			if h == mr && w == nr {
				kern(kb, ap, bp, c[off:off+(mr-1)*ldc+nr], ldc)
				continue
			}
			clear(tile[:])
			kern(kb, ap, bp, tile[:], nr)
			for i := 0; i < h; i++ {
				row := c[off+i*ldc : off+i*ldc+w]
				for j := range row {
					row[j] += tile[i*nr+j]
				}
			}
		}
	}
}

// packB packs op(B)[pc:pc+kb, jc:jc+nb] into micro-panels of nr columns,
// each stored k-major (nr consecutive values per k) and zero-padded.
func packB(dst []float32, transB bool, b []float32, ldb, pc, jc, kb, nb int) {
	for jp := 0; jp < nb; jp += nr {
		w := min(nr, nb-jp)
		panel := dst[jp*kb : jp*kb+kb*nr]
		if !transB {
			for p := 0; p < kb; p++ {
				src := b[(pc+p)*ldb+jc+jp : (pc+p)*ldb+jc+jp+w]
				d := panel[p*nr : p*nr+nr]
				copy(d, src)
				clear(d[w:])
			}
			continue
		}
		if w < nr {
			clear(panel)
		}
		j := 0
		for ; j+4 <= w; j += 4 {
			// Four rows of B at a time, so each k step writes four
			// adjacent values.
			r0 := (jc + jp + j) * ldb
			s0 := b[r0+pc : r0+pc+kb]
			s1 := b[r0+ldb+pc : r0+ldb+pc+kb]
			s2 := b[r0+2*ldb+pc : r0+2*ldb+pc+kb]
			s3 := b[r0+3*ldb+pc : r0+3*ldb+pc+kb]
			for p := range s0 {
				d := panel[p*nr+j : p*nr+j+4 : p*nr+j+4]
				d[0], d[1], d[2], d[3] = s0[p], s1[p], s2[p], s3[p]
			}
		}
		for ; j < w; j++ {
			src := b[(jc+jp+j)*ldb+pc : (jc+jp+j)*ldb+pc+kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
	}
}

// packA packs α·op(A)[ic:ic+mb, pc:pc+kb] into micro-panels of mr rows,
// each stored k-major (mr consecutive values per k) and zero-padded.
func packA(dst []float32, transA bool, a []float32, lda, ic, pc, mb, kb int, alpha float32) {
	if transA {
		// Row p of the stored A holds column p of op(A): walk it once,
		// dealing mr-wide pieces to the panels.
		if tail := mb % mr; tail != 0 {
			clear(dst[(mb-tail)*kb : (mb-tail)*kb+kb*mr])
		}
		for p := 0; p < kb; p++ {
			src := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mb]
			for ip := 0; ip < mb; ip += mr {
				h := min(mr, mb-ip)
				d := dst[ip*kb+p*mr : ip*kb+p*mr+h]
				for i, v := range src[ip : ip+h] {
					d[i] = alpha * v
				}
			}
		}
		return
	}
	for ip := 0; ip < mb; ip += mr {
		h := min(mr, mb-ip)
		panel := dst[ip*kb : ip*kb+kb*mr]
		if h < mr {
			clear(panel)
		}
		for i := 0; i < h; i++ {
			src := a[(ic+ip+i)*lda+pc : (ic+ip+i)*lda+pc+kb]
			for p, v := range src {
				panel[p*mr+i] = alpha * v
			}
		}
	}
}

// kernelGo is the portable micro-kernel: C[0:mr, 0:nr] (row stride ldc) +=
// Σ_p a[p, 0:mr]ᵀ·b[p, 0:nr] over k packed steps. It walks the tile in 2×4
// sub-tiles whose 8 accumulators and 6 operands stay in registers, which
// measured fastest of the shapes tried both on amd64 and on wasm.
func kernelGo(k int, a, b, c []float32, ldc int) {
	a = a[:k*mr]
	b = b[:k*nr]
	for i := 0; i < mr; i += 2 {
		for j := 0; j < nr; j += 4 {
			var c00, c01, c02, c03, c10, c11, c12, c13 float32
			for p := 0; p < k; p++ {
				ap := a[p*mr+i : p*mr+i+2 : p*mr+i+2]
				bp := b[p*nr+j : p*nr+j+4 : p*nr+j+4]
				b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
				a0, a1 := ap[0], ap[1]
				c00 += a0 * b0
				c01 += a0 * b1
				c02 += a0 * b2
				c03 += a0 * b3
				c10 += a1 * b0
				c11 += a1 * b1
				c12 += a1 * b2
				c13 += a1 * b3
			}
			r0 := c[i*ldc+j : i*ldc+j+4 : i*ldc+j+4]
			r1 := c[(i+1)*ldc+j : (i+1)*ldc+j+4 : (i+1)*ldc+j+4]
			r0[0] += c00
			r0[1] += c01
			r0[2] += c02
			r0[3] += c03
			r1[0] += c10
			r1[1] += c11
			r1[2] += c12
			r1[3] += c13
		}
	}
}
