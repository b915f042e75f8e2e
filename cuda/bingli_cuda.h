/*
 * bingli_cuda.h — the C ABI of libbingli_cuda.so, the CUDA side of bingli's
 * tensor backend (Go package github.com/bingli/bingli/cuda).
 *
 * Rules of the boundary:
 *   - Plain C: opaque handles, fixed-width integers, no C++ types, no
 *     exceptions. Every entry point returns a bc_status; on failure the
 *     context keeps a message (bc_error) naming the op and the CUDA or
 *     cuBLAS error.
 *   - One context per device. A context owns one CUDA stream, one cuBLAS
 *     handle and a caching allocator (cudaMalloc only, never managed
 *     memory). All ops are queued on the context's stream in call order, so
 *     memory freed to the cache can be reused by the next op without a
 *     synchronisation. Calls on one context must not overlap (the Go side
 *     holds a mutex).
 *   - Every op has the same signature, bc_op_fn: the context, an argument
 *     block and up to two host buffers. The Go binding needs one cgo
 *     trampoline for all of them. Which fields an op reads is documented
 *     next to its declaration; device pointers travel as uint64.
 *   - Shapes are checked on the Go side (package core/tensor's Check
 *     functions), before a call is made; the library checks only what it
 *     alone can (allocation, launches).
 *   - Host buffers passed as h0/h1 are read or written before the call
 *     returns; the library keeps no pointer to them.
 */
#ifndef BINGLI_CUDA_H
#define BINGLI_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BC_ABI_VERSION 1

typedef enum {
	BC_OK = 0,
	BC_ERR_ARGUMENT = 1, /* a bad argument reached the library */
	BC_ERR_MEMORY = 2,   /* cudaMalloc failed even after emptying the cache */
	BC_ERR_CUDA = 3,     /* a CUDA runtime call or kernel launch failed */
	BC_ERR_CUBLAS = 4,   /* a cuBLAS call failed */
	BC_ERR_NO_DEVICE = 5 /* no CUDA device, or the driver is missing */
} bc_status;

typedef struct bc_ctx bc_ctx;

/* The argument block of every op. */
typedef struct {
	uint64_t p[16]; /* device pointers (0 = absent) */
	int64_t i[16];  /* integer arguments */
	float f[8];     /* float arguments */
	double out[4];  /* results written by the op (losses, norms, pointers) */
} bc_args;

typedef int (*bc_op_fn)(bc_ctx *ctx, bc_args *a, const void *h0, void *h1);

/* Library and context management. */
int bc_abi_version(void);
/* bc_open creates a context on device ordinal `device`. On failure *out is
 * NULL and errbuf (errlen bytes) receives the message. */
int bc_open(int device, bc_ctx **out, char *errbuf, int errlen);
void bc_close(bc_ctx *ctx);
/* bc_error returns the message of the last failed call on ctx. */
const char *bc_error(bc_ctx *ctx);

/* Ops. Unless said otherwise, n = i[0] is an element count. */

/* Memory. */
int bc_device_info(bc_ctx *, bc_args *, const void *, void *); /* h1: char[256] name; out[0] total bytes, out[1] SMs, out[2] cc major*10+minor */
int bc_alloc(bc_ctx *, bc_args *, const void *, void *);       /* i[0] bytes → p[0] device pointer */
int bc_free(bc_ctx *, bc_args *, const void *, void *);        /* p[0] pointer back to the cache */
int bc_trim(bc_ctx *, bc_args *, const void *, void *);        /* release every cached block; out[0] bytes in use, out[1] bytes cached before */
int bc_upload(bc_ctx *, bc_args *, const void *, void *);      /* p[0] dst, i[0] bytes, h0 src */
int bc_download(bc_ctx *, bc_args *, const void *, void *);    /* p[0] src, i[0] bytes, h1 dst (synchronises) */
int bc_copy(bc_ctx *, bc_args *, const void *, void *);        /* p[0] dst, p[1] src, i[0] bytes */
int bc_fill(bc_ctx *, bc_args *, const void *, void *);        /* p[0] dst, i[0] n, f[0] value */
int bc_sync(bc_ctx *, bc_args *, const void *, void *);        /* wait for the stream */
int bc_set_math(bc_ctx *, bc_args *, const void *, void *);    /* i[0] 1 = allow TF32 in fp32 GEMMs */
/* i[0] 1 = bf16 storage: every tensor of the context holds bfloat16 values (sizes and
 * copies in bytes follow); only fill, gemm, add, add_bias, activate, layernorm, embedding
 * and attention support it (inference of transformer encoders). Before any allocation. */
int bc_set_precision(bc_ctx *, bc_args *, const void *, void *);

