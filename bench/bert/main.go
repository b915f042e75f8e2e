// Command bert times a BERT-shaped encoder forward pass built from tensor.Backend ops
// (embeddings, layer norms, Q/K/V/output and feed-forward products, multi-head attention,
// GELU), the shape the project's medical BERT will have, against PyTorch's BertModel with
// the same weights (bench/pytorch/bert_bench.py reads the safetensors file this command
// writes, in Hugging Face's parameter names).
//
//	go run ./bench/bert --device cuda --weights /tmp/bert.safetensors --shapes 64x128,256x256
//
// It prints one row per shape: tokens per second (median of --repeat timed passes after a
// warm-up), the achieved TFLOP/s, and writes the last hidden state of a small padded
// parity batch (2 sequences of 16 and 11 tokens) to --parity-out for the peer to compare.
package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/cuda"
	"github.com/bingli/bingli/internal/device"
	"github.com/bingli/bingli/weights"
)

type config struct {
	Layers, Hidden, Heads, FFN, Vocab, MaxPos int
}

type layer struct {
	wq, bq, wk, bk, wv, bv, wo, bo, ln1g, ln1b, w1, b1, w2, b2, ln2g, ln2b *tensor.Tensor
}

type model struct {
	cfg                        config
	word, pos, typ, embG, embB *tensor.Tensor
	layers                     []layer
}

// buffers are the activations of one shape, allocated once and reused.
type buffers struct {
	B, T                              int
	emb, tmp, x, q, k, v, att, o, sum *tensor.Tensor
	x1, h, f, probs                   *tensor.Tensor
}

func main() {
	dev := flag.String("device", "cuda", device.FlagHelp)
	threads := flag.Int("threads", 0, "CPU threads (cpu backend)")
	path := flag.String("weights", "bert.safetensors", "weights file: written (random, seeded) if absent, read otherwise")
	shapes := flag.String("shapes", "64x128,256x256", "comma-separated BATCHxSEQ shapes")
	repeat := flag.Int("repeat", 20, "timed passes per shape (median reported)")
	parityOut := flag.String("parity-out", "", "write the parity batch's last hidden state here (safetensors)")
	tf32 := flag.Bool("tf32", false, "CUDA: let cuBLAS use TF32 tensor cores")
	bf16 := flag.Bool("bf16", false, "CUDA: bf16 storage and bf16 tensor-core products (fp32 accumulation)")
	flag.Parse()
	cfg := config{Layers: 6, Hidden: 384, Heads: 6, FFN: 1536, Vocab: 8000, MaxPos: 512}
	if err := run(cfg, *dev, *threads, *path, *shapes, *repeat, *parityOut, *tf32, *bf16); err != nil {
		fmt.Fprintln(os.Stderr, "bert:", err)
		os.Exit(1)
	}
}

