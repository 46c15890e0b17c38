package hessian

import (
	"context"
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

func mustKFAC(t testing.TB, kind Kind, m *model.MLP, X, T [][]float64, opts *Options) *KFAC {
	t.Helper()
	c, err := NewKFAC(context.Background(), kind, m, X, T, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// layerOfFree returns the weight layer (1-based) of every free parameter.
func layerOfFree(m *model.MLP) []int {
	free := m.Free()
	out := make([]int, len(free))
	for r, q := range free {
		out[r], _, _ = m.Locate(q)
	}
	return out
}

// With one pattern every layer's block of K-FAC is exactly the pattern's
// GGN (or MC Fisher, with the same samples) block: sum_k (g_k ⊗ a)(g_k ⊗ a)^T
// = (sum_k g_k g_k^T) ⊗ a a^T. The blocks between layers are 0. Checked
// against New's dense curvature for every loss, with weight decay and
// pruned parameters.
func TestKFACOnePatternEqualsDenseBlocks(t *testing.T) {
	for _, c := range lossCases() {
		for _, kind := range []Kind{GGN, MCFisher} {
			m := randomNet(t, c, 3)
			X, T := randomData(m, 1, 4)
			opts := &Options{Samples: 3, Seed: 9}
			ref := dense(mustNew(t, kind, m, X, T, opts))
			kf := mustKFAC(t, kind, m, X, T, opts)
			got := dense(kf)
			n := checkLayerBlocks(t, fmt.Sprintf("%s %v", c.name, kind), m, kf, got, ref)
			diag := make([]float64, n)
			kf.Diag(diag)
			for a := range n {
				if diag[a] != got.At(a, a) {
					t.Fatalf("%s %v: Diag[%d] = %v, Dense %v", c.name, kind, a, diag[a], got.At(a, a))
				}
			}
		}
	}
}

// checkLayerBlocks checks that got, the dense form of kf on m, equals ref
// within each layer's block and is 0 between layers, to 1e-12 relative to
// ref's largest entry, and returns the dimension n.
func checkLayerBlocks(t *testing.T, name string, m *model.MLP, kf *KFAC, got, ref *mat.SymDense) int {
	t.Helper()
	layer := layerOfFree(m)
	n := len(layer)
	if kf.Dim() != n || ref.SymmetricDim() != n {
		t.Fatalf("%s: dims %d, %d, want %d", name, kf.Dim(), ref.SymmetricDim(), n)
	}
	scale := 0.0
	for a := range n {
		for b := range n {
			scale = math.Max(scale, math.Abs(ref.At(a, b)))
		}
	}
	for a := range n {
		for b := range n {
			want := ref.At(a, b)
			if layer[a] != layer[b] {
				want = 0
			}
			if d := math.Abs(got.At(a, b) - want); d > 1e-12*scale {
				t.Fatalf("%s: entry (%s, %s) = %v, want %v", name, m.Name(m.Free()[a]), m.Name(m.Free()[b]), got.At(a, b), want)
			}
		}
	}
	return n
}

// On a network of one Linear layer and one pattern, K-FAC is the whole GGN.
func TestKFACSingleLayerIsGGN(t *testing.T) {
	m := randomNet(t, netCase{spec: model.Spec{Sizes: []int{4, 3}, Output: model.Softmax, Loss: model.CrossEntropy}, pruned: []int{2}}, 5)
	X, T := randomData(m, 1, 6)
	ref := dense(mustNew(t, GGN, m, X, T, nil))
	got := dense(mustKFAC(t, GGN, m, X, T, nil))
	if d := maxAbsDiff(got, ref); d > 1e-14 {
		t.Fatalf("K-FAC differs from the GGN by %g", d)
	}
}

// For any number of patterns, G_l is the GGN restricted to layer l's
// biases (dz/db = I), and A_l the mean outer product of the layer's inputs
// with a 1 appended (model.MLP.LayerInputs).
func TestKFACFactorsManyPatterns(t *testing.T) {
	for _, c := range lossCases() {
		m := randomNet(t, c, 8)
		for q := range m.Pruned { // the biases must be free for this check
			if l, _, from := m.Locate(q); from == m.Sizes[l-1] && m.Pruned[q] {
				m.Pruned[q] = false
			}
		}
		X, T := randomData(m, 7, 9)
		ref := dense(mustNew(t, GGN, m, X, T, nil))
		kf := mustKFAC(t, GGN, m, X, T, nil)
		pos := map[int]int{}
		for r, q := range m.Free() {
			pos[q] = r
		}
		ins := m.LayerInputs(X)
		for l, L := range kf.Layers() {
			for j := range L.Outputs {
				for jj := range L.Outputs {
					want := ref.At(pos[m.Index(l+1, j, L.Inputs)], pos[m.Index(l+1, jj, L.Inputs)])
					if j == jj {
						want -= m.Decay
					}
					if d := math.Abs(L.G.At(j, jj) - want); d > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("%s layer %d: G[%d,%d] = %v, GGN's bias block %v", c.name, l+1, j, jj, L.G.At(j, jj), want)
					}
				}
			}
			for i := range L.Stride() {
				for ii := range L.Stride() {
					want := 0.0
					for p := range X {
						ai, aii := 1.0, 1.0
						if i < L.Inputs {
							ai = ins[l].At(p, i)
						}
						if ii < L.Inputs {
							aii = ins[l].At(p, ii)
						}
						want += ai * aii
					}
					want /= float64(len(X))
					if d := math.Abs(L.A.At(i, ii) - want); d > 1e-12*(1+math.Abs(want)) {
						t.Fatalf("%s layer %d: A[%d,%d] = %v, want %v", c.name, l+1, i, ii, L.A.At(i, ii), want)
					}
				}
			}
		}
	}
}

// The Monte-Carlo Fisher's output-side factors converge to the GGN's as
// the samples per pattern grow (E[v v^T] = L_p for ce): with the fixed
// seed 1, the relative Frobenius error of every G_l is below 0.05 with
// 8,192 samples per pattern (the sampling error falls as 1/sqrt(S): with
// 16 samples it is above 0.05), and the input factors A_l are identical.
func TestKFACMonteCarloConvergesToGGN(t *testing.T) {
	m := randomNet(t, lossCases()[3], 2) // ce, 3-4-3
	X, T := randomData(m, 4, 3)
	ggn := mustKFAC(t, GGN, m, X, T, nil)
	relErr := func(S int) float64 {
		mc := mustKFAC(t, MCFisher, m, X, T, &Options{Samples: S, Seed: 1})
		worst := 0.0
		for l, L := range mc.Layers() {
			R := ggn.Layers()[l]
			if d := maxAbsDiff(L.A, R.A); d != 0 {
				t.Fatalf("layer %d: the MC Fisher's A differs from the GGN's by %g", l+1, d)
			}
			var diff mat.Dense
			diff.Sub(L.G, R.G)
			worst = math.Max(worst, mat.Norm(&diff, 2)/mat.Norm(R.G, 2))
		}
		return worst
	}
	few, many := relErr(16), relErr(8192)
	t.Logf("relative error of G: %d samples %.4f, %d samples %.4f", 16, few, 8192, many)
	if !(many < 0.05) || !(few > many) {
		t.Fatalf("MC Fisher's G: relative error %.4f with 8192 samples (want < 0.05), %.4f with 16", many, few)
	}
}

// Inverses gives (G + sqrt(γ)/π I)^-1 and (A + π sqrt(γ) I)^-1 with π the
// ratio of the mean traces, and their Kronecker product is the inverse of
// G ⊗ A + γ I + sqrt(γ) (π G ⊗ I + I ⊗ A/π), formed densely here.
func TestKFACInversesPiDamping(t *testing.T) {
	c := lossCases()[3]
	m := randomNet(t, c, 4)
	X, T := randomData(m, 6, 5)
	kf := mustKFAC(t, GGN, m, X, T, nil)
	const alpha = 1e-3
	invs, err := kf.Inverses(alpha)
	if err != nil {
		t.Fatal(err)
	}
	for l, iv := range invs {
		L := kf.Layers()[l]
		na, ng := L.Stride(), L.Outputs
		gamma := alpha + m.Decay
		ta, tg := 0.0, 0.0
		for i := range na {
			ta += L.A.At(i, i)
		}
		for j := range ng {
			tg += L.G.At(j, j)
		}
		pi := math.Sqrt((ta / float64(na)) / (tg / float64(ng)))
		if math.Abs(iv.Pi-pi) > 1e-14*pi || iv.Gamma != gamma {
			t.Fatalf("layer %d: pi %v gamma %v, want %v %v", l+1, iv.Pi, iv.Gamma, pi, gamma)
		}
		eyeA, eyeG := eye(na), eye(ng)
		var ga, gi, ia, damped mat.Dense
		ga.Kronecker(L.G, L.A)
		gi.Kronecker(L.G, eyeA)
		ia.Kronecker(eyeG, L.A)
		damped.Scale(math.Sqrt(gamma)*pi, &gi)
		ia.Scale(math.Sqrt(gamma)/pi, &ia)
		damped.Add(&damped, &ia)
		damped.Add(&damped, &ga)
		for i := range na * ng {
			damped.Set(i, i, damped.At(i, i)+gamma)
		}
		var want, got mat.Dense
		if err := want.Inverse(&damped); err != nil {
			t.Fatal(err)
		}
		got.Kronecker(iv.GInv, iv.AInv)
		if d := maxAbsDiff(&got, &want); d > 1e-9*mat.Norm(&want, math.Inf(1)) {
			t.Fatalf("layer %d: GInv ⊗ AInv differs from the dense inverse by %g", l+1, d)
		}
	}
}

func eye(n int) *mat.Dense {
	d := mat.NewDense(n, n, nil)
	for i := range n {
		d.Set(i, i, 1)
	}
	return d
}

func TestKFACErrors(t *testing.T) {
	m := randomNet(t, lossCases()[0], 1)
	X, T := randomData(m, 3, 2)
	for _, kind := range []Kind{EmpiricalFisher, Exact} {
		if _, err := NewKFAC(context.Background(), kind, m, X, T, nil); err == nil {
			t.Errorf("NewKFAC(%v) succeeded", kind)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewKFAC(ctx, GGN, m, X, T, nil); err != context.Canceled {
		t.Errorf("cancelled build: err %v", err)
	}
	kf := mustKFAC(t, GGN, m, X, T, nil)
	if _, err := kf.Inverses(-m.Decay); err == nil {
		t.Error("Inverses with alpha + decay = 0 succeeded")
	}
}
