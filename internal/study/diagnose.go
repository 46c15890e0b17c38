package study

import (
	"fmt"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Thresholds of the verdict of Diagnose. They are rules of thumb read off
// the study (docs/gn-vs-fisher.md), not tests with a size.
const (
	// VanishRatio: below this tr F_emp / tr G the empirical Fisher has
	// vanished (an interpolating fit: the study's exact-fit students have
	// ratios near 1e-14, its noisy ones near the noise variance, >= 1e-4).
	VanishRatio = 1e-6
	// MaxDirection: above this relative distance after the best scale,
	// F_emp and G differ in direction, not only in scale (the study's
	// well-specified noisy students stay near 0.15-0.45, its exact fits and
	// confident classifiers go above 0.5).
	MaxDirection = 0.5
	// MaxIMStat: above this the information-matrix equality fails clearly
	// (0 for a well-specified likelihood at its optimum with many patterns).
	MaxIMStat = 0.5
)

// Diagnosis answers "is the empirical Fisher usable here?" from the
// curvatures at a network's weights (data parts: weight decay left out;
// every matrix carries the 1/P of E).
type Diagnosis struct {
	// MSR is hessian.MeanSquaredResidual; CStar the best scale F_emp ~ CStar
	// G and CStarOverMSR its ratio to the MSR (about 1 for squared error
	// with noise-like residuals); DistAfter = ||CStar G - F||_F / ||F||_F.
	MSR, CStar, CStarOverMSR, DistAfter float64
	// TraceRatio is tr F_emp / tr G.
	TraceRatio float64
	// IMStat is ||F_emp - s H||_F / ||s H||_F, s = MSR for squared error
	// (the Gaussian likelihood's noise variance) and 1 for cross-entropy:
	// the information-matrix equality (White 1982) says ~0.
	IMStat float64
	// HG and HGDist: H ~ HG G and ||HG G - H||_F / ||H||_F; H is G only
	// where the residual term vanishes (not at a saturated output).
	HG, HGDist float64
	// GradNorm is ||grad E||_2 (the equality assumes a minimum).
	GradNorm float64
	// Usable is the verdict, Verdict its one line with the reason.
	Usable  bool
	Verdict string
}

// Diagnose builds H, G and F_emp of net on train and judges whether the
// empirical Fisher can stand in for G (up to a scale) for OBS.
func Diagnose(net *model.MLP, train *datasets.Set) (*Diagnosis, error) {
	X, T := train.Inputs, train.Targets
	if err := net.CheckData(X, T); err != nil {
		return nil, err
	}
	part := func(k hessian.Kind) (*mat.SymDense, error) {
		c, err := hessian.New(k, net, X, T, nil)
		if err != nil {
			return nil, err
		}
		return dataPart(c), nil
	}
	H, err := part(hessian.Exact)
	if err != nil {
		return nil, err
	}
	G, err := part(hessian.GGN)
	if err != nil {
		return nil, err
	}
	F, err := part(hessian.EmpiricalFisher)
	if err != nil {
		return nil, err
	}
	d := &Diagnosis{MSR: hessian.MeanSquaredResidual(net, X, T)}
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	net.Grad(ws, grad, X, T)
	d.GradNorm = floats.Norm(grad, 2)
	d.CStar, d.DistAfter = hessian.BestScale(G, F)
	d.CStarOverMSR = d.CStar / d.MSR
	d.TraceRatio = mat.Trace(F) / mat.Trace(G)
	d.HG, d.HGDist = hessian.BestScale(G, H)
	s := 1.0
	if net.Loss == model.SquaredError {
		s = d.MSR
	}
	sH := mat.NewSymDense(H.SymmetricDim(), nil)
	sH.ScaleSym(s, H)
	d.IMStat = hessian.RelFrobenius(F, sH)
	switch {
	case !(d.TraceRatio >= VanishRatio):
		d.Verdict = fmt.Sprintf("no: F_emp has vanished (tr F_emp / tr G = %.3g < %g): the residuals are ~0, so OBS with F_emp ranks by magnitude; use G", d.TraceRatio, VanishRatio)
	case d.DistAfter > MaxDirection:
		d.Verdict = fmt.Sprintf("no: F_emp differs from G in direction, not only scale (distance %.2f > %g after the best scale c* = %.3g); use G", d.DistAfter, MaxDirection, d.CStar)
	case d.IMStat > MaxIMStat:
		d.Verdict = fmt.Sprintf("doubtful: F_emp ≈ %.3g·G (distance %.2f) but the information-matrix equality fails (statistic %.2f > %g: misspecified, confident labels or not at a minimum); rankings may agree, predicted increases will not", d.CStar, d.DistAfter, d.IMStat, MaxIMStat)
	default:
		d.Usable = true
		d.Verdict = fmt.Sprintf("yes, up to its scale: F_emp ≈ %.3g·G (distance %.2f, information-matrix statistic %.2f); divide its predicted increases by c* = %.3g", d.CStar, d.DistAfter, d.IMStat, d.CStar)
	}
	return d, nil
}
