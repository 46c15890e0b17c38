package study

import (
	"math"
	"strings"
	"testing"
)

// iv is an interval around m of half-width h over 20 seeds.
func iv(m, h float64) Interval { return Interval{Mean: m, Lo: m - h, Hi: m + h, N: 20} }

// fakeRows returns two settings whose paired differences are all d (with
// half-width h), the calibration factor's gaps g0 at the smallest and g1
// at the largest P_c, and calibration medians.
func fakeRows(d, h, g0, g1, efCal float64) []RowSummary {
	var rows []RowSummary
	for _, label := range []string{"σ = 0.1", "sampled labels"} {
		r := RowSummary{Setting: Setting{Label: label}, CStar: iv(0.01, 0.001)}
		for _, pr := range PairList {
			r.Pairs = append(r.Pairs, Paired{A: pr[0], B: pr[1], Diff: iv(d, h)})
		}
		for j, g := range []float64{g0, g1} {
			pc := PcSummary{P: PcSizes[3*j], NEffOverN: iv(float64(j+1), 0.1)}
			for _, pr := range PcPairList {
				pc.Pairs = append(pc.Pairs, Paired{A: pr[0], B: pr[1], Diff: iv(g, h)})
			}
			r.Pc = append(r.Pc, pc)
		}
		ps := make([]PredictorSummary, len(Predictors))
		for i := range ps {
			ps[i] = PredictorSummary{Name: Predictors[i], CalMedian: iv(0.1, 0.05)}
		}
		ps[predictorIndex("ef")].CalMedian = iv(efCal, 0.05)
		r.Predictors = make([][]PredictorSummary, len(Deltas))
		r.Predictors[MainIndex()] = ps
		rows = append(rows, r)
	}
	return rows
}

// Each opening sentence follows its numbers: rows that contradict it
// change it.
func TestBulletsFollowNumbers(t *testing.T) {
	has := func(bl []string, i int, want string) {
		t.Helper()
		if i >= len(bl) || !strings.Contains(bl[i], want) {
			t.Errorf("bullet %d lacks %q:\n%s", i, want, strings.Join(bl, "\n"))
		}
	}
	// Every difference 0 ± 0.05: nothing separates the curvatures.
	tie := bullets(fakeRows(0, 0.05, 0.2, 0.01, 0.1))
	has(tie, 0, "G has no lead over F_emp here")
	has(tie, 0, "in none of 2 settings")
	has(tie, 1, "ranks like an unbiased Fisher of the same size")
	has(tie, 2, "The gap shrinks")
	has(tie, 3, "Integrating out the label noise changes little")
	has(tie, 4, "F_emp's predicted increases are not below G's")
	// Every difference 0.1 ± 0.05: G ahead of F/c*, mc1 ahead of F/c*,
	// popf ahead; the gap grows with P_c; F under-predicts.
	ahead := bullets(fakeRows(0.1, 0.05, 0.01, 0.2, -1.2))
	has(ahead, 0, "Matching the scale does not close")
	has(ahead, 0, "G still ahead of F_emp/c*")
	has(ahead, 1, "the observed labels' bias costs F_emp in 2 of 2 settings")
	has(ahead, 2, "The gap does not shrink")
	has(ahead, 3, "helps in 2 of the 2 settings")
	has(ahead, 4, "under-predicts the cost of a deletion")
	// Raw gap above 0, scaled gap 0: scale explains it.
	rows := fakeRows(0, 0.05, 0.2, 0.01, 0.1)
	for i := range rows {
		rows[i].Pairs[0].Diff = iv(0.1, 0.05) // ggn − ef
	}
	has(bullets(rows), 0, "Scale explains part of G's lead")
	// No population Fisher anywhere: no sentence about it.
	for i := range rows {
		for j := range rows[i].Pairs {
			if rows[i].Pairs[j].A == "popf" {
				rows[i].Pairs[j].Diff = Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
			}
		}
	}
	for _, bl := range bullets(rows) {
		if strings.Contains(bl, "label noise") {
			t.Errorf("a population-Fisher sentence without a population Fisher: %s", bl)
		}
	}
}
