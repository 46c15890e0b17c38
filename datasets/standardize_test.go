package datasets

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// TestInputStatsUnchanged checks that the scaling by a power of two leaves
// the moments of ordinary columns bit for bit those of stat.PopMeanStdDev
// (the number rule: no standardised run may change).
func TestInputStatsUnchanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, scale := range []float64{1e-8, 1e-3, 1, 3.7, 255, 1e6, 1e12} {
		s := &Set{Name: "r", InputNames: []string{"a", "b"}}
		for range 50 {
			s.Inputs = append(s.Inputs, []float64{scale * rng.NormFloat64(), scale * (rng.Float64() + 2)})
		}
		mean, std := s.InputStats()
		col := make([]float64, s.Len())
		for i := range 2 {
			for p, x := range s.Inputs {
				col[p] = x[i]
			}
			m, d := stat.PopMeanStdDev(col, nil)
			if mean[i] != m || std[i] != d {
				t.Errorf("scale %g column %d: InputStats = %v, %v; PopMeanStdDev %v, %v", scale, i, mean[i], std[i], m, d)
			}
		}
	}
}

// TestStandardizationLargeValues is issue 23's class 6: --standardize on
// large finite values. 1e200 squared overflows, so unscaled moments gave
// std +Inf (and a model file that could not be written); they must be
// finite and right. Values whose difference from the mean overflows must
// be refused with the column's name instead of producing Inf or NaN.
func TestStandardizationLargeValues(t *testing.T) {
	s := &Set{Name: "big.csv", InputNames: []string{"a", "huge"},
		Inputs: [][]float64{{1, 1e200}, {2, -1e200}, {3, 1e200}, {4, -1e200}}}
	std, err := s.Standardization()
	if err != nil {
		t.Fatal(err)
	}
	// Independent reference: column b is ±1e200 evenly, mean 0, deviation 1e200.
	if std.Mean[1] != 0 || math.Abs(std.Std[1]-1e200) > 1e200*1e-15 {
		t.Errorf("huge column: mean %v, std %v; want 0 and 1e200", std.Mean[1], std.Std[1])
	}
	for _, x := range s.Standardized(std.Mean, std.Std).Inputs {
		if math.Abs(math.Abs(x[1])-1) > 1e-15 {
			t.Errorf("standardised huge value %v, want ±1", x[1])
		}
	}

	s.Inputs = [][]float64{{1, 1.7e308}, {2, -1.7e308}, {3, 1e308}}
	if _, err := s.Standardization(); err == nil {
		t.Error("no error for values whose difference overflows")
	} else if !strings.Contains(err.Error(), `"huge"`) || strings.Contains(err.Error(), `"a"`) {
		t.Errorf("error %q does not name the column huge (only)", err)
	}
}
