package stats

import (
	"math"
	"testing"
)

func TestRanksAndSpearman(t *testing.T) {
	r := Ranks([]float64{10, 30, 20, 20})
	want := []float64{1, 4, 2.5, 2.5}
	for i := range r {
		if r[i] != want[i] {
			t.Fatalf("Ranks = %v, want %v", r, want)
		}
	}
	// A monotone but nonlinear relation has Spearman 1, Pearson below 1.
	x := []float64{1, 2, 3, 4, 5}
	y := []float64{1, 8, 27, 64, 125}
	if s := Spearman(x, y); math.Abs(s-1) > 1e-15 {
		t.Errorf("Spearman = %v, want 1", s)
	}
	if p := Pearson(x, y); !(p < 0.99) {
		t.Errorf("Pearson = %v, want < 0.99", p)
	}
	// Reversed order: -1 for both rank correlations.
	z := []float64{5, 4, 3, 2, 1}
	if s, k := Spearman(x, z), Kendall(x, z); math.Abs(s+1) > 1e-15 || math.Abs(k+1) > 1e-15 {
		t.Errorf("Spearman %v, Kendall %v, want -1", s, k)
	}
}

func TestMedianAbsLog10RatioAndScale(t *testing.T) {
	m, n := MedianAbsLog10Ratio([]float64{1, 10, 100, -1}, []float64{1, 1, 1, 1})
	if n != 3 || m != 1 {
		t.Errorf("got median %v over %d, want 1 over 3", m, n)
	}
	if c := BestScale([]float64{1, 2}, []float64{2, 4}); c != 2 {
		t.Errorf("BestScale = %v, want 2", c)
	}
	if i := ArgMin([]float64{math.NaN(), 3, 1, 1}); i != 2 {
		t.Errorf("ArgMin = %d, want 2", i)
	}
}
