package datasets

import (
	"fmt"
	"math"

	"github.com/obs-toolkit/obs/model"
)

// LabelsFor reports whether a CSV target column is read as class labels
// for a network with loss (softmax or sigmoid cross-entropy) and whether
// it is binary (one sigmoid output): the Labels and Binary of CSVOptions.
func LabelsFor(loss model.Loss) (labels, binary bool) {
	switch loss {
	case model.CrossEntropy:
		return true, false
	case model.BinaryCrossEntropy:
		return true, true
	}
	return false, false
}

// Standardization returns the statistics of s's inputs as a model's
// standardisation (InputStats), with a constant input's deviation 0
// stored as 1 (the input is only centred). It returns an error naming the
// column where a standardised value (x - mean) / std would not be a finite
// number: values so large that x - mean overflows.
func (s *Set) Standardization() (*model.Standardization, error) {
	mean, std := s.InputStats()
	for i := range std {
		if std[i] == 0 {
			std[i] = 1
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range s.Inputs {
			lo, hi = math.Min(lo, x[i]), math.Max(hi, x[i])
		}
		a, b := (lo-mean[i])/std[i], (hi-mean[i])/std[i]
		if math.IsNaN(mean[i]) || math.IsInf(mean[i], 0) || math.IsInf(std[i], 0) || math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsNaN(a) || math.IsNaN(b) {
			name := fmt.Sprintf("%d", i+1)
			if i < len(s.InputNames) {
				name = fmt.Sprintf("%q", s.InputNames[i])
			}
			return nil, fmt.Errorf("datasets: %s: input column %s (values from %g to %g) is out of the range that can be standardised: x - mean overflows float64; rescale the column", s.Name, name, lo, hi)
		}
	}
	return &model.Standardization{Mean: mean, Std: std}, nil
}
