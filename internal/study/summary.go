package study

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"gonum.org/v1/gonum/stat"
)

// BootstrapResamples is the number of bootstrap resamples of every
// interval; bootstrapStream seeds them (with the setting's index), so the
// intervals are reproducible.
const (
	BootstrapResamples        = 2000
	bootstrapStream    uint64 = 0x626f6f74 // "boot"
)

// Interval is a mean over networks (seeds) with its 95% percentile
// bootstrap interval; N counts the finite values it is over.
type Interval struct {
	Mean, Lo, Hi float64
	N            int
}

// bootstrap returns the mean of the finite values of x and its 95%
// percentile bootstrap interval from BootstrapResamples resamples drawn
// with rng.
func bootstrap(x []float64, rng *rand.Rand) Interval {
	return bootstrapAt(x, rng, 0.95, BootstrapResamples)
}

// FamilyLevel is the family-wise confidence of the Bonferroni-corrected
// intervals: the m intervals of a corrected table are each at level
// 1 - (1 - FamilyLevel)/m, so that all m cover together with probability
// at least FamilyLevel. BonferroniResamples is their number of bootstrap
// resamples (enough for the far quantiles).
const (
	FamilyLevel         = 0.95
	BonferroniResamples = 20000
)

// bootstrapAt is bootstrap at the given two-sided level with the given
// number of resamples.
func bootstrapAt(x []float64, rng *rand.Rand, level float64, resamples int) Interval {
	var v []float64
	for _, a := range x {
		if finite(a) {
			v = append(v, a)
		}
	}
	iv := Interval{Mean: math.NaN(), Lo: math.NaN(), Hi: math.NaN(), N: len(v)}
	if len(v) == 0 {
		return iv
	}
	iv.Mean = stat.Mean(v, nil)
	means := make([]float64, resamples)
	for b := range means {
		s := 0.0
		for range v {
			s += v[rng.IntN(len(v))]
		}
		means[b] = s / float64(len(v))
	}
	sort.Float64s(means)
	iv.Lo = stat.Quantile((1-level)/2, stat.Empirical, means, nil)
	iv.Hi = stat.Quantile(1-(1-level)/2, stat.Empirical, means, nil)
	return iv
}

// Excludes0 reports the sign of an interval that excludes 0: +1 above, -1
// below, 0 if it contains 0 (or is empty).
func (iv Interval) Excludes0() int {
	switch {
	case iv.Lo > 0:
		return 1
	case iv.Hi < 0:
		return -1
	}
	return 0
}

// PredictorSummary is one predictor at one damping over the seeds of a
// setting.
type PredictorSummary struct {
	Name                   string
	Spearman, SpearmanTest Interval
	Regret                 Interval
	FirstIsBest            int
	CalMedian, CalSpread   Interval
}

// Paired is a difference between two predictors' Spearman correlations on
// the same networks: mean with interval, and the networks where A beat B.
type Paired struct {
	A, B string
	Diff Interval
	Wins int
}

// CurveSummary is one method's multi-step pruning curve over the seeds.
type CurveSummary struct {
	Method                      string
	TrainIncrease, TestIncrease []Interval
	Failed                      int
}

// RowSummary is one setting summarised over its seeds.
type RowSummary struct {
	Setting    Setting
	Seeds      int
	Converged  int
	Candidates int // per network
	E, MSR     Interval
	// Agreement of the curvatures (data parts, no decay).
	CStar, CStarOverMSR, DistAfter, MCScale, MCDist, HG, HGDist, IMStat Interval
	BatchScale                                                          []Interval
	// Predictors[d][i] is Predictors[i] at Deltas[d].
	Predictors [][]PredictorSummary
	// NEff is n_eff on the training set, NEffOverN n_eff / n.
	NEff, NEffOverN Interval
	// Pairs at MainDelta (PairList), with Bonferroni-corrected intervals
	// over the len(PairList) x settings intervals of the table.
	Pairs []Paired
	// Pc[j] is the calibration factor at PcSizes[j]; Matched[j] is mc4 at
	// PcSizes[j] − ef/c* at PcSizes[j+1] (as many gradients), 95%.
	Pc      []PcSummary
	Matched []Paired
	// DeltaPairs[d] is ef − ggn at Deltas[d].
	DeltaPairs []Paired
	// CurvePairs: obs-ef − obs-ggn test increase at the last fraction
	// (negative: EF's pruning hurt the test loss less).
	Curves     []CurveSummary
	CurvePairs []Paired
}

