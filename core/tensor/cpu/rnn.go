package cpu

import "github.com/bingli/bingli/core/tensor"

// rnnPass holds the unwrapped slices and sizes of one recurrent call.
type rnnPass struct {
	tensor.RNNDims
	gates, width int // gate blocks and Work row width, in multiples of H
	x, out, work []float32
	xw           []float32 // the precomputed input projection (RNNSequence.XW), or nil
	wih, whh     []float32
	bih, bhh     []float32
	lengths      []int32
	reverse      bool
	outW, outCol int
	// whhT and whhN are WHHᵀ and WHH prepacked for the per-step products of the forward
	// (h·WHHᵀ) and the backward (dG·WHH); nil when too wide to prepack.
	whhT, whhN *packedB
	// wihT is WIHᵀ prepacked for the input projection when WIH is frozen (inference), else nil.
	wihT *packedB
}

func (c *Backend) rnnPass(op string, gates int, w tensor.RNNWeights, seq *tensor.RNNSequence, d tensor.RNNDims) (*rnnPass, error) {
	if err := own(op, seq.X, seq.XW, seq.Out, seq.Work, seq.H0, seq.C0, seq.HT, seq.CT, w.WIH, w.WHH, w.BIH, w.BHH); err != nil {
		return nil, err
	}
	width := tensor.GRUWorkWidth
	if gates == 4 {
		width = tensor.LSTMWorkWidth
	}
	g := gates * d.H
	p := &rnnPass{
		RNNDims: d, gates: gates, width: width,
		x: f32(seq.X), xw: f32(seq.XW), out: f32(seq.Out), work: f32(seq.Work),
		wih: f32(w.WIH), whh: f32(w.WHH), bih: f32(w.BIH), bhh: f32(w.BHH),
		lengths: seq.Lengths, reverse: seq.Reverse,
		outW: seq.Out.Dim(2), outCol: seq.OutCol,
		// Frozen weights (Backend.Freeze) come packed from their cache; nil otherwise.
		whhT: packedWeight(w.WHH, true, d.H, d.H, g),
	}
	if p.xw == nil {
		p.wihT = packedWeight(w.WIH, true, d.In, d.In, g)
	}
	return p, nil
}

// time returns the position processed at step s.
func (p *rnnPass) time(s int) int {
	if p.reverse {
		return p.T - 1 - s
	}
	return s
}

// active reports whether position t of sequence b is valid.
func (p *rnnPass) active(t, b int) bool {
	return p.lengths == nil || t < int(p.lengths[b])
}

// inputProjection writes X·WIHᵀ + BIH into the first gates·H columns of
// every Work row.
// The rows start as BIH and the product is added to them (one pass over the rows instead of
// clearing them and adding the bias after), through the cached panels of a frozen WIH when
// there are some.
func (c *Backend) inputProjection(p *rnnPass) {
	g, ld := p.gates*p.H, p.width*p.H
	if p.xw != nil { // precomputed (RNNSequence.XW)
		for r := range p.T * p.B {
			copy(p.work[r*ld:r*ld+g], p.xw[r*g:(r+1)*g])
		}
		return
	}
	for r := range p.T * p.B {
		copy(p.work[r*ld:r*ld+g], p.bih)
	}
	if p.wihT != nil {
		sgemmPacked(defaultKernel, c.threads, p.T*p.B, 1, p.x, p.In, p.wihT, 1, p.work, ld)
		return
	}
	sgemm(defaultKernel, c.threads, false, true, p.T*p.B, g, p.In, 1, p.x, p.In, p.wih, p.In, 1, p.work, ld)
}

// hiddenProjection sets hp = h·WHHᵀ + BHH for the [B, H] state h.
func (c *Backend) hiddenProjection(p *rnnPass, hp, h []float32) {
	g := p.gates * p.H
	for b := range p.B {
		copy(hp[b*g:(b+1)*g], p.bhh)
	}
	if p.whhT == nil {
		p.whhT = prepackB(true, p.whh, p.H, p.H, g)
	}
	c.stepGEMM(p.whhT, true, p.B, g, p.H, h, p.H, p.whh, p.H, hp, g)
}

// hiddenBackward accumulates dh += dG·WHH for the step's gate gradients dG [B, gates·H].
func (c *Backend) hiddenBackward(p *rnnPass, dh, dg []float32) {
	G := p.gates * p.H
	if p.whhN == nil {
		p.whhN = prepackB(false, p.whh, p.H, G, p.H)
	}
	c.stepGEMM(p.whhN, false, p.B, p.H, G, dg, G, p.whh, p.H, dh, p.H)
}

