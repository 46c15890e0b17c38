package prune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// A unit's OBS saliency and update are the minimum and the minimiser of
// the quadratic model 1/2 d^T A d subject to d_G = -w_G, with A the damped
// curvature restricted to the structure's blocks, found independently by
// solving the KKT system [A E_G; E_G^T 0][d; lambda] = [0; -w_G] densely
// (LU): for incoming and outgoing unit groups, with the dense, block and
// per-layer inverses.
func TestUnitGroupIsConstrainedQPMinimum(t *testing.T) {
	m, s := smallNet(t)
	const alpha = 1e-2
	curv, err := hessian.New(hessian.GGN, m, s.Inputs, s.Targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c mat.SymDense
	curv.Dense(&c)
	layerOf := func(q int) int { l, _, _ := m.Locate(q); return l }
	structures := []struct {
		st    Structure
		block func(q int) int
	}{
		{Dense{}, func(int) int { return 0 }},
		{Blocks{Size: 7}, func(q int) int { return q / 7 }},
		{Layers{}, layerOf},
	}
	for _, tc := range structures {
		sc, err := OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: alpha, Structure: tc.st}.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
		if err != nil {
			t.Fatal(err)
		}
		for _, outgoing := range []bool{false, true} {
			groups, units := UnitGroups(m, outgoing)
			if len(groups) != m.Sizes[1] {
				t.Fatalf("%d unit groups, want %d", len(groups), m.Sizes[1])
			}
			for u, G := range groups {
				checkGroupQP(t, m, &c, alpha, tc.block, sc, G, fmt.Sprintf("%v, unit %v (outgoing %v)", tc.st, units[u], outgoing))
			}
		}
	}
}

// checkGroupQP checks that the scorer's saliency and update of group G
// are the minimum and the minimiser of 1/2 d^T A d subject to d_G = -w_G,
// A the curvature c plus alpha I restricted to the blocks block(q), found
// by solving the KKT system [A E_G; E_G^T 0][d; lambda] = [0; -w_G]
// densely (LU), to 1e-9.
func checkGroupQP(t *testing.T, m *model.MLP, c *mat.SymDense, alpha float64, block func(q int) int, sc Scorer, G []int, what string) {
	t.Helper()
	n := c.SymmetricDim()
	k := len(G)
	kkt := mat.NewDense(n+k, n+k, nil)
	for i := range n {
		for j := range n {
			if block(i) == block(j) {
				v := c.At(i, j)
				if i == j {
					v += alpha
				}
				kkt.Set(i, j, v)
			}
		}
	}
	rhs := mat.NewVecDense(n+k, nil)
	for a, q := range G {
		kkt.Set(q, n+a, 1)
		kkt.Set(n+a, q, 1)
		rhs.SetVec(n+a, -m.Params[q])
	}
	var sol mat.VecDense
	if err := sol.SolveVec(kkt, rhs); err != nil {
		t.Fatal(err)
	}
	d := sol.SliceVec(0, n)
	var ad mat.VecDense
	ad.MulVec(kkt.Slice(0, n, 0, n), d)
	want := 0.5 * mat.Dot(d, &ad)
	got := sc.Saliency(m.Params, G)
	if math.Abs(got-want) > 1e-9*want {
		t.Errorf("%s: saliency %v, constrained minimum %v", what, got, want)
	}
	up, err := sc.Step(m.Params, G)
	if err != nil {
		t.Fatal(err)
	}
	delta := make([]float64, n)
	for i, q := range up.Rows {
		delta[q] = up.Delta[i]
	}
	scale := mat.Norm(d, math.Inf(1))
	for q := range n {
		if math.Abs(delta[q]-d.AtVec(q)) > 1e-9*scale {
			t.Errorf("%s: update of %s is %v, constrained minimiser %v", what, m.Name(q), delta[q], d.AtVec(q))
			break
		}
	}
	if math.Abs(up.Predicted-got) > 1e-12*got {
		t.Errorf("%s: step predicts %v, saliency %v", what, up.Predicted, got)
	}
}

