package prune

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Tolerances. For a quadratic error at its exact minimum, OBS's prediction
// is exact up to the damping (relative O(alpha / lambda_min) with alpha =
// 1e-12 here) and rounding in sums of O(10) terms: 1e-10 is the issue's
// bound and holds with a wide margin. Those tests use the direct (Cholesky)
// inverse: the recursion and the blocked form start at I/alpha, and their
// rounding error grows like eps ||C|| / alpha, about 1e-3 at alpha = 1e-12;
// TestInverseFormsAgree compares them at the default damping instead.
const (
	tinyAlpha = 1e-12
	quadTol   = 1e-10
)

// linearProblem is a linear model with squared error (a quadratic E) fitted
// exactly by least squares, so grad E = 0 to rounding.
func linearProblem(t *testing.T, in, out, P int, seed uint64) (*model.MLP, *datasets.Set) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{in, out}, Hidden: model.Identity, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	s := &datasets.Set{Name: "linear"}
	for p := 0; p < P; p++ {
		x := make([]float64, in)
		for i := range x {
			x[i] = rng.NormFloat64() * float64(i+1)
		}
		y := make([]float64, out)
		for k := range y {
			y[k] = rng.NormFloat64()
		}
		s.Inputs = append(s.Inputs, x)
		s.Targets = append(s.Targets, y)
	}
	solveLeastSquares(t, m, s)
	return m, s
}

// solveLeastSquares sets the free parameters of a linear model to the least
// squares solution, independently of the trainer (gonum QR).
func solveLeastSquares(t *testing.T, m *model.MLP, s *datasets.Set) {
	in, out := m.Sizes[0], m.Sizes[1]
	A := mat.NewDense(len(s.Inputs), in+1, nil)
	for p, x := range s.Inputs {
		for i, v := range x {
			A.Set(p, i, v)
		}
		A.Set(p, in, 1)
	}
	for k := 0; k < out; k++ {
		var cols []int
		for i := 0; i <= in; i++ {
			if !m.Pruned[m.Index(1, k, i)] {
				cols = append(cols, i)
			}
		}
		if len(cols) == 0 {
			continue
		}
		Ak := mat.NewDense(len(s.Inputs), len(cols), nil)
		b := mat.NewVecDense(len(s.Inputs), nil)
		for p := range s.Inputs {
			for c, i := range cols {
				Ak.Set(p, c, A.At(p, i))
			}
			b.SetVec(p, s.Targets[p][k])
		}
		var sol mat.VecDense
		if err := sol.SolveVec(Ak, b); err != nil {
			t.Fatal(err)
		}
		for c, i := range cols {
			m.Params[m.Index(1, k, i)] = sol.AtVec(c)
		}
	}
}

func TestOBSExactOnQuadratic(t *testing.T) {
	m, s := linearProblem(t, 4, 2, 30, 1)
	for _, inv := range []Inverse{Direct} {
		cfg := AnalyzeConfig{Config: Config{Method: OBS, Curvature: hessian.GGN, Alpha: tinyAlpha, Inverse: inv},
			Retrain: true, Train: &model.TrainSettings{Method: model.LM, GradTol: 1e-12}}
		a, err := Analyze(m, s.Inputs, s.Targets, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if a.GradNorm > 1e-12 {
			t.Fatalf("least-squares fit has ||grad E|| = %v", a.GradNorm)
		}
		for _, c := range a.Candidates {
			if math.Abs(c.Predicted-c.Actual) > quadTol*math.Max(1, c.Actual) {
				t.Errorf("%v: %s predicted %.15g, actual %.15g", inv, c.Name, c.Predicted, c.Actual)
			}
			// OBS's update is the optimal compensation: retraining gains nothing.
			if math.Abs(c.Retrained-c.Actual) > 1e-8 {
				t.Errorf("%v: %s: OBS update leaves %v, retraining %v", inv, c.Name, c.Actual, c.Retrained)
			}
		}
		if a.First != a.BestRetrained {
			t.Errorf("%v: OBS chose %d, brute force %d", inv, a.First, a.BestRetrained)
		}
	}
}

// The three inverse forms give the same saliencies and updates at the
// default damping, where the recursion's rounding error, of order
// eps ||C|| / alpha ~ 1e-9 relative here, is far below the 1e-6 tolerance.
func TestInverseFormsAgree(t *testing.T) {
	m, s := linearProblem(t, 6, 2, 50, 7)
	var ref *Analysis
	for _, inv := range []Inverse{Direct, Blocked, Recursive} {
		a, err := Analyze(m, s.Inputs, s.Targets, AnalyzeConfig{Config: Config{Method: OBS, Curvature: hessian.GGN, Inverse: inv}})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = a
			continue
		}
		for i, c := range a.Candidates {
			r := ref.Candidates[i]
			if math.Abs(c.Predicted-r.Predicted) > 1e-6*r.Predicted || math.Abs(c.Actual-r.Actual) > 1e-6*math.Abs(r.Actual) {
				t.Errorf("%v: %s predicted %v actual %v; direct %v, %v", inv, c.Name, c.Predicted, c.Actual, r.Predicted, r.Actual)
			}
		}
	}
}

