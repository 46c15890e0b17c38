package prune

import (
	"context"
	"errors"
	"math"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
)

// Magnitude through Prune with nearest rounding, weights only, globally
// and per layer, removes exactly the weights a plain sort picks.
func TestPruneMagnitudeNearest(t *testing.T) {
	m, s := smallNet(t)
	m.Prune(3)
	for _, perLayer := range []bool{false, true} {
		for _, sp := range []float64{0.25, 0.5, 0.75} {
			net := m.Clone()
			plan := &Plan{Method: MagnitudePruner{}, Candidates: Weights(net), PerLayer: perLayer, Round: Nearest, RankOnce: true, Target: Target{Sparsity: sp}}
			if _, err := Prune(context.Background(), net, s.Inputs, s.Targets, plan); err != nil {
				t.Fatal(err)
			}
			// Reference: per pool, sort the free weights by |w| (ties to
			// the lower index) and prune round(sp total) - gone of them.
			want := slices.Clone(m.Pruned)
			pools := map[int][]int{}
			total, gone := map[int]int{}, map[int]int{}
			for q := range m.Params {
				l, _, from := m.Locate(q)
				if from == m.Sizes[l-1] {
					continue
				}
				g := 0
				if perLayer {
					g = l
				}
				total[g]++
				if m.Pruned[q] {
					gone[g]++
					continue
				}
				pools[g] = append(pools[g], q)
			}
			for g, pool := range pools {
				sort.SliceStable(pool, func(a, b int) bool { return math.Abs(m.Params[pool[a]]) < math.Abs(m.Params[pool[b]]) })
				for _, q := range pool[:int(math.Round(sp*float64(total[g])))-gone[g]] {
					want[q] = true
				}
			}
			if !slices.Equal(net.Pruned, want) {
				t.Errorf("per-layer %v sparsity %v: pruned %v, want %v", perLayer, sp, net.Pruned, want)
			}
		}
	}
}

// OBS's group saliency is the constrained minimum of the quadratic model:
// for C the damped curvature, min 1/2 d^T C d subject to d_G = -w_G is
// 1/2 w_G^T S w_G with S the Schur complement C_GG - C_GR C_RR^-1 C_RG;
// and the group step reaches it.
func TestOBSGroupSaliencyIsConstrainedMinimum(t *testing.T) {
	m, s := smallNet(t)
	const alpha = 1e-2
	p := OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: alpha}
	sc, err := p.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
	if err != nil {
		t.Fatal(err)
	}
	curv, _ := hessian.New(hessian.GGN, m, s.Inputs, s.Targets, nil)
	var c mat.SymDense
	curv.Dense(&c)
	n := c.SymmetricDim()
	for i := range n {
		c.SetSym(i, i, c.At(i, i)+alpha)
	}
	for _, G := range [][]int{{2}, {0, 7}, {1, 5, 6, 20}, {21, 22, 23, 24, 25, 26}} {
		in := make([]bool, n)
		for _, q := range G {
			in[q] = true
		}
		var R []int
		for q := range n {
			if !in[q] {
				R = append(R, q)
			}
		}
		sub := func(a, b []int) *mat.Dense {
			d := mat.NewDense(len(a), len(b), nil)
			for i, qa := range a {
				for j, qb := range b {
					d.Set(i, j, c.At(qa, qb))
				}
			}
			return d
		}
		var x, schur mat.Dense
		if err := x.Solve(sub(R, R), sub(R, G)); err != nil {
			t.Fatal(err)
		}
		schur.Mul(sub(G, R), &x)
		schur.Sub(sub(G, G), &schur)
		wg := mat.NewVecDense(len(G), nil)
		for a, q := range G {
			wg.SetVec(a, m.Params[q])
		}
		want := 0.5 * mat.Inner(wg, &schur, wg)
		got := sc.Saliency(m.Params, G)
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("group %v: saliency %v, constrained minimum %v", G, got, want)
		}
		u, err := sc.Step(m.Params, G)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(u.Predicted-got) > 1e-12*got {
			t.Errorf("group %v: step predicts %v, saliency %v", G, u.Predicted, got)
		}
	}
}

// Groups are the unit: a plan of hidden-unit groups (each unit's incoming
// weights and bias) removes whole groups, counts them for the target, and
// OBD's group saliency is the sum of its members'.
func TestPruneGroups(t *testing.T) {
	m, s := smallNet(t)
	var groups [][]int
	for j := range m.Sizes[1] {
		var g []int
		for i := 0; i <= m.Sizes[0]; i++ {
			g = append(g, m.Index(1, j, i))
		}
		groups = append(groups, g)
	}
	for _, method := range []Pruner{MagnitudePruner{}, OBDPruner{Curvature: Terms{Curvature: hessian.GGN}}, OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}} {
		net := m.Clone()
		res, err := Prune(context.Background(), net, s.Inputs, s.Targets, &Plan{Method: method, Groups: groups, Target: Target{Sparsity: 0.4}})
		if err != nil {
			t.Fatal(err)
		}
		removed := 0
		for _, g := range groups {
			n := 0
			for _, q := range g {
				if net.Pruned[q] {
					n++
				}
			}
			if n != 0 && n != len(g) {
				t.Errorf("%v: group %v partly pruned", method, g)
			}
			if n == len(g) {
				removed++
			}
		}
		if removed != 2 || len(res.Removed) != 2*len(groups[0]) {
			t.Errorf("%v: %d groups removed (%d parameters), want 2 of 5", method, removed, len(res.Removed))
		}
	}
	// A group that lost a member before is scored and removed by the rest.
	part := m.Clone()
	part.Prune(groups[3][0])
	if _, err := Prune(context.Background(), part, s.Inputs, s.Targets, &Plan{Method: OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2},
		Groups: groups, Target: Target{Sparsity: 1}}); err != nil || part.NumFree() != len(m.Params)-len(groups)*len(groups[0]) {
		t.Errorf("partly pruned group: %v, %d free", err, part.NumFree())
	}
	sc, err := OBDPruner{Curvature: Terms{Curvature: hessian.GGN}}.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, q := range groups[1] {
		sum += sc.Saliency(m.Params, []int{q})
	}
	if got := sc.Saliency(m.Params, groups[1]); math.Abs(got-sum) > 1e-15*sum {
		t.Errorf("OBD group saliency %v, sum of members %v", got, sum)
	}
}

