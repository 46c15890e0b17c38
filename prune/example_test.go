package prune_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Train, prune and read the result: the snippet of the README's "Train and
// prune from scratch" (TestREADMESnippet keeps the two identical). Data are X, T, P
// rows each, as everywhere in model, hessian and prune.
func Example() {
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}       // P rows of inputs (XOR)
	T := [][]float64{{0}, {1}, {1}, {0}}                   // P rows of targets
	net, _ := model.New(model.Spec{Sizes: []int{2, 2, 1}}) // zero fields: sigmoid units, squared error
	net.Init(rand.New(rand.NewPCG(4, 0)))                  // seeded Glorot weights
	model.Train(net, X, T, nil)                            // L-BFGS to ||grad E|| <= 1e-8
	res, err := prune.Run(net, X, T, prune.Config{         // the zero Curvature is GGN
		Method:    prune.OBS,
		Structure: prune.Blocks{Size: 4}, // WoodFisher blocks; nil is dense
		Recompute: 1,                     // rebuild after every deletion
		Keep:      6,                     // stop at 6 parameters left
	})
	fmt.Println(res.Method, res.End.Params, err)
	// Output: obs-ggn-block4 6 <nil>
}

// xor returns a 2-2-1 sigmoid network trained on XOR to a minimum, and the
// data X, T.
func xor() (net *model.MLP, X, T [][]float64) {
	set := datasets.XOR()
	net, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Decay: 1e-4})
	if err != nil {
		panic(err)
	}
	net.Init(rand.New(rand.NewPCG(4, 0)))
	if _, err := model.Train(net, set.Inputs, set.Targets, nil); err != nil {
		panic(err)
	}
	return net, set.Inputs, set.Targets
}

// OBS with the Gauss–Newton matrix (the zero Kind) in blocks of 3
// parameters, one parameter per step, the curvature rebuilt after every
// deletion, until a third of the parameters are gone.
func ExampleRun() {
	net, X, T := xor()
	res, err := prune.Run(net, X, T, prune.Config{
		Method:    prune.OBS,
		Structure: prune.Blocks{Size: 3},
		Recompute: 1,
		Sparsity:  0.34,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d -> %d parameters\n", res.Method, res.Start.Params, res.End.Params)
	for _, s := range res.Steps {
		fmt.Printf("%s: predicted %.2g, actual %.2g\n", s.Name, s.Predicted, s.Actual)
	}
	// Output:
	// obs-ggn-block3: 9 -> 6 parameters
	// bias->h1.0: predicted 0.0016, actual 0.049
	// in1->h1.0: predicted 0.0011, actual 0.028
	// in0->h1.0: predicted 0.00061, actual 0.035
}

// A custom loop on the exported steps: build the inverse once, then
// repeatedly delete the parameter of smallest saliency with its OBS update
// and follow the survivors by the downdate.
func ExampleOBSStep() {
	net, X, T := xor()
	curv, err := hessian.New(hessian.GGN, net, X, T, nil)
	if err != nil {
		panic(err)
	}
	inv, _, err := prune.Dense{}.Inverse(net, curv, &prune.Config{Alpha: 1e-6})
	if err != nil {
		panic(err)
	}
	for step := 0; step < 3; step++ {
		best := -1
		for _, q := range net.Free() {
			if best < 0 || prune.Saliency(inv, net.Params, q) < prune.Saliency(inv, net.Params, best) {
				best = q
			}
		}
		u, err := prune.OBSStep(inv, net.Params, []int{best})
		if err != nil {
			panic(err)
		}
		u.Apply(net.Params)
		net.Prune(best)
		if err := inv.Downdate([]int{best}); err != nil {
			panic(err)
		}
		fmt.Printf("deleted %s, predicted increase %.2g\n", net.Name(best), u.Predicted)
	}
	// Output:
	// deleted bias->h1.0, predicted increase 0.00046
	// deleted bias->h1.1, predicted increase 0.00047
	// deleted in0->h1.0, predicted increase 0.0014
}

// The one loop with methods as values: OBS with the Gauss–Newton matrix in
// blocks of 3, the curvature rebuilt after every deletion, measuring every
// step, to a third of the parameters: ExampleRun's run written as a Plan.
// Then magnitude pruning of the weights only (biases kept), in one shot to
// half of them, with a checkpoint on the way.
func ExamplePrune() {
	net, X, T := xor()
	res, err := prune.Prune(context.Background(), net, X, T, &prune.Plan{
		Method:  prune.OBSPruner{Curvature: prune.Terms{Curvature: hessian.GGN}, Structure: prune.Blocks{Size: 3}},
		Rebuild: prune.Every(1),
		Target:  prune.Target{Sparsity: 0.34},
		Measure: true,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d -> %d parameters, removed %v\n", res.Method, res.Start.Params, res.End.Params, res.Removed)

	net, X, T = xor()
	plan := &prune.Plan{
		Method:      prune.MagnitudePruner{},
		Candidates:  prune.Weights(net),
		Checkpoints: []prune.Target{{Sparsity: 0.25}},
		Target:      prune.Target{Sparsity: 0.5},
	}
	plan.Checkpoint = func(int) error { fmt.Println("at 25% of the weights:", net.NumFree(), "parameters left"); return nil }
	if res, err = prune.Prune(context.Background(), net, X, T, plan); err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d -> %d parameters\n", res.Method, res.Start.Params, res.End.Params)
	// Output:
	// obs-ggn-block3: 9 -> 6 parameters, removed [2 1 0]
	// at 25% of the weights: 8 parameters left
	// magnitude: 9 -> 6 parameters
}
