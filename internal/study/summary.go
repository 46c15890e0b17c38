package study

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// PredictionSummary is a curvature's prediction quality averaged over seeds.
type PredictionSummary struct {
	Curvature             string
	Spearman, MedianLog10 float64
	// FirstIsBest counts the seeds where the first choice was the best.
	FirstIsBest int
	// Failed counts the seeds whose analysis failed (exact Hessian).
	Failed int
	// Negative counts the seeds where the exact Hessian had negative
	// eigenvalues (FixShift then shifted it).
	Negative int
}

// RowSummary is one setting's outcomes averaged over its seeds (means of
// the per-seed values, NaN ones left out; ratios are formed per seed).
type RowSummary struct {
	Factor, Label string
	Seeds         int
	// Converged counts the seeds whose training reached its tolerance.
	Converged                   int
	E, GradNorm, MSR            float64
	CStar, CStarOverMSR         float64
	DistAfter, RelDist          float64
	MCScale, MCDist             float64
	SalSpearman, SalMatched     float64
	EFMagnitude                 float64
	FirstAgree                  int
	TrainAccuracy, TestAccuracy float64
	SignalStd                   float64
	Predictions                 []PredictionSummary
	Setting                     Setting
}

// mean returns the mean of the finite values of x, NaN if none.
func mean(x []float64) float64 {
	var v []float64
	for _, a := range x {
		if !math.IsNaN(a) && !math.IsInf(a, 0) {
			v = append(v, a)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	return stat.Mean(v, nil)
}

// Summary returns the rows of every factor averaged over seeds, in order.
func (r *Results) Summary() []RowSummary {
	var out []RowSummary
	for _, f := range r.Factors {
		for _, row := range f.Rows {
			out = append(out, summariseRow(f.Key, row))
		}
	}
	return out
}

func summariseRow(factor string, row Row) RowSummary {
	s := RowSummary{Factor: factor, Label: row.Setting.Label, Seeds: len(row.Outcomes), Setting: row.Setting}
	col := func(f func(o *Outcome) float64) float64 {
		x := make([]float64, len(row.Outcomes))
		for i := range row.Outcomes {
			x[i] = f(&row.Outcomes[i])
		}
		return mean(x)
	}
	s.E = col(func(o *Outcome) float64 { return o.TrainE })
	s.GradNorm = col(func(o *Outcome) float64 { return o.TrainGradNorm })
	s.MSR = col(func(o *Outcome) float64 { return o.MSR })
	s.CStar = col(func(o *Outcome) float64 { return o.CStar })
	s.CStarOverMSR = col(func(o *Outcome) float64 { return o.CStar / o.MSR })
	s.DistAfter = col(func(o *Outcome) float64 { return o.DistAfter })
	s.RelDist = col(func(o *Outcome) float64 { return o.RelDist })
	s.MCScale = col(func(o *Outcome) float64 { return o.MCScale })
	s.MCDist = col(func(o *Outcome) float64 { return o.MCDist })
	s.SalSpearman = col(func(o *Outcome) float64 { return o.SalSpearman })
	s.SalMatched = col(func(o *Outcome) float64 { return o.SalSpearmanMatched })
	s.EFMagnitude = col(func(o *Outcome) float64 { return o.EFMagnitude })
	s.TrainAccuracy = col(func(o *Outcome) float64 { return o.TrainAccuracy })
	s.TestAccuracy = col(func(o *Outcome) float64 { return o.TestAccuracy })
	s.SignalStd = col(func(o *Outcome) float64 { return o.SignalStd })
	for _, o := range row.Outcomes {
		if o.Converged {
			s.Converged++
		}
		if o.FirstAgree {
			s.FirstAgree++
		}
	}
	for k, kind := range Curvatures {
		p := PredictionSummary{Curvature: kind.String()}
		p.Spearman = col(func(o *Outcome) float64 { return o.Predictions[k].Spearman })
		p.MedianLog10 = col(func(o *Outcome) float64 { return o.Predictions[k].MedianLog10 })
		for _, o := range row.Outcomes {
			q := o.Predictions[k]
			if q.FirstIsBest {
				p.FirstIsBest++
			}
			if q.Err != "" {
				p.Failed++
			}
			if q.Negative > 0 {
				p.Negative++
			}
		}
		s.Predictions = append(s.Predictions, p)
	}
	return s
}
