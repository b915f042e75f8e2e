// Package cuda is the NVIDIA GPU implementation of tensor.Backend.
//
// The kernels live in a separate shared library, libbingli_cuda.so, built
// from the .cu files of this directory with nvcc (`./build.sh cuda`) and
// declared in bingli_cuda.h. This package uses cgo only to dlopen that
// library and call its entry points, so a bingli binary builds and runs on
// machines with no CUDA toolkit and no GPU: Open then returns an error
// wrapping ErrUnavailable, and callers fall back to the CPU backend (see
// package internal/device).
//
// The library is looked for, in order, at $BINGLI_CUDA_LIB, next to the
// executable, in lib/ next to the executable, and in lib/ under the working
// directory.
//
// Every op follows the contracts documented on tensor.Backend (shapes are
// checked here with the tensor package's Check functions, before a call
// crosses into C) and passes the shared conformance suite
// core/tensor/backendtest; see cuda_test.go. Tolerances per precision:
//
//   - fp32 (the default: exact fp32 cuBLAS products): the conformance suite's own
//     (documented in backendtest), plus whole-tagger parity with the CPU (loss,
//     gradients, marginals within 1e-4 relative; identical Viterbi paths).
//   - TF32 (Options.TF32; 10 mantissa bits in the products): products and the fused
//     linear layer within 2e-3 norm-wise relative of the fp32 CPU (K = 512).
//   - bf16 storage (Options.BF16; inference ops only): an encoder block within 1e-2
//     norm-wise relative of the fp32 CPU.
//
// Only fp32 meets the suite's tolerances, so training uses it.
//
// All ops of one Backend are queued in order on one CUDA stream; host
// results (losses, norms, downloads) synchronise that stream. Device memory
// comes from the library's caching allocator. A tensor's memory returns to
// the cache on Free, or, as a safety net, when the garbage collector finds
// the tensor unreachable.
package cuda
