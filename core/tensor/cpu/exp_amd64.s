//go:build amd64 && !purego

#include "textflag.h"

// Constants of expAVX2 (the Cephes expf polynomial that expf in mathf.go uses).
DATA expc<>+0(SB)/4, $88.02969193111305   // upper clamp: ln 2^127, so 2^n stays finite
DATA expc<>+4(SB)/4, $-87.33654475055310  // lower clamp: ln(2^-126), the smallest normal
DATA expc<>+8(SB)/4, $1.4426950408889634  // log2(e)
DATA expc<>+12(SB)/4, $0.693359375        // ln2 high part
DATA expc<>+16(SB)/4, $-2.12194440e-4     // ln2 low part
DATA expc<>+20(SB)/4, $1.9875691500e-4
DATA expc<>+24(SB)/4, $1.3981999507e-3
DATA expc<>+28(SB)/4, $8.3334519073e-3
DATA expc<>+32(SB)/4, $4.1665795894e-2
DATA expc<>+36(SB)/4, $1.6666665459e-1
DATA expc<>+40(SB)/4, $5.0000001201e-1
DATA expc<>+44(SB)/4, $1.0
DATA expc<>+48(SB)/4, $127
GLOBL expc<>(SB), RODATA|NOPTR, $52

// func expAVX2(dst, src *float32, n int)
// dst[i] = exp(src[i]) for i < n, n a positive multiple of 8. Inputs are clamped to
// [ln 2^-126, ln 2^127], so results saturate at the float32 extremes instead of reaching 0
// or +Inf; NaN stays NaN.
TEXT ·expAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS expc<>+0(SB), Y8
	VBROADCASTSS expc<>+4(SB), Y9
	VBROADCASTSS expc<>+8(SB), Y10
	VBROADCASTSS expc<>+12(SB), Y11
	VBROADCASTSS expc<>+16(SB), Y12
	VBROADCASTSS expc<>+44(SB), Y13
	VPBROADCASTD expc<>+48(SB), Y14

loop:
	VMOVUPS (SI), Y0
	VCMPPS $3, Y0, Y0, Y7      // Y7 = NaN lanes
	VMINPS Y8, Y0, Y1
	VMAXPS Y9, Y1, Y1          // Y1 = clamped x
	VMULPS Y10, Y1, Y2
	VROUNDPS $0, Y2, Y2        // Y2 = n = round(x·log2 e)
	VFNMADD231PS Y11, Y2, Y1   // r = x − n·ln2hi
	VFNMADD231PS Y12, Y2, Y1   // r −= n·ln2lo
	VBROADCASTSS expc<>+20(SB), Y3
	VBROADCASTSS expc<>+24(SB), Y4
	VFMADD213PS Y4, Y1, Y3     // p = p·r + c
	VBROADCASTSS expc<>+28(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VBROADCASTSS expc<>+32(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VBROADCASTSS expc<>+36(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VBROADCASTSS expc<>+40(SB), Y4
	VFMADD213PS Y4, Y1, Y3
	VMULPS Y1, Y1, Y4          // r²
	VFMADD213PS Y1, Y4, Y3     // e = p·r² + r
	VADDPS Y13, Y3, Y3         // e += 1
	VCVTPS2DQ Y2, Y5
	VPADDD Y14, Y5, Y5
	VPSLLD $23, Y5, Y5         // 2^n as float bits
	VMULPS Y5, Y3, Y3
	VBLENDVPS Y7, Y0, Y3, Y3   // NaN lanes keep x
	VMOVUPS Y3, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ loop
	VZEROUPPER
	RET
