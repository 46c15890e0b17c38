package study

import (
	"fmt"
	"math"
	"strings"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// DefaultMethods are the methods Compare runs when none are given.
var DefaultMethods = []string{"magnitude", "obd", "obs-ggn", "obs-ef", "obs-mcfisher", "obs-exact"}

// DefaultBounds are the factors f of the training-error bounds E <= f E_0
// at which Compare reports the parameters left.
var DefaultBounds = []float64{1.5, 2, 5, 10}

// methodNames lists the accepted method names and their pruning setup.
var methodNames = []struct {
	name      string
	method    prune.Method
	curvature hessian.Kind
}{
	{"magnitude", prune.Magnitude, hessian.GGN},
	{"obd", prune.OBD, hessian.GGN},
	{"obd-ggn", prune.OBD, hessian.GGN},
	{"obd-exact", prune.OBD, hessian.Exact},
	{"obs-ggn", prune.OBS, hessian.GGN},
	{"obs-ef", prune.OBS, hessian.EmpiricalFisher},
	{"obs-mcfisher", prune.OBS, hessian.MCFisher},
	{"obs-exact", prune.OBS, hessian.Exact},
}

// ParseMethod returns the pruning method and curvature named by s: magnitude,
// obd (the diagonal of the GGN, as obd-ggn), obd-exact, obs-ggn, obs-ef,
// obs-mcfisher or obs-exact.
func ParseMethod(s string) (prune.Method, hessian.Kind, error) {
	for _, m := range methodNames {
		if strings.EqualFold(strings.TrimSpace(s), m.name) {
			return m.method, m.curvature, nil
		}
	}
	names := make([]string, len(methodNames))
	for i, m := range methodNames {
		names[i] = m.name
	}
	return 0, 0, fmt.Errorf("unknown method %q (want one of %s)", s, strings.Join(names, ", "))
}

// ParseMethods reads the comma-separated method names of flag (obs
// compare's --methods): each a name ParseMethod knows, none twice (case
// aside), at least one. The errors name the flag.
func ParseMethods(flag, v string) ([]string, error) {
	var methods []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if _, _, err := ParseMethod(s); err != nil {
			return nil, fmt.Errorf("--%s: %v", flag, err)
		}
		for _, m := range methods {
			if strings.EqualFold(m, s) {
				return nil, fmt.Errorf("--%s names %s twice", flag, s)
			}
		}
		methods = append(methods, s)
	}
	if len(methods) == 0 {
		return nil, fmt.Errorf("--%s is empty", flag)
	}
	return methods, nil
}

// LargestEstimate returns the memory estimate of Compare's largest run
// among methods on net (the runs follow one another, so the largest one's
// state counts) and the configuration it estimated.
func LargestEstimate(methods []string, net *model.MLP) (*resources.Estimate, prune.Config) {
	var biggest *resources.Estimate
	var bigCfg prune.Config
	for _, name := range methods {
		pm, kind, _ := ParseMethod(name)
		pc := prune.Config{Method: pm, Curvature: kind}
		if e := resources.EstimatePruneOf(&pc, net); biggest == nil || e.Total() > biggest.Total() {
			biggest, bigCfg = e, pc
		}
	}
	return biggest, bigCfg
}

// CompareConfig configures Compare: the same rules for every method.
type CompareConfig struct {
	// Methods to run, by name (see ParseMethod). If empty, DefaultMethods.
	Methods []string
	// Alpha is OBS's damping. If zero, prune.DefaultAlpha.
	Alpha float64
	// Fix is how OBS makes an indefinite exact Hessian invertible.
	Fix hessian.Fix
	// MC configures the Monte-Carlo Fisher (samples, sigma, seed).
	MC hessian.Options
	// Recompute rebuilds the curvature every Recompute deletions, as
	// prune.Config.Recompute (0: never, downdate only).
	Recompute int
	// Keep stops each run when Keep parameters are left.
	Keep int
	// Structure is how the OBS methods store C^-1 (prune.Config.Structure;
	// nil is dense). Their labels then end in the structure, e.g.
	// obs-ggn-block128. The other methods ignore it.
	Structure prune.Structure
	// BruteForceEvery checks every BruteForceEvery-th step (1: every step,
	// 0: none) against the brute-force best: before the step, prune.Analyze
	// with the method's own curvature at the current weights measures the
	// actual increase of deleting each candidate (with the method's own
	// update), and the step's choice is compared with the candidate whose
	// increase is least.
	BruteForceEvery int
	// Bounds are the factors of the error bounds E <= f E_0 (E_0 the
	// starting training error) of the summary. If nil, DefaultBounds.
	Bounds []float64
	// Progress, if not nil, is called after every step of every method.
	Progress func(method string, s prune.Step)
	// Stop, if not nil, is polled before every step.
	Stop func() bool
}

