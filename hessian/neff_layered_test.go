package hessian

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// EffectiveSamples holds for a layered network (a convolution, a pooling
// and a linear layer, with pruned parameters): the n_eff of the pattern
// gradients' squared norms over the free parameters, computed here from
// PatternGrad one pattern at a time.
func TestEffectiveSamplesLayered(t *testing.T) {
	ls, err := model.ParseLayers("conv:2:2,relu,maxpool:2,flatten,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.New(model.Spec{Input: []int{1, 5, 5}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	net.Init(rng)
	net.Prune(1)
	net.Prune(7)
	X, T := make([][]float64, 9), make([][]float64, 9)
	for p := range X {
		X[p] = make([]float64, 25)
		for i := range X[p] {
			X[p][i] = rng.NormFloat64()
		}
		T[p] = make([]float64, 3)
		T[p][p%3] = 1
	}
	ws := net.NewWorkspace()
	g := make([]float64, len(net.Params))
	sq := make([]float64, len(X))
	for p := range X {
		net.PatternGrad(ws, g, X[p], T[p])
		for _, q := range net.Free() {
			sq[p] += g[q] * g[q]
		}
	}
	want := floats.Sum(sq) * floats.Sum(sq) / floats.Dot(sq, sq)
	got, err := EffectiveSamples(net, X, T)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-want) > 1e-12*want || !(got > 1 && got < float64(len(X))) {
		t.Errorf("n_eff %v, want %v (in (1, %d))", got, want, len(X))
	}
}

// effectiveSamplesTerms is EffectiveSamples from the empirical Fisher's
// terms, the reference the direct pass is checked against.
func effectiveSamplesTerms(net *model.MLP, X, T [][]float64) (float64, error) {
	c, err := New(EmpiricalFisher, net, X, T, nil)
	if err != nil {
		return 0, err
	}
	r := c.(RankOne)
	sq := make([]float64, 0, r.NumTerms())
	r.Terms(denseBlock, func(u *mat.Dense) {
		_, k := u.Dims()
		for j := 0; j < k; j++ {
			col := mat.Col(nil, j, u)
			sq = append(sq, floats.Dot(col, col))
		}
	})
	return NEff(sq), nil
}

// The direct pass gives the terms' n_eff bit for bit, on a layered network
// with pruned parameters and on an MLP.
func TestEffectiveSamplesMatchesTerms(t *testing.T) {
	ls, err := model.ParseLayers("conv:2:2,relu,flatten,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	conv, err := model.New(model.Spec{Input: []int{1, 4, 4}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := model.New(model.Spec{Sizes: []int{16, 5, 3}, Hidden: model.Tanh, Loss: model.CrossEntropy, Decay: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, net := range []*model.MLP{conv, mlp} {
		net.Init(rng)
		net.Prune(2)
		X, T := make([][]float64, 7), make([][]float64, 7)
		for p := range X {
			X[p] = make([]float64, 16)
			for i := range X[p] {
				X[p][i] = rng.NormFloat64()
			}
			T[p] = make([]float64, 3)
			T[p][p%3] = 1
		}
		got, err1 := EffectiveSamples(net, X, T)
		want, err2 := effectiveSamplesTerms(net, X, T)
		if err1 != nil || err2 != nil || got != want {
			t.Errorf("n_eff %v (%v), from the terms %v (%v)", got, err1, want, err2)
		}
	}
}
