//go:build !amd64 || noasm || purego

package hessian

import "gonum.org/v1/gonum/floats"

// hasAVX2FMA is false without the amd64 assembly kernel.
const hasAVX2FMA = false

// dot4 returns the dot products of a with b0, b1, b2 and b3, which are at
// least as long as a.
func dot4(a, b0, b1, b2, b3 []float64) (s [4]float64) {
	n := len(a)
	return [4]float64{floats.Dot(a, b0[:n]), floats.Dot(a, b1[:n]), floats.Dot(a, b2[:n]), floats.Dot(a, b3[:n])}
}
