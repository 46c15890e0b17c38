package stats

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat"
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

// TestSpearmanTies: x ranks 1, 2.5, 2.5, 4 (mean 2.5, squared deviations
// sum 4.5), y ranks 1..4 (sum 5), cross products sum 4.5, so
// rho = 4.5 / sqrt(4.5 * 5).
func TestSpearmanTies(t *testing.T) {
	if s, want := Spearman([]float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}), 4.5/math.Sqrt(4.5*5); math.Abs(s-want) > 1e-15 {
		t.Errorf("Spearman with ties = %v, want %v", s, want)
	}
}

// TestKendallTauB checks tau-b against pair counts done by hand.
func TestKendallTauB(t *testing.T) {
	cases := []struct {
		name string
		x, y []float64
		want float64
	}{
		// 6 pairs: 1 tied in x, 5 concordant: 5 / sqrt((6 - 1)(6 - 0)).
		{"tie in x", []float64{1, 2, 2, 3}, []float64{1, 2, 3, 4}, 5 / math.Sqrt(30)},
		// 10 pairs, (i,j) 1-based: tied in x (1,2); tied in y (2,4), (2,5);
		// tied in both (4,5); concordant (1,3), (1,4), (1,5), (2,3);
		// discordant (3,4), (3,5). n_c - n_d = 2, t_x = 2, t_y = 3:
		// 2 / sqrt((10 - 2)(10 - 3)) = 1 / sqrt(14). (tau-a would be 2/10.)
		{"ties in both", []float64{1, 1, 2, 3, 3}, []float64{1, 2, 3, 2, 2}, 1 / math.Sqrt(14)},
		// Equal infinities are tied: pairs (1,2), (1,3) concordant, (2,3)
		// tied in x: 2 / sqrt((3 - 1)(3 - 0)).
		{"tied infinities", []float64{1, math.Inf(1), math.Inf(1)}, []float64{1, 2, 3}, 2 / math.Sqrt(6)},
		// Both rankings agree, with the same ties: +1 (tau-a gives 8/10).
		{"same ties", []float64{1, 1, 2, 3, 3}, []float64{5, 5, 6, 7, 7}, 1},
		{"reversed", []float64{1, 2, 3, 4, 5}, []float64{5, 4, 3, 2, 1}, -1},
	}
	for _, c := range cases {
		if k := Kendall(c.x, c.y); math.Abs(k-c.want) > 1e-15 {
			t.Errorf("%s: Kendall = %v, want %v", c.name, k, c.want)
		}
	}
}

// TestKendallWithoutTiesIsGonumTauA: without ties tau-b is tau-a, which is
// gonum's stat.Kendall; both count the same pairs, so only the final
// division may round differently (1e-15).
func TestKendallWithoutTiesIsGonumTauA(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 50), make([]float64, 50)
	for i := range x {
		x[i] = rng.NormFloat64()
		y[i] = x[i] + rng.NormFloat64()
	}
	if k, want := Kendall(x, y), stat.Kendall(x, y, nil); math.Abs(k-want) > 1e-15 {
		t.Errorf("Kendall = %v, gonum tau-a %v", k, want)
	}
}

func TestUndefinedCorrelationsAreNaN(t *testing.T) {
	cases := map[string][2][]float64{
		"one point": {{1}, {2}},
		"constant":  {{1, 1, 1}, {1, 2, 3}},
		"NaN":       {{1, math.NaN(), 3}, {1, 2, 3}},
	}
	for name, c := range cases {
		for fn, f := range map[string]func(x, y []float64) float64{"Pearson": Pearson, "Spearman": Spearman, "Kendall": Kendall} {
			if v := f(c[0], c[1]); !math.IsNaN(v) {
				t.Errorf("%s, %s = %v, want NaN", name, fn, v)
			}
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "Kendall of 2 and 3 values") {
			t.Errorf("lengths 2 and 3: panic %v", r)
		}
	}()
	Kendall([]float64{1, 2}, []float64{1, 2, 3})
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
