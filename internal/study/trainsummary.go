package study

import (
	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// obs train's summary.

// TrainSummary is obs train's summary of a trained network.
type TrainSummary struct {
	Out           string    `json:"out"`
	Data          string    `json:"data"`
	DataSource    string    `json:"data_source"`
	Arch          string    `json:"arch"`
	Loss          string    `json:"loss"`
	Decay         float64   `json:"decay"`
	Seed          *uint64   `json:"seed,omitempty"` // nil: no weights drawn (obs train --model, full batch)
	From          string    `json:"from,omitempty"` // obs train --model: the model file training continued from
	Trainer       string    `json:"trainer"`
	Params        int       `json:"params"`
	TrainError    float64   `json:"train_error"`
	TrainAccuracy *float64  `json:"train_accuracy,omitempty"`
	TestError     *float64  `json:"test_error,omitempty"`
	TestAccuracy  *float64  `json:"test_accuracy,omitempty"`
	GradNorm      float64   `json:"grad_norm"`
	Converged     bool      `json:"converged"`
	Restarts      int       `json:"restarts"`
	RestartErrors []float64 `json:"restart_errors"`
	Iterations    int       `json:"iterations"`
	Evaluations   int       `json:"evaluations"`
	Status        string    `json:"status"`
	TestData      string    `json:"test_data,omitempty"`
	TestPatterns  int       `json:"test_patterns,omitempty"`
	Standardized  bool      `json:"standardized"`
	Classes       []string  `json:"classes,omitempty"`
	Epochs        int       `json:"epochs,omitempty"`
	BatchSize     int       `json:"batch_size,omitempty"`
	LearningRate  float64   `json:"learning_rate,omitempty"`
	LRDecay       float64   `json:"lr_decay,omitempty"`
	// LRSchedule is "cosine" for the cosine schedule and empty for the
	// default step schedule, so that those runs' summaries keep their bytes.
	LRSchedule string    `json:"lr_schedule,omitempty"`
	EpochLoss  []float64 `json:"epoch_loss,omitempty"`
	// TrainSeconds is the wall time of the mini-batch training loop alone
	// (no data loading or evaluation); it is the one field that differs
	// between identical runs.
	TrainSeconds float64 `json:"train_seconds,omitempty"`

	// trainStats, if not nil, are E and the accuracy on the training set
	// already computed by the trainer (NewMiniBatchSummary), which
	// Complete then takes instead of evaluating the set again.
	trainStats *datasets.Stats
}

// NewFullBatchSummary returns the training part of obs train's summary of
// a full-batch run from restarts starts (model.TrainRestarts).
func NewFullBatchSummary(rr model.RestartsResult, restarts int) TrainSummary {
	res := rr.Best
	return TrainSummary{Trainer: res.Method, GradNorm: res.GradNorm, Converged: res.Converged,
		Iterations: res.Iterations, Evaluations: res.Evaluations, Status: res.Status,
		Restarts: restarts, RestartErrors: rr.Errors}
}

// NewMiniBatchSummary returns the training part of obs train's summary of
// m trained on train by model.TrainMiniBatch with set (res its result),
// with ||grad E|| at the final weights; learningRate is the rate as given
// (0: the optimizer's default).
//
// With set.GradNorm the gradient norm is res.GradNorm (else one more pass
// over the training set computes it). On a training set of at least
// datasets.BigSet patterns, Complete takes E and the accuracy from res,
// the values datasets.Evaluate would compute again. With both, training
// is followed by one pass over the training set instead of three.
func NewMiniBatchSummary(m *model.MLP, train *datasets.Set, set *model.MiniBatchSettings, res model.MiniBatchResult, learningRate float64) TrainSummary {
	s := TrainSummary{Trainer: res.Optimizer, GradNorm: res.GradNorm, Restarts: 1, RestartErrors: []float64{res.E},
		Iterations: res.Steps, Evaluations: res.Epochs, Status: res.Status,
		Epochs: res.Epochs, BatchSize: set.BatchSize, LearningRate: learningRate, LRDecay: set.Decay, LRSchedule: schedName(set.Schedule), EpochLoss: res.EpochLoss,
		TrainSeconds: res.Seconds}
	if !set.GradNorm {
		grad := make([]float64, len(m.Params))
		m.BatchGrad(grad, train.Inputs, train.Targets)
		s.GradNorm = floats.Norm(grad, 2)
	}
	if train.Len() >= datasets.BigSet {
		st := datasets.Stats{Error: res.E}
		if datasets.IsClassification(train.Targets) {
			a := res.Accuracy
			st.Accuracy = &a
		}
		s.trainStats = &st
	}
	return s
}

// Complete fills in the rest of s for m, made from spec and trained from
// seed on train (test: the held-out set or nil; standardized: inputs
// standardised by the training set's statistics): the data, the network
// and its E and accuracy on both sets. The caller fills in Out. train
// must be the set the summary was made for.
func (s *TrainSummary) Complete(m *model.MLP, spec model.Spec, train, test *datasets.Set, seed uint64, standardized bool) {
	s.Data, s.DataSource, s.Arch = train.Name, train.Source, spec.Describe()
	s.Loss, s.Decay, s.Seed, s.Params = spec.Loss.String(), spec.Decay, &seed, len(m.Params)
	s.Standardized, s.Classes = standardized, train.Classes
	if test != nil {
		s.TestData, s.TestPatterns = test.Source, test.Len()
	}
	tr := s.trainStats
	if tr == nil {
		st := datasets.Evaluate(m, train.Inputs, train.Targets)
		tr = &st
	}
	s.TrainError, s.TrainAccuracy = tr.Error, tr.Accuracy
	if test != nil {
		te := datasets.Evaluate(m, test.Inputs, test.Targets)
		s.TestError, s.TestAccuracy = &te.Error, te.Accuracy
	}
}

// Provenance returns the model file's record of the training s summarises,
// run by command.
func (s *TrainSummary) Provenance(command string) model.Provenance {
	var seed *uint64
	if s.Seed != nil {
		v := *s.Seed
		seed = &v
	}
	return model.Provenance{
		Command: command, Data: s.Data, DataSource: s.DataSource,
		Seed: seed, Trainer: s.Trainer, TrainError: &s.TrainError, GradNorm: &s.GradNorm,
		TrainAccuracy: s.TrainAccuracy, TestAccuracy: s.TestAccuracy,
		Iterations: s.Iterations, Evaluations: s.Evaluations, Status: s.Status,
	}
}

// schedName is TrainSummary.LRSchedule for schedule s.
func schedName(s model.Schedule) string {
	if s == model.StepDecay {
		return ""
	}
	return s.String()
}
