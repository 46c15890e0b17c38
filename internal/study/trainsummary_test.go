package study

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// obs train's summary states what the trainers returned and the network's
// figures as datasets.Evaluate measures them, and the provenance repeats
// them.
func TestTrainSummary(t *testing.T) {
	xor := datasets.XOR()
	spec := model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 1e-3}
	net, err := model.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	net, rr, err := model.TrainRestarts(net, xor.Inputs, xor.Targets, nil, newRand(1, streamStudent), 3)
	if err != nil {
		t.Fatal(err)
	}
	s := NewFullBatchSummary(rr, 3)
	s.Complete(net, spec, xor, xor, 7, false)
	st := datasets.Evaluate(net, xor.Inputs, xor.Targets)
	if s.GradNorm != rr.Best.GradNorm || s.Converged != rr.Best.Converged || !slices.Equal(s.RestartErrors, rr.Errors) || s.Restarts != 3 ||
		s.TrainError != st.Error || *s.TestError != st.Error || s.Arch != "2-2-1" || s.Params != 9 || *s.Seed != 7 || s.TestPatterns != 4 {
		t.Errorf("full batch: %+v, restarts %+v", s, rr)
	}
	p := s.Provenance("obs train")
	if *p.Seed != 7 || *p.TrainError != s.TrainError || *p.GradNorm != s.GradNorm || p.Trainer != s.Trainer || p.Status != s.Status || p.Data != "xor" {
		t.Errorf("provenance %+v of %+v", p, s)
	}

	m, train, _ := layerNet(t)
	set := &model.MiniBatchSettings{Epochs: 2, BatchSize: 8, Seed: 1}
	res, err := model.TrainMiniBatch(m, train.Inputs, train.Targets, set)
	if err != nil {
		t.Fatal(err)
	}
	s = NewMiniBatchSummary(m, train, set, res, 0)
	grad := make([]float64, len(m.Params))
	m.Grad(m.NewWorkspace(), grad, train.Inputs, train.Targets)
	if g := floats.Norm(grad, 2); math.Abs(s.GradNorm-g) > 1e-12*g || s.Epochs != 2 || s.Iterations != res.Steps || s.BatchSize != 8 || s.RestartErrors[0] != res.E {
		t.Errorf("mini-batch: %+v, result %+v, grad norm %v", s, res, g)
	}
}
