package main

import (
	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/prune"
)

func init() { register(20, evalCommand) }

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "evaluate a model on a data set",
		ArgsUsage: " ",
		Description: `Reports the training error E (with the model's weight decay), accuracy where
the targets are 0/1 classes, ||grad E|| and the parameter count of a model file
on --data, and the error and accuracy on a test set where there is one: the
built-in test sets of monk1-3, mnist and nettalk, a CSV --test file, the
held-out rows of --split F, or the test set or split recorded in the model
file (--split 0 switches a recorded split off). Without --data, the data the
model file records are used, and stderr says where a recorded file is read.
It also reports the model's size: architecture, hidden units and
multiply-adds per pattern (dense: every weight of the layers' shapes, what a
dense runtime computes; nonzero: the unpruned weights). --timing also
measures the inference time, the best of at least 5 batched forward passes
over --data (and 0.5 s), in microseconds per pattern: compare a model before
and after obs prune --granularity unit, which writes a physically smaller
network.

Example:
  obs eval --model xor.json --data xor --json`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "model `FILE` written by obs train or obs prune"},
			&cli.BoolFlag{Name: "timing", Usage: "measure the inference time per pattern (batched forward passes over --data)"},
		),
		Action: runEval,
	}
}

type evalSummary struct {
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
	// InferMicros is the measured inference time per pattern (--timing).
	InferMicros *float64 `json:"infer_us_per_pattern,omitempty"`
}

func runEval(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("eval takes no arguments")
	}
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	st := datasets.Evaluate(m, train.Inputs, train.Targets)
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	m.Grad(ws, grad, train.Inputs, train.Targets)
	s := evalSummary{
		Model: c.String("model"), Data: train.Name, DataSource: train.Source, Patterns: train.Len(),
		Params: len(m.Params), FreeParams: m.NumFree(), Error: st.Error, Accuracy: st.Accuracy,
		GradNorm: norm2(grad), SizeFigures: prune.SizeFiguresOf(m),
	}
	if c.Bool("timing") {
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
	if err := emit(c, s); err != nil {
		return err
	}
	// The per-class table is a result: stdout, also with --quiet (the JSON
	// object carries it with --json).
	if s.PerClass != nil && !c.Bool("json") {
		return datasets.WritePerClass(stdoutOf(c), s.PerClassOn, s.PerClass)
	}
	return nil
}
