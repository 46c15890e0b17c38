package study

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Predictors are the curvatures (and the two baselines) whose predictions
// of the cost of deleting one parameter are scored against the shared
// ground truth, in report order, all built on the training set:
//
//   - "exact", "ggn", "ef": H, G and F_emp with the decay lambda I added
//     as it is;
//   - "ef/c*": F_emp's data part divided by its best scale c* (F_emp ~ c*
//     G) before lambda I is added: the audit's scale control;
//   - "ggn-rel", "ef-rel": the data part D plus lambda s I, s = tr(D)/n
//     (hessian.Damp with hessian.Relative, obs --damping relative);
//   - "mc1", "mcfisher": the Monte-Carlo Fisher with 1 and MCCheckSamples
//     sampled targets per pattern (E = G); mc1 is an average of as many
//     single-sample gradients as F_emp;
//   - "popf": the population empirical Fisher, F_emp with the target's
//     noise integrated out under its known law at the training inputs,
//     divided by its own best scale against G as F_emp/c* is (NaN where
//     the target is a function of the input);
//   - "ef-bB": the mini-batch empirical Fisher that WoodFisher uses, the
//     per-pattern gradients averaged over B patterns before the outer
//     product, (1/nb) sum_b gbar_b gbar_b^T, of rank at most P/B;
//   - "obd": OBD's saliency 1/2 G_qq w_q^2 (the diagonal of the
//     Gauss–Newton matrix, decay included, no damping) and "magnitude"
//     ranks by w_q^2 (no prediction of size, so it has no calibration).
var Predictors = []string{"exact", "ggn", "ef", "ef/c*", "ggn-rel", "ef-rel", "mc1", "mcfisher", "popf", "ef-b8", "ef-b32", "obd", "magnitude"}

// PcSizes are the calibration sizes P_c of the calibration factor: the
// curvatures are built at the trained weights on the first P_c patterns of
// a calibration set drawn from the setting's law, independent of the
// training set, and scored against the same truth.
var PcSizes = []int{32, 128, 512, 2048}

// PcPredictors are the predictors of the calibration factor (at
// MainDelta): "mc4" is the Monte-Carlo Fisher with McS = 4 targets per
// pattern, as many gradients as F_emp on 4 P_c patterns.
var PcPredictors = []string{"ggn", "ef", "ef/c*", "mc1", "mc4", "popf"}

// McS is the samples per pattern of "mc4": PcSizes grow by this factor, so
// mc4 at P_c and F_emp at McS P_c are built from the same number of
// gradients.
const McS = 4

// Batches are the mini-batch sizes of the "ef-bB" predictors (B = 1 is "ef").
var Batches = []int{8, 32}

// Deltas are the relative dampings of the study: OBS inverts C + alpha I
// with alpha = delta tr(C)/n, C the curvature with its weight decay and n
// the number of parameters, so that the damping scales with the curvature.
var Deltas = []float64{1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1}

// MainDelta is the relative damping of the headline scores and of the
// pruning curves.
const MainDelta = 1e-4

// MCCheckSamples is the number of Monte-Carlo targets per pattern of the
// Monte-Carlo Fisher (its relative Frobenius error shrinks like
// 1/sqrt(P S)).
const MCCheckSamples = 64

// truthGradTol is the gradient tolerance of the ground truth's retraining:
// near a minimum E is accurate to about ||grad E||^2 / (smallest
// curvature, >= the decay 1e-4), 1e-6, below the costs that matter for the
// ranking;
// truthMaxIter caps its L-BFGS iterations (the Newton polish follows).
// quickCandidates is the number of candidates the quick study samples
// per network.
const (
	quickCandidates = 6
	truthGradTol    = 1e-5
	truthMaxIter    = 2000
)

// CurveFractions are the fractions of the parameters removed at which the
// multi-step pruning curves are read.
var CurveFractions = []float64{0.25, 0.5}