/* Linear algebra, row-major. C = α·op(A)·op(B) + β·C.
 * p[0] A, p[1] B, p[2] C; i[0] transA, i[1] transB, i[2] M, i[3] N, i[4] K,
 * i[5] lda, i[6] ldb, i[7] ldc, i[8] batch, i[9] strideA, i[10] strideB,
 * i[11] strideC (elements); f[0] α, f[1] β. */
int bc_gemm(bc_ctx *, bc_args *, const void *, void *);

/* Fused linear layer, y = act(x·Wᵀ + b): p0 y [n, out], p1 x [n, in], p2 W [out, in],
 * p3 bias [out] (0 = none); i0 n, i1 in, i2 out, i3 activation (0 none, 1 ReLU, 2 GELU,
 * 3 Tanh, 4 Sigmoid). One cuBLASLt product with a bias/ReLU/GELU epilogue where it can. */
int bc_linear(bc_ctx *, bc_args *, const void *, void *);

/* Elementwise (n = i[0]). */
int bc_add(bc_ctx *, bc_args *, const void *, void *);        /* p0 = p1 + p2 */
int bc_sub(bc_ctx *, bc_args *, const void *, void *);        /* p0 = p1 - p2 */
int bc_mul(bc_ctx *, bc_args *, const void *, void *);        /* p0 = p1 * p2 */
int bc_scale(bc_ctx *, bc_args *, const void *, void *);      /* p0 = f0 * p1 */
int bc_add_scaled(bc_ctx *, bc_args *, const void *, void *); /* p0 += f0 * p1 */
int bc_mul_add(bc_ctx *, bc_args *, const void *, void *);    /* p0 += p1 * p2 */
int bc_add_bias(bc_ctx *, bc_args *, const void *, void *);   /* p0[r,c] = p1[r,c] + p2[c]; i0 rows, i1 cols */
int bc_sum_rows(bc_ctx *, bc_args *, const void *, void *);   /* p0[c] (+)= Σ_r p1[r,c]; i0 rows, i1 cols, i2 accumulate */
int bc_sum_cols(bc_ctx *, bc_args *, const void *, void *);   /* p0[r] = Σ_c p1[r,c]; i0 rows, i1 cols */
int bc_sum(bc_ctx *, bc_args *, const void *, void *);        /* out[0] = Σ p0 (n = i0); synchronises */
int bc_copy_cols(bc_ctx *, bc_args *, const void *, void *);  /* p0[r, i3+j] (+)= p1[r, i4+j]; i0 rows, i1 dst cols, i2 src cols, i5 width, i6 accumulate */
int bc_activate(bc_ctx *, bc_args *, const void *, void *);   /* p0 = f(p1); i1 activation (1 ReLU, 2 GELU, 3 Tanh, 4 Sigmoid) */
int bc_activate_backward(bc_ctx *, bc_args *, const void *, void *); /* p0 dx += p3 dy · f'(p1 x | p2 y); i1 activation */
int bc_softmax(bc_ctx *, bc_args *, const void *, void *);    /* p0 = softmax rows of p1; i0 rows, i1 cols */
int bc_softmax_backward(bc_ctx *, bc_args *, const void *, void *); /* p0 dx += p1 y ⊙ (p2 dy − rowdot); i0 rows, i1 cols */
int bc_dropout(bc_ctx *, bc_args *, const void *, void *);    /* p0 (=|+=) p1 ⊙ mask/(1−f0); i1 seed, i2 offset, i3 backward (accumulate) */

/* Normalisation: i0 rows, i1 cols, f0 eps. */
int bc_layernorm(bc_ctx *, bc_args *, const void *, void *);  /* p0 y, p1 mean, p2 rstd, p3 x, p4 γ, p5 β, p6 residual r (optional), p7 sum (with r) */
int bc_layernorm_backward(bc_ctx *, bc_args *, const void *, void *); /* p0 dx, p1 dr (optional), p2 dγ, p3 dβ, p4 dy, p5 x, p6 mean, p7 rstd, p8 γ */
int bc_batchnorm(bc_ctx *, bc_args *, const void *, void *);  /* p0 y, p1 mean, p2 invstd, p3 runMean, p4 runVar, p5 x, p6 γ, p7 β; i2 training; f1 momentum */
int bc_batchnorm_backward(bc_ctx *, bc_args *, const void *, void *); /* p0 dx, p1 dγ, p2 dβ, p3 dy, p4 x, p5 mean, p6 invstd, p7 γ */