func run(cfg config, devName string, threads int, path, shapeList string, repeat int, parityOut string, tf32, bf16 bool) error {
	be, closeBackend, err := device.Open(devName, threads, os.Stderr)
	if err != nil {
		return err
	}
	if bf16 {
		closeBackend()
		c, err := cuda.Open(cuda.Options{BF16: true})
		if err != nil {
			return fmt.Errorf("--bf16 needs the CUDA backend: %w", err)
		}
		be, closeBackend = c, c.Close
	}
	defer closeBackend()
	if c, ok := be.(*cuda.Backend); ok && tf32 {
		if err := c.SetTF32(true); err != nil {
			return err
		}
	}
	file, err := loadOrCreate(cfg, path)
	if err != nil {
		return err
	}
	m, err := upload(be, cfg, file)
	if err != nil {
		return err
	}
	if parityOut != "" {
		if err := parity(be, m, parityOut); err != nil {
			return fmt.Errorf("parity: %w", err)
		}
	}
	mode := "fp32"
	switch {
	case bf16:
		mode = "bf16"
	case tf32:
		mode = "tf32"
	}
	fmt.Printf("backend %s, %s, BERT %d layers, hidden %d, %d heads, FFN %d, vocab %d\n",
		device.Describe(be), mode, cfg.Layers, cfg.Hidden, cfg.Heads, cfg.FFN, cfg.Vocab)
	fmt.Printf("%-10s %14s %10s %10s\n", "shape", "tokens/s", "ms/pass", "TFLOP/s")
	for _, s := range strings.Split(shapeList, ",") {
		bt := strings.Split(strings.TrimSpace(s), "x")
		if len(bt) != 2 {
			return fmt.Errorf("shape %q: want BATCHxSEQ", s)
		}
		B, err1 := strconv.Atoi(bt[0])
		T, err2 := strconv.Atoi(bt[1])
		if err1 != nil || err2 != nil || B < 1 || T < 1 || T > cfg.MaxPos {
			return fmt.Errorf("shape %q: want BATCHxSEQ with SEQ ≤ %d", s, cfg.MaxPos)
		}
		buf, err := newBuffers(be, cfg, B, T)
		if err != nil {
			return err
		}
		ids, positions := inputs(cfg, B, T)
		pass := func() error { return m.forward(be, buf, ids, positions, nil) }
		if err := pass(); err != nil {
			return err
		}
		times := make([]float64, 0, repeat)
		for range repeat {
			if err := syncBackend(be); err != nil {
				return err
			}
			t0 := time.Now()
			if err := pass(); err != nil {
				return err
			}
			if err := syncBackend(be); err != nil {
				return err
			}
			times = append(times, time.Since(t0).Seconds())
		}
		sort.Float64s(times)
		med := times[len(times)/2]
		tokens := float64(B * T)
		flops := tokens * float64(cfg.Layers) * (2*float64(4*cfg.Hidden*cfg.Hidden+2*cfg.Hidden*cfg.FFN) + 4*float64(T*cfg.Hidden))
		fmt.Printf("%-10s %14.0f %10.3f %10.1f\n", s, tokens/med, 1000*med, flops/med/1e12)
		buf.free(be)
	}
	return nil
}

func syncBackend(be tensor.Backend) error {
	if c, ok := be.(*cuda.Backend); ok {
		return c.Sync()
	}
	return nil
}

// inputs returns deterministic token ids and positions for a [B, T] batch (the peer makes the
// same ones).
func inputs(cfg config, B, T int) (ids, positions []int32) {
	ids = make([]int32, B*T)
	positions = make([]int32, B*T)
	for b := range B {
		for t := range T {
			ids[b*T+t] = int32((b*131 + t*17 + 7) % cfg.Vocab)
			positions[b*T+t] = int32(t)
		}
	}
	return ids, positions
}

// names returns the Hugging Face BertModel parameter names and shapes.
func names(cfg config) (out []struct {
	name  string
	shape []int
}) {
	add := func(n string, s ...int) {
		out = append(out, struct {
			name  string
			shape []int
		}{n, s})
	}
	D, F := cfg.Hidden, cfg.FFN
	add("embeddings.word_embeddings.weight", cfg.Vocab, D)
	add("embeddings.position_embeddings.weight", cfg.MaxPos, D)
	add("embeddings.token_type_embeddings.weight", 2, D)
	add("embeddings.LayerNorm.weight", D)
	add("embeddings.LayerNorm.bias", D)
	for i := range cfg.Layers {
		p := fmt.Sprintf("encoder.layer.%d.", i)
		for _, n := range []string{"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"} {
			add(p+n+".weight", D, D)
			add(p+n+".bias", D)
		}
		add(p+"attention.output.LayerNorm.weight", D)
		add(p+"attention.output.LayerNorm.bias", D)
		add(p+"intermediate.dense.weight", F, D)
		add(p+"intermediate.dense.bias", F)
		add(p+"output.dense.weight", D, F)
		add(p+"output.dense.bias", D)
		add(p+"output.LayerNorm.weight", D)
		add(p+"output.LayerNorm.bias", D)
	}
	return out
}

