package reproduce

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// XORSettings configure RunXOR.
type XORSettings struct {
	Settings
	// Regimes are the weight decays and stopping rules of the regimes; if
	// nil, DefaultXORRegimes.
	Regimes []XORRegimeSpec
	// KeepGradTol is the largest ||grad E||_2 of a kept network; if zero,
	// DefaultKeepGradTol.
	KeepGradTol float64
}

// XORResult is the outcome of RunXOR.
type XORResult struct {
	Networks    int // seeds 1..Networks in every regime
	Alpha       float64
	Fix         string
	MCSamples   int
	KeepGradTol float64
	TieTol      float64
	Regimes     []XORRegime
}

// XOR training outcomes.
const (
	StatusKept         = "kept"
	StatusLocalMinimum = "local minimum"
	StatusNotConverged = "not converged"
)

// XORRegime is the experiment at one weight decay (and stopping rule).
type XORRegime struct {
	Decay float64
	// StopE > 0: training stopped as soon as E <= StopE, not at a minimum.
	StopE float64
	// Trained lists every network, kept or not, by seed.
	Trained []XORTrained
	// Kept, LocalMinima and NotConverged count the networks that solve XOR
	// at a minimum (||grad E|| <= KeepGradTol), that stopped at a minimum
	// that does not solve XOR, and that did not reach KeepGradTol.
	Kept, LocalMinima, NotConverged int
	// Networks are the kept networks, by seed.
	Networks []XORNetwork
	// Methods summarises the first choices per method, in
	// the order of xorFirstMethods.
	Methods []XORMethodSummary
	// Sequences summarise the whole pruning runs per method.
	Sequences []SequenceSummary
	// Fisher summarises the curvature sizes behind OBS-EF's behaviour.
	Fisher XORFisherSummary
	// TieMax is the largest difference between a candidate's brute-force
	// increase and the best one that counted as a tie (<= TieTol), and GapMin
	// the smallest that did not; TieTol is sound when TieMax << GapMin.
	TieMax, GapMin float64
	// StartsDisagree counts networks where retraining from the different
	// starting points (see XORNetwork.BestRetrained) gives different best
	// deletions; the others are unambiguous.
	StartsDisagree int
	// Sweep summarises the OBS first choices at the damping values of
	// AlphaSweep.
	Sweep []XORSweepSummary
}

// AlphaSweep are the damping values at which the OBS first choices on XOR are
// also measured, to separate what a curvature says from what the damping
// floor alpha I says: where a curvature's data part is far below alpha, OBS
// ranks by |w| like magnitude pruning.
var AlphaSweep = []float64{1e-6, 1e-9, 1e-12}

// XORSweepSummary is one OBS curvature at one damping over the kept networks.
type XORSweepSummary struct {
	Method string
	Alpha  float64
	// Networks analysed, and Failed: networks where the inverse was not
	// positive definite at this damping (left out of the counts).
	Networks, Failed                 int
	AgreeMagnitude, CorrectRetrained int
}

// XORTrained is one trained network and why it was kept or dropped.
type XORTrained struct {
	Seed                 uint64
	E, GradNorm          float64
	Accuracy             float64
	Iterations           int
	TrainStatus, Outcome string // the trainer's status; StatusKept, ...
}

