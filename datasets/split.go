package datasets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat"
)

// SplitStream is the second PCG seed word of Split.
const SplitStream = 0x73706c6974 // "split"

// Split holds out round(frac*P) patterns of s, drawn without replacement
// from rand.NewPCG(seed, SplitStream) by a partial Fisher–Yates shuffle, as
// the test set, and returns the rest as the training set. Both keep the
// patterns in their file order. frac must be in (0, 1) and leave at least one
// pattern on each side. The same seed gives the same split.
func (s *Set) Split(frac float64, seed uint64) (train, test *Set, err error) {
	if !(frac > 0 && frac < 1) {
		return nil, nil, fmt.Errorf("datasets: split fraction %v must be strictly between 0 and 1", frac)
	}
	P := s.Len()
	n := int(math.Round(frac * float64(P)))
	if n < 1 || n > P-1 {
		return nil, nil, fmt.Errorf("datasets: split %v of %d patterns holds out %d; want at least one pattern on each side", frac, P, n)
	}
	held := sample(rand.NewPCG(seed, SplitStream), P, n)
	slices.Sort(held)
	isTest := make([]bool, P)
	for _, p := range held {
		isTest[p] = true
	}
	mk := func(suffix, kind string) *Set {
		return &Set{Name: s.Name + suffix, Source: fmt.Sprintf("%s (%s part of a %.3g hold-out split, seed %d)", s.Source, kind, frac, seed),
			InputNames: s.InputNames, TargetNames: s.TargetNames, Classes: s.Classes}
	}
	train, test = mk("-train", "training"), mk("-test", "test")
	for p := range P {
		d := train
		if isTest[p] {
			d = test
		}
		d.Inputs = append(d.Inputs, s.Inputs[p])
		d.Targets = append(d.Targets, s.Targets[p])
	}
	return train, test, nil
}

// InputStats returns the mean and the population standard deviation (1/P)
// of every input of s, as used for standardisation. A constant input has
// standard deviation 0; Standardized leaves it centred but unscaled.
//
// Each column is first scaled by the power of two 2^-e nearest above its
// largest magnitude (math.Frexp), so that its squares cannot overflow
// (1e200 has a finite standard deviation) and, the scaling being exact,
// the moments of any other column are those of stat.PopMeanStdDev bit for
// bit.
func (s *Set) InputStats() (mean, std []float64) {
	n := s.NumInputs()
	mean, std = make([]float64, n), make([]float64, n)
	col := make([]float64, s.Len())
	for i := range n {
		big := 0.0
		for _, x := range s.Inputs {
			big = math.Max(big, math.Abs(x[i]))
		}
		_, e := math.Frexp(big) // big < 2^e
		for p, x := range s.Inputs {
			col[p] = math.Ldexp(x[i], -e)
		}
		m, d := stat.PopMeanStdDev(col, nil)
		mean[i], std[i] = math.Ldexp(m, e), math.Ldexp(d, e)
	}
	return mean, std
}

// Standardized returns a copy of s whose inputs are (x - mean) / std, input
// by input; an std of 0 is taken as 1 (a constant input is only centred).
// The targets are shared with s.
func (s *Set) Standardized(mean, std []float64) *Set {
	out := *s
	out.Inputs = make([][]float64, len(s.Inputs))
	for p, x := range s.Inputs {
		y := make([]float64, len(x))
		for i, v := range x {
			d := std[i]
			if d == 0 {
				d = 1
			}
			y[i] = (v - mean[i]) / d
		}
		out.Inputs[p] = y
	}
	return &out
}
