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

// structTol bounds the difference between the same pruning run in two
// structures that hold the same inverse (one block and dense; blocks of one
// and the diagonal): the inverses are formed by different algorithms
// (Cholesky of the accumulated block, Woodbury or eigendecomposition), so
// they agree to rounding amplified by the condition of C + alpha I, below
// 1e4 at alpha = 1e-2 on this network.
const structTol = 1e-8

// smallNet is a 4-5-3 tanh/softmax network with seeded random weights and
// 30 random patterns (one-hot targets): 43 parameters, a curvature that is
// not diagonal and not a quadratic's.
func smallNet(t *testing.T) (*model.MLP, *datasets.Set) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{4, 5, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(21, 22))
	for q := range m.Params {
		m.Params[q] = 0.7 * rng.NormFloat64()
	}
	s := randomClasses(rng, "small", 30, 4, 3)
	return m, s
}

// sameRuns checks that two runs deleted the same parameters with the same
// predictions and ended at the same weights.
func sameRuns(t *testing.T, what string, a, b *Result, wa, wb []float64) {
	t.Helper()
	if len(a.Steps) != len(b.Steps) {
		t.Fatalf("%s: %d and %d steps", what, len(a.Steps), len(b.Steps))
	}
	for i := range a.Steps {
		sa, sb := a.Steps[i], b.Steps[i]
		if sa.Index != sb.Index {
			t.Fatalf("%s: step %d deletes %d and %d", what, i+1, sa.Index, sb.Index)
		}
		if d := math.Abs(sa.Predicted - sb.Predicted); d > structTol*math.Max(1, math.Abs(sa.Predicted)) {
			t.Errorf("%s: step %d predicted %v and %v", what, i+1, sa.Predicted, sb.Predicted)
		}
	}
	for q := range wa {
		if d := math.Abs(wa[q] - wb[q]); d > structTol*math.Max(1, math.Abs(wa[q])) {
			t.Errorf("%s: final w[%d] = %v and %v", what, q, wa[q], wb[q])
		}
	}
}

func runStructure(t *testing.T, m *model.MLP, s *datasets.Set, cfg Config) (*Result, []float64) {
	t.Helper()
	net := m.Clone()
	res, err := Run(net, s.Inputs, s.Targets, cfg)
	if err != nil {
		t.Fatalf("%v: %v", cfg.structure(), err)
	}
	return res, net.Params
}

// With one block holding every parameter, block-diagonal OBS is dense OBS:
// the same deletions, predictions and weights, for every curvature kind,
// following the downdate (no rebuild) to 70% sparsity.
func TestOneBlockEqualsDense(t *testing.T) {
	m, s := smallNet(t)
	n := len(m.Params)
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.EmpiricalFisher, hessian.MCFisher, hessian.Exact} {
		cfg := Config{Method: OBS, Curvature: kind, Alpha: 1e-2, Fix: hessian.FixAbs, Inverse: Direct, Sparsity: 0.7, CurvatureOptions: &hessian.Options{Seed: 3}}
		dres, dw := runStructure(t, m, s, cfg)
		cfg.Inverse = Blocked
		cfg.Structure = Blocks{Size: n}
		bres, bw := runStructure(t, m, s, cfg)
		sameRuns(t, "one block vs dense, "+kind.String(), dres, bres, dw, bw)
		if len(dres.Steps) != int(0.7*float64(n)) {
			t.Fatalf("%v: %d steps, want %d", kind, len(dres.Steps), int(0.7*float64(n)))
		}
	}
}

// With blocks of one parameter, OBS is the diagonal structure, and with a
// fixed curvature (no rebuild) it deletes what OBD deletes: its saliency is
// OBD's 1/2 C_qq w_q^2 with the damping added to C_qq, and its update only
// zeroes the deleted weight.
func TestBlockOneEqualsDiagonalAndOBD(t *testing.T) {
	m, s := smallNet(t)
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.Exact} {
		base := Config{Method: OBS, Curvature: kind, Alpha: tinyAlpha, Fix: hessian.FixClip, Sparsity: 0.6}
		cfg := base
		cfg.Structure = Blocks{Size: 1}
		bres, bw := runStructure(t, m, s, cfg)
		cfg.Structure = Diagonal{}
		dres, dw := runStructure(t, m, s, cfg)
		sameRuns(t, "block:1 vs diag, "+kind.String(), bres, dres, bw, dw)

		if kind == hessian.Exact {
			continue // OBD has no fix for a negative C_qq: compare GGN only
		}
		obd := Config{Method: OBD, Curvature: kind, Sparsity: 0.6}
		ores, _ := runStructure(t, m, s, obd)
		for i := range ores.Steps {
			so, sb := ores.Steps[i], bres.Steps[i]
			if so.Index != sb.Index {
				t.Fatalf("%v step %d: OBD deletes %d, OBS block:1 %d", kind, i+1, so.Index, sb.Index)
			}
			if d := math.Abs(so.Predicted - sb.Predicted); d > structTol*math.Max(1, so.Predicted) {
				t.Errorf("%v step %d: OBD predicts %v, OBS block:1 %v", kind, i+1, so.Predicted, sb.Predicted)
			}
		}
	}
}