// CurveMethods are the multi-step pruning methods, prune.Run without
// retraining and with the curvature rebuilt after every deletion.
var CurveMethods = []string{"obs-exact", "obs-ggn", "obs-ef", "obd", "magnitude"}

// Score is how one predictor's predictions over the candidates of one
// network compare with the ground truth.
type Score struct {
	// Spearman correlation of predicted and true cost over the
	// candidates, and the same against the test-set cost.
	Spearman, SpearmanTest float64
	// Regret is the true cost of the predictor's first choice (smallest
	// prediction) minus the least true cost; FirstIsBest says it is 0.
	Regret      float64
	FirstIsBest bool
	// CalMedian and CalSpread are the median and the interquartile range of
	// log10(predicted/true) over the candidates where both are positive
	// (NaN for magnitude): negative means under-prediction.
	CalMedian, CalSpread float64
}

// Curve is one method's multi-step pruning run read at CurveFractions.
type Curve struct {
	Method string
	// TrainIncrease and TestIncrease are E - E_0 on the training and test
	// sets after removing each fraction of the parameters (NaN if the run
	// failed before).
	TrainIncrease, TestIncrease []float64
	Err                         string
}

// NetResult is one setting trained and scored with one seed.
type NetResult struct {
	Seed uint64
	// Training: final E (weight decay included), ||grad E||_2, whether the
	// tolerance was reached, and E on the held-out set.
	TrainE, GradNorm, TestE float64
	Converged               bool
	// N parameters, Candidates scored (every parameter: the networks are
	// small enough for the brute force).
	N, Candidates int
	// MSR is hessian.MeanSquaredResidual.
	MSR float64
	// CStar, DistAfter: F_emp ~ CStar G (data parts, no decay), and the
	// relative distance left. MCScale, MCDist the same for the Monte-Carlo
	// Fisher (MCCheckSamples per pattern). HG, HGDist: H ~ HG G for the
	// exact Hessian's data part (H = G at a linear output with zero
	// residual; about 2 G along a saturated sigmoid output).
	CStar, DistAfter, MCScale, MCDist, HG, HGDist float64
	// BatchScale[i] is c* of the mini-batch Fisher of Batches[i] against
	// F_emp (about 1/B when the mean gradient is ~0).
	BatchScale []float64
	// IMStat is the information-matrix-equality statistic
	// ||F_emp - s H||_F / ||s H||_F (data parts), s = MSR for squared error
	// (the noise variance of the Gaussian likelihood), 1 for cross-entropy.
	IMStat float64
	// TrueMin is the least true cost, TrueMedian the median.
	TrueMin, TrueMedian float64
	// Scores[i][d] is Predictors[i] at Deltas[d] (the same for every d for
	// obd and magnitude).
	Scores [][]Score
	// NEff is hessian.EffectiveSamples on the training set.
	NEff float64
	// Pc[j] is the calibration factor at PcSizes[j].
	Pc     []PcResult
	Curves []Curve
}

// PcResult is one calibration size: n_eff and c* of its F_emp, and
// Scores[i] of PcPredictors[i] at MainDelta.
type PcResult struct {
	P           int
	NEff, CStar float64
	Scores      []Score
}

