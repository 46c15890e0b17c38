package study

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Settings of the verdict of Diagnose.
const (
	// VanishRatio: below this tr F_emp / tr G the empirical Fisher has
	// vanished (an interpolating fit: the study's exact-fit students have
	// ratios near 1e-14, its noisy ones near the noise variance, >= 1e-4).
	VanishRatio = 1e-6
	// MaxNullDistance: when the Monte-Carlo Fishers with one sample per
	// pattern (MC-1, unbiased for G) are themselves this far from G after
	// scaling (median relative Frobenius distance), no estimator built from
	// P single-sample gradients pins G down, F_emp included: the verdict is
	// then "too few samples", whatever F_emp's own distance.
	MaxNullDistance = 0.5
	// DefaultNullDraws is the number of MC-1 Fishers of the null
	// (DiagnoseConfig.Draws): with 19 draws the smallest attainable
	// p-value is 1/20 = 0.05.
	DefaultNullDraws = 19
	// NullLevel: F_emp differs from G beyond sampling noise when its
	// p-value (1 + #{null >= F's distance}) / (draws + 1) is at most this.
	NullLevel = 0.05
)

// DiagnoseConfig configures Diagnose. The zero value means the defaults.
type DiagnoseConfig struct {
	// Draws is the number of MC-1 Fishers of the null; 0 means
	// DefaultNullDraws.
	Draws int
	// Seed seeds the first draw's sampled targets (draw i uses Seed + i).
	Seed uint64
}

// Diagnosis answers "is the empirical Fisher usable here?" from the
// curvatures at a network's weights (data parts: weight decay left out;
// every matrix carries the 1/P of E).
//
// F_emp = (1/P) sum_p g_p g_p^T is an average of P single-sample gradients
// at the observed targets; the Monte-Carlo Fisher with one target drawn
// from the model per pattern (MC-1) is an average of as many, and its
// expectation is G (for squared error up to the scale 1/sigma^2, which the
// best scale removes). So the distance of MC-1 from G after the best scale
// is what sampling noise alone gives at this P and these weights, and
// F_emp's distance is read against it: far beyond it, the observed targets
// bias F_emp (Kunstner, Balles & Hennig 2019); within it, F_emp is no worse
// than an unbiased estimator of the same size, and whether either is close
// enough to G depends on n_eff against nf.
type Diagnosis struct {
	// MSR is hessian.MeanSquaredResidual; CStar the best scale F_emp ~ CStar
	// G and CStarOverMSR its ratio to the MSR (about 1 for squared error
	// with noise-like residuals; meaningless for cross-entropy, NaN there);
	// DistAfter = ||CStar G - F||_F / ||F||_F.
	MSR, CStar, CStarOverMSR, DistAfter float64
	// TraceRatio is tr F_emp / tr G.
	TraceRatio float64
	// P patterns, N free parameters, NEff = (sum ||g_p||^2)^2 / sum
	// ||g_p||^4 (hessian.EffectiveSamples).
	P, N int
	NEff float64
	// Draws MC-1 Fishers: NullMedian and NullMax of their distances from G
	// after the best scale, and PValue = (1 + #{draws with distance >=
	// DistAfter}) / (Draws + 1).
	Draws                       int
	NullMedian, NullMax, PValue float64
	// IMStat is ||F_emp - s H||_F / ||s H||_F, s = MSR for squared error
	// (the Gaussian likelihood's noise variance) and 1 for cross-entropy:
	// the information-matrix equality (White 1982) says it tends to 0 for a
	// well-specified likelihood at its optimum as P grows; at finite P it
	// has a floor, which IMNull, the median of ||M - H||_F / ||H||_F over
	// the MC-1 draws M (unbiased for G, so for H where H = G), estimates.
	IMStat, IMNull float64
	// HG and HGDist: H ~ HG G and ||HG G - H||_F / ||H||_F; H is G only
	// where the residual term vanishes (not at a saturated output).
	HG, HGDist float64
	// GradNorm is ||grad E||_2 (the equality assumes a minimum).
	GradNorm float64
	// Biased: F_emp is farther from G than the MC-1 null allows (PValue <=
	// NullLevel), the alarm. Usable is the verdict: F_emp can stand in for
	// c* G (not vanished, not biased, and the null's noise is moderate).
	// Verdict is its one line with the reason.
	Biased, Usable bool
	Verdict        string
}

