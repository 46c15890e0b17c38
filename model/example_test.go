package model_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/obs-toolkit/obs/model"
)

// A 2-2-1 network from a Spec of sizes alone (zero fields are defaults:
// sigmoid units, squared error), trained on XOR with the default trainer.
func ExampleTrain() {
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	T := [][]float64{{0}, {1}, {1}, {0}}
	net, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Decay: 1e-4})
	if err != nil {
		panic(err)
	}
	net.Init(rand.New(rand.NewPCG(4, 0)))
	res, err := model.Train(net, X, T, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(net.Hidden, net.Output, net.Loss, len(net.Params), "parameters")
	fmt.Printf("converged: %v, accuracy %.0f%%\n", res.GradNorm < 1e-6, 100*net.Accuracy(net.NewWorkspace(), X, T))
	// Output:
	// sigmoid sigmoid mse 9 parameters
	// converged: true, accuracy 100%
}