// deepNet is a 6-8-6-3 network with sigmoid hidden units (whose removed
// units output the constant 0.5 that compaction folds into the biases)
// and random weights, with 40 random patterns.
func deepNet(t *testing.T, in int) (*model.MLP, *datasets.Set) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{in, 8, 6, 3}, Hidden: model.Sigmoid, Output: model.Softmax, Loss: model.CrossEntropy, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for q := range m.Params {
		m.Params[q] = 0.8 * rng.NormFloat64()
	}
	s := randomClasses(rng, "deep", 40, in, 3)
	return m, s
}

// Unit pruning removes whole units, counting units for the target (per
// layer or globally); compacting the pruned network gives the masked
// network's outputs to 1e-12 with the expected smaller shape.
func TestUnitPruningCompacts(t *testing.T) {
	m, s := deepNet(t, 6)
	methods := []Pruner{MagnitudePruner{}, MagnitudePruner{L1: true}, OBDPruner{Curvature: Terms{Curvature: hessian.GGN}},
		OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}, OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2, Structure: Layers{}}}
	for _, method := range methods {
		for _, outgoing := range []bool{false, true} {
			for _, perLayer := range []bool{false, true} {
				net := m.Clone()
				plan := &Plan{Method: method, Granularity: Granularity{Kind: ByUnit, Outgoing: outgoing}, PerLayer: perLayer, Target: Target{Sparsity: 0.5}}
				if _, err := Prune(context.Background(), net, s.Inputs, s.Targets, plan); err != nil {
					t.Fatal(err)
				}
				groups, _ := UnitGroups(m, outgoing)
				gone := map[int]int{}
				for _, g := range groups {
					n := 0
					for _, q := range g {
						if net.Pruned[q] {
							n++
						}
					}
					if n != 0 && n != len(g) {
						t.Fatalf("%v: group %v partly pruned", method, g)
					}
					if n == len(g) {
						l, _, _ := m.Locate(g[0])
						if outgoing {
							l--
						}
						gone[l]++
					}
				}
				if gone[1]+gone[2] != 7 || (perLayer && (gone[1] != 4 || gone[2] != 3)) {
					t.Errorf("%v outgoing %v per-layer %v: units removed per layer %v, want 7 (4 and 3 per layer)", method, outgoing, perLayer, gone)
				}
				small, kept := Compact(net)
				want := []int{6, 8 - gone[1], 6 - gone[2], 3}
				if !slices.Equal(small.Sizes, want) || len(kept[0]) != want[1] || len(kept[1]) != want[2] {
					t.Fatalf("%v: compacted to %v (kept %v), want %v", method, small.Sizes, kept, want)
				}
				if err := small.Check(); err != nil {
					t.Fatal(err)
				}
				ws, cws := net.NewWorkspace(), small.NewWorkspace()
				for _, x := range s.Inputs {
					a := net.Forward(ws, x)
					b := small.Forward(cws, x)
					for k := range a {
						if math.Abs(a[k]-b[k]) > 1e-12 {
							t.Fatalf("%v outgoing %v: output %d of the compacted net %v, masked %v", method, outgoing, k, b[k], a[k])
						}
					}
				}
			}
		}
	}
}

// Compact removes a unit by hand exactly: prune one unit's incoming
// weights and bias (a constant output folded into the next biases) and
// another's outgoing weights.
func TestCompactByHand(t *testing.T) {
	m, s := deepNet(t, 6)
	in, _ := UnitGroups(m, false)
	out, _ := UnitGroups(m, true)
	for _, q := range in[2] {
		m.Prune(q)
	}
	for _, q := range out[9] { // unit 1 of layer 2
		m.Prune(q)
	}
	small, kept := Compact(m)
	if !slices.Equal(small.Sizes, []int{6, 7, 5, 3}) || !slices.Equal(kept[0], []int{0, 1, 3, 4, 5, 6, 7}) || !slices.Equal(kept[1], []int{0, 2, 3, 4, 5}) {
		t.Fatalf("compacted to %v, kept %v", small.Sizes, kept)
	}
	ws, cws := m.NewWorkspace(), small.NewWorkspace()
	for _, x := range s.Inputs {
		a, b := m.Forward(ws, x), small.Forward(cws, x)
		for k := range a {
			if math.Abs(a[k]-b[k]) > 1e-12 {
				t.Fatalf("output %d: compacted %v, masked %v", k, b[k], a[k])
			}
		}
	}
	if d, nz := MultiplyAdds(small); d != 6*7+7*5+5*3 || nz != d {
		t.Errorf("multiply-adds %d dense, %d nonzero; want %d", d, nz, 6*7+7*5+5*3)
	}
}

