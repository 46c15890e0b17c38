// Package stats holds the rank statistics obs reports when it compares
// predicted with actual loss increases. Pearson and Kendall correlations
// are gonum's; Spearman's is Pearson's correlation of average ranks.
package stats

import (
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
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.Correlation(x, y, nil)
}

// Spearman returns Spearman's rank correlation: Pearson's correlation of
// the average ranks of x and y.
func Spearman(x, y []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.Correlation(Ranks(x), Ranks(y), nil)
}

// Kendall returns Kendall's tau-a (gonum's stat.Kendall).
func Kendall(x, y []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	return stat.Kendall(x, y, nil)
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
