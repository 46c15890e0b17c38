package prune

import (
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Layers is the block-diagonal structure with one block per layer (the
// free weights and biases of layer l, in the order of the parameter
// vector), each with its own inverse (hessian.InverseBlocks). Memory is
// the sum of the squared numbers of free parameters per layer, so it fits
// networks whose largest layer has a few thousand parameters. Its name is
// "layer".
type Layers struct{}

func init() { structureParsers["layer"] = noArg("layer", Layers{}) }

func (Layers) String() string { return "layer" }

// Inverse builds one inverse per layer.
func (Layers) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	return blockInverse(net, curv, cfg, layerStarts(net, curv.Free()))
}

// layerStarts returns the first row of each layer's block among the free
// parameters, followed by len(free).
func layerStarts(net *model.MLP, free []int) []int {
	starts := []int{0}
	layer := func(q int) int { l, _, _ := net.Locate(q); return l }
	for r := 1; r < len(free); r++ {
		if layer(free[r]) != layer(free[r-1]) {
			starts = append(starts, r)
		}
	}
	return append(starts, len(free))
}
