package reproduce

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/obs-toolkit/obs/internal/atomicfile"
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
		train = append(train, figures.Series{Label: r.Method, X: x, Y: tr})
		test = append(test, figures.Series{Label: r.Method, X: x, Y: te})
	}
	return train, test
}

// WriteCurves writes the pruning curves of p as one PNG with two panels,
// training E and test E against parameters left, one line per method, for
// seed p.CurveSeed, built with internal/figures and written atomically.
func WriteCurves(path string, p *MonkProblem) error {
	train, test := CurveSeries(p)
	title := fmt.Sprintf("MONK-%d %s, seed %d (%s)", p.Problem, p.Arch, p.CurveSeed, p.DataLabel)
	pt, err := figures.New(train, figures.Options{Title: "training E: " + title, XLabel: "parameters left", YLabel: "E on monks-N.train"})
	if err != nil {
		return err
	}
	pe, err := figures.New(test, figures.Options{Title: "test E", XLabel: "parameters left", YLabel: "E on monks-N.test (432 patterns)"})
	if err != nil {
		return err
	}
	const w, h = 30 * vg.Centimeter, 12 * vg.Centimeter
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2,
		PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{pt, pe}}, tiles, dc)
	pt.Draw(canvases[0][0])
	pe.Draw(canvases[0][1])
	return atomicfile.Write(path, func(out io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(out)
		return err
	})
}
