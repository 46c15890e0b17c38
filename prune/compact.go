package prune

import (
	"fmt"

	"github.com/obs-toolkit/obs/model"
)

// Compact returns a copy of net without the hidden units it no longer
// uses, and for every hidden layer l the indices in net of the units kept
// (kept[l-1], ascending). It first removes the dead units of the copy as
// Plan.RemoveDead does (a unit with no outgoing weight loses its incoming
// weights and bias; a unit with no incoming weight is a constant phi(bias)
// folded into the biases it feeds), then drops every hidden unit with no
// unpruned parameter: its row of layer l (weights and bias) and its column
// of layer l+1. The copy computes the same function as net up to the
// rounding of the folded biases; its parameters keep their values and
// mask, and a layer with no unit left keeps one (with no parameter) so
// that the network stays valid. net is not modified. The unit pruning of
// Granularity ByUnit leaves the units' groups pruned; Compact makes the
// network physically smaller (784-300-100-10 with 150 and 50 units left
// becomes 784-150-50-10).
func Compact(net *model.MLP) (*model.MLP, [][]int) {
	c := net.Clone()
	removeDead(c)
	sizes := []int{c.Sizes[0]}
	var kept [][]int
	for l := 1; l < c.NumLayers(); l++ {
		var k []int
		for j := range c.Sizes[l] {
			if _, _, any := unitPaths(c, l, j); any {
				k = append(k, j)
			}
		}
		if len(k) == 0 {
			k = []int{0}
		}
		kept = append(kept, k)
		sizes = append(sizes, len(k))
	}
	sizes = append(sizes, c.NumOutputs())
	spec := c.Spec
	spec.Sizes = sizes
	out, err := model.New(spec)
	if err != nil {
		panic(fmt.Sprintf("prune: compacting %s to %s: %v", model.Arch(net.Sizes), model.Arch(sizes), err))
	}
	// all lists every unit of layer l (the input and output layers).
	all := func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	}
	units := func(l int) []int {
		if l == 0 || l == c.NumLayers() {
			return all(c.Sizes[l])
		}
		return kept[l-1]
	}
	for l := 1; l <= c.NumLayers(); l++ {
		rows, cols := units(l), units(l-1)
		for jn, j := range rows {
			for in, i := range cols {
				out.Params[out.Index(l, jn, in)] = c.Params[c.Index(l, j, i)]
				out.Pruned[out.Index(l, jn, in)] = c.Pruned[c.Index(l, j, i)]
			}
			b, ob := c.Index(l, j, c.Sizes[l-1]), out.Index(l, jn, len(cols))
			out.Params[ob], out.Pruned[ob] = c.Params[b], c.Pruned[b]
		}
	}
	return out, kept
}

// MultiplyAdds returns the multiply–adds of one pattern's forward pass
// through net: dense counts every weight of its layers (what a dense
// runtime computes), nonzero only the unpruned weights (biases are adds
// and not counted).
func MultiplyAdds(net *model.MLP) (dense, nonzero int) {
	if net.Layered() {
		return layeredMultiplyAdds(net)
	}
	for l := 1; l <= net.NumLayers(); l++ {
		for j := range net.Sizes[l] {
			for i := range net.Sizes[l-1] {
				dense++
				if !net.Pruned[net.Index(l, j, i)] {
					nonzero++
				}
			}
		}
	}
	return dense, nonzero
}

// layeredMultiplyAdds is MultiplyAdds for a network given by its layers: a
// Linear weight is used once per pattern, a Conv2d weight once per output
// position (OutHeight x OutWidth); biases and parameter-free layers
// (activations, pooling) are not counted.
func layeredMultiplyAdds(net *model.MLP) (dense, nonzero int) {
	off := 0
	for _, layer := range net.Layers() {
		uses := 0
		switch l := layer.(type) {
		case model.Linear:
			uses = 1
		case model.Conv2d:
			uses = l.OutHeight() * l.OutWidth()
		}
		if uses > 0 {
			for q := off; q < off+layer.NumParams(); q++ {
				if net.IsBias(q) {
					continue
				}
				dense += uses
				if !net.Pruned[q] {
					nonzero += uses
				}
			}
		}
		off += layer.NumParams()
	}
	return dense, nonzero
}
