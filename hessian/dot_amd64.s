//go:build !noasm && !purego

#include "textflag.h"

// func dot4AVX2(n int, a, b0, b1, b2, b3 *float64, s *[4]float64)
//
// s[j] = sum_k a[k] * bj[k] for k < n, with 256-bit fused multiply-adds:
// eight accumulators (two per output) hide the latency of the FMA.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b0+16(FP), R8
	MOVQ b1+24(FP), R9
	MOVQ b2+32(FP), R10
	MOVQ b3+40(FP), R11
	MOVQ s+48(FP), DI

	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ   reduce

loop8:
	VMOVUPD     (SI)(AX*8), Y8
	VMOVUPD     32(SI)(AX*8), Y9
	VFMADD231PD (R8)(AX*8), Y8, Y0
	VFMADD231PD 32(R8)(AX*8), Y9, Y4
	VFMADD231PD (R9)(AX*8), Y8, Y1
	VFMADD231PD 32(R9)(AX*8), Y9, Y5
	VFMADD231PD (R10)(AX*8), Y8, Y2
	VFMADD231PD 32(R10)(AX*8), Y9, Y6
	VFMADD231PD (R11)(AX*8), Y8, Y3
	VFMADD231PD 32(R11)(AX*8), Y9, Y7
	ADDQ        $8, AX
	CMPQ        AX, DX
	JL          loop8

reduce:
	VADDPD       Y4, Y0, Y0
	VADDPD       Y5, Y1, Y1
	VADDPD       Y6, Y2, Y2
	VADDPD       Y7, Y3, Y3
	VEXTRACTF128 $1, Y0, X8
	VADDPD       X8, X0, X0
	VHADDPD      X0, X0, X0
	VEXTRACTF128 $1, Y1, X8
	VADDPD       X8, X1, X1
	VHADDPD      X1, X1, X1
	VEXTRACTF128 $1, Y2, X8
	VADDPD       X8, X2, X2
	VHADDPD      X2, X2, X2
	VEXTRACTF128 $1, Y3, X8
	VADDPD       X8, X3, X3
	VHADDPD      X3, X3, X3

tail:
	CMPQ        AX, CX
	JGE         done
	VMOVSD      (SI)(AX*8), X8
	VFMADD231SD (R8)(AX*8), X8, X0
	VFMADD231SD (R9)(AX*8), X8, X1
	VFMADD231SD (R10)(AX*8), X8, X2
	VFMADD231SD (R11)(AX*8), X8, X3
	INCQ        AX
	JMP         tail

done:
	VMOVSD     X0, (DI)
	VMOVSD     X1, 8(DI)
	VMOVSD     X2, 16(DI)
	VMOVSD     X3, 24(DI)
	VZEROUPPER
	RET
