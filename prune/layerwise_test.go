package prune

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// lwTol: the quantities compared are solutions of well-conditioned linear
// systems of size <= 8 (random Gaussian data, N = 40 patterns) computed by
// different factorizations (QR least squares, Cholesky, sequential rank-1
// downdates); they agree to ~1e-13, and any wrong term is O(1e-2).
const lwTol = 1e-9

// linearLayer returns a one-layer identity network din -> dout with random
// weights and biases, and N random inputs.
func linearLayer(t *testing.T, din, dout, N int, seed uint64) (*model.MLP, [][]float64) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{din, dout}, Hidden: model.Identity, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	for q := range m.Params {
		m.Params[q] = rng.NormFloat64()
	}
	X := make([][]float64, N)
	for p := range X {
		X[p] = make([]float64, din)
		for i := range X[p] {
			X[p][i] = rng.NormFloat64() + 0.3*float64(i%3)
		}
	}
	return m, X
}

// augmented returns the N x (din+1) matrix of inputs with a column of ones.
func augmented(X [][]float64) *mat.Dense {
	a := mat.NewDense(len(X), len(X[0])+1, nil)
	for p, x := range X {
		for i, v := range x {
			a.Set(p, i, v)
		}
		a.Set(p, len(x), 1)
	}
	return a
}

// bruteLS solves min_{w'} (1/N) ||A w' - A w||^2 with w'_q = 0 for q in
// gone, directly from the data by QR least squares, and returns w' and
// the error.
func bruteLS(t *testing.T, A *mat.Dense, w []float64, gone []int) ([]float64, float64) {
	N, d := A.Dims()
	var keep []int
	for k := range d {
		if !slices.Contains(gone, k) {
			keep = append(keep, k)
		}
	}
	target := mat.NewVecDense(N, nil)
	target.MulVec(A, mat.NewVecDense(d, slices.Clone(w)))
	ar := mat.NewDense(N, len(keep), nil)
	for c, k := range keep {
		for p := range N {
			ar.Set(p, c, A.At(p, k))
		}
	}
	var x mat.VecDense
	if err := x.SolveVec(ar, target); err != nil {
		t.Fatal(err)
	}
	out := make([]float64, d)
	for c, k := range keep {
		out[k] = x.AtVec(c)
	}
	var r mat.VecDense
	r.MulVec(A, mat.NewVecDense(d, out))
	r.SubVec(&r, target)
	return out, mat.Dot(&r, &r) / float64(N)
}

// undamped returns H = (2/N) A^T A.
func undamped(A *mat.Dense) *mat.SymDense {
	N, d := A.Dims()
	h := mat.NewSymDense(d, nil)
	h.SymOuterK(2/float64(N), A.T())
	return h
}

func TestOBSRowPicksBruteForceOptimum(t *testing.T) {
	m, X := linearLayer(t, 7, 3, 40, 1)
	A := augmented(X)
	h := undamped(A)
	d := 8
	for j := range 3 {
		w := make([]float64, d)
		for k := range d {
			w[k] = m.Params[m.Index(1, j, k)]
		}
		// One step: over every deletable weight, the least-squares
		// refit of the others; OBS must pick the best and predict its error.
		bestQ, bestE := -1, math.Inf(1)
		for q := range d - 1 {
			if _, e := bruteLS(t, A, w, []int{q}); e < bestE {
				bestQ, bestE = q, e
			}
		}
		pr, order, delta, _, err := OBSRow(h, w, 1)
		if err != nil {
			t.Fatal(err)
		}
		if order[0] != bestQ || math.Abs(delta[0]-bestE) > lwTol*math.Max(1, bestE) {
			t.Errorf("row %d: OBS deletes %d predicting %v; brute force %d with error %v", j, order[0], delta[0], bestQ, bestE)
		}
		wantW, _ := bruteLS(t, A, w, order)
		for k := range d {
			if math.Abs(pr[k]-wantW[k]) > lwTol {
				t.Errorf("row %d: compensated w[%d] = %v, least squares %v", j, k, pr[k], wantW[k])
			}
		}
		// Four sequential steps: the weights are the least-squares
		// solution on the remaining set, the sum of the increases its
		// error, and the downdated inverse the inverse of H restricted to it.
		pr, order, delta, hinv, err := OBSRow(h, w, 4)
		if err != nil {
			t.Fatal(err)
		}
		wantW, wantE := bruteLS(t, A, w, order)
		sum := 0.0
		for _, v := range delta {
			sum += v
		}
		if math.Abs(sum-wantE) > lwTol*math.Max(1, wantE) {
			t.Errorf("row %d: sum of increases %v, least-squares error %v", j, sum, wantE)
		}
		for k := range d {
			if math.Abs(pr[k]-wantW[k]) > lwTol {
				t.Errorf("row %d after 4: w[%d] = %v, least squares %v", j, k, pr[k], wantW[k])
			}
		}
		var keep []int
		for k := range d {
			if !slices.Contains(order, k) {
				keep = append(keep, k)
			}
		}
		red := mat.NewSymDense(len(keep), nil)
		for a, i := range keep {
			for b, k := range keep {
				red.SetSym(a, b, h.At(i, k))
			}
		}
		var inv mat.SymDense
		var chol mat.Cholesky
		if !chol.Factorize(red) {
			t.Fatal("reduced H not positive definite")
		}
		chol.InverseTo(&inv)
		for a, i := range keep {
			for b, k := range keep {
				if math.Abs(hinv.At(i, k)-inv.At(a, b)) > lwTol*math.Max(1, math.Abs(inv.At(a, b))) {
					t.Fatalf("row %d: downdated inverse (%d,%d) = %v, direct %v", j, i, k, hinv.At(i, k), inv.At(a, b))
				}
			}
		}
		for _, q := range order {
			for k := range d {
				if hinv.At(q, k) != 0 {
					t.Fatalf("row %d: downdated inverse not zero in deleted row %d", j, q)
				}
			}
		}
	}
}

