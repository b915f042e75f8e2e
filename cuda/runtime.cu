// runtime.cu — contexts, errors, the caching allocator, host↔device copies
// and the cuBLAS matrix products.
#include "common.cuh"

#include <cstdlib>
#include <cstring>

int fail(bc_ctx *ctx, int code, const char *fmt, ...) {
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (ctx) ctx->err = buf;
	return code;
}

extern "C" int bc_abi_version(void) { return BC_ABI_VERSION; }

extern "C" const char *bc_error(bc_ctx *ctx) { return ctx ? ctx->err.c_str() : "no context"; }

static void release_all(bc_ctx *ctx) {
	for (auto &kv : ctx->freeList)
		for (void *p : kv.second) cudaFree(p);
	ctx->freeList.clear();
	ctx->bytesCached = 0;
}

extern "C" int bc_open(int device, bc_ctx **out, char *errbuf, int errlen) {
	*out = nullptr;
	auto report = [&](int code, const char *what, cudaError_t e) {
		if (errbuf && errlen > 0) snprintf(errbuf, errlen, "%s: %s", what, cudaGetErrorString(e));
		return code;
	};
	int count = 0;
	cudaError_t e = cudaGetDeviceCount(&count);
	if (e != cudaSuccess) return report(BC_ERR_NO_DEVICE, "cudaGetDeviceCount", e);
	if (count == 0 || device < 0 || device >= count) {
		if (errbuf && errlen > 0) snprintf(errbuf, errlen, "device %d requested, %d present", device, count);
		return BC_ERR_NO_DEVICE;
	}
	if ((e = cudaSetDevice(device)) != cudaSuccess) return report(BC_ERR_CUDA, "cudaSetDevice", e);
	bc_ctx *ctx = new bc_ctx();
	ctx->device = device;
	if ((e = cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking)) != cudaSuccess) {
		delete ctx;
		return report(BC_ERR_CUDA, "cudaStreamCreate", e);
	}
	if (cublasCreate(&ctx->blas) != CUBLAS_STATUS_SUCCESS) {
		cudaStreamDestroy(ctx->stream);
		delete ctx;
		if (errbuf && errlen > 0) snprintf(errbuf, errlen, "cublasCreate failed");
		return BC_ERR_CUBLAS;
	}
	cublasSetStream(ctx->blas, ctx->stream);
	// Exact fp32 products by default; bc_set_math opts into TF32.
	cublasSetMathMode(ctx->blas, CUBLAS_PEDANTIC_MATH);
	if ((e = cudaMalloc(&ctx->accum, 4 * sizeof(double))) != cudaSuccess ||
	    (e = cudaMallocHost(&ctx->accumHost, 4 * sizeof(double))) != cudaSuccess) {
		bc_close(ctx);
		return report(BC_ERR_MEMORY, "accumulator", e);
	}
	*out = ctx;
	return BC_OK;
}

extern "C" void bc_close(bc_ctx *ctx) {
	if (!ctx) return;
	cudaSetDevice(ctx->device);
	if (ctx->stream) cudaStreamSynchronize(ctx->stream);
	linear_release(ctx);
	release_all(ctx);
	for (auto &kv : ctx->live) cudaFree(kv.first);
	if (ctx->accum) cudaFree(ctx->accum);
	if (ctx->accumHost) cudaFreeHost(ctx->accumHost);
	if (ctx->blas) cublasDestroy(ctx->blas);
	if (ctx->stream) cudaStreamDestroy(ctx->stream);
	delete ctx;
}

// sizeClass rounds a request up so that blocks are reusable across nearby
// sizes: 256-byte granules up to 1 MiB, then steps of 1/8 of the power of two.
static size_t sizeClass(size_t bytes) {
	if (bytes == 0) bytes = 1;
	if (bytes <= (1u << 20)) return (bytes + 255) & ~size_t(255);
	size_t p = 1;
	while (p < bytes) p <<= 1;
	size_t step = p / 8;
	return (bytes + step - 1) / step * step;
}

