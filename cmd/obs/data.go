package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

func dataFlags(required bool) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "data", Required: required, Usage: "training data: xor, monk1, monk2, monk3, mnist (built-in) or PATH.csv"},
		&cli.StringFlag{Name: "mnist-dir", Usage: "with --data mnist, read the four IDX files (train-images-idx3-ubyte.gz, ...; gzip or plain) from `DIR` instead of the embedded MNIST, e.g. Fashion-MNIST"},
		&cli.StringFlag{Name: "monk-dir", Usage: "read the original UCI files `DIR`/monks-N.train and monks-N.test instead of the built-in MONK's sample (which is NOT the UCI one)"},
		&cli.StringFlag{Name: "target", Usage: "comma-separated target `COLS` of a CSV file (default: its last column)"},
	}
}

// loadData reads the --data, --monk-dir and --target flags.
func loadData(c *cli.Context) (train, test *datasets.Set, err error) {
	var targets []string
	if t := c.String("target"); t != "" {
		for _, s := range strings.Split(t, ",") {
			targets = append(targets, strings.TrimSpace(s))
		}
	}
	if dir := c.String("mnist-dir"); dir != "" {
		if c.String("data") != "mnist" {
			return nil, nil, usagef("--mnist-dir applies only to --data mnist, not %q", c.String("data"))
		}
		return datasets.LoadMNISTDir(dir)
	}
	train, test, err = datasets.Load(c.String("data"), c.String("monk-dir"), targets)
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// checkFits returns an error unless the data fit the network.
func checkFits(m *model.MLP, s *datasets.Set) error {
	if err := m.CheckData(s.Inputs, s.Targets); err != nil {
		return fmt.Errorf("%s does not fit the model: %v", s.Name, strings.TrimPrefix(err.Error(), "model: "))
	}
	return nil
}

// defaultArch is the network used when --arch is not given: the OBS papers'
// networks for XOR and the MONK's problems, one hidden layer of 4 otherwise.
func defaultArch(data string, s *datasets.Set) []int {
	switch data {
	case "xor":
		return []int{2, 2, 1}
	case "monk1":
		return []int{17, 3, 1}
	case "monk2", "monk3":
		return []int{17, 2, 1}
	case "mnist":
		return []int{s.NumInputs(), 300, 100, s.NumTargets()} // LeNet-300-100
	}
	return []int{s.NumInputs(), 4, s.NumTargets()}
}

// setStats evaluates a network on a set. Accuracy is nil unless every
// target is 0 or 1 (a classification problem).
type setStats struct {
	Error    float64
	Accuracy *float64
}

// bigSet is the size from which evalSet uses the batched MLP.Evaluate
// (same values up to rounding, many times faster on MNIST); below it the
// per-pattern Error and Accuracy keep earlier outputs byte-identical.
const bigSet = 10000

func evalSet(m *model.MLP, s *datasets.Set) setStats {
	if s.Len() >= bigSet {
		e, a := m.Evaluate(s.Inputs, s.Targets)
		st := setStats{Error: e}
		if isClassification(s) {
			st.Accuracy = &a
		}
		return st
	}
	ws := m.NewWorkspace()
	st := setStats{Error: m.Error(ws, s.Inputs, s.Targets)}
	if isClassification(s) {
		a := m.Accuracy(ws, s.Inputs, s.Targets)
		st.Accuracy = &a
	}
	return st
}

func isClassification(s *datasets.Set) bool {
	for _, row := range s.Targets {
		for _, v := range row {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

// loadModelData reads --model and the data flags and checks that the
// training and test sets fit the model.
func loadModelData(c *cli.Context) (*model.MLP, *model.File, *datasets.Set, *datasets.Set, error) {
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	train, test, err := loadData(c)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	for _, s := range []*datasets.Set{train, test} {
		if s != nil {
			if err := checkFits(m, s); err != nil {
				return nil, nil, nil, nil, err
			}
		}
	}
	return m, file, train, test, nil
}