/* Losses (synchronise; out[0] = mean loss). */
int bc_softmax_xent(bc_ctx *, bc_args *, const void *, void *); /* p0 dlogits (optional), p1 logits; i0 rows, i1 cols, i2 ignore, i3 n valid; h0 int32 targets[rows] */
int bc_bce_logits(bc_ctx *, bc_args *, const void *, void *);   /* p0 dlogits (optional), p1 logits, p2 targets; i0 n */
int bc_mse(bc_ctx *, bc_args *, const void *, void *);          /* p0 dpred (optional), p1 pred, p2 target; i0 n */

/* Indexing: h0 int32 ids[i0]; i1 dim. */
int bc_embedding(bc_ctx *, bc_args *, const void *, void *);          /* p0 dst, p1 table */
int bc_embedding_backward(bc_ctx *, bc_args *, const void *, void *); /* p0 dtable += p1 dy rows */

/* Optimiser. */
int bc_adamw(bc_ctx *, bc_args *, const void *, void *);     /* p0 param, p1 grad, p2 m, p3 v; i0 n; f0 lr, f1 β1, f2 β2, f3 eps, f4 wd, f5 gradScale, f6 1−β1^t, f7 1−β2^t */
int bc_sumsq(bc_ctx *, bc_args *, const void *, void *);     /* out[0] = Σ p[k][i]² over tensors k < i[0] (≤ 16), sizes in h0 int64[i0]; synchronises */

/* Recurrent: one direction over a padded time-major batch.
 * p0 X [T,B,In], p1 WIH, p2 WHH, p3 BIH, p4 BHH, p5 Out [T,B,outW], p6 Work,
 * p7 H0, p8 C0, p9 HT, p10 CT; i0 T, i1 B, i2 In, i3 H, i4 outW, i5 outCol,
 * i6 reverse, i7 has lengths; h0 int32 lengths[B]. */
int bc_gru(bc_ctx *, bc_args *, const void *, void *);
int bc_lstm(bc_ctx *, bc_args *, const void *, void *);
/* Backward: p0 X, p1 WIH, p2 WHH, p6 Work, p7 H0 (unused), p5 DOut
 * [T,B,doutW]; p9 DHT, p10 DCT, p11 DX, p12 DH0, p13 DC0, p14 dWIH,
 * p15 dWHH; and (dBIH, dBHH) in (p3, p4) — BIH and BHH themselves are not
 * read by the backward. i4 doutW, i5 doutCol, others as the forward. */
int bc_gru_backward(bc_ctx *, bc_args *, const void *, void *);
int bc_lstm_backward(bc_ctx *, bc_args *, const void *, void *);

/* Attention: p0 out, p1 probs, p2 q, p3 k, p4 v; i0 B, i1 Tq, i2 Tk, i3 D,
 * i4 heads, i5 causal, i6 has key lengths; h0 int32 keyLengths[B]. */
int bc_attention(bc_ctx *, bc_args *, const void *, void *);
/* p0 dq, p1 dk, p2 dv, p3 dout, p4 probs, p5 q, p6 k, p7 v; sizes as above. */
int bc_attention_backward(bc_ctx *, bc_args *, const void *, void *);

/* int8: p0 int8 Q [rows, cols] device buffer, p1 scales [rows];
 * bc_matmul_int8t: p2 x [n, in], p3 y [n, out]; i0 n, i1 in, i2 out. */
int bc_matmul_int8t(bc_ctx *, bc_args *, const void *, void *);

/* Linear-chain CRF decoding (K ≤ 32 tags): p0 emissions [T, B, K] (time-major);
 * i0 T, i1 B, i2 K. h0 holds B uint32 lengths (each ≥ 1 and ≤ T) followed by K·K + 2K
 * float32 scores: transitions (from·K + to), start, end — forbidden entries already set to
 * a large negative number. h1 receives B·T int32 Viterbi tags (batch-major, padding 0)
 * followed by B·T·K float32 posterior marginals (batch-major, padding 0). Double
 * precision; ties go to the lowest tag, as the host CRF. Synchronises. */
int bc_crf_decode(bc_ctx *, bc_args *, const void *, void *);

/* CRF negative log-likelihood and its gradient (K ≤ 32): p0 emissions [T, B, K], p1
 * dEmissions [T, B, K] (accumulates scale·∂/∂e); i0 T, i1 B, i2 K; f0 scale. h0 holds B
 * uint32 lengths, then B·T int32 gold tags (batch-major), then the K·K + 2K float32 scores as
 * for bc_crf_decode. h1 receives B + K·K + 2K doubles: each sequence's NLL, then
 * scale·∂/∂(transitions, start, end). Synchronises. */
int bc_crf_nll(bc_ctx *, bc_args *, const void *, void *);

#ifdef __cplusplus
}
#endif
#endif
