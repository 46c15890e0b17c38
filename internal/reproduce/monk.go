package reproduce

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// MonkSpec is the network and published result of one MONK's problem.
type MonkSpec struct {
	Problem int
	Sizes   []int
	// Decay is the weight decay lambda used here. The paper trained "with
	// weight decay" without a value usable here; 1e-4, 1e-4 and 1e-3 give,
	// on the UCI files, 100%, 100% and 93.4% training accuracy before
	// pruning (MONK-3's 6 noisy labels stay wrong, as in the paper).
	Decay float64
	// The published result (Hassibi, Stork & Wolff 1993): parameters before
	// and after OBS pruning and test accuracy after.
	PaperBefore, PaperAfter int
	PaperTestAccuracy       float64
	// PaperNote is what the paper's stopping rule was, in words.
	PaperNote string
}

// MonkSpecs are the three MONK's problems of the OBS paper.
var MonkSpecs = []MonkSpec{
	{1, []int{17, 3, 1}, 1e-4, 58, 14, 1, "no loss of accuracy (100% train and test)"},
	{2, []int{17, 2, 1}, 1e-4, 39, 15, 1, "no loss of accuracy (100% train and test)"},
	{3, []int{17, 2, 1}, 1e-3, 39, 4, 420.0 / 432, "the rule a5 != 4 and a2 != 3 alone: 420/432 on the test set"},
}

// Spec returns the network of the problem: sigmoid hidden and output units,
// squared error (the paper's setting), with the problem's weight decay.
func (p MonkSpec) Spec() model.Spec {
	return model.Spec{Sizes: p.Sizes, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: p.Decay}
}

// MonkSettings configure RunMonk.
type MonkSettings struct {
	Settings
	// Dir holds the UCI files monks-N.train and monks-N.test; if empty, the
	// copy of the UCI files built into package datasets (datasets.MonkUCI)
	// is used.
	Dir string
	// Problems are the MONK's problems to run, 1..3; if nil, all three.
	Problems []int
	// Restarts is the number of starts per network; if zero,
	// DefaultRestarts.
	Restarts int
	// Ratios are the values R of the papers' stopping rule run with
	// OBS-GGN besides the accuracy rule: delete while the predicted
	// increase L_q <= R E (prune.Config.MaxPredictedRatio), no accuracy
	// rule. If nil, DefaultRatios; empty (non-nil) runs none.
	Ratios []float64
}

// DefaultRatios is the sweep of the papers' stopping rule "predicted
// increase much smaller than E".
var DefaultRatios = []float64{0.001, 0.003, 0.01, 0.03, 0.1}

// ParseRatios reads the comma-separated ratios R of flag (obs
// reproduce's --max-predicted-ratio), each a finite number > 0; blank
// entries are skipped, and none at all gives an empty (non-nil) list, which
// runs no ratio rule. An error names the flag.
func ParseRatios(flag, v string) ([]float64, error) {
	ratios := []float64{}
	for _, f := range strings.Split(v, ",") {
		if strings.TrimSpace(f) == "" {
			continue
		}
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(r > 0) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("--%s: %q is not a finite number > 0", flag, f)
		}
		ratios = append(ratios, r)
	}
	return ratios, nil
}

