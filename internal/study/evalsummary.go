package study

import (
	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// obs eval's summary.

// EvalSummary is obs eval's summary of a model on a data set.
type EvalSummary struct {
	Model        string   `json:"model"`
	Data         string   `json:"data"`
	DataSource   string   `json:"data_source"`
	Patterns     int      `json:"patterns"`
	Params       int      `json:"params"`
	FreeParams   int      `json:"free_params"`
	Error        float64  `json:"error"`
	Accuracy     *float64 `json:"accuracy,omitempty"`
	GradNorm     float64  `json:"grad_norm"`
	TestError    *float64 `json:"test_error,omitempty"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	// Regression (targets not all 0/1): root mean squared error and R^2.
	RMSE     *float64 `json:"rmse,omitempty"`
	R2       *float64 `json:"r2,omitempty"`
	TestRMSE *float64 `json:"test_rmse,omitempty"`
	TestR2   *float64 `json:"test_r2,omitempty"`
	// Classifiers: the class names and a per-class table on the test set
	// (or the training set where there is none).
	Classes      []string            `json:"classes,omitempty"`
	PerClassOn   string              `json:"per_class_on,omitempty"`
	PerClass     []datasets.ClassRow `json:"per_class,omitempty"`
	Standardized bool                `json:"standardized"`
	TestPatterns int                 `json:"test_patterns,omitempty"`
	prune.SizeFigures
	// InferMicros is the measured inference time per pattern (timing).
	InferMicros *float64 `json:"infer_us_per_pattern,omitempty"`
}

// NewEvalSummary evaluates m, read from file, on train and test (nil:
// none): E with the weight decay, ||grad E||, accuracy, the size figures,
// and for a classifier (0/1 targets; one output counts as the classes 0
// and 1) the per-class table on the test set, else on train, or for a
// regression RMSE and R^2; with timing, the inference time per pattern
// (prune.InferenceTime). The caller fills in Model.
func NewEvalSummary(m *model.MLP, file *model.File, train, test *datasets.Set, timing bool) EvalSummary {
	st := datasets.Evaluate(m, train.Inputs, train.Targets)
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	// GradAccuracy's gradient is Grad's (bit for bit for MLPs; by the
	// batched passes, to rounding, for large CNNs, which Grad runs one
	// pattern at a time on one core).
	m.GradAccuracy(ws, grad, train.Inputs, train.Targets)
	s := EvalSummary{
		Data: train.Name, DataSource: train.Source, Patterns: train.Len(),
		Params: len(m.Params), FreeParams: m.NumFree(), Error: st.Error, Accuracy: st.Accuracy,
		GradNorm: floats.Norm(grad, 2), SizeFigures: prune.SizeFiguresOf(m),
	}
	if timing {
		s.InferMicros = num(prune.InferenceTime(m, train.Inputs, train.Targets))
	}
	if test != nil {
		te := datasets.Evaluate(m, test.Inputs, test.Targets)
		s.TestError, s.TestAccuracy = &te.Error, te.Accuracy
		s.TestPatterns = test.Len()
	}
	s.Standardized = file.Standardize != nil
	classes := datasets.ClassNames(m, file.Classes)
	if classes == nil && st.Accuracy != nil && m.NumOutputs() == 1 {
		classes = []string{"0", "1"} // 0/1 targets under mse (the MONK's problems)
	}
	if st.Accuracy == nil {
		classes = nil
	}
	if classes == nil {
		rmse, r2 := datasets.Regression(m, train.Inputs, train.Targets)
		s.RMSE, s.R2 = num(rmse), num(r2)
		if test != nil {
			rmse, r2 := datasets.Regression(m, test.Inputs, test.Targets)
			s.TestRMSE, s.TestR2 = num(rmse), num(r2)
		}
	} else if m.NumOutputs() == 1 || m.NumOutputs() == len(classes) {
		on := train
		if test != nil {
			on = test
		}
		s.Classes, s.PerClassOn, s.PerClass = classes, on.Name, datasets.PerClass(m, on.Inputs, on.Targets, classes)
	}
	return s
}
