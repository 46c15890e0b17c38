package datasets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	train, test, err := Load("xor", "", nil)
	if err != nil || train.Name != "xor" || test != nil {
		t.Errorf("Load(xor) = %v, %v, %v", train, test, err)
	}
	for problem, spec := range []string{"monk1", "monk2", "monk3"} {
		problem++
		train, test, err := Load(spec, "", nil)
		if err != nil {
			t.Fatalf("Load(%s): %v", spec, err)
		}
		wantTrain, wantTest := MonkUCI(problem)
		if train.Name != wantTrain.Name || !slices.EqualFunc(train.Inputs, wantTrain.Inputs, slices.Equal) ||
			test.Name != wantTest.Name || test.Len() != 432 || !strings.Contains(train.Source, "built in") {
			t.Errorf("Load(%s) = %s (%d), %s (%d)", spec, train.Name, train.Len(), test.Name, test.Len())
		}
	}

	path := filepath.Join(t.TempDir(), "d.CSV")
	os.WriteFile(path, []byte("a,b,c\n1,0,1\n"), 0o644)
	train, test, err = Load(path, "", nil)
	if err != nil || test != nil || !slices.Equal(train.TargetNames, []string{"c"}) {
		t.Errorf("Load(csv, no targets) = %v, %v, %v", train, test, err)
	}
	train, _, err = Load(path, "", []string{"a", "b"})
	if err != nil || !slices.Equal(train.InputNames, []string{"c"}) {
		t.Errorf("Load(csv, targets a b) = %v, %v", train, err)
	}

	for _, tc := range []struct {
		spec, dir string
		targets   []string
		want      []string
	}{
		{"iris", "", nil, []string{`unknown data set "iris"`, "xor, monk1, monk2, monk3", ".csv"}},
		{"", "", nil, []string{`unknown data set ""`}},
		{"monk4", "", nil, []string{"monk1, monk2, monk3"}},
		{"xor", "", []string{"y"}, []string{"targets", "CSV"}},
		{"monk1", "", []string{"class"}, []string{"targets", "CSV"}},
		{"xor", "/some/dir", nil, []string{"MONK directory", "monk1"}},
		{path, "/some/dir", nil, []string{"MONK directory"}},
		{"monk1", t.TempDir(), nil, []string{"monks-1.train"}},
		{filepath.Join(t.TempDir(), "missing.csv"), "", nil, []string{"missing.csv"}},
	} {
		_, _, err := Load(tc.spec, tc.dir, tc.targets)
		if err == nil {
			t.Errorf("Load(%q, %q, %q): no error", tc.spec, tc.dir, tc.targets)
			continue
		}
		checkErr(t, "Load "+tc.spec, err, tc.want...)
	}
}

func TestLoadMonkDir(t *testing.T) {
	dir := uciDir(t)
	for problem, spec := range []string{"monk1", "monk2", "monk3"} {
		problem++
		train, test, err := Load(spec, dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		if train.Len() != []int{124, 169, 122}[problem-1] || test.Len() != 432 || strings.Contains(train.Source, "built in") {
			t.Errorf("Load(%s, %s): %s (%d), %s (%d)", spec, dir, train.Source, train.Len(), test.Source, test.Len())
		}
	}
}
