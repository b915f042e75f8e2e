package backendtest

import (
	"errors"
	"math"

	"github.com/bingli/bingli/core/tensor"
)

func sigm(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// rnnRef holds the float64 inputs of a recurrent reference pass.
type rnnRef struct {
	T, B, In, H, gates int
	x, h0, c0          []float64
	wih, whh, bih, bhh []float64
	lengths            []int32
	reverse            bool
}

// run returns the outputs [T, B, H] and the final states of a GRU (gates
// 3) or LSTM (gates 4) in float64.
func (r *rnnRef) run() (out, hT, cT []float64) {
	H, G := r.H, r.gates*r.H
	out = make([]float64, r.T*r.B*H)
	hT = append([]float64(nil), r.h0...)
	cT = make([]float64, r.B*H)
	copy(cT, r.c0)
	pre := make([]float64, G)
	for s := range r.T {
		t := s
		if r.reverse {
			t = r.T - 1 - s
		}
		for b := range r.B {
			if r.lengths != nil && t >= int(r.lengths[b]) {
				continue
			}
			x := r.x[(t*r.B+b)*r.In : (t*r.B+b+1)*r.In]
			h, c := hT[b*H:(b+1)*H], cT[b*H:(b+1)*H]
			hh := make([]float64, G)
			for g := range G {
				pre[g] = r.bih[g]
				for i := range r.In {
					pre[g] += r.wih[g*r.In+i] * x[i]
				}
				hh[g] = r.bhh[g]
				for j := range H {
					hh[g] += r.whh[g*H+j] * h[j]
				}
			}
			for j := range H {
				if r.gates == 3 {
					rg := sigm(pre[j] + hh[j])
					z := sigm(pre[H+j] + hh[H+j])
					n := math.Tanh(pre[2*H+j] + rg*hh[2*H+j])
					h[j] = (1-z)*n + z*h[j]
					continue
				}
				i := sigm(pre[j] + hh[j])
				f := sigm(pre[H+j] + hh[H+j])
				g := math.Tanh(pre[2*H+j] + hh[2*H+j])
				o := sigm(pre[3*H+j] + hh[3*H+j])
				c[j] = f*c[j] + i*g
				h[j] = o * math.Tanh(c[j])
			}
			copy(out[(t*r.B+b)*H:(t*r.B+b+1)*H], h)
		}
	}
	return out, hT, cT
}

func testRecurrent(s *suite) {
	for _, lstm := range []bool{false, true} {
		for _, tc := range []struct {
			T, B, In, H int
			lengths     []int32
		}{
			{1, 1, 1, 1, nil},
			{4, 3, 3, 4, []int32{4, 2, 0}},
			{5, 2, 2, 3, []int32{1, 5}},
		} {
			for _, reverse := range []bool{false, true} {
				kind := "GRU"
				if lstm {
					kind = "LSTM"
				}
				s.run(name("%s/T=%d,B=%d,In=%d,H=%d,lengths=%v,reverse=%v", kind, tc.T, tc.B, tc.In, tc.H, tc.lengths, reverse), func(s *suite) {
					s.checkRNN(lstm, tc.T, tc.B, tc.In, tc.H, tc.lengths, reverse)
				})
			}
		}
	}
}

// checkRNN runs one direction forward and backward and checks both.
func (s *suite) checkRNN(lstm bool, T, B, In, H int, lengths []int32, reverse bool) {
	b := s.b
	gates, width := 3, tensor.GRUWorkWidth
	if lstm {
		gates, width = 4, tensor.LSTMWorkWidth
	}
	G := gates * H
	const col, extra = 2, 3 // Out holds H+extra columns; ours start at col
	W := H + extra
	ref := &rnnRef{T: T, B: B, In: In, H: H, gates: gates, lengths: lengths, reverse: reverse}
	x, xv := s.rand(T, B, In)
	wih, wihv := s.rand(G, In)
	whh, whhv := s.rand(G, H)
	bih, bihv := s.rand(G)
	bhh, bhhv := s.rand(G)
	h0, h0v := s.rand(B, H)
	ref.x, ref.wih, ref.whh, ref.bih, ref.bhh, ref.h0 = xv, wihv, whhv, bihv, bhhv, h0v
	w := tensor.RNNWeights{WIH: wih, WHH: whh, BIH: bih, BHH: bhh}
	out, outv := s.rand(T, B, W)
	seq := &tensor.RNNSequence{
		X: x, Lengths: lengths, Reverse: reverse, H0: h0,
		Out: out, OutCol: col, HT: s.zeros(B, H), Work: s.zeros(T, B, width*H),
	}
	var c0 *tensor.Tensor
	if lstm {
		c0, ref.c0 = s.rand(B, H)
		seq.C0, seq.CT = c0, s.zeros(B, H)
		s.ok(b.LSTM(w, seq))
	} else {
		s.ok(b.GRU(w, seq))
	}
	wantOut, wantH, wantC := ref.run()
	for i := range T * B {
		copy(outv[i*W+col:i*W+col+H], wantOut[i*H:(i+1)*H])
	}
	s.nearTensor("Out", out, outv, transcendent)
	s.nearTensor("HT", seq.HT, wantH, transcendent)
	if lstm {
		s.nearTensor("CT", seq.CT, wantC, transcendent)
	}
	s.checkRNNProjected(lstm, w, seq, xv, wihv, bihv, outv, wantH, wantC)

	dout, doutv := s.rand(T, B, W)
	wOut := make([]float64, T*B*H)
	for i := range T * B {
		copy(wOut[i*H:(i+1)*H], doutv[i*W+col:i*W+col+H])
	}
	dht, wH := s.rand(B, H)
	g := &tensor.RNNGrads{DOut: dout, DOutCol: col, DHT: dht}
	dx, dh0 := s.grad(T, B, In), s.grad(B, H)
	dwih, dwhh, dbih, dbhh := s.grad(G, In), s.grad(G, H), s.grad(G), s.grad(G)
	g.DX, g.DH0 = dx.t, dh0.t
	g.DW = tensor.RNNWeights{WIH: dwih.t, WHH: dwhh.t, BIH: dbih.t, BHH: dbhh.t}
	var wC []float64
	var dc0 accum
	seqB := *seq
	seqB.Out = nil // the backward must not need Out
	if lstm {
		var dct *tensor.Tensor
		dct, wC = s.rand(B, H)
		dc0 = s.grad(B, H)
		g.DCT, g.DC0 = dct, dc0.t
		s.ok(b.LSTMBackward(w, &seqB, g))
	} else {
		s.ok(b.GRUBackward(w, &seqB, g))
	}
	loss := func() float64 {
		o, h, c := ref.run()
		l := dot(wOut, o) + dot(wH, h)
		if lstm {
			l += dot(wC, c)
		}
		return l
	}
	s.gradCheck("DX", dx, xv, loss)
	s.gradCheck("DH0", dh0, h0v, loss)
	s.gradCheck("DWIH", dwih, wihv, loss)
	s.gradCheck("DWHH", dwhh, whhv, loss)
	s.gradCheck("DBIH", dbih, bihv, loss)
	s.gradCheck("DBHH", dbhh, bhhv, loss)
	if lstm {
		s.gradCheck("DC0", dc0, ref.c0, loss)
	}
}

// refAttention returns the output [B, Tq, D] and probabilities
// [B, heads, Tq, Tk] of masked multi-head attention in float64.
func refAttention(q, k, v []float64, B, Tq, Tk, D, heads int, lengths []int32, causal bool) (out, probs []float64) {
	dh := D / heads
	out = make([]float64, B*Tq*D)
	probs = make([]float64, B*heads*Tq*Tk)
	for b := range B {
		for h := range heads {
			for i := range Tq {
				visible := Tk
				if lengths != nil {
					visible = int(lengths[b])
				}
				if causal {
					visible = min(visible, i+1)
				}
				p := probs[((b*heads+h)*Tq+i)*Tk : ((b*heads+h)*Tq+i+1)*Tk]
				m := math.Inf(-1)
				for j := range visible {
					var sc float64
					for e := range dh {
						sc += q[(b*Tq+i)*D+h*dh+e] * k[(b*Tk+j)*D+h*dh+e]
					}
					p[j] = sc / math.Sqrt(float64(dh))
					m = math.Max(m, p[j])
				}
				var sum float64
				for j := range visible {
					p[j] = math.Exp(p[j] - m)
					sum += p[j]
				}
				for j := range visible {
					p[j] /= sum
					for e := range dh {
						out[(b*Tq+i)*D+h*dh+e] += p[j] * v[(b*Tk+j)*D+h*dh+e]
					}
				}
			}
		}
	}
	return out, probs
}

func testAttention(s *suite) {
	for _, tc := range []struct {
		B, Tq, Tk, D, heads int
		lengths             []int32
		causal              bool
	}{
		{1, 1, 1, 1, 1, nil, false},
		{2, 3, 4, 4, 2, []int32{4, 2}, false},
		{2, 5, 5, 6, 3, []int32{5, 3}, true},
		{3, 2, 3, 4, 1, []int32{0, 1, 3}, false},
	} {
		s.run(name("B=%d,Tq=%d,Tk=%d,D=%d,heads=%d,lengths=%v,causal=%v", tc.B, tc.Tq, tc.Tk, tc.D, tc.heads, tc.lengths, tc.causal), func(s *suite) {
			b := s.b
			q, qv := s.rand(tc.B, tc.Tq, tc.D)
			k, kv := s.rand(tc.B, tc.Tk, tc.D)
			v, vv := s.rand(tc.B, tc.Tk, tc.D)
			out, probs := s.zeros(tc.B, tc.Tq, tc.D), s.zeros(tc.B, tc.heads, tc.Tq, tc.Tk)
			s.ok(b.Fill(out, float32(math.NaN())))
			s.ok(b.Attention(out, probs, q, k, v, tc.lengths, tc.heads, tc.causal))
			ref := func() ([]float64, []float64) {
				return refAttention(qv, kv, vv, tc.B, tc.Tq, tc.Tk, tc.D, tc.heads, tc.lengths, tc.causal)
			}
			wo, wp := ref()
			s.nearTensor("out", out, wo, sumTol(transcendent, tc.Tk))
			s.nearTensor("probs", probs, wp, transcendent)
			dout, w := s.rand(tc.B, tc.Tq, tc.D)
			dq, dk, dv := s.grad(tc.B, tc.Tq, tc.D), s.grad(tc.B, tc.Tk, tc.D), s.grad(tc.B, tc.Tk, tc.D)
			s.ok(b.AttentionBackward(dq.t, dk.t, dv.t, dout, probs, q, k, v, tc.heads))
			loss := func() float64 {
				o, _ := ref()
				return dot(w, o)
			}
			s.gradCheck("dq", dq, qv, loss)
			s.gradCheck("dk", dk, kv, loss)
			s.gradCheck("dv", dv, vv, loss)
		})
	}
}

// checkRNNProjected runs the forward of seq again with the input projection given (XW, X
// nil) and checks it gives the same outputs; a backward with XW must be refused. Backends
// without XW (ErrUnsupported) skip the check.
func (s *suite) checkRNNProjected(lstm bool, w tensor.RNNWeights, seq *tensor.RNNSequence, xv, wihv, bihv, outv, wantH, wantC []float64) {
	b := s.b
	T, B, In := seq.X.Dim(0), seq.X.Dim(1), seq.X.Dim(2)
	G, H := w.WIH.Dim(0), w.WHH.Dim(1)
	xw := make([]float64, T*B*G)
	for r := range T * B {
		for g := range G {
			v := bihv[g]
			for k := range In {
				v += wihv[g*In+k] * xv[r*In+k]
			}
			xw[r*G+g] = float64(float32(v))
		}
	}
	p := *seq
	p.X, p.XW = nil, s.up(xw, T, B, G)
	p.Out, p.HT, p.Work = s.zeros(seq.Out.Shape()...), s.zeros(B, H), s.zeros(seq.Work.Shape()...)
	if lstm {
		p.CT = s.zeros(B, H)
	}
	var err error
	if lstm {
		err = b.LSTM(w, &p)
	} else {
		err = b.GRU(w, &p)
	}
	if errors.Is(err, tensor.ErrUnsupported) {
		s.t.Logf("XW: %v (skipped)", err)
		return
	}
	s.ok(err)
	col, W := seq.OutCol, seq.Out.Dim(2)
	got := make([]float64, len(outv))
	copy(got, outv)
	for i := range T * B { // only our columns: the rest of the fresh Out stays zero
		for j := range W {
			if j < col || j >= col+H {
				got[i*W+j] = 0
			}
		}
	}
	s.nearTensor("Out (XW)", p.Out, got, transcendent)
	s.nearTensor("HT (XW)", p.HT, wantH, transcendent)
	if lstm {
		s.nearTensor("CT (XW)", p.CT, wantC, transcendent)
	}
	g := &tensor.RNNGrads{DOut: p.Out, DX: s.zeros(T, B, In), DW: tensor.RNNWeights{WIH: s.zeros(w.WIH.Shape()...), WHH: s.zeros(w.WHH.Shape()...), BIH: s.zeros(G), BHH: s.zeros(G)}}
	if lstm {
		err = b.LSTMBackward(w, &p, g)
	} else {
		err = b.GRUBackward(w, &p, g)
	}
	if !errors.Is(err, tensor.ErrArgument) {
		s.t.Errorf("a backward with XW: got %v, want ErrArgument", err)
	}
}
