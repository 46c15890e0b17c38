package figures

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestWritePNGAndSVG(t *testing.T) {
	dir := t.TempDir()
	s := []Series{{Label: "a", X: []float64{1, 2, 3}, Y: []float64{1, 4, 9}}, {Label: "b", X: []float64{1, 2, 3}, Y: []float64{0, 2, 3}}}
	for _, name := range []string{"f.png", "f.svg"} {
		path := filepath.Join(dir, name)
		if err := Write(path, s, Options{Title: "t", XLabel: "x", YLabel: "y", LogY: true, Diagonal: true}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "f.png" && !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not a PNG", name)
		}
		if name == "f.svg" && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is not an SVG", name)
		}
	}
	if err := Write(filepath.Join(dir, "f.gif"), s, Options{}); err == nil {
		t.Error("wrote a .gif")
	}
}

// A log axis with a single value must not panic (gonum/plot would pad the
// range to include 0).
func TestSingleValueLogAxis(t *testing.T) {
	path := filepath.Join(t.TempDir(), "one.png")
	s := []Series{{Label: "a", X: []float64{1, 1}, Y: []float64{3, 3}}}
	if err := Write(path, s, Options{LogX: true, LogY: true}); err != nil {
		t.Fatal(err)
	}
}

// A method keeps its style whatever the other series and their order.
func TestStyleByKey(t *testing.T) {
	if StyleIndex("obs-ggn") != StyleIndex("OBS-GGN") || StyleIndex("obs-ggn") == StyleIndex("obs-ef") {
		t.Error("known keys do not map to one distinct style each")
	}
	methods := []string{"magnitude", "obd-ggn", "obd-exact", "obs-ggn", "obs-ef", "obs-mcfisher", "obs-exact",
		"magnitude+retrain", "obd-ggn+retrain", "obs-ggn+retrain"}
	seen := map[string]string{}
	for _, k := range methods {
		c, _, _ := Style(StyleIndex(k))
		r, g, b, _ := c.RGBA()
		col := fmt.Sprint(r, g, b)
		if prev, ok := seen[col]; ok {
			t.Errorf("%s and %s share a colour", prev, k)
		}
		seen[col] = k
	}
	if StyleIndex("obd") != StyleIndex("obd-ggn") || StyleIndex("ggn") != StyleIndex("obs-ggn") {
		t.Error("a curvature and its method, or obd and obd-ggn, differ in style")
	}
	if a, b := StyleIndex("some label"), StyleIndex("some "+"label"); a != b {
		t.Error("unknown keys are not stable")
	}
	// The legend goes beside the plot, and a figure saved twice keeps it.
	dir := t.TempDir()
	p, err := New([]Series{{Label: "a", Key: "obs-ggn", X: []float64{1, 2}, Y: []float64{1, 2}}}, Options{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x.png", "x.svg"} {
		if err := Save(p, filepath.Join(dir, name), Options{}); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "x.svg"))
	if !bytes.Contains(b, []byte(">a</text>")) {
		t.Error("the second save lost the legend")
	}
}
