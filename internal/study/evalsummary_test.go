package study

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// NewEvalSummary reads a classifier's figures per class (on the test set
// where there is one; one 0/1 output as the classes 0 and 1) and a
// regression's as RMSE and R^2, and its gradient norm is the batched
// gradient's.
func TestNewEvalSummary(t *testing.T) {
	m, train, test := layerNet(t)
	s := NewEvalSummary(m, &model.File{}, train, test, false)
	if len(s.Classes) != 3 || s.PerClassOn != "test" || len(s.PerClass) != 3 || s.RMSE != nil || s.TestPatterns != 10 || s.InferMicros != nil {
		t.Errorf("classifier: %+v", s)
	}
	grad := make([]float64, len(m.Params))
	m.BatchGrad(grad, train.Inputs, train.Targets)
	if g := floats.Norm(grad, 2); math.Abs(s.GradNorm-g) > 1e-12*g {
		t.Errorf("grad norm %v, batched %v", s.GradNorm, g)
	}
	if s = NewEvalSummary(m, &model.File{}, train, nil, true); s.PerClassOn != "train" || s.TestError != nil || s.InferMicros == nil {
		t.Errorf("classifier without a test set: %+v", s)
	}

	xor := datasets.XOR()
	net, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	s = NewEvalSummary(net, &model.File{Standardize: &model.Standardization{}}, xor, nil, false)
	if len(s.Classes) != 2 || s.Classes[0] != "0" || s.Classes[1] != "1" || s.RMSE != nil || !s.Standardized {
		t.Errorf("0/1 targets: %+v", s)
	}
	reg := &datasets.Set{Name: "reg", Inputs: xor.Inputs, Targets: [][]float64{{0.2}, {0.5}, {0.7}, {0.1}}}
	s = NewEvalSummary(net, &model.File{}, reg, nil, false)
	rmse, r2 := datasets.Regression(net, reg.Inputs, reg.Targets)
	if s.Classes != nil || s.PerClass != nil || s.RMSE == nil || *s.RMSE != rmse || *s.R2 != r2 || s.Accuracy != nil {
		t.Errorf("regression: %+v", s)
	}
}
