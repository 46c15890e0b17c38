package study

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The quick study is deterministic: the same report whatever the number of
// workers, and every setting scored against the ground truth.
func TestRunQuickDeterministic(t *testing.T) {
	cfg := RunConfig{Quick: true, Workers: 1}
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
	if !bytes.HasPrefix(ma, []byte("# ")) {
		t.Fatal("no title")
	}
	// The report opens with at most five bullets, each with an interval.
	lines := strings.Split(string(ma), "\n")
	var bullets []string
	for _, l := range lines[1:] {
		if strings.HasPrefix(l, "- ") {
			bullets = append(bullets, l)
		} else if len(bullets) > 0 || strings.HasPrefix(l, "#") {
			break
		}
	}
	if len(bullets) == 0 || len(bullets) > 5 {
		t.Fatalf("%d opening bullets, want 1..5:\n%s", len(bullets), ma)
	}
	for _, bl := range bullets {
		if !strings.Contains(bl, " [") {
			t.Errorf("bullet without an interval: %s", bl)
		}
	}
	for _, want := range []string{"shared ground truth", "White 1982", "Kunstner", "δ = 0.0001", "1/P"} {
		if !bytes.Contains(ma, []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	rows := a.Summary()
	if len(rows) != len(Settings(true)) {
		t.Fatalf("%d rows", len(rows))
	}
	for _, r := range rows {
		ggn := r.Predictors[MainIndex()][predictorIndex("ggn")]
		if r.Seeds != 3 || ggn.Spearman.N != 3 || !(ggn.Spearman.Lo <= ggn.Spearman.Mean && ggn.Spearman.Mean <= ggn.Spearman.Hi) {
			t.Errorf("%s: seeds %d, ggn Spearman %+v", r.Setting.Label, r.Seeds, ggn.Spearman)
		}
		if r.Candidates != quickCandidates {
			t.Errorf("%s: %d candidates, want %d sampled", r.Setting.Label, r.Candidates, quickCandidates)
		}
	}
}

// The quick study samples its candidates, and the first choice's regret is
// never negative and 0 exactly when the first choice is the best.
func TestTruthAndRegret(t *testing.T) {
	s := Settings(true)[0]
	train, test := s.data(1)
	net, _ := model.New(s.studentSpec())
	net, _, err := trainStudent(net, &s, 1, train.Inputs, train.Targets, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	r, err := scoreNet(&s, net, train, test, 1, true, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	if r.Candidates != quickCandidates || len(r.Scores) != len(Predictors) {
		t.Fatalf("%d candidates, %d predictors", r.Candidates, len(r.Scores))
	}
	for i, row := range r.Scores {
		for d, sc := range row {
			if sc.Regret < 0 || (sc.Regret == 0) != sc.FirstIsBest {
				t.Errorf("%s δ=%g: regret %v, first is best %v", Predictors[i], Deltas[d], sc.Regret, sc.FirstIsBest)
			}
		}
	}
}

// obsPredictions agrees with the OBS saliency computed from gonum's
// Cholesky inverse for a positive definite matrix.
func TestOBSPredictionsMatchCholesky(t *testing.T) {
	rng := newRand(7, 7)
	n := 6
	a := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	D := mat.NewSymDense(n, nil)
	D.SymOuterK(1, a)
	w := []float64{0.3, -1, 2, 0.01, -0.5, 1.5}
	lambda, delta := 0.01, 1e-3
	got := obsPredictions(D, lambda, delta, w)
	C := mat.NewSymDense(n, nil)
	C.CopySym(D)
	alpha := delta * (mat.Trace(D) + lambda*float64(n)) / float64(n)
	for i := 0; i < n; i++ {
		C.SetSym(i, i, C.At(i, i)+lambda+alpha)
	}
	var ch mat.Cholesky
	if !ch.Factorize(C) {
		t.Fatal("not PD")
	}
	var inv mat.SymDense
	if err := ch.InverseTo(&inv); err != nil {
		t.Fatal(err)
	}
	for q := range w {
		want := w[q] * w[q] / (2 * inv.At(q, q))
		// 1e-10: eigendecomposition and Cholesky of a well-conditioned 6x6
		// agree to ~1e-13 relative.
		if math.Abs(got[q]-want) > 1e-10*want {
			t.Errorf("q=%d: %v, want %v", q, got[q], want)
		}
	}
}

// The mini-batch Fisher with B = 1 is F_emp itself (in a permuted order).
func TestBatchFisherB1IsEF(t *testing.T) {
	s := Settings(true)[0]
	train, _ := s.data(2)
	net, _ := model.New(s.studentSpec())
	net.Init(newRand(2, 2))
	ef, err := hessian.New(hessian.EmpiricalFisher, net, train.Inputs, train.Targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	F := dataPart(ef)
	FB := batchFisher(ef.(hessian.RankOne), 1, 2)
	// 1e-12 relative: the same sum in another order.
	if d := hessian.RelFrobenius(FB, F); d > 1e-12 {
		t.Errorf("B = 1: distance %v from F_emp", d)
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

// Diagnose says yes for a noisy well-specified regression student and no
// at an exact fit, where F_emp vanishes.
func TestDiagnose(t *testing.T) {
	for _, c := range []struct {
		sigma  float64
		usable bool
	}{{0.1, true}, {0, false}} {
		s := Setting{Task: TeacherStudent, Teacher: []int{4, 6, 1}, Student: []int{4, 6, 1}, StudentOutput: model.Identity,
			Sigma: c.sigma, P: 512, FromTeacher: true}
		train, _ := s.data(2)
		net, _ := model.New(s.studentSpec())
		net, _, err := trainStudent(net, &s, 2, train.Inputs, train.Targets, func() bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		d, err := Diagnose(net, train, DiagnoseConfig{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Usable != c.usable || d.Verdict == "" {
			t.Errorf("σ = %g: usable %v (%s), want %v; %+v", c.sigma, d.Usable, d.Verdict, c.usable, d)
		}
		// Identity output: H - G = (1/P) sum r hess f, small against G
		// when r is noise (σ = 0.1 against outputs of order 1): c within
		// 10% of 1.
		if c.sigma > 0 && (d.HG < 0.9 || d.HG > 1.1) {
			t.Errorf("σ = %g: H ≈ %v G, want ≈ G", c.sigma, d.HG)
		}
	}
}

// ParseMethods keeps the names in order, refuses unknown names, repeats
// (case aside) and an empty list with the flag's name; LargestEstimate
// picks the method whose state is largest: a dense OBS inverse over OBD's
// GGN diagonal and magnitude, and the exact Hessian OBD forms densely
// over both.
func TestParseMethodsAndLargestEstimate(t *testing.T) {
	got, err := ParseMethods("methods", " obd, obs-ggn ,,magnitude")
	if err != nil || strings.Join(got, ",") != "obd,obs-ggn,magnitude" {
		t.Errorf("ParseMethods = %v, %v", got, err)
	}
	for v, want := range map[string]string{
		"obs-ggn,OBS-GGN": "--methods names OBS-GGN twice",
		" , ":             "--methods is empty",
		"obs-foo":         `--methods: unknown method "obs-foo"`,
	} {
		if _, err := ParseMethods("methods", v); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseMethods(%q): %v, want %q", v, err, want)
		}
	}
	net, err := model.New(model.Spec{Sizes: []int{20, 10, 2}})
	if err != nil {
		t.Fatal(err)
	}
	e, cfg := LargestEstimate([]string{"magnitude", "obd", "obs-ef"}, net)
	if cfg.Method != prune.OBS || cfg.Curvature != hessian.EmpiricalFisher {
		t.Errorf("largest: %v %v", cfg.Method, cfg.Curvature)
	}
	if _, cfg := LargestEstimate([]string{"magnitude", "obd", "obs-ef", "obd-exact"}, net); cfg.Method != prune.OBD || cfg.Curvature != hessian.Exact {
		t.Errorf("largest with obd-exact: %v %v", cfg.Method, cfg.Curvature)
	}
	if mag, _ := LargestEstimate([]string{"magnitude"}, net); !(e.Total() > 232*232*8 && mag.Total() < e.Total()/10) {
		t.Errorf("OBS estimate %v (want > one 232 x 232 matrix), magnitude %v", e.Total(), mag.Total())
	}
}

// ParseSeeds reads a comma-separated list of seeds (none for a blank
// list) and names the flag for anything else.
func TestParseSeeds(t *testing.T) {
	if s, err := ParseSeeds("seeds", " 3, 1,0"); err != nil || len(s) != 3 || s[0] != 3 || s[1] != 1 || s[2] != 0 {
		t.Errorf("ParseSeeds = %v, %v", s, err)
	}
	if s, err := ParseSeeds("seeds", " "); s != nil || err != nil {
		t.Errorf("blank: %v, %v", s, err)
	}
	for _, v := range []string{"1,-2", "x", "1,,2"} {
		if _, err := ParseSeeds("seeds", v); err == nil || !strings.HasPrefix(err.Error(), "--seeds: ") {
			t.Errorf("ParseSeeds(%q): %v", v, err)
		}
	}
}