// initState returns a [B, H] state copied from s, or zeros for nil.
func initState(s *tensor.Tensor, n int) []float32 {
	h := make([]float32, n)
	copy(h, f32(s))
	return h
}

// gateGrain is the fewest batch rows worth a goroutine in the gate loops
// (about a thousand gate elements, each a few transcendental calls).
func gateGrain(h int) int { return max(1, 1024/max(h, 1)) }

// GRU implements tensor.Recurrent. Work row layout per (t, b):
// [r z n hn hprev], hn = W_hn h + b_hn.
// gruRowHook, when set, computes one batch row of a GRU time step after the hidden-to-hidden
// product (the loop body below: row holds r, z, n, hn, hprev, 5H floats; hp the hidden-side
// pre-activations, 3H; h the state, updated; out its copy) with the same operations, and
// reports whether it did. The browser build sets it to a WebAssembly SIMD kernel
// (gemm_js.go); nil everywhere else.
var gruRowHook func(row, hp, h, out []float32) bool

// gruSeqHook, when set, runs all the time steps of a GRU direction after the input projection
// (the step loop of GRU below, with the hidden-to-hidden product through the prepacked
// p.whhT: hp and h are the loop's [B, 3H] and [B, H] buffers) in one call, with the same
// operations in the same order, and reports whether it did (false: the loop runs). The
// browser build sets it to gemm.wasm's gruSeq (gemm_js.go): one crossing into JavaScript per
// direction instead of 1 + B per time step. nil everywhere else.
var gruSeqHook func(p *rnnPass, h, hp []float32) bool

func (c *Backend) GRU(w tensor.RNNWeights, seq *tensor.RNNSequence) error {
	const op = "GRU"
	d, err := tensor.CheckRNN(op, 3, w, seq)
	if err != nil {
		return err
	}
	p, err := c.rnnPass(op, 3, w, seq, d)
	if err != nil {
		return err
	}
	H, ld := p.H, p.width*p.H
	c.inputProjection(p)
	h := initState(seq.H0, p.B*H)
	hp := make([]float32, p.B*3*H)
	if gruSeqHook != nil {
		if p.whhT == nil {
			p.whhT = prepackB(true, p.whh, p.H, p.H, 3*H)
		}
		if gruSeqHook(p, h, hp) {
			copy(f32(seq.HT), h)
			return nil
		}
	}
	for s := range p.T {
		t := p.time(s)
		c.hiddenProjection(p, hp, h)
		c.parallel(p.B, gateGrain(H), func(lo, hi int) {
			for b := lo; b < hi; b++ {
				row := p.work[(t*p.B+b)*ld : (t*p.B+b+1)*ld]
				out := p.out[(t*p.B+b)*p.outW+p.outCol : (t*p.B+b)*p.outW+p.outCol+H]
				if !p.active(t, b) {
					clear(row)
					clear(out)
					continue
				}
				hb, hpb := h[b*H:(b+1)*H], hp[b*3*H:(b+1)*3*H]
				if gruRowHook != nil && gruRowHook(row[:5*H], hpb, hb, out) {
					continue
				}
				r, z, n, hn, hprev := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:4*H], row[4*H:5*H]
				copy(hprev, hb)
				rz := row[:2*H]
				for j := range rz {
					rz[j] += hpb[j]
				}
				sigmoidSlice(rz)
				copy(hn, hpb[2*H:3*H])
				for j := range H {
					n[j] += r[j] * hn[j]
				}
				tanhSlice(n, n)
				for j := range H {
					hb[j] = (1-z[j])*n[j] + z[j]*hprev[j]
				}
				copy(out, hb)
			}
		})
	}
	copy(f32(seq.HT), h)
	return nil
}

