// Package figures draws the line and scatter plots obs writes (pruning
// curves, predicted-versus-actual increases, eigen-spectra) with
// gonum.org/v1/plot, and writes them atomically as PNG or SVG (by the file
// name's extension).
package figures

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// Series is one labelled line or point set.
type Series struct {
	Label string
	X, Y  []float64
}

// Options describe a figure.
type Options struct {
	Title, XLabel, YLabel string
	LogX, LogY            bool
	// Points draws markers only (a scatter plot); otherwise lines with markers.
	Points bool
	// Diagonal adds the line y = x over the data's range, labelled "y = x".
	Diagonal bool
	// Width and Height in centimetres; if zero, 16 x 10.
	Width, Height float64
}

// New builds a plot of the series. Points with a non-finite coordinate, or
// a non-positive one on a log axis, are left out (and counted in the title
// so nothing vanishes silently).
func New(series []Series, o Options) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = o.Title
	p.X.Label.Text = o.XLabel
	p.Y.Label.Text = o.YLabel
	if o.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = decadeTicks{}
	}
	if o.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = decadeTicks{}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	dropped := 0
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, s := range series {
		var pts plotter.XYs
		for j := range s.X {
			x, y := s.X[j], s.Y[j]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || (o.LogX && x <= 0) || (o.LogY && y <= 0) {
				dropped++
				continue
			}
			pts = append(pts, plotter.XY{X: x, Y: y})
			lo, hi = math.Min(lo, math.Min(x, y)), math.Max(hi, math.Max(x, y))
		}
		if len(pts) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle.Color = plotutil.Color(i)
		sc.GlyphStyle.Shape = plotutil.Shape(i)
		sc.GlyphStyle.Radius = vg.Points(2.5)
		if o.Points {
			p.Add(sc)
			p.Legend.Add(s.Label, sc)
			continue
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		l.LineStyle.Color = plotutil.Color(i)
		l.LineStyle.Width = vg.Points(1.5)
		l.LineStyle.Dashes = plotutil.Dashes(i)
		p.Add(l, sc)
		p.Legend.Add(s.Label, l, sc)
	}
	if o.Diagonal && lo < hi {
		d, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err != nil {
			return nil, err
		}
		d.LineStyle.Color = plotutil.Color(7)
		d.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		p.Add(d)
		p.Legend.Add("y = x", d)
	}
	// gonum/plot widens a one-value range by ±1, which reaches 0 and panics
	// on a log axis: widen it by a factor of 2 instead.
	for _, ax := range []struct {
		a   *plot.Axis
		log bool
	}{{&p.X, o.LogX}, {&p.Y, o.LogY}} {
		if ax.log && ax.a.Min == ax.a.Max && ax.a.Min > 0 {
			ax.a.Min, ax.a.Max = ax.a.Min/2, ax.a.Max*2
		}
	}
	if dropped > 0 {
		p.Title.Text += fmt.Sprintf(" (%d points not shown: zero, negative on a log axis, or NaN)", dropped)
	}
	return p, nil
}

// Save writes p to path atomically, as PNG or SVG by the extension.
func Save(p *plot.Plot, path string, o Options) error {
	w, h := o.Width, o.Height
	if w == 0 {
		w, h = 16, 10
	}
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("figure %s: unsupported format %q (want .png or .svg)", path, format)
	}
	wt, err := p.WriterTo(vg.Length(w)*vg.Centimeter, vg.Length(h)*vg.Centimeter, format)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		_, err := wt.WriteTo(out)
		return err
	})
}

// Write builds and saves a figure in one call.
func Write(path string, series []Series, o Options) error {
	p, err := New(series, o)
	if err != nil {
		return err
	}
	return Save(p, path, o)
}

// decadeTicks marks every power of ten on a log axis and labels at most
// about 8 of them, as 1e-8. gonum's LogTicks label every decade, with
// rounding noise far from 1 (1.00000000000000004e-08).
type decadeTicks struct{}

func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(lo > 0 && hi >= lo) || math.IsInf(hi, 0) {
		return nil
	}
	a, b := int(math.Floor(math.Log10(lo))), int(math.Ceil(math.Log10(hi)))
	inside := 0
	for k := a; k <= b; k++ {
		if v := math.Pow10(k); v >= lo && v <= hi {
			inside++
		}
	}
	if inside < 2 {
		// Fewer than two powers of ten inside the range, too few to read
		// the axis by: label 1, 2 and 5 times each power of ten instead.
		var ticks []plot.Tick
		for k := a; k <= b; k++ {
			for _, m := range []float64{1, 2, 5} {
				if v := m * math.Pow10(k); v >= lo && v <= hi {
					ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'g', -1, 64)})
				}
			}
		}
		return ticks
	}
	step := max(1, (b-a+7)/8)
	var ticks []plot.Tick
	for k := a; k <= b; k++ {
		t := plot.Tick{Value: math.Pow10(k)}
		if (k-a)%step == 0 {
			t.Label = fmt.Sprintf("1e%d", k)
		}
		ticks = append(ticks, t)
	}
	return ticks
}