func TestDowndateEqualsRebuild(t *testing.T) {
	m, s := linearProblem(t, 5, 2, 40, 2)
	cfg := Config{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-3}
	st, err := build(m, s.Inputs, s.Targets, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, Q := range [][]int{{3}, {0, 7}} {
		u, err := OBSStep(st.inv, m.Params, Q)
		if err != nil {
			t.Fatal(err)
		}
		u.Apply(m.Params)
		for _, q := range Q {
			if m.Params[q] != 0 {
				// Not exactly 0 before Prune: the update gives 0 only up to
				// rounding; Prune makes it exact.
				if math.Abs(m.Params[q]) > 1e-12 {
					t.Errorf("OBS update leaves w_%d = %v", q, m.Params[q])
				}
			}
			m.Prune(q)
		}
		if err := st.inv.Downdate(Q); err != nil {
			t.Fatal(err)
		}
		// A quadratic's curvature does not depend on w, so the downdated
		// inverse must equal the inverse rebuilt on the survivors.
		fresh, err := build(m, s.Inputs, s.Targets, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		inv, freshInv := st.inv.(*DenseInverse), fresh.inv.(*DenseInverse)
		for i, qi := range fresh.free {
			for j, qj := range fresh.free {
				got, want := inv.Matrix().At(st.pos[qi], st.pos[qj]), freshInv.Matrix().At(i, j)
				if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Fatalf("after removing %v: downdated C^-1[%d][%d] = %v, rebuilt %v", Q, qi, qj, got, want)
				}
			}
		}
		for _, q := range Q {
			for _, qj := range st.free {
				if inv.Matrix().At(st.pos[q], st.pos[qj]) != 0 {
					t.Fatalf("row of removed parameter %d not zeroed", q)
				}
			}
		}
	}
}

// Removing {q1, q2} at once with the block formula equals removing q1 and
// then q2 with the downdate in between, for a quadratic error; and the group
// step's predicted increase is exact there.
func TestGroupOBS(t *testing.T) {
	m, s := linearProblem(t, 4, 1, 25, 3)
	cfg := Config{Method: OBS, Curvature: hessian.GGN, Alpha: tinyAlpha, Inverse: Direct}
	ws := m.NewWorkspace()
	e0 := m.Error(ws, s.Inputs, s.Targets)
	Q := []int{1, 3}

	joint := m.Clone()
	st, _ := build(joint, s.Inputs, s.Targets, &cfg)
	u, err := OBSStep(st.inv, joint.Params, Q)
	if err != nil {
		t.Fatal(err)
	}
	pred := u.Predicted
	u.Apply(joint.Params)
	for _, q := range Q {
		joint.Prune(q)
	}
	if actual := joint.Error(ws, s.Inputs, s.Targets) - e0; math.Abs(pred-actual) > quadTol {
		t.Errorf("group predicted %v, actual %v", pred, actual)
	}

	seq := m.Clone()
	st, _ = build(seq, s.Inputs, s.Targets, &cfg)
	for _, q := range Q {
		// k = 1 through the block code equals the textbook formula
		// dw = -(w_q / [C^-1]_qq) C^-1 e_q.
		u1, _ := OBSStep(st.inv, seq.Params, []int{q})
		r := st.pos[q]
		inv := st.inv.(*DenseInverse).Matrix()
		for i, j := range u1.Rows {
			want := -seq.Params[q] / inv.At(r, r) * inv.At(st.pos[j], r)
			if seq.Pruned[j] {
				want = 0
			}
			if math.Abs(u1.Delta[i]-want) > 1e-12*math.Max(1, math.Abs(want)) {
				t.Errorf("single-parameter block step dw[%d] = %v, formula %v", j, u1.Delta[i], want)
			}
		}
		u1.Apply(seq.Params)
		seq.Prune(q)
		if err := st.inv.Downdate([]int{q}); err != nil {
			t.Fatal(err)
		}
	}
	for q := range m.Params {
		if math.Abs(seq.Params[q]-joint.Params[q]) > 1e-9 {
			t.Errorf("w[%d]: sequential %v, joint %v", q, seq.Params[q], joint.Params[q])
		}
	}
}

// With a diagonal Hessian OBS's saliency is OBD's up to the damping, so the
// two choose the same parameter.
func TestOBDEqualsOBSForDiagonalHessian(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{3, 1}, Hidden: model.Identity, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	// Full factorial design with column scales: the inputs (and the bias
	// column) are orthogonal, so G = diag(s_i^2, 1).
	scale := []float64{3, 0.5, 1.7}
	s := &datasets.Set{Name: "orthogonal"}
	rng := rand.New(rand.NewPCG(4, 4))
	for p := 0; p < 8; p++ {
		x := make([]float64, 3)
		for i := range x {
			x[i] = scale[i]
			if p>>i&1 == 1 {
				x[i] = -scale[i]
			}
		}
		s.Inputs = append(s.Inputs, x)
		s.Targets = append(s.Targets, []float64{rng.NormFloat64()})
	}
	solveLeastSquares(t, m, s)
	var g mat.SymDense
	curv, err := hessian.New(hessian.GGN, m, s.Inputs, s.Targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	curv.Dense(&g)
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			if i != j && math.Abs(g.At(i, j)) > 1e-14 {
				t.Fatalf("test design: G[%d][%d] = %v, not diagonal", i, j, g.At(i, j))
			}
		}
	}
	obd, err := Analyze(m, s.Inputs, s.Targets, AnalyzeConfig{Config: Config{Method: OBD, Curvature: hessian.GGN}})
	if err != nil {
		t.Fatal(err)
	}
	obs, err := Analyze(m, s.Inputs, s.Targets, AnalyzeConfig{Config: Config{Method: OBS, Curvature: hessian.GGN, Alpha: tinyAlpha, Inverse: Direct}})
	if err != nil {
		t.Fatal(err)
	}
	if obd.First != obs.First {
		t.Errorf("OBD chose %d, OBS %d", obd.First, obs.First)
	}
	for i := range obd.Candidates {
		if a, b := obd.Candidates[i].Saliency, obs.Candidates[i].Saliency; math.Abs(a-b) > 1e-9*math.Max(1, a) {
			t.Errorf("%s: OBD saliency %v, OBS %v", obd.Candidates[i].Name, a, b)
		}
	}
}

