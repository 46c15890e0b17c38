package prune

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// fmtFloat formats v with the fewest digits that read back exactly; NaN is
// an empty cell (a missing value to pandas, R and spreadsheets).
func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// StepHeader returns the CSV header of WriteStepsCSV (a new slice: the
// header is not a variable a caller could change).
func StepHeader() []string { return slices.Clone(stepHeader) }

var stepHeader = []string{"run", "step", "index", "name", "method", "saliency", "predicted", "e_before", "e_after",
	"actual", "retrained", "rebuilt", "train_error", "train_accuracy", "test_error", "test_accuracy", "left", "grad_norm", "dead_units"}

// WriteStepsCSV writes one row per step, with a header when header is true.
// run labels the rows (a method name, a seed) so several runs share a file.
func WriteStepsCSV(w io.Writer, run string, steps []Step, header bool) error {
	cw := csv.NewWriter(w)
	if header {
		if err := cw.Write(stepHeader); err != nil {
			return err
		}
	}
	for _, s := range steps {
		idx := make([]string, len(s.Indices))
		for i, q := range s.Indices {
			idx[i] = strconv.Itoa(q)
		}
		rec := []string{run, strconv.Itoa(s.Step), strings.Join(idx, "+"), s.Name, s.Method,
			fmtFloat(s.Saliency), fmtFloat(s.Predicted), fmtFloat(s.EBefore), fmtFloat(s.EAfter), fmtFloat(s.Actual),
			strconv.FormatBool(s.Retrained), strconv.FormatBool(s.Rebuilt),
			fmtFloat(s.TrainError), fmtFloat(s.TrainAccuracy), fmtFloat(s.TestError), fmtFloat(s.TestAccuracy),
			strconv.Itoa(s.Left), fmtFloat(s.GradNorm), strings.Join(s.DeadUnits, " ")}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteCandidatesCSV writes one row per candidate of an analysis.
func WriteCandidatesCSV(w io.Writer, a *Analysis) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"index", "name", "weight", "saliency", "predicted", "actual", "zeroed", "retrained",
		"rank_saliency", "rank_actual", "rank_retrained"})
	for _, c := range a.Candidates {
		cw.Write([]string{strconv.Itoa(c.Index), c.Name, fmtFloat(c.Weight), fmtFloat(c.Saliency), fmtFloat(c.Predicted),
			fmtFloat(c.Actual), fmtFloat(c.Zeroed), fmtFloat(c.Retrained),
			fmtFloat(c.RankSaliency), fmtFloat(c.RankActual), fmtFloat(c.RankRetrained)})
	}
	cw.Flush()
	return cw.Error()
}

// WriteCandidatesTable writes the top candidates of an analysis with the
// lowest saliency (all where top exceeds them; ties in the analysis's
// order) as aligned text, as obs saliency prints them: a line with the
// method, E and ||grad E||, a heading, then per candidate its name,
// weight, saliency, predicted and actual increase and the increase after
// retraining.
func WriteCandidatesTable(w io.Writer, a *Analysis, top int) error {
	cs := append([]Candidate(nil), a.Candidates...)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].Saliency < cs[j].Saliency })
	top = max(0, min(top, len(cs)))
	if _, err := fmt.Fprintf(w, "%s at E = %.4g, ||grad E|| = %.2g\n", a.Method, a.E, a.GradNorm); err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "  %-16s %12s %12s %12s %12s %12s\n", "parameter", "weight", "saliency", "predicted", "actual", "retrained"); err != nil {
		return err
	}
	for _, c := range cs[:top] {
		if _, err := fmt.Fprintf(w, "  %-16s %12.4g %12.4g %12.4g %12.4g %12.4g\n", c.Name, c.Weight, c.Saliency, c.Predicted, c.Actual, c.Retrained); err != nil {
			return err
		}
	}
	return nil
}
