package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/bingli/bingli/core/tensor"
)

// NewRNG returns the seeded generator the initialisers draw from (PCG, so a
// seed reproduces a model's initial weights on every platform).
func NewRNG(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x62696e676c69)) // "bingli"
}

// InitUniform fills t with independent draws from U(−bound, bound).
func InitUniform(be tensor.Backend, t *tensor.Tensor, bound float64, r *rand.Rand) error {
	return initHost(be, t, func() float64 { return (2*r.Float64() - 1) * bound })
}

// InitNormal fills t with independent draws from N(mean, std²).
func InitNormal(be tensor.Backend, t *tensor.Tensor, mean, std float64, r *rand.Rand) error {
	return initHost(be, t, func() float64 { return mean + std*r.NormFloat64() })
}

// InitXavierUniform fills a [fanOut, fanIn] weight with Glorot & Bengio's
// U(±√(6/(fanIn+fanOut))), as torch.nn.init.xavier_uniform_.
func InitXavierUniform(be tensor.Backend, w *tensor.Tensor, r *rand.Rand) error {
	if w.Rank() != 2 {
		return fmt.Errorf("nn: Xavier initialisation of %v needs a matrix: %w", w, tensor.ErrShape)
	}
	fanOut, fanIn := w.Dim(0), w.Dim(1)
	if fanIn+fanOut == 0 {
		return nil
	}
	return InitUniform(be, w, math.Sqrt(6/float64(fanIn+fanOut)), r)
}

func initHost(be tensor.Backend, t *tensor.Tensor, draw func() float64) error {
	data := make([]float32, t.Size())
	for i := range data {
		data[i] = float32(draw())
	}
	if err := be.Upload(t, data); err != nil {
		return fmt.Errorf("nn: initialise %v: %w", t, err)
	}
	return nil
}