// Check is one brute-force check of a step.
type Check struct {
	Step int
	// Choice is the parameter the method removed and Best the candidate
	// whose deletion raised E least; ChoiceIncrease and BestIncrease are
	// their actual increases of E (with the method's own update).
	Choice, Best                 int
	ChoiceIncrease, BestIncrease float64
}

// Bound is the number of parameters left when a run first broke the bound
// E <= Factor E_0.
type Bound struct {
	Factor, MaxE float64
	// Left is the number of parameters before the first step that raised
	// E above MaxE; if no step did (Exceeded false), the parameters left at
	// the end of the run.
	Left     int
	Exceeded bool
}

// MethodRun is one method's pruning run with its summary.
type MethodRun struct {
	Name   string
	Result *prune.Result
	Checks []Check

	Bounds []Bound
	// AccuracyLeft is the number of parameters before the first step that
	// lowered the training accuracy below its starting value (-1 without
	// classes); AccuracyExceeded reports whether a step did; AccuracyTest
	// is the test accuracy at that point (NaN without a test set).
	AccuracyLeft     int
	AccuracyExceeded bool
	AccuracyTest     float64
	// Over the steps with a prediction (none for magnitude): Spearman and
	// Pearson correlation of predicted and actual increase, the median
	// |log10(predicted/actual)| over the Pairs steps where both are
	// positive, and the single scale c minimising sum (c pred - actual)^2.
	Predicted                             int
	Spearman, Pearson, MedianLog10, Scale float64
	Pairs                                 int
	// NonPositive counts the steps whose actual increase is <= 0 (a
	// deletion that lowered E), which log axes cannot show.
	NonPositive int
	// Matches counts the checked steps whose choice was the brute-force
	// best; Rate = Matches / len(Checks) (NaN if none was checked).
	Matches int
	Rate    float64
}

// Comparison is the outcome of Compare.
type Comparison struct {
	Alpha           float64
	Fix             string
	MC              hessian.Options
	Recompute, Keep int
	BruteForceEvery int
	Start           prune.Snapshot
	Runs            []MethodRun
}

// Compare prunes a copy of net with each method under the same rules and
// summarises every run. net is not changed.
func Compare(net *model.MLP, train, test *datasets.Set, cfg CompareConfig) (*Comparison, error) {
	methods := cfg.Methods
	if len(methods) == 0 {
		methods = DefaultMethods
	}
	bounds := cfg.Bounds
	if bounds == nil {
		bounds = DefaultBounds
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = prune.DefaultAlpha
	}
	if !(cfg.Alpha > 0) || math.IsInf(cfg.Alpha, 0) {
		return nil, fmt.Errorf("study: alpha %v must be a finite number > 0", cfg.Alpha)
	}
	if cfg.Keep < 0 || cfg.Recompute < 0 || cfg.BruteForceEvery < 0 {
		return nil, fmt.Errorf("study: keep, recompute and brute-force-every must be >= 0")
	}
	cmp := &Comparison{Alpha: cfg.Alpha, Fix: cfg.Fix.String(), MC: cfg.MC, Recompute: cfg.Recompute, Keep: cfg.Keep,
		BruteForceEvery: cfg.BruteForceEvery}
	for _, name := range methods {
		method, kind, err := ParseMethod(name)
		if err != nil {
			return nil, fmt.Errorf("study: %w", err)
		}
		mc := cfg.MC
		pc := prune.Config{Method: method, Curvature: kind, Alpha: cfg.Alpha, Fix: cfg.Fix, CurvatureOptions: &mc,
			Recompute: cfg.Recompute, Keep: cfg.Keep, Stop: cfg.Stop}
		label := strings.ToLower(strings.TrimSpace(name))
		if _, dense := cfg.Structure.(prune.Dense); method == prune.OBS && cfg.Structure != nil && !dense {
			pc.Structure = cfg.Structure
			label += "-" + strings.ReplaceAll(cfg.Structure.String(), ":", "")
		}
		run, err := compareOne(label, net, train, test, pc, cfg, bounds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", label, err)
		}
		cmp.Start = run.Result.Start
		cmp.Runs = append(cmp.Runs, *run)
	}
	return cmp, nil
}

