// crf.cu — linear-chain CRF decoding on the device: Viterbi paths and forward–backward
// posterior marginals, one warp per sequence, lane j owning tag j (K ≤ 32). Double
// precision and the host CRF's tie rule (lowest tag), so paths and marginals match
// core/nn's CRF; the emissions never leave the GPU, only the paths and marginals do.
#include "common.cuh"

#include <cmath>
#include <cstring>

constexpr int CRF_WARPS = 4;

__device__ __forceinline__ double shfl(double v, int lane) { return __shfl_sync(0xffffffffu, v, lane); }

// crfForward runs the forward algorithm for sequence b (n positions) in the calling warp,
// lane j owning tag j: α_t(j) = e_t(j) + log Σ_i exp(α_{t−1}(i) + tr(i, j)), stored in
// ab[t·32 + j], and returns logZ = log Σ_j exp(α_{n−1}(j) + end(j)) to every lane.
__device__ double crfForward(const float *em, int B, int b, int K, int n, int j, const double *tr, const double *st,
                             const double *en, double *ab) {
	const bool on = j < K;
	auto e = [&](int t) -> double { return on ? (double)em[((long)t * B + b) * K + j] : 0.0; };
	double a = on ? st[j] + e(0) : -INFINITY;
	ab[j] = a;
	for (int t = 1; t < n; t++) {
		double m = -INFINITY;
		for (int i = 0; i < K; i++) m = fmax(m, shfl(a, i) + (on ? tr[i * K + j] : 0.0));
		double s = 0;
		for (int i = 0; i < K; i++) s += exp(shfl(a, i) + (on ? tr[i * K + j] : 0.0) - m);
		a = on ? m + log(s) + e(t) : -INFINITY;
		ab[(long)t * 32 + j] = a;
	}
	double z = on ? a + en[j] : -INFINITY;
	double zm = -INFINITY;
	for (int i = 0; i < K; i++) zm = fmax(zm, shfl(z, i));
	double zs = 0;
	for (int i = 0; i < K; i++) zs += exp(shfl(z, i) - zm);
	return zm + log(zs);
}

__global__ void crfDecodeK(const float *em, int T, int B, int K, const unsigned *lens, const float *params,
                           int *paths, float *marg, unsigned char *bp, double *alpha) {
	__shared__ double tr[32 * 32], st[32], en[32];
	for (int i = threadIdx.x; i < K * K; i += blockDim.x) tr[i] = params[i];
	for (int i = threadIdx.x; i < K; i += blockDim.x) {
		st[i] = params[K * K + i];
		en[i] = params[K * K + K + i];
	}
	__syncthreads();
	int b = blockIdx.x * CRF_WARPS + (threadIdx.x >> 5);
	int j = threadIdx.x & 31;
	if (b >= B) return;
	int n = (int)lens[b];
	bool on = j < K;
	auto e = [&](int t) -> double { return on ? (double)em[((long)t * B + b) * K + j] : 0.0; };
	unsigned char *bpb = bp + (long)b * T * 32;
	double *ab = alpha + (long)b * T * 32;
	int *pb = paths + (long)b * T;
	float *mb = marg + (long)b * T * K;
	// Padding positions are zero in both outputs.
	for (int t = n; t < T; t++) {
		if (j == 0) pb[t] = 0;
		if (on) mb[(long)t * K + j] = 0.f;
	}
	if (n == 0) return;

	// Viterbi: δ_t(j) = e_t(j) + max_i δ_{t−1}(i) + tr(i, j), first maximum wins.
	double d = on ? st[j] + e(0) : -INFINITY;
	for (int t = 1; t < n; t++) {
		double best = -INFINITY;
		int arg = 0;
		for (int i = 0; i < K; i++) {
			double v = shfl(d, i) + (on ? tr[i * K + j] : 0.0);
			if (v > best) {
				best = v;
				arg = i;
			}
		}
		if (on) bpb[(long)t * 32 + j] = (unsigned char)arg;
		d = on ? best + e(t) : -INFINITY;
	}
	double fin = on ? d + en[j] : -INFINITY;
	int tag = 0;
	double best = shfl(fin, 0);
	for (int i = 1; i < K; i++) {
		double v = shfl(fin, i);
		if (v > best) {
			best = v;
			tag = i;
		}
	}
	__syncwarp();
	if (j == 0) {
		for (int t = n - 1; t >= 0; t--) {
			pb[t] = tag;
			if (t > 0) tag = bpb[(long)t * 32 + tag];
		}
	}

	double logZ = crfForward(em, B, b, K, n, j, tr, st, en, ab);

	// Backward: β_{n−1}(i) = end(i); β_{t−1}(i) = log Σ_j exp(tr(i, j) + e_t(j) + β_t(j)).
	double be = on ? en[j] : -INFINITY;
	__syncwarp();
	if (on) mb[(long)(n - 1) * K + j] = (float)exp(ab[(long)(n - 1) * 32 + j] + be - logZ);
	for (int t = n - 1; t >= 1; t--) {
		double w = on ? e(t) + be : -INFINITY; // lane j holds e_t(j) + β_t(j)
		double m = -INFINITY;
		for (int k = 0; k < K; k++) m = fmax(m, (on ? tr[j * K + k] : 0.0) + shfl(w, k));
		double s = 0;
		for (int k = 0; k < K; k++) s += exp((on ? tr[j * K + k] : 0.0) + shfl(w, k) - m);
		be = on ? m + log(s) : -INFINITY;
		if (on) mb[(long)(t - 1) * K + j] = (float)exp(ab[(long)(t - 1) * 32 + j] + be - logZ);
	}
}

