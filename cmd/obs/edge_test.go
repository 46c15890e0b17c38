package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// TestStandardizeLargeValues is issue 23's class 6 from the command line:
// --standardize on a column of ±1e200 trained and then failed writing the
// model (std +Inf in JSON); a column whose values differ by more than
// float64 holds is refused with exit 1 and the column's name, not a NaN.
func TestStandardizeLargeValues(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("a,huge,y\n")
	for p := range 8 {
		sign := 1 - 2*(p%2)
		b.WriteString(strings.Join([]string{[]string{"0.1", "0.7", "0.3", "0.9"}[p%4], []string{"1e200", "-1e200"}[(1-sign)/2], []string{"0", "1"}[p/4]}, ",") + "\n")
	}
	writeFile("big.csv", b.String())(t, dir)
	mustRun(t, dir, "train", "--data", "big.csv", "--standardize", "--arch", "2-2-1", "--quiet", "--out", "m.json")
	_, f, err := model.Load(dir + "/m.json")
	if err != nil {
		t.Fatal(err)
	}
	if s := f.Standardize.Std[1]; !(s > 0.99e200 && s < 1.01e200) {
		t.Errorf("std of the ±1e200 column %v, want 1e200", s)
	}

	writeFile("huge.csv", "a,huge,y\n0.1,1.7e308,0\n0.2,-1.7e308,1\n0.3,1e308,0\n0.4,0,1\n")(t, dir)
	r := obs(t, dir, "train", "--data", "huge.csv", "--standardize", "--arch", "2-2-1", "--quiet", "--out", "h.json")
	if r.code != 1 || !strings.Contains(r.stderr, `"huge"`) || strings.Contains(r.stderr, "NaN") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one line naming column \"huge\"", r.code, r.stderr)
	}
}

// TestInputsMatchedByName is issue 23's class 1 for eval and predict: a
// CSV file with the model's columns in another order gave wrong
// predictions with exit 0. The model file now stores its input names;
// columns are matched by them, and a column of one side that the other
// lacks is refused in one line naming both.
func TestInputsMatchedByName(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(torchDir, "data.csv")
	mustRun(t, dir, "train", "--data", data, "--loss", "ce", "--arch", "4-3-3", "--quiet", "--out", "m.json")
	rows := readCSV(t, data)
	// The same rows, columns shuffled: class, x3, x1, x4, x2.
	order := []int{4, 2, 0, 3, 1}
	var b strings.Builder
	for _, r := range rows {
		var out []string
		for _, j := range order {
			out = append(out, r[j])
		}
		b.WriteString(strings.Join(out, ",") + "\n")
	}
	for _, sub := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	orig, _ := os.ReadFile(data)
	writeFile("a/data.csv", string(orig))(t, dir)
	writeFile("b/data.csv", b.String())(t, dir)
	for _, cmd := range [][]string{{"eval", "--json"}, {"predict"}} {
		a := mustRun(t, dir, append(cmd, "--model", "m.json", "--data", "a/data.csv")...).stdout
		s := mustRun(t, dir, append(cmd, "--model", "m.json", "--data", "b/data.csv")...).stdout
		// The data file's directory differs; every number must not.
		if a != strings.ReplaceAll(s, "b/data.csv", "a/data.csv") {
			t.Errorf("obs %s: columns in another order give other results:\n%s\n%s", cmd[0], a, s)
		}
	}
	writeFile("extra.csv", "x1,x2,x3,x4,x5,class\n0.1,0.2,0.3,0.4,0.5,a\n0.2,0.1,0.3,0.4,0.5,b\n")(t, dir)
	writeFile("missing.csv", "x1,x2,x4,class\n0.1,0.2,0.4,a\n0.2,0.1,0.4,b\n")(t, dir)
	for file, col := range map[string]string{"extra.csv": `"x5"`, "missing.csv": `"x3"`} {
		for _, cmd := range []string{"eval", "predict"} {
			r := obs(t, dir, cmd, "--model", "m.json", "--data", file)
			if r.code != 1 || !strings.Contains(r.stderr, col) || !strings.Contains(r.stderr, `"x1"`) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("obs %s --data %s: exit %d, stderr %q; want exit 1 and one line naming %s and the model's inputs", cmd, file, r.code, r.stderr, col)
			}
		}
	}
}