func xorNet(t *testing.T) (*model.MLP, *datasets.Set) {
	t.Helper()
	s := datasets.XOR()
	for seed := uint64(1); seed < 50; seed++ {
		m, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-3})
		if err != nil {
			t.Fatal(err)
		}
		m.Init(rand.New(rand.NewPCG(seed, 0x6f6273)))
		if _, err := model.Train(m, s.Inputs, s.Targets, nil); err != nil {
			t.Fatal(err)
		}
		if m.Accuracy(m.NewWorkspace(), s.Inputs, s.Targets) == 1 {
			return m, s
		}
	}
	t.Fatal("no seed below 50 trains XOR")
	return nil, nil
}

func TestRunKeepsPrunedAtZero(t *testing.T) {
	m, s := xorNet(t)
	for _, cfg := range []Config{
		{Method: OBS, Curvature: hessian.GGN, Keep: 4, Recompute: 1, Retrain: 2},
		{Method: OBS, Curvature: hessian.GGN, Keep: 3, Group: 2},
		{Method: OBD, Curvature: hessian.Exact, Keep: 4, Retrain: 1},
		{Method: Magnitude, Keep: 4, RetrainAbove: 1e-6},
	} {
		net := m.Clone()
		var seen []int
		cfg.Progress = func(st Step) {
			seen = append(seen, st.Indices...)
			for _, q := range seen {
				if net.Params[q] != 0 || !net.Pruned[q] {
					t.Fatalf("%s step %d: parameter %d is %v (pruned %v)", st.Method, st.Step, q, net.Params[q], net.Pruned[q])
				}
			}
		}
		res, err := Run(net, s.Inputs, s.Targets, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if net.NumFree() != cfg.Keep || res.End.Params != cfg.Keep {
			t.Errorf("%s: %d parameters left, want %d (%s)", res.Method, net.NumFree(), cfg.Keep, res.StopReason)
		}
		if len(seen) != 9-cfg.Keep {
			t.Errorf("%s: removed %v, want %d parameters", res.Method, seen, 9-cfg.Keep)
		}
	}
}

func TestMinAccuracyRejectsAndRestores(t *testing.T) {
	m, s := xorNet(t)
	net := m.Clone()
	res, err := Run(net, s.Inputs, s.Targets, Config{Method: OBS, Curvature: hessian.GGN, MinAccuracy: 1, Recompute: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rejected == nil {
		t.Fatalf("XOR pruned to %d parameters without losing accuracy: %s", net.NumFree(), res.StopReason)
	}
	if acc := net.Accuracy(net.NewWorkspace(), s.Inputs, s.Targets); acc != 1 {
		t.Errorf("after the rejected step was undone, accuracy is %v", acc)
	}
	if net.NumFree() != len(net.Params)-len(res.Steps) {
		t.Errorf("%d free parameters after %d steps", net.NumFree(), len(res.Steps))
	}
	for _, q := range res.Rejected.Indices {
		if net.Pruned[q] {
			t.Errorf("rejected deletion of %d not undone", q)
		}
	}
}

func TestRemoveDeadKeepsFunction(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{3, 3, 2}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(5, 5)))
	for q := range m.Params {
		m.Params[q] += 0.1 // nonzero biases, so constants matter
	}
	// Unit h1.0 loses its inputs; unit h1.2 loses its outputs.
	for i := 0; i < 3; i++ {
		m.Prune(m.Index(1, 0, i))
	}
	for k := 0; k < 2; k++ {
		m.Prune(m.Index(2, k, 2))
	}
	if d := deadUnits(m); len(d) != 2 || d[0] != "h1.0" || d[1] != "h1.2" {
		t.Fatalf("dead units %v, want [h1.0 h1.2]", d)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	ws := m.NewWorkspace()
	before := m.Clone()
	removed := removeDead(m)
	if len(removed) != 1+2+4 { // h1.0: bias and 2 outgoing; h1.2: 3 weights and bias
		t.Errorf("removed %d parameters, want 7", len(removed))
	}
	if d := deadUnits(m); len(d) != 0 {
		t.Errorf("still dead: %v", d)
	}
	ws2 := before.NewWorkspace()
	for trial := 0; trial < 5; trial++ {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		a := append([]float64(nil), m.Forward(ws, x)...)
		b := before.Forward(ws2, x)
		for k := range a {
			if math.Abs(a[k]-b[k]) > 1e-14 {
				t.Errorf("output %d changed from %v to %v", k, b[k], a[k])
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	m, s := xorNet(t)
	for _, cfg := range []Config{
		{Method: OBS, Alpha: -1},
		{Method: OBS, Alpha: math.NaN()},
		{Method: OBD, Curvature: hessian.EmpiricalFisher},
		{Method: Magnitude, Group: 2},
		{Method: OBS, Sparsity: 1.5},
		{Method: OBS, Keep: -1},
	} {
		if _, err := Run(m.Clone(), s.Inputs, s.Targets, cfg); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
}

// The ratio rule stops before the first deletion whose predicted increase
// exceeds R times E before it, and accepts every earlier one.
func TestMaxPredictedRatio(t *testing.T) {
	m, s := xorNet(t)
	const R = 0.01
	net := m.Clone()
	res, err := Run(net, s.Inputs, s.Targets, Config{Method: OBS, Curvature: hessian.GGN, MaxPredictedRatio: R, Recompute: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range res.Steps {
		if st.Predicted > R*st.EBefore {
			t.Errorf("step %d accepted with L_q %v > %v E = %v", st.Step, st.Predicted, R, R*st.EBefore)
		}
	}
	if rej := res.Rejected; rej != nil && !(rej.Predicted > R*rej.EBefore) {
		t.Errorf("rejected step with L_q %v <= %v E = %v", rej.Predicted, R, R*rej.EBefore)
	}
	// On this XOR network the rule must bite before the end (else the
	// test could not fail).
	if res.Rejected == nil {
		t.Errorf("stopped with %d parameters and no rejected step: %s", net.NumFree(), res.StopReason)
	}
}

// Builds follows the schedule Run uses: every deletion for Recompute 1,
// a geometric schedule for RecomputeFraction, one build for 0.
func TestBuildsSchedule(t *testing.T) {
	every := Config{Method: OBS, Recompute: 1}
	if got := len(every.Builds(100, 10)); got != 90 {
		t.Errorf("Recompute 1: %d builds, want 90", got)
	}
	never := Config{Method: OBS}
	if got := never.Builds(100, 10); len(got) != 1 || got[0] != 100 {
		t.Errorf("Recompute 0: %v, want [100]", got)
	}
	// 10% of 100 = 10 deletions, then 10% of 90 = 9, of 81 = 8, ...
	frac := Config{Method: OBS, RecomputeFraction: 0.1}
	want := []int{100, 90, 81, 73, 66, 60, 54, 49, 45, 41, 37, 34, 31, 28, 26, 24, 22, 20, 18, 17, 16, 15, 14, 13, 12, 11, 10}
	got := frac.Builds(100, 9)
	if len(got) != len(want) {
		t.Fatalf("10%%: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("10%%: %v, want %v", got, want)
		}
	}
	// A group is cut at keep.
	group := Config{Method: OBS, Group: 7, Recompute: 1}
	if got := group.Builds(20, 5); len(got) != 3 || got[2] != 6 {
		t.Errorf("group 7 from 20 to 5: %v, want [20 13 6]", got)
	}
}