// XORNetwork is the analysis of one kept network.
type XORNetwork struct {
	Seed        uint64
	E, GradNorm float64
	Params      []float64
	Names       []string
	// BestRetrained is the brute-force correct deletion: the parameter whose
	// deletion raises E least after retraining the rest, each candidate
	// retrained (model.Train to ||grad E|| <= 1e-8) from every distinct
	// starting point the methods produce, w_q = 0 and the OBS-GGN, OBS-EF,
	// OBS-MC and OBS-exact updates, keeping the lowest E. Retrained holds
	// that increase for every parameter (NaN for none).
	BestRetrained         int
	BestRetrainedIncrease float64
	Retrained             []float64
	// BestCompensated is the parameter whose deletion with the OBS-GGN
	// compensating step (no retraining) raises E least.
	BestCompensated         int
	BestCompensatedIncrease float64
	// StartsDisagree reports that the starting points alone would pick
	// different best deletions.
	StartsDisagree bool
	Choices        []XORChoice
	// Sweep holds the OBS first choices at every damping of AlphaSweep.
	Sweep []XORSweepChoice
	// HG and HGDist compare the exact Hessian's data part H with G's (weight
	// decay left out): H ~ HG G is the best scale (hessian.BestScale) and
	// HGDist = ||HG G - H||_F / ||H||_F what is left. At a saturated sigmoid
	// output H is not G however small E is (../shared/MATH.md).
	HG, HGDist float64
	// Curvature sizes, traces of the data parts (weight decay removed):
	// EFOverGGN = tr F_emp / tr G; EFOverFloor and GGNOverFloor are the
	// mean diagonal of F_emp and G over Decay + Alpha, the damping floor
	// that OBS adds (<< 1: C^-1 ~ I / (Decay + Alpha), so OBS ranks by |w|);
	// MeanSqResidual is (1/P) sum_p r_p^2.
	EFOverGGN, EFOverFloor, GGNOverFloor, MeanSqResidual float64
	// ExactNegative is the number of negative eigenvalues of the exact
	// Hessian (weight decay included) at the trained weights.
	ExactNegative int
	Runs          []Run
}

// XORChoice is one method's first deletion on one network.
type XORChoice struct {
	Method string
	First  int
	Name   string
	// OwnIncrease is the increase of E after the method's own step (OBS: its
	// compensating update; OBD and magnitude: w_q = 0), and
	// RetrainedIncrease the brute-force increase of the same deletion.
	OwnIncrease, RetrainedIncrease float64
	// The choice is correct against the brute force, against the best
	// OBS-GGN compensated deletion and against the best deletion under the
	// method's own step, each within TieTol.
	CorrectRetrained, CorrectCompensated, CorrectOwn bool
	// SolvesNoRetrain: the network still solves XOR right after the
	// method's own step (OBS: its compensating update; OBD, magnitude: w_q
	// = 0). SolvesRetrained: it solves XOR after that deletion and
	// retraining the other 8 to a minimum from the step's result.
	SolvesNoRetrain, SolvesRetrained bool
}

// XORSweepChoice is one OBS curvature's first choice at one damping.
type XORSweepChoice struct {
	Method string
	Alpha  float64
	// Failed reports that the damped curvature could not be inverted.
	Failed                           bool
	First                            int
	AgreeMagnitude, CorrectRetrained bool
}

// XORMethodSummary summarises one method's first choices over the kept
// networks of a regime.
type XORMethodSummary struct {
	Method                                           string
	Networks                                         int
	CorrectRetrained, CorrectCompensated, CorrectOwn int
	// SolvesNoRetrain and SolvesRetrained count the networks that still
	// solve XOR after the first deletion, without and with retraining.
	SolvesNoRetrain, SolvesRetrained int
	// CorrectUnambiguous counts the correct choices (against the brute
	// force) on the networks whose brute force does not depend on the
	// starting point of the retraining.
	CorrectUnambiguous int
	// Means over the networks of the increase of E the choice causes after
	// the method's own step and after retraining, and of the excess of the
	// latter over the brute-force best (the regret).
	MeanOwnIncrease, MeanRetrainedIncrease, MeanRegret float64
	// AgreeMagnitude counts the networks where the choice is magnitude's.
	AgreeMagnitude int
}

// XORFisherSummary gathers the medians over the kept networks of the
// curvature sizes of XORNetwork, and how often OBS-EF and OBS-GGN choose
// like magnitude pruning.
type XORFisherSummary struct {
	EFOverGGN, EFOverFloor, GGNOverFloor, MeanSqResidual Range
	// HG and HGDist: H ~ HG G and the distance left (XORNetwork.HG).
	HG, HGDist                                      Range
	EFAgreesMagnitude, GGNAgreesMagnitude, Networks int
	ExactIndefinite                                 int // networks whose exact Hessian has a negative eigenvalue
}

// SequenceSummary summarises one method's whole pruning runs over networks.
type SequenceSummary struct {
	Method   string
	Retrain  int
	Runs     int
	Left     Range
	TrainAcc Range
	TestAcc  Range // NaN without a test set
}

// XORSpec is the network of the XOR experiment: 2-2-1, sigmoid hidden and
// output units, squared error, with the given decay.
func XORSpec(decay float64) model.Spec {
	return model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: decay}
}

