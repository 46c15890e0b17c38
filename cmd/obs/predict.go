package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/model"
)

func init() { register(25, predictCommand) }

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:      "predict",
		Usage:     "write a model's outputs for every row of a data set",
		ArgsUsage: " ",
		Description: `Writes one CSV row per input row of --data: the row number (1-based, in file
order), the network's outputs and, for a classifier, the class probabilities
p(CLASS) and the predicted class (and the true class where the file has the
target column). The model's stored standardisation and class names are used.
Every row of --data is predicted: a --split recorded in the model is ignored.
The target column may be missing from the file.

Example:
  obs predict --model wine.json --data wine.csv --out preds.csv`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "model `FILE`"},
			&cli.StringFlag{Name: "out", Usage: "CSV `FILE` to write (default: stdout)"},
		),
		Action: runPredict,
	}
}

type predictSummary struct {
	Model    string   `json:"model"`
	Data     string   `json:"data"`
	Out      string   `json:"out"`
	Rows     int      `json:"rows"`
	Classes  []string `json:"classes,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
}

// classNames returns the class names of a classifier's outputs: the model
// file's, or "0", "1", ... (two for a single sigmoid output); nil for a
// regression network.
func classNames(m *model.MLP, file *model.File) []string {
	if file.Classes != nil {
		return file.Classes
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

// predictedClass returns the index of the predicted class for output y.
func predictedClass(y []float64) int {
	if len(y) == 1 {
		if y[0] >= 0.5 {
			return 1
		}
		return 0
	}
	return floats.MaxIdx(y)
}

func runPredict(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("predict takes no arguments")
	}
	out := c.String("out")
	if out == "" && c.Bool("json") {
		return usagef("--json prints the summary on stdout; give --out for the predictions")
	}
	if c.IsSet("test") || c.IsSet("split") || c.IsSet("split-seed") {
		return usagef("predict writes every row of --data; --test, --split and --split-seed do not apply")
	}
	if out != "" {
		if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
			return err
		}
	}
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return err
	}
	dc := ctxOf(m, file)
	dc.noTarget, dc.noSplit = true, true
	s, _, _, err := loadDataWith(c, dc)
	if err != nil {
		return err
	}
	if s.NumInputs() != m.NumInputs() {
		return fmt.Errorf("%s has %d input columns %q but the network (%s) takes %d", s.Name, s.NumInputs(), s.InputNames, model.Arch(m.Sizes), m.NumInputs())
	}
	hasTargets := len(s.Targets) > 0 && len(s.Targets[0]) > 0
	if hasTargets {
		if err := checkFits(m, s); err != nil {
			return err
		}
	}
	classes := classNames(m, file)
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
	right := 0
	write := func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.Write(header); err != nil {
			return err
		}
		for p, x := range s.Inputs {
			y := m.Forward(ws, x)
			rec := []string{strconv.Itoa(p + 1)}
			for _, v := range y {
				rec = append(rec, strconv.FormatFloat(v, 'g', -1, 64))
			}
			if classes != nil {
				k := predictedClass(y)
				rec = append(rec, classes[k])
				if hasTargets {
					t := predictedClass(s.Targets[p])
					rec = append(rec, classes[t])
					if t == k {
						right++
					}
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	if out == "" {
		return write(stdoutOf(c))
	}
	if err := atomicfile.Write(out, write); err != nil {
		return err
	}
	sum := predictSummary{Model: c.String("model"), Data: s.Source, Out: out, Rows: s.Len(), Classes: classes}
	if classes != nil && hasTargets {
		a := float64(right) / float64(s.Len())
		sum.Accuracy = &a
	}
	info(c, "wrote %s (%d rows)\n", out, s.Len())
	return emit(c, sum)
}

// classRow is one line of the per-class table of obs eval.
type classRow struct {
	Class     string   `json:"class"`
	Support   int      `json:"support"`
	Predicted int      `json:"predicted"`
	Correct   int      `json:"correct"`
	Recall    *float64 `json:"recall"`
	Precision *float64 `json:"precision"`
}

// perClass counts, for every class, the patterns of that class (support),
// the patterns predicted as it and those right, with recall = correct /
// support and precision = correct / predicted (nil where undefined).
func perClass(m *model.MLP, s *datasets.Set, classes []string) []classRow {
	rows := make([]classRow, len(classes))
	for k := range rows {
		rows[k].Class = classes[k]
	}
	ws := m.NewWorkspace()
	for p, x := range s.Inputs {
		k := predictedClass(m.Forward(ws, x))
		t := predictedClass(s.Targets[p])
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

// regressionStats returns the root mean squared error over all outputs and
// R^2 = 1 - SS_res/SS_tot per output, averaged uniformly over the outputs
// (scikit-learn's r2_score default), with SS_tot about the set's own mean.
// R^2 is NaN for an output whose targets are constant.
func regressionStats(m *model.MLP, s *datasets.Set) (rmse, r2 float64) {
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