void *ctx_alloc(bc_ctx *ctx, size_t bytes) {
	size_t cls = sizeClass(bytes);
	auto it = ctx->freeList.find(cls);
	void *p = nullptr;
	if (it != ctx->freeList.end() && !it->second.empty()) {
		p = it->second.back();
		it->second.pop_back();
		ctx->bytesCached -= cls;
	} else {
		cudaError_t e = cudaMalloc(&p, cls);
		if (e != cudaSuccess) {
			cudaGetLastError(); // clear the sticky-free error state
			cudaStreamSynchronize(ctx->stream);
			release_all(ctx);
			e = cudaMalloc(&p, cls);
			if (e != cudaSuccess) {
				cudaGetLastError();
				fail(ctx, BC_ERR_MEMORY, "cudaMalloc(%zu bytes): %s (%zu bytes live)", cls,
				     cudaGetErrorString(e), ctx->bytesLive);
				return nullptr;
			}
		}
	}
	ctx->live[p] = cls;
	ctx->bytesLive += cls;
	return p;
}

void ctx_free(bc_ctx *ctx, void *p) {
	if (!p) return;
	auto it = ctx->live.find(p);
	if (it == ctx->live.end()) return;
	size_t cls = it->second;
	ctx->live.erase(it);
	ctx->bytesLive -= cls;
	ctx->freeList[cls].push_back(p);
	ctx->bytesCached += cls;
}

int upload_i32(bc_ctx *ctx, const void *host, long n, int **out) {
	*out = (int *)ctx_alloc(ctx, n * sizeof(int));
	if (!*out) return BC_ERR_MEMORY;
	if (n > 0) CU(cudaMemcpyAsync(*out, host, n * sizeof(int), cudaMemcpyHostToDevice, ctx->stream));
	return BC_OK;
}

int accum_zero(bc_ctx *ctx) {
	CU(cudaMemsetAsync(ctx->accum, 0, 4 * sizeof(double), ctx->stream));
	return BC_OK;
}

int accum_read(bc_ctx *ctx, double *out, int count) {
	CU(cudaMemcpyAsync(ctx->accumHost, ctx->accum, count * sizeof(double), cudaMemcpyDeviceToHost,
	                   ctx->stream));
	CU(cudaStreamSynchronize(ctx->stream));
	for (int i = 0; i < count; i++) out[i] = ctx->accumHost[i];
	return BC_OK;
}

extern "C" int bc_device_info(bc_ctx *ctx, bc_args *a, const void *, void *h1) {
	cudaDeviceProp prop;
	CU(cudaGetDeviceProperties(&prop, ctx->device));
	if (h1) snprintf((char *)h1, 256, "%s", prop.name);
	a->out[0] = (double)prop.totalGlobalMem;
	a->out[1] = prop.multiProcessorCount;
	a->out[2] = prop.major * 10 + prop.minor;
	return BC_OK;
}

extern "C" int bc_alloc(bc_ctx *ctx, bc_args *a, const void *, void *) {
	void *p = ctx_alloc(ctx, (size_t)a->i[0]);
	if (!p) return BC_ERR_MEMORY;
	a->p[0] = (uint64_t)(uintptr_t)p;
	return BC_OK;
}

extern "C" int bc_free(bc_ctx *ctx, bc_args *a, const void *, void *) {
	ctx_free(ctx, P<void>(a, 0));
	return BC_OK;
}

extern "C" int bc_trim(bc_ctx *ctx, bc_args *a, const void *, void *) {
	a->out[0] = (double)ctx->bytesLive;
	a->out[1] = (double)ctx->bytesCached;
	CU(cudaStreamSynchronize(ctx->stream));
	release_all(ctx);
	return BC_OK;
}

extern "C" int bc_upload(bc_ctx *ctx, bc_args *a, const void *h0, void *) {
	if (a->i[0] > 0) CU(cudaMemcpyAsync(P<void>(a, 0), h0, a->i[0], cudaMemcpyHostToDevice, ctx->stream));
	return BC_OK;
}

extern "C" int bc_download(bc_ctx *ctx, bc_args *a, const void *, void *h1) {
	if (a->i[0] > 0) CU(cudaMemcpyAsync(h1, P<void>(a, 0), a->i[0], cudaMemcpyDeviceToHost, ctx->stream));
	CU(cudaStreamSynchronize(ctx->stream));
	return BC_OK;
}

extern "C" int bc_copy(bc_ctx *ctx, bc_args *a, const void *, void *) {
	if (a->i[0] > 0)
		CU(cudaMemcpyAsync(P<void>(a, 0), P<void>(a, 1), a->i[0], cudaMemcpyDeviceToDevice, ctx->stream));
	return BC_OK;
}

template <typename T> __global__ void fillKernel(T *d, long n, float v) {
	for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < n; i += (long)gridDim.x * blockDim.x) stf(d + i, v);
}

extern "C" int bc_fill(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	if (n == 0) return BC_OK;
	DISPATCH(fillKernel, blocksFor(n, 256), 256, PTR(0), n, a->f[0]);
	LAUNCHED();
	return BC_OK;
}