// NewRand returns the random stream of seed s, that of `obs train --seed s`.
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, SeedStream)) }

// TrainXOR trains the XOR network of seed s from one start (no restarts):
// weights from m.Init(NewRand(s)), then model.Train with its defaults
// (L-BFGS and exact-Hessian Newton polish to ||grad E|| <= 1e-8). It is
// `obs train --data xor --seed s --restarts 1 --decay decay`. With stopE >
// 0 training ends at the first iterate with E <= stopE instead (no polish).
func TrainXOR(seed uint64, decay, stopE float64, stop func() bool) (*model.MLP, model.TrainResult, error) {
	m, err := model.New(XORSpec(decay))
	if err != nil {
		return nil, model.TrainResult{}, err
	}
	m.Init(NewRand(seed))
	x := datasets.XOR()
	set := &model.TrainSettings{Stop: stop}
	if stopE > 0 {
		reached := false
		set.Progress = func(p model.TrainProgress) { reached = reached || p.E <= stopE }
		set.Stop = func() bool { return reached || (stop != nil && stop()) }
	}
	tr, err := model.Train(m, x.Inputs, x.Targets, set)
	return m, tr, err
}

// RunXOR runs the XOR experiment: for every regime (weight decay) and seed
// 1..Seeds it trains a network from one start and, if it solves XOR at a
// minimum, compares every method's first deletion with the brute-force
// correct one and prunes it with every method until the next deletion would
// make it fail XOR.
func RunXOR(s XORSettings) (*XORResult, error) {
	n := s.seeds(DefaultXORNetworks)
	if n < 1 {
		return nil, fmt.Errorf("reproduce: %d XOR networks, want >= 1", n)
	}
	regimes := s.Regimes
	if regimes == nil {
		regimes = DefaultXORRegimes
	}
	keep := s.KeepGradTol
	if keep == 0 {
		keep = DefaultKeepGradTol
	}
	mc := s.MCSamples
	if mc == 0 {
		mc = hessian.DefaultSamples
	}
	res := &XORResult{Networks: n, Alpha: s.alpha(), Fix: s.Fix.String(), MCSamples: mc, KeepGradTol: keep, TieTol: TieTol}
	type job struct {
		trained XORTrained
		net     *XORNetwork
	}
	jobs := make([]job, len(regimes)*n)
	err := parallel.For(len(jobs), s.Workers, s.Stop, s.Progress, func(i int) error {
		rs, seed := regimes[i/n], uint64(i%n+1)
		t, net, err := xorNetwork(seed, rs, keep, s.Settings)
		if err != nil {
			return fmt.Errorf("XOR %s seed %d: %w", rs.Label(), seed, err)
		}
		jobs[i] = job{t, net}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for d, rs := range regimes {
		reg := XORRegime{Decay: rs.Decay, StopE: rs.StopE, TieMax: 0, GapMin: math.Inf(1)}
		for _, j := range jobs[d*n : (d+1)*n] {
			reg.Trained = append(reg.Trained, j.trained)
			switch j.trained.Outcome {
			case StatusKept:
				reg.Kept++
				reg.Networks = append(reg.Networks, *j.net)
			case StatusLocalMinimum:
				reg.LocalMinima++
			default:
				reg.NotConverged++
			}
		}
		reg.summarise(s.Settings)
		res.Regimes = append(res.Regimes, reg)
	}
	return res, nil
}

// xorNetwork trains one network and analyses it if it is kept: it solves
// XOR at a minimum (||grad E|| <= keep) or, stopped early, at E <= StopE.
func xorNetwork(seed uint64, rs XORRegimeSpec, keep float64, s Settings) (XORTrained, *XORNetwork, error) {
	m, tr, err := TrainXOR(seed, rs.Decay, rs.StopE, s.Stop)
	if err != nil {
		return XORTrained{}, nil, err
	}
	if s.Stop != nil && s.Stop() {
		return XORTrained{}, nil, ErrStopped
	}
	x := datasets.XOR()
	ws := m.NewWorkspace()
	t := XORTrained{Seed: seed, E: tr.E, GradNorm: tr.GradNorm, Accuracy: m.Accuracy(ws, x.Inputs, x.Targets),
		Iterations: tr.Iterations, TrainStatus: tr.Status}
	switch {
	case rs.StopE > 0 && !(tr.E <= rs.StopE):
		t.Outcome = StatusNotConverged
	case rs.StopE == 0 && !(tr.GradNorm <= keep):
		t.Outcome = StatusNotConverged
	case t.Accuracy < 1:
		t.Outcome = StatusLocalMinimum
	default:
		t.Outcome = StatusKept
	}
	if t.Outcome != StatusKept {
		return t, nil, nil
	}
	net, err := analyseXOR(m, x, seed, s)
	return t, net, err
}

// analyseXOR compares the methods' first choices on a kept network with the
// brute force and runs every method's pruning sequence.
func analyseXOR(m *model.MLP, x *datasets.Set, seed uint64, s Settings) (*XORNetwork, error) {
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	net := &XORNetwork{Seed: seed, E: m.Grad(ws, grad, x.Inputs, x.Targets), Params: append([]float64(nil), m.Params...), Names: m.Names()}
	net.GradNorm = floats.Norm(grad, 2)

	methods, brute := xorFirstMethods(s, seed)
	an := make([]*prune.Analysis, len(methods))
	for i, me := range methods {
		a, err := prune.Analyze(m, x.Inputs, x.Targets, prune.AnalyzeConfig{Config: withStop(me.cfg, s.Stop), Retrain: brute[i], Train: &model.TrainSettings{Stop: s.Stop}})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", me.label, err)
		}
		if s.Stop != nil && s.Stop() {
			return nil, ErrStopped
		}
		an[i] = a
	}
	if fr := an[len(an)-1].FixReport; fr != nil {
		net.ExactNegative = fr.Negative
	}

	// The brute force: per candidate, the lowest retrained E over the
	// starting points.
	cands := an[0].Candidates
	pos := make(map[int]int, len(cands))
	bf := make([]float64, len(cands))
	for c := range cands {
		pos[cands[c].Index] = c
		bf[c] = math.Inf(1)
	}
	bests := map[int]bool{}
	for i, a := range an {
		if !brute[i] {
			continue
		}
		for c, cand := range a.Candidates {
			if cand.Index != cands[c].Index {
				panic("reproduce: analyses list candidates in different orders")
			}
			bf[c] = math.Min(bf[c], cand.Retrained)
		}
	}
	bestC := stats.ArgMin(bf)
	net.BestRetrained, net.BestRetrainedIncrease = cands[bestC].Index, bf[bestC]
	net.Retrained = make([]float64, len(m.Params))
	for q := range net.Retrained {
		net.Retrained[q] = math.NaN()
	}
	for c, v := range bf {
		net.Retrained[cands[c].Index] = v
	}
	// Does any single starting point pick a deletion that is not a tie of the best?
	for i, a := range an {
		if !brute[i] {
			continue
		}
		if b := a.Candidates[stats.ArgMin(retrainedOf(a))].Index; bf[pos[b]] > net.BestRetrainedIncrease+TieTol {
			bests[b] = true
		}
	}
	net.StartsDisagree = len(bests) > 0

	ggn := an[xorOBSGGN]
	ggnAct := actualOf(ggn)
	bc := stats.ArgMin(ggnAct)
	net.BestCompensated, net.BestCompensatedIncrease = ggn.Candidates[bc].Index, ggnAct[bc]

	for i, me := range methods {
		a := an[i]
		c := pos[a.First]
		own := actualOf(a)
		ch := XORChoice{Method: me.label, First: a.First, Name: m.Name(a.First),
			OwnIncrease: own[c], RetrainedIncrease: bf[c]}
		ch.CorrectRetrained = bf[c] <= net.BestRetrainedIncrease+TieTol
		ch.CorrectCompensated = ggnAct[c] <= net.BestCompensatedIncrease+TieTol
		ch.CorrectOwn = own[c] <= own[stats.ArgMin(own)]+TieTol
		var err error
		if ch.SolvesNoRetrain, ch.SolvesRetrained, err = solvesAfterFirst(m, x, me, a.First, s.Stop); err != nil {
			return nil, fmt.Errorf("%s: %w", me.label, err)
		}
		net.Choices = append(net.Choices, ch)
	}

	for _, alpha := range AlphaSweep {
		sw := s
		sw.Alpha = alpha
		for _, me := range []method{
			newMethod(prune.OBS, hessian.GGN, 0, sw, seed),
			newMethod(prune.OBS, hessian.EmpiricalFisher, 0, sw, seed),
			newMethod(prune.OBS, hessian.MCFisher, 0, sw, seed),
			newMethod(prune.OBS, hessian.Exact, 0, sw, seed),
		} {
			sc := XORSweepChoice{Method: me.label, Alpha: alpha, First: -1}
			a, err := prune.Analyze(m, x.Inputs, x.Targets, prune.AnalyzeConfig{Config: withStop(me.cfg, s.Stop)})
			if s.Stop != nil && s.Stop() {
				return nil, ErrStopped
			}
			if err != nil {
				sc.Failed = true
			} else {
				sc.First = a.First
				sc.AgreeMagnitude = a.First == net.Choices[xorMagnitude].First
				sc.CorrectRetrained = bf[pos[a.First]] <= net.BestRetrainedIncrease+TieTol
			}
			net.Sweep = append(net.Sweep, sc)
		}
	}

	if err := fisherSizes(net, m, x, s); err != nil {
		return nil, err
	}

	for _, me := range xorSequenceMethods(s, seed) {
		r, err := runMethod(m, x, nil, me, "xor", x.Source, seed, s.Stop)
		if err != nil {
			return nil, err
		}
		net.Runs = append(net.Runs, r)
	}
	return net, nil
}

// solvesAfterFirst makes the method's first deletion (it must be first,
// the parameter Analyze chose) on copies of m, once with the method's own
// step only and once followed by retraining the rest to a minimum, and
// reports whether each still solves XOR.
func solvesAfterFirst(m *model.MLP, x *datasets.Set, me method, first int, stop func() bool) (noRetrain, retrained bool, err error) {
	for i, retrain := range []int{0, 1} {
		cfg := withStop(me.cfg, stop)
		cfg.Keep, cfg.Retrain = m.NumFree()-1, retrain
		net := m.Clone()
		res, err := prune.Run(net, x.Inputs, x.Targets, cfg)
		if err != nil {
			return false, false, err
		}
		if len(res.Steps) != 1 || res.Steps[0].Index != first {
			return false, false, fmt.Errorf("reproduce: the pruning run deleted %v, the analysis chose %d", res.Steps, first)
		}
		ok := res.Steps[0].TrainAccuracy == 1
		if i == 0 {
			noRetrain = ok
		} else {
			retrained = ok
		}
	}
	return noRetrain, retrained, nil
}

// fisherSizes fills the curvature sizes of net.
func fisherSizes(net *XORNetwork, m *model.MLP, x *datasets.Set, s Settings) error {
	trace := func(k hessian.Kind) (float64, int, error) {
		c, err := hessian.New(k, m, x.Inputs, x.Targets, nil)
		if err != nil {
			return 0, 0, err
		}
		d := make([]float64, c.Dim())
		c.Diag(d)
		t := 0.0
		for _, v := range d {
			t += v - c.Decay()
		}
		return t, c.Dim(), nil
	}
	ef, nf, err := trace(hessian.EmpiricalFisher)
	if err != nil {
		return err
	}
	g, _, err := trace(hessian.GGN)
	if err != nil {
		return err
	}
	floor := float64(nf) * (m.Decay + s.alpha())
	net.EFOverGGN, net.EFOverFloor, net.GGNOverFloor = ef/g, ef/floor, g/floor
	// hessian.MeanSquaredResidual is (1/(P K)) sum ||r_p||^2; K = 1 here.
	net.MeanSqResidual = hessian.MeanSquaredResidual(m, x.Inputs, x.Targets)
	net.HG, net.HGDist, err = HToG(m, x)
	return err
}

// HToG returns the best scale c with H ~ c G between the data parts (weight
// decay left out) of the exact Hessian H and the Gauss–Newton matrix G of m
// on x, and the relative distance ||c G - H||_F / ||H||_F left after it
// (hessian.BestScale).
func HToG(m *model.MLP, x *datasets.Set) (c, dist float64, err error) {
	part := func(k hessian.Kind) (*mat.SymDense, error) {
		cv, err := hessian.New(k, m, x.Inputs, x.Targets, nil)
		if err != nil {
			return nil, err
		}
		d := mat.NewSymDense(cv.Dim(), nil)
		cv.Dense(d)
		for i := 0; i < cv.Dim(); i++ {
			d.SetSym(i, i, d.At(i, i)-cv.Decay())
		}
		return d, nil
	}
	H, err := part(hessian.Exact)
	if err != nil {
		return 0, 0, err
	}
	G, err := part(hessian.GGN)
	if err != nil {
		return 0, 0, err
	}
	c, dist = hessian.BestScale(G, H)
	return c, dist, nil
}

// runMethod prunes a copy of m with me under the rule "keep the training
// accuracy at or above its level before pruning" and records the run.
func runMethod(m *model.MLP, train, test *datasets.Set, me method, problem, data string, seed uint64, stop func() bool) (Run, error) {
	cfg := withStop(me.cfg, stop)
	cfg.MinAccuracy = minAccuracy(m.Accuracy(m.NewWorkspace(), train.Inputs, train.Targets), len(train.Inputs))
	return runConfig(m, train, test, me, cfg, problem, data, seed, stop)
}

// runRule prunes a copy of m with me under its own stopping rules only (no
// accuracy rule) and records the run.
func runRule(m *model.MLP, train, test *datasets.Set, me method, problem, data string, seed uint64, stop func() bool) (Run, error) {
	return runConfig(m, train, test, me, withStop(me.cfg, stop), problem, data, seed, stop)
}

// runConfig prunes a copy of m with cfg (me's configuration with its
// stopping rules) and records the run.
func runConfig(m *model.MLP, train, test *datasets.Set, me method, cfg prune.Config, problem, data string, seed uint64, stop func() bool) (Run, error) {
	net := m.Clone()
	r := describe(me, problem, data, seed, m.Decay)
	r.MinAccuracy = cfg.MinAccuracy
	if test != nil {
		cfg.TestX, cfg.TestT = test.Inputs, test.Targets
	}
	res, err := prune.Run(net, train.Inputs, train.Targets, cfg)
	if err != nil {
		if stop != nil && stop() {
			return r, ErrStopped
		}
		return r, fmt.Errorf("%s: %w", me.label, err)
	}
	r.Before, r.After, r.StopReason, r.Steps = res.Start, res.End, res.StopReason, res.Steps
	return r, nil
}

// withStop returns cfg with the stop function set on it and its trainer.
func withStop(cfg prune.Config, stop func() bool) prune.Config {
	cfg.Stop = stop
	cfg.Train = &model.TrainSettings{Stop: stop}
	return cfg
}

func (reg *XORRegime) summarise(s Settings) {
	if len(reg.Networks) == 0 {
		reg.GapMin = math.NaN()
		for _, me := range xorSequenceMethods(s, 0) {
			reg.Sequences = append(reg.Sequences, SequenceSummary{Method: me.label, Retrain: me.cfg.Retrain,
				Left: rangeOf(nil), TrainAcc: rangeOf(nil), TestAcc: rangeOf(nil)})
		}
		methods, _ := xorFirstMethods(s, 0)
		for _, me := range methods {
			reg.Methods = append(reg.Methods, XORMethodSummary{Method: me.label, MeanOwnIncrease: math.NaN(), MeanRetrainedIncrease: math.NaN(), MeanRegret: math.NaN()})
		}
		reg.Fisher = XORFisherSummary{EFOverGGN: rangeOf(nil), EFOverFloor: rangeOf(nil), GGNOverFloor: rangeOf(nil), MeanSqResidual: rangeOf(nil),
			HG: rangeOf(nil), HGDist: rangeOf(nil)}
		return
	}
	nm := len(reg.Networks[0].Choices)
	reg.Methods = make([]XORMethodSummary, nm)
	var efg, efF, ggF, msr, hg, hgd []float64
	for _, net := range reg.Networks {
		mag := net.Choices[xorMagnitude].First
		for i, ch := range net.Choices {
			ms := &reg.Methods[i]
			ms.Method = ch.Method
			ms.Networks++
			ms.CorrectRetrained += b2i(ch.CorrectRetrained)
			ms.CorrectCompensated += b2i(ch.CorrectCompensated)
			ms.CorrectOwn += b2i(ch.CorrectOwn)
			ms.SolvesNoRetrain += b2i(ch.SolvesNoRetrain)
			ms.SolvesRetrained += b2i(ch.SolvesRetrained)
			ms.CorrectUnambiguous += b2i(ch.CorrectRetrained && !net.StartsDisagree)
			ms.MeanOwnIncrease += ch.OwnIncrease
			ms.MeanRetrainedIncrease += ch.RetrainedIncrease
			ms.MeanRegret += ch.RetrainedIncrease - net.BestRetrainedIncrease
			ms.AgreeMagnitude += b2i(ch.First == mag)
		}
		for _, v := range net.Retrained {
			if math.IsNaN(v) {
				continue
			}
			d := v - net.BestRetrainedIncrease
			if d <= TieTol {
				reg.TieMax = math.Max(reg.TieMax, d)
			} else {
				reg.GapMin = math.Min(reg.GapMin, d)
			}
		}
		reg.StartsDisagree += b2i(net.StartsDisagree)
		efg, efF, ggF, msr = append(efg, net.EFOverGGN), append(efF, net.EFOverFloor), append(ggF, net.GGNOverFloor), append(msr, net.MeanSqResidual)
		hg, hgd = append(hg, net.HG), append(hgd, net.HGDist)
		reg.Fisher.ExactIndefinite += b2i(net.ExactNegative > 0)
	}
	for i := range reg.Methods {
		k := float64(reg.Methods[i].Networks)
		reg.Methods[i].MeanOwnIncrease /= k
		reg.Methods[i].MeanRetrainedIncrease /= k
		reg.Methods[i].MeanRegret /= k
	}
	reg.Fisher.EFOverGGN, reg.Fisher.EFOverFloor, reg.Fisher.GGNOverFloor, reg.Fisher.MeanSqResidual = rangeOf(efg), rangeOf(efF), rangeOf(ggF), rangeOf(msr)
	reg.Fisher.HG, reg.Fisher.HGDist = rangeOf(hg), rangeOf(hgd)
	reg.Fisher.Networks = len(reg.Networks)
	reg.Fisher.EFAgreesMagnitude = reg.Methods[xorOBSEF].AgreeMagnitude
	reg.Fisher.GGNAgreesMagnitude = reg.Methods[xorOBSGGN].AgreeMagnitude

	reg.Sweep = make([]XORSweepSummary, len(reg.Networks[0].Sweep))
	for _, net := range reg.Networks {
		for i, sc := range net.Sweep {
			sw := &reg.Sweep[i]
			sw.Method, sw.Alpha = sc.Method, sc.Alpha
			sw.Networks++
			if sc.Failed {
				sw.Failed++
				continue
			}
			sw.AgreeMagnitude += b2i(sc.AgreeMagnitude)
			sw.CorrectRetrained += b2i(sc.CorrectRetrained)
		}
	}

	var runs [][]Run
	for _, net := range reg.Networks {
		runs = append(runs, net.Runs)
	}
	reg.Sequences = summariseRuns(runs)
}

// summariseRuns summarises runs[network][method] per method.
func summariseRuns(runs [][]Run) []SequenceSummary {
	if len(runs) == 0 {
		return nil
	}
	out := make([]SequenceSummary, len(runs[0]))
	for i := range out {
		var left, tr, te []float64
		for _, rs := range runs {
			r := rs[i]
			left, tr, te = append(left, float64(r.Left())), append(tr, r.After.TrainAccuracy), append(te, r.After.TestAccuracy)
		}
		out[i] = SequenceSummary{Method: runs[0][i].Method, Retrain: runs[0][i].Retrain, Runs: len(runs),
			Left: rangeOf(left), TrainAcc: rangeOf(tr), TestAcc: rangeOf(te)}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func actualOf(a *prune.Analysis) []float64 {
	v := make([]float64, len(a.Candidates))
	for i, c := range a.Candidates {
		v[i] = c.Actual
	}
	return v
}

func retrainedOf(a *prune.Analysis) []float64 {
	v := make([]float64, len(a.Candidates))
	for i, c := range a.Candidates {
		v[i] = c.Retrained
	}
	return v
}