// scoreNet trains nothing: it measures the network at its weights.
func scoreNet(set *Setting, net *model.MLP, train, test *datasets.Set, seed uint64, quick bool, stop func() bool) (*NetResult, error) {
	X, T := train.Inputs, train.Targets
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	r := &NetResult{Seed: seed, N: net.NumFree()}
	r.TrainE = net.Grad(ws, grad, X, T)
	r.GradNorm = floats.Norm(grad, 2)
	r.TestE = net.Error(ws, test.Inputs, test.Targets)
	r.MSR = hessian.MeanSquaredResidual(net, X, T)

	build := func(k hessian.Kind, opts *hessian.Options) (*mat.SymDense, hessian.Curvature, error) {
		c, err := hessian.New(k, net, X, T, opts)
		if err != nil {
			return nil, nil, err
		}
		return dataPart(c), c, nil
	}
	H, _, err := build(hessian.Exact, nil)
	if err != nil {
		return nil, err
	}
	G, _, err := build(hessian.GGN, nil)
	if err != nil {
		return nil, err
	}
	F, efc, err := build(hessian.EmpiricalFisher, nil)
	if err != nil {
		return nil, err
	}
	M, _, err := build(hessian.MCFisher, &hessian.Options{Samples: MCCheckSamples, Seed: seed})
	if err != nil {
		return nil, err
	}
	r.CStar, r.DistAfter = hessian.BestScale(G, F)
	r.MCScale, r.MCDist = hessian.BestScale(G, M)
	r.HG, r.HGDist = hessian.BestScale(G, H)
	s := 1.0
	if net.Loss == model.SquaredError {
		s = r.MSR
	}
	sH := mat.NewSymDense(H.SymmetricDim(), nil)
	sH.ScaleSym(s, H)
	r.IMStat = hessian.RelFrobenius(F, sH)
	M1, _, err := build(hessian.MCFisher, &hessian.Options{Samples: 1, Seed: seed})
	if err != nil {
		return nil, err
	}
	if r.NEff, err = hessian.EffectiveSamples(net, X, T); err != nil {
		return nil, err
	}
	datas := map[string]*mat.SymDense{"exact": H, "ggn": G, "ef": F, "mcfisher": M, "mc1": M1,
		"ef/c*": scaled(F, r.CStar), "ggn-rel": G, "ef-rel": F, "popf": scaledLike(G, popFisher(set, net, train, seed))}
	for _, b := range Batches {
		FB := batchFisher(efc.(hessian.RankOne), b, seed)
		datas[fmt.Sprintf("ef-b%d", b)] = FB
		c, _ := hessian.BestScale(F, FB)
		r.BatchScale = append(r.BatchScale, c)
	}

	// The ground truth: every candidate deleted and the rest retrained
	// (quick: quickCandidates of them, drawn from the seed).
	free := net.Free()
	cand := make([]int, len(free)) // positions in free
	for i := range cand {
		cand[i] = i
	}
	if quick && len(free) > quickCandidates {
		cand = newRand(seed, streamBatches+1).Perm(len(free))[:quickCandidates]
		sort.Ints(cand)
	}
	r.Candidates = len(cand)
	truth, truthTest := make([]float64, len(cand)), make([]float64, len(cand))
	work := net.Clone()
	for i, a := range cand {
		if stop() {
			return nil, ErrStopped
		}
		copy(work.Params, net.Params)
		copy(work.Pruned, net.Pruned)
		work.Prune(free[a])
		if _, err := model.Train(work, X, T, &model.TrainSettings{GradTol: truthGradTol, MaxIter: truthMaxIter, Stop: stop}); err != nil {
			return nil, err
		}
		truth[i] = work.Error(ws, X, T) - r.TrainE
		truthTest[i] = work.Error(ws, test.Inputs, test.Targets) - r.TestE
	}
	r.TrueMin = floats.Min(truth)
	r.TrueMedian = median(truth)

	w := make([]float64, len(free))
	for a, q := range free {
		w[a] = net.Params[q]
	}
	lambda := net.Decay
	for _, name := range Predictors {
		row := make([]Score, len(Deltas))
		for d, delta := range Deltas {
			var full []float64
			switch name {
			case "obd":
				full = make([]float64, len(w))
				for a := range w {
					full[a] = 0.5 * (G.At(a, a) + lambda) * w[a] * w[a]
				}
			case "magnitude":
				full = make([]float64, len(w))
				for a := range w {
					full[a] = w[a] * w[a]
				}
			default:
				full = predictWith(name, datas[name], lambda, delta, w)
			}
			row[d] = score(pick(full, cand), truth, truthTest, name != "magnitude")
		}
		r.Scores = append(r.Scores, row)
	}

	// The calibration factor: curvatures on P_c fresh patterns.
	calib := set.calibration(seed, PcSizes[len(PcSizes)-1])
	for _, pc := range PcSizes {
		if quick && pc > 4*set.P {
			break
		}
		if stop() {
			return nil, ErrStopped
		}
		sub := &datasets.Set{Inputs: calib.Inputs[:pc], Targets: calib.Targets[:pc]}
		res, err := scorePc(set, net, sub, seed, w, cand, truth, truthTest)
		if err != nil {
			return nil, err
		}
		r.Pc = append(r.Pc, *res)
	}

	// Multi-step pruning curves.
	for _, name := range CurveMethods {
		r.Curves = append(r.Curves, curve(net, train, test, name, datas, seed, stop))
	}
	if stop() {
		return nil, ErrStopped
	}
	return r, nil
}

