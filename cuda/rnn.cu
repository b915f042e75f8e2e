// rnn.cu — GRU and LSTM sequence ops, one direction per call.
//
// The input projection X·WIHᵀ + BIH of every step is one cuBLAS product into
// the Work tensor; the recurrence then runs one fused kernel per time step
// (hidden product + gates + state update), and the backward one fused kernel
// per step (the previous step's WHHᵀ·dG + this step's gate gradients), with
// the weight gradients as three cuBLAS products over all steps at the end.
// The Work row layout is the CPU backend's, so both keep the same contract:
// GRU [r z n hn hprev], LSTM [i f g o c cprev hprev].
#include "common.cuh"

int sum_rows(bc_ctx *ctx, float *d, const float *x, long rows, long cols, bool accumulate);

constexpr int RNN_TPB = 128;

__global__ void addBiasColsK(float *w, const float *bias, long rows, long g, long ld) {
	for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < rows * g; i += (long)gridDim.x * blockDim.x) {
		long r = i / g, c = i % g;
		w[r * ld + c] += bias[c];
	}
}

// wt[k, g] = w[g, k] for w [G, H].
__global__ void transposeK(float *wt, const float *w, long G, long H) {
	for (long i = blockIdx.x * (long)blockDim.x + threadIdx.x; i < G * H; i += (long)gridDim.x * blockDim.x) {
		long g = i / H, k = i % H;
		wt[k * G + g] = w[i];
	}
}

__device__ __forceinline__ float sigm(float x) { return 1.f / (1.f + expf(-x)); }

__global__ void gruStepK(int t, int B, int H, const float *wt, const float *bhh, float *work, long ld, float *out,
                         long outW, long outCol, const int *lens, const float *hin, float *hout) {
	extern __shared__ float hs[];
	int b = blockIdx.y;
	for (int k = threadIdx.x; k < H; k += blockDim.x) hs[k] = hin[(long)b * H + k];
	__syncthreads();
	int j = blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= H) return;
	long rowIdx = (long)t * B + b;
	float *row = work + rowIdx * ld;
	float *o = out + rowIdx * outW + outCol;
	if (lens && t >= lens[b]) {
		for (int q = 0; q < 5; q++) row[q * H + j] = 0.f;
		o[j] = 0.f;
		hout[(long)b * H + j] = hs[j];
		return;
	}
	long G = 3L * H;
	float ar = bhh[j], az = bhh[H + j], an = bhh[2 * H + j];
	for (int k = 0; k < H; k++) {
		float hk = hs[k];
		const float *w = wt + k * G;
		ar += w[j] * hk;
		az += w[H + j] * hk;
		an += w[2 * H + j] * hk;
	}
	float r = sigm(row[j] + ar), z = sigm(row[H + j] + az);
	float n = tanhf(row[2 * H + j] + r * an);
	float hp = hs[j], h = (1.f - z) * n + z * hp;
	row[j] = r;
	row[H + j] = z;
	row[2 * H + j] = n;
	row[3 * H + j] = an;
	row[4 * H + j] = hp;
	o[j] = h;
	hout[(long)b * H + j] = h;
}

__global__ void lstmStepK(int t, int B, int H, const float *wt, const float *bhh, float *work, long ld, float *out,
                          long outW, long outCol, const int *lens, const float *hin, float *hout, float *cst) {
	extern __shared__ float hs[];
	int b = blockIdx.y;
	for (int k = threadIdx.x; k < H; k += blockDim.x) hs[k] = hin[(long)b * H + k];
	__syncthreads();
	int j = blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= H) return;
	long rowIdx = (long)t * B + b;
	float *row = work + rowIdx * ld;
	float *o = out + rowIdx * outW + outCol;
	if (lens && t >= lens[b]) {
		for (int q = 0; q < 7; q++) row[q * H + j] = 0.f;
		o[j] = 0.f;
		hout[(long)b * H + j] = hs[j];
		return;
	}
	long G = 4L * H;
	float ai = bhh[j], af = bhh[H + j], ag = bhh[2 * H + j], ao = bhh[3 * H + j];
	for (int k = 0; k < H; k++) {
		float hk = hs[k];
		const float *w = wt + k * G;
		ai += w[j] * hk;
		af += w[H + j] * hk;
		ag += w[2 * H + j] * hk;
		ao += w[3 * H + j] * hk;
	}
	float ig = sigm(row[j] + ai), fg = sigm(row[H + j] + af);
	float gg = tanhf(row[2 * H + j] + ag), og = sigm(row[3 * H + j] + ao);
	float cp = cst[(long)b * H + j];
	float c = fg * cp + ig * gg;
	float h = og * tanhf(c);
	row[j] = ig;
	row[H + j] = fg;
	row[2 * H + j] = gg;
	row[3 * H + j] = og;
	row[4 * H + j] = c;
	row[5 * H + j] = cp;
	row[6 * H + j] = hs[j];
	cst[(long)b * H + j] = c;
	o[j] = h;
	hout[(long)b * H + j] = h;
}