// PairList are the paired Spearman differences A − B of the main table.
var PairList = [][2]string{{"ggn", "ef"}, {"ggn", "ef/c*"}, {"mc1", "ef/c*"}, {"ggn", "mc1"}, {"popf", "ef/c*"}, {"ef-rel", "ef"}, {"exact", "ggn"}}

// PcPairList are the paired differences of the calibration factor.
var PcPairList = [][2]string{{"ggn", "ef"}, {"ggn", "ef/c*"}, {"mc1", "ef/c*"}, {"popf", "ef/c*"}}

// PcSummary is one calibration size over the seeds: n_eff / n, c*, the
// Spearman correlations of PcPredictors and the pairs of PcPairList (95%).
type PcSummary struct {
	P                int
	NEffOverN, CStar Interval
	Spearman         []Interval
	Pairs            []Paired
}

// MainIndex is the index of MainDelta in Deltas.
func MainIndex() int {
	for d, v := range Deltas {
		if v == MainDelta {
			return d
		}
	}
	panic("study: MainDelta not in Deltas")
}

func predictorIndex(name string) int {
	for i, p := range Predictors {
		if p == name {
			return i
		}
	}
	panic("study: unknown predictor " + name)
}

// Summary returns every setting summarised over its seeds, in order. The
// bootstrap of setting i draws from PCG(i, bootstrapStream).
func (r *Results) Summary() []RowSummary {
	var out []RowSummary
	level := 1 - (1-FamilyLevel)/float64(len(PairList)*len(r.Rows))
	for i, row := range r.Rows {
		out = append(out, summariseRow(row, newRand(uint64(i), bootstrapStream), level))
	}
	return out
}

// pcIndex returns the index of name in PcPredictors.
func pcIndex(name string) int {
	for i, p := range PcPredictors {
		if p == name {
			return i
		}
	}
	panic("study: unknown calibration predictor " + name)
}