// One block per layer of a one-layer (linear) network is dense; a 3-3-2
// network has two blocks, of its 12 and 8 parameters.
func TestLayersStructure(t *testing.T) {
	m, s := linearProblem(t, 4, 2, 30, 5)
	cfg := Config{Method: OBS, Curvature: hessian.GGN, Alpha: 1e-3, Inverse: Direct, Sparsity: 0.5}
	dres, dw := runStructure(t, m, s, cfg)
	cfg.Inverse, cfg.Structure = Blocked, Layers{}
	lres, lw := runStructure(t, m, s, cfg)
	sameRuns(t, "layer vs dense on a linear network", dres, lres, dw, lw)

	net, err := model.New(model.Spec{Sizes: []int{3, 3, 2}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	if got := layerStarts(net, net.Free()); len(got) != 3 || got[1] != 12 || got[2] != 20 {
		t.Errorf("layer starts %v, want [0 12 20]", got)
	}
}

func TestParseStructure(t *testing.T) {
	for in, want := range map[string]string{"dense": "dense", "Block:128": "block:128", "layer": "layer", " diag ": "diag"} {
		s, err := ParseStructure(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseStructure(%q) = %v, %v; want %s", in, s, err, want)
		}
	}
	for _, in := range []string{"", "block", "block:0", "block:x", "diag:3", "layers"} {
		if _, err := ParseStructure(in); err == nil {
			t.Errorf("ParseStructure(%q): no error", in)
		}
	}
}

// A block-diagonal inverse is the dense inverse of the block-diagonal part
// of C + alpha I: group steps and downdates whose parameters span several
// blocks give what the dense code gives on that matrix (formed and
// inverted independently, by gonum's Cholesky).
func TestBlocksEqualDenseOfBlockDiagonalPart(t *testing.T) {
	m, s := smallNet(t)
	const alpha = 1e-2
	curv, err := hessian.New(hessian.GGN, m, s.Inputs, s.Targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	free := curv.Free()
	nf, B := len(free), 10
	var c mat.SymDense
	curv.Dense(&c)
	for i := 0; i < nf; i++ {
		for j := i; j < nf; j++ {
			v := c.At(i, j)
			if i/B != j/B {
				v = 0
			}
			if i == j {
				v += alpha
			}
			c.SetSym(i, j, v)
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(&c) {
		t.Fatal("block-diagonal part not definite")
	}
	inv := mat.NewSymDense(nf, nil)
	if err := chol.InverseTo(inv); err != nil {
		t.Fatal(err)
	}
	dense := NewDenseInverse(inv, free, len(m.Params))
	blocks, _, err := Blocks{Size: B}.Inverse(m, curv, &Config{Alpha: alpha})
	if err != nil {
		t.Fatal(err)
	}
	w := append([]float64(nil), m.Params...)
	for _, Q := range [][]int{{free[3], free[14], free[25]}, {free[0]}, {free[11], free[12], free[40]}} {
		ud, err := OBSStep(dense, w, Q)
		if err != nil {
			t.Fatal(err)
		}
		ub, err := OBSStep(blocks, w, Q)
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(ud.Predicted - ub.Predicted); d > structTol*math.Max(1, ud.Predicted) {
			t.Errorf("Q %v: predicted %v dense, %v blocks", Q, ud.Predicted, ub.Predicted)
		}
		dw, bw := make([]float64, len(w)), make([]float64, len(w))
		ud.Apply(dw)
		ub.Apply(bw)
		for q := range dw {
			if d := math.Abs(dw[q] - bw[q]); d > structTol*math.Max(1, math.Abs(dw[q])) {
				t.Errorf("Q %v: dw[%d] %v dense, %v blocks", Q, q, dw[q], bw[q])
			}
		}
		ud.Apply(w)
		for _, q := range Q {
			w[q] = 0
		}
		if err := dense.Downdate(Q); err != nil {
			t.Fatal(err)
		}
		if err := blocks.Downdate(Q); err != nil {
			t.Fatal(err)
		}
		for _, q := range free {
			if dense.pos[q] < 0 {
				continue
			}
			if d := math.Abs(dense.Diag(q) - blocks.Diag(q)); d > structTol*dense.Diag(q) {
				t.Errorf("after %v: diagonal of %d: %v dense, %v blocks", Q, q, dense.Diag(q), blocks.Diag(q))
			}
		}
	}
}

// randomClasses returns P patterns of in standard normal inputs with
// one-hot targets over K classes, drawn from rng in pattern order (inputs,
// then the class).
func randomClasses(rng *rand.Rand, name string, P, in, K int) *datasets.Set {
	s := &datasets.Set{Name: name}
	for range P {
		x := make([]float64, in)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		y := make([]float64, K)
		y[rng.IntN(K)] = 1
		s.Inputs = append(s.Inputs, x)
		s.Targets = append(s.Targets, y)
	}
	return s
}
