package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseCSV(t *testing.T) {
	in := "\ufeffx1, x2 ,y,z\n0,1,1,-2.5\n\n 1e-3 ,0x1p1,0,3\n"
	s, err := ParseCSV(strings.NewReader(in), "good.csv", []string{"z", "y"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.InputNames, []string{"x1", "x2"}) || !slices.Equal(s.TargetNames, []string{"z", "y"}) {
		t.Errorf("names %v -> %v, want [x1 x2] -> [z y]", s.InputNames, s.TargetNames)
	}
	wantIn := [][]float64{{0, 1}, {0.001, 2}}
	wantOut := [][]float64{{-2.5, 1}, {3, 0}}
	if !slices.EqualFunc(s.Inputs, wantIn, slices.Equal) || !slices.EqualFunc(s.Targets, wantOut, slices.Equal) {
		t.Errorf("ParseCSV = %v -> %v, want %v -> %v", s.Inputs, s.Targets, wantIn, wantOut)
	}
	if s.Name != "good.csv" {
		t.Errorf("Name = %q", s.Name)
	}

	// No targets: the last column.
	s, err = ParseCSV(strings.NewReader("a,b,c\n1,2,3\n"), "last.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.InputNames, []string{"a", "b"}) || !slices.Equal(s.TargetNames, []string{"c"}) || s.Targets[0][0] != 3 {
		t.Errorf("default target: %v -> %v, %v", s.InputNames, s.TargetNames, s.Targets)
	}
}

func TestParseCSVErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		targets []string
		want    []string
	}{
		{"empty", "", []string{"y"}, []string{"f.csv: empty CSV file"}},
		{"no rows", "x,y\n", []string{"y"}, []string{"f.csv: no data rows"}},
		{"ragged short", "x,y\n1,2\n3\n", []string{"y"}, []string{"f.csv line 3: 1 fields, want 2"}},
		{"ragged long", "x,y\n1,2,3\n", []string{"y"}, []string{"f.csv line 2: 3 fields, want 2"}},
		{"non-numeric", "x,y\n1,2\n3,abc\n", []string{"y"}, []string{"f.csv line 3 column 2 (\"y\"): \"abc\" is not a finite number"}},
		{"empty cell", "x,y\n,2\n", []string{"y"}, []string{"line 2 column 1 (\"x\"): \"\""}},
		{"NaN", "x,y\nNaN,2\n", []string{"y"}, []string{"line 2 column 1 (\"x\"): \"NaN\" is not a finite number"}},
		{"Inf", "x,y\n1,-Inf\n", []string{"y"}, []string{"line 2 column 2", "\"-Inf\""}},
		{"overflow", "x,y\n1e999,1\n", []string{"y"}, []string{"line 2 column 1", "\"1e999\""}},
		{"unknown target", "x,y\n1,2\n", []string{"z"}, []string{"target column \"z\" not in header [\"x\" \"y\"]"}},
		{"duplicate target", "x,y,z\n1,2,3\n", []string{"y", "y"}, []string{"target column \"y\" given twice"}},
		{"all targets", "x,y\n1,2\n", []string{"x", "y"}, []string{"at least one input column"}},
		{"one column", "y\n1\n", nil, []string{"at least one input column"}},
		{"duplicate header", "x,y,x\n1,2,3\n", []string{"y"}, []string{"line 1: columns 1 and 3 are both named \"x\""}},
		{"empty header", "x,,y\n1,2,3\n", []string{"y"}, []string{"line 1: column 2 has an empty name"}},
		{"bad quote", "x,y\n1,\"2\n", []string{"y"}, []string{"f.csv line 2"}},
		{"multi-line cell", "x,y\n\"1\n2\",3\n", []string{"y"}, []string{"line 2 column 1", "\"1\\n2\""}},
	} {
		_, err := ParseCSV(strings.NewReader(tc.in), "f.csv", tc.targets)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		checkErr(t, tc.name, err, tc.want...)
	}
}

func TestLoadCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, []byte("a,b\n1,0\n2,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadCSV(path, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "data" || s.Source != path || s.Len() != 2 {
		t.Errorf("LoadCSV: name %q, source %q, %d patterns", s.Name, s.Source, s.Len())
	}
	if _, err := LoadCSV(filepath.Join(t.TempDir(), "none.csv"), nil); err == nil {
		t.Error("LoadCSV of a missing file: no error")
	} else {
		checkErr(t, "missing", err, "none.csv")
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,x\n"), 0o644)
	if _, err := LoadCSV(bad, nil); err == nil {
		t.Error("LoadCSV of a bad file: no error")
	} else {
		checkErr(t, "bad", err, bad+" line 2 column 2")
	}
}