func loadOrCreate(cfg config, path string) (*weights.File, error) {
	if _, err := os.Stat(path); err == nil {
		return weights.ReadFile(path)
	}
	r := rand.New(rand.NewPCG(2026, 11))
	f := &weights.File{Metadata: map[string]string{"format": "pt", "bingli": "random BERT for benchmarks"}}
	for _, p := range names(cfg) {
		n := 1
		for _, d := range p.shape {
			n *= d
		}
		v := make([]float32, n)
		switch {
		case strings.HasSuffix(p.name, "LayerNorm.weight"):
			for i := range v {
				v[i] = 1 + 0.1*float32(r.NormFloat64())
			}
		default:
			for i := range v {
				v[i] = 0.02 * float32(r.NormFloat64())
			}
		}
		if err := f.Add(weights.FromFloat32(p.name, p.shape, v)); err != nil {
			return nil, err
		}
	}
	return f, f.WriteFile(path)
}

func upload(be tensor.Backend, cfg config, f *weights.File) (*model, error) {
	get := func(name string, shape ...int) (*tensor.Tensor, error) {
		t, err := f.Expect(name, weights.F32, shape...)
		if err != nil {
			return nil, err
		}
		v, err := t.Float32()
		if err != nil {
			return nil, err
		}
		return be.FromSlice(v, shape...)
	}
	D, F := cfg.Hidden, cfg.FFN
	m := &model{cfg: cfg}
	var err error
	for _, p := range []struct {
		dst   **tensor.Tensor
		name  string
		shape []int
	}{
		{&m.word, "embeddings.word_embeddings.weight", []int{cfg.Vocab, D}},
		{&m.pos, "embeddings.position_embeddings.weight", []int{cfg.MaxPos, D}},
		{&m.typ, "embeddings.token_type_embeddings.weight", []int{2, D}},
		{&m.embG, "embeddings.LayerNorm.weight", []int{D}},
		{&m.embB, "embeddings.LayerNorm.bias", []int{D}},
	} {
		if *p.dst, err = get(p.name, p.shape...); err != nil {
			return nil, err
		}
	}
	for i := range cfg.Layers {
		pre := fmt.Sprintf("encoder.layer.%d.", i)
		var l layer
		for _, p := range []struct {
			dst   **tensor.Tensor
			name  string
			shape []int
		}{
			{&l.wq, "attention.self.query.weight", []int{D, D}}, {&l.bq, "attention.self.query.bias", []int{D}},
			{&l.wk, "attention.self.key.weight", []int{D, D}}, {&l.bk, "attention.self.key.bias", []int{D}},
			{&l.wv, "attention.self.value.weight", []int{D, D}}, {&l.bv, "attention.self.value.bias", []int{D}},
			{&l.wo, "attention.output.dense.weight", []int{D, D}}, {&l.bo, "attention.output.dense.bias", []int{D}},
			{&l.ln1g, "attention.output.LayerNorm.weight", []int{D}}, {&l.ln1b, "attention.output.LayerNorm.bias", []int{D}},
			{&l.w1, "intermediate.dense.weight", []int{F, D}}, {&l.b1, "intermediate.dense.bias", []int{F}},
			{&l.w2, "output.dense.weight", []int{D, F}}, {&l.b2, "output.dense.bias", []int{D}},
			{&l.ln2g, "output.LayerNorm.weight", []int{D}}, {&l.ln2b, "output.LayerNorm.bias", []int{D}},
		} {
			if *p.dst, err = get(pre+p.name, p.shape...); err != nil {
				return nil, err
			}
		}
		m.layers = append(m.layers, l)
	}
	return m, nil
}

