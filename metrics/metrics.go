// Package metrics evaluates a network on a data set: the training error E
// and accuracy, a per-class table of a classifier (support, predictions,
// recall, precision) and the RMSE and R² of a regression network.
//
// Data come as a datasets.Set (its Inputs and Targets are the X, T of the
// model, hessian and prune packages: P rows of inputs and P rows of
// targets).
package metrics

import (
	"math"
	"strconv"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// Stats are a network's error and accuracy on a set. Accuracy is nil
// unless every target is 0 or 1 (a classification problem).
type Stats struct {
	Error    float64
	Accuracy *float64
}

// BigSet is the size from which Evaluate uses the batched MLP.Evaluate
// (same values up to rounding, many times faster on MNIST); below it the
// per-pattern MLP.Error and MLP.Accuracy keep earlier outputs
// byte-identical.
const BigSet = 10000

// Evaluate returns the error E of m on s (with m's weight decay) and its
// accuracy where s is a classification problem.
func Evaluate(m *model.MLP, s *datasets.Set) Stats {
	if s.Len() >= BigSet {
		e, a := m.Evaluate(s.Inputs, s.Targets)
		st := Stats{Error: e}
		if IsClassification(s) {
			st.Accuracy = &a
		}
		return st
	}
	ws := m.NewWorkspace()
	st := Stats{Error: m.Error(ws, s.Inputs, s.Targets)}
	if IsClassification(s) {
		a := m.Accuracy(ws, s.Inputs, s.Targets)
		st.Accuracy = &a
	}
	return st
}

// IsClassification reports whether every target of s is 0 or 1.
func IsClassification(s *datasets.Set) bool {
	for _, row := range s.Targets {
		for _, v := range row {
			if v != 0 && v != 1 {
				return false
			}
		}
	}
	return true
}

// ClassNames returns the class names of a classifier's outputs: classes
// (a model file's) if not nil, or "0", "1", ... (two for a single sigmoid
// output); nil for a regression network.
func ClassNames(m *model.MLP, classes []string) []string {
	if classes != nil {
		return classes
	}
	k := m.NumOutputs()
	switch {
	case m.Loss == model.CrossEntropy:
	case m.Loss == model.BinaryCrossEntropy && k == 1:
		k = 2
	default:
		return nil
	}
	names := make([]string, k)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names
}

// Predicted returns the index of the class predicted by the output y: the
// largest output, or for a single output 1 when y[0] >= 0.5.
func Predicted(y []float64) int {
	if len(y) == 1 {
		if y[0] >= 0.5 {
			return 1
		}
		return 0
	}
	return floats.MaxIdx(y)
}

// ClassRow is one line of a per-class table.
type ClassRow struct {
	Class     string   `json:"class"`
	Support   int      `json:"support"`
	Predicted int      `json:"predicted"`
	Correct   int      `json:"correct"`
	Recall    *float64 `json:"recall"`
	Precision *float64 `json:"precision"`
}

// PerClass counts, for every class, the patterns of s of that class
// (support), the patterns predicted as it and those right, with recall =
// correct / support and precision = correct / predicted (nil where
// undefined).
func PerClass(m *model.MLP, s *datasets.Set, classes []string) []ClassRow {
	rows := make([]ClassRow, len(classes))
	for k := range rows {
		rows[k].Class = classes[k]
	}
	ws := m.NewWorkspace()
	for p, x := range s.Inputs {
		k := Predicted(m.Forward(ws, x))
		t := Predicted(s.Targets[p])
		rows[t].Support++
		rows[k].Predicted++
		if k == t {
			rows[k].Correct++
		}
	}
	for k := range rows {
		r := &rows[k]
		if r.Support > 0 {
			v := float64(r.Correct) / float64(r.Support)
			r.Recall = &v
		}
		if r.Predicted > 0 {
			v := float64(r.Correct) / float64(r.Predicted)
			r.Precision = &v
		}
	}
	return rows
}

// Regression returns the root mean squared error of m on s over all
// outputs and R² = 1 - SS_res/SS_tot per output, averaged uniformly over
// the outputs (scikit-learn's r2_score default), with SS_tot about the
// set's own mean. R² is NaN for an output whose targets are constant.
func Regression(m *model.MLP, s *datasets.Set) (rmse, r2 float64) {
	ws := m.NewWorkspace()
	K := m.NumOutputs()
	ys := make([][]float64, K)
	ts := make([][]float64, K)
	sq := 0.0
	for p, x := range s.Inputs {
		y := m.Forward(ws, x)
		for k := range K {
			d := y[k] - s.Targets[p][k]
			sq += d * d
			ys[k] = append(ys[k], y[k])
			ts[k] = append(ts[k], s.Targets[p][k])
		}
	}
	rmse = math.Sqrt(sq / float64(s.Len()*K))
	for k := range K {
		r2 += stat.RSquaredFrom(ys[k], ts[k], nil)
	}
	return rmse, r2 / float64(K)
}
