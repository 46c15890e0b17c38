package study

import (
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
	means := make([]float64, BootstrapResamples)
	for b := range means {
		s := 0.0
		for range v {
			s += v[rng.IntN(len(v))]
		}
		means[b] = s / float64(len(v))
	}
	sort.Float64s(means)
	iv.Lo = stat.Quantile(0.025, stat.Empirical, means, nil)
	iv.Hi = stat.Quantile(0.975, stat.Empirical, means, nil)
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
	// Pairs at MainDelta: ggn−ef, exact−ggn, mcfisher−ggn, ggn−obd,
	// ef-b32−ef.
	Pairs []Paired
	// DeltaPairs[d] is ef − ggn at Deltas[d].
	DeltaPairs []Paired
	// CurvePairs: obs-ef − obs-ggn test increase at the last fraction
	// (negative: EF's pruning hurt the test loss less).
	Curves     []CurveSummary
	CurvePairs []Paired
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
	for i, row := range r.Rows {
		out = append(out, summariseRow(row, newRand(uint64(i), bootstrapStream)))
	}
	return out
}

func summariseRow(row Row, rng *rand.Rand) RowSummary {
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
	s.CStarOverMSR = col(func(n *NetResult) float64 { return n.CStar / n.MSR })
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
	pair := func(a, b string, d int) Paired {
		ia, ib := predictorIndex(a), predictorIndex(b)
		p := Paired{A: a, B: b}
		p.Diff = col(func(n *NetResult) float64 { return n.Scores[ia][d].Spearman - n.Scores[ib][d].Spearman })
		for _, n := range nets {
			if n.Scores[ia][d].Spearman > n.Scores[ib][d].Spearman {
				p.Wins++
			}
		}
		return p
	}
	m := MainIndex()
	s.Pairs = []Paired{pair("ggn", "ef", m), pair("exact", "ggn", m), pair("mcfisher", "ggn", m), pair("ggn", "obd", m), pair("ef-b32", "ef", m)}
	for d := range Deltas {
		s.DeltaPairs = append(s.DeltaPairs, pair("ef", "ggn", d))
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
