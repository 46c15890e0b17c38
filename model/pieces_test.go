package model

import (
	"math/rand/v2"
	"testing"
)

// activatePieces on a slice long enough to be shared out gives activate's
// values, element by element and softmax row by row.
func TestActivatePiecesEqualsActivate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const width = 10
	z := make([]float64, (minRowsWork/width+7)*width)
	for i := range z {
		z[i] = 4 * rng.NormFloat64()
	}
	for _, act := range []Activation{Sigmoid, Tanh, ReLU, Identity, GELU, Softmax} {
		got := make([]float64, len(z))
		want := make([]float64, len(z))
		activatePieces(act, got, z, width)
		for o := 0; o < len(z); o += width {
			if act == Softmax {
				activate(act, want[o:o+width], z[o:o+width])
			}
		}
		if act != Softmax {
			activate(act, want, z)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%v: a[%d] = %v, activate gives %v", act, i, got[i], want[i])
			}
		}
	}
}
