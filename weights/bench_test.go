package weights

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// tenMegabytes is a 10 MB file of F32 tensors, shaped like a small model.
func tenMegabytes(b *testing.B) []byte {
	f := &File{}
	for i := 0; i < 10; i++ {
		w := make([]float32, 1<<18) // 1 MiB each
		for j := range w {
			w[j] = float32(j%1000) * 1e-3
		}
		f.Add(FromFloat32(fmt.Sprintf("layer%d.w", i), []int{512, 512}, w))
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func benchmarkReadFile(b *testing.B, name string) {
	raw := tenMegabytes(b)
	f, err := Parse(raw)
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), name)
	if err := f.WriteFile(p); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		g, err := ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		for j := range g.Tensors {
			if _, err := g.Tensors[j].Float32(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadFile10MB reads a 10 MB F32 file from disk and converts every
// tensor to []float32.
func BenchmarkReadFile10MB(b *testing.B) { benchmarkReadFile(b, "m.safetensors") }

// BenchmarkReadFile10MBZstd is the same through zstd (MB/s of the
// decompressed stream).
func BenchmarkReadFile10MBZstd(b *testing.B) { benchmarkReadFile(b, "m.safetensors.zst") }

// BenchmarkParse10MB parses a 10 MB file already in memory (no copy).
func BenchmarkParse10MB(b *testing.B) {
	raw := tenMegabytes(b)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// Tagger-like Linear: 32 positions, 256 inputs, 384 outputs (3 GRU gates × 128).
const benchN, benchIn, benchOut = 32, 256, 384

func reportGFLOPS(b *testing.B) {
	flops := 2.0 * benchN * benchIn * benchOut * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkMatMulInt8(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randMatrix(rng, benchN*benchIn, 1)
	q, s := Quantize(randMatrix(rng, benchOut*benchIn, 0.1), benchOut, benchIn)
	y := make([]float32, benchN*benchOut)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		MatMulInt8(y, x, benchN, q, s, benchOut, benchIn)
	}
	reportGFLOPS(b)
}

func BenchmarkMatMulFloat32Naive(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randMatrix(rng, benchN*benchIn, 1)
	w := randMatrix(rng, benchOut*benchIn, 0.1)
	y := make([]float32, benchN*benchOut)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		matMulFloat32Naive(y, x, benchN, w, benchOut, benchIn)
	}
	reportGFLOPS(b)
}
