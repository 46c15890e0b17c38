package datasets

import (
	"fmt"
	"math"
	"strings"

	"github.com/obs-toolkit/obs/model"
)

// Checks that a data set suits a network, and the default network for a
// data set.

// CheckTargets returns a one-line error, naming the fix, when the targets
// cannot be reached by the network's output or are not what its loss
// expects: values outside [0, 1] for bce or a sigmoid output, outside
// [-1, 1] for tanh, and rows that are not probability vectors for ce.
func CheckTargets(spec model.Spec, s *Set) error {
	lo, hi := math.Inf(-1), math.Inf(1)
	switch {
	case spec.Loss == model.BinaryCrossEntropy || spec.Output == model.Sigmoid:
		lo, hi = 0, 1
	case spec.Output == model.Tanh:
		lo, hi = -1, 1
	}
	for p, row := range s.Targets {
		sum := 0.0
		for k, v := range row {
			sum += v
			if v < lo || v > hi {
				fix := "for class labels use --loss ce"
				if spec.Loss == model.SquaredError {
					fix += "; for regression use --out-act identity"
				}
				return fmt.Errorf("%s row %d: target %s = %v is outside [%g, %g], which the %s output with --loss %s cannot reach; %s",
					s.Name, p+1, s.TargetNames[k], v, lo, hi, spec.Output, spec.Loss, fix)
			}
		}
		if spec.Loss == model.CrossEntropy {
			if len(row) < 2 {
				return fmt.Errorf("--loss ce needs one output per class; %s has one target column of numbers: give its class labels as one column with --target", s.Name)
			}
			if math.Abs(sum-1) > 1e-9 || floatsMin(row) < 0 {
				return fmt.Errorf("%s row %d: targets %v are not class probabilities (>= 0, sum 1) as --loss ce needs", s.Name, p+1, row)
			}
		}
	}
	return nil
}

func floatsMin(v []float64) float64 {
	m := math.Inf(1)
	for _, x := range v {
		m = math.Min(m, x)
	}
	return m
}

// CheckFits returns an error unless the data of s fit the network m.
func CheckFits(m *model.MLP, s *Set) error {
	if err := m.CheckData(s.Inputs, s.Targets); err != nil {
		return fmt.Errorf("%s does not fit the model: %v", s.Name, strings.TrimPrefix(err.Error(), "model: "))
	}
	return nil
}

// DefaultArch is the network obs train uses when --arch is not given: the OBS papers'
// networks for XOR and the MONK's problems, one hidden layer of 4 otherwise.
func DefaultArch(data string, s *Set) []int {
	switch data {
	case "xor":
		return []int{2, 2, 1}
	case "monk1":
		return []int{17, 3, 1}
	case "monk2", "monk3":
		return []int{17, 2, 1}
	case "nettalk":
		return []int{s.NumInputs(), 80, s.NumTargets()}
	case "mnist":
		return []int{s.NumInputs(), 300, 100, s.NumTargets()} // LeNet-300-100
	}
	return []int{s.NumInputs(), 4, s.NumTargets()}
}