// compareOne runs one method with the brute-force checks.
func compareOne(name string, net *model.MLP, train, test *datasets.Set, pc prune.Config, cfg CompareConfig, bounds []float64) (*MethodRun, error) {
	work := net.Clone()
	run := &MethodRun{Name: name}
	var (
		pending     *prune.Analysis
		pendingStep int
		checkErr    error
	)
	// analyze measures every candidate at the current weights, for the
	// coming step.
	analyze := func(step, left int) {
		pending = nil
		if cfg.BruteForceEvery == 0 || (step-1)%cfg.BruteForceEvery != 0 || left-1 < pc.Keep || left == 0 {
			return
		}
		a, err := prune.Analyze(work, train.Inputs, train.Targets, prune.AnalyzeConfig{Config: pc})
		if err != nil {
			checkErr = fmt.Errorf("brute-force check before step %d: %w", step, err)
			return
		}
		pending, pendingStep = a, step
	}
	analyze(1, work.NumFree())
	if checkErr != nil {
		return nil, checkErr
	}
	stop := pc.Stop
	pc.Stop = func() bool { return checkErr != nil || (stop != nil && stop()) }
	pc.Progress = func(s prune.Step) {
		if pending != nil && pendingStep == s.Step {
			c := Check{Step: s.Step, Choice: s.Index, Best: pending.BestActual, ChoiceIncrease: s.Actual, BestIncrease: math.NaN()}
			for _, cand := range pending.Candidates {
				if cand.Index == pending.BestActual {
					c.BestIncrease = cand.Actual
				}
			}
			run.Checks = append(run.Checks, c)
		}
		analyze(s.Step+1, s.Left)
		if cfg.Progress != nil {
			cfg.Progress(name, s)
		}
	}
	if test != nil {
		pc.TestX, pc.TestT = test.Inputs, test.Targets
	}
	res, err := prune.Run(work, train.Inputs, train.Targets, pc)
	if checkErr != nil {
		return nil, checkErr
	}
	if err != nil {
		return nil, err
	}
	run.Result = res
	summarise(run, bounds)
	return run, nil
}

// summarise fills in the summary fields of run from its result and checks.
func summarise(run *MethodRun, bounds []float64) {
	res := run.Result
	e0 := res.Start.TrainError
	for _, f := range bounds {
		b := Bound{Factor: f, MaxE: f * e0, Left: res.End.Params}
		prev := res.Start.Params
		for _, s := range res.Steps {
			if s.TrainError > b.MaxE {
				b.Left, b.Exceeded = prev, true
				break
			}
			prev = s.Left
		}
		run.Bounds = append(run.Bounds, b)
	}
	run.AccuracyLeft, run.AccuracyTest = -1, math.NaN()
	if !math.IsNaN(res.Start.TrainAccuracy) {
		run.AccuracyLeft, run.AccuracyTest = res.End.Params, res.End.TestAccuracy
		prevLeft, prevTest := res.Start.Params, res.Start.TestAccuracy
		for _, s := range res.Steps {
			if s.TrainAccuracy < res.Start.TrainAccuracy {
				run.AccuracyLeft, run.AccuracyTest, run.AccuracyExceeded = prevLeft, prevTest, true
				break
			}
			prevLeft, prevTest = s.Left, s.TestAccuracy
		}
	}
	var pred, act []float64
	for _, s := range res.Steps {
		if s.Actual <= 0 {
			run.NonPositive++
		}
		if !math.IsNaN(s.Predicted) {
			pred = append(pred, s.Predicted)
			act = append(act, s.Actual)
		}
	}
	run.Predicted = len(pred)
	run.Spearman, run.Pearson, run.MedianLog10, run.Scale = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if len(pred) > 0 {
		run.Spearman, run.Pearson = stats.Spearman(pred, act), stats.Pearson(pred, act)
		run.MedianLog10, run.Pairs = stats.MedianAbsLog10Ratio(pred, act)
		run.Scale = stats.BestScale(pred, act)
	}
	for _, c := range run.Checks {
		if c.Choice == c.Best {
			run.Matches++
		}
	}
	run.Rate = math.NaN()
	if len(run.Checks) > 0 {
		run.Rate = float64(run.Matches) / float64(len(run.Checks))
	}
}