// obsPredictions returns OBS's predicted increases w_q^2 / (2 [(C + alpha
// I)^-1]_qq) for C = D + lambda I, alpha = delta tr(C)/n. An indefinite C
// (the exact Hessian away from a minimum) is made definite by taking the
// absolute values of its eigenvalues (hessian.FixAbs) before adding alpha;
// for a positive definite C that changes nothing. The inverse's diagonal
// comes from gonum's symmetric eigendecomposition.
func obsPredictions(D *mat.SymDense, lambda, delta float64, w []float64) []float64 {
	n := D.SymmetricDim()
	C := mat.NewSymDense(n, nil)
	C.CopySym(D)
	for i := 0; i < n; i++ {
		C.SetSym(i, i, C.At(i, i)+lambda)
	}
	alpha := delta * mat.Trace(C) / float64(n)
	var es mat.EigenSym
	if !es.Factorize(C, true) {
		panic("study: eigendecomposition did not converge")
	}
	vals := es.Values(nil)
	var V mat.Dense
	es.VectorsTo(&V)
	pred := make([]float64, n)
	for q := 0; q < n; q++ {
		inv := 0.0
		for i, v := range vals {
			x := V.At(q, i)
			inv += x * x / (math.Abs(v) + alpha)
		}
		pred[q] = w[q] * w[q] / (2 * inv)
	}
	return pred
}

// predictWith returns the OBS predictions of the predictor name from the
// data part D (NaN everywhere if D is nil): relative decay for the "-rel"
// predictors, lambda as it is for the others.
func predictWith(name string, D *mat.SymDense, lambda, delta float64, w []float64) []float64 {
	if D == nil {
		out := make([]float64, len(w))
		for i := range out {
			out[i] = math.NaN()
		}
		return out
	}
	if strings.HasSuffix(name, "-rel") {
		lambda *= mat.Trace(D) / float64(D.SymmetricDim())
	}
	return obsPredictions(D, lambda, delta, w)
}

// scaled returns D / c (nil if c is not a finite number > 0).
func scaled(D *mat.SymDense, c float64) *mat.SymDense {
	if !(c > 0) || math.IsInf(c, 1) {
		return nil
	}
	out := mat.NewSymDense(D.SymmetricDim(), nil)
	out.ScaleSym(1/c, D)
	return out
}

// scaledLike returns D divided by its best scale against G (c with D ~ c
// G), so that D is compared with G at G's scale as F_emp/c* is; nil if D is
// nil or the scale is not a finite number > 0.
func scaledLike(G, D *mat.SymDense) *mat.SymDense {
	if D == nil {
		return nil
	}
	c, _ := hessian.BestScale(G, D)
	return scaled(D, c)
}

// pick returns full at the candidates' positions.
func pick(full []float64, cand []int) []float64 {
	out := make([]float64, len(cand))
	for i, a := range cand {
		out[i] = full[a]
	}
	return out
}

