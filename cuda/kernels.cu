// kernels.cu — elementwise ops, activations, softmax, dropout, reductions,
// normalisation, losses, embeddings, the optimiser and the int8 product.
#include "common.cuh"

#include <cmath>

#define GRID_STRIDE(i, n) \
	for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < (n); i += (long)gridDim.x * blockDim.x)

constexpr int TPB = 256;

// ---------------------------------------------------------------- elementwise

template <typename T> __global__ void addK(T *d, const T *a, const T *b, long n) {
	GRID_STRIDE(i, n) stf(d + i, ldf(a + i) + ldf(b + i));
}
__global__ void subK(float *d, const float *a, const float *b, long n) { GRID_STRIDE(i, n) d[i] = a[i] - b[i]; }
__global__ void mulK(float *d, const float *a, const float *b, long n) { GRID_STRIDE(i, n) d[i] = a[i] * b[i]; }
__global__ void scaleK(float *d, const float *x, float s, long n) { GRID_STRIDE(i, n) d[i] = s * x[i]; }
__global__ void addScaledK(float *d, const float *x, float s, long n) { GRID_STRIDE(i, n) d[i] += s * x[i]; }
__global__ void mulAddK(float *d, const float *a, const float *b, long n) { GRID_STRIDE(i, n) d[i] += a[i] * b[i]; }

#define ELEMENTWISE(name, ...)                                              \
	extern "C" int name(bc_ctx *ctx, bc_args *a, const void *, void *) { \
		long n = a->i[0];                                                  \
		if (n == 0) return BC_OK;                                          \
		__VA_ARGS__;                                                       \
		LAUNCHED();                                                        \
		return BC_OK;                                                      \
	}

ELEMENTWISE(bc_add, DISPATCH(addK, blocksFor(n, TPB), TPB, PTR(0), PTR(1), PTR(2), n))
ELEMENTWISE(bc_sub, subK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), n))
ELEMENTWISE(bc_mul, mulK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), n))
ELEMENTWISE(bc_scale, scaleK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), a->f[0], n))
ELEMENTWISE(bc_add_scaled, addScaledK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), a->f[0], n))
ELEMENTWISE(bc_mul_add, mulAddK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), n))

template <typename T> __global__ void addBiasK(T *d, const T *x, const T *bias, long rows, long cols) {
	GRID_STRIDE(i, rows * cols) stf(d + i, ldf(x + i) + ldf(bias + i % cols));
}

extern "C" int bc_add_bias(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0] * a->i[1];
	if (n == 0) return BC_OK;
	DISPATCH(addBiasK, blocksFor(n, TPB), TPB, PTR(0), PTR(1), PTR(2), a->i[0], a->i[1]);
	LAUNCHED();
	return BC_OK;
}

// Column sums: a block of 32×8 threads owns 32 columns; its 8 rows of threads
// stride over the rows, then fold through shared memory.
__global__ void sumRowsK(float *d, const float *x, long rows, long cols, int accumulate) {
	__shared__ float part[8][33];
	long c = blockIdx.x * 32L + threadIdx.x;
	float s = 0.f;
	if (c < cols)
		for (long r = threadIdx.y; r < rows; r += 8) s += x[r * cols + c];
	part[threadIdx.y][threadIdx.x] = s;
	__syncthreads();
	if (threadIdx.y == 0 && c < cols) {
		float t = 0.f;
		for (int k = 0; k < 8; k++) t += part[k][threadIdx.x];
		d[c] = accumulate ? d[c] + t : t;
	}
}

int sum_rows(bc_ctx *ctx, float *d, const float *x, long rows, long cols, bool accumulate) {
	if (cols == 0) return BC_OK;
	dim3 block(32, 8);
	sumRowsK<<<(unsigned)((cols + 31) / 32), block, 0, ctx->stream>>>(d, x, rows, cols, accumulate);
	LAUNCHED();
	return BC_OK;
}

extern "C" int bc_sum_rows(bc_ctx *ctx, bc_args *a, const void *, void *) {
	return sum_rows(ctx, F(a, 0), F(a, 1), a->i[0], a->i[1], a->i[2] != 0);
}

