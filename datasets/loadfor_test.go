package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// LoadNamed reads what Load reads, and refuses a directory that the data
// set does not read instead of ignoring it.
func TestLoadNamed(t *testing.T) {
	train, test, err := LoadNamed("monk2", nil, Dirs{}, CSVOptions{})
	if err != nil || train.Len() != 169 || test.Len() != 432 {
		t.Fatalf("monk2: %v", err)
	}
	for _, c := range []struct {
		name string
		dirs Dirs
		want string
	}{
		{"xor", Dirs{MNIST: "d"}, "applies only to mnist"},
		{"xor", Dirs{Nettalk: "d"}, "applies only to nettalk"},
		{"nettalk", Dirs{}, "needs its directory"},
		{"nettalk", Dirs{Nettalk: "d", Monk: "m"}, "do not apply to nettalk"},
		{"x.csv", Dirs{Monk: "m"}, "applies only to monk1"},
		{"iris", Dirs{}, "unknown data set"},
	} {
		if _, _, err := LoadNamed(c.name, nil, c.dirs, CSVOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LoadNamed(%q, %+v): %v, want an error with %q", c.name, c.dirs, err, c.want)
		}
	}
}

// LoadFor reads the data a model file records: the class order of the
// file (not the sorted labels), the held-out split, and the sets checked
// against the network.
func TestLoadFor(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	rows := "x1,x2,class\n0,1,b\n1,0,a\n1,1,b\n0,0,a\n2,1,b\n1,2,a\n"
	if err := os.WriteFile(csv, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Sizes: []int{2, 3, 2}, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	f := m.ToFile(model.Provenance{}, nil)
	f.Classes = []string{"b", "a"} // the network's outputs: b first
	f.Data = &model.DataSpec{Data: csv, Target: []string{"class"}, Split: 0.5, SplitSeed: 3}
	train, test, err := LoadFor(m, f, Dirs{})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len()+test.Len() != 6 || test.Len() == 0 {
		t.Fatalf("split 0.5 of 6 rows: %d and %d", train.Len(), test.Len())
	}
	all, err := LoadCSVWith(csv, CSVOptions{Targets: []string{"class"}, Labels: true, Classes: []string{"b", "a"}})
	if err != nil {
		t.Fatal(err)
	}
	wantTrain, wantTest, err := all.Split(0.5, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []*Set{train, test} {
		w := []*Set{wantTrain, wantTest}[i]
		for p := range s.Inputs {
			if s.Targets[p][0] != w.Targets[p][0] || s.Inputs[p][0] != w.Inputs[p][0] || s.Inputs[p][1] != w.Inputs[p][1] {
				t.Fatalf("set %d pattern %d: %v -> %v, want %v -> %v", i, p, s.Inputs[p], s.Targets[p], w.Inputs[p], w.Targets[p])
			}
		}
	}
	if train.Classes[0] != "b" {
		t.Errorf("classes %q, want the file's order b, a", train.Classes)
	}

	f.Data = nil
	if _, _, err := LoadFor(m, f, Dirs{}); err == nil || !strings.Contains(err.Error(), "records no data set") {
		t.Errorf("no data spec: %v", err)
	}
	f.Data = &model.DataSpec{Data: "monk1", Split: 0.3}
	if _, _, err := LoadFor(m, f, Dirs{}); err == nil || !strings.Contains(err.Error(), "its own test set") {
		t.Errorf("monk1 with a split: %v", err)
	}
	f.Data = &model.DataSpec{Data: "xor"}
	if _, _, err := LoadFor(m, f, Dirs{}); err == nil {
		t.Error("xor (1 output) for a network of 2 outputs: no error")
	}
}