// scorePc builds the calibration factor's curvatures on calib at net's
// weights and scores them against the training set's truth.
func scorePc(set *Setting, net *model.MLP, calib *datasets.Set, seed uint64, w []float64, cand []int, truth, truthTest []float64) (*PcResult, error) {
	X, T := calib.Inputs, calib.Targets
	res := &PcResult{P: len(X)}
	build := func(k hessian.Kind, opts *hessian.Options) (*mat.SymDense, error) {
		c, err := hessian.New(k, net, X, T, opts)
		if err != nil {
			return nil, err
		}
		return dataPart(c), nil
	}
	G, err := build(hessian.GGN, nil)
	if err != nil {
		return nil, err
	}
	F, err := build(hessian.EmpiricalFisher, nil)
	if err != nil {
		return nil, err
	}
	M1, err := build(hessian.MCFisher, &hessian.Options{Samples: 1, Seed: seed})
	if err != nil {
		return nil, err
	}
	MS, err := build(hessian.MCFisher, &hessian.Options{Samples: McS, Seed: seed})
	if err != nil {
		return nil, err
	}
	if res.NEff, err = hessian.EffectiveSamples(net, X, T); err != nil {
		return nil, err
	}
	res.CStar, _ = hessian.BestScale(G, F)
	datas := map[string]*mat.SymDense{"ggn": G, "ef": F, "ef/c*": scaled(F, res.CStar), "mc1": M1, fmt.Sprintf("mc%d", McS): MS,
		"popf": scaledLike(G, popFisher(set, net, calib, seed))}
	for _, name := range PcPredictors {
		full := predictWith(name, datas[name], net.Decay, MainDelta, w)
		res.Scores = append(res.Scores, score(pick(full, cand), truth, truthTest, true))
	}
	return res, nil
}

// popFisher returns the data part of the population empirical Fisher of
// net on the inputs of data: for each pattern the expectation of g g^T over
// the target's law (Setting.targetLaw) instead of the observed target,
//
//	(1/P) sum_p [sum_a w_a J_p^T v_a v_a^T J_p + noiseVar_p J_p^T J_p],
//
// v_a = grad_f l at the atom's target, J_p the output Jacobian over the free
// parameters. It is nil when the law is degenerate (the target a function
// of the input). The seed selects the teacher.
func popFisher(set *Setting, net *model.MLP, data *datasets.Set, seed uint64) *mat.SymDense {
	teacher := set.teacher(seed)
	tws, ws := teacher.NewWorkspace(), net.NewWorkspace()
	free := net.Free()
	n, K := len(free), net.NumOutputs()
	D := mat.NewSymDense(n, nil)
	var jac mat.Dense
	jf := mat.NewDense(K, n, nil)
	v := make([]float64, K)
	u := mat.NewVecDense(n, nil)
	for _, x := range data.Inputs {
		wts, targets, noiseVar, ok := set.targetLaw(teacher, tws, x)
		if !ok {
			return nil
		}
		net.OutputJacobian(ws, &jac, x)
		for k := 0; k < K; k++ {
			for a, q := range free {
				jf.Set(k, a, jac.At(k, q))
			}
		}
		for i, t := range targets {
			net.OutputGrad(ws, v, x, t)
			u.MulVec(jf.T(), mat.NewVecDense(K, v))
			D.SymRankOne(D, wts[i], u)
		}
		if noiseVar > 0 {
			D.SymRankK(D, noiseVar, jf.T())
		}
	}
	D.ScaleSym(1/float64(len(data.Inputs)), D)
	return D
}

// batchFisher returns the data part of the mini-batch empirical Fisher:
// the per-pattern gradients g_p (the rank-1 terms of F_emp) grouped into
// batches of b patterns in a seeded random order, averaged per batch, and
// (1/nb) sum_b gbar_b gbar_b^T over the nb full batches.
func batchFisher(ef hessian.RankOne, b int, seed uint64) *mat.SymDense {
	n, P := ef.Dim(), ef.NumTerms()
	g := mat.NewDense(P, n, nil)
	p := 0
	ef.Terms(64, func(u *mat.Dense) {
		_, c := u.Dims()
		for j := 0; j < c; j++ {
			for i := 0; i < n; i++ {
				g.Set(p, i, u.At(i, j))
			}
			p++
		}
	})
	perm := newRand(seed, streamBatches).Perm(P)
	nb := P / b
	bar := mat.NewDense(max(nb, 1), n, nil)
	for k := 0; k < nb; k++ {
		row := bar.RawRowView(k)
		for _, pp := range perm[k*b : (k+1)*b] {
			floats.Add(row, g.RawRowView(pp))
		}
		floats.Scale(1/float64(b), row)
	}
	out := mat.NewSymDense(n, nil)
	out.SymRankK(out, 1/float64(max(nb, 1)), bar.T())
	return out
}

