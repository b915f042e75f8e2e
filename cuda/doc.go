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
// core/tensor/backendtest; see cuda_test.go. Products are exact fp32 cuBLAS
// GEMMs by default; Options.TF32 lets cuBLAS use TF32 tensor cores, which is
// faster but does not meet the suite's fp32 tolerances.
//
// All ops of one Backend are queued in order on one CUDA stream; host
// results (losses, norms, downloads) synchronise that stream. Device memory
// comes from the library's caching allocator. A tensor's memory returns to
// the cache on Free, or, as a safety net, when the garbage collector finds
// the tensor unreachable.
package cuda
