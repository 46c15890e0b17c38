package datasets

import (
	"fmt"
	"math"
)

// Set is a supervised data set: P patterns, N inputs and K targets.
type Set struct {
	// Name is a short name, such as "monk1-train", "xor" or a file's base
	// name.
	Name string

	// Source is human-readable provenance, such as "built-in XOR" or the
	// path of the file the set was read from.
	Source string

	// Inputs holds the P x N input patterns, one row per pattern.
	Inputs [][]float64

	// Targets holds the P x K targets, one row per pattern.
	Targets [][]float64

	// InputNames names the N input columns.
	InputNames []string

	// TargetNames names the K target columns.
	TargetNames []string

	// Classes names the classes of a set read with class labels: one per
	// target (one-hot), or the negative and the positive class of a single
	// 0/1 target. It is nil for numeric targets.
	Classes []string
}

// Len returns the number of patterns P.
func (s *Set) Len() int { return len(s.Inputs) }

// NumInputs returns the number of inputs N, taken from the input names.
func (s *Set) NumInputs() int { return len(s.InputNames) }

// NumTargets returns the number of targets K, taken from the target names.
func (s *Set) NumTargets() int { return len(s.TargetNames) }

// Validate reports whether s is a usable data set: at least one pattern, input
// and target; as many target rows as input rows; every input row of length
// len(InputNames) and every target row of length len(TargetNames); and every
// value finite. The error names the offending row and column (0-based, as Go
// indexes them).
func (s *Set) Validate() error {
	if s == nil {
		return fmt.Errorf("datasets: nil Set")
	}
	n, k := len(s.InputNames), len(s.TargetNames)
	switch {
	case len(s.Inputs) == 0:
		return fmt.Errorf("datasets: set %q has no patterns", s.Name)
	case n == 0:
		return fmt.Errorf("datasets: set %q has no inputs", s.Name)
	case k == 0:
		return fmt.Errorf("datasets: set %q has no targets", s.Name)
	case len(s.Targets) != len(s.Inputs):
		return fmt.Errorf("datasets: set %q has %d input rows but %d target rows", s.Name, len(s.Inputs), len(s.Targets))
	}
	if err := checkMatrix(s.Name, "Inputs", s.Inputs, n); err != nil {
		return err
	}
	return checkMatrix(s.Name, "Targets", s.Targets, k)
}

// checkMatrix checks that every row of m has length cols and only finite
// values.
func checkMatrix(name, field string, m [][]float64, cols int) error {
	for i, row := range m {
		if len(row) != cols {
			return fmt.Errorf("datasets: set %q: len(%s[%d]) = %d, want %d", name, field, i, len(row), cols)
		}
		for j, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("datasets: set %q: %s[%d][%d] = %v, want a finite number", name, field, i, j, v)
			}
		}
	}
	return nil
}
