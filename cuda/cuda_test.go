package cuda_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/bingli/bingli/core/model/tagger"
	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/backendtest"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/cuda"
)

// openOrSkip opens the CUDA backend, or skips the test where it cannot run
// (no library, no GPU) — unless BINGLI_REQUIRE_CUDA is set, as on the GPU
// machine, where a missing backend is a failure.
func openOrSkip(t *testing.T) *cuda.Backend {
	t.Helper()
	b, err := cuda.Open(cuda.Options{})
	if err != nil {
		if errors.Is(err, cuda.ErrUnavailable) && os.Getenv("BINGLI_REQUIRE_CUDA") == "" {
			t.Skipf("CUDA backend not available here: %v", err)
		}
		t.Fatalf("open CUDA backend: %v", err)
	}
	t.Cleanup(b.Close)
	return b
}

func TestOpenWithoutLibrary(t *testing.T) {
	_, err := cuda.Open(cuda.Options{Library: t.TempDir() + "/missing.so"})
	if !errors.Is(err, cuda.ErrUnavailable) {
		t.Fatalf("Open with a missing library: %v, want ErrUnavailable", err)
	}
	bad := t.TempDir() + "/libbingli_cuda.so"
	if err := os.WriteFile(bad, []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := cuda.Open(cuda.Options{Library: bad}); !errors.Is(err, cuda.ErrUnavailable) {
		t.Fatalf("Open with a corrupt library: %v, want ErrUnavailable", err)
	}
}

func TestConformance(t *testing.T) {
	b := openOrSkip(t)
	t.Logf("device: %s", b.Device())
	backendtest.Run(t, func() tensor.Backend { return b })
}

var parityLabels = []string{"O", "B-S", "I-S", "B-B", "I-B"}

func paritySegments(n int, r *rand.Rand) []tagger.Segment {
	segs := make([]tagger.Segment, n)
	for i := range segs {
		T := 3 + r.IntN(20)
		s := tagger.Segment{Chars: make([]int32, T), Dict: make([]uint8, T), Tags: make([]int32, T)}
		// Valid BIO paths over O=0, B-S=1, I-S=2, B-B=3, I-B=4.
		for t := range T {
			s.Chars[t] = int32(6 + r.IntN(40))
			s.Dict[t] = uint8(r.IntN(4))
			prev := int32(0)
			if t > 0 {
				prev = s.Tags[t-1]
			}
			switch k := r.IntN(4); {
			case prev != 0 && k == 0:
				s.Tags[t] = (prev + 1) / 2 * 2 // I- of the running type
			case k == 1:
				s.Tags[t] = 1 + 2*int32(r.IntN(2)) // a B- tag
			}
		}
		segs[i] = s
	}
	return segs
}

// TestTaggerParity runs the whole tagger (embeddings, dictionary features,
// BiGRU, attention, dropout, emissions, CRF) on the CPU and on the GPU with
// the same weights and batch, and compares the loss, every parameter
// gradient, the Viterbi paths and the marginals.
func TestTaggerParity(t *testing.T) {
	gpu := openOrSkip(t)
	for _, att := range []string{"none", "full", "window"} {
		t.Run(att, func(t *testing.T) {
			cfg := tagger.Config{Vocab: 50, Tags: len(parityLabels), CharDim: 16, DictDim: 8, DictFeatures: 4,
				Hidden: 24, Attention: att, Heads: 4, Window: 4, Dropout: 0.3}
			mc, err := tagger.New(cpu.New(1), cfg, parityLabels, 11)
			if err != nil {
				t.Fatal(err)
			}
			mg, err := tagger.New(gpu, cfg, parityLabels, 11)
			if err != nil {
				t.Fatal(err)
			}
			segs := paritySegments(9, rand.New(rand.NewPCG(5, 6)))
			batch, err := tagger.MakeBatch(segs, []int{0, 1, 2, 3, 4, 5, 6, 7, 8})
			if err != nil {
				t.Fatal(err)
			}
			lc, err := mc.Loss(batch)
			if err != nil {
				t.Fatal(err)
			}
			lg, err := mg.Loss(batch)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(lc-lg) > 1e-4*math.Max(1, math.Abs(lc)) {
				t.Errorf("loss: CPU %.7g, CUDA %.7g", lc, lg)
			}
			pc, pg := mc.Parameters(), mg.Parameters()
			for i := range pc {
				a, err := mc.Backend().ToSlice(pc[i].Grad)
				if err != nil {
					t.Fatal(err)
				}
				b, err := gpu.ToSlice(pg[i].Grad)
				if err != nil {
					t.Fatal(err)
				}
				if e := relErr(a, b); e > 1e-4 {
					t.Errorf("gradient of %s: relative difference %.2g", pc[i].Name, e)
				}
			}
			dc, err := mc.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			dg, err := mg.Decode(batch)
			if err != nil {
				t.Fatal(err)
			}
			for i := range dc.Paths {
				for j := range dc.Paths[i] {
					if dc.Paths[i][j] != dg.Paths[i][j] {
						t.Fatalf("sequence %d: Viterbi paths differ: CPU %v, CUDA %v", i, dc.Paths[i], dg.Paths[i])
					}
				}
			}
			if e := relErr(dc.Marginals, dg.Marginals); e > 1e-4 {
				t.Errorf("marginals: relative difference %.2g", e)
			}
		})
	}
}

// relErr is ‖a − b‖ / max(‖a‖, tiny).
func relErr(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		x := float64(a[i]) - float64(b[i])
		d += x * x
		n += float64(a[i]) * float64(a[i])
	}
	return math.Sqrt(d) / math.Max(math.Sqrt(n), 1e-12)
}
