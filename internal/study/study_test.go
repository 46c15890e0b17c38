package study

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The quick study is deterministic: the same report whatever the number of
// workers, and every setting measured.
func TestRunQuickDeterministic(t *testing.T) {
	cfg := RunConfig{Quick: true, Measure: MeasureConfig{Fix: hessian.FixShift}, Workers: 1}
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Workers = 3
	b, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ma, mb := a.Markdown(), b.Markdown()
	if !bytes.Equal(ma, mb) {
		t.Fatal("the report differs between runs with 1 and 3 workers")
	}
	for _, want := range []string{"## Conclusion", "## Residual size and noise", "## Training progress", "## Misspecification",
		"## Number of patterns", "## Classification with cross-entropy", "α = 1e-06", "1/P"} {
		if !bytes.Contains(ma, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	rows := a.Summary()
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	for _, r := range rows {
		if r.Seeds != 1 || math.IsNaN(r.CStar) || math.IsNaN(r.pred("ggn").Spearman) {
			t.Errorf("%s/%s: seeds %d, c* %v, ρ ggn %v", r.Factor, r.Label, r.Seeds, r.CStar, r.pred("ggn").Spearman)
		}
	}
	if n := len(a.Figures()); n != 4 {
		t.Errorf("%d figures, want 4", n)
	}
}

func TestRunStops(t *testing.T) {
	calls := 0
	_, err := Run(RunConfig{Quick: true, Workers: 1, Stop: func() bool { calls++; return calls > 3 }})
	if err != ErrStopped {
		t.Fatalf("err = %v, want ErrStopped", err)
	}
}

func TestParseMethod(t *testing.T) {
	for _, c := range []struct {
		name string
		m    prune.Method
		k    hessian.Kind
	}{{"magnitude", prune.Magnitude, hessian.GGN}, {"obd", prune.OBD, hessian.GGN}, {"OBS-EF", prune.OBS, hessian.EmpiricalFisher},
		{"obs-exact", prune.OBS, hessian.Exact}, {"obs-mcfisher", prune.OBS, hessian.MCFisher}} {
		m, k, err := ParseMethod(c.name)
		if err != nil || m != c.m || k != c.k {
			t.Errorf("ParseMethod(%q) = %v, %v, %v", c.name, m, k, err)
		}
	}
	if _, _, err := ParseMethod("obs-hessian"); err == nil || !strings.Contains(err.Error(), "obs-hessian") {
		t.Errorf("unknown method: err = %v", err)
	}
}

// Compare on XOR: with recompute 1 the brute-force check sees exactly the
// choice the run faces, so the chosen deletion can never raise E by less
// than the best candidate, and when it is the best the two increases are
// the same number.
func TestCompareXORChecks(t *testing.T) {
	xor := datasets.XOR()
	net, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	net, _, err = model.TrainRestarts(net, xor.Inputs, xor.Targets, nil, newRand(1, streamStudent), 5)
	if err != nil {
		t.Fatal(err)
	}
	before := append([]float64(nil), net.Params...)
	cmp, err := Compare(net, xor, nil, CompareConfig{Methods: []string{"magnitude", "obs-ggn", "obs-ef", "obs-exact"},
		Fix: hessian.FixShift, Recompute: 1, Keep: 1, BruteForceEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range net.Params {
		if v != before[i] {
			t.Fatal("Compare changed the network")
		}
	}
	if len(cmp.Runs) != 4 {
		t.Fatalf("%d runs", len(cmp.Runs))
	}
	for _, r := range cmp.Runs {
		if len(r.Result.Steps) != 8 || len(r.Checks) != 8 {
			t.Errorf("%s: %d steps, %d checks, want 8 each (9 parameters, keep 1)", r.Name, len(r.Result.Steps), len(r.Checks))
		}
		for _, c := range r.Checks {
			// Both increases are E(w') − E(w) for the same w and w' when
			// Choice == Best; otherwise Best is the minimum of a list that
			// contains the choice's increase, computed by the same code.
			if c.Choice == c.Best && c.ChoiceIncrease != c.BestIncrease {
				t.Errorf("%s step %d: same deletion, increases %v and %v", r.Name, c.Step, c.ChoiceIncrease, c.BestIncrease)
			}
			if c.ChoiceIncrease < c.BestIncrease {
				t.Errorf("%s step %d: choice raised E by %v, less than the best %v", r.Name, c.Step, c.ChoiceIncrease, c.BestIncrease)
			}
		}
		if r.Name == "magnitude" && (r.Predicted != 0 || !math.IsNaN(r.Spearman)) {
			t.Errorf("magnitude has predictions: %d, %v", r.Predicted, r.Spearman)
		}
		if r.Name != "magnitude" && r.Predicted != 8 {
			t.Errorf("%s: %d predicted steps", r.Name, r.Predicted)
		}
	}
}

// summarise's bounds: the parameters left before the first step that broke
// the bound, or the end when none did.
func TestSummariseBounds(t *testing.T) {
	nan := math.NaN()
	res := &prune.Result{Start: prune.Snapshot{Params: 5, TrainError: 1, TrainAccuracy: 1, TestAccuracy: 0.9},
		End: prune.Snapshot{Params: 1, TrainError: 4, TrainAccuracy: 0.5, TestAccuracy: 0.5}}
	errs := []float64{1.2, 1.6, 1.4, 4}
	accs := []float64{1, 1, 0.75, 0.5}
	for i, e := range errs {
		res.Steps = append(res.Steps, prune.Step{Step: i + 1, TrainError: e, Actual: 0.1, Predicted: nan, Left: 4 - i,
			TrainAccuracy: accs[i], TestAccuracy: 0.9 - 0.1*float64(i)})
	}
	run := &MethodRun{Result: res}
	summarise(run, []float64{1.5, 2, 5})
	want := []struct {
		left     int
		exceeded bool
	}{{4, true}, {2, true}, {1, false}}
	for i, b := range run.Bounds {
		if b.Left != want[i].left || b.Exceeded != want[i].exceeded {
			t.Errorf("bound %v: left %d exceeded %v, want %+v", b.Factor, b.Left, b.Exceeded, want[i])
		}
	}
	// Accuracy first drops at step 3, from 3 parameters left after step 2,
	// where the test accuracy was 0.8.
	if run.AccuracyLeft != 3 || !run.AccuracyExceeded || math.Abs(run.AccuracyTest-0.8) > 1e-15 {
		t.Errorf("accuracy: left %d, exceeded %v, test %v", run.AccuracyLeft, run.AccuracyExceeded, run.AccuracyTest)
	}
	if run.Predicted != 0 || !math.IsNaN(run.Rate) {
		t.Errorf("predicted %d, rate %v", run.Predicted, run.Rate)
	}
}
