// Command gemmsimd writes web/gemm.wasm: a small hand-assembled WebAssembly module whose one
// function, panels, is the browser build's SIMD GEMM kernel (128-bit wasm SIMD, f32x4). Go's
// wasm port emits no SIMD instructions, so the Go module calls this one through syscall/js
// once per block of packed panels (core/tensor/cpu/gemm_js.go); it imports the Go instance's
// linear memory (env.memory) and computes in place on the Go slices.
//
// panels(kb, mb, j0, j1, pa, pb, c, ldc, tile) is multiplyPanels of core/tensor/cpu/gemm.go:
// it adds the product of packed A (mb rows, kb ≥ 1 deep, micro-panels of mr = 6 rows, k-major)
// and the packed B micro-panels (nr = 16 columns, k-major) of columns [j0, j1) to C (row
// stride ldc floats). pa, pb, c and tile are byte addresses in the imported memory; tile is
// mr·nr floats of scratch for the edge tiles. Each 6×16 tile is computed as two 6×8 halves
// (12 f32x4 accumulators, two B vectors and one broadcast A value: 15 vector registers), the
// second half skipped when the tile is at most 8 columns wide. Every accumulator starts at
// zero and adds a·b (multiply, then add: no fused multiply-add) over k in order, then is
// added to C, exactly as kernelFast does, so the result is bit-identical to the pure-Go path.
//
// The module also exports panelsA (A read unpacked), sigmoid, tanh, gruRow (one GRU row step)
// and gruSeq (a whole GRU direction: every time step's hidden-to-hidden product through
// panelsA and row updates through gruRow, in one call); see their bodies below.
//
// Usage: go run ./wasm/gemmsimd -o web/gemm.wasm (./build.sh web runs it).
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
)

const (
	mr = 6  // rows of an A micro-panel (core/tensor/cpu/gemm.go)
	nr = 16 // columns of a B micro-panel
)