// The compacted path of NewLayerPaths is OBSRow's, and Apply's weights are
// OBSRow's after each row's chosen number of steps.
func TestLayerwiseOBSMatchesOBSRow(t *testing.T) {
	m, X := linearLayer(t, 7, 3, 40, 2)
	m.Prune(m.Index(1, 2, 4)) // one weight pruned before
	set := &LayerwiseSettings{Damp: 1e-3}
	lp, err := NewLayerPaths(m, X, set)
	if err != nil {
		t.Fatal(err)
	}
	h := lp.hess[0]
	if lp.order[0][2][0] != 4 || lp.delta[0][2][0] != 0 {
		t.Errorf("row 2 path starts %v %v, want the pruned weight 4 at no cost", lp.order[0][2][:1], lp.delta[0][2][:1])
	}
	for _, sp := range []float64{0, 0.5, 6.0 / 7, 1} {
		for _, alloc := range []Allocation{PerLayer, Global} {
			out, res, err := lp.Apply(sp, alloc)
			if err != nil {
				t.Fatal(err)
			}
			want := max(int(math.Round(sp*21)), 1) // the pruned weight stays
			gone := 0
			for j := range 3 {
				k := 0
				w := make([]float64, 8)
				for i := range 8 {
					w[i] = m.Params[m.Index(1, j, i)]
					if out.Pruned[m.Index(1, j, i)] {
						k++
					}
				}
				if out.Pruned[m.Index(1, j, 7)] {
					t.Fatalf("sparsity %v: bias of row %d pruned", sp, j)
				}
				gone += k
				pr, order, _, _, _ := OBSRow(h, w, k)
				if j == 2 && k > 0 {
					// OBSRow does not know the weight was pruned before;
					// its path starts there only if it is the cheapest.
					continue
				}
				if !slices.Equal(order, lp.order[0][j][:k]) {
					t.Errorf("sparsity %v row %d: path %v, OBSRow %v", sp, j, lp.order[0][j][:k], order)
				}
				for i := range 8 {
					if math.Abs(out.Params[m.Index(1, j, i)]-pr[i]) > lwTol {
						t.Errorf("sparsity %v row %d: w[%d] = %v, OBSRow %v", sp, j, i, out.Params[m.Index(1, j, i)], pr[i])
					}
				}
			}
			if gone != want || math.Abs(res.Sparsity-float64(want)/21) > 1e-15 {
				t.Errorf("sparsity %v %v: %d pruned (result %v), want %d", sp, alloc, gone, res.Sparsity, want)
			}
		}
	}
	if !out0Unchanged(m) {
		t.Error("Apply changed the network it was given")
	}
}

func out0Unchanged(m *model.MLP) bool { return m.NumFree() == len(m.Params)-1 }

func TestLayerwiseOBSNetwork(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{6, 5, 4, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(4, 4)))
	_, X := linearLayer(t, 6, 1, 50, 5)
	for _, alloc := range []Allocation{PerLayer, Global} {
		c := m.Clone()
		res, err := LayerwiseOBS(c, X, 0.5, &LayerwiseSettings{Allocation: alloc})
		if err != nil {
			t.Fatal(err)
		}
		nw := 6*5 + 5*4 + 4*3
		gone := 0
		for q := range c.Params {
			l, _, from := c.Locate(q)
			if c.Pruned[q] {
				if from == c.Sizes[l-1] {
					t.Fatalf("%v: bias %s pruned", alloc, c.Name(q))
				}
				gone++
			}
		}
		if gone != nw/2 || res.Sparsity != 0.5 {
			t.Errorf("%v: %d of %d weights pruned, sparsity %v", alloc, gone, nw, res.Sparsity)
		}
		if alloc == PerLayer {
			for l, s := range res.LayerSparsity {
				if math.Abs(s-0.5) > 0.05 {
					t.Errorf("per-layer: layer %d sparsity %v", l+1, s)
				}
			}
		}
		if err := c.Check(); err != nil {
			t.Error(err)
		}
	}
	if _, err := LayerwiseOBS(m.Clone(), X, 1.5, nil); err == nil || !strings.Contains(err.Error(), "sparsity 1.5") {
		t.Errorf("sparsity 1.5: %v", err)
	}
	if _, err := LayerwiseOBS(m.Clone(), nil, 0.5, nil); err == nil {
		t.Error("no calibration data accepted")
	}
	if _, err := ParseAllocation("both"); err == nil {
		t.Error("ParseAllocation(both) succeeded")
	}
}