// score compares predictions with the true costs.
func score(pred, truth, truthTest []float64, calibrate bool) Score {
	s := Score{Spearman: stats.Spearman(pred, truth), SpearmanTest: stats.Spearman(pred, truthTest), CalMedian: math.NaN(), CalSpread: math.NaN()}
	s.Regret = math.NaN()
	if first := stats.ArgMin(pred); first >= 0 { // -1: no prediction (popf without a noise law)
		s.Regret = truth[first] - floats.Min(truth)
		s.FirstIsBest = s.Regret == 0
	}
	if calibrate {
		var lr []float64
		for i := range pred {
			if pred[i] > 0 && truth[i] > 0 {
				lr = append(lr, math.Log10(pred[i]/truth[i]))
			}
		}
		if len(lr) > 0 {
			sort.Float64s(lr)
			s.CalMedian = stat.Quantile(0.5, stat.Empirical, lr, nil)
			s.CalSpread = stat.Quantile(0.75, stat.Empirical, lr, nil) - stat.Quantile(0.25, stat.Empirical, lr, nil)
		}
	}
	return s
}

// curve prunes a copy of net with one method for half of its parameters
// (prune.Run, no retraining, curvature rebuilt after every deletion, OBS
// damped by MainDelta tr(C)/n at the start) and reads E on both sets.
func curve(net *model.MLP, train, test *datasets.Set, name string, datas map[string]*mat.SymDense, seed uint64, stop func() bool) Curve {
	cv := Curve{Method: name}
	for range CurveFractions {
		cv.TrainIncrease, cv.TestIncrease = append(cv.TrainIncrease, math.NaN()), append(cv.TestIncrease, math.NaN())
	}
	m, k, err := ParseMethod(name)
	if err != nil {
		panic(err)
	}
	n := net.NumFree()
	cfg := prune.Config{Method: m, Curvature: k, Recompute: 1, Keep: n - int(math.Round(CurveFractions[len(CurveFractions)-1]*float64(n))),
		Fix: hessian.FixAbs, CurvatureOptions: &hessian.Options{Samples: hessian.DefaultSamples, Seed: seed}, Stop: stop}
	if m == prune.OBS {
		D := datas[k.String()]
		cfg.Alpha = MainDelta * (mat.Trace(D) + net.Decay*float64(n)) / float64(n)
		if !(cfg.Alpha > 0) {
			cfg.Alpha = prune.DefaultAlpha
		}
	}
	c := net.Clone()
	if test != nil {
		cfg.TestX, cfg.TestT = test.Inputs, test.Targets
	}
	res, err := prune.Run(c, train.Inputs, train.Targets, cfg)
	if res == nil {
		cv.Err = err.Error()
		return cv
	}
	if err != nil {
		cv.Err = err.Error()
	}
	for i, f := range CurveFractions {
		want := n - int(math.Round(f*float64(n)))
		for _, st := range res.Steps {
			if st.Left == want {
				cv.TrainIncrease[i], cv.TestIncrease[i] = st.TrainError-res.Start.TrainError, st.TestError-res.Start.TestError
			}
		}
	}
	return cv
}

// median returns the median of x (NaN if empty).
func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	v := append([]float64(nil), x...)
	sort.Float64s(v)
	return stat.Quantile(0.5, stat.Empirical, v, nil)
}
