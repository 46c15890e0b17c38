package study

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// layerNet returns a random 8-6-5-3 tanh classifier and 40 random
// patterns with random classes, the first 30 for training.
func layerNet(t *testing.T) (*model.MLP, *datasets.Set, *datasets.Set) {
	t.Helper()
	m, err := model.New(model.Spec{Sizes: []int{8, 6, 5, 3}, Hidden: model.Tanh, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	m.Init(rng)
	sets := [2]*datasets.Set{{Name: "train"}, {Name: "test"}}
	for p := range 40 {
		x, y := make([]float64, 8), make([]float64, 3)
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		y[rng.IntN(3)] = 1
		s := sets[p/30]
		s.Inputs, s.Targets = append(s.Inputs, x), append(s.Targets, y)
	}
	return m, sets[0], sets[1]
}

// PruneLayerwise prunes as prune.LayerwiseOBS on the calibration patterns
// does, bit for bit, and its summary's figures are those measured on the
// network before and after; Progress starts at (0, rows).
func TestPruneLayerwiseSummary(t *testing.T) {
	m, train, test := layerNet(t)
	want := m.Clone()
	res, err := prune.LayerwiseOBS(want, train.Inputs[:20], 0.5, &prune.LayerwiseSettings{Damp: 0.01, Allocation: prune.Global})
	if err != nil {
		t.Fatal(err)
	}
	before := datasets.Evaluate(m, train.Inputs, train.Targets)
	var calls [][2]int
	net := m.Clone()
	s, err := PruneLayerwise(net, train, test, LayerConfig{Sparsity: 0.5, Allocation: prune.Global, Calib: 20, Damp: 0.01,
		Progress: func(done, total int) { calls = append(calls, [2]int{done, total}) }})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(net.Params, want.Params) || !slices.Equal(net.Pruned, want.Pruned) {
		t.Fatal("PruneLayerwise pruned otherwise than prune.LayerwiseOBS")
	}
	after := datasets.Evaluate(want, train.Inputs, train.Targets)
	if s.ParamsBefore != m.NumFree() || s.ParamsAfter != want.NumFree() || s.ParamsAfter >= s.ParamsBefore ||
		s.TrainErrorBefore != before.Error || s.TrainErrorAfter != after.Error || *s.TrainAccBefore != *before.Accuracy ||
		*s.TestAccAfter != *datasets.Evaluate(want, test.Inputs, test.Targets).Accuracy {
		t.Errorf("summary %+v, want before %+v, after %+v", s.BeforeAfter, before, after)
	}
	if s.Sparsity != res.Sparsity || !slices.Equal(s.LayerError, res.LayerError) || s.Calibration != 20 || s.Allocation != "global" {
		t.Errorf("summary %+v, result %+v", s, res)
	}
	if len(calls) < 2 || calls[0] != [2]int{0, 6 + 5 + 3} || calls[len(calls)-1] != [2]int{14, 14} {
		t.Errorf("progress %v, want (0, 14) first and (14, 14) last", calls)
	}
}

// PruneLayerUnits returns the compacted network, which computes what the
// pruned one does with half its hidden units; with N:M it returns the
// pruned network itself, every block of 4 inputs holding 2 zeros.
func TestPruneLayerUnitsSummary(t *testing.T) {
	m, train, _ := layerNet(t)
	net := m.Clone()
	small, s, err := PruneLayerUnits(net, train, nil, LayerConfig{Sparsity: 0.5, Allocation: prune.Global,
		Granularity: prune.Granularity{Kind: prune.ByUnit, Outgoing: true}, Calib: 1000, Damp: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	if s.Before.HiddenUnits != 11 || s.After.HiddenUnits != 6 || !s.Compacted || s.Calibration != train.Len() || s.TestAccAfter != nil {
		t.Errorf("summary %+v: want 11 -> 6 hidden units, compacted, %d calibration patterns, no test", s, train.Len())
	}
	big := datasets.Evaluate(net, train.Inputs, train.Targets).Error
	if e := datasets.Evaluate(small, train.Inputs, train.Targets).Error; s.TrainErrorAfter != e || math.Abs(e-big) > 1e-12*big {
		t.Errorf("E after %v, compacted %v, pruned %v", s.TrainErrorAfter, e, big)
	}
	if s.ParamsAfter != small.NumFree() || s.ParamsBefore != m.NumFree() {
		t.Errorf("parameters %d -> %d, want %d -> %d", s.ParamsBefore, s.ParamsAfter, m.NumFree(), small.NumFree())
	}

	net = m.Clone()
	out, s, err := PruneLayerUnits(net, train, nil, LayerConfig{Granularity: prune.Granularity{Kind: prune.ByNM, N: 2, M: 4}, Calib: 10})
	if err != nil {
		t.Fatal(err)
	}
	if out != net || s.Compacted || s.Sparsity != 0.5 || s.Allocation != "every row" || s.Calibration != 10 {
		t.Errorf("N:M summary %+v", s)
	}
	for _, blk := range prune.NMBlocks(net, 4) {
		zeros := 0
		for _, q := range blk {
			if net.Pruned[q] {
				zeros++
			}
		}
		if zeros < 2 {
			t.Fatalf("block %v has %d pruned weights, want 2", blk, zeros)
		}
	}
}
