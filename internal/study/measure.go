package study

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// DefaultCheckSamples is the number of Monte-Carlo targets per pattern of
// the Fisher that Measure compares with G (MeasureConfig.MCCheckSamples).
// Its relative Frobenius error shrinks like 1/sqrt(P S); 64 samples keep it
// near a few per cent for the smallest sets of the study.
const DefaultCheckSamples = 64

// MeasureConfig configures Measure. The zero value means the documented
// defaults, except Fix: FixNone is a real choice (fail when the exact
// Hessian plus alpha I is not positive definite), so Run sets FixShift.
type MeasureConfig struct {
	// Alpha is the damping of every OBS inverse, (C + Alpha I)^-1. If zero,
	// prune.DefaultAlpha.
	Alpha float64
	// Fix is how the exact Hessian is made invertible for OBS (see
	// hessian.Fix). An exact analysis that fails is recorded in
	// Prediction.Err, with NaN results; it does not fail Measure.
	Fix hessian.Fix
	// MCSamples is the number of sampled targets per pattern of the
	// Monte-Carlo Fisher used for pruning predictions. If zero,
	// hessian.DefaultSamples.
	MCSamples int
	// MCCheckSamples is the number of samples per pattern of the
	// Monte-Carlo Fisher compared with G. If zero, DefaultCheckSamples.
	MCCheckSamples int
	// MCSigma is the noise standard deviation of the Monte-Carlo Fisher for
	// squared error. If zero, hessian.DefaultSigma (1), the noise model of
	// l = 1/2 ||f - t||^2, for which E[F_mc] = G.
	MCSigma float64
	// Seed seeds the Monte-Carlo Fisher's targets.
	Seed uint64
}

func (c *MeasureConfig) alpha() float64 {
	if c.Alpha == 0 {
		return prune.DefaultAlpha
	}
	return c.Alpha
}

// Curvatures are the curvatures whose pruning predictions Measure tests, in
// the order of Measurement.Predictions.
var Curvatures = []hessian.Kind{hessian.GGN, hessian.EmpiricalFisher, hessian.MCFisher, hessian.Exact}

// Prediction is how well one curvature's OBS step predicts the actual
// increase of E over every deletion candidate (prune.Analyze).
type Prediction struct {
	Curvature string
	// Spearman and Pearson correlations of predicted and actual increase
	// over the candidates.
	Spearman, Pearson float64
	// MedianLog10 is the median |log10(predicted/actual)| over the
	// candidates where both are positive, and Pairs how many those were.
	MedianLog10 float64
	Pairs       int
	// FirstIsBest: the smallest-saliency candidate is also the one whose
	// deletion (with this curvature's update) raises E least.
	FirstIsBest bool
	// Shift is the multiple of I added by FixShift and Negative the number
	// of negative eigenvalues (exact Hessian only).
	Shift    float64
	Negative int
	// Err is the error of an analysis that failed ("" if none).
	Err string
}

// Measurement is what Measure finds at one set of weights.
type Measurement struct {
	// P patterns, N free parameters.
	P, N int
	// E is the training error (weight decay included), GradNorm ||grad E||_2.
	E, GradNorm float64
	// MSR is hessian.MeanSquaredResidual: (1/(P K)) sum_p ||grad_f l_p||^2.
	MSR float64
	// CStar is the best scale c* with F_emp ~ c* G (data parts, no decay)
	// and DistAfter = ||c* G - F_emp||_F / ||F_emp||_F.
	CStar, DistAfter float64
	// RelDist is ||F_emp - G||_F / ||G||_F without scaling, NormRatio
	// ||F_emp||_F / ||G||_F.
	RelDist, NormRatio float64
	// MCScale and MCDist are c* and the distance after scaling of the
	// Monte-Carlo Fisher with MCCheckSamples samples against G (data parts).
	MCScale, MCDist float64
	// SalSpearman is the Spearman correlation of the OBS saliencies of EF
	// and GGN, both damped by alpha; SalSpearmanMatched damps EF by
	// alpha c* instead, so that F_emp + alpha c* I ~ c* (G + alpha I) when
	// F_emp ~ c* G (NaN if c* <= 0 or that inverse fails).
	SalSpearman, SalSpearmanMatched float64
	// FirstAgree: EF's and GGN's smallest saliencies are the same parameter.
	FirstAgree bool
	// EFMagnitude is the Spearman correlation of EF's saliencies with w_q^2,
	// the magnitude ranking it degenerates to when alpha dominates F_emp.
	EFMagnitude float64
	// Predictions for the Curvatures, in that order.
	Predictions []Prediction
}