// One warp per row.
__global__ void sumColsK(float *d, const float *x, long rows, long cols) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (r >= rows) return;
	float s = 0.f;
	for (long c = lane; c < cols; c += 32) s += x[r * cols + c];
	s = warpSum(s);
	if (lane == 0) d[r] = s;
}

extern "C" int bc_sum_cols(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0];
	if (rows == 0) return BC_OK;
	sumColsK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), rows, a->i[1]);
	LAUNCHED();
	return BC_OK;
}

__global__ void sumK(const float *x, long n, double *acc) {
	double s = 0;
	GRID_STRIDE(i, n) s += x[i];
	blockAtomicSum(s, acc);
}

extern "C" int bc_sum(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	int rc = accum_zero(ctx);
	if (rc) return rc;
	if (n > 0) {
		sumK<<<min(blocksFor(n, TPB), 1024u), TPB, 0, ctx->stream>>>(F(a, 0), n, ctx->accum);
		LAUNCHED();
	}
	return accum_read(ctx, a->out, 1);
}

__global__ void copyColsK(float *d, const float *s, long rows, long dc, long sc, long dcol, long scol, long width,
                          int accumulate) {
	GRID_STRIDE(i, rows * width) {
		long r = i / width, j = i % width;
		float v = s[r * sc + scol + j];
		float *p = d + r * dc + dcol + j;
		*p = accumulate ? *p + v : v;
	}
}

extern "C" int bc_copy_cols(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0] * a->i[5];
	if (n == 0) return BC_OK;
	copyColsK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), a->i[0], a->i[1], a->i[2], a->i[3],
	                                                      a->i[4], a->i[5], (int)a->i[6]);
	LAUNCHED();
	return BC_OK;
}

// ---------------------------------------------------------------- activations

constexpr float kGeluC = 0.044715f, kGeluS = 0.7978845608028654f;

template <typename T> __global__ void activateK(int f, T *d, const T *x, long n) {
	GRID_STRIDE(i, n) {
		float v = ldf(x + i), y;
		switch (f) {
		case 1: y = fmaxf(v, 0.f); break;
		case 2: y = 0.5f * v * (1.f + tanhf(kGeluS * (v + kGeluC * v * v * v))); break;
		case 3: y = tanhf(v); break;
		default: y = 1.f / (1.f + expf(-v)); break;
		}
		stf(d + i, y);
	}
}

extern "C" int bc_activate(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	if (n == 0) return BC_OK;
	DISPATCH(activateK, blocksFor(n, TPB), TPB, (int)a->i[1], PTR(0), PTR(1), n);
	LAUNCHED();
	return BC_OK;
}

__global__ void activateBackwardK(int f, float *dx, const float *x, const float *y, const float *dy, long n) {
	GRID_STRIDE(i, n) {
		float g = dy[i];
		switch (f) {
		case 1:
			if (x[i] > 0.f) dx[i] += g;
			break;
		case 2: {
			float v = x[i];
			float t = tanhf(kGeluS * (v + kGeluC * v * v * v));
			float dt = (1.f - t * t) * kGeluS * (1.f + 3.f * kGeluC * v * v);
			dx[i] += g * (0.5f * (1.f + t) + 0.5f * v * dt);
			break;
		}
		case 3: dx[i] += g * (1.f - y[i] * y[i]); break;
		default: dx[i] += g * y[i] * (1.f - y[i]); break;
		}
	}
}

extern "C" int bc_activate_backward(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	if (n == 0) return BC_OK;
	activateBackwardK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>((int)a->i[1], F(a, 0), F(a, 1), F(a, 2), F(a, 3), n);
	LAUNCHED();
	return BC_OK;
}

// One warp per row; returns log-sum-exp through lse when non-null.
__device__ void softmaxRowWarp(float *d, const float *x, long cols, int lane) {
	float m = -INFINITY;
	for (long c = lane; c < cols; c += 32) m = fmaxf(m, x[c]);
	m = warpMax(m);
	float s = 0.f;
	for (long c = lane; c < cols; c += 32) {
		float e = expf(x[c] - m);
		d[c] = e;
		s += e;
	}
	s = warpSum(s);
	float inv = 1.f / s;
	for (long c = lane; c < cols; c += 32) d[c] *= inv;
}

