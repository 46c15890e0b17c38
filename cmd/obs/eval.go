package main

import (
	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/study"
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

func runEval(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("eval takes no arguments")
	}
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	s := study.NewEvalSummary(m, file, train, test, c.Bool("timing"))
	s.Model = c.String("model")
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
