// attention.cu — multi-head scaled-dot-product attention with key-padding
// and causal masks. Scores and outputs are cuBLAS strided-batched products
// per head (batched over the sequences); the masked softmax and its backward
// are one warp per row. probs [B, heads, Tq, Tk] is kept for the backward.
#include "common.cuh"

#include <cmath>

// Softmax over the visible keys of each row of probs (row = (b, h, i)),
// zeros elsewhere; a row with no visible key is all zeros.
template <typename T>
__global__ void maskedSoftmaxK(T *p, long rows, int heads, int Tq, int Tk, const int *keyLens, int causal) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (r >= rows) return;
	int i = (int)(r % Tq);
	int b = (int)(r / ((long)Tq * heads));
	int vis = keyLens ? keyLens[b] : Tk;
	if (causal && i + 1 < vis) vis = i + 1;
	T *row = p + r * Tk;
	float m = -INFINITY;
	for (int c = lane; c < vis; c += 32) m = fmaxf(m, ldf(row + c));
	m = warpMax(m);
	float s = 0.f;
	for (int c = lane; c < vis; c += 32) s += expf(ldf(row + c) - m);
	s = warpSum(s);
	float inv = vis > 0 ? 1.f / s : 0.f;
	for (int c = lane; c < Tk; c += 32) stf(row + c, c < vis ? expf(ldf(row + c) - m) * inv : 0.f);
}

// ds = scale · P ⊙ (dP − Σ_j dP_j P_j), in place over dP.
__global__ void softmaxGradK(float *ds, const float *p, long rows, int Tk, float scale) {
	long r = (blockIdx.x * (long)blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (r >= rows) return;
	const float *pr = p + r * Tk;
	float *dr = ds + r * Tk;
	float dot = 0.f;
	for (int c = lane; c < Tk; c += 32) dot += pr[c] * dr[c];
	dot = warpSum(dot);
	for (int c = lane; c < Tk; c += 32) dr[c] = scale * pr[c] * (dr[c] - dot);
}

extern "C" int bc_attention(bc_ctx *ctx, bc_args *a, const void *h0, void *) {
	const long B = a->i[0], Tq = a->i[1], Tk = a->i[2], D = a->i[3], heads = a->i[4];
	const bool causal = a->i[5] != 0, hasLen = a->i[6] != 0;
	float *out = F(a, 0), *probs = F(a, 1), *q = F(a, 2), *k = F(a, 3), *v = F(a, 4);
	if (B == 0 || Tq == 0 || D == 0) return BC_OK;
	// Element offsets, in the context's storage type (fp32 or bf16).
	const long esz = ctx->bf16 ? 2 : 4;
	auto at = [esz](float *p, long n) { return (float *)((char *)p + n * esz); };
	const long dh = D / heads;
	const float scale = 1.f / sqrtf((float)dh);
	int *lens = nullptr;
	int rc;
	if (hasLen && (rc = upload_i32(ctx, h0, B, &lens))) return rc;
	if (Tk == 0) {
		CU(cudaMemsetAsync(out, 0, B * Tq * D * (ctx->bf16 ? 2 : 4), ctx->stream));
		ctx_free(ctx, lens);
		return BC_OK;
	}
	for (long h = 0; h < heads; h++) {
		// S = scale · Q_h K_hᵀ into probs[b, h].
		if ((rc = gemm_rm(ctx, false, true, (int)Tq, (int)Tk, (int)dh, scale, at(q, h * dh), D, Tq * D, at(k, h * dh), D,
		                  Tk * D, 0.f, at(probs, h * Tq * Tk), Tk, heads * Tq * Tk, (int)B)))
			return rc;
	}
	long rows = B * heads * Tq;
	DISPATCH(maskedSoftmaxK, blocksFor(rows * 32, 256), 256, PTR(1), rows, (int)heads, (int)Tq, (int)Tk, lens, causal);
	LAUNCHED();
	for (long h = 0; h < heads; h++) {
		if ((rc = gemm_rm(ctx, false, false, (int)Tq, (int)dh, (int)Tk, 1.f, at(probs, h * Tq * Tk), Tk, heads * Tq * Tk,
		                  at(v, h * dh), D, Tk * D, 0.f, at(out, h * dh), D, Tq * D, (int)B)))
			return rc;
	}
	ctx_free(ctx, lens);
	return BC_OK;
}

extern "C" int bc_attention_backward(bc_ctx *ctx, bc_args *a, const void *, void *) {
	const long B = a->i[0], Tq = a->i[1], Tk = a->i[2], D = a->i[3], heads = a->i[4];
	float *dq = F(a, 0), *dk = F(a, 1), *dv = F(a, 2), *dout = F(a, 3), *probs = F(a, 4);
	float *q = F(a, 5), *k = F(a, 6), *v = F(a, 7);
	if (B == 0 || Tq == 0 || Tk == 0 || D == 0) return BC_OK;
	const long dh = D / heads;
	const float scale = 1.f / sqrtf((float)dh);
	float *ds = (float *)ctx_alloc(ctx, B * heads * Tq * Tk * sizeof(float));
	if (!ds) return BC_ERR_MEMORY;
	int rc = BC_OK;
	const long ps = heads * Tq * Tk;
	for (long h = 0; h < heads && !rc; h++) {
		// dP = dO_h V_hᵀ; dV_h += Pᵀ dO_h.
		rc = gemm_rm(ctx, false, true, (int)Tq, (int)Tk, (int)dh, 1.f, dout + h * dh, D, Tq * D, v + h * dh, D, Tk * D,
		             0.f, ds + h * Tq * Tk, Tk, ps, (int)B);
		if (!rc)
			rc = gemm_rm(ctx, true, false, (int)Tk, (int)dh, (int)Tq, 1.f, probs + h * Tq * Tk, Tk, ps, dout + h * dh, D,
			             Tq * D, 1.f, dv + h * dh, D, Tk * D, (int)B);
	}
	if (!rc) {
		long rows = B * heads * Tq;
		softmaxGradK<<<blocksFor(rows * 32, 256), 256, 0, ctx->stream>>>(ds, probs, rows, (int)Tk, scale);
		cudaError_t e = cudaGetLastError();
		if (e != cudaSuccess) rc = fail(ctx, BC_ERR_CUDA, "softmaxGradK: %s", cudaGetErrorString(e));
	}
	for (long h = 0; h < heads && !rc; h++) {
		// dQ_h += dS K_h; dK_h += dSᵀ Q_h.
		rc = gemm_rm(ctx, false, false, (int)Tq, (int)dh, (int)Tk, 1.f, ds + h * Tq * Tk, Tk, ps, k + h * dh, D, Tk * D,
		             1.f, dq + h * dh, D, Tq * D, (int)B);
		if (!rc)
			rc = gemm_rm(ctx, true, false, (int)Tk, (int)dh, (int)Tq, 1.f, ds + h * Tq * Tk, Tk, ps, q + h * dh, D,
			             Tq * D, 1.f, dk + h * dh, D, Tk * D, (int)B);
	}
	ctx_free(ctx, ds);
	return rc;
}