// After N:M pruning every block of M consecutive input weights has at
// least N zeros (exactly N where it had fewer before), for every method;
// magnitude's blocks lose their N smallest weights, as a sort finds.
func TestNMPattern(t *testing.T) {
	m, s := deepNet(t, 8)
	m.Prune(m.Index(1, 0, 0))
	m.Prune(m.Index(1, 0, 1))
	m.Prune(m.Index(1, 0, 2)) // a block with 3 zeros already
	methods := []Pruner{MagnitudePruner{}, OBDPruner{Curvature: Terms{Curvature: hessian.GGN}},
		OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}, OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2, Structure: Blocks{Size: 16}}}
	for _, g := range []Granularity{{Kind: ByNM, N: 2, M: 4}, {Kind: ByNM, N: 1, M: 3}} {
		for _, method := range methods {
			net := m.Clone()
			if _, err := Prune(context.Background(), net, s.Inputs, s.Targets, &Plan{Method: method, Granularity: g}); err != nil {
				t.Fatalf("%v %v: %v", g, method, err)
			}
			for _, blk := range NMBlocks(net, g.M) {
				before, after := 0, 0
				for _, q := range blk {
					if m.Pruned[q] {
						before++
					}
					if net.Pruned[q] {
						after++
					}
				}
				if after < g.N || after != max(before, g.N) {
					t.Errorf("%v %v: block %v has %d zeros (%d before)", g, method, blk, after, before)
				}
			}
			// Biases and the rows' tails are never candidates.
			for q := range net.Params {
				l, _, from := net.Locate(q)
				if from >= net.Sizes[l-1]/g.M*g.M && net.Pruned[q] && !m.Pruned[q] {
					t.Errorf("%v %v: %s is outside every block but pruned", g, method, net.Name(q))
				}
			}
			if _, ok := method.(MagnitudePruner); ok {
				for _, blk := range NMBlocks(net, g.M) {
					order := slices.Clone(blk)
					sort.SliceStable(order, func(a, b int) bool {
						pa, pb := m.Pruned[order[a]], m.Pruned[order[b]]
						if pa != pb {
							return pa
						}
						return math.Abs(m.Params[order[a]]) < math.Abs(m.Params[order[b]])
					})
					for i, q := range order {
						if net.Pruned[q] != (i < g.N || m.Pruned[q]) {
							t.Errorf("%v magnitude: block %v pruned %v, a sort gives %v", g, blk, net.Pruned[q], order)
						}
					}
				}
			}
		}
	}
	if _, err := Prune(context.Background(), m.Clone(), s.Inputs, s.Targets, &Plan{Method: MagnitudePruner{}, Granularity: Granularity{Kind: ByNM, N: 2, M: 4}, Target: Target{Sparsity: 0.5}}); err == nil {
		t.Error("N:M with a sparsity target: no error")
	}
}

func TestParseGranularity(t *testing.T) {
	for s, want := range map[string]Granularity{"weight": {}, "unit": {Kind: ByUnit}, "unit:outgoing": {Kind: ByUnit, Outgoing: true}, "2:4": {Kind: ByNM, N: 2, M: 4}, "4:8": {Kind: ByNM, N: 4, M: 8}} {
		g, err := ParseGranularity(s)
		if err != nil || g != want {
			t.Errorf("ParseGranularity(%q) = %v, %v; want %v", s, g, err, want)
		}
		if g.String() != s {
			t.Errorf("%v.String() = %q, want %q", g, g.String(), s)
		}
	}
	for _, s := range []string{"", "units", "4:4", "0:4", "5:4", "a:b", "2:4:8"} {
		if _, err := ParseGranularity(s); err == nil {
			t.Errorf("ParseGranularity(%q): no error", s)
		}
	}
}

