package datasets

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// encodeLabels replaces the placeholder targets of s by the encoding of the
// class labels (one per pattern) and sets s.Classes and s.TargetNames.
func (s *Set) encodeLabels(labels []string, opts CSVOptions) error {
	col := s.TargetNames[0]
	classes := opts.Classes
	if len(classes) == 0 {
		classes = LabelOrder(labels)
		if len(classes) < 2 {
			return fmt.Errorf("datasets: %s: target column %q holds one class (%q); a classifier needs at least two", s.Source, col, classes[0])
		}
	}
	index := make(map[string]int, len(classes))
	for i, c := range classes {
		index[c] = i
	}
	if opts.Binary && len(classes) != 2 {
		return fmt.Errorf("datasets: %s: target column %q holds %d classes %s; --loss bce takes two: use --loss ce", s.Source, col, len(classes), quoteList(first(classes, 6)))
	}
	for p, l := range labels {
		i, ok := index[l]
		if !ok {
			return &UnknownClassError{fmt.Sprintf("datasets: %s: pattern %d has class %q, not one of %s", s.Source, p+1, l, quoteList(first(classes, 10)))}
		}
		if opts.Binary {
			s.Targets[p] = []float64{float64(i)}
			continue
		}
		t := make([]float64, len(classes))
		t[i] = 1
		s.Targets[p] = t
	}
	s.Classes = append([]string(nil), classes...)
	if opts.Binary {
		s.TargetNames = []string{col + "=" + classes[1]}
		return nil
	}
	s.TargetNames = make([]string, len(classes))
	for i, c := range classes {
		s.TargetNames[i] = col + "=" + c
	}
	return nil
}

// LabelOrder returns the distinct labels in the order used for one-hot
// encoding: ascending numeric order when every label is a number ("1" < "2"
// < "10"), string order otherwise.
func LabelOrder(labels []string) []string {
	seen := map[string]bool{}
	var out []string
	numeric := true
	for _, l := range labels {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
			if _, err := strconv.ParseFloat(l, 64); err != nil {
				numeric = false
			}
		}
	}
	if numeric {
		slices.SortFunc(out, func(a, b string) int {
			x, _ := strconv.ParseFloat(a, 64)
			y, _ := strconv.ParseFloat(b, 64)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return strings.Compare(a, b)
		})
	} else {
		slices.Sort(out)
	}
	return out
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "...")
	}
	return s
}

// UnknownClassError is the error of a class label that is not one of the
// classes given (CSVOptions.Classes).
type UnknownClassError struct{ msg string }

func (e *UnknownClassError) Error() string { return e.msg }
