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

// Per-layer sparsity targets (LayerwiseSettings.LayerTargets,
// LayerPaths.ApplyLayers): each layer loses round(target x its weights),
// no bias goes, and every row is the least-squares solution of the layer's
// reconstruction error on its kept weights, computed here directly from
// the layer's inputs by QR (bruteLS), without damping so that the two are
// the same problem; equal targets give Apply's network bit for bit.
func TestLayerwiseOBSLayerTargets(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{6, 5, 4, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(4, 4)))
	_, X := linearLayer(t, 6, 1, 50, 5)
	targets := []float64{0.8, 0.25, 0.5}
	c := m.Clone()
	res, err := LayerwiseOBS(c, X, 0, &LayerwiseSettings{NoDamp: true, LayerTargets: targets})
	if err != nil {
		t.Fatal(err)
	}
	inputs := m.LayerInputs(X)
	gone, total := 0, 0
	for l := 1; l <= c.NumLayers(); l++ {
		rows, din, _ := c.LayerShape(l)
		A := mat.NewDense(len(X), din+1, nil)
		for p := range len(X) {
			for i := range din {
				A.Set(p, i, inputs[l-1].At(p, i))
			}
			A.Set(p, din, 1)
		}
		k := 0
		for j := range rows {
			w := make([]float64, din+1)
			var del []int
			for i := range din + 1 {
				q := c.Index(l, j, i)
				w[i] = m.Params[q]
				if c.Pruned[q] {
					if i == din {
						t.Fatalf("layer %d: bias of row %d pruned", l, j)
					}
					del = append(del, i)
				}
			}
			k += len(del)
			want, _ := bruteLS(t, A, w, del)
			for i := range din + 1 {
				if got := c.Params[c.Index(l, j, i)]; math.Abs(got-want[i]) > lwTol*(1+math.Abs(want[i])) {
					t.Errorf("layer %d row %d weight %d: %v, least squares on the kept set %v", l, j, i, got, want[i])
				}
			}
		}
		if want := int(math.Round(targets[l-1] * float64(rows*din))); k != want {
			t.Errorf("layer %d: %d of %d weights pruned, want %d", l, k, rows*din, want)
		}
		if res.LayerSparsity[l-1] != float64(k)/float64(rows*din) {
			t.Errorf("layer %d: LayerSparsity %v, counted %d of %d", l, res.LayerSparsity[l-1], k, rows*din)
		}
		gone += k
		total += rows * din
	}
	if res.Sparsity != float64(gone)/float64(total) {
		t.Errorf("Sparsity %v, counted %d of %d", res.Sparsity, gone, total)
	}

	// Equal targets are Apply's per-layer allocation.
	lp, err := NewLayerPaths(m, X, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, ra, err := lp.Apply(0.5, PerLayer)
	if err != nil {
		t.Fatal(err)
	}
	b, rb, err := lp.ApplyLayers([]float64{0.5, 0.5, 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Params, b.Params) || !slices.Equal(a.Pruned, b.Pruned) || !slices.Equal(ra.LayerError, rb.LayerError) || ra.Sparsity != rb.Sparsity {
		t.Error("ApplyLayers with every target 0.5 differs from Apply(0.5, PerLayer)")
	}

	for _, tc := range []struct {
		name     string
		sparsity float64
		set      LayerwiseSettings
		want     string
	}{
		{"two targets", 0, LayerwiseSettings{LayerTargets: []float64{0.5, 0.5}}, "2 per-layer sparsity targets for 3 weight layers"},
		{"target 1.5", 0, LayerwiseSettings{LayerTargets: []float64{0.5, 1.5, 0.5}}, "sparsity 1.5 of layer 2"},
		{"NaN target", 0, LayerwiseSettings{LayerTargets: []float64{math.NaN(), 0.5, 0.5}}, "of layer 1 must be in [0, 1]"},
		{"with a sparsity", 0.5, LayerwiseSettings{LayerTargets: targets}, "with a sparsity or the global allocation"},
		{"global", 0, LayerwiseSettings{LayerTargets: targets, Allocation: Global}, "with a sparsity or the global allocation"},
	} {
		if _, err := LayerwiseOBS(m.Clone(), X, tc.sparsity, &tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
