//go:build !noasm && !purego

package hessian

import (
	"golang.org/x/sys/cpu"
	"gonum.org/v1/gonum/floats"
)

// hasAVX2FMA reports whether dot4 can use the AVX2/FMA kernel.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func dot4AVX2(n int, a, b0, b1, b2, b3 *float64, s *[4]float64)

// dot4 returns the dot products of a with b0, b1, b2 and b3, which are at
// least as long as a.
func dot4(a, b0, b1, b2, b3 []float64) (s [4]float64) {
	n := len(a)
	if n == 0 {
		return s
	}
	b0, b1, b2, b3 = b0[:n], b1[:n], b2[:n], b3[:n]
	if hasAVX2FMA {
		dot4AVX2(n, &a[0], &b0[0], &b1[0], &b2[0], &b3[0], &s)
		return s
	}
	return [4]float64{floats.Dot(a, b0), floats.Dot(a, b1), floats.Dot(a, b2), floats.Dot(a, b3)}
}
