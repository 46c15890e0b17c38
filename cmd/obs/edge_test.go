package main

import (
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
