package prune

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// Calibration is the set of patterns a curvature is built from: rows of
// inputs X and of targets T, as the data set. It is an input of every
// Builder, separate from the data set on which Prune measures E, the
// accuracy and its stopping rules. The zero value means the data set
// itself. FirstN and Sample pick one from a data set.
type Calibration struct {
	X, T [][]float64
}

// Len returns the number of patterns.
func (c Calibration) Len() int { return len(c.X) }

// FirstN returns the first n patterns of X, T (all of them if n <= 0 or n
// is larger than the set).
func FirstN(X, T [][]float64, n int) Calibration {
	if n <= 0 || n > len(X) {
		n = len(X)
	}
	return Calibration{X: X[:n], T: T[:n]}
}

// Sample returns n patterns of X, T drawn without replacement by a PCG
// generator seeded with (seed, SampleStream), kept in the order of the data
// set (all of them if n <= 0 or n is larger than the set).
func Sample(X, T [][]float64, n int, seed uint64) Calibration {
	if n <= 0 || n >= len(X) {
		return FirstN(X, T, n)
	}
	idx := rand.New(rand.NewPCG(seed, SampleStream)).Perm(len(X))[:n]
	slices.Sort(idx)
	c := Calibration{X: make([][]float64, n), T: make([][]float64, n)}
	for i, p := range idx {
		c.X[i], c.T[i] = X[p], T[p]
	}
	return c
}

// SampleStream is the second PCG word of Sample's generator.
const SampleStream = 0x63616c6962 // "calib"

// or returns c, or the data set X, T if c is the zero value.
func (c Calibration) or(X, T [][]float64) Calibration {
	if c.X == nil && c.T == nil {
		return Calibration{X: X, T: T}
	}
	return c
}

// check returns an error if c is empty or its rows do not pair up.
func (c Calibration) check() error {
	if len(c.X) == 0 || len(c.X) != len(c.T) {
		return fmt.Errorf("prune: calibration set of %d inputs and %d targets", len(c.X), len(c.T))
	}
	return nil
}
