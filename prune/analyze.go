package prune

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
)

// AnalyzeConfig configures Analyze. Of Config it uses the method, curvature
// and inverse fields; the loop fields and the held-out set (TestX, TestT)
// are ignored.
type AnalyzeConfig struct {
	Config
	// Retrain also measures, for every candidate, the increase of E after
	// deleting it and retraining the others with Train (the brute-force
	// "correct" choice). Retraining starts from the method's own update.
	Retrain bool
	Train   *model.TrainSettings
	// Progress, if not nil, is called after each candidate.
	Progress func(done, total int)
	// Candidates, if not nil, are the parameters measured (free, distinct;
	// e.g. SampleCandidates), in this order; nil measures every free
	// parameter. The curvature, E and the correlations are the same as in
	// a full run's rows for these parameters.
	Candidates []int
}

// SampleCandidates returns n of net's free parameters drawn uniformly
// without replacement by a PCG generator seeded with (seed, CandidateStream),
// in ascending order; every free parameter if n >= NumFree.
func SampleCandidates(net *model.MLP, n int, seed uint64) []int {
	free := net.Free()
	if n >= len(free) {
		return free
	}
	idx := rand.New(rand.NewPCG(seed, CandidateStream)).Perm(len(free))[:n]
	slices.Sort(idx)
	for i, k := range idx {
		idx[i] = free[k]
	}
	return idx
}

// Candidate is one unpruned parameter as a deletion candidate.
type Candidate struct {
	Index  int
	Name   string
	Weight float64
	// Saliency is the method's saliency; Predicted its predicted increase of
	// E (NaN for magnitude).
	Saliency, Predicted float64
	// Actual is E after the method's own step (OBS: with its compensating
	// update; OBD, magnitude, NoUpdate: w_q set to 0) minus E before.
	Actual float64
	// Zeroed is the increase from setting w_q to 0 with no compensation.
	Zeroed float64
	// Retrained is the increase after deleting q and retraining the rest
	// (NaN unless AnalyzeConfig.Retrain).
	Retrained float64
	// Ranks (1 = smallest) of Saliency, Actual and Retrained.
	RankSaliency, RankActual, RankRetrained float64
}

// Analysis compares, at the current weights, the increase of E that a method
// predicts for deleting each parameter with the increase that happens.
type Analysis struct {
	Method     string
	Alpha      float64
	E          float64
	GradNorm   float64
	Candidates []Candidate
	// Correlations between Predicted (Saliency for magnitude) and Actual.
	Pearson, Spearman, Kendall float64
	// The same against Retrained (NaN unless retrained).
	PearsonRetrained, SpearmanRetrained, KendallRetrained float64
	// First is the method's first choice (smallest saliency); BestActual the
	// parameter whose deletion raises E least after the method's own step;
	// BestRetrained the brute-force best after retraining (-1 if not run).
	First, BestActual, BestRetrained int
	FixReport                        *hessian.FixReport
}

