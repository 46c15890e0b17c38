package datasets

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/obs-toolkit/obs/model"
)

// WritePredictions writes to w, as CSV, one row per pattern of s: the row
// number (1-based), the outputs of m (every digit, strconv's 'g' -1) and,
// for a classifier (classes not nil: its class names in output order, as
// ClassNames gives them), the class probabilities under the header
// p(CLASS) (p of the second class alone for one sigmoid output), the
// predicted class and, where s has targets, the true class. The outputs of
// a regression are headed by s.TargetNames where s has targets, else out0,
// out1, .... It returns the number of patterns whose predicted class is
// the true one (0 for a regression or without targets).
func WritePredictions(w io.Writer, m *model.MLP, s *Set, classes []string) (correct int, err error) {
	hasTargets := len(s.Targets) > 0 && len(s.Targets[0]) > 0
	header := []string{"row"}
	if classes != nil {
		if m.NumOutputs() == 1 {
			header = append(header, "p("+classes[1]+")")
		} else {
			for _, cl := range classes {
				header = append(header, "p("+cl+")")
			}
		}
		header = append(header, "predicted")
		if hasTargets {
			header = append(header, "true")
		}
	} else {
		for k := range m.NumOutputs() {
			name := fmt.Sprintf("out%d", k)
			if hasTargets && k < len(s.TargetNames) {
				name = s.TargetNames[k]
			}
			header = append(header, name)
		}
	}
	ws := m.NewWorkspace()
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return 0, err
	}
	for p, x := range s.Inputs {
		y := m.Forward(ws, x)
		rec := []string{strconv.Itoa(p + 1)}
		for _, v := range y {
			rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
		}
		if classes != nil {
			k := Predicted(y)
			rec = append(rec, classes[k])
			if hasTargets {
				t := Predicted(s.Targets[p])
				rec = append(rec, classes[t])
				if t == k {
					correct++
				}
			}
		}
		if err := cw.Write(rec); err != nil {
			return 0, err
		}
	}
	cw.Flush()
	return correct, cw.Error()
}
