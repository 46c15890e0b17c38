package datasets

import "github.com/obs-toolkit/obs/model"

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
// stored as 1 (the input is only centred).
func (s *Set) Standardization() *model.Standardization {
	mean, std := s.InputStats()
	for i := range std {
		if std[i] == 0 {
			std[i] = 1
		}
	}
	return &model.Standardization{Mean: mean, Std: std}
}
