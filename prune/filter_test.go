package prune

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// filterNet is a tiny CNN on 1x6x6 inputs given by layers, with random
// weights and 30 random patterns of 3 classes.
func filterNet(t *testing.T, layers string) (*model.MLP, *datasets.Set) {
	t.Helper()
	ls, err := model.ParseLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Input: []int{1, 6, 6}, Layers: ls, Loss: model.CrossEntropy, Decay: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(41, 42))
	for q := range m.Params {
		m.Params[q] = 0.6 * rng.NormFloat64()
	}
	s := randomClasses(rng, "filters", 30, 36, 3)
	return m, s
}

// A filter's OBS saliency and update are the minimum and the minimiser of
// the quadratic model with the filter's weights and bias held at -w_G
// (the KKT system solved densely, checkGroupQP), with the dense, block
// and per-layer inverses of the damped GGN, for every filter of a CNN
// with two convolutions.
func TestFilterGroupIsConstrainedQPMinimum(t *testing.T) {
	m, s := filterNet(t, "conv:2:3,sigmoid,conv:3:2,relu,flatten,linear:3")
	const alpha = 1e-2
	curv, err := hessian.New(hessian.GGN, m, s.Inputs, s.Targets, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c mat.SymDense
	curv.Dense(&c)
	groups, units := FilterGroups(m)
	// conv1: 2 filters of 9 weights and a bias; conv2: 3 of 2*4 and a bias.
	if len(groups) != 5 || len(groups[0]) != 10 || len(groups[4]) != 9 || units[3] != (Unit{Layer: 2, Index: 1}) {
		t.Fatalf("filter groups %v (units %v)", groups, units)
	}
	layerOf := func(q int) int { l, _, _ := m.Locate(q); return l }
	for _, tc := range []struct {
		st    Structure
		block func(q int) int
	}{
		{Dense{}, func(int) int { return 0 }},
		{Blocks{Size: 7}, func(q int) int { return q / 7 }},
		{Layers{}, layerOf},
	} {
		sc, err := OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: alpha, Structure: tc.st}.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
		if err != nil {
			t.Fatal(err)
		}
		for u, G := range groups {
			checkGroupQP(t, m, &c, alpha, tc.block, sc, G, fmt.Sprintf("%v, filter %v", tc.st, units[u]))
		}
	}
}

// Filter pruning removes whole filters, counting filters for the target
// (globally or per layer), and compacting the pruned network gives the
// masked network's outputs to 1e-12 with fewer channels: a removed
// filter's constant output (sigmoid(0) = 0.5, relu(0) = 0) is folded into
// the next convolution's (unpadded) or the next Linear's biases.
func TestFilterPruningCompacts(t *testing.T) {
	for _, layers := range []string{
		"conv:4:3,sigmoid,conv:6:2,tanh,maxpool:2,flatten,linear:3",
		"conv:4:3:p=1,relu,maxpool:2,conv:6:2:p=1,sigmoid,avgpool:2,flatten,linear:3",
	} {
		m, s := filterNet(t, layers)
		methods := []Pruner{MagnitudePruner{}, MagnitudePruner{L1: true}, OBDPruner{Curvature: Terms{Curvature: hessian.GGN}},
			OBSPruner{Curvature: Terms{Curvature: hessian.GGN}, Alpha: 1e-2}, OBSPruner{Curvature: Terms{Curvature: hessian.EmpiricalFisher}, Alpha: 1e-2, Structure: Blocks{Size: 16}}}
		for _, method := range methods {
			for _, perLayer := range []bool{false, true} {
				net := m.Clone()
				plan := &Plan{Method: method, Granularity: Granularity{Kind: ByFilter}, PerLayer: perLayer, Target: Target{Sparsity: 0.5}}
				if _, err := Prune(context.Background(), net, s.Inputs, s.Targets, plan); err != nil {
					t.Fatal(err)
				}
				groups, units := FilterGroups(m)
				gone := map[int]int{}
				for u, g := range groups {
					n := 0
					for _, q := range g {
						if net.Pruned[q] {
							n++
						}
					}
					if n != 0 && n != len(g) {
						t.Fatalf("%s %v: filter %v partly pruned", layers, method, units[u])
					}
					if n == len(g) {
						gone[units[u].Layer]++
					}
				}
				if gone[1]+gone[2] != 5 || (perLayer && (gone[1] != 2 || gone[2] != 3)) {
					t.Errorf("%s %v per-layer %v: filters removed per layer %v, want 5 (2 and 3 per layer)", layers, method, perLayer, gone)
				}
				small, kept := Compact(net)
				if err := small.Check(); err != nil {
					t.Fatal(err)
				}
				r1, _, _ := small.LayerShape(1)
				r2, _, _ := small.LayerShape(2)
				// A layer that lost every filter keeps one with no parameter.
				if r1 != max(1, 4-gone[1]) || r2 != max(1, 6-gone[2]) || len(kept[0]) != r1 || len(kept[1]) != r2 {
					t.Fatalf("%s %v: compacted to %s (kept %v), want %d and %d filters", layers, method, small.Describe(), kept, 4-gone[1], 6-gone[2])
				}
				sameOutputs(t, net, small, s.Inputs, fmt.Sprintf("%s %v", layers, method))
			}
		}
	}
}