// Analyze measures every candidate deletion of net (left unchanged) on the
// training set X, T (P rows each).
func Analyze(net *model.MLP, X, T [][]float64, cfg AnalyzeConfig) (*Analysis, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := net.Check(); err != nil {
		return nil, err
	}
	if err := net.CheckData(X, T); err != nil {
		return nil, err
	}
	method := cfg.pruner()
	sc, err := method.Prepare(PollContext(cfg.Stop), net, cfg.Plan().Calib.or(X, T))
	if err != nil {
		return nil, err
	}
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	a := &Analysis{Method: method.String(), E: net.Grad(ws, grad, X, T), BestRetrained: -1}
	if f, ok := sc.(interface{ FixReport() *hessian.FixReport }); ok {
		a.FixReport = f.FixReport()
	}
	a.GradNorm = floats.Norm(grad, 2)
	if d, ok := method.(interface{ Damping() float64 }); ok {
		a.Alpha = d.Damping()
	}
	free := net.Free()
	if cfg.Candidates != nil {
		if err := checkCandidates(net, cfg.Candidates); err != nil {
			return nil, err
		}
		free = cfg.Candidates
	}
	work := net.Clone()
	for i, q := range free {
		if cfg.Stop != nil && cfg.Stop() {
			return nil, ErrStopped
		}
		c := Candidate{Index: q, Name: net.Name(q), Weight: net.Params[q], Saliency: sc.Saliency(net.Params, []int{q}), Retrained: math.NaN()}
		copy(work.Params, net.Params)
		copy(work.Pruned, net.Pruned)
		work.Prune(q)
		c.Zeroed = work.Error(ws, X, T) - a.E
		c.Actual = c.Zeroed
		u, err := sc.Step(net.Params, []int{q})
		if err != nil {
			return nil, err
		}
		c.Predicted = u.Predicted
		if u.Rows != nil {
			u.Apply(work.Params)
			work.Prune(q)
			c.Actual = work.Error(ws, X, T) - a.E
		}
		if cfg.Retrain {
			if _, err := model.Train(work, X, T, cfg.Train); err != nil {
				return nil, err
			}
			c.Retrained = work.Error(ws, X, T) - a.E
		}
		a.Candidates = append(a.Candidates, c)
		if cfg.Progress != nil {
			cfg.Progress(i+1, len(free))
		}
	}
	a.summarise(cfg.Retrain)
	return a, nil
}

// CandidateStream is the second PCG word of SampleCandidates' generator.
const CandidateStream = 0x63616e64 // "cand"

// checkCandidates returns an error unless every q is a distinct free
// parameter of net.
func checkCandidates(net *model.MLP, qs []int) error {
	seen := make(map[int]bool, len(qs))
	for _, q := range qs {
		if q < 0 || q >= len(net.Params) || net.Pruned[q] {
			return fmt.Errorf("prune: candidate %d is not a free parameter (%d parameters)", q, len(net.Params))
		}
		if seen[q] {
			return fmt.Errorf("prune: candidate %d given twice", q)
		}
		seen[q] = true
	}
	return nil
}

func (a *Analysis) summarise(retrained bool) {
	nc := len(a.Candidates)
	pred, sal, act, ret := make([]float64, nc), make([]float64, nc), make([]float64, nc), make([]float64, nc)
	for i, c := range a.Candidates {
		pred[i], sal[i], act[i], ret[i] = c.Predicted, c.Saliency, c.Actual, c.Retrained
	}
	x := pred
	if math.IsNaN(floats.Sum(pred)) {
		x = sal // magnitude: no prediction, correlate the saliency
		a.Pearson = math.NaN()
	} else {
		a.Pearson = stats.Pearson(pred, act)
	}
	a.Spearman, a.Kendall = stats.Spearman(x, act), stats.Kendall(x, act)
	rs, ra := stats.Ranks(sal), stats.Ranks(act)
	for i := range a.Candidates {
		a.Candidates[i].RankSaliency, a.Candidates[i].RankActual = rs[i], ra[i]
		a.Candidates[i].RankRetrained = math.NaN()
	}
	a.First, a.BestActual = -1, -1
	if i := stats.ArgMin(sal); i >= 0 {
		a.First = a.Candidates[i].Index
	}
	if i := stats.ArgMin(act); i >= 0 {
		a.BestActual = a.Candidates[i].Index
	}
	a.PearsonRetrained, a.SpearmanRetrained, a.KendallRetrained = math.NaN(), math.NaN(), math.NaN()
	if retrained {
		if math.IsNaN(a.Pearson) {
			a.PearsonRetrained = math.NaN()
		} else {
			a.PearsonRetrained = stats.Pearson(pred, ret)
		}
		a.SpearmanRetrained, a.KendallRetrained = stats.Spearman(x, ret), stats.Kendall(x, ret)
		rr := stats.Ranks(ret)
		for i := range a.Candidates {
			a.Candidates[i].RankRetrained = rr[i]
		}
		if i := stats.ArgMin(ret); i >= 0 {
			a.BestRetrained = a.Candidates[i].Index
		}
	}
}
