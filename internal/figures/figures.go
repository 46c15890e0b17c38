// Package figures draws the line and scatter plots obs writes (pruning
// curves, predicted-versus-actual increases, eigen-spectra) with
// gonum.org/v1/plot, and writes them atomically as PNG or SVG (by the file
// name's extension).
//
// Two rules hold in every figure: a method keeps one colour, marker and
// dash pattern in every figure of a run (StyleIndex, from the method's
// name, not from its position in a list), and the legend is drawn in a
// strip beside the plot area, never over the data (Save, SaveRow).
package figures

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// Series is one labelled line or point set. Key names what the series
// stands for (a method such as "obs-ggn") and fixes its style through
// StyleIndex; series without a Key are styled by their position.
type Series struct {
	Label string
	Key   string
	X, Y  []float64
}

// knownKeys give the methods obs draws their own style index, the same
// colour and marker in every figure whichever methods a figure shows. A
// curvature shares its OBS method's style (ggn with obs-ggn), and obd is
// obd-ggn (compare's name for it). Matching ignores case.
var knownKeys = map[string]int{
	"magnitude": 0, "obs-ggn+retrain": 1, "obd": 2, "obd-ggn": 2, "magnitude+retrain": 3,
	"obs-ggn": 4, "ggn": 4, "obs-ef": 5, "ef": 5, "obs-mcfisher": 6, "mcfisher": 6,
	"obs-exact": 7, "exact": 7, "obd-ggn+retrain": 8, "obd-exact": 9,
}

// numKnown is the number of distinct known styles.
const numKnown = 10

// StyleIndex returns the style (colour, marker, dashes) index of a series
// key: the known method's index, else numKnown plus a hash of the key, so
// that the same key gets the same style in every figure.
func StyleIndex(key string) int {
	k := strings.ToLower(strings.TrimSpace(key))
	if i, ok := knownKeys[k]; ok {
		return i
	}
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(k); i++ {
		h = (h ^ uint32(k[i])) * 16777619
	}
	return numKnown + int(h%64)
}

// palette holds colours that stay distinct on white, one per known style.
var palette = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, // blue
	color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, // red
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}, // green
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, // orange
	color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, // purple
	color.RGBA{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, // brown
	color.RGBA{R: 0x17, G: 0xbe, B: 0xcf, A: 0xff}, // cyan
	color.RGBA{R: 0xe3, G: 0x77, B: 0xc2, A: 0xff}, // pink
	color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}, // grey
	color.RGBA{R: 0xbc, G: 0xbd, B: 0x22, A: 0xff}, // olive
}

// Style returns the colour, glyph and dashes of style index i.
func Style(i int) (color.Color, draw.GlyphDrawer, []vg.Length) {
	return palette[i%len(palette)], plotutil.Shape(i % 7), plotutil.Dashes(i % 5)
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
		style := i // without a Key, series are styled in order
		if s.Key != "" {
			style = StyleIndex(s.Key)
		}
		col, shape, dashes := Style(style)
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
		sc.GlyphStyle.Color = col
		sc.GlyphStyle.Shape = shape
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
		l.LineStyle.Color = col
		l.LineStyle.Width = vg.Points(1.5)
		l.LineStyle.Dashes = dashes
		p.Add(l, sc)
		p.Legend.Add(s.Label, l, sc)
	}
	if o.Diagonal && lo < hi {
		d, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err != nil {
			return nil, err
		}
		d.LineStyle.Color = color.Black
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

// Save writes p to path atomically, as PNG or SVG by the extension, with
// its legend in a strip to the right of the plot area.
func Save(p *plot.Plot, path string, o Options) error {
	w, h := o.Width, o.Height
	if w == 0 {
		w, h = 16, 10
	}
	return SaveRow(path, []*plot.Plot{p}, vg.Length(w)*vg.Centimeter, vg.Length(h)*vg.Centimeter)
}

// SaveRow writes plots side by side (axes aligned with plot.Align) into
// path, atomically, as PNG or SVG by the extension. The legend of the first
// plot that has one is drawn once, in a strip to the right of all panels
// (the panels of a row show the same series); the others are dropped. The
// strip widens the figure: each panel keeps w/len(row) by h.
func SaveRow(path string, row []*plot.Plot, w, h vg.Length) error {
	format := strings.TrimPrefix(strings.ToLower(filepath.Ext(path)), ".")
	if format != "png" && format != "svg" {
		return fmt.Errorf("figure %s: unsupported format %q (want .png or .svg)", path, format)
	}
	saved := make([]plot.Legend, len(row))
	for i, p := range row {
		saved[i] = p.Legend
	}
	defer func() { // the plots may be saved again, in another format
		for i, p := range row {
			p.Legend = saved[i]
		}
	}()
	probe := draw.New(vgimg.New(w, h))
	var leg *plot.Legend
	strip := vg.Length(0)
	for _, p := range row {
		if r := p.Legend.Rectangle(probe); leg == nil && r.Max.Y > r.Min.Y {
			l := p.Legend
			leg = &l
			strip = r.Max.X - r.Min.X + vg.Points(18)
		}
		p.Legend = plot.NewLegend()
	}
	if leg != nil {
		leg.Top, leg.Left = true, true
		leg.XOffs, leg.YOffs = vg.Points(6), -vg.Points(12)
	}
	cv, err := draw.NewFormattedCanvas(w+strip, h, format)
	if err != nil {
		return err
	}
	dc := draw.New(cv)
	panels := draw.Crop(dc, 0, -strip, 0, 0)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Centimeter, PadTop: vg.Points(4), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, panels)
	for i, p := range row {
		p.Draw(canvases[0][i])
	}
	if leg != nil {
		leg.Draw(draw.Crop(dc, w, 0, 0, 0))
	}
	return atomicfile.Write(path, func(out io.Writer) error {
		_, err := cv.WriteTo(out)
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
