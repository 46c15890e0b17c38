package datasets

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// RecordTarget names the label column a CSV's one-hot targets came from,
// keeps a given --target, and records nothing for a built-in data set.
func TestRecordTarget(t *testing.T) {
	for _, tc := range []struct {
		spec  model.DataSpec
		train *Set
		want  []string
	}{
		{model.DataSpec{Data: "d.CSV"}, &Set{TargetNames: []string{"y=a", "y=b", "y=c"}, Classes: []string{"a", "b", "c"}}, []string{"y"}},
		{model.DataSpec{Data: "d.csv"}, &Set{TargetNames: []string{"y=yes"}, Classes: []string{"no", "yes"}}, []string{"y"}},
		{model.DataSpec{Data: "d.csv"}, &Set{TargetNames: []string{"r1", "r2"}}, []string{"r1", "r2"}},
		{model.DataSpec{Data: "d.csv", Target: []string{"z"}}, &Set{TargetNames: []string{"y"}}, []string{"z"}},
		{model.DataSpec{Data: "monk1"}, &Set{TargetNames: []string{"class"}}, nil},
	} {
		spec := tc.spec
		RecordTarget(&spec, tc.train)
		if !slices.Equal(spec.Target, tc.want) {
			t.Errorf("%v, %v: recorded %q, want %q", tc.spec, tc.train.TargetNames, spec.Target, tc.want)
		}
	}
}

// Record fills in only what a model file lacks: the classes, the input
// names of a whole CSV file (not of a built-in set or a split's part), and
// the data spec with its target column named.
func TestRecord(t *testing.T) {
	csv := &Set{Source: "d/wine.CSV", InputNames: []string{"a", "b"}, TargetNames: []string{"class=x", "class=y"}, Classes: []string{"x", "y", "z"}}
	csv.TargetNames = append(csv.TargetNames, "class=z")
	f := &model.File{}
	Record(f, &model.DataSpec{Data: "d/wine.CSV"}, csv)
	if !reflect.DeepEqual(f.Classes, csv.Classes) || !reflect.DeepEqual(f.InputNames, []string{"a", "b"}) ||
		f.Data == nil || !reflect.DeepEqual(f.Data.Target, []string{"class"}) {
		t.Errorf("a CSV set: classes %q, inputs %q, data %+v", f.Classes, f.InputNames, f.Data)
	}
	csv.InputNames[0] = "changed"
	if f.InputNames[0] != "a" {
		t.Error("Record shares the set's input names instead of copying them")
	}

	kept := &model.File{Classes: []string{"p", "q"}, InputNames: []string{"u"}, Data: &model.DataSpec{Data: "old.csv"}}
	Record(kept, &model.DataSpec{Data: "new.csv"}, csv)
	if kept.Classes[0] != "p" || kept.InputNames[0] != "u" || kept.Data.Data != "old.csv" {
		t.Errorf("Record overwrote a file's own data fields: %+v", kept)
	}

	split := &Set{Source: "d/wine.csv (training part of a 0.3 hold-out split, seed 1)", InputNames: []string{"a"}}
	g := &model.File{}
	Record(g, nil, split)
	if g.InputNames != nil || g.Data != nil || g.Classes != nil {
		t.Errorf("a split's part without a spec: %+v", g)
	}
}

// RecordedPath reads a recorded relative path from the current directory
// when it is there, else from the model file's directory when it is
// there, and leaves absolute paths and built-in names alone.
func TestRecordedPath(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "beside.csv"), []byte("x,y\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	modelFile := filepath.Join(dir, "m.json")
	t.Chdir(t.TempDir())
	here := "here.csv"
	if err := os.WriteFile(here, []byte("x,y\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "beside.csv")
	for _, c := range []struct{ path, chosen, where string }{
		{"beside.csv", abs, "relative to the model file's directory"},
		{here, here, "relative to the current directory"},
		{"missing.csv", "missing.csv", "relative to the current directory"},
		{abs, abs, "an absolute path"},
		{"monk1", "monk1", ""},
	} {
		if chosen, where := RecordedPath(c.path, modelFile); chosen != c.chosen || where != c.where {
			t.Errorf("RecordedPath(%q) = %q, %q; want %q, %q", c.path, chosen, where, c.chosen, c.where)
		}
	}
}