__global__ void softmaxK(float *d, const float *x, long rows, long cols) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	if (r >= rows) return;
	softmaxRowWarp(d + r * cols, x + r * cols, cols, threadIdx.x & 31);
}

extern "C" int bc_softmax(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (rows == 0 || cols == 0) return BC_OK;
	softmaxK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), rows, cols);
	LAUNCHED();
	return BC_OK;
}

__global__ void softmaxBackwardK(float *dx, const float *y, const float *dy, long rows, long cols, float scale) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (r >= rows) return;
	const float *yr = y + r * cols, *gr = dy + r * cols;
	float dot = 0.f;
	for (long c = lane; c < cols; c += 32) dot += yr[c] * gr[c];
	dot = warpSum(dot);
	for (long c = lane; c < cols; c += 32) dx[r * cols + c] += scale * yr[c] * (gr[c] - dot);
}

extern "C" int bc_softmax_backward(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (rows == 0 || cols == 0) return BC_OK;
	softmaxBackwardK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), rows, cols, 1.f);
	LAUNCHED();
	return BC_OK;
}

// ---------------------------------------------------------------- dropout

// The same counter-based generator as tensor.DropoutUniform (splitmix64), so
// the CPU and the GPU draw identical masks.
__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

__global__ void dropoutK(float *d, const float *x, long n, float p, unsigned long long seed, unsigned long long off,
                         int backward) {
	unsigned long long ms = mix64(seed);
	float scale = 1.f / (1.f - p);
	GRID_STRIDE(i, n) {
		unsigned long long z = mix64(ms + (off + (unsigned long long)i + 1ULL) * 0x9E3779B97F4A7C15ULL);
		float u = (float)(z >> 40) * (1.0f / 16777216.0f);
		bool keep = u >= p;
		if (backward) {
			if (keep) d[i] += x[i] * scale;
		} else {
			d[i] = keep ? x[i] * scale : 0.f;
		}
	}
}

extern "C" int bc_dropout(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	if (n == 0) return BC_OK;
	dropoutK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), n, a->f[0], (unsigned long long)a->i[1],
	                                                     (unsigned long long)a->i[2], (int)a->i[3]);
	LAUNCHED();
	return BC_OK;
}

// ---------------------------------------------------------------- layer norm

// One warp per row; with r set, sum = x + r is formed and normalised. The row's values are
// read from x (+ r) in both passes, so bf16 storage rounds only on the final stores.
template <typename T>
__global__ void layerNormK(T *y, T *mean, T *rstd, const T *x, const T *r, T *sum, const T *g, const T *b, long rows,
                           long cols, float eps) {
	long row = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (row >= rows) return;
	const T *xr = x + row * cols;
	const T *rr = r ? r + row * cols : nullptr;
	auto val = [&](long c) { return rr ? ldf(xr + c) + ldf(rr + c) : ldf(xr + c); };
	float s = 0.f;
	for (long c = lane; c < cols; c += 32) s += val(c);
	s = warpSum(s);
	float mu = s / cols;
	float ss = 0.f;
	for (long c = lane; c < cols; c += 32) {
		float d = val(c) - mu;
		ss += d * d;
	}
	ss = warpSum(ss);
	float rs = rsqrtf(ss / cols + eps);
	for (long c = lane; c < cols; c += 32) {
		float v = val(c);
		if (sum) stf(sum + row * cols + c, v);
		stf(y + row * cols + c, (v - mu) * rs * ldf(g + c) + ldf(b + c));
	}
	if (lane == 0 && mean) {
		stf(mean + row, mu);
		stf(rstd + row, rs);
	}
}

