package main

import (
	"github.com/urfave/cli/v2"
)

func init() { register(20, evalCommand) }

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "evaluate a model on a data set",
		ArgsUsage: " ",
		Description: `Reports the training error E (with the model's weight decay), accuracy where
the targets are 0/1 classes, ||grad E|| and the parameter count of a model file
on --data, and on its test set where the data set has one (MONK's problems).

Example:
  obs eval --model xor.json --data xor --json`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "model `FILE` written by obs train or obs prune"},
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
}

func runEval(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("eval takes no arguments")
	}
	m, _, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	st := evalSet(m, train)
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	m.Grad(ws, grad, train.Inputs, train.Targets)
	s := evalSummary{
		Model: c.String("model"), Data: train.Name, DataSource: train.Source, Patterns: train.Len(),
		Params: len(m.Params), FreeParams: m.NumFree(), Error: st.Error, Accuracy: st.Accuracy,
		GradNorm: norm2(grad),
	}
	if test != nil {
		te := evalSet(m, test)
		s.TestError, s.TestAccuracy = &te.Error, te.Accuracy
	}
	return emit(c, s)
}
