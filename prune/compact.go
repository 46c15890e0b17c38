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
//
// For a network given by its layers (compactLayered), the rows of every
// weight layer but the last with no unpruned parameter (the filters of
// Granularity ByFilter, a Linear's hidden units) are removed with their
// input channel of the next Conv2d or their columns of the next Linear
// (C*H*W order after Flatten); kept[l-1] lists the rows kept of weight
// layer l. Such a row outputs the constant the activations between the
// layers make of 0 (each pool passes a constant on); a nonzero constant
// is folded into the next layer's biases, which is exact for a Linear
// and for a Conv2d without padding. A row whose constant cannot be folded
// (a padded convolution next, or no bias there) is kept, and so are the
// dead units Plan.RemoveDead would find: only rows with no parameter left
// go.
func Compact(net *model.MLP) (*model.MLP, [][]int) {
	if net.Layered() {
		return compactLayered(net)
	}
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

// compactLayered is Compact for a network given by its layers.
func compactLayered(net *model.MLP) (*model.MLP, [][]int) {
	c := net.Clone()
	L := c.NumLayers()
	ls := c.Layers()
	// at[l] is the index in ls of weight layer l.
	at := make([]int, L+2)
	for k, l := 0, 1; k < len(ls); k++ {
		if ls[k].NumParams() > 0 {
			at[l] = k
			l++
		}
	}
	// cols returns the columns of weight layer l+1 that row j of layer l
	// feeds.
	cols := func(l, j int) []int {
		rows, _, _ := c.LayerShape(l)
		var first, n int
		switch next := c.WeightLayer(l + 1).(type) {
		case model.Conv2d:
			n = next.Kernel * next.Kernel
		case model.Linear:
			n = next.Inputs / rows
		}
		first = j * n
		out := make([]int, n)
		for t := range out {
			out[t] = first + t
		}
		return out
	}
	var kept [][]int
	for l := 1; l < L; l++ {
		rows, width, bias := c.LayerShape(l)
		if bias {
			width++
		}
		// The constant a row with no parameter outputs at layer l+1's
		// input.
		v := []float64{0}
		for _, ly := range ls[at[l]+1 : at[l+1]] {
			if a, ok := ly.(model.Act); ok {
				y := []float64{0}
				model.Act{Func: a.Func, Width: 1}.Forward(y, v, nil)
				v = y
			}
		}
		_, nextCols, nextBias := c.LayerShape(l + 1)
		foldable := v[0] == 0 || nextBias
		if cv, ok := c.WeightLayer(l + 1).(model.Conv2d); ok && cv.Padding > 0 && v[0] != 0 {
			foldable = false
		}
		var k []int
		for j := range rows {
			empty := foldable
			for i := range width {
				empty = empty && c.Pruned[c.Index(l, j, i)]
			}
			if !empty {
				k = append(k, j)
			}
		}
		if len(k) == 0 {
			k = []int{0}
		}
		// Fold the constants of the rows removed into the next biases.
		for j, ki := 0, 0; j < rows; j++ {
			if ki < len(k) && k[ki] == j {
				ki++
				continue
			}
			if v[0] == 0 {
				continue
			}
			nrows, _, _ := c.LayerShape(l + 1)
			for r := range nrows {
				b := c.Index(l+1, r, nextCols)
				for _, i := range cols(l, j) {
					if w := c.Params[c.Index(l+1, r, i)]; w != 0 {
						c.Params[b] += v[0] * w
						c.Pruned[b] = false // the bias now holds the constant
					}
				}
			}
		}
		kept = append(kept, k)
	}
	spec := c.Spec
	spec.Layers = append([]model.LayerSpec(nil), c.Spec.Layers...)
	for i, l := 0, 1; i < len(spec.Layers); i++ {
		if spec.Layers[i].HasParams() {
			if l < L {
				spec.Layers[i].Out = len(kept[l-1])
			}
			l++
		}
	}
	out, err := model.New(spec)
	if err != nil {
		panic(fmt.Sprintf("prune: compacting %s: %v", net.Describe(), err))
	}
	for l := 1; l <= L; l++ {
		rows, width, bias := c.LayerShape(l)
		var keepRows []int
		if l < L {
			keepRows = kept[l-1]
		} else {
			for j := range rows {
				keepRows = append(keepRows, j)
			}
		}
		var keepCols []int
		if l == 1 {
			for i := range width {
				keepCols = append(keepCols, i)
			}
		} else {
			for _, j := range kept[l-2] {
				keepCols = append(keepCols, cols(l-1, j)...)
			}
		}
		if bias {
			keepCols = append(keepCols, width)
		}
		for jn, j := range keepRows {
			for in, i := range keepCols {
				q, oq := c.Index(l, j, i), out.Index(l, jn, in)
				out.Params[oq], out.Pruned[oq] = c.Params[q], c.Pruned[q]
			}
		}
	}
	return out, kept
}

// MultiplyAdds returns the multiply–adds of one pattern's forward pass
// through net: dense counts every weight of its layers (what a dense
// runtime computes), nonzero only the unpruned weights (biases are adds
// and not counted). A convolution's weight counts once per output
// position.
func MultiplyAdds(net *model.MLP) (dense, nonzero int) {
	for l := 1; l <= net.NumLayers(); l++ {
		rows, cols, _ := net.LayerShape(l)
		uses := 1
		if c, ok := net.WeightLayer(l).(model.Conv2d); ok {
			uses = c.OutHeight() * c.OutWidth()
		}
		for j := range rows {
			for i := range cols {
				dense += uses
				if !net.Pruned[net.Index(l, j, i)] {
					nonzero += uses
				}
			}
		}
	}
	return dense, nonzero
}