// TestImportLayerOrder is issue 23's class 1 for import: the modules of a
// state dict were ordered by sorted name, so hidden/classifier came out
// reversed, silently where the shapes allow it. Named modules now need
// --layers; the order is then checked tensor by tensor.
func TestImportLayerOrder(t *testing.T) {
	dir := t.TempDir()
	// A 2-2-2 network: both orders fit the shapes.
	writeWeights("named.npz", append(layer("hidden", 2, 2, 0.5), layer("classifier", 2, 2, -1)...)...)(t, dir)
	imp := func(extra ...string) result {
		return obs(t, dir, append([]string{"import", "--from", "named.npz", "--arch", "2-2-2", "--act", "tanh", "--loss", "ce", "--quiet", "--out", "m.json"}, extra...)...)
	}
	if r := imp(); r.code != 1 || !strings.Contains(r.stderr, "--names") {
		t.Errorf("named modules without --names: exit %d, stderr %q; want exit 1 asking for --names", r.code, r.stderr)
	}
	mustRun(t, dir, "import", "--from", "named.npz", "--arch", "2-2-2", "--act", "tanh", "--loss", "ce", "--names", "hidden,classifier", "--quiet", "--out", "m.json")
	_, f, err := model.Load(filepath.Join(dir, "m.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.LayerNames, ",") != "hidden,classifier" || f.Params[0] != 0.5 {
		t.Errorf("layers %q, first weight %v; want hidden first (0.5)", f.LayerNames, f.Params[0])
	}
	if r := imp("--names", "hidden,output"); r.code != 1 || !strings.Contains(r.stderr, `"output"`) {
		t.Errorf("--names naming a missing module: exit %d, stderr %q", r.code, r.stderr)
	}
	// A 2-3-2 network given in the wrong order: the tensor that does not
	// fit is named.
	writeWeights("n232.npz", append(layer("hidden", 3, 2, 0.5), layer("classifier", 2, 3, -1)...)...)(t, dir)
	r := obs(t, dir, "import", "--from", "n232.npz", "--arch", "2-3-2", "--act", "tanh", "--loss", "ce", "--names", "classifier,hidden", "--quiet", "--out", "m2.json")
	if r.code != 1 || !strings.Contains(r.stderr, `"classifier.weight"`) {
		t.Errorf("layers reversed: exit %d, stderr %q; want exit 1 naming classifier.weight", r.code, r.stderr)
	}
}

// TestImportedClassesChecked is issue 23's class 1 for class names: an
// imported classifier without --classes had its outputs named "0", "1",
// ..., and the string labels of a CSV were then mapped to the outputs in
// sorted order without a word. They are now refused, naming --classes.
func TestImportedClassesChecked(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(torchDir, "data.csv")
	base := []string{"--from", filepath.Join(torchDir, "model64.npz"), "--arch", "4-6-3", "--act", "tanh", "--loss", "ce", "--quiet"}
	mustRun(t, dir, append(append([]string{"import"}, base...), "--out", "anon.json")...)
	for _, cmd := range []string{"eval", "predict", "prune"} {
		args := []string{cmd, "--model", "anon.json", "--data", data}
		if cmd == "prune" {
			args = append(args, "--keep", "30", "--out", "p.json")
		}
		r := obs(t, dir, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "--classes") || !strings.Contains(r.stderr, `"a"`) {
			t.Errorf("obs %s on string labels with an unnamed classifier: exit %d, stderr %q; want exit 1 naming --classes", cmd, r.code, r.stderr)
		}
	}
	mustRun(t, dir, append(append([]string{"import"}, base...), "--classes", "a,b,c", "--out", "named.json")...)
	mustRun(t, dir, "eval", "--model", "named.json", "--data", data)
}

// readCSV returns the records of a CSV file.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
