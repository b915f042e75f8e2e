package cpu_test

import (
	"math/rand/v2"
	"testing"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
)

func randTensor(b *testing.B, be tensor.Backend, r *rand.Rand, shape ...int) *tensor.Tensor {
	n, _ := tensor.SizeOf(shape)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64()) * 0.1
	}
	t, err := be.FromSlice(v, shape...)
	if err != nil {
		b.Fatal(err)
	}
	return t
}

// BenchmarkMatMulInt8T compares the int8 weight product with the float32
// one at a tagger-sized layer (50 characters, 256 → 768).
func BenchmarkMatMulInt8T(b *testing.B) {
	const n, in, out = 50, 256, 768
	be := cpu.New(0)
	r := rand.New(rand.NewPCG(1, 1))
	x := randTensor(b, be, r, n, in)
	y, _ := be.New(n, out)
	q := make([]int8, out*in)
	for i := range q {
		q[i] = int8(r.IntN(255) - 127)
	}
	scale := make([]float32, out)
	for i := range scale {
		scale[i] = 0.01
	}
	w8, err := be.UploadInt8(q, scale, out, in)
	if err != nil {
		b.Fatal(err)
	}
	w32 := randTensor(b, be, r, out, in)
	b.Run("int8", func(b *testing.B) {
		for b.Loop() {
			if err := be.MatMulInt8T(y, x, w8); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("float32", func(b *testing.B) {
		for b.Loop() {
			if err := be.MatMul(false, true, 1, x, w32, 0, y); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGRU runs one direction of the tagger's GRU (T=50, B=32,
// In=256, H=128) forward and backward.
func BenchmarkGRU(b *testing.B) {
	const T, B, In, H = 50, 32, 256, 128
	be := cpu.New(0)
	r := rand.New(rand.NewPCG(2, 2))
	w := tensor.RNNWeights{
		WIH: randTensor(b, be, r, 3*H, In), WHH: randTensor(b, be, r, 3*H, H),
		BIH: randTensor(b, be, r, 3*H), BHH: randTensor(b, be, r, 3*H),
	}
	dw := tensor.RNNWeights{
		WIH: randTensor(b, be, r, 3*H, In), WHH: randTensor(b, be, r, 3*H, H),
		BIH: randTensor(b, be, r, 3*H), BHH: randTensor(b, be, r, 3*H),
	}
	out, _ := be.New(T, B, 2*H)
	work, _ := be.New(T, B, tensor.GRUWorkWidth*H)
	seq := &tensor.RNNSequence{X: randTensor(b, be, r, T, B, In), Out: out, Work: work}
	g := &tensor.RNNGrads{DOut: randTensor(b, be, r, T, B, 2*H), DX: randTensor(b, be, r, T, B, In), DW: dw}
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			if err := be.GRU(w, seq); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			if err := be.GRUBackward(w, seq, g); err != nil {
				b.Fatal(err)
			}
		}
	})
}