// One backward step at time t (t < 0: finalise into dh0/dc0). dh is this
// step's incoming hidden gradient: the carried direct part dhd plus WHHᵀ·dG
// of the step processed before (time tp, tp < 0 for none).
template <int GATES>
__global__ void rnnBackStepK(int t, int tp, int B, int H, const float *whh, const float *work, long ld,
                             const float *dout, long doutW, long doutCol, const int *lens, float *dgx, float *dgh,
                             float *dhd, float *dc, float *dh0, float *dc0) {
	extern __shared__ float sg[];
	const long G = (long)GATES * H;
	int b = blockIdx.y;
	if (tp >= 0) {
		const float *prev = dgh + ((long)tp * B + b) * G;
		for (long g = threadIdx.x; g < G; g += blockDim.x) sg[g] = prev[g];
	}
	__syncthreads();
	int j = blockIdx.x * blockDim.x + threadIdx.x;
	if (j >= H) return;
	long bj = (long)b * H + j;
	float dh = dhd[bj];
	if (tp >= 0) {
		float acc = 0.f;
		for (long g = 0; g < G; g++) acc += whh[g * H + j] * sg[g];
		dh += acc;
	}
	if (t < 0) {
		if (dh0) dh0[bj] += dh;
		if (GATES == 4 && dc0) dc0[bj] += dc[bj];
		return;
	}
	if (lens && t >= lens[b]) {
		dhd[bj] = dh;
		return;
	}
	long rowIdx = (long)t * B + b;
	dh += dout[rowIdx * doutW + doutCol + j];
	const float *row = work + rowIdx * ld;
	if (GATES == 3) {
		float r = row[j], z = row[H + j], n = row[2 * H + j], hn = row[3 * H + j], hp = row[4 * H + j];
		float dn = dh * (1.f - z), dz = dh * (hp - n);
		float dan = dn * (1.f - n * n);
		float dar = dan * hn * r * (1.f - r);
		float daz = dz * z * (1.f - z);
		float *gx = dgx + rowIdx * G, *gh = dgh + rowIdx * G;
		gx[j] = dar;
		gx[H + j] = daz;
		gx[2 * H + j] = dan;
		gh[j] = dar;
		gh[H + j] = daz;
		gh[2 * H + j] = dan * r;
		dhd[bj] = dh * z;
	} else {
		float ig = row[j], fg = row[H + j], gg = row[2 * H + j], og = row[3 * H + j];
		float c = row[4 * H + j], cp = row[5 * H + j];
		float tc = tanhf(c);
		float dO = dh * tc;
		float dcj = dc[bj] + dh * og * (1.f - tc * tc);
		float *gb = dgh + rowIdx * G;
		gb[j] = dcj * gg * ig * (1.f - ig);
		gb[H + j] = dcj * cp * fg * (1.f - fg);
		gb[2 * H + j] = dcj * ig * (1.f - gg * gg);
		gb[3 * H + j] = dO * og * (1.f - og);
		dc[bj] = dcj * fg;
		dhd[bj] = 0.f;
	}
}

namespace {
struct Scratch {
	bc_ctx *ctx;
	std::vector<void *> blocks;
	explicit Scratch(bc_ctx *c) : ctx(c) {}
	~Scratch() {
		for (void *p : blocks) ctx_free(ctx, p);
	}
	float *floats(long n) {
		void *p = ctx_alloc(ctx, (size_t)(n > 0 ? n : 1) * sizeof(float));
		if (p) blocks.push_back(p);
		return (float *)p;
	}
	int *ints(const void *host, long n) {
		int *p = nullptr;
		if (upload_i32(ctx, host, n, &p) != BC_OK) return nullptr;
		blocks.push_back(p);
		return p;
	}
};
} // namespace

