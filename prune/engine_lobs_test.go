package prune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// referenceApply is LayerPaths.Apply as it was written before it ran on
// Prune: every step of every row in one sort by (running-maximum increase,
// layer, row, place), the first round(s n) taken per pool.
func referenceApply(lp *LayerPaths, sparsity float64, alloc Allocation) (*model.MLP, LayerwiseResult, error) {
	m := lp.m
	if !(sparsity >= 0 && sparsity <= 1) {
		return nil, LayerwiseResult{}, fmt.Errorf("prune: sparsity %v must be in [0, 1]", sparsity)
	}
	L := m.NumLayers()
	// A step (layer, row, index in the path) and its sort key.
	type step struct {
		l, j, k int
		key     float64
	}
	counts := make([][]int, L)
	for l := range L {
		counts[l] = make([]int, m.Sizes[l+1])
	}
	var pools [][]step
	if alloc == Global {
		pools = make([][]step, 1)
	} else {
		pools = make([][]step, L)
	}
	targets := make([]int, len(pools))
	for l := 1; l <= L; l++ {
		pi := 0
		if alloc != Global {
			pi = l - 1
		}
		nw := m.Sizes[l] * m.Sizes[l-1]
		targets[pi] += nw
		scale := 1.0
		if alloc == Global && lp.energy[l-1] > 0 {
			scale = 1 / lp.energy[l-1]
		}
		for j, del := range lp.delta[l-1] {
			run := math.Inf(-1)
			for k, v := range del {
				run = math.Max(run, v)
				pools[pi] = append(pools[pi], step{l, j, k, run * scale})
			}
		}
	}
	for pi, pool := range pools {
		want := int(math.Round(sparsity * float64(targets[pi])))
		// Fixed (already pruned) steps have key 0 and come first;
		// ties are broken by position so that each row's choice is a
		// prefix of its path.
		sort.SliceStable(pool, func(a, b int) bool {
			if pool[a].key != pool[b].key {
				return pool[a].key < pool[b].key
			}
			if pool[a].l != pool[b].l || pool[a].j != pool[b].j {
				return pool[a].l < pool[b].l || (pool[a].l == pool[b].l && pool[a].j < pool[b].j)
			}
			return pool[a].k < pool[b].k
		})
		for _, s := range pool[:min(want, len(pool))] {
			counts[s.l-1][s.j]++
		}
	}
	for l := range L {
		for j, f := range lp.fixed[l] {
			counts[l][j] = max(counts[l][j], f)
		}
	}
	out := m.Clone()
	res := LayerwiseResult{LayerSparsity: make([]float64, L), LayerError: make([]float64, L), LayerEnergy: slices.Clone(lp.energy), Damp: lp.damp}
	total, pruned := 0, 0
	for l := 1; l <= L; l++ {
		din := m.Sizes[l-1]
		gone := 0
		for j := range m.Sizes[l] {
			k := counts[l-1][j]
			for _, v := range lp.delta[l-1][j][:k] {
				res.LayerError[l-1] += v
			}
			if err := lp.solveRow(out, l, j, lp.order[l-1][j][:k]); err != nil {
				return nil, res, err
			}
			gone += k
		}
		res.LayerSparsity[l-1] = float64(gone) / float64(din*m.Sizes[l])
		total += din * m.Sizes[l]
		pruned += gone
	}
	res.Sparsity = float64(pruned) / float64(total)
	return out, res, nil
}

// lobsNet is a 6-5-4-3 network with some weights pruned before, and 50
// calibration inputs.
func lobsNet(t *testing.T) (*model.MLP, [][]float64) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{6, 5, 4, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(4, 4)))
	for _, q := range []int{0, 9, 40, 41} {
		if l, _, from := m.Locate(q); from != m.Sizes[l-1] {
			m.Prune(q)
		}
	}
	_, X := linearLayer(t, 6, 1, 50, 5)
	return m, X
}