extern "C" int bc_sync(bc_ctx *ctx, bc_args *, const void *, void *) {
	CU(cudaStreamSynchronize(ctx->stream));
	return BC_OK;
}

extern "C" int bc_set_precision(bc_ctx *ctx, bc_args *a, const void *, void *) {
	if (!ctx->live.empty()) return fail(ctx, BC_ERR_ARGUMENT, "bc_set_precision: tensors already allocated");
	ctx->bf16 = a->i[0] == 1;
	BLAS(cublasSetMathMode(ctx->blas, ctx->bf16 ? CUBLAS_DEFAULT_MATH : CUBLAS_PEDANTIC_MATH));
	return BC_OK;
}

extern "C" int bc_set_math(bc_ctx *ctx, bc_args *a, const void *, void *) {
	ctx->tf32 = a->i[0] != 0;
	BLAS(cublasSetMathMode(ctx->blas, a->i[0] ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH));
	return BC_OK;
}

// scaleMatrixK sets C = β·C (β = 0 writes zeros, whatever C held).
__global__ void scaleMatrixK(float *c, int m, int n, long ldc, long strideC, float beta) {
	int j = blockIdx.x * 32 + threadIdx.x, i = blockIdx.y * 8 + threadIdx.y;
	if (i >= m || j >= n) return;
	float *p = c + blockIdx.z * strideC + i * ldc + j;
	*p = beta == 0.f ? 0.f : beta * *p;
}

// Row-major C[M,N] = op(A)·op(B) is column-major Cᵀ[N,M] = op(B)ᵀ·op(A)ᵀ, so
// cuBLAS gets the operands swapped and the same transpose flags.
int gemm_rm(bc_ctx *ctx, bool transA, bool transB, int m, int n, int k, float alpha,
            const float *a, long lda, long strideA, const float *b, long ldb, long strideB,
            float beta, float *c, long ldc, long strideC, int batch) {
	if (m == 0 || n == 0 || batch == 0) return BC_OK;
	if (k == 0) {
		if (ctx->bf16) return fail(ctx, BC_ERR_ARGUMENT, "gemm: k = 0 with bf16 storage");
		// cuBLAS leaves C untouched when k = 0; the contract says C = β·C.
		dim3 grid((unsigned)((n + 31) / 32), (unsigned)((m + 7) / 8), (unsigned)batch);
		scaleMatrixK<<<grid, dim3(32, 8), 0, ctx->stream>>>(c, m, n, ldc, strideC, beta);
		LAUNCHED();
		return BC_OK;
	}
	cublasOperation_t opA = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
	cublasOperation_t opB = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
	if (ctx->bf16) {
		// The pointers hold bf16 values (same element offsets); fp32 accumulation.
		const bf16 *A = (const bf16 *)a, *Bm = (const bf16 *)b;
		bf16 *C = (bf16 *)c;
		if (batch == 1)
			BLAS(cublasGemmEx(ctx->blas, opB, opA, n, m, k, &alpha, Bm, CUDA_R_16BF, (int)ldb, A, CUDA_R_16BF, (int)lda,
			                  &beta, C, CUDA_R_16BF, (int)ldc, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
		else
			BLAS(cublasGemmStridedBatchedEx(ctx->blas, opB, opA, n, m, k, &alpha, Bm, CUDA_R_16BF, (int)ldb, strideB, A,
			                                CUDA_R_16BF, (int)lda, strideA, &beta, C, CUDA_R_16BF, (int)ldc, strideC,
			                                batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
		return BC_OK;
	}
	if (batch == 1) {
		BLAS(cublasSgemm(ctx->blas, opB, opA, n, m, k, &alpha, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc));
	} else {
		BLAS(cublasSgemmStridedBatched(ctx->blas, opB, opA, n, m, k, &alpha, b, (int)ldb, strideB, a,
		                               (int)lda, strideA, &beta, c, (int)ldc, strideC, batch));
	}
	return BC_OK;
}

extern "C" int bc_gemm(bc_ctx *ctx, bc_args *a, const void *, void *) {
	return gemm_rm(ctx, a->i[0] != 0, a->i[1] != 0, (int)a->i[2], (int)a->i[3], (int)a->i[4], a->f[0],
	               F(a, 0), a->i[5], a->i[9], F(a, 1), a->i[6], a->i[10], a->f[1], F(a, 2), a->i[7],
	               a->i[11], (int)a->i[8]);
}
