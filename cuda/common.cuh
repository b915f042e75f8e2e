// common.cuh — internals shared by the library's translation units: the
// context, the caching allocator, error helpers and launch sizes.
#pragma once

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdarg>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bingli_cuda.h"

struct bc_ctx {
	int device = 0;
	// bf16 storage: every tensor holds bfloat16 values (the ops that support it compute in
	// fp32 registers and round on store; GEMMs run on bf16 tensor cores with fp32
	// accumulation). Set once, before any allocation, by bc_set_precision.
	bool bf16 = false;
	bool tf32 = false; // fp32 products may use TF32 tensor cores (bc_set_math)
	// The fused linear layer's GELU epilogue (cuBLASLt's GELU must match the backend's tanh
	// form; the conformance suite checks it).
	bool geluEpilogue = true;
	void *lt = nullptr; // linear.cu's cuBLASLt state
	cudaStream_t stream = nullptr;
	cublasHandle_t blas = nullptr;
	std::string err;
	// Caching allocator: blocks are rounded to size classes and kept in free
	// lists by class. All work runs on one stream, so a block freed by one op
	// can be handed to the next without waiting.
	std::map<size_t, std::vector<void *>> freeList;
	std::map<void *, size_t> live;
	size_t bytesLive = 0, bytesCached = 0;
	// Scratch for reductions that end on the host (losses, norms).
	double *accum = nullptr;     // device, 4 doubles
	double *accumHost = nullptr; // pinned host, 4 doubles
};

// fail records a formatted message on the context and returns code.
int fail(bc_ctx *ctx, int code, const char *fmt, ...);

// Checks that turn a failed CUDA or cuBLAS call into a returned status.
#define CU(call)                                                                         \
	do {                                                                                 \
		cudaError_t e_ = (call);                                                         \
		if (e_ != cudaSuccess)                                                           \
			return fail(ctx, BC_ERR_CUDA, "%s: %s (%s:%d)", __func__, cudaGetErrorString(e_), \
			            __FILE__, __LINE__);                                             \
	} while (0)

#define BLAS(call)                                                                        \
	do {                                                                                  \
		cublasStatus_t s_ = (call);                                                       \
		if (s_ != CUBLAS_STATUS_SUCCESS)                                                  \
			return fail(ctx, BC_ERR_CUBLAS, "%s: cuBLAS status %d (%s:%d)", __func__, (int)s_, \
			            __FILE__, __LINE__);                                              \
	} while (0)

// LAUNCHED checks the launch that was just queued.
#define LAUNCHED() CU(cudaGetLastError())

// Allocation from the context's cache; on failure the message is set.
void *ctx_alloc(bc_ctx *ctx, size_t bytes);
void ctx_free(bc_ctx *ctx, void *p);

// Row-major GEMM helper used by several ops: C = α·op(A)·op(B) + β·C with
// leading dimensions in elements, optionally strided-batched.
int gemm_rm(bc_ctx *ctx, bool transA, bool transB, int m, int n, int k, float alpha,
            const float *a, long lda, long strideA, const float *b, long ldb, long strideB,
            float beta, float *c, long ldc, long strideC, int batch);

// linear_release frees linear.cu's cuBLASLt state (bc_close).
void linear_release(bc_ctx *ctx);

// Upload of a small host array (ids, lengths) into cache memory.
int upload_i32(bc_ctx *ctx, const void *host, long n, int **out);

template <typename T> inline T *P(const bc_args *a, int i) {
	return reinterpret_cast<T *>(static_cast<uintptr_t>(a->p[i]));
}
inline float *F(const bc_args *a, int i) { return P<float>(a, i); }

inline unsigned blocksFor(long n, int threads) {
	long b = (n + threads - 1) / threads;
	if (b < 1) b = 1;
	if (b > 65535L * 32) b = 65535L * 32;
	return (unsigned)b;
}

typedef __nv_bfloat16 bf16;

// ldf and stf load and store a storage element as a float.
__device__ __forceinline__ float ldf(const float *p) { return *p; }
__device__ __forceinline__ float ldf(const bf16 *p) { return __bfloat162float(*p); }
__device__ __forceinline__ void stf(float *p, float v) { *p = v; }
__device__ __forceinline__ void stf(bf16 *p, float v) { *p = __float2bfloat16(v); }

// DISPATCH launches kernel<float> or kernel<bf16> by the context's storage type; args are
// the launch arguments with device pointers written as PTR(i) (a->p[i] cast to the type).
#define DISPATCH(kernel, grid, block, ...)                                   \
	do {                                                                     \
		if (ctx->bf16) {                                                     \
			typedef bf16 T;                                                  \
			kernel<T><<<grid, block, 0, ctx->stream>>>(__VA_ARGS__);         \
		} else {                                                             \
			typedef float T;                                                 \
			kernel<T><<<grid, block, 0, ctx->stream>>>(__VA_ARGS__);         \
		}                                                                    \
	} while (0)
#define PTR(i) P<T>(a, i)

__device__ __forceinline__ float sigmoidf_(float x) { return 1.f / (1.f + __expf(-x)); }

__device__ __forceinline__ float warpSum(float v) {
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}
__device__ __forceinline__ float warpMax(float v) {
	for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
	return v;
}
__device__ __forceinline__ double warpSumD(double v) {
	for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
	return v;
}

// Adds a block's partial sum (one double per thread) into *acc.
__device__ __forceinline__ void blockAtomicSum(double v, double *acc) {
	__shared__ double part[32];
	v = warpSumD(v);
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
	if (lane == 0) part[warp] = v;
	__syncthreads();
	if (warp == 0) {
		int nw = (blockDim.x + 31) >> 5;
		double s = lane < nw ? part[lane] : 0.0;
		s = warpSumD(s);
		if (lane == 0) atomicAdd(acc, s);
	}
}

// Reduction into the context's accumulator: zero it, run, then read back.
int accum_zero(bc_ctx *ctx);
int accum_read(bc_ctx *ctx, double *out, int count);