extern "C" int bc_layernorm(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (rows == 0 || cols == 0) return BC_OK;
	DISPATCH(layerNormK, blocksFor(rows * 32, TPB), TPB, PTR(0), PTR(1), PTR(2), PTR(3), PTR(6), PTR(7), PTR(4), PTR(5),
	         rows, cols, a->f[0]);
	LAUNCHED();
	return BC_OK;
}

__global__ void layerNormBackwardK(float *dx, float *dr, const float *dy, const float *x, const float *mean,
                                   const float *rstd, const float *g, long rows, long cols) {
	long row = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (row >= rows) return;
	const float *xr = x + row * cols, *dyr = dy + row * cols;
	float mu = mean[row], rs = rstd[row];
	float sg = 0.f, sgx = 0.f;
	// __fmul_rn keeps dy·γ from being fused into the subtraction below, so
	// that (dy·γ − mean) is exactly 0 where it should be (a single column).
	for (long c = lane; c < cols; c += 32) {
		float xhat = (xr[c] - mu) * rs, gj = __fmul_rn(dyr[c], g[c]);
		sg += gj;
		sgx += gj * xhat;
	}
	sg = warpSum(sg) / cols;
	sgx = warpSum(sgx) / cols;
	for (long c = lane; c < cols; c += 32) {
		float xhat = (xr[c] - mu) * rs;
		float v = rs * (__fmul_rn(dyr[c], g[c]) - sg - xhat * sgx);
		dx[row * cols + c] += v;
		if (dr) dr[row * cols + c] += v;
	}
}

// dγ and dβ: one thread per column, over all rows.
__global__ void layerNormParamGradK(float *dg, float *db, const float *dy, const float *x, const float *mean,
                                    const float *rstd, long rows, long cols) {
	__shared__ float pg[8][33], pb[8][33];
	long c = blockIdx.x * 32L + threadIdx.x;
	float sg = 0.f, sb = 0.f;
	if (c < cols)
		for (long r = threadIdx.y; r < rows; r += 8) {
			float d = dy[r * cols + c];
			sg += d * (x[r * cols + c] - mean[r]) * rstd[r];
			sb += d;
		}
	pg[threadIdx.y][threadIdx.x] = sg;
	pb[threadIdx.y][threadIdx.x] = sb;
	__syncthreads();
	if (threadIdx.y == 0 && c < cols) {
		float tg = 0.f, tb = 0.f;
		for (int k = 0; k < 8; k++) {
			tg += pg[k][threadIdx.x];
			tb += pb[k][threadIdx.x];
		}
		dg[c] += tg;
		db[c] += tb;
	}
}

extern "C" int bc_layernorm_backward(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (rows == 0 || cols == 0) return BC_OK;
	float *dx = F(a, 0), *dr = F(a, 1);
	if (dr == dx) {
		// dx and dr are one tensor: it receives the gradient twice.
		layerNormBackwardK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(dx, nullptr, F(a, 4), F(a, 5), F(a, 6),
		                                                                       F(a, 7), F(a, 8), rows, cols);
		LAUNCHED();
	}
	layerNormBackwardK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(
	    dx, dr == dx ? nullptr : dr, F(a, 4), F(a, 5), F(a, 6), F(a, 7), F(a, 8), rows, cols);
	LAUNCHED();
	layerNormParamGradK<<<(unsigned)((cols + 31) / 32), dim3(32, 8), 0, ctx->stream>>>(F(a, 2), F(a, 3), F(a, 4),
	                                                                                    F(a, 5), F(a, 6), F(a, 7),
	                                                                                    rows, cols);
	LAUNCHED();
	return BC_OK;
}

// ---------------------------------------------------------------- batch norm

