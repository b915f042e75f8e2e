package main

import (
	"io"

	"github.com/bingli/bingli/core/tensor"
	"github.com/bingli/bingli/cuda"
	"github.com/bingli/bingli/internal/device"
)

// chooseBackend returns the tensor backend for a --device value (cpu, cuda or auto) and its
// short name for /v1/models and /metrics. The choice and the fallback rule are
// internal/device's: --device cuda without a usable CUDA backend falls back to the CPU with
// one line on stderr; auto picks CUDA when it is usable. The backend lives as long as the
// process.
func chooseBackend(name string, threads int, stderr io.Writer) (tensor.Backend, string, error) {
	be, _, err := device.Open(name, threads, stderr)
	if err != nil {
		return nil, "", usagef("%v", err)
	}
	if _, ok := be.(*cuda.Backend); ok {
		return be, "cuda", nil
	}
	return be, "cpu", nil
}