// The curvature is built from the calibration set and E measured on the
// data set: a run with Calib = the first N patterns deletes what a run on
// those N patterns deletes, while its Start is measured on all of them.
func TestPruneCalibration(t *testing.T) {
	m, s := smallNet(t)
	method := OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2, Structure: Blocks{Size: 8}}
	a, b := m.Clone(), m.Clone()
	ra, err := Prune(context.Background(), a, s.Inputs, s.Targets, &Plan{Method: method, Calib: FirstN(s.Inputs, s.Targets, 12), Target: Target{Sparsity: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Prune(context.Background(), b, s.Inputs[:12], s.Targets[:12], &Plan{Method: method, Target: Target{Sparsity: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ra.Removed, rb.Removed) || !slices.Equal(a.Params, b.Params) {
		t.Error("calibrated run differs from a run on the calibration set")
	}
	ws := m.NewWorkspace()
	if e := m.Error(ws, s.Inputs, s.Targets); ra.Start.TrainError != e || rb.Start.TrainError == e {
		t.Errorf("start E %v (calibrated), %v (on 12 patterns); E on the data set %v", ra.Start.TrainError, rb.Start.TrainError, e)
	}
	c1, c2 := Sample(s.Inputs, s.Targets, 10, 3), Sample(s.Inputs, s.Targets, 10, 3)
	if c1.Len() != 10 || !slices.EqualFunc(c1.X, c2.X, func(a, b []float64) bool { return &a[0] == &b[0] }) {
		t.Error("Sample is not reproducible")
	}
	seen := map[*float64]bool{}
	last := -1
	for _, x := range c1.X {
		i := slices.IndexFunc(s.Inputs, func(r []float64) bool { return &r[0] == &x[0] })
		if seen[&x[0]] || i <= last {
			t.Fatal("Sample repeats a pattern or leaves the data set's order")
		}
		seen[&x[0]], last = true, i
	}
	if Sample(s.Inputs, s.Targets, 0, 3).Len() != len(s.Inputs) || FirstN(s.Inputs, s.Targets, 100).Len() != len(s.Inputs) {
		t.Error("n <= 0 or beyond the set: want every pattern")
	}
}

// A cancelled context stops the run before its next step, with ErrStopped
// from the wrappers and the context's error from Prune.
func TestPruneCancel(t *testing.T) {
	m, s := smallNet(t)
	ctx, cancel := context.WithCancel(context.Background())
	steps := 0
	plan := &Plan{Method: OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}, Target: Target{Sparsity: 0.5},
		Progress: func(Step) {
			if steps++; steps == 3 {
				cancel()
			}
		}}
	net := m.Clone()
	if _, err := Prune(ctx, net, s.Inputs, s.Targets, plan); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	if steps != 3 || net.NumFree() != len(m.Params)-3 {
		t.Errorf("%d steps, %d free after cancelling at step 3", steps, net.NumFree())
	}
	n := 0
	if _, err := Run(m.Clone(), s.Inputs, s.Targets, Config{Method: OBS, Stop: func() bool { n++; return n > 2 }}); !errors.Is(err, ErrStopped) {
		t.Errorf("Run: %v", err)
	}
}

// The schedules: Every(n) and Fraction's two roundings.
func TestSchedules(t *testing.T) {
	for _, c := range []struct {
		s            Schedule
		since, built int
		want         bool
	}{
		{Every(0), 5, 10, false}, {Every(3), 2, 10, false}, {Every(3), 3, 10, true},
		{Fraction{F: 0.25}, 2, 10, true}, {Fraction{F: 0.25}, 1, 10, false},
		{Fraction{F: 0.25, Nearest: true}, 2, 10, false}, {Fraction{F: 0.25, Nearest: true}, 3, 10, true},
		{Fraction{F: 0.01}, 1, 10, true}, {Fraction{}, 100, 10, false},
	} {
		if got := c.s.Due(c.since, c.built); got != c.want {
			t.Errorf("%#v.Due(%d, %d) = %v", c.s, c.since, c.built, got)
		}
	}
}

// Plans that contradict themselves are refused.
func TestPlanErrors(t *testing.T) {
	m, s := smallNet(t)
	for _, p := range []*Plan{
		{},
		{Method: MagnitudePruner{}, Target: Target{Sparsity: 2}},
		{Method: MagnitudePruner{}, PerLayer: true, Target: Target{Keep: 3}},
		{Method: MagnitudePruner{}, Rules: Rules{MaxError: 1}},
		{Method: MagnitudePruner{}, RemoveDead: true},
		{Method: MagnitudePruner{}, Candidates: []bool{true}},
		{Method: MagnitudePruner{}, Candidates: Weights(m), Groups: [][]int{{0}}},
		{Method: MagnitudePruner{}, Groups: [][]int{{}}},
		{Method: MagnitudePruner{}, Groups: [][]int{{1, 2}, {2, 3}}},
		{Method: OBDPruner{Curvature: Terms{Curvature: hessian.EmpiricalFisher}}},
	} {
		if _, err := Prune(context.Background(), m.Clone(), s.Inputs, s.Targets, p); err == nil {
			t.Errorf("%+v: no error", p)
		}
	}
}
