package prune_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// tinyCNN returns a small convolutional classifier trained for a few
// epochs on seeded synthetic 1x6x6 images (the class is the quadrant of a
// bright spot), and the data.
func tinyCNN(t *testing.T, layers string) (*model.MLP, [][]float64, [][]float64) {
	t.Helper()
	ls, err := model.ParseLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.New(model.Spec{Input: []int{1, 6, 6}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(31, 1))
	net.Init(rng)
	var X, T [][]float64
	for range 96 {
		x := make([]float64, 36)
		for i := range x {
			x[i] = 0.3 * rng.NormFloat64()
		}
		c := rng.IntN(4)
		i, j := 3*(c/2)+rng.IntN(3), 3*(c%2)+rng.IntN(3)
		x[i*6+j] += 2
		tt := make([]float64, 4)
		tt[c] = 1
		X, T = append(X, x), append(T, tt)
	}
	if _, err := model.TrainMiniBatch(net, X, T, &model.MiniBatchSettings{Epochs: 30, BatchSize: 16, LearningRate: 0.01, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return net, X, T
}

// Every method prunes a CNN's conv and linear weights through the one
// loop: magnitude, OBD, dense and block OBS with the GGN, the empirical
// and the MC Fisher, one-shot. Each run removes the asked number of weights (biases
// kept), leaves them at exactly 0, and block OBS with the GGN ends at a lower
// training error than magnitude pruning.
func TestPruneCNNEveryMethod(t *testing.T) {
	net, X, T := tinyCNN(t, "conv:3:3:p=1,relu,maxpool:2,conv:4:2:nobias,tanh,flatten,linear:4")
	e0, acc0 := net.Evaluate(X, T)
	if acc0 < 0.9 {
		t.Fatalf("the tiny CNN trains to accuracy %.3f only", acc0)
	}
	// A conv weight is used at every output position: conv1 3 x 9 weights
	// at 6 x 6 positions, conv2 4 x 12 at 2 x 2, the linear layer 16 x 4.
	if dense, nonzero := prune.MultiplyAdds(net); dense != 3*9*36+4*12*4+16*4 || nonzero != dense {
		t.Errorf("MultiplyAdds = %d, %d; want %d for both", dense, nonzero, 3*9*36+4*12*4+16*4)
	}
	weights := prune.Weights(net)
	for q, w := range weights {
		if !w && !net.IsBias(q) {
			t.Fatalf("parameter %d (%s) is neither weight nor bias", q, net.Name(q))
		}
	}
	errs := map[string]float64{}
	for _, c := range []struct {
		name string
		cfg  prune.Config
	}{
		{"magnitude", prune.Config{Method: prune.Magnitude}},
		{"obd", prune.Config{Method: prune.OBD}},
		{"obs-ggn", prune.Config{Method: prune.OBS, Curvature: hessian.GGN}},
		{"obs-ggn-block16", prune.Config{Method: prune.OBS, Curvature: hessian.GGN, Structure: prune.Blocks{Size: 16}}},
		{"obs-ef", prune.Config{Method: prune.OBS, Curvature: hessian.EmpiricalFisher}},
		{"obs-mc", prune.Config{Method: prune.OBS, Curvature: hessian.MCFisher, CurvatureOptions: &hessian.Options{Samples: 2, Seed: 3}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := pruneHalfWeights(t, net, X, T, c.cfg)
			e, _ := m.Evaluate(X, T)
			errs[c.name] = e
			t.Logf("E %.4f -> %.4f", e0, e)
		})
	}
	// Block OBS (the WoodFisher structure the LeNet-5 run uses)
	// beats magnitude here; dense one-shot OBS at 50% overshoots on this
	// tiny set (its log shows it), as one-shot OBS updates can reach far beyond
	// the quadratic model's range.
	if errs["obs-ggn-block16"] >= errs["magnitude"] {
		t.Errorf("block OBS (GGN) ends at E %.4g, magnitude pruning at %.4g", errs["obs-ggn-block16"], errs["magnitude"])
	}
}

// Layer-wise OBS on the layers' inputs, the conv layers' im2col patches
// (it needs a bias in every layer): half of every layer's weights go, the
// rows re-solved, and it ends below magnitude pruning's training error.
func TestLayerwiseOBSCNN(t *testing.T) {
	net, X, T := tinyCNN(t, "conv:3:3:p=1,relu,maxpool:2,conv:4:2,tanh,flatten,linear:4")
	e0, _ := net.Evaluate(X, T)
	mag := net.Clone()
	if _, err := prune.OneShot(mag, X, T, prune.Config{Method: prune.Magnitude, Sparsity: 0.5, Candidates: prune.Weights(mag), PerLayer: true}); err != nil {
		t.Fatal(err)
	}
	eMag, _ := mag.Evaluate(X, T)
	m := net.Clone()
	res, err := prune.LayerwiseOBS(m, X, 0.5, nil)
	if err != nil {
		t.Fatal(err)
	}
	for l, s := range res.LayerSparsity {
		if s < 0.45 || s > 0.55 {
			t.Errorf("layer %d sparsity %.3f, want 0.5", l+1, s)
		}
	}
	e, _ := m.Evaluate(X, T)
	t.Logf("E %.4f -> layer-wise OBS %.4f, magnitude per layer %.4f", e0, e, eMag)
	if e >= eMag {
		t.Errorf("layer-wise OBS ends at E %.4g, magnitude pruning at %.4g", e, eMag)
	}
	nb, X2, _ := tinyCNN(t, "conv:3:3:p=1,relu,maxpool:2,conv:4:2:nobias,tanh,flatten,linear:4")
	if _, err := prune.LayerwiseOBS(nb, X2, 0.5, nil); err == nil {
		t.Error("layer-wise OBS accepted a bias-free layer")
	}
}

// K-FAC (KFC's factors for the conv layers) prunes the tiny CNN's conv
// and linear weights to 50% one-shot, with the GGN and the MC Fisher, a
// step removing one weight or a group of 8: each run removes the asked
// number of weights, leaves them at exactly 0 and ends at a lower
// training error than magnitude pruning. With every downdate exact
// (kfac:1000) this holds at the default damping; the plain kfac, which
// drops a deleted weight's row and column instead, needs alpha = 1e-3
// here (at the default 1e-6 its one-shot updates overshoot, E 0.69 for
// the GGN against magnitude's 0.098, as dense OBS's do at 50% on this
// set, see TestPruneCNNEveryMethod).
func TestPruneCNNKFAC(t *testing.T) {
	net, X, T := tinyCNN(t, "conv:3:3:p=1,relu,maxpool:2,conv:4:2:nobias,tanh,flatten,linear:4")
	run := func(cfg prune.Config, group int) *model.MLP {
		cfg.Group = group
		return pruneHalfWeights(t, net, X, T, cfg)
	}
	eMag, _ := run(prune.Config{Method: prune.Magnitude}, 1).Evaluate(X, T)
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.MCFisher} {
		for _, c := range []struct {
			st    prune.KFAC
			alpha float64
		}{{prune.KFAC{}, 1e-3}, {prune.KFAC{Exact: 1000}, 0}} {
			for _, group := range []int{1, 8} {
				m := run(prune.Config{Method: prune.OBS, Curvature: kind, CurvatureOptions: &hessian.Options{Samples: 2, Seed: 3}, Structure: c.st, Alpha: c.alpha}, group)
				e, _ := m.Evaluate(X, T)
				what := fmt.Sprintf("%v %v alpha %g, groups of %d", kind, c.st, c.alpha, group)
				t.Logf("%s: E %.4f, magnitude %.4f", what, e, eMag)
				if e >= eMag {
					t.Errorf("%s: E %.4g, magnitude pruning %.4g", what, e, eMag)
				}
			}
		}
	}
}

// pruneHalfWeights prunes a clone of net one-shot under cfg to half of its
// weights (biases kept) and checks that exactly that many weights went,
// each left at 0.
func pruneHalfWeights(t *testing.T, net *model.MLP, X, T [][]float64, cfg prune.Config) *model.MLP {
	t.Helper()
	weights := prune.Weights(net)
	nw := 0
	for _, w := range weights {
		if w {
			nw++
		}
	}
	m := net.Clone()
	cfg.Sparsity = 0.5
	cfg.Candidates = weights
	if _, err := prune.OneShot(m, X, T, cfg); err != nil {
		t.Fatal(err)
	}
	gone := 0
	for q, p := range m.Pruned {
		if p {
			gone++
			if !weights[q] || m.Params[q] != 0 {
				t.Fatalf("pruned %s (weight %v) holds %v", m.Name(q), weights[q], m.Params[q])
			}
		}
	}
	if gone != nw/2 {
		t.Fatalf("%d of %d weights pruned, want %d", gone, nw, nw/2)
	}
	return m
}
