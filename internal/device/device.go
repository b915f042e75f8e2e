// Package device chooses the tensor backend a command computes on: the CPU
// backend, or the CUDA backend when it is asked for and can run here. It is
// the one place that turns the --device flag of every computing command
// into a tensor.Backend, so the fallback rule and its message are the same
// everywhere.
package device

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
	"github.com/bingli/bingli/cuda"
)

// Names are the accepted values of --device.
const Names = "cpu, cuda or auto"

// FlagHelp is the usage text of a --device flag.
const FlagHelp = "backend: cpu, cuda (the GPU; falls back to the CPU with a note when unavailable) or auto (the GPU when its library and a device are present)"

// Open returns the backend for name ("cpu", "cuda" or "auto") and a
// function that releases it. threads is the CPU backend's goroutine count.
//
// With "cuda", a backend that cannot run here (no libbingli_cuda.so, no
// driver, no GPU) is reported in one line on warn, naming the CPU backend
// used instead, and the CPU backend is returned. "auto" does the same but
// stays silent when the library is simply not installed, the normal case on
// machines without a GPU. Setting BINGLI_CUDA_TF32=1 lets cuBLAS use TF32.
func Open(name string, threads int, warn io.Writer) (tensor.Backend, func(), error) {
	fallback := func() (tensor.Backend, func(), error) {
		return cpu.New(threads), func() {}, nil
	}
	switch name {
	case "cpu", "":
		return fallback()
	case "cuda", "auto":
	default:
		return nil, nil, fmt.Errorf("--device %q: want %s", name, Names)
	}
	b, err := cuda.Open(cuda.Options{TF32: os.Getenv("BINGLI_CUDA_TF32") == "1"})
	if err == nil {
		return b, b.Close, nil
	}
	if !errors.Is(err, cuda.ErrUnavailable) {
		return nil, nil, err
	}
	if name == "cuda" || !notInstalled(err) {
		c := cpu.New(threads)
		fmt.Fprintf(warn, "bingli: %v; using the CPU backend (%d threads)\n", err, c.Threads())
		return c, func() {}, nil
	}
	return fallback()
}

// notInstalled reports whether err says only that the library is absent.
func notInstalled(err error) bool {
	return errors.Is(err, cuda.ErrNotFound)
}

// Describe names a backend for logs and tables: "cpu (16 threads)" or
// "cuda:0 (NVIDIA H100 80GB HBM3)".
func Describe(b tensor.Backend) string {
	switch v := b.(type) {
	case *cpu.Backend:
		return fmt.Sprintf("cpu (%d threads)", v.Threads())
	case *cuda.Backend:
		return fmt.Sprintf("%s (%s)", v.Name(), v.Device())
	}
	return b.Name()
}