extern "C" int bc_crf_decode(bc_ctx *ctx, bc_args *a, const void *h0, void *h1) {
	const long T = a->i[0], B = a->i[1], K = a->i[2];
	if (K < 1 || K > 32) return fail(ctx, BC_ERR_ARGUMENT, "bc_crf_decode: %ld tags, at most 32", K);
	if (B == 0 || T == 0) return BC_OK;
	const size_t lenBytes = B * sizeof(unsigned), parBytes = (K * K + 2 * K) * sizeof(float);
	const size_t pathBytes = B * T * sizeof(int), margBytes = B * T * K * sizeof(float);
	char *in = (char *)ctx_alloc(ctx, lenBytes + parBytes);
	char *out = (char *)ctx_alloc(ctx, pathBytes + margBytes);
	unsigned char *bp = (unsigned char *)ctx_alloc(ctx, B * T * 32);
	double *alpha = (double *)ctx_alloc(ctx, B * T * 32 * sizeof(double));
	int rc = BC_OK;
	if (!in || !out || !bp || !alpha) {
		rc = BC_ERR_MEMORY;
	} else {
		cudaError_t e = cudaMemcpyAsync(in, h0, lenBytes + parBytes, cudaMemcpyHostToDevice, ctx->stream);
		if (e == cudaSuccess) {
			unsigned blocks = (unsigned)((B + CRF_WARPS - 1) / CRF_WARPS);
			crfDecodeK<<<blocks, 32 * CRF_WARPS, 0, ctx->stream>>>(F(a, 0), (int)T, (int)B, (int)K, (const unsigned *)in,
			                                                      (const float *)(in + lenBytes), (int *)out,
			                                                      (float *)(out + pathBytes), bp, alpha);
			e = cudaGetLastError();
		}
		if (e == cudaSuccess) e = cudaMemcpyAsync(h1, out, pathBytes + margBytes, cudaMemcpyDeviceToHost, ctx->stream);
		if (e == cudaSuccess) e = cudaStreamSynchronize(ctx->stream);
		if (e != cudaSuccess) rc = fail(ctx, BC_ERR_CUDA, "bc_crf_decode: %s", cudaGetErrorString(e));
	}
	ctx_free(ctx, in);
	ctx_free(ctx, out);
	ctx_free(ctx, bp);
	ctx_free(ctx, alpha);
	return rc;
}