static int rnnForward(bc_ctx *ctx, bc_args *a, const void *h0, int gates) {
	const long T = a->i[0], B = a->i[1], In = a->i[2], H = a->i[3], outW = a->i[4], outCol = a->i[5];
	const bool reverse = a->i[6] != 0, hasLen = a->i[7] != 0;
	const long G = gates * H, ld = (gates == 3 ? 5 : 7) * H;
	float *X = F(a, 0), *WIH = F(a, 1), *WHH = F(a, 2), *BIH = F(a, 3), *BHH = F(a, 4);
	float *Out = F(a, 5), *Work = F(a, 6), *H0 = F(a, 7), *C0 = F(a, 8), *HT = F(a, 9), *CT = F(a, 10);
	if (B == 0 || H == 0) return BC_OK;
	Scratch s(ctx);
	float *wt = s.floats(G * H), *hbuf = s.floats(2 * B * H), *cbuf = gates == 4 ? s.floats(B * H) : nullptr;
	int *lens = hasLen ? s.ints(h0, B) : nullptr;
	if (!wt || !hbuf || (gates == 4 && !cbuf) || (hasLen && !lens)) return BC_ERR_MEMORY;
	int rc;
	if (T > 0) {
		if ((rc = gemm_rm(ctx, false, true, (int)(T * B), (int)G, (int)In, 1.f, X, In, 0, WIH, In, 0, 0.f, Work, ld, 0, 1)))
			return rc;
		addBiasColsK<<<blocksFor(T * B * G, 256), 256, 0, ctx->stream>>>(Work, BIH, T * B, G, ld);
		LAUNCHED();
	}
	transposeK<<<blocksFor(G * H, 256), 256, 0, ctx->stream>>>(wt, WHH, G, H);
	LAUNCHED();
	if (H0)
		CU(cudaMemcpyAsync(hbuf, H0, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
	else
		CU(cudaMemsetAsync(hbuf, 0, B * H * sizeof(float), ctx->stream));
	if (gates == 4) {
		if (C0)
			CU(cudaMemcpyAsync(cbuf, C0, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
		else
			CU(cudaMemsetAsync(cbuf, 0, B * H * sizeof(float), ctx->stream));
	}
	dim3 grid((unsigned)((H + RNN_TPB - 1) / RNN_TPB), (unsigned)B);
	size_t smem = H * sizeof(float);
	for (long st = 0; st < T; st++) {
		int t = (int)(reverse ? T - 1 - st : st);
		float *hin = hbuf + (st & 1) * B * H, *hout = hbuf + ((st + 1) & 1) * B * H;
		if (gates == 3)
			gruStepK<<<grid, RNN_TPB, smem, ctx->stream>>>(t, (int)B, (int)H, wt, BHH, Work, ld, Out, outW, outCol, lens,
			                                               hin, hout);
		else
			lstmStepK<<<grid, RNN_TPB, smem, ctx->stream>>>(t, (int)B, (int)H, wt, BHH, Work, ld, Out, outW, outCol,
			                                                lens, hin, hout, cbuf);
		LAUNCHED();
	}
	float *hfinal = hbuf + (T & 1) * B * H;
	if (HT) CU(cudaMemcpyAsync(HT, hfinal, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
	if (gates == 4 && CT) CU(cudaMemcpyAsync(CT, cbuf, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
	return BC_OK;
}

static int rnnBackward(bc_ctx *ctx, bc_args *a, const void *h0, int gates) {
	const long T = a->i[0], B = a->i[1], In = a->i[2], H = a->i[3], doutW = a->i[4], doutCol = a->i[5];
	const bool reverse = a->i[6] != 0, hasLen = a->i[7] != 0;
	const long G = gates * H, ld = (gates == 3 ? 5 : 7) * H;
	float *X = F(a, 0), *WIH = F(a, 1), *WHH = F(a, 2), *dBIH = F(a, 3), *dBHH = F(a, 4);
	float *DOut = F(a, 5), *Work = F(a, 6), *DHT = F(a, 9), *DCT = F(a, 10), *DX = F(a, 11);
	float *DH0 = F(a, 12), *DC0 = F(a, 13), *dWIH = F(a, 14), *dWHH = F(a, 15);
	if (B == 0 || H == 0) return BC_OK;
	Scratch s(ctx);
	float *dgh = s.floats(T * B * G);
	float *dgx = gates == 3 ? s.floats(T * B * G) : dgh;
	float *dhd = s.floats(B * H), *dc = s.floats(B * H);
	int *lens = hasLen ? s.ints(h0, B) : nullptr;
	if (!dgh || !dgx || !dhd || !dc || (hasLen && !lens)) return BC_ERR_MEMORY;
	if (T * B * G > 0) {
		CU(cudaMemsetAsync(dgh, 0, T * B * G * sizeof(float), ctx->stream));
		if (gates == 3) CU(cudaMemsetAsync(dgx, 0, T * B * G * sizeof(float), ctx->stream));
	}
	if (DHT)
		CU(cudaMemcpyAsync(dhd, DHT, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
	else
		CU(cudaMemsetAsync(dhd, 0, B * H * sizeof(float), ctx->stream));
	if (gates == 4 && DCT)
		CU(cudaMemcpyAsync(dc, DCT, B * H * sizeof(float), cudaMemcpyDeviceToDevice, ctx->stream));
	else
		CU(cudaMemsetAsync(dc, 0, B * H * sizeof(float), ctx->stream));
	dim3 grid((unsigned)((H + RNN_TPB - 1) / RNN_TPB), (unsigned)B);
	size_t smem = G * sizeof(float);
	int tp = -1;
	for (long st = T - 1; st >= -1; st--) {
		int t = st < 0 ? -1 : (int)(reverse ? T - 1 - st : st);
		if (gates == 3)
			rnnBackStepK<3><<<grid, RNN_TPB, smem, ctx->stream>>>(t, tp, (int)B, (int)H, WHH, Work, ld, DOut, doutW,
			                                                      doutCol, lens, dgx, dgh, dhd, dc, DH0, DC0);
		else
			rnnBackStepK<4><<<grid, RNN_TPB, smem, ctx->stream>>>(t, tp, (int)B, (int)H, WHH, Work, ld, DOut, doutW,
			                                                      doutCol, lens, dgx, dgh, dhd, dc, DH0, DC0);
		LAUNCHED();
		tp = t;
	}
	if (T * B == 0) return BC_OK;
	int rc;
	const long hprevCol = (gates == 3 ? 4 : 6) * H;
	// dWHH += dGhᵀ·Hprev, dBHH += Σ dGh.
	if ((rc = gemm_rm(ctx, true, false, (int)G, (int)H, (int)(T * B), 1.f, dgh, G, 0, Work + hprevCol, ld, 0, 1.f, dWHH,
	                  H, 0, 1)))
		return rc;
	if ((rc = sum_rows(ctx, dBHH, dgh, T * B, G, true))) return rc;
	// DX += dGx·WIH, dWIH += dGxᵀ·X, dBIH += Σ dGx.
	if (In > 0) {
		if ((rc = gemm_rm(ctx, false, false, (int)(T * B), (int)In, (int)G, 1.f, dgx, G, 0, WIH, In, 0, 1.f, DX, In, 0, 1)))
			return rc;
		if ((rc = gemm_rm(ctx, true, false, (int)G, (int)In, (int)(T * B), 1.f, dgx, G, 0, X, In, 0, 1.f, dWIH, In, 0, 1)))
			return rc;
	}
	return sum_rows(ctx, dBIH, dgx, T * B, G, true);
}

extern "C" int bc_gru(bc_ctx *ctx, bc_args *a, const void *h0, void *) { return rnnForward(ctx, a, h0, 3); }
extern "C" int bc_lstm(bc_ctx *ctx, bc_args *a, const void *h0, void *) { return rnnForward(ctx, a, h0, 4); }
extern "C" int bc_gru_backward(bc_ctx *ctx, bc_args *a, const void *h0, void *) { return rnnBackward(ctx, a, h0, 3); }
extern "C" int bc_lstm_backward(bc_ctx *ctx, bc_args *a, const void *h0, void *) { return rnnBackward(ctx, a, h0, 4); }