func main() {
	out := flag.String("o", "web/gemm.wasm", "output file")
	flag.Parse()
	if err := os.WriteFile(*out, Module(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gemmsimd:", err)
		os.Exit(1)
	}
}

// Module returns the bytes of the module.
func Module() []byte {
	var m bytes.Buffer
	m.Write([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}) // \0asm, version 1
	// Type section: (func (param i32 × 10)), (func (param i32 × 2)), (func (param i32 × 3)),
	// (func (param i32 × 5)), (func (param i32 × 14)).
	typ := []byte{0x05, 0x60, 0x0a}
	for range 10 {
		typ = append(typ, i32)
	}
	typ = append(typ, 0x00, 0x60, 0x02, i32, i32, 0x00, 0x60, 0x03, i32, i32, i32, 0x00, 0x60, 0x05, i32, i32, i32, i32, i32, 0x00)
	typ = append(typ, 0x60, gruSeqParams)
	for range gruSeqParams {
		typ = append(typ, i32)
	}
	typ = append(typ, 0x00)
	section(&m, 1, typ)
	// Import section: env.memory, at least one page, no maximum (Go's memory grows).
	imp := []byte{0x01}
	imp = append(imp, name("env")...)
	imp = append(imp, name("memory")...)
	imp = append(imp, 0x02, 0x00, 0x01)
	section(&m, 2, imp)
	section(&m, 3, []byte{0x06, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04}) // panels, panelsA, sigmoid, tanh, gruRow, gruSeq
	exp := []byte{0x06}
	for f, n := range []string{"panels", "panelsA", "sigmoid", "tanh", "gruRow", "gruSeq"} {
		exp = append(exp, name(n)...)
		exp = append(exp, 0x00, byte(f))
	}
	section(&m, 7, exp)
	code := []byte{0x06}
	for _, body := range [][]byte{panelsBody(false), panelsBody(true), sigmoidBody(), tanhBody(), gruRowBody(), gruSeqBody()} {
		code = append(code, uleb(uint64(len(body)))...)
		code = append(code, body...)
	}
	section(&m, 10, code)
	return m.Bytes()
}

// Value types.
const (
	i32  = 0x7f
	v128 = 0x7b
)

// Parameters and locals of panels and panelsA (lda: panelsA's row stride of A, in floats;
// panels ignores it).
const (
	kb, mb, j0, j1, pa, pb, c, ldc, tile, lda = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	// i32 locals; rowBase … rowBase+mr−1: the A rows of the current panel (panelsA)
	jr, ir, w, h, bp, ap, cp, ldc4, p, aptr, bptr, full, rp, i, j, off, rowBase = 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26
	nI32                                                                        = 16 + mr
	// v128 locals: acc[row][vec] = accBase + 2·row + vec, then b0, b1, a.
	accBase    = rowBase + mr
	b0, b1, av = accBase + 2*mr, accBase + 2*mr + 1, accBase + 2*mr + 2
	nV128      = 2*mr + 3
)

// asm is a function body under construction.
type asm struct{ b []byte }

func (a *asm) op(b ...byte)                { a.b = append(a.b, b...) }
func (a *asm) get(l int)                   { a.op(0x20); a.op(uleb(uint64(l))...) }
func (a *asm) set(l int)                   { a.op(0x21); a.op(uleb(uint64(l))...) }
func (a *asm) cst(v int32)                 { a.op(0x41); a.op(sleb(int64(v))...) }
func (a *asm) block()                      { a.op(0x02, 0x40) }
func (a *asm) loop()                       { a.op(0x03, 0x40) }
func (a *asm) if_()                        { a.op(0x04, 0x40) }
func (a *asm) else_()                      { a.op(0x05) }
func (a *asm) end()                        { a.op(0x0b) }
func (a *asm) br(depth int)                { a.op(0x0c, byte(depth)) }
func (a *asm) brIf(depth int)              { a.op(0x0d, byte(depth)) }
func (a *asm) add()                        { a.op(0x6a) }
func (a *asm) sub()                        { a.op(0x6b) }
func (a *asm) mul()                        { a.op(0x6c) }
func (a *asm) simd(code uint32)            { a.op(0xfd); a.op(uleb(uint64(code))...) }
func (a *asm) memarg(align, offset int)    { a.op(uleb(uint64(align))...); a.op(uleb(uint64(offset))...) }
func (a *asm) v128load(offset int)         { a.simd(0x00); a.memarg(2, offset) }
func (a *asm) v128store(offset int)        { a.simd(0x0b); a.memarg(2, offset) }
func (a *asm) load32splat(offset int)      { a.simd(0x09); a.memarg(2, offset) }
func (a *asm) f32x4add()                   { a.simd(0xe4) }
func (a *asm) f32x4mul()                   { a.simd(0xe6) }
func (a *asm) f32load(offset int)          { a.op(0x2a); a.memarg(2, offset) }
func (a *asm) f32store(offset int)         { a.op(0x38); a.memarg(2, offset) }
func (a *asm) f32add()                     { a.op(0x92) }
func (a *asm) v128zero()                   { a.simd(0x0c); a.op(make([]byte, 16)...) }
func (a *asm) addTo(l int, v int32)        { a.get(l); a.cst(v); a.add(); a.set(l) }
func (a *asm) cmp(l int, op byte, v int32) { a.get(l); a.cst(v); a.op(op) }

// Comparison opcodes (signed).
const (
	eq  = 0x46
	ne  = 0x47
	ltS = 0x48
	gtS = 0x4a
	geS = 0x4e
)

func panelsBody(direct bool) []byte {
	var a asm
	a.op(0x02, nI32, i32, nV128, v128) // two local groups

	a.get(ldc)
	a.cst(4)
	a.mul()
	a.set(ldc4)
	a.get(j0)
	a.set(jr)
	a.block() // over the B panels
	a.loop()
	a.get(jr)
	a.get(j1)
	a.op(geS)
	a.brIf(1)
	// w = min(nr, j1-jr)
	a.cst(nr)
	a.get(j1)
	a.get(jr)
	a.sub()
	a.op(0x22, w) // local.tee w
	a.get(w)
	a.cst(nr)
	a.op(gtS)
	a.op(0x1b) // select: nr if j1-jr > nr
	a.set(w)
	// bp = pb + jr·kb·4
	a.get(pb)
	a.get(jr)
	a.get(kb)
	a.mul()
	a.cst(4)
	a.mul()
	a.add()
	a.set(bp)
	a.cst(0)
	a.set(ir)
	a.block() // over the A panels
	a.loop()
	a.get(ir)
	a.get(mb)
	a.op(geS)
	a.brIf(1)
	// h = min(mr, mb-ir)
	a.cst(mr)
	a.get(mb)
	a.get(ir)
	a.sub()
	a.op(0x22, h)
	a.get(h)
	a.cst(mr)
	a.op(gtS)
	a.op(0x1b)
	a.set(h)
	// ap = pa + ir·kb·4; cp = c + (ir·ldc + jr)·4
	a.get(pa)
	a.get(ir)
	a.get(kb)
	a.mul()
	a.cst(4)
	a.mul()
	a.add()
	a.set(ap)
	a.get(c)
	a.get(ir)
	a.get(ldc)
	a.mul()
	a.get(jr)
	a.add()
	a.cst(4)
	a.mul()
	a.add()
	a.set(cp)
	// full = h == mr && w == nr
	a.cmp(h, eq, mr)
	a.cmp(w, eq, nr)
	a.op(0x71) // i32.and
	a.set(full)

	if direct {
		// Row r of the panel is row ir + min(r, h−1) of A (pa is A itself, row stride lda): an
		// edge panel reads its last row again instead of past the end of A (those rows of the
		// tile are not added to C).
		for r := range mr {
			a.get(pa)
			a.get(ir)
			a.cst(int32(r))
			a.get(h)
			a.cst(1)
			a.sub()
			a.cmp(h, gtS, int32(r))
			a.op(0x1b) // select
			a.add()
			a.get(lda)
			a.mul()
			a.cst(4)
			a.mul()
			a.add()
			a.set(rowBase + r)
		}
	}
	half(&a, 0, direct)
	a.cmp(w, gtS, nr/2)
	a.if_()
	half(&a, 1, direct)
	a.end()

	// Edge tile: C[0:h, 0:w] += tile.
	a.get(full)
	a.op(0x45) // i32.eqz
	a.if_()
	a.cst(0)
	a.set(i)
	a.loop() // rows
	a.cst(0)
	a.set(j)
	a.loop() // columns
	// addr = cp + i·ldc4 + j·4
	a.get(cp)
	a.get(i)
	a.get(ldc4)
	a.mul()
	a.add()
	a.get(j)
	a.cst(4)
	a.mul()
	a.add()
	a.set(rp)
	a.get(rp)
	a.get(rp)
	a.f32load(0)
	a.get(tile)
	a.get(i)
	a.cst(nr * 4)
	a.mul()
	a.add()
	a.get(j)
	a.cst(4)
	a.mul()
	a.add()
	a.f32load(0)
	a.f32add()
	a.f32store(0)
	a.addTo(j, 1)
	a.get(j)
	a.get(w)
	a.op(ltS)
	a.brIf(0)
	a.end()
	a.addTo(i, 1)
	a.get(i)
	a.get(h)
	a.op(ltS)
	a.brIf(0)
	a.end()
	a.end()

	a.addTo(ir, mr)
	a.br(0)
	a.end()
	a.end()
	a.addTo(jr, nr)
	a.br(0)
	a.end()
	a.end()
	a.end() // function
	return a.b
}

// half emits the 6×8 half hf (columns 8·hf … 8·hf+7) of the current tile: the k loop, then
// the accumulators added to C (full tile) or stored to the scratch tile (edge tile).
func half(a *asm, hf int, direct bool) {
	for l := accBase; l < accBase+2*mr; l++ {
		a.v128zero()
		a.set(l)
	}
	a.get(ap)
	a.set(aptr)
	a.cst(0)
	a.set(off)
	a.get(bp)
	a.set(bptr)
	a.get(kb)
	a.set(p)
	a.loop()
	a.get(bptr)
	a.v128load(hf * 32)
	a.set(b0)
	a.get(bptr)
	a.v128load(hf*32 + 16)
	a.set(b1)
	for r := 0; r < mr; r++ {
		if direct {
			a.get(rowBase + r)
			a.get(off)
			a.add()
			a.load32splat(0)
		} else {
			a.get(aptr)
			a.load32splat(r * 4)
		}
		a.set(av)
		for v, b := range []int{b0, b1} {
			acc := accBase + 2*r + v
			a.get(acc)
			a.get(av)
			a.get(b)
			a.f32x4mul()
			a.f32x4add()
			a.set(acc)
		}
	}
	if direct {
		a.addTo(off, 4)
	} else {
		a.addTo(aptr, mr*4)
	}
	a.addTo(bptr, nr*4)
	a.get(p)
	a.cst(1)
	a.sub()
	a.op(0x22, p)
	a.brIf(0)
	a.end()

	a.get(full)
	a.if_()
	a.get(cp)
	a.set(rp)
	for r := 0; r < mr; r++ {
		for v := 0; v < 2; v++ {
			off := hf*32 + v*16
			a.get(rp)
			a.get(rp)
			a.v128load(off)
			a.get(accBase + 2*r + v)
			a.f32x4add()
			a.v128store(off)
		}
		if r < mr-1 {
			a.get(rp)
			a.get(ldc4)
			a.add()
			a.set(rp)
		}
	}
	a.else_()
	for r := 0; r < mr; r++ {
		for v := 0; v < 2; v++ {
			a.get(tile)
			a.get(accBase + 2*r + v)
			a.v128store(r*nr*4 + hf*32 + v*16)
		}
	}
	a.end()
}

// sigmoid(x, n) sets x[i] = 1/(1 + e^−x[i]) for the n floats at byte address x, n a multiple
// of 4: sigmoidSlice of core/tensor/cpu/mathf.go, operation for operation.
func sigmoidBody() []byte {
	var a asm
	const x, n, end, v, e, t1, t2, t3, k = 0, 1, 2, 3, 4, 5, 6, 7, 8
	a.op(0x02, 1, i32, 6, v128)
	elementLoop(&a, n, end, x, func() {
		a.get(x)
		a.get(x)
		a.v128load(0)
		a.simd(0xe1) // f32x4.neg
		a.set(v)
		expf4(&a, v, e, t1, t2, t3, k)
		a.f32x4const(1)
		a.f32x4const(1)
		a.get(e)
		a.f32x4add()
		a.simd(0xe7) // f32x4.div
		a.v128store(0)
	}, []int{x})
	a.end()
	return a.b
}

// tanh(dst, src, n) sets dst[i] = 2/(1 + e^(−2·src[i])) − 1 for n floats (a multiple of 4):
// tanhSlice of core/tensor/cpu/mathf.go, operation for operation (dst may be src).
func tanhBody() []byte {
	var a asm
	const dst, src, n, end, v, e, t1, t2, t3, k = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	a.op(0x02, 1, i32, 6, v128)
	elementLoop(&a, n, end, src, func() {
		a.get(dst)
		a.f32x4const(-2)
		a.get(src)
		a.v128load(0)
		a.f32x4mul()
		a.set(v)
		expf4(&a, v, e, t1, t2, t3, k)
		a.f32x4const(2)
		a.f32x4const(1)
		a.get(e)
		a.f32x4add()
		a.simd(0xe7) // f32x4.div
		a.f32x4const(1)
		a.simd(0xe5) // f32x4.sub
		a.v128store(0)
	}, []int{dst, src})
	a.end()
	return a.b
}

// gruRow(row, hp, h, out, H) is one batch row of one GRU time step after the hidden-to-hidden
// product (the loop body of Backend.GRU in core/tensor/cpu/rnn.go, operation for operation;
// H a multiple of 4): row holds the input-side pre-activations r, z, n and the scratch hn,
// hprev (5H floats), hp the hidden-side ones (3H), h the state (H), updated in place and
// copied to out.
func gruRowBody() []byte {
	var a asm
	const row, hp, h, out, H = 0, 1, 2, 3, 4
	const cnt, end, x, y, z, q, v, e, t1, t2, t3, k, u = 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17
	a.op(0x02, 6, i32, 7, v128)
	at := func(dst, base, floats int) { // dst = base + floats·H·4
		a.get(base)
		a.get(H)
		a.cst(int32(4 * floats))
		a.mul()
		a.add()
		a.set(dst)
	}
	// hprev = h
	a.get(H)
	a.set(cnt)
	a.get(h)
	a.set(x)
	at(y, row, 4)
	elementLoop(&a, cnt, end, x, func() {
		a.get(y)
		a.get(x)
		a.v128load(0)
		a.v128store(0)
	}, []int{x, y})
	// r, z = σ(r + hp_r), σ(z + hp_z)
	a.get(H)
	a.cst(2)
	a.mul()
	a.set(cnt)
	a.get(row)
	a.set(x)
	a.get(hp)
	a.set(y)
	elementLoop(&a, cnt, end, x, func() {
		a.get(x)
		a.get(x)
		a.v128load(0)
		a.get(y)
		a.v128load(0)
		a.f32x4add()
		a.simd(0xe1) // f32x4.neg
		a.set(v)
		expf4(&a, v, e, t1, t2, t3, k)
		a.f32x4const(1)
		a.f32x4const(1)
		a.get(e)
		a.f32x4add()
		a.simd(0xe7)
		a.v128store(0)
	}, []int{x, y})
	// hn = hp_n; n = tanh(n + r·hn)
	a.get(H)
	a.set(cnt)
	a.get(row)
	a.set(x) // r
	at(y, hp, 2)
	at(z, row, 2) // n
	at(q, row, 3) // hn
	elementLoop(&a, cnt, end, x, func() {
		a.get(y)
		a.v128load(0)
		a.set(u)
		a.get(q)
		a.get(u)
		a.v128store(0)
		a.get(z)
		a.f32x4const(-2)
		a.get(z)
		a.v128load(0)
		a.get(x)
		a.v128load(0)
		a.get(u)
		a.f32x4mul()
		a.f32x4add()
		a.f32x4mul()
		a.set(v)
		expf4(&a, v, e, t1, t2, t3, k)
		a.f32x4const(2)
		a.f32x4const(1)
		a.get(e)
		a.f32x4add()
		a.simd(0xe7)
		a.f32x4const(1)
		a.simd(0xe5)
		a.v128store(0)
	}, []int{x, y, z, q})
	// h = (1 − z)·n + z·hprev; out = h
	a.get(H)
	a.set(cnt)
	a.get(h)
	a.set(x)
	at(y, row, 1) // z
	at(z, row, 2) // n
	at(q, row, 4) // hprev
	a.get(out)
	a.set(hp) // the out pointer (hp is not needed any more)
	elementLoop(&a, cnt, end, x, func() {
		a.f32x4const(1)
		a.get(y)
		a.v128load(0)
		a.simd(0xe5)
		a.get(z)
		a.v128load(0)
		a.f32x4mul()
		a.get(y)
		a.v128load(0)
		a.get(q)
		a.v128load(0)
		a.f32x4mul()
		a.f32x4add()
		a.set(u)
		a.get(x)
		a.get(u)
		a.v128store(0)
		a.get(hp)
		a.get(u)
		a.v128store(0)
	}, []int{x, y, z, q, hp})
	a.end()
	return a.b
}

// Function indices (the order of the function and code sections).
const (
	fnPanelsA = 1
	fnGRURow  = 4
)

// gruSeqParams is the number of gruSeq's parameters.
const gruSeqParams = 14

// gruSeqBody is gruSeq(T, B, H, work, ld, out, outW, lengths, reverse, pb, bhh, h, hp, tile): a
// whole direction of Backend.GRU after the input projection (core/tensor/cpu/rnn.go), all T
// steps in one call instead of 1 + B calls per step. Step s processes t = T−1−s when reverse
// ≠ 0, else t = s: hp[b] = bhh (3H floats) for every batch row b; hp += h·W_hhᵀ through
// panelsA (kb = H, B rows, columns [0, 3H), A = h with stride H, the prepacked panels pb,
// ldc = 3H); then for each b, when lengths is 0 or t < lengths[b] (int32s), gruRow(work row
// (t·B+b), hp[b], h[b], out row (t·B+b), H), else the work row (ld floats) and the out row
// (H floats) are zeroed and h[b] is kept. work and out are byte addresses of row 0 (out
// already offset to its column), ld and outW row strides in floats. It calls the same
// panelsA and gruRow functions in the same order as the Go loop calls them, so the results
// are those of the step-by-step path, bit for bit.
func gruSeqBody() []byte {
	var a asm
	const (
		T, B, H, work, ld, out, outW, lengths, reverse, pb, bhh, h, hp, tile = 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13
		s, t, b, idx, rowp, outp, g4                                         = 14, 15, 16, 17, 18, 19, 20
	)
	a.op(0x01, 7, i32)
	// g4 = 3H·4 bytes: one hp row.
	a.get(H)
	a.cst(12)
	a.mul()
	a.set(g4)
	a.cst(0)
	a.set(s)
	a.block() // over the steps
	a.loop()
	a.get(s)
	a.get(T)
	a.op(geS)
	a.brIf(1)
	// t = reverse ? T-1-s : s
	a.get(T)
	a.cst(1)
	a.sub()
	a.get(s)
	a.sub()
	a.get(s)
	a.get(reverse)
	a.op(0x1b) // select
	a.set(t)
	// hp rows = bhh
	a.cst(0)
	a.set(b)
	a.block()
	a.loop()
	a.get(b)
	a.get(B)
	a.op(geS)
	a.brIf(1)
	a.get(hp)
	a.get(b)
	a.get(g4)
	a.mul()
	a.add()
	a.get(bhh)
	a.get(g4)
	a.op(0xfc, 10, 0x00, 0x00) // memory.copy
	a.addTo(b, 1)
	a.br(0)
	a.end()
	a.end()
	// hp += h·W_hhᵀ: panelsA(kb=H, m=B, j0=0, j1=3H, a=h, pb, c=hp, ldc=3H, tile, lda=H)
	a.get(H)
	a.get(B)
	a.cst(0)
	a.get(H)
	a.cst(3)
	a.mul()
	a.get(h)
	a.get(pb)
	a.get(hp)
	a.get(H)
	a.cst(3)
	a.mul()
	a.get(tile)
	a.get(H)
	a.op(0x10, fnPanelsA) // call
	// the gate update of every batch row
	a.cst(0)
	a.set(b)
	a.block()
	a.loop()
	a.get(b)
	a.get(B)
	a.op(geS)
	a.brIf(1)
	a.get(t)
	a.get(B)
	a.mul()
	a.get(b)
	a.add()
	a.set(idx)
	a.get(work)
	a.get(idx)
	a.get(ld)
	a.mul()
	a.cst(4)
	a.mul()
	a.add()
	a.set(rowp)
	a.get(out)
	a.get(idx)
	a.get(outW)
	a.mul()
	a.cst(4)
	a.mul()
	a.add()
	a.set(outp)
	// active = lengths == 0 || t < lengths[b]
	a.get(lengths)
	a.op(0x45) // i32.eqz
	a.if_()
	a.cst(1)
	a.set(idx) // idx is free again: reuse it as the flag
	a.else_()
	a.get(t)
	a.get(lengths)
	a.get(b)
	a.cst(4)
	a.mul()
	a.add()
	a.op(0x28) // i32.load
	a.memarg(2, 0)
	a.op(ltS)
	a.set(idx)
	a.end()
	a.get(idx)
	a.if_()
	a.get(rowp)
	a.get(hp)
	a.get(b)
	a.get(g4)
	a.mul()
	a.add()
	a.get(h)
	a.get(b)
	a.get(H)
	a.mul()
	a.cst(4)
	a.mul()
	a.add()
	a.get(outp)
	a.get(H)
	a.op(0x10, fnGRURow)
	a.else_()
	a.get(rowp)
	a.cst(0)
	a.get(ld)
	a.cst(4)
	a.mul()
	a.op(0xfc, 11, 0x00) // memory.fill
	a.get(outp)
	a.cst(0)
	a.get(H)
	a.cst(4)
	a.mul()
	a.op(0xfc, 11, 0x00)
	a.end()
	a.addTo(b, 1)
	a.br(0)
	a.end()
	a.end()
	a.addTo(s, 1)
	a.br(0)
	a.end()
	a.end()
	a.end()
	return a.b
}

// elementLoop emits: end = base + 4·n; while base < end { body; every pointer in ptrs += 16 }.
func elementLoop(a *asm, n, end, base int, body func(), ptrs []int) {
	a.get(base)
	a.get(n)
	a.cst(4)
	a.mul()
	a.add()
	a.set(end)
	a.block()
	a.loop()
	a.get(base)
	a.get(end)
	a.op(0x4f) // i32.ge_u
	a.brIf(1)
	body()
	for _, p := range ptrs {
		a.addTo(p, 16)
	}
	a.br(0)
	a.end()
	a.end()
}

// expf4 sets local e to e^v lane by lane, exactly as expf in core/tensor/cpu/mathf.go (Cephes'
// polynomial, every operation rounded to float32, no fused multiply-add), with t1–t3 and k
// as scratch.
func expf4(a *asm, v, e, t1, t2, t3, k int) {
	const (
		log2e  = 1.44269504088896341
		ln2Hi  = 0.693359375
		ln2Lo  = -2.12194440e-4
		expMax = 88.72283905206835
		expMin = -103.972084
	)
	// t1 = n = floor(log2e·v + 0.5)
	a.f32x4const(log2e)
	a.get(v)
	a.f32x4mul()
	a.f32x4const(0.5)
	a.f32x4add()
	a.simd(0x68) // f32x4.floor
	a.set(t1)
	// t2 = r = v − n·ln2Hi − n·ln2Lo
	a.get(v)
	a.get(t1)
	a.f32x4const(ln2Hi)
	a.f32x4mul()
	a.simd(0xe5)
	a.get(t1)
	a.f32x4const(ln2Lo)
	a.f32x4mul()
	a.simd(0xe5)
	a.set(t2)
	// e = p(r)·r·r + r + 1
	a.f32x4const(1.9875691500e-4)
	for _, c := range []float32{1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1} {
		a.get(t2)
		a.f32x4mul()
		a.f32x4const(c)
		a.f32x4add()
	}
	a.get(t2)
	a.f32x4mul()
	a.get(t2)
	a.f32x4mul()
	a.get(t2)
	a.f32x4add()
	a.f32x4const(1)
	a.f32x4add()
	a.set(e)
	// k = int32(n); scale by 2^k: e·2^k, or (e·2^(k+126))·2^−126 below −126, or (e·2)·2^(k−1)
	// above 127, selected lane by lane.
	a.get(t1)
	a.simd(0xf8) // i32x4.trunc_sat_f32x4_s
	a.set(k)
	scale := func(bias int32) { // 2^(k+bias−127) as float bits: (k + bias) << 23
		a.get(k)
		a.i32x4const(bias)
		a.simd(0xae) // i32x4.add
		a.cst(23)
		a.simd(0xab) // i32x4.shl
	}
	a.get(e)
	scale(127)
	a.f32x4mul()
	a.set(t3) // normal
	a.get(e)
	scale(126 + 127)
	a.f32x4mul()
	a.i32x4const(1 << 23)
	a.f32x4mul() // k < −126
	a.get(t3)
	a.get(k)
	a.i32x4const(-126)
	a.simd(0x39) // i32x4.lt_s
	a.simd(0x52) // v128.bitselect: the first operand where the mask is set
	a.set(t3)
	a.get(e)
	a.f32x4const(2)
	a.f32x4mul()
	scale(-1 + 127)
	a.f32x4mul() // k > 127
	a.get(t3)
	a.get(k)
	a.i32x4const(127)
	a.simd(0x3b) // i32x4.gt_s
	a.simd(0x52)
	a.set(e)
	// Out of range and NaN, as expf's first checks: +Inf above expMax, 0 below expMin, x if NaN.
	a.f32x4const(float32(math.Inf(1)))
	a.get(e)
	a.get(v)
	a.f32x4const(expMax)
	a.simd(0x44) // f32x4.gt
	a.simd(0x52)
	a.set(e)
	a.f32x4const(0)
	a.get(e)
	a.get(v)
	a.f32x4const(expMin)
	a.simd(0x43) // f32x4.lt
	a.simd(0x52)
	a.set(e)
	a.get(v)
	a.get(e)
	a.get(v)
	a.get(v)
	a.simd(0x42) // f32x4.ne
	a.simd(0x52)
	a.set(e)
}

func (a *asm) f32x4const(v float32) {
	a.simd(0x0c)
	for range 4 {
		a.op(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))...)
	}
}

func (a *asm) i32x4const(v int32) {
	a.simd(0x0c)
	for range 4 {
		a.op(binary.LittleEndian.AppendUint32(nil, uint32(v))...)
	}
}

func section(m *bytes.Buffer, id byte, payload []byte) {
	m.WriteByte(id)
	m.Write(uleb(uint64(len(payload))))
	m.Write(payload)
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, b|0x80)
			continue
		}
		return append(out, b)
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