// crfNLLK: one warp per sequence. NLL_b = logZ − s(gold) into nll[b]; the gradient of
// scale·Σ_b NLL_b accumulates into dem [T, B, K] (emissions, time-major) and, through
// shared-memory partials, into grads (double): transitions [K·K], start [K], end [K].
__global__ void crfNLLK(const float *em, float *dem, int T, int B, int K, const unsigned *lens, const int *gold,
                        const float *params, float scale, double *nll, double *grads, double *alpha) {
	__shared__ double tr[32 * 32], st[32], en[32];
	__shared__ float gTr[32 * 32], gSt[32], gEn[32];
	for (int i = threadIdx.x; i < K * K; i += blockDim.x) {
		tr[i] = params[i];
		gTr[i] = 0.f;
	}
	for (int i = threadIdx.x; i < K; i += blockDim.x) {
		st[i] = params[K * K + i];
		en[i] = params[K * K + K + i];
		gSt[i] = 0.f;
		gEn[i] = 0.f;
	}
	__syncthreads();
	int b = blockIdx.x * CRF_WARPS + (threadIdx.x >> 5);
	int j = threadIdx.x & 31;
	bool on = j < K;
	if (b < B) {
		int n = (int)lens[b];
		const int *y = gold + (long)b * T;
		auto e = [&](int t) -> double { return on ? (double)em[((long)t * B + b) * K + j] : 0.0; };
		double *ab = alpha + (long)b * T * 32;
		double logZ = crfForward(em, B, b, K, n, j, tr, st, en, ab);
		// Gold score, split over the lanes by position, then summed.
		double gs = 0;
		for (int t = j; t < n; t += 32) {
			gs += (double)em[((long)t * B + b) * K + y[t]];
			gs += t == 0 ? st[y[0]] : tr[y[t - 1] * K + y[t]];
			if (t == n - 1) gs += en[y[t]];
		}
		for (int o = 16; o > 0; o >>= 1) gs += __shfl_xor_sync(0xffffffffu, gs, o);
		if (j == 0) nll[b] = logZ - gs;
		// Backward, with marginals (emission, start, end gradients) and pair marginals
		// (transition gradients: lane j owns column j, p(y_{t−1} = i, y_t = j)).
		float pair[32];
#pragma unroll
		for (int i = 0; i < 32; i++) pair[i] = 0.f;
		double be = on ? en[j] : -INFINITY;
		for (int t = n - 1; t >= 0; t--) {
			double at = ab[(long)t * 32 + j];
			double p = on ? exp(at + be - logZ) : 0.0;
			if (on) {
				float g = (float)(p - (y[t] == j ? 1.0 : 0.0));
				dem[((long)t * B + b) * K + j] += scale * g;
				if (t == 0) atomicAdd(&gSt[j], scale * g);
				if (t == n - 1) atomicAdd(&gEn[j], scale * g);
			}
			if (t == 0) break;
			double w = on ? e(t) + be : -INFINITY; // e_t(j) + β_t(j)
			double aprev = on ? ab[(long)(t - 1) * 32 + j] : -INFINITY;
#pragma unroll
			for (int i = 0; i < 32; i++) {
				double ai = shfl(aprev, i);
				if (i < K && on) pair[i] += (float)exp(ai + tr[i * K + j] + w - logZ);
			}
			double m = -INFINITY;
			for (int k = 0; k < K; k++) m = fmax(m, (on ? tr[j * K + k] : 0.0) + shfl(w, k));
			double s = 0;
			for (int k = 0; k < K; k++) s += exp((on ? tr[j * K + k] : 0.0) + shfl(w, k) - m);
			be = on ? m + log(s) : -INFINITY;
		}
		if (on) {
#pragma unroll
			for (int i = 0; i < 32; i++)
				if (i < K) atomicAdd(&gTr[i * K + j], scale * pair[i]);
		}
		// Gold transition counts.
		for (int t = 1 + j; t < n; t += 32) atomicAdd(&gTr[y[t - 1] * K + y[t]], -scale);
	}
	__syncthreads();
	for (int i = threadIdx.x; i < K * K; i += blockDim.x) atomicAdd(&grads[i], (double)gTr[i]);
	for (int i = threadIdx.x; i < K; i += blockDim.x) {
		atomicAdd(&grads[K * K + i], (double)gSt[i]);
		atomicAdd(&grads[K * K + K + i], (double)gEn[i]);
	}
}

extern "C" int bc_crf_nll(bc_ctx *ctx, bc_args *a, const void *h0, void *h1) {
	const long T = a->i[0], B = a->i[1], K = a->i[2];
	if (K < 1 || K > 32) return fail(ctx, BC_ERR_ARGUMENT, "bc_crf_nll: %ld tags, at most 32", K);
	if (B == 0 || T == 0) return BC_OK;
	const size_t lenBytes = B * sizeof(unsigned), goldBytes = B * T * sizeof(int);
	const size_t parBytes = (K * K + 2 * K) * sizeof(float);
	const size_t outCount = B + K * K + 2 * K;
	char *in = (char *)ctx_alloc(ctx, lenBytes + goldBytes + parBytes);
	double *out = (double *)ctx_alloc(ctx, outCount * sizeof(double));
	double *alpha = (double *)ctx_alloc(ctx, B * T * 32 * sizeof(double));
	int rc = BC_OK;
	if (!in || !out || !alpha) {
		rc = BC_ERR_MEMORY;
	} else {
		cudaError_t e = cudaMemcpyAsync(in, h0, lenBytes + goldBytes + parBytes, cudaMemcpyHostToDevice, ctx->stream);
		if (e == cudaSuccess) e = cudaMemsetAsync(out, 0, outCount * sizeof(double), ctx->stream);
		if (e == cudaSuccess) {
			unsigned blocks = (unsigned)((B + CRF_WARPS - 1) / CRF_WARPS);
			crfNLLK<<<blocks, 32 * CRF_WARPS, 0, ctx->stream>>>(
			    F(a, 0), F(a, 1), (int)T, (int)B, (int)K, (const unsigned *)in, (const int *)(in + lenBytes),
			    (const float *)(in + lenBytes + goldBytes), a->f[0], out, out + B, alpha);
			e = cudaGetLastError();
		}
		if (e == cudaSuccess) e = cudaMemcpyAsync(h1, out, outCount * sizeof(double), cudaMemcpyDeviceToHost, ctx->stream);
		if (e == cudaSuccess) e = cudaStreamSynchronize(ctx->stream);
		if (e != cudaSuccess) rc = fail(ctx, BC_ERR_CUDA, "bc_crf_nll: %s", cudaGetErrorString(e));
	}
	ctx_free(ctx, in);
	ctx_free(ctx, out);
	ctx_free(ctx, alpha);
	return rc;
}