// sameOutputs checks that a and b give the same outputs on X to 1e-12.
func sameOutputs(t *testing.T, a, b *model.MLP, X [][]float64, what string) {
	t.Helper()
	wa, wb := a.NewWorkspace(), b.NewWorkspace()
	for _, x := range X {
		ya, yb := a.Forward(wa, x), b.Forward(wb, x)
		for k := range ya {
			if math.Abs(ya[k]-yb[k]) > 1e-12 {
				t.Fatalf("%s: output %d of the compacted net %v, masked %v", what, k, yb[k], ya[k])
			}
		}
	}
}

// Compact removes filters by hand: filter 1 of conv1 (sigmoid: 0.5 folded
// into conv2's biases, unpadded) and filters 0 and 2 of conv2 (tanh: 0,
// their columns of the Linear after Flatten dropped); the smaller
// network's multiply-adds are counted by hand. A sigmoid filter feeding a
// padded convolution is kept: its constant is not one bias.
func TestCompactFiltersByHand(t *testing.T) {
	m, s := filterNet(t, "conv:3:3,sigmoid,conv:4:2,tanh,flatten,linear:3")
	groups, _ := FilterGroups(m)
	for _, u := range []int{1, 3, 5} {
		for _, q := range groups[u] {
			m.Prune(q)
		}
	}
	small, kept := Compact(m)
	if !slices.Equal(kept[0], []int{0, 2}) || !slices.Equal(kept[1], []int{1, 3}) {
		t.Fatalf("compacted to %s, kept %v", small.Describe(), kept)
	}
	// conv1: 2 filters of 9 at 4x4; conv2: 2 of 2*4 at 3x3; linear 3 x 2*9.
	want := 2*9*16 + 2*8*9 + 3*18
	if d, nz := MultiplyAdds(small); d != want || nz != d {
		t.Errorf("multiply-adds %d dense, %d nonzero; want %d", d, nz, want)
	}
	sameOutputs(t, m, small, s.Inputs, "by hand")

	p, s := filterNet(t, "conv:3:3,sigmoid,conv:4:2:p=1,relu,flatten,linear:3")
	groups, _ = FilterGroups(p)
	for _, q := range groups[1] {
		p.Prune(q)
	}
	small, kept = Compact(p)
	if !slices.Equal(kept[0], []int{0, 1, 2}) {
		t.Errorf("a sigmoid filter before a padded convolution: kept %v, want all 3", kept[0])
	}
	sameOutputs(t, p, small, s.Inputs, "padded")
}