// Unit pruning step by step with a rebuild schedule: the schedule counts
// parameters, so with Fraction{0.2} of the 131 parameters (due after 27)
// the 6 removals of layer-1 units of 7 parameters and layer-2 units of 9
// rebuild once on the way (counting units against parameters, it never
// rebuilt). With RemoveDead every removal leaves
// a dead unit, folded and removed; the result is whole units and compacts
// to the same outputs.
func TestUnitPruningMeasured(t *testing.T) {
	m, s := deepNet(t, 6)
	for _, dead := range []bool{false, true} {
		net := m.Clone()
		builds := 0
		plan := &Plan{Method: OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}, Granularity: Granularity{Kind: ByUnit},
			Target: Target{Keep: 8}, Measure: true, RemoveDead: dead, Rebuild: Fraction{F: 0.2}, Rebuilt: func(int, time.Duration) { builds++ }}
		res, err := Prune(context.Background(), net, s.Inputs, s.Targets, plan)
		if err != nil {
			t.Fatal(err)
		}
		units := 0
		for _, st := range res.Steps {
			if st.Method != "dead-unit" {
				units++
			}
		}
		if units != 6 || (!dead && builds != 2) {
			t.Errorf("remove dead %v: %d unit steps, %d builds; want 6 steps and 2 builds", dead, units, builds)
		}
		small, _ := Compact(net)
		if hiddenLeft := small.Sizes[1] + small.Sizes[2]; hiddenLeft != 8 {
			t.Errorf("compacted to %v, want 8 hidden units", small.Sizes)
		}
		ws, cws := net.NewWorkspace(), small.NewWorkspace()
		for _, x := range s.Inputs {
			a, b := net.Forward(ws, x), small.Forward(cws, x)
			for k := range a {
				if math.Abs(a[k]-b[k]) > 1e-12 {
					t.Fatalf("output %d: compacted %v, masked %v", k, b[k], a[k])
				}
			}
		}
	}
}

// Granularity.Groups gives the unit or filter groups a run removes (and
// nil where the granularity has none), and GroupsLeft counts those with a
// survivor: a unit is gone only when all its parameters are, counted here
// against units pruned by hand.
func TestGroupsAndGroupsLeft(t *testing.T) {
	m, _ := smallNet(t) // 4-5-3: 5 hidden units
	for _, g := range []Granularity{{}, {Kind: ByNM, N: 2, M: 4}, {Kind: ByFilter}} {
		if got := g.Groups(m); got != nil {
			t.Errorf("%v on an MLP: %d groups, want none", g, len(got))
		}
	}
	for _, out := range []bool{false, true} {
		g := Granularity{Kind: ByUnit, Outgoing: out}
		groups := g.Groups(m)
		want, _ := UnitGroups(m, out)
		if !slices.EqualFunc(groups, want, slices.Equal[[]int]) {
			t.Fatalf("%v: groups %v, want UnitGroups' %v", g, groups, want)
		}
		net := m.Clone()
		if n := GroupsLeft(net, groups); n != 5 {
			t.Fatalf("%v: %d units left before pruning, want 5", g, n)
		}
		for _, q := range groups[1] { // unit 1 entirely
			net.Pruned[q] = true
		}
		for _, q := range groups[3][1:] { // unit 3 but one parameter
			net.Pruned[q] = true
		}
		if n := GroupsLeft(net, groups); n != 4 {
			t.Errorf("%v: %d units left, want 4 (unit 1 removed, unit 3 keeps one parameter)", g, n)
		}
	}
	ls, err := model.ParseLayers("conv:3:3,relu,flatten,linear:4")
	if err != nil {
		t.Fatal(err)
	}
	cnn, err := model.New(model.Spec{Input: []int{1, 6, 6}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := FilterGroups(cnn)
	if got := (Granularity{Kind: ByFilter}).Groups(cnn); len(want) != 3 || !slices.EqualFunc(got, want, slices.Equal[[]int]) {
		t.Errorf("filters: %v, want FilterGroups' 3 %v", got, want)
	}
	if got := (Granularity{Kind: ByUnit}).Groups(cnn); got != nil {
		t.Errorf("units of a layered network: %d groups, want none", len(got))
	}
}