// Apply (on Prune) and Prune with LayerOBSPruner through checkpoints give,
// bit for bit, the weights and masks of the sort they replace, for both
// allocations, and Apply's per-layer figures follow.
func TestLayerOBSPrunerEqualsReference(t *testing.T) {
	m, X := lobsNet(t)
	lp, err := NewLayerPaths(m, X, nil)
	if err != nil {
		t.Fatal(err)
	}
	targets := []float64{0.2, 0.5, 0.7, 0.9, 1}
	for _, alloc := range []Allocation{PerLayer, Global} {
		var want []*model.MLP
		for _, s := range append([]float64{0}, targets...) {
			ref, rres, err := referenceApply(lp, s, alloc)
			if err != nil {
				t.Fatal(err)
			}
			got, res, err := lp.Apply(s, alloc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Params, ref.Params) || !slices.Equal(got.Pruned, ref.Pruned) {
				t.Errorf("%v %v: Apply differs from the reference", alloc, s)
			}
			if res.Sparsity != rres.Sparsity || !slices.Equal(res.LayerSparsity, rres.LayerSparsity) || !slices.Equal(res.LayerError, rres.LayerError) {
				t.Errorf("%v %v: result %+v, reference %+v", alloc, s, res, rres)
			}
			if s > 0 {
				want = append(want, ref)
			}
		}
		// One run through the targets as checkpoints.
		net := m.Clone()
		T := make([][]float64, len(X))
		for p := range T {
			T[p] = make([]float64, 3)
		}
		plan := &Plan{Method: LayerOBSPruner{Relative: alloc == Global}, Candidates: Weights(net), PerLayer: alloc == PerLayer,
			RankOnce: true, Round: Nearest, Target: Target{Sparsity: 1}}
		for _, s := range targets {
			plan.Checkpoints = append(plan.Checkpoints, Target{Sparsity: s})
		}
		plan.Checkpoint = func(i int) error {
			if !slices.Equal(net.Params, want[i].Params) || !slices.Equal(net.Pruned, want[i].Pruned) {
				t.Errorf("%v: checkpoint %v differs from the reference", alloc, targets[i])
			}
			return nil
		}
		if _, err := Prune(context.Background(), net, X, T, plan); err != nil {
			t.Fatal(err)
		}
	}
}

// With paths made of small integer increases (ties within and across rows
// everywhere), the engine breaks ties as the reference's sort does: by
// layer, row and place.
func TestLayerOBSPrunerTies(t *testing.T) {
	m, X := lobsNet(t)
	m.Pruned = make([]bool, len(m.Params))
	rng := rand.New(rand.NewPCG(7, 7))
	L := m.NumLayers()
	lp := &LayerPaths{m: m.Clone(), x: X, hess: make([]*mat.SymDense, L), energy: make([]float64, L),
		order: make([][][]int, L), delta: make([][][]float64, L), fixed: make([][]int, L)}
	for l := 1; l <= L; l++ {
		d := m.Sizes[l-1] + 1
		h := mat.NewSymDense(d, nil)
		for i := range d {
			h.SetSym(i, i, 1)
		}
		lp.hess[l-1], lp.energy[l-1] = h, float64(l)
		lp.order[l-1], lp.delta[l-1], lp.fixed[l-1] = make([][]int, m.Sizes[l]), make([][]float64, m.Sizes[l]), make([]int, m.Sizes[l])
		for j := range m.Sizes[l] {
			lp.order[l-1][j] = rng.Perm(d - 1)
			for range d - 1 {
				lp.delta[l-1][j] = append(lp.delta[l-1][j], float64(rng.IntN(3)))
			}
		}
	}
	for _, alloc := range []Allocation{PerLayer, Global} {
		for s := 0.05; s < 1; s += 0.05 {
			ref, _, err := referenceApply(lp, s, alloc)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := lp.Apply(s, alloc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Pruned, ref.Pruned) || !slices.Equal(got.Params, ref.Params) {
				t.Errorf("%v %.2f: Apply differs from the reference", alloc, s)
			}
		}
	}
}
