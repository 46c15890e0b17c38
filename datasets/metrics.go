// Metrics: a network evaluated on a data set: the training error E and
// accuracy, a per-class table of a classifier (support, predictions,
// recall, precision) and the RMSE and R² of a regression network. Data
// follow package model's convention, as in hessian and prune: X, T
// [][]float64, P rows of inputs and P rows of targets (a Set gives them as
// Inputs and Targets).

package datasets

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

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

// Evaluate returns the error E of m on X, T (with m's weight decay) and its
// accuracy where T is a classification problem.
func Evaluate(m *model.MLP, X, T [][]float64) Stats {
	if len(X) >= BigSet {
		e, a := m.Evaluate(X, T)
		st := Stats{Error: e}
		if IsClassification(T) {
			st.Accuracy = &a
		}
		return st
	}
	ws := m.NewWorkspace()
	st := Stats{Error: m.Error(ws, X, T)}
	if IsClassification(T) {
		a := m.Accuracy(ws, X, T)
		st.Accuracy = &a
	}
	return st
}

// IsClassification reports whether every target of T is 0 or 1.
func IsClassification(T [][]float64) bool {
	for _, row := range T {
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

// PerClass counts, for every class, the patterns of X, T of that class
// (support), the patterns predicted as it and those right, with recall =
// correct / support and precision = correct / predicted (nil where
// undefined).
func PerClass(m *model.MLP, X, T [][]float64, classes []string) []ClassRow {
	rows := make([]ClassRow, len(classes))
	for k := range rows {
		rows[k].Class = classes[k]
	}
	ws := m.NewWorkspace()
	for p, x := range X {
		k := Predicted(m.Forward(ws, x))
		t := Predicted(T[p])
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

// WritePerClass writes the per-class table rows (PerClass) on the set
// named on as aligned text, as obs eval prints it: after a blank line, a
// heading, then per class its support, predictions, correct ones, recall
// and precision in percent ("-" where undefined).
func WritePerClass(w io.Writer, on string, rows []ClassRow) error {
	pct := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100**p)
	}
	if _, err := fmt.Fprintf(w, "\nper class on %s:\n  %-12s %8s %10s %8s %8s %10s\n", on, "class", "support", "predicted", "correct", "recall", "precision"); err != nil {
		return err
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "  %-12s %8d %10d %8d %8s %10s\n", r.Class, r.Support, r.Predicted, r.Correct, pct(r.Recall), pct(r.Precision)); err != nil {
			return err
		}
	}
	return nil
}

// Regression returns the root mean squared error of m on X, T over all
// outputs and R² = 1 - SS_res/SS_tot per output, averaged uniformly over
// the outputs (scikit-learn's r2_score default), with SS_tot about the
// set's own mean. R² is NaN for an output whose targets are constant.
func Regression(m *model.MLP, X, T [][]float64) (rmse, r2 float64) {
	ws := m.NewWorkspace()
	K := m.NumOutputs()
	ys := make([][]float64, K)
	ts := make([][]float64, K)
	sq := 0.0
	for p, x := range X {
		y := m.Forward(ws, x)
		for k := range K {
			d := y[k] - T[p][k]
			sq += d * d
			ys[k] = append(ys[k], y[k])
			ts[k] = append(ts[k], T[p][k])
		}
	}
	rmse = math.Sqrt(sq / float64(len(X)*K))
	for k := range K {
		r2 += stat.RSquaredFrom(ys[k], ts[k], nil)
	}
	return rmse, r2 / float64(K)
}
