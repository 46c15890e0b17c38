package prune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// kfacCase is a 3-4-3 tanh/softmax network with seeded N(0,1) weights,
// weight decay and 12 seeded patterns.
func kfacCase(t *testing.T, seed uint64) (*model.MLP, [][]float64, [][]float64) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{3, 4, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	for q := range m.Params {
		m.Params[q] = rng.NormFloat64()
	}
	X := make([][]float64, 12)
	T := make([][]float64, 12)
	for p := range X {
		X[p] = []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		T[p] = make([]float64, 3)
		T[p][rng.IntN(3)] = 1
	}
	return m, X, T
}

// kfacDamped returns, per layer, the π-damped block (G + sqrt(γ)/π I) ⊗
// (A + π sqrt(γ) I) formed densely from the factors (π from the traces,
// computed here), and the parameters of its rows.
func kfacDamped(kf *hessian.KFAC, alpha float64) (blocks []*mat.Dense, params [][]int) {
	gamma := alpha + kf.Decay()
	for _, L := range kf.Layers() {
		na, ng := L.Stride(), L.Outputs
		ta, tg := 0.0, 0.0
		for i := range na {
			ta += L.A.At(i, i)
		}
		for j := range ng {
			tg += L.G.At(j, j)
		}
		pi := math.Sqrt((ta / float64(na)) / (tg / float64(ng)))
		a := mat.NewDense(na, na, nil)
		a.Copy(L.A)
		for i := range na {
			a.Set(i, i, a.At(i, i)+pi*math.Sqrt(gamma))
		}
		g := mat.NewDense(ng, ng, nil)
		g.Copy(L.G)
		for j := range ng {
			g.Set(j, j, g.At(j, j)+math.Sqrt(gamma)/pi)
		}
		var k mat.Dense
		k.Kronecker(g, a)
		blocks = append(blocks, &k)
		var ps []int
		for t := range na * ng {
			ps = append(ps, L.Offset+t)
		}
		params = append(params, ps)
	}
	return blocks, params
}

// denseKFAC is the reference: the inverse of each layer's damped block
// restricted to the survivors, inv(M[S,S]) (the exact constrained
// downdates of Hassibi & Stork), as a map from parameter pairs.
func denseKFAC(t *testing.T, blocks []*mat.Dense, params [][]int, gone map[int]bool) map[[2]int]float64 {
	t.Helper()
	out := map[[2]int]float64{}
	for b, M := range blocks {
		var S []int
		for i, q := range params[b] {
			if !gone[q] {
				S = append(S, i)
			}
		}
		sub := mat.NewDense(len(S), len(S), nil)
		for x, i := range S {
			for y, j := range S {
				sub.Set(x, y, M.At(i, j))
			}
		}
		var inv mat.Dense
		if err := inv.Inverse(sub); err != nil {
			t.Fatal(err)
		}
		for x, i := range S {
			for y, j := range S {
				out[[2]int{params[b][i], params[b][j]}] = inv.At(x, y)
			}
		}
	}
	return out
}

