package prune

import (
	"github.com/obs-toolkit/obs/model"
)

// unitPaths reports, for hidden unit j of layer l, whether any incoming
// weight (bias excluded) and any outgoing weight survive, and whether any of
// its parameters (incoming weights, bias, outgoing weights) survive.
func unitPaths(net *model.MLP, l, j int) (in, out, any bool) {
	for i := 0; i < net.Sizes[l-1]; i++ {
		if !net.Pruned[net.Index(l, j, i)] {
			in = true
		}
	}
	for k := 0; k < net.Sizes[l+1]; k++ {
		if !net.Pruned[net.Index(l+1, k, j)] {
			out = true
		}
	}
	return in, out, in || out || !net.Pruned[net.Index(l, j, net.Sizes[l-1])]
}

// deadUnits names the hidden units that have lost every incoming or every
// outgoing connection but still own an unpruned parameter.
// Dead units are an MLP's: a network given by its layers has none.
func deadUnits(net *model.MLP) []string {
	if net.Layered() {
		return nil
	}
	var dead []string
	for l := 1; l < net.NumLayers(); l++ {
		for j := 0; j < net.Sizes[l]; j++ {
			in, out, any := unitPaths(net, l, j)
			if any && (!in || !out) {
				dead = append(dead, unitName(net, l, j))
			}
		}
	}
	return dead
}

func unitName(net *model.MLP, l, j int) string {
	// The name of the unit's bias is "bias->UNIT".
	return net.Name(net.Index(l, j, net.Sizes[l-1]))[len("bias->"):]
}

// removeDead prunes every parameter of dead hidden units without changing
// the network's function: a unit with no outgoing weight loses its incoming
// weights and bias; a unit with no incoming weight outputs the constant
// phi(bias), which is folded into the biases of the units it feeds before
// its outgoing weights are removed (skipped where such a bias was pruned).
// It returns the indices removed, repeating until no dead unit is left.
// A network given by its layers has no dead units (see deadUnits).
func removeDead(net *model.MLP) []int {
	if net.Layered() {
		return nil
	}
	var removed []int
	ws := net.NewWorkspace()
	for changed := true; changed; {
		changed = false
		for l := 1; l < net.NumLayers(); l++ {
			for j := 0; j < net.Sizes[l]; j++ {
				in, out, any := unitPaths(net, l, j)
				if !any || (in && out) {
					continue
				}
				var qs []int
				if in || !out {
					// No outgoing path: nothing the unit computes reaches the output.
					for i := 0; i <= net.Sizes[l-1]; i++ {
						qs = append(qs, net.Index(l, j, i))
					}
				} else {
					c := constantOutput(net, ws, l, j)
					foldable := true
					for k := 0; k < net.Sizes[l+1]; k++ {
						if !net.Pruned[net.Index(l+1, k, j)] && net.Pruned[net.Index(l+1, k, net.Sizes[l])] {
							foldable = false
						}
					}
					if !foldable {
						continue
					}
					for k := 0; k < net.Sizes[l+1]; k++ {
						w := net.Index(l+1, k, j)
						if !net.Pruned[w] {
							net.Params[net.Index(l+1, k, net.Sizes[l])] += net.Params[w] * c
							qs = append(qs, w)
						}
					}
					qs = append(qs, net.Index(l, j, net.Sizes[l-1]))
				}
				for _, q := range qs {
					if !net.Pruned[q] {
						net.Prune(q)
						removed = append(removed, q)
						changed = true
					}
				}
			}
		}
	}
	return removed
}

// constantOutput returns the output of hidden unit j of layer l, which has
// no incoming weights and so is the same for every input.
func constantOutput(net *model.MLP, ws *model.Workspace, l, j int) float64 {
	return net.UnitOutput(ws, make([]float64, net.NumInputs()), l, j)
}