// Diagnose builds H, G, F_emp and cfg.Draws MC-1 Fishers of net on train
// and judges whether the empirical Fisher can stand in for G (up to a
// scale) for OBS.
func Diagnose(net *model.MLP, train *datasets.Set, cfg DiagnoseConfig) (*Diagnosis, error) {
	X, T := train.Inputs, train.Targets
	if err := net.CheckData(X, T); err != nil {
		return nil, err
	}
	draws := cfg.Draws
	if draws == 0 {
		draws = DefaultNullDraws
	}
	if draws < 1 {
		return nil, fmt.Errorf("study: %d null draws; want at least 1", draws)
	}
	part := func(k hessian.Kind, o *hessian.Options) (*mat.SymDense, error) {
		c, err := hessian.New(k, net, X, T, o)
		if err != nil {
			return nil, err
		}
		return dataPart(c), nil
	}
	H, err := part(hessian.Exact, nil)
	if err != nil {
		return nil, err
	}
	G, err := part(hessian.GGN, nil)
	if err != nil {
		return nil, err
	}
	F, err := part(hessian.EmpiricalFisher, nil)
	if err != nil {
		return nil, err
	}
	d := &Diagnosis{MSR: hessian.MeanSquaredResidual(net, X, T), P: len(X), N: net.NumFree(), Draws: draws}
	if d.NEff, err = hessian.EffectiveSamples(net, X, T); err != nil {
		return nil, err
	}
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	net.Grad(ws, grad, X, T)
	d.GradNorm = floats.Norm(grad, 2)
	d.CStar, d.DistAfter = hessian.BestScale(G, F)
	d.CStarOverMSR = math.NaN()
	if net.Loss == model.SquaredError {
		d.CStarOverMSR = d.CStar / d.MSR
	}
	d.TraceRatio = mat.Trace(F) / mat.Trace(G)
	d.HG, d.HGDist = hessian.BestScale(G, H)
	s := 1.0
	if net.Loss == model.SquaredError {
		s = d.MSR
	}
	sH := mat.NewSymDense(H.SymmetricDim(), nil)
	sH.ScaleSym(s, H)
	d.IMStat = hessian.RelFrobenius(F, sH)

	null, imNull := make([]float64, draws), make([]float64, draws)
	above := 0
	for i := range null {
		M, err := part(hessian.MCFisher, &hessian.Options{Samples: 1, Seed: cfg.Seed + uint64(i)})
		if err != nil {
			return nil, err
		}
		_, null[i] = hessian.BestScale(G, M)
		imNull[i] = hessian.RelFrobenius(M, H)
		if null[i] >= d.DistAfter {
			above++
		}
	}
	d.NullMedian, d.NullMax, d.IMNull = median(null), floats.Max(null), median(imNull)
	d.PValue = float64(1+above) / float64(draws+1)
	d.Biased = d.PValue <= NullLevel
	d.Usable, d.Verdict = verdict(d)
	return d, nil
}

// verdict is Diagnose's decision from the numbers alone.
func verdict(d *Diagnosis) (bool, string) {
	size := fmt.Sprintf("n_eff %.3g of P = %d for nf = %d", d.NEff, d.P, d.N)
	switch {
	case !(d.TraceRatio >= VanishRatio):
		return false, fmt.Sprintf("no: F_emp has vanished (tr F_emp / tr G = %.3g < %g): the residuals are ~0, so OBS with F_emp ranks by magnitude; use G", d.TraceRatio, VanishRatio)
	case d.Biased:
		return false, fmt.Sprintf("no: F_emp is farther from G (distance %.2f after its best scale c* = %.3g) than %d Monte-Carlo Fishers from as many single-sample gradients (median %.2f, max %.2f; p = %.2g): the observed targets bias it; use G or a Monte-Carlo Fisher", d.DistAfter, d.CStar, d.Draws, d.NullMedian, d.NullMax, d.PValue)
	case d.NullMedian > MaxNullDistance:
		return false, fmt.Sprintf("too few samples: F_emp (distance %.2f after its best scale) is within the sampling noise of a Monte-Carlo Fisher of the same size (median %.2f, p = %.2g), but that noise is itself large (%s): neither estimates G well here; use G, or more patterns", d.DistAfter, d.NullMedian, d.PValue, size)
	}
	return true, fmt.Sprintf("yes, up to its scale: F_emp ≈ %.3g·G (distance %.2f, within the %.2f median of Monte-Carlo Fishers of the same size, p = %.2g; %s); damp it relative to its scale (--damping relative) or divide its predicted increases by c*", d.CStar, d.DistAfter, d.NullMedian, d.PValue, size)
}