// One thread per column; statistics in double as the CPU backend.
__global__ void batchNormStatsK(float *mean, float *invStd, float *runMean, float *runVar, const float *x, long rows,
                                long cols, float momentum, float eps, int training, float *muOut, float *isOut) {
	long c = blockIdx.x * (long)blockDim.x + threadIdx.x;
	if (c >= cols) return;
	float mu, is;
	if (training) {
		double s = 0;
		for (long r = 0; r < rows; r++) s += x[r * cols + c];
		s /= rows;
		double sq = 0;
		for (long r = 0; r < rows; r++) {
			double d = x[r * cols + c] - s;
			sq += d * d;
		}
		mu = (float)s;
		is = (float)(1.0 / sqrt(sq / rows + (double)eps));
		runMean[c] = (1 - momentum) * runMean[c] + momentum * mu;
		runVar[c] = (1 - momentum) * runVar[c] + momentum * (float)(sq / (rows - 1));
		mean[c] = mu;
		invStd[c] = is;
	} else {
		mu = runMean[c];
		is = (float)(1.0 / sqrt((double)runVar[c] + (double)eps));
	}
	muOut[c] = mu;
	isOut[c] = is;
}

__global__ void batchNormApplyK(float *y, const float *x, const float *mu, const float *is, const float *g,
                                const float *b, long rows, long cols) {
	GRID_STRIDE(i, rows * cols) {
		long c = i % cols;
		y[i] = (x[i] - mu[c]) * is[c] * g[c] + b[c];
	}
}

extern "C" int bc_batchnorm(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (cols == 0) return BC_OK;
	float *tmp = (float *)ctx_alloc(ctx, 2 * cols * sizeof(float));
	if (!tmp) return BC_ERR_MEMORY;
	batchNormStatsK<<<blocksFor(cols, 128), 128, 0, ctx->stream>>>(F(a, 1), F(a, 2), F(a, 3), F(a, 4), F(a, 5), rows,
	                                                               cols, a->f[1], a->f[0], (int)a->i[2], tmp,
	                                                               tmp + cols);
	LAUNCHED();
	if (rows > 0) {
		batchNormApplyK<<<blocksFor(rows * cols, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 5), tmp, tmp + cols,
		                                                                      F(a, 6), F(a, 7), rows, cols);
		LAUNCHED();
	}
	ctx_free(ctx, tmp);
	return BC_OK;
}

__global__ void batchNormGradStatsK(float *dg, float *db, float *sums, const float *dy, const float *x,
                                    const float *mu, const float *is, long rows, long cols) {
	long c = blockIdx.x * (long)blockDim.x + threadIdx.x;
	if (c >= cols) return;
	double sg = 0, sgx = 0;
	for (long r = 0; r < rows; r++) {
		double g = dy[r * cols + c];
		sg += g;
		sgx += g * (double)((x[r * cols + c] - mu[c]) * is[c]);
	}
	dg[c] += (float)sgx;
	db[c] += (float)sg;
	sums[c] = (float)(sg / rows);
	sums[cols + c] = (float)(sgx / rows);
}

__global__ void batchNormGradApplyK(float *dx, const float *dy, const float *x, const float *mu, const float *is,
                                    const float *gm, const float *sums, long rows, long cols) {
	GRID_STRIDE(i, rows * cols) {
		long c = i % cols;
		float xhat = (x[i] - mu[c]) * is[c];
		dx[i] += gm[c] * is[c] * (dy[i] - sums[c] - xhat * sums[cols + c]);
	}
}

extern "C" int bc_batchnorm_backward(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long rows = a->i[0], cols = a->i[1];
	if (rows == 0 || cols == 0) return BC_OK;
	float *sums = (float *)ctx_alloc(ctx, 2 * cols * sizeof(float));
	if (!sums) return BC_ERR_MEMORY;
	batchNormGradStatsK<<<blocksFor(cols, 128), 128, 0, ctx->stream>>>(F(a, 1), F(a, 2), sums, F(a, 3), F(a, 4),
	                                                                   F(a, 5), F(a, 6), rows, cols);
	LAUNCHED();
	batchNormGradApplyK<<<blocksFor(rows * cols, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 3), F(a, 4), F(a, 5),
	                                                                          F(a, 6), F(a, 7), sums, rows, cols);
	LAUNCHED();
	ctx_free(ctx, sums);
	return BC_OK;
}

// ---------------------------------------------------------------- losses

