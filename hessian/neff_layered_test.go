package hessian

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"

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