func newBuffers(be tensor.Backend, cfg config, B, T int) (*buffers, error) {
	D, F := cfg.Hidden, cfg.FFN
	bf := &buffers{B: B, T: T}
	var err error
	for _, p := range []struct {
		dst   **tensor.Tensor
		shape []int
	}{
		{&bf.emb, []int{B, T, D}}, {&bf.tmp, []int{B, T, D}}, {&bf.x, []int{B, T, D}},
		{&bf.q, []int{B, T, D}}, {&bf.k, []int{B, T, D}}, {&bf.v, []int{B, T, D}},
		{&bf.att, []int{B, T, D}}, {&bf.o, []int{B, T, D}}, {&bf.sum, []int{B, T, D}},
		{&bf.x1, []int{B, T, D}}, {&bf.h, []int{B, T, F}}, {&bf.f, []int{B, T, D}},
		{&bf.probs, []int{B, cfg.Heads, T, T}},
	} {
		if *p.dst, err = be.New(p.shape...); err != nil {
			bf.free(be)
			return nil, err
		}
	}
	return bf, nil
}

func (bf *buffers) free(be tensor.Backend) {
	for _, t := range []*tensor.Tensor{bf.emb, bf.tmp, bf.x, bf.q, bf.k, bf.v, bf.att, bf.o, bf.sum, bf.x1, bf.h, bf.f, bf.probs} {
		be.Free(t)
	}
}

// linear sets y = f(x·Wᵀ + b), one fused op where the backend has it (tensor.FusedLinear).
func linear(be tensor.Backend, y, x, w, b *tensor.Tensor, f tensor.Activation) error {
	return tensor.Linear(be, y, x, w, b, f)
}

// forward runs the encoder; the last hidden state ends in bf.x.
func (m *model) forward(be tensor.Backend, bf *buffers, ids, positions, lengths []int32) error {
	zeros := make([]int32, len(ids))
	steps := []func() error{
		func() error { return be.Embedding(bf.emb, m.word, ids) },
		func() error { return be.Embedding(bf.tmp, m.pos, positions) },
		func() error { return be.Add(bf.emb, bf.emb, bf.tmp) },
		func() error { return be.Embedding(bf.tmp, m.typ, zeros) },
		func() error { return be.AddLayerNorm(bf.x, bf.sum, nil, nil, bf.emb, bf.tmp, m.embG, m.embB, 1e-12) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	for _, l := range m.layers {
		for _, s := range []func() error{
			func() error { return linear(be, bf.q, bf.x, l.wq, l.bq, 0) },
			func() error { return linear(be, bf.k, bf.x, l.wk, l.bk, 0) },
			func() error { return linear(be, bf.v, bf.x, l.wv, l.bv, 0) },
			func() error { return be.Attention(bf.att, bf.probs, bf.q, bf.k, bf.v, lengths, m.cfg.Heads, false) },
			func() error { return linear(be, bf.o, bf.att, l.wo, l.bo, 0) },
			func() error { return be.AddLayerNorm(bf.x1, bf.sum, nil, nil, bf.o, bf.x, l.ln1g, l.ln1b, 1e-12) },
			func() error { return linear(be, bf.h, bf.x1, l.w1, l.b1, tensor.GELU) },
			func() error { return linear(be, bf.f, bf.h, l.w2, l.b2, 0) },
			func() error { return be.AddLayerNorm(bf.x, bf.sum, nil, nil, bf.f, bf.x1, l.ln2g, l.ln2b, 1e-12) },
		} {
			if err := s(); err != nil {
				return err
			}
		}
	}
	return nil
}

// parity runs a padded batch (lengths 16 and 11) and writes its last hidden state.
func parity(be tensor.Backend, m *model, path string) error {
	const B, T = 2, 16
	bf, err := newBuffers(be, m.cfg, B, T)
	if err != nil {
		return err
	}
	defer bf.free(be)
	ids, positions := inputs(m.cfg, B, T)
	if err := m.forward(be, bf, ids, positions, []int32{16, 11}); err != nil {
		return err
	}
	out, err := be.ToSlice(bf.x)
	if err != nil {
		return err
	}
	for _, v := range out {
		if math.IsNaN(float64(v)) {
			return fmt.Errorf("NaN in the output")
		}
	}
	f := &weights.File{}
	if err := f.Add(weights.FromFloat32("last_hidden_state", []int{B, T, m.cfg.Hidden}, out)); err != nil {
		return err
	}
	return f.WriteFile(path)
}