// One warp per row: loss += lse − x[t]; dlogits += (softmax − onehot)·inv.
__global__ void softmaxXentK(float *dl, const float *x, const int *targets, long rows, long cols, int ignore,
                             float inv, double *acc) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	double contrib = 0;
	if (r < rows && targets[r] != ignore) {
		const float *xr = x + r * cols;
		int t = targets[r];
		float m = -INFINITY;
		for (long c = lane; c < cols; c += 32) m = fmaxf(m, xr[c]);
		m = warpMax(m);
		float s = 0.f;
		for (long c = lane; c < cols; c += 32) s += expf(xr[c] - m);
		s = warpSum(s);
		if (lane == 0) contrib = (double)m + log((double)s) - (double)xr[t];
		if (dl) {
			float is = 1.f / s;
			for (long c = lane; c < cols; c += 32) {
				float p = expf(xr[c] - m) * is;
				if (c == t) p -= 1.f;
				dl[r * cols + c] += p * inv;
			}
		}
	}
	blockAtomicSum(contrib, acc);
}

extern "C" int bc_softmax_xent(bc_ctx *ctx, bc_args *a, const void *h0, void *) {
	long rows = a->i[0], cols = a->i[1], valid = a->i[3];
	a->out[0] = 0;
	if (valid == 0 || rows == 0) return BC_OK;
	int *targets;
	int rc = upload_i32(ctx, h0, rows, &targets);
	if (rc) return rc;
	if ((rc = accum_zero(ctx))) return rc;
	softmaxXentK<<<blocksFor(rows * 32, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), targets, rows, cols,
	                                                                 (int)a->i[2], 1.f / valid, ctx->accum);
	LAUNCHED();
	ctx_free(ctx, targets);
	double sum;
	if ((rc = accum_read(ctx, &sum, 1))) return rc;
	a->out[0] = sum / valid;
	return BC_OK;
}

__global__ void bceK(float *dl, const float *x, const float *t, long n, float inv, double *acc) {
	double s = 0;
	GRID_STRIDE(i, n) {
		float v = x[i], tv = t[i];
		s += (double)fmaxf(v, 0.f) - (double)v * tv + log1p(exp(-fabs((double)v)));
		if (dl) dl[i] += (1.f / (1.f + expf(-v)) - tv) * inv;
	}
	blockAtomicSum(s, acc);
}

__global__ void mseK(float *dp, const float *p, const float *t, long n, float scale, double *acc) {
	double s = 0;
	GRID_STRIDE(i, n) {
		float d = p[i] - t[i];
		s += (double)d * d;
		if (dp) dp[i] += scale * d;
	}
	blockAtomicSum(s, acc);
}

extern "C" int bc_bce_logits(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	a->out[0] = 0;
	if (n == 0) return BC_OK;
	int rc = accum_zero(ctx);
	if (rc) return rc;
	bceK<<<min(blocksFor(n, TPB), 1024u), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), n, 1.f / n, ctx->accum);
	LAUNCHED();
	double s;
	if ((rc = accum_read(ctx, &s, 1))) return rc;
	a->out[0] = s / n;
	return BC_OK;
}

extern "C" int bc_mse(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	a->out[0] = 0;
	if (n == 0) return BC_OK;
	int rc = accum_zero(ctx);
	if (rc) return rc;
	mseK<<<min(blocksFor(n, TPB), 1024u), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), n, 2.f / n, ctx->accum);
	LAUNCHED();
	double s;
	if ((rc = accum_read(ctx, &s, 1))) return rc;
	a->out[0] = s / n;
	return BC_OK;
}

// ---------------------------------------------------------------- embeddings

template <typename T> __global__ void embeddingK(T *d, const T *table, const int *ids, long n, long dim) {
	GRID_STRIDE(i, n * dim) {
		long r = i / dim, c = i % dim;
		d[i] = table[(long)ids[r] * dim + c];
	}
}

__global__ void embeddingBackwardK(float *dt, const float *dy, const int *ids, long n, long dim) {
	GRID_STRIDE(i, n * dim) {
		long r = i / dim, c = i % dim;
		atomicAdd(dt + (long)ids[r] * dim + c, dy[i]);
	}
}

