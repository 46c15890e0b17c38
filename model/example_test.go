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

// A network is a sequence of layers over one flat parameter vector; the
// output activation (here the softmax of cross-entropy) belongs to the loss.
func ExampleMLP_Layers() {
	net, err := model.New(model.Spec{Sizes: []int{2, 3, 4}, Hidden: model.GELU, Loss: model.CrossEntropy})
	if err != nil {
		panic(err)
	}
	for _, ly := range net.Layers() {
		fmt.Printf("%T %d -> %d, %d parameters\n", ly, ly.In(), ly.Out(), ly.NumParams())
	}
	fmt.Println(len(net.Params), "parameters in all, output", net.Output)
	// Output:
	// model.Linear 2 -> 3, 9 parameters
	// model.Act 3 -> 3, 0 parameters
	// model.Linear 3 -> 4, 16 parameters
	// 25 parameters in all, output softmax
}

// One layer's rules: y = W x + b, and the vector–Jacobian product for the
// cotangent gy = 1: the input gradient W^T gy and the parameter gradient
// (gy x, then gy for the bias, in the block's order). Without bias the
// block is W alone.
func ExampleLinear() {
	x := []float64{3, 4}
	lin := model.Linear{Inputs: 2, Outputs: 1}
	theta := []float64{1, 2, 0.5} // W = [1 2], b = 0.5
	y := make([]float64, 1)
	lin.Forward(y, x, theta)
	gx, gtheta := make([]float64, 2), make([]float64, 3)
	lin.Backward(gx, gtheta, []float64{1}, x, y, theta)
	fmt.Println(y, gx, gtheta)

	noBias := model.Linear{Inputs: 2, Outputs: 1, NoBias: true}
	noBias.Forward(y, x, theta[:2])
	fmt.Println(noBias.NumParams(), y)
	// Output:
	// [11.5] [1 2] [3 4 1]
	// 2 [11]
}
