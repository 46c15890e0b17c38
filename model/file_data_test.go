package model

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// The data fields (standardisation, class names, data spec, layer names)
// survive a round trip, are carried by CarryData, and are validated against
// the architecture.
func TestFileDataFields(t *testing.T) {
	m := testNet(t) // 3-2-1
	f := m.ToFile(Provenance{ImportedFrom: "w.npz", ImportSHA256: "ab"}, nil)
	f.Standardize = &Standardization{Mean: []float64{1, 2, 3}, Std: []float64{1, 0.5, 2}}
	f.Classes = []string{"no", "yes"}
	f.Data = &DataSpec{Data: "d.csv", Target: []string{"y"}, Split: 0.3, SplitSeed: 4}
	f.LayerNames = []string{"net.0", "net.2"}
	var buf bytes.Buffer
	if err := f.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	_, g, err := ParseFile(buf.Bytes(), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(g.Standardize.Std, f.Standardize.Std) || !slices.Equal(g.Classes, f.Classes) || g.Data.SplitSeed != 4 ||
		!slices.Equal(g.LayerNames, f.LayerNames) || g.Provenance.ImportedFrom != "w.npz" {
		t.Errorf("round trip lost data fields: %+v", g)
	}
	h := m.ToFile(Provenance{}, nil).CarryData(g)
	if h.Standardize != g.Standardize || h.Data != g.Data || !slices.Equal(h.Classes, g.Classes) {
		t.Error("CarryData did not carry the data fields")
	}

	for _, tc := range []struct {
		name string
		edit func(f *File)
		want string
	}{
		{"std length", func(f *File) { f.Standardize = &Standardization{Mean: []float64{0, 0}, Std: []float64{1, 1}} }, "one per input"},
		{"std zero", func(f *File) { f.Standardize = &Standardization{Mean: []float64{0, 0, 0}, Std: []float64{1, 0, 1}} }, "std > 0"},
		{"classes count", func(f *File) { f.Classes = []string{"a", "b", "c"} }, "want 2"},
		{"classes duplicate", func(f *File) { f.Classes = []string{"a", "a"} }, "distinct"},
		{"layer names", func(f *File) { f.LayerNames = []string{"0"} }, "layer_names"},
	} {
		f := m.ToFile(Provenance{}, nil)
		tc.edit(f)
		var buf bytes.Buffer
		if err := f.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		_, _, err := ParseFile(buf.Bytes(), "m.json")
		if err == nil || !errors.Is(err, ErrModelFile) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}
