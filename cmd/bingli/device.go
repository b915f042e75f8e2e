package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/core/tensor/cpu"
)

// chooseBackend returns the tensor backend for a --device value (cpu, cuda or auto) and its
// name for /v1/models and /metrics. --device cuda without a usable CUDA backend falls back to
// the CPU with one line on stderr; auto picks CUDA when it is usable, silently.
func chooseBackend(device string, threads int, stderr io.Writer, cmd string) (tensor.Backend, string, error) {
	switch device {
	case "cpu":
		return cpu.New(threads), "cpu", nil
	case "cuda", "auto":
		be, err := newCUDABackend()
		if err == nil {
			return be, "cuda", nil
		}
		if device == "cuda" {
			fmt.Fprintf(stderr, "bingli %s: --device cuda: %v; using the CPU\n", cmd, err)
		}
		return cpu.New(threads), "cpu", nil
	}
	return nil, "", usagef("--device %q: want cpu, cuda or auto", device)
}

// errNoCUDA is newCUDABackend's answer while this binary has no CUDA backend.
var errNoCUDA = errors.New("this binary has no CUDA backend")

// newCUDABackend is the one place the CUDA backend plugs in (package cuda): it returns the
// backend, or an error saying why the GPU cannot be used.
func newCUDABackend() (tensor.Backend, error) {
	return nil, errNoCUDA
}