// GRUBackward implements tensor.Recurrent.
func (c *Backend) GRUBackward(w tensor.RNNWeights, seq *tensor.RNNSequence, g *tensor.RNNGrads) error {
	const op = "GRUBackward"
	d, err := tensor.CheckRNNBackward(op, 3, w, seq, g)
	if err != nil {
		return err
	}
	fwd := *seq
	fwd.Out = g.DOut
	p, err := c.rnnPass(op, 3, w, &fwd, d)
	if err != nil {
		return err
	}
	if err := own(op, g.DX, g.DHT, g.DH0, g.DW.WIH, g.DW.WHH, g.DW.BIH, g.DW.BHH); err != nil {
		return err
	}
	H, ld, G := p.H, p.width*p.H, 3*p.H
	dout := f32(g.DOut)
	dh := initState(g.DHT, p.B*H)
	// Pre-activation gradients of every step, input side and hidden side
	// (they differ in the n gate); rows of padded positions stay zero.
	dgx := make([]float32, p.T*p.B*G)
	dgh := make([]float32, p.T*p.B*G)
	for s := p.T - 1; s >= 0; s-- {
		t := p.time(s)
		step := dgh[t*p.B*G : (t+1)*p.B*G]
		for b := range p.B {
			if !p.active(t, b) {
				continue
			}
			ghb := step[b*G : (b+1)*G]
			row := p.work[(t*p.B+b)*ld : (t*p.B+b+1)*ld]
			r, z, n, hn, hprev := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:4*H], row[4*H:5*H]
			dhb := dh[b*H : (b+1)*H]
			axpy(dhb, dout[(t*p.B+b)*p.outW+p.outCol:(t*p.B+b)*p.outW+p.outCol+H], 1)
			gxb := dgx[(t*p.B+b)*G : (t*p.B+b+1)*G]
			for j := range H {
				dn := dhb[j] * (1 - z[j])
				dz := dhb[j] * (hprev[j] - n[j])
				dan := dn * (1 - n[j]*n[j])
				dar := dan * hn[j] * r[j] * (1 - r[j])
				daz := dz * z[j] * (1 - z[j])
				gxb[j], gxb[H+j], gxb[2*H+j] = dar, daz, dan
				ghb[j], ghb[H+j], ghb[2*H+j] = dar, daz, dan*r[j]
				dhb[j] *= z[j]
			}
		}
		// dh += dGh·WHH; inactive rows have zero dGh, so their dh passes
		// through unchanged.
		c.hiddenBackward(p, dh, step)
	}
	c.rnnWeightBackward(p, g, dgh, 4*H)
	c.rnnInputBackward(p, g, dgx)
	if g.DH0 != nil {
		axpy(f32(g.DH0), dh, 1)
	}
	return nil
}

// rnnWeightBackward accumulates dWHH += dGhᵀ·Hprev and dBHH += Σ dGh over
// all steps in one product, where dgh [T·B, G·H] holds the hidden-side
// pre-activation gradients and each Work row stores hprev at column
// hprevCol (zero rows at padded positions contribute nothing).
func (c *Backend) rnnWeightBackward(p *rnnPass, g *tensor.RNNGrads, dgh []float32, hprevCol int) {
	G, ld := p.gates*p.H, p.width*p.H
	if p.T*p.B == 0 {
		return
	}
	sgemm(defaultKernel, c.threads, true, false, G, p.H, p.T*p.B, 1, dgh, G, p.work[hprevCol:], ld, 1, f32(g.DW.WHH), p.H)
	sumRows(f32(g.DW.BHH), dgh, p.T*p.B, G)
}

// rnnInputBackward accumulates DX, dWIH and dBIH from the input-side
// pre-activation gradients dgx [T·B, G·H].
func (c *Backend) rnnInputBackward(p *rnnPass, g *tensor.RNNGrads, dgx []float32) {
	G := p.gates * p.H
	sgemm(defaultKernel, c.threads, false, false, p.T*p.B, p.In, G, 1, dgx, G, p.wih, p.In, 1, f32(g.DX), p.In)
	sgemm(defaultKernel, c.threads, true, false, G, p.In, p.T*p.B, 1, dgx, G, p.x, p.In, 1, f32(g.DW.WIH), p.In)
	sumRows(f32(g.DW.BIH), dgx, p.T*p.B, G)
}

