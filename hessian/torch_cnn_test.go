package hessian

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// torchCNN is the fixture of scripts/torch_cnn_fixtures.py: a tiny CNN's
// weights and data with its loss, gradient, Jacobians and curvatures from
// PyTorch autograd.
type torchCNN struct {
	Input     []int         `json:"input"`
	Layers    string        `json:"layers"`
	Params    []float64     `json:"params"`
	X         [][]float64   `json:"x"`
	T         [][]float64   `json:"t"`
	Loss      float64       `json:"loss_value"`
	Grad      []float64     `json:"grad"`
	Jacobians [][][]float64 `json:"jacobians"`
	GGN       [][]float64   `json:"ggn"`
	EF        [][]float64   `json:"ef"`
	Hessian   [][]float64   `json:"hessian"`
}

// torchTol is the bound for the curvatures of a CNN against
// PyTorch autograd: relative to the largest entry, float64 on both sides,
// only the order of summation differs.
const torchTol = 1e-12

// expectRel fails unless max |got - want| <= torchTol max |want|.
func expectRel(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	scale, worst, at := 0.0, 0.0, 0
	for i := range want {
		scale = math.Max(scale, math.Abs(want[i]))
		if d := math.Abs(got[i] - want[i]); d > worst {
			worst, at = d, i
		}
	}
	if worst > torchTol*scale {
		t.Errorf("%s: entry %d is %v, PyTorch %v (max |diff| %.3g, %.3g relative)", what, at, got[at], want[at], worst, worst/scale)
	}
}

func flat(rows [][]float64) []float64 {
	var out []float64
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

func symFlat(s *mat.SymDense) []float64 {
	n := s.SymmetricDim()
	out := make([]float64, 0, n*n)
	for i := range n {
		for j := range n {
			out = append(out, s.At(i, j))
		}
	}
	return out
}

// The GGN, empirical Fisher, MC Fisher and exact Hessian of a tiny CNN
// (padded conv, max pooling, bias-free conv, average pooling, linear
// head, cross-entropy) equal PyTorch autograd's, as do its loss, gradient
// and per-pattern Jacobians. The MC Fisher's reference is built from
// PyTorch's Jacobians with the classes the curvature's generator draws
// (the same PCG stream, replayed here).
func TestCNNCurvaturesMatchPyTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_cnn.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx torchCNN
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	ls, err := model.ParseLayers(fx.Layers)
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.New(model.Spec{Input: fx.Input, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	copy(net.Params, fx.Params)
	n, P := len(net.Params), len(fx.X)
	if n != len(fx.Params) {
		t.Fatalf("network has %d parameters, fixture %d", n, len(fx.Params))
	}

	ws := net.NewWorkspace()
	E, grad, g := 0.0, make([]float64, n), make([]float64, n)
	var jac mat.Dense
	for p := range fx.X {
		E += net.PatternGrad(ws, g, fx.X[p], fx.T[p]) / float64(P)
		floats.AddScaled(grad, 1/float64(P), g)
		net.OutputJacobian(ws, &jac, fx.X[p])
		expectRel(t, "Jacobian", jac.RawMatrix().Data, flat(fx.Jacobians[p]))
	}
	expectRel(t, "loss", []float64{E}, []float64{fx.Loss})
	expectRel(t, "gradient", grad, fx.Grad)

	for _, c := range []struct {
		kind Kind
		want [][]float64
	}{{GGN, fx.GGN}, {EmpiricalFisher, fx.EF}, {Exact, fx.Hessian}} {
		cur, err := New(c.kind, net, fx.X, fx.T, nil)
		if err != nil {
			t.Fatal(err)
		}
		var d mat.SymDense
		cur.Dense(&d)
		expectRel(t, c.kind.String(), symFlat(&d), flat(c.want))
	}

	const S, seed = 3, 7
	cur, err := New(MCFisher, net, fx.X, fx.T, &Options{Samples: S, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	var d mat.SymDense
	cur.Dense(&d)
	rng := rand.New(rand.NewPCG(seed, mcStream))
	want := mat.NewSymDense(n, nil)
	K := net.NumOutputs()
	for p := range fx.X {
		pi := append([]float64(nil), net.Forward(ws, fx.X[p])...)
		J := mat.NewDense(K, n, flat(fx.Jacobians[p]))
		for range S {
			u, cls, cum := rng.Float64(), K-1, 0.0
			for j, pj := range pi {
				if cum += pj; u < cum {
					cls = j
					break
				}
			}
			v := mat.NewVecDense(K, append([]float64(nil), pi...))
			v.SetVec(cls, v.AtVec(cls)-1)
			var term mat.VecDense
			term.MulVec(J.T(), v)
			want.SymRankOne(want, 1/float64(S*P), &term)
		}
	}
	expectRel(t, "MC Fisher", symFlat(&d), symFlat(want))
}
