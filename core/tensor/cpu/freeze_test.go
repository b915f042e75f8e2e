package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bingli/bingli/core/tensor"
)

// rnnCase is one recurrent call's tensors on backend be, from seeded random values.
type rnnCase struct {
	w   tensor.RNNWeights
	seq tensor.RNNSequence
}

func newRNNCase(t *testing.T, be *Backend, gates, T, B, In, H int, reverse bool) *rnnCase {
	t.Helper()
	r := rand.New(rand.NewPCG(7, uint64(gates*1000+H)))
	mk := func(shape ...int) *tensor.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		v := randSlice(r, n)
		for i := range v {
			v[i] *= 0.3
		}
		x, err := be.FromSlice(v, shape...)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	zero := func(shape ...int) *tensor.Tensor {
		x, err := be.New(shape...)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	width := tensor.GRUWorkWidth
	if gates == 4 {
		width = tensor.LSTMWorkWidth
	}
	lengths := make([]int32, B)
	for b := range lengths {
		lengths[b] = int32(T - b%T)
	}
	var ct *tensor.Tensor
	if gates == 4 {
		ct = zero(B, H)
	}
	return &rnnCase{
		w: tensor.RNNWeights{WIH: mk(gates*H, In), WHH: mk(gates*H, H), BIH: mk(gates * H), BHH: mk(gates * H)},
		seq: tensor.RNNSequence{X: mk(T, B, In), Lengths: lengths, Reverse: reverse,
			Out: zero(T, B, 2*H), OutCol: H, Work: zero(T, B, width*H), HT: zero(B, H), CT: ct},
	}
}

func (rc *rnnCase) run(t *testing.T, be *Backend, gates int) []float32 {
	t.Helper()
	var err error
	if gates == 3 {
		err = be.GRU(rc.w, &rc.seq)
	} else {
		err = be.LSTM(rc.w, &rc.seq)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := append([]float32(nil), f32(rc.seq.Out)...)
	return append(out, f32(rc.seq.HT)...)
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestFreezeCachesPackedWeights checks that frozen recurrent weights are packed once and
// reused (the same panels at the next call), that the results are bit-identical to the
// unfrozen path, and that writing a frozen weight through the Memory methods drops the
// cache, so the next call sees the new values.
func TestFreezeCachesPackedWeights(t *testing.T) {
	for _, gates := range []int{3, 4} {
		for _, sz := range [][3]int{{96, 64, 6}, {20, 16, 3}, {300, 40, 2}, {5, 7, 1}} { // In, H, B
			for _, threads := range []int{1, 2} {
				be := New(threads)
				In, H, B := sz[0], sz[1], sz[2]
				rc := newRNNCase(t, be, gates, 9, B, In, H, gates == 3)
				want := rc.run(t, be, gates)
				if err := be.Freeze(rc.w.WIH, rc.w.WHH, rc.w.BIH, rc.w.BHH); err != nil {
					t.Fatal(err)
				}
				got := rc.run(t, be, gates)
				if !sameBits(got, want) {
					t.Fatalf("gates=%d %v threads=%d: frozen weights change the result", gates, sz, threads)
				}
				s := rc.w.WIH.Storage().(*storage)
				wih := packedWeight(rc.w.WIH, true, In, In, gates*H)
				if wih == nil || len(s.packs) != 1 || packedWeight(rc.w.WIH, true, In, In, gates*H) != wih {
					t.Fatalf("gates=%d %v: WIH not cached (%d packs)", gates, sz, len(s.packs))
				}
				if sw := rc.w.WHH.Storage().(*storage); len(sw.packs) != 1 {
					t.Fatalf("gates=%d %v: WHH has %d cached packs, want 1", gates, sz, len(sw.packs))
				}
				if got := rc.run(t, be, gates); !sameBits(got, want) {
					t.Fatalf("gates=%d %v: the cached panels change the result", gates, sz)
				}
				// New weights through Upload: the cache goes and the result follows them.
				v := f32(rc.w.WIH)
				nv := make([]float32, len(v))
				for i := range nv {
					nv[i] = -v[i]
				}
				if err := be.Upload(rc.w.WIH, nv); err != nil {
					t.Fatal(err)
				}
				if s.frozen.Load() || s.packs != nil {
					t.Fatalf("Upload left WIH frozen")
				}
				got = rc.run(t, be, gates)
				ref := New(threads)
				rc2 := newRNNCase(t, ref, gates, 9, B, In, H, gates == 3)
				if err := ref.Upload(rc2.w.WIH, nv); err != nil {
					t.Fatal(err)
				}
				if want2 := rc2.run(t, ref, gates); !sameBits(got, want2) || sameBits(got, want) {
					t.Fatalf("gates=%d %v: result after Upload into a frozen weight is stale", gates, sz)
				}
			}
		}
	}
}

// TestFreezeOthers checks Freeze's errors and that Fill, Copy and Free thaw.
func TestFreezeOthers(t *testing.T) {
	be := New(1)
	x, _ := be.New(4, 4)
	y, _ := be.New(4, 4)
	for _, write := range []func() error{
		func() error { return be.Fill(x, 1) },
		func() error { return be.Copy(x, y) },
		func() error { be.Free(x); return nil },
	} {
		if err := be.Freeze(x); err != nil {
			t.Fatal(err)
		}
		if packedWeight(x, true, 4, 4, 4) == nil {
			t.Fatal("no packed panels for a frozen tensor")
		}
		if err := write(); err != nil {
			t.Fatal(err)
		}
		s := x.Storage().(*storage)
		if s.frozen.Load() || s.packs != nil || packedWeight(x, true, 4, 4, 4) != nil {
			t.Fatal("a write left the tensor frozen")
		}
	}
	if err := be.Freeze(x); err == nil {
		t.Fatal("Freeze of a freed tensor succeeded")
	}
	if packedWeight(y, true, 4, 4, 4) != nil {
		t.Fatal("panels cached for a tensor never frozen")
	}
}