// checkKFAC compares Diag, Block, Columns and mulColumns of inv with the
// reference ref over the survivors.
func checkKFAC(t *testing.T, what string, inv *KFACInverse, ref map[[2]int]float64, live []int, tol float64) {
	t.Helper()
	alive := map[int]bool{}
	for _, q := range live {
		alive[q] = true
	}
	at := func(a, b int) float64 { // 0 between layers and on removed rows
		if !alive[a] || !alive[b] {
			return 0
		}
		return ref[[2]int{a, b}]
	}
	for _, q := range live {
		if d := math.Abs(inv.Diag(q) - at(q, q)); d > tol*math.Abs(at(q, q)) {
			t.Fatalf("%s: Diag(%d) = %v, want %v", what, q, inv.Diag(q), at(q, q))
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(live)), 2))
	for range 5 {
		Q := []int{}
		for _, i := range rng.Perm(len(live))[:min(4, len(live))] {
			Q = append(Q, live[i])
		}
		var blk mat.SymDense
		inv.Block(&blk, Q)
		for a, qa := range Q {
			for c, qc := range Q {
				if d := math.Abs(blk.At(a, c) - at(qa, qc)); d > tol {
					t.Fatalf("%s: Block(%v)[%d,%d] = %v, want %v", what, Q, a, c, blk.At(a, c), at(qa, qc))
				}
			}
		}
		rows, cols := inv.Columns(Q)
		y := make([]float64, len(Q))
		for a := range y {
			y[a] = rng.NormFloat64()
		}
		mrows, prod := inv.mulColumns(Q, y)
		if !slices.Equal(rows, mrows) {
			t.Fatalf("%s: Columns rows %v, mulColumns rows %v", what, rows, mrows)
		}
		for r, p := range rows {
			want := 0.0
			for a, q := range Q {
				if d := math.Abs(cols.At(r, a) - at(p, q)); d > tol {
					t.Fatalf("%s: Columns(%v) row %d col %d = %v, want %v", what, Q, p, q, cols.At(r, a), at(p, q))
				}
				want += at(p, q) * y[a]
			}
			if d := math.Abs(prod[r] - want); d > tol*4 {
				t.Fatalf("%s: mulColumns row %d = %v, want %v", what, p, prod[r], want)
			}
		}
	}
}

// The K-FAC inverse's Diag, Block, Columns and mulColumns equal the dense
// inverse of the π-damped Kronecker blocks; with exact downdates (kfac:E,
// E beyond the deletions), after single and group deletions, they equal
// the inverse of the damped blocks restricted to the survivors.
func TestKFACInverseMatchesDense(t *testing.T) {
	m, X, T := kfacCase(t, 1)
	const alpha = 1e-2
	kf, err := hessian.NewKFAC(context.Background(), hessian.GGN, m, X, T, nil)
	if err != nil {
		t.Fatal(err)
	}
	blocks, params := kfacDamped(kf, alpha)
	ic, _, err := KFAC{Exact: 100}.Inverse(m, kf, &Config{Alpha: alpha})
	if err != nil {
		t.Fatal(err)
	}
	inv := ic.(*KFACInverse)
	gone := map[int]bool{}
	live := func() []int {
		var l []int
		for q := range m.Params {
			if !gone[q] {
				l = append(l, q)
			}
		}
		return l
	}
	const tol = 1e-9
	checkKFAC(t, "built", inv, denseKFAC(t, blocks, params, gone), live(), tol)
	for i, Q := range [][]int{{5}, {17}, {0, 9, 2}, {20, 30, 22}, {6}} {
		if err := inv.Downdate(Q); err != nil {
			t.Fatal(err)
		}
		for _, q := range Q {
			gone[q] = true
		}
		checkKFAC(t, fmt.Sprintf("after downdate %d %v", i, Q), inv, denseKFAC(t, blocks, params, gone), live(), tol)
	}
}

// With kfac:1 a layer's first deletion is the exact downdate and later
// ones drop their row and column: the surviving entries are those after
// the first deletion; with kfac (Exact 0) they are those of the build.
func TestKFACDowndateDrops(t *testing.T) {
	m, X, T := kfacCase(t, 2)
	const alpha = 1e-2
	kf, err := hessian.NewKFAC(context.Background(), hessian.GGN, m, X, T, nil)
	if err != nil {
		t.Fatal(err)
	}
	blocks, params := kfacDamped(kf, alpha)
	for _, exact := range []int{0, 1} {
		ic, _, _ := KFAC{Exact: exact}.Inverse(m, kf, &Config{Alpha: alpha})
		inv := ic.(*KFACInverse)
		gone := map[int]bool{}
		first := map[int]bool{}
		for _, q := range []int{3, 7, 11} { // all in layer 1
			if err := inv.Downdate([]int{q}); err != nil {
				t.Fatal(err)
			}
			gone[q] = true
			if len(first) < exact {
				first[q] = true
			}
		}
		ref := denseKFAC(t, blocks, params, first)
		var live []int
		for q := range m.Params {
			if !gone[q] {
				live = append(live, q)
			}
		}
		checkKFAC(t, fmt.Sprintf("kfac:%d", exact), inv, ref, live, 1e-9)
		_, cols := inv.Columns([]int{0})
		rows, _ := inv.Columns([]int{0})
		for r, p := range rows {
			if gone[p] && cols.At(r, 0) != 0 {
				t.Fatalf("kfac:%d: removed row %d has %v", exact, p, cols.At(r, 0))
			}
		}
	}
}

