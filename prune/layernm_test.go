package prune

import (
	"context"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// Layer-wise OBS to 2:4 (LayerOBSPruner with Granularity ByNM) is OBC's
// greedy N:M path of every row: with H = (2/N) X~ X~^T + lambda I formed
// here from the layer's inputs, each step deletes the allowed weight (in a
// block of 4 with fewer than 2 zeros) whose deletion raises the row's
// least-squares error min 1/2 d^T H d (d_S = -w_S on the deleted set S,
// the rest solved from H_RR d_R = -H_RS d_S) the least, until every block
// has 2 zeros; the pruned row is w + d on that set. Inputs outside the
// blocks and the biases stay.
func TestLayerNMIsGreedyConstrainedOBS(t *testing.T) {
	m, s := deepNet(t, 9) // rows of 9, 8 and 6 inputs: 2, 2 and 1 blocks
	const damp, n, blk = 0.01, 2, 4
	net := m.Clone()
	if _, err := Prune(context.Background(), net, s.Inputs, s.Targets, &Plan{Method: LayerOBSPruner{Damp: damp}, Calib: Calibration{X: s.Inputs, T: s.Targets},
		Granularity: Granularity{Kind: ByNM, N: n, M: blk}}); err != nil {
		t.Fatal(err)
	}
	for l := 1; l <= m.NumLayers(); l++ {
		d := m.Sizes[l-1] + 1
		h := refLayerHessian(m, s.Inputs, l, damp)
		blocks := (d - 1) / blk
		for j := range m.Sizes[l] {
			w := make([]float64, d)
			for i := range d {
				w[i] = m.Params[m.Index(l, j, i)]
			}
			// lsq returns the row's error and change with the set S deleted.
			lsq := func(S []int) (float64, []float64) {
				var R []int
				for i := range d {
					if !slices.Contains(S, i) {
						R = append(R, i)
					}
				}
				hrr := mat.NewDense(len(R), len(R), nil)
				rhs := mat.NewVecDense(len(R), nil)
				for a, i := range R {
					for b, k := range R {
						hrr.Set(a, b, h.At(i, k))
					}
					for _, q := range S {
						rhs.SetVec(a, rhs.AtVec(a)+h.At(i, q)*w[q])
					}
				}
				var dr mat.VecDense
				if err := dr.SolveVec(hrr, rhs); err != nil {
					t.Fatal(err)
				}
				delta := make([]float64, d)
				for _, q := range S {
					delta[q] = -w[q]
				}
				for a, i := range R {
					delta[i] = dr.AtVec(a)
				}
				dv := mat.NewVecDense(d, delta)
				var hd mat.VecDense
				hd.MulVec(h, dv)
				return 0.5 * mat.Dot(dv, &hd), delta
			}
			var S []int
			for range n * blocks {
				best, bestE := -1, math.Inf(1)
				for q := range blocks * blk {
					zeros := 0
					for _, r := range S {
						if r/blk == q/blk {
							zeros++
						}
					}
					if slices.Contains(S, q) || zeros >= n {
						continue
					}
					if e, _ := lsq(append(slices.Clone(S), q)); e < bestE {
						best, bestE = q, e
					}
				}
				S = append(S, best)
			}
			_, delta := lsq(S)
			for i := range d {
				q := m.Index(l, j, i)
				if net.Pruned[q] != slices.Contains(S, i) {
					t.Fatalf("layer %d row %d: input %d pruned %v; the greedy path deletes %v", l, j, i, net.Pruned[q], S)
				}
				if want := w[i] + delta[i]; math.Abs(net.Params[q]-want) > 1e-9*(1+math.Abs(want)) {
					t.Fatalf("layer %d row %d: %s = %v, least squares on the kept set %v", l, j, m.Name(q), net.Params[q], want)
				}
			}
		}
	}
}
