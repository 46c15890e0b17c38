// Package stats holds the rank statistics obs reports when it compares
// predicted with actual loss increases, or the saliencies of two
// curvatures. Pearson's correlation is gonum's; Spearman's is gonum's
// Pearson correlation of average ranks; Kendall's is tau-b, written here
// because gonum's stat.Kendall is tau-a and mishandles ties (see Kendall).
//
// The correlations return NaN when they are undefined: fewer than two
// points, a constant sample, or a NaN among the values. Lengths that differ
// panic.
package stats

import (
	"cmp"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// Ranks returns the 1-based ranks of x, ties sharing their average rank.
func Ranks(x []float64) []float64 {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] < x[idx[b]] })
	r := make([]float64, len(x))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && x[idx[j+1]] == x[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// Pearson returns the Pearson correlation of x and y (NaN for fewer than two
// points or a constant sample).
func Pearson(x, y []float64) float64 {
	checkLen("Pearson", x, y)
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.Correlation(x, y, nil)
}

// Spearman returns Spearman's rank correlation: Pearson's correlation of
// the average ranks of x and y (NaN for fewer than two points, a constant
// sample or a NaN value, which has no rank).
func Spearman(x, y []float64) float64 {
	checkLen("Spearman", x, y)
	if len(x) < 2 || hasNaN(x) || hasNaN(y) {
		return math.NaN()
	}
	return stat.Correlation(Ranks(x), Ranks(y), nil)
}

// Kendall returns Kendall's tau-b rank correlation of x and y,
//
//	tau_b = (n_c - n_d) / sqrt((n_0 - t_x) (n_0 - t_y)),
//
// over the n_0 = n(n-1)/2 pairs, with n_c concordant and n_d discordant
// pairs and t_x, t_y the pairs tied in x and in y (a pair tied in both
// counts in both). Without ties it is tau-a; with ties it still reaches
// +-1 when the two rankings agree, and a tied pair is neither concordant nor
// discordant. It is NaN for fewer than two points, a constant sample (the
// denominator is 0) or a NaN value. O(n^2).
//
// gonum's stat.Kendall is tau-a (it divides by n_0) and classifies pairs by
// the sign bits of x_j - x_i and y_j - y_i, so a tie (+0) counts as
// concordant with any increase and discordant with any decrease; saliencies
// and loss increases have ties (pruned-to-zero weights, equal magnitudes),
// which that would bias.
func Kendall(x, y []float64) float64 {
	checkLen("Kendall", x, y)
	if hasNaN(x) || hasNaN(y) {
		return math.NaN()
	}
	var nc, nd, tx, ty float64
	for i := range x {
		for j := i + 1; j < len(x); j++ {
			// Compared, not subtracted: equal infinities are a tie.
			sx, sy := cmp.Compare(x[j], x[i]), cmp.Compare(y[j], y[i])
			switch {
			case sx == 0 && sy == 0:
				tx++
				ty++
			case sx == 0:
				tx++
			case sy == 0:
				ty++
			case sx == sy:
				nc++
			default:
				nd++
			}
		}
	}
	n0 := float64(len(x)) * float64(len(x)-1) / 2
	den := math.Sqrt((n0 - tx) * (n0 - ty))
	if den == 0 {
		return math.NaN()
	}
	return (nc - nd) / den
}

func checkLen(what string, x, y []float64) {
	if len(x) != len(y) {
		panic(fmt.Sprintf("stats: %s of %d and %d values", what, len(x), len(y)))
	}
}

func hasNaN(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) {
			return true
		}
	}
	return false
}

// ArgMin returns the index of the smallest value of x, the first on ties,
// skipping NaN; -1 if there is none.
func ArgMin(x []float64) int {
	best := -1
	for i, v := range x {
		if math.IsNaN(v) {
			continue
		}
		if best < 0 || v < x[best] {
			best = i
		}
	}
	return best
}

// MedianAbsLog10Ratio returns the median of |log10(p/a)| over the pairs
// where both are positive, and how many pairs that was.
func MedianAbsLog10Ratio(pred, actual []float64) (float64, int) {
	var r []float64
	for i := range pred {
		if pred[i] > 0 && actual[i] > 0 {
			r = append(r, math.Abs(math.Log10(pred[i]/actual[i])))
		}
	}
	if len(r) == 0 {
		return math.NaN(), 0
	}
	sort.Float64s(r)
	return stat.Quantile(0.5, stat.Empirical, r, nil), len(r)
}

// BestScale returns the c minimising sum (c p_i - a_i)^2, c = <p,a>/<p,p>.
func BestScale(pred, actual []float64) float64 {
	num, den := 0.0, 0.0
	for i := range pred {
		num += pred[i] * actual[i]
		den += pred[i] * pred[i]
	}
	if den == 0 {
		return math.NaN()
	}
	return num / den
}