// kronDense is a test structure: the dense inverse of the π-damped K-FAC
// blocks (formed n x n, zero between layers), so that a run with it
// follows the exact constrained downdates.
type kronDense struct{}

func (kronDense) String() string { return "kron-dense" }
func (kronDense) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	kf := curv.(*hessian.KFAC)
	blocks, params := kfacDamped(kf, cfg.alpha())
	free := kf.Free()
	pos := map[int]int{}
	for r, q := range free {
		pos[q] = r
	}
	M := mat.NewSymDense(len(free), nil)
	for b, B := range blocks {
		for i, qi := range params[b] {
			for j, qj := range params[b] {
				ri, oki := pos[qi]
				rj, okj := pos[qj]
				if oki && okj && ri <= rj {
					M.SetSym(ri, rj, B.At(i, j))
				}
			}
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(M) {
		return nil, nil, hessian.ErrNotPositiveDefinite
	}
	inv := mat.NewSymDense(len(free), nil)
	if err := ch.InverseTo(inv); err != nil {
		return nil, nil, err
	}
	return NewDenseInverse(inv, free, len(net.Params)), nil, nil
}

// A run of Prune with OBS on the kfac:E structure (E beyond the
// deletions) deletes the same parameters, with the same weights to
// rounding, as one on the dense inverse of the same damped Kronecker
// blocks: one parameter per step, and groups of 3 (mulColumns and the
// group formula).
func TestKFACPruneMatchesDenseKronecker(t *testing.T) {
	for _, group := range []int{1, 3} {
		var nets []*model.MLP
		var removed [][]int
		for _, st := range []Structure{KFAC{Exact: 1000}, kronDense{}} {
			m, X, T := kfacCase(t, 3)
			p := &Plan{Method: OBSPruner{Curvature: KFACFactors{Curvature: hessian.GGN}, Structure: st, Alpha: 1e-2},
				Target: Target{Sparsity: 0.6}, Group: group}
			res, err := Prune(context.Background(), m, X, T, p)
			if err != nil {
				t.Fatal(err)
			}
			nets = append(nets, m)
			removed = append(removed, res.Removed)
		}
		if !slices.Equal(removed[0], removed[1]) {
			t.Fatalf("group %d: kfac removed %v, the dense Kronecker inverse %v", group, removed[0], removed[1])
		}
		for q := range nets[0].Params {
			if d := math.Abs(nets[0].Params[q] - nets[1].Params[q]); d > 1e-9 {
				t.Fatalf("group %d: parameter %d: %v vs %v", group, q, nets[0].Params[q], nets[1].Params[q])
			}
			if nets[0].Pruned[q] && nets[0].Params[q] != 0 {
				t.Fatalf("group %d: pruned parameter %d is %v", group, q, nets[0].Params[q])
			}
		}
		if len(removed[0]) != int(math.Floor(0.6*float64(len(nets[0].Params)))) {
			t.Fatalf("group %d: removed %d", group, len(removed[0]))
		}
	}
}

// The plain kfac (dropping from the first deletion) runs through Prune
// and OneShot, with the ggn and mcfisher kinds, and its first step is
// the OBS step of the Kronecker inverse: the predicted increase of the
// first deletion is w_q^2 / (2 [G^-1]_jj [A^-1]_ii) for the smallest.
func TestKFACPrune(t *testing.T) {
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.MCFisher} {
		m, X, T := kfacCase(t, 4)
		kf, err := hessian.NewKFAC(context.Background(), kind, m, X, T, &hessian.Options{Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		blocks, params := kfacDamped(kf, 1e-2)
		ref := denseKFAC(t, blocks, params, nil)
		best := math.Inf(1)
		for q := range m.Params {
			best = math.Min(best, m.Params[q]*m.Params[q]/(2*ref[[2]int{q, q}]))
		}
		res, err := OneShot(m, X, T, Config{Method: OBS, Curvature: kind, CurvatureOptions: &hessian.Options{Seed: 3}, Structure: KFAC{}, Alpha: 1e-2, Sparsity: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if res.Method != "obs-"+kind.String()+"-kfac" || m.NumFree() != len(m.Params)-len(m.Params)/2 {
			t.Fatalf("%v: %s left %d", kind, res.Method, m.NumFree())
		}
		m2, X, T := kfacCase(t, 4)
		r1, err := Run(m2, X, T, Config{Method: OBS, Curvature: kind, CurvatureOptions: &hessian.Options{Seed: 3}, Structure: KFAC{}, Alpha: 1e-2, Keep: len(m2.Params) - 1})
		if err != nil {
			t.Fatal(err)
		}
		if s := r1.Steps[0]; math.Abs(s.Predicted-best) > 1e-12*best {
			t.Fatalf("%v: first step predicted %v, want the smallest w^2/(2[C^-1]_qq) %v", kind, s.Predicted, best)
		}
	}
	for _, kind := range []hessian.Kind{hessian.EmpiricalFisher, hessian.Exact} {
		m, X, T := kfacCase(t, 4)
		if _, err := OneShot(m, X, T, Config{Method: OBS, Curvature: kind, Structure: KFAC{}, Sparsity: 0.5}); err == nil {
			t.Errorf("kfac with %v ran", kind)
		}
	}
}

func TestParseKFAC(t *testing.T) {
	for s, want := range map[string]Structure{"kfac": KFAC{}, "KFAC:16": KFAC{Exact: 16}, "kfac:0": KFAC{}} {
		got, err := ParseStructure(s)
		if err != nil || got != want {
			t.Errorf("ParseStructure(%q) = %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"kfac:-1", "kfac:x", "kfac:1.5"} {
		if _, err := ParseStructure(s); err == nil {
			t.Errorf("ParseStructure(%q) succeeded", s)
		}
	}
	if s := (KFAC{Exact: 16}).String(); s != "kfac:16" {
		t.Error(s)
	}
}

// On a CNN's conv filters (a conv layer's row of Channels*Kernel^2
// weights and its bias) K-FAC's group saliency and update are the
// minimum and the minimiser of the quadratic model with the filter held
// at -w_G (checkGroupQP's KKT system, solved densely), the model's
// matrix the π-damped Kronecker blocks formed from the factors
// (kfacDamped; 0 between layers), for the GGN and the MC Fisher, for
// every filter of both conv layers, one with several output positions.
func TestKFACFilterGroupIsConstrainedQPMinimum(t *testing.T) {
	m, s := filterNet(t, "conv:2:3,sigmoid,conv:3:2,relu,flatten,linear:3")
	const alpha = 1e-2
	groups, units := FilterGroups(m)
	layerOf := func(q int) int { l, _, _ := m.Locate(q); return l }
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.MCFisher} {
		opts := &hessian.Options{Samples: 2, Seed: 4}
		kf, err := hessian.NewKFAC(context.Background(), kind, m, s.Inputs, s.Targets, opts)
		if err != nil {
			t.Fatal(err)
		}
		if kf.Layers()[0].Positions != 16 || kf.Layers()[1].Positions != 9 {
			t.Fatalf("positions %d, %d; want 4x4 and 3x3", kf.Layers()[0].Positions, kf.Layers()[1].Positions)
		}
		blocks, params := kfacDamped(kf, alpha)
		n := len(m.Params)
		c := mat.NewSymDense(n, nil)
		for b, B := range blocks {
			for i, qi := range params[b] {
				for j, qj := range params[b] {
					if qi <= qj {
						c.SetSym(qi, qj, B.At(i, j))
					}
				}
			}
		}
		sc, err := OBSPruner{Curvature: KFACFactors{Curvature: kind, Options: opts}, Alpha: alpha, Structure: KFAC{}}.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
		if err != nil {
			t.Fatal(err)
		}
		// The damping is in the blocks already: alpha 0 in the KKT system.
		for u, G := range groups {
			checkGroupQP(t, m, c, 0, layerOf, sc, G, fmt.Sprintf("%v kfac, filter %v", kind, units[u]))
		}
	}
}