// FormatRatios writes ratios as ParseRatios reads them.
func FormatRatios(ratios []float64) string {
	s := make([]string, len(ratios))
	for i, r := range ratios {
		s[i] = strconv.FormatFloat(r, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// BuiltinLabel is the label of every result on the built-in copy of the UCI
// MONK's files.
const BuiltinLabel = "UCI files, built in"

// DataLabel returns the label of the MONK data read from dir.
func DataLabel(dir string) string {
	if dir == "" {
		return BuiltinLabel
	}
	return "UCI files from " + dir
}

// MonkResult is the outcome of RunMonk.
type MonkResult struct {
	Seeds     int
	Restarts  int
	Alpha     float64
	Fix       string
	DataLabel string
	Problems  []MonkProblem
}

// MonkProblem is the experiment on one MONK's problem.
type MonkProblem struct {
	MonkSpec
	Name                    string // "monk1", ...
	Arch                    string
	Params                  int
	DataLabel               string
	TrainSource, TestSource string
	TrainPatterns           int
	// Trained lists the trained network of every seed.
	Trained []MonkTrained
	// Runs[s][m] is seed s+1 pruned by method m (order of Methods).
	Runs [][]Run
	// Methods summarises the runs per method over the seeds.
	Methods []SequenceSummary
	// CurveSeed is the seed of the runs drawn in the pruning-curve figure.
	CurveSeed uint64
	// RuleRight is, for MONK-3, how many training patterns the paper's
	// 4-parameter rule "a5 != 4 and a2 != 3" classifies right (-1 for the
	// other problems): pruning to it keeps the training accuracy only if
	// this is at least the trained network's count.
	RuleRight int
	// DistinctMinima counts the different minima the seeds reached: trained
	// E values more than SameMinimumTol apart.
	DistinctMinima int
	// Ratios are the R of the ratio rule, RatioRuns[s][r] seed s+1 pruned
	// by OBS-GGN under Ratios[r], RatioMethods their summaries.
	Ratios       []float64
	RatioRuns    [][]Run
	RatioMethods []SequenceSummary
	// Minima are the distinct minima, by increasing trained E, with the
	// results of the seeds that reached each.
	Minima []MonkMinimum
}

// MonkMinimum is one distinct training minimum and the seeds that reached it.
type MonkMinimum struct {
	E                 float64
	Seeds             []uint64
	TrainAcc, TestAcc float64
	// HG and HGDist compare the exact Hessian with G there (HToG).
	HG, HGDist float64
	// Methods and Ratio summarise the runs of these seeds (order of
	// MonkProblem.Methods and .RatioMethods).
	Methods, Ratio []SequenceSummary
}

// SameMinimumTol is the largest difference of the trained E of two seeds
// that counts as the same minimum. Training stops at ||grad E|| <= 1e-8,
// which fixes E to far better than 1e-9; different minima of the MONK's
// networks differ by 1e-5 or more.
const SameMinimumTol = 1e-9

// MonkTrained is one trained MONK network.
type MonkTrained struct {
	Seed                   uint64
	E, GradNorm            float64
	Converged              bool
	Status                 string
	TrainAcc, TestAcc      float64
	MinAccuracy            float64
	RestartErrors          []float64
	TrainError, TestError  float64
	TrainRight, TrainTotal int
	// HG and HGDist: H ~ HG G at the trained weights (HToG).
	HG, HGDist float64
}

// RunMonk trains the paper's network on every selected MONK's problem for
// seeds 1..Seeds (model.TrainRestarts with Restarts starts from NewRand(seed),
// as `obs train --seed seed` does) and prunes each with every method of
// monkMethods under the rule "keep the training accuracy at or above its
// level before pruning" (100% on MONK-1 and MONK-2 when training reached it).
func RunMonk(s MonkSettings) (*MonkResult, error) {
	n := s.seeds(DefaultMonkSeeds)
	if n < 1 {
		return nil, fmt.Errorf("reproduce: %d MONK seeds, want >= 1", n)
	}
	restarts := s.Restarts
	if restarts == 0 {
		restarts = DefaultRestarts
	}
	problems := s.Problems
	if problems == nil {
		problems = []int{1, 2, 3}
	}
	ratios := s.Ratios
	if ratios == nil {
		ratios = DefaultRatios
	}
	res := &MonkResult{Seeds: n, Restarts: restarts, Alpha: s.alpha(), Fix: s.Fix.String(), DataLabel: DataLabel(s.Dir)}
	type data struct{ train, test *datasets.Set }
	sets := make([]data, len(problems))
	for i, p := range problems {
		if p < 1 || p > 3 {
			return nil, fmt.Errorf("reproduce: MONK problem %d, want 1, 2 or 3", p)
		}
		if s.Dir == "" {
			tr, te := datasets.MonkUCI(p)
			sets[i] = data{tr, te}
			continue
		}
		tr, te, err := datasets.LoadMonk(s.Dir, p)
		if err != nil {
			return nil, err
		}
		sets[i] = data{tr, te}
	}
	for _, p := range problems {
		sp := MonkSpecs[p-1]
		res.Problems = append(res.Problems, MonkProblem{MonkSpec: sp, Name: fmt.Sprintf("monk%d", p),
			Arch: model.Arch(sp.Sizes), Params: sp.Spec().NumParams(), DataLabel: res.DataLabel,
			TrainSource: sets[len(res.Problems)].train.Source, TestSource: sets[len(res.Problems)].test.Source,
			TrainPatterns: len(sets[len(res.Problems)].train.Inputs), RuleRight: monk3RuleRight(p, sets[len(res.Problems)].train),
			Trained: make([]MonkTrained, n), Runs: make([][]Run, n), CurveSeed: 1, Ratios: ratios, RatioRuns: make([][]Run, n)})
	}
	// Jobs run longest first (MONK-1 has the largest network), which keeps
	// both cores busy to the end; results are stored by index.
	err := parallel.For(len(problems)*n, s.Workers, s.Stop, s.Progress, func(i int) error {
		pi, seed := i/n, uint64(i%n+1)
		p := &res.Problems[pi]
		t, runs, rruns, err := monkSeed(p.MonkSpec, sets[pi].train, sets[pi].test, res.DataLabel, seed, restarts, ratios, s.Settings)
		if err != nil {
			return fmt.Errorf("%s seed %d: %w", p.Name, seed, err)
		}
		p.Trained[seed-1], p.Runs[seed-1], p.RatioRuns[seed-1] = t, runs, rruns
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range res.Problems {
		p := &res.Problems[i]
		p.Methods = summariseRuns(p.Runs)
		p.RatioMethods = summariseRuns(p.RatioRuns)
		order := make([]int, len(p.Trained))
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return p.Trained[order[a]].E < p.Trained[order[b]].E })
		var groups [][]int
		for j, o := range order {
			if j == 0 || p.Trained[o].E-p.Trained[order[j-1]].E > SameMinimumTol {
				groups = append(groups, nil)
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], o)
		}
		p.DistinctMinima = len(groups)
		for _, g := range groups {
			t := p.Trained[g[0]]
			mm := MonkMinimum{E: t.E, TrainAcc: t.TrainAcc, TestAcc: t.TestAcc, HG: t.HG, HGDist: t.HGDist}
			var runs, rruns [][]Run
			for _, o := range g {
				mm.Seeds = append(mm.Seeds, p.Trained[o].Seed)
				runs, rruns = append(runs, p.Runs[o]), append(rruns, p.RatioRuns[o])
			}
			mm.Methods, mm.Ratio = summariseRuns(runs), summariseRuns(rruns)
			p.Minima = append(p.Minima, mm)
		}
	}
	return res, nil
}

// TrainMonk trains the network of a MONK's problem for one seed as `obs
// train --data monkN --seed seed --decay D --restarts restarts` does.
func TrainMonk(sp MonkSpec, train *datasets.Set, seed uint64, restarts int, stop func() bool) (*model.MLP, model.RestartsResult, error) {
	m, err := model.New(sp.Spec())
	if err != nil {
		return nil, model.RestartsResult{}, err
	}
	return model.TrainRestarts(m, train.Inputs, train.Targets, &model.TrainSettings{Stop: stop}, NewRand(seed), restarts)
}

// monkSeed trains one network and prunes it with every method, and with
// OBS-GGN under each ratio rule.
func monkSeed(sp MonkSpec, train, test *datasets.Set, label string, seed uint64, restarts int, ratios []float64, s Settings) (MonkTrained, []Run, []Run, error) {
	m, rr, err := TrainMonk(sp, train, seed, restarts, s.Stop)
	if err != nil {
		return MonkTrained{}, nil, nil, err
	}
	if s.Stop != nil && s.Stop() {
		return MonkTrained{}, nil, nil, ErrStopped
	}
	ws := m.NewWorkspace()
	t := MonkTrained{Seed: seed, E: rr.Best.E, GradNorm: rr.Best.GradNorm, Converged: rr.Best.Converged, Status: rr.Best.Status,
		TrainAcc: m.Accuracy(ws, train.Inputs, train.Targets), TestAcc: m.Accuracy(ws, test.Inputs, test.Targets),
		RestartErrors: rr.Errors, TrainError: m.Error(ws, train.Inputs, train.Targets), TestError: m.Error(ws, test.Inputs, test.Targets),
		TrainTotal: len(train.Inputs)}
	t.MinAccuracy = minAccuracy(t.TrainAcc, len(train.Inputs))
	t.TrainRight = int(math.Round(t.TrainAcc * float64(len(train.Inputs))))
	if t.HG, t.HGDist, err = HToG(m, train); err != nil {
		return t, nil, nil, err
	}
	name := fmt.Sprintf("monk%d", sp.Problem)
	var runs, rruns []Run
	for _, me := range monkMethods(s, seed) {
		r, err := runMethod(m, train, test, me, name, label, seed, s.Stop)
		if err != nil {
			return t, nil, nil, err
		}
		runs = append(runs, r)
	}
	for _, ratio := range ratios {
		me := newMethod(prune.OBS, hessian.GGN, 0, s, seed)
		me.label = fmt.Sprintf("obs-ggn, L_q <= %g E", ratio)
		me.cfg.MaxPredictedRatio = ratio
		r, err := runRule(m, train, test, me, name, label, seed, s.Stop)
		if err != nil {
			return t, nil, nil, err
		}
		rruns = append(rruns, r)
	}
	return t, runs, rruns, nil
}

// monk3RuleRight counts the training patterns of MONK-3 that the rule
// "a5 != 4 and a2 != 3" classifies right; -1 for the other problems.
func monk3RuleRight(problem int, train *datasets.Set) int {
	if problem != 3 {
		return -1
	}
	a23, a54 := -1, -1
	for i, n := range datasets.MonkInputNames() {
		switch n {
		case "a2=3":
			a23 = i
		case "a5=4":
			a54 = i
		}
	}
	right := 0
	for p, x := range train.Inputs {
		class := 0.0
		if x[a23] == 0 && x[a54] == 0 {
			class = 1
		}
		if class == train.Targets[p][0] {
			right++
		}
	}
	return right
}
