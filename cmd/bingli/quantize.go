package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/bingli/bingli/weights"
)

func runQuantize(_ context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "quantize", "--model IN --out OUT", `
Writes a copy of a model bundle whose weight matrices are int8 with one float32 scale per
row (symmetric, scale = max|w|/127). The CRF's score tables stay float32. Loaders dequantise
transparently, so the quantised bundle is used exactly like the original.`)
	in := fs.String("model", "", "input bundle folder")
	out := fs.String("out", "", "output bundle folder")
	compress := fs.Bool("zstd", true, "store the tensors zstd-compressed")
	args, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	if *in == "" || *out == "" {
		return usagef("--model and --out are required")
	}
	b, err := weights.LoadBundle(*in)
	if err != nil {
		return err
	}
	if b.Config.Quantization != weights.QuantNone {
		return fmt.Errorf("bundle %s is already quantised (%s)", *in, b.Config.Quantization)
	}
	q, err := b.Tensors.QuantizeAll(func(t *weights.Tensor) bool { return !strings.HasPrefix(t.Name, "crf.") })
	if err != nil {
		return err
	}
	b.Tensors = q
	b.Config.Quantization = weights.QuantInt8PerRow
	b.Config.TensorFile = weights.TensorFileName
	if *compress {
		b.Config.TensorFile = weights.CompressedTensorFileName
	}
	if err := weights.SaveBundle(*out, b); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "wrote int8 bundle %s\n", *out)
	return nil
}