func summariseRow(row Row, rng *rand.Rand, level float64) RowSummary {
	nets := row.Nets
	s := RowSummary{Setting: row.Setting, Seeds: len(nets)}
	col := func(f func(n *NetResult) float64) Interval {
		x := make([]float64, len(nets))
		for i := range nets {
			x[i] = f(&nets[i])
		}
		return bootstrap(x, rng)
	}
	for _, n := range nets {
		if n.Converged {
			s.Converged++
		}
		s.Candidates = n.Candidates
	}
	s.E = col(func(n *NetResult) float64 { return n.TrainE })
	s.MSR = col(func(n *NetResult) float64 { return n.MSR })
	s.CStar = col(func(n *NetResult) float64 { return n.CStar })
	s.CStarOverMSR = col(func(n *NetResult) float64 {
		if row.Setting.Task != TeacherStudent {
			return math.NaN() // the MSR is no noise variance for cross-entropy
		}
		return n.CStar / n.MSR
	})
	s.NEff = col(func(n *NetResult) float64 { return n.NEff })
	s.NEffOverN = col(func(n *NetResult) float64 { return n.NEff / float64(n.N) })
	s.DistAfter = col(func(n *NetResult) float64 { return n.DistAfter })
	s.MCScale = col(func(n *NetResult) float64 { return n.MCScale })
	s.MCDist = col(func(n *NetResult) float64 { return n.MCDist })
	s.HG = col(func(n *NetResult) float64 { return n.HG })
	s.HGDist = col(func(n *NetResult) float64 { return n.HGDist })
	s.IMStat = col(func(n *NetResult) float64 { return n.IMStat })
	for b := range Batches {
		s.BatchScale = append(s.BatchScale, col(func(n *NetResult) float64 { return n.BatchScale[b] }))
	}
	for d := range Deltas {
		var ps []PredictorSummary
		for i, name := range Predictors {
			p := PredictorSummary{Name: name}
			p.Spearman = col(func(n *NetResult) float64 { return n.Scores[i][d].Spearman })
			p.SpearmanTest = col(func(n *NetResult) float64 { return n.Scores[i][d].SpearmanTest })
			p.Regret = col(func(n *NetResult) float64 { return n.Scores[i][d].Regret })
			p.CalMedian = col(func(n *NetResult) float64 { return n.Scores[i][d].CalMedian })
			p.CalSpread = col(func(n *NetResult) float64 { return n.Scores[i][d].CalSpread })
			for _, n := range nets {
				if n.Scores[i][d].FirstIsBest {
					p.FirstIsBest++
				}
			}
			ps = append(ps, p)
		}
		s.Predictors = append(s.Predictors, ps)
	}
	pair := func(a, b string, d int, lv float64) Paired {
		ia, ib := predictorIndex(a), predictorIndex(b)
		p := Paired{A: a, B: b}
		x := make([]float64, len(nets))
		for i := range nets {
			x[i] = nets[i].Scores[ia][d].Spearman - nets[i].Scores[ib][d].Spearman
		}
		if lv == 0.95 {
			p.Diff = bootstrap(x, rng)
		} else {
			p.Diff = bootstrapAt(x, rng, lv, BonferroniResamples)
		}
		for _, n := range nets {
			if n.Scores[ia][d].Spearman > n.Scores[ib][d].Spearman {
				p.Wins++
			}
		}
		return p
	}
	m := MainIndex()
	for _, pr := range PairList {
		s.Pairs = append(s.Pairs, pair(pr[0], pr[1], m, level))
	}
	for d := range Deltas {
		s.DeltaPairs = append(s.DeltaPairs, pair("ef", "ggn", d, 0.95))
	}
	// The calibration factor (the quick study has fewer sizes).
	npc := len(PcSizes)
	for _, n := range nets {
		npc = min(npc, len(n.Pc))
	}
	pcPair := func(a string, ja int, b string, jb int) Paired {
		ia, ib := pcIndex(a), pcIndex(b)
		p := Paired{A: a, B: b}
		p.Diff = col(func(n *NetResult) float64 { return n.Pc[ja].Scores[ia].Spearman - n.Pc[jb].Scores[ib].Spearman })
		for _, n := range nets {
			if n.Pc[ja].Scores[ia].Spearman > n.Pc[jb].Scores[ib].Spearman {
				p.Wins++
			}
		}
		return p
	}
	for j := 0; j < npc; j++ {
		ps := PcSummary{P: PcSizes[j]}
		ps.NEffOverN = col(func(n *NetResult) float64 { return n.Pc[j].NEff / float64(n.N) })
		ps.CStar = col(func(n *NetResult) float64 { return n.Pc[j].CStar })
		for i := range PcPredictors {
			ps.Spearman = append(ps.Spearman, col(func(n *NetResult) float64 { return n.Pc[j].Scores[i].Spearman }))
		}
		for _, pr := range PcPairList {
			ps.Pairs = append(ps.Pairs, pcPair(pr[0], j, pr[1], j))
		}
		s.Pc = append(s.Pc, ps)
	}
	for j := 0; j+1 < npc; j++ {
		s.Matched = append(s.Matched, pcPair(fmt.Sprintf("mc%d", McS), j, "ef/c*", j+1))
	}
	for c, name := range CurveMethods {
		cs := CurveSummary{Method: name}
		for f := range CurveFractions {
			cs.TrainIncrease = append(cs.TrainIncrease, col(func(n *NetResult) float64 { return n.Curves[c].TrainIncrease[f] }))
			cs.TestIncrease = append(cs.TestIncrease, col(func(n *NetResult) float64 { return n.Curves[c].TestIncrease[f] }))
		}
		for _, n := range nets {
			if n.Curves[c].Err != "" {
				cs.Failed++
			}
		}
		s.Curves = append(s.Curves, cs)
	}
	last := len(CurveFractions) - 1
	cidx := func(name string) int {
		for c, v := range CurveMethods {
			if v == name {
				return c
			}
		}
		panic("study: unknown curve method " + name)
	}
	cpair := func(a, b string) Paired {
		ia, ib := cidx(a), cidx(b)
		p := Paired{A: a, B: b}
		p.Diff = col(func(n *NetResult) float64 { return n.Curves[ia].TestIncrease[last] - n.Curves[ib].TestIncrease[last] })
		for _, n := range nets {
			if n.Curves[ia].TestIncrease[last] < n.Curves[ib].TestIncrease[last] {
				p.Wins++
			}
		}
		return p
	}
	s.CurvePairs = []Paired{cpair("obs-ef", "obs-ggn"), cpair("obs-exact", "obs-ggn"), cpair("obs-ggn", "obd")}
	return s
}
