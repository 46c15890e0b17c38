package reproduce

import (
	"math"
	"sort"
)

// rangeOf returns the median, minimum and maximum of x, leaving out NaN.
func rangeOf(x []float64) Range {
	var v []float64
	for _, a := range x {
		if !math.IsNaN(a) {
			v = append(v, a)
		}
	}
	r := Range{Median: math.NaN(), Min: math.NaN(), Max: math.NaN(), N: len(v)}
	if len(v) == 0 {
		return r
	}
	sort.Float64s(v)
	r.Min, r.Max = v[0], v[len(v)-1]
	// The median: the middle value, or the mean of the two middle values
	// of an even count.
	n := len(v)
	if n%2 == 1 {
		r.Median = v[n/2]
	} else {
		r.Median = (v[n/2-1] + v[n/2]) / 2
	}
	return r
}
