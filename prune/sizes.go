package prune

import (
	"time"

	"github.com/obs-toolkit/obs/model"
)

// The size and speed figures of a pruned network (obs prune's and obs
// eval's "before"/"after" and --timing), beside MultiplyAdds.

// HiddenUnits returns the hidden units of an MLP of layer sizes.
func HiddenUnits(sizes []int) int {
	n := 0
	for _, s := range sizes[1 : len(sizes)-1] {
		n += s
	}
	return n
}

// SizeFigures are the size and cost figures of a network, before or after
// pruning.
type SizeFigures struct {
	Arch        string `json:"arch"`
	HiddenUnits int    `json:"hidden_units"`
	// MultiplyAdds is a dense forward pass's per pattern (every weight of
	// the layers' shapes), NonzeroMultiplyAdds the unpruned weights'.
	MultiplyAdds        int `json:"multiply_adds"`
	NonzeroMultiplyAdds int `json:"nonzero_multiply_adds"`
}

// SizeFiguresOf returns m's size figures. For a network given by its
// layers, the hidden units are the rows (units, conv channels) of its
// weight layers but the last.
func SizeFiguresOf(m *model.MLP) SizeFigures {
	d, nz := MultiplyAdds(m)
	if m.Layered() {
		units := 0
		for l := 1; l < m.NumLayers(); l++ {
			r, _, _ := m.LayerShape(l)
			units += r
		}
		return SizeFigures{Arch: m.Describe(), HiddenUnits: units, MultiplyAdds: d, NonzeroMultiplyAdds: nz}
	}
	return SizeFigures{Arch: model.Arch(m.Sizes), HiddenUnits: HiddenUnits(m.Sizes), MultiplyAdds: d, NonzeroMultiplyAdds: nz}
}

// InferenceTime measures the forward pass of m on X (batched, as
// model.MLP.Evaluate runs it): the best of at least 5 passes and 0.5 s,
// in microseconds per pattern.
func InferenceTime(m *model.MLP, X, T [][]float64) float64 {
	best := time.Duration(1<<63 - 1)
	start := time.Now()
	for i := 0; i < 5 || time.Since(start) < 500*time.Millisecond; i++ {
		t0 := time.Now()
		m.Evaluate(X, T)
		best = min(best, time.Since(t0))
	}
	return best.Seconds() * 1e6 / float64(len(X))
}