// LSTM implements tensor.Recurrent. Work row layout per (t, b):
// [i f g o c cprev hprev] with the gates after their nonlinearities.
func (c *Backend) LSTM(w tensor.RNNWeights, seq *tensor.RNNSequence) error {
	const op = "LSTM"
	d, err := tensor.CheckRNN(op, 4, w, seq)
	if err != nil {
		return err
	}
	p, err := c.rnnPass(op, 4, w, seq, d)
	if err != nil {
		return err
	}
	H, ld := p.H, p.width*p.H
	c.inputProjection(p)
	h := initState(seq.H0, p.B*H)
	cs := initState(seq.C0, p.B*H)
	hp := make([]float32, p.B*4*H)
	for s := range p.T {
		t := p.time(s)
		c.hiddenProjection(p, hp, h)
		c.parallel(p.B, gateGrain(H), func(lo, hi int) {
			for b := lo; b < hi; b++ {
				row := p.work[(t*p.B+b)*ld : (t*p.B+b+1)*ld]
				out := p.out[(t*p.B+b)*p.outW+p.outCol : (t*p.B+b)*p.outW+p.outCol+H]
				if !p.active(t, b) {
					clear(row)
					clear(out)
					continue
				}
				hb, cb, hpb := h[b*H:(b+1)*H], cs[b*H:(b+1)*H], hp[b*4*H:(b+1)*4*H]
				ig, fg, gg, og := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:4*H]
				cc, cprev, hprev := row[4*H:5*H], row[5*H:6*H], row[6*H:7*H]
				copy(cprev, cb)
				copy(hprev, hb)
				gates := row[:4*H]
				for j := range gates {
					gates[j] += hpb[j]
				}
				sigmoidSlice(row[:2*H])
				tanhSlice(gg, gg)
				sigmoidSlice(og)
				for j := range H {
					cc[j] = fg[j]*cprev[j] + ig[j]*gg[j]
				}
				copy(cb, cc)
				tanhSlice(hb, cc)
				for j := range H {
					hb[j] *= og[j]
				}
				copy(out, hb)
			}
		})
	}
	copy(f32(seq.HT), h)
	copy(f32(seq.CT), cs)
	return nil
}

// LSTMBackward implements tensor.Recurrent.
func (c *Backend) LSTMBackward(w tensor.RNNWeights, seq *tensor.RNNSequence, g *tensor.RNNGrads) error {
	const op = "LSTMBackward"
	d, err := tensor.CheckRNNBackward(op, 4, w, seq, g)
	if err != nil {
		return err
	}
	fwd := *seq
	fwd.Out = g.DOut
	p, err := c.rnnPass(op, 4, w, &fwd, d)
	if err != nil {
		return err
	}
	if err := own(op, g.DX, g.DHT, g.DCT, g.DH0, g.DC0, g.DW.WIH, g.DW.WHH, g.DW.BIH, g.DW.BHH); err != nil {
		return err
	}
	H, ld, G := p.H, p.width*p.H, 4*p.H
	dout := f32(g.DOut)
	dh := initState(g.DHT, p.B*H)
	dc := initState(g.DCT, p.B*H)
	// Pre-activation gradients of every step (the same on the input and
	// hidden sides); rows of padded positions stay zero.
	dg := make([]float32, p.T*p.B*G)
	for s := p.T - 1; s >= 0; s-- {
		t := p.time(s)
		step := dg[t*p.B*G : (t+1)*p.B*G]
		for b := range p.B {
			if !p.active(t, b) {
				continue
			}
			row := p.work[(t*p.B+b)*ld : (t*p.B+b+1)*ld]
			ig, fg, gg, og := row[:H], row[H:2*H], row[2*H:3*H], row[3*H:4*H]
			cc, cprev := row[4*H:5*H], row[5*H:6*H]
			dhb, dcb := dh[b*H:(b+1)*H], dc[b*H:(b+1)*H]
			axpy(dhb, dout[(t*p.B+b)*p.outW+p.outCol:(t*p.B+b)*p.outW+p.outCol+H], 1)
			gb := step[b*G : (b+1)*G]
			for j := range H {
				tc := tanhf(cc[j])
				do := dhb[j] * tc
				dcj := dcb[j] + dhb[j]*og[j]*(1-tc*tc)
				gb[j] = dcj * gg[j] * ig[j] * (1 - ig[j])
				gb[H+j] = dcj * cprev[j] * fg[j] * (1 - fg[j])
				gb[2*H+j] = dcj * ig[j] * (1 - gg[j]*gg[j])
				gb[3*H+j] = do * og[j] * (1 - og[j])
				dcb[j] = dcj * fg[j]
				dhb[j] = 0
			}
		}
		c.hiddenBackward(p, dh, step)
	}
	c.rnnWeightBackward(p, g, dg, 6*H)
	c.rnnInputBackward(p, g, dg)
	if g.DH0 != nil {
		axpy(f32(g.DH0), dh, 1)
	}
	if g.DC0 != nil {
		axpy(f32(g.DC0), dc, 1)
	}
	return nil
}
