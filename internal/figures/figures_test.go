package figures

import (
	"bytes"
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
