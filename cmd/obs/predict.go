package main

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/model"
)

func init() { register(25, predictCommand) }

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:      "predict",
		Usage:     "write a model's outputs for every row of a data set",
		ArgsUsage: " ",
		Description: `Writes one CSV row per input row of --data: the row number (1-based, in file
order), the network's outputs and, for a classifier, the class probabilities
p(CLASS) and the predicted class (and the true class where the file has the
target column). The model's stored standardisation and class names are used.
Every row of --data is predicted: a --split recorded in the model is ignored.
The target column may be missing from the file.

Example:
  obs predict --model wine.json --data wine.csv --out preds.csv`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "model `FILE`"},
			&cli.StringFlag{Name: "out", Usage: "CSV `FILE` to write (default: stdout)"},
		),
		Action: runPredict,
	}
}

type predictSummary struct {
	Model    string   `json:"model"`
	Data     string   `json:"data"`
	Out      string   `json:"out"`
	Rows     int      `json:"rows"`
	Classes  []string `json:"classes,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
}

func runPredict(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("predict takes no arguments")
	}
	out := c.String("out")
	if out == "" && c.Bool("json") {
		return usagef("--json prints the summary on stdout; give --out for the predictions")
	}
	if c.IsSet("test") || c.IsSet("split") || c.IsSet("split-seed") {
		return usagef("predict writes every row of --data; --test, --split and --split-seed do not apply")
	}
	if out != "" {
		if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
			return err
		}
	}
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return err
	}
	dc := ctxOf(m, file)
	dc.noTarget, dc.noSplit = true, true
	s, _, _, err := loadDataWith(c, dc)
	if err != nil {
		return err
	}
	if s.NumInputs() != m.NumInputs() {
		return fmt.Errorf("%s has %d input columns %q but the network (%s) takes %d", s.Name, s.NumInputs(), s.InputNames, m.Describe(), m.NumInputs())
	}
	hasTargets := len(s.Targets) > 0 && len(s.Targets[0]) > 0
	if hasTargets {
		if err := datasets.CheckFits(m, s); err != nil {
			return err
		}
	}
	classes := datasets.ClassNames(m, file.Classes)
	right := 0
	write := func(w io.Writer) error {
		var err error
		right, err = datasets.WritePredictions(w, m, s, classes)
		return err
	}
	if out == "" {
		return write(stdoutOf(c))
	}
	if err := atomicfile.Write(out, write); err != nil {
		return err
	}
	sum := predictSummary{Model: c.String("model"), Data: s.Source, Out: out, Rows: s.Len(), Classes: classes}
	if classes != nil && hasTargets {
		a := float64(right) / float64(s.Len())
		sum.Accuracy = &a
	}
	info(c, "wrote %s (%d rows)\n", out, s.Len())
	return emit(c, sum)
}