static int embedding(bc_ctx *ctx, bc_args *a, const void *h0, bool backward) {
	long n = a->i[0], dim = a->i[1];
	if (n == 0 || dim == 0) return BC_OK;
	int *ids;
	int rc = upload_i32(ctx, h0, n, &ids);
	if (rc) return rc;
	if (backward)
		embeddingBackwardK<<<blocksFor(n * dim, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), ids, n, dim);
	else
		DISPATCH(embeddingK, blocksFor(n * dim, TPB), TPB, PTR(0), PTR(1), ids, n, dim);
	LAUNCHED();
	ctx_free(ctx, ids);
	return BC_OK;
}

extern "C" int bc_embedding(bc_ctx *ctx, bc_args *a, const void *h0, void *) { return embedding(ctx, a, h0, false); }
extern "C" int bc_embedding_backward(bc_ctx *ctx, bc_args *a, const void *h0, void *) {
	return embedding(ctx, a, h0, true);
}

// ---------------------------------------------------------------- optimiser

__global__ void adamwK(float *p, const float *g, float *m, float *v, long n, float lr, float b1, float b2, float eps,
                       float wd, float gs, float bc1, float bc2) {
	GRID_STRIDE(i, n) {
		float gi = gs * g[i];
		float mi = b1 * m[i] + (1.f - b1) * gi;
		float vi = b2 * v[i] + (1.f - b2) * gi * gi;
		m[i] = mi;
		v[i] = vi;
		float mh = mi / bc1, vh = vi / bc2;
		p[i] -= lr * (mh / (sqrtf(vh) + eps) + wd * p[i]);
	}
}

extern "C" int bc_adamw(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0];
	if (n == 0) return BC_OK;
	const float *f = a->f;
	adamwK<<<blocksFor(n, TPB), TPB, 0, ctx->stream>>>(F(a, 0), F(a, 1), F(a, 2), F(a, 3), n, f[0], f[1], f[2], f[3],
	                                                   f[4], f[5], f[6], f[7]);
	LAUNCHED();
	return BC_OK;
}

__global__ void sumsqK(const float *x, long n, double *acc) {
	double s = 0;
	GRID_STRIDE(i, n) s += (double)x[i] * x[i];
	blockAtomicSum(s, acc);
}

extern "C" int bc_sumsq(bc_ctx *ctx, bc_args *a, const void *h0, void *) {
	long k = a->i[0];
	const long long *sizes = (const long long *)h0;
	int rc = accum_zero(ctx);
	if (rc) return rc;
	for (long t = 0; t < k && t < 16; t++) {
		long n = sizes[t];
		if (n == 0) continue;
		sumsqK<<<min(blocksFor(n, TPB), 1024u), TPB, 0, ctx->stream>>>(F(a, (int)t), n, ctx->accum);
		LAUNCHED();
	}
	return accum_read(ctx, a->out, 1);
}

// ---------------------------------------------------------------- int8

__global__ void dequantK(float *w, const signed char *q, const float *scale, long rows, long cols) {
	GRID_STRIDE(i, rows * cols) w[i] = scale[i / cols] * (float)q[i];
}

// y = x·Wᵀ with W = diag(scale)·Q: dequantise into cache memory, then one
// cuBLAS product (the weights are small; the product dominates).
extern "C" int bc_matmul_int8t(bc_ctx *ctx, bc_args *a, const void *, void *) {
	long n = a->i[0], in = a->i[1], out = a->i[2];
	if (n == 0 || out == 0) return BC_OK;
	float *w = (float *)ctx_alloc(ctx, out * in * sizeof(float));
	if (!w) return BC_ERR_MEMORY;
	if (out * in > 0) {
		dequantK<<<blocksFor(out * in, TPB), TPB, 0, ctx->stream>>>(w, P<signed char>(a, 0), F(a, 1), out, in);
		LAUNCHED();
	}
	int rc = gemm_rm(ctx, false, true, (int)n, (int)out, (int)in, 1.f, F(a, 2), in, 0, w, in, 0, 0.f, F(a, 3), out, 0,
	                 1);
	ctx_free(ctx, w);
	return rc;
}