// Measure compares F_emp with G at net's weights on train and tests every
// curvature's pruning predictions there. net is not changed.
func Measure(net *model.MLP, train *datasets.Set, cfg MeasureConfig) (*Measurement, error) {
	X, T := train.Inputs, train.Targets
	if err := net.CheckData(X, T); err != nil {
		return nil, err
	}
	alpha := cfg.alpha()
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	m := &Measurement{P: len(X), N: net.NumFree()}
	m.E = net.Grad(ws, grad, X, T)
	m.GradNorm = floats.Norm(grad, 2)
	m.MSR = hessian.MeanSquaredResidual(net, X, T)

	ggn, err := hessian.New(hessian.GGN, net, X, T, nil)
	if err != nil {
		return nil, err
	}
	ef, err := hessian.New(hessian.EmpiricalFisher, net, X, T, nil)
	if err != nil {
		return nil, err
	}
	check := cfg.MCCheckSamples
	if check == 0 {
		check = DefaultCheckSamples
	}
	mc, err := hessian.New(hessian.MCFisher, net, X, T, &hessian.Options{Samples: check, Sigma: cfg.MCSigma, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	G, F, M := dataPart(ggn), dataPart(ef), dataPart(mc)
	m.CStar, m.DistAfter = hessian.BestScale(G, F)
	m.RelDist = hessian.RelFrobenius(F, G)
	m.NormRatio = mat.Norm(F, 2) / mat.Norm(G, 2) // 2 is the Frobenius norm for matrices in gonum's Norm
	m.MCScale, m.MCDist = hessian.BestScale(G, M)

	var ggnSal, efSal []float64
	for _, k := range Curvatures {
		p, sal, err := predict(net, train, k, alpha, cfg)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", k, err)
		}
		switch k {
		case hessian.GGN:
			ggnSal = sal
		case hessian.EmpiricalFisher:
			efSal = sal
		}
		m.Predictions = append(m.Predictions, p)
	}
	m.SalSpearman = stats.Spearman(ggnSal, efSal)
	w2 := make([]float64, len(efSal))
	for a, q := range ef.Free() {
		w2[a] = net.Params[q] * net.Params[q]
	}
	m.EFMagnitude = stats.Spearman(efSal, w2)
	m.FirstAgree = stats.ArgMin(ggnSal) == stats.ArgMin(efSal)
	m.SalSpearmanMatched = math.NaN()
	if m.CStar > 0 {
		var inv mat.SymDense
		if err := hessian.InverseBlocked(&inv, ef.(hessian.RankOne), alpha*m.CStar, 0); err == nil {
			free := ef.Free()
			w, s := make([]float64, len(free)), make([]float64, len(free))
			for a, q := range free {
				w[a] = net.Params[q]
			}
			hessian.OBSSaliencies(s, w, &inv)
			m.SalSpearmanMatched = stats.Spearman(ggnSal, s)
		}
	}
	return m, nil
}

// predict runs prune.Analyze for OBS with curvature k and returns its
// summary and the saliencies of the candidates (in the order of net.Free()).
// An exact analysis that fails is reported in Prediction.Err.
func predict(net *model.MLP, train *datasets.Set, k hessian.Kind, alpha float64, cfg MeasureConfig) (Prediction, []float64, error) {
	p := Prediction{Curvature: k.String()}
	pc := prune.Config{Method: prune.OBS, Curvature: k, Alpha: alpha, Fix: cfg.Fix,
		CurvatureOptions: &hessian.Options{Samples: cfg.MCSamples, Sigma: cfg.MCSigma, Seed: cfg.Seed}}
	a, err := prune.Analyze(net, train.Inputs, train.Targets, prune.AnalyzeConfig{Config: pc})
	if err != nil {
		if k != hessian.Exact {
			return p, nil, err
		}
		p.Err = err.Error()
		p.Spearman, p.Pearson, p.MedianLog10 = math.NaN(), math.NaN(), math.NaN()
		return p, nil, nil
	}
	n := len(a.Candidates)
	pred, act, sal := make([]float64, n), make([]float64, n), make([]float64, n)
	for i, c := range a.Candidates {
		pred[i], act[i], sal[i] = c.Predicted, c.Actual, c.Saliency
	}
	p.Spearman, p.Pearson = a.Spearman, a.Pearson
	p.MedianLog10, p.Pairs = stats.MedianAbsLog10Ratio(pred, act)
	p.FirstIsBest = a.First == a.BestActual
	if a.FixReport != nil {
		p.Shift, p.Negative = a.FixReport.Shift, a.FixReport.Negative
	}
	return p, sal, nil
}

// dataPart returns the formed curvature without its weight-decay term,
// C - Decay I: the part that differs between curvatures.
func dataPart(c hessian.Curvature) *mat.SymDense {
	var d mat.SymDense
	c.Dense(&d)
	for i := 0; i < d.SymmetricDim(); i++ {
		d.SetSym(i, i, d.At(i, i)-c.Decay())
	}
	return &d
}
