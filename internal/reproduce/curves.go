package reproduce

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/obs-toolkit/obs/internal/figures"
)

// CurveSeries returns the pruning curves of one seed's runs of a MONK's
// problem: per method, the training E and the test E (each with the weight
// decay term, as E is defined) against the parameters left, from the
// trained network to the last accepted deletion.
func CurveSeries(p *MonkProblem) (train, test []figures.Series) {
	runs := p.Runs[p.CurveSeed-1]
	for i := range runs {
		r := &runs[i]
		x := []float64{float64(r.Before.Params)}
		tr := []float64{r.Before.TrainError}
		te := []float64{r.Before.TestError}
		for _, s := range r.Steps {
			x = append(x, float64(s.Left))
			tr = append(tr, s.TrainError)
			te = append(te, s.TestError)
		}
		train = append(train, figures.Series{Label: r.Method, Key: r.Method, X: x, Y: tr})
		test = append(test, figures.Series{Label: r.Method, Key: r.Method, X: x, Y: te})
	}
	return train, test
}

// WriteCurves writes the pruning curves of p as one PNG with two panels,
// training E and test E against parameters left, one line per method, for
// seed p.CurveSeed, built with internal/figures and written atomically.
func WriteCurves(path string, p *MonkProblem) error {
	train, test := CurveSeries(p)
	// The title names the data set, never a directory of this machine.
	data := "UCI files"
	if p.DataLabel == BuiltinLabel {
		data = "UCI files, built in"
	}
	trainName, testName := fmt.Sprintf("monks-%d.train", p.Problem), fmt.Sprintf("monks-%d.test", p.Problem)
	title := fmt.Sprintf("MONK-%d %s, seed %d (%s)", p.Problem, p.Arch, p.CurveSeed, data)
	pt, err := figures.New(train, figures.Options{Title: "training E on " + trainName + "\n" + title, XLabel: "parameters left", YLabel: "E on " + trainName})
	if err != nil {
		return err
	}
	pe, err := figures.New(test, figures.Options{Title: "test E on " + testName + " (432 patterns)\n" + title, XLabel: "parameters left", YLabel: "E on " + testName})
	if err != nil {
		return err
	}
	return figures.SaveRow(path, []*plot.Plot{pt, pe}, 30*vg.Centimeter, 12*vg.Centimeter)
}
