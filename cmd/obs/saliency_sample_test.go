package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readRows returns a CSV file's rows (after the header) keyed by their
// first column.
func readRows(t *testing.T, path string) map[string][]string {
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
	m := map[string][]string{}
	for _, r := range rows[1:] {
		m[r[0]] = r
	}
	return m
}

// obs saliency --sample measures a uniform subset of the surviving
// parameters: the same rows (up to the ranks, which are within the
// subset) as a full run, the same draw for the same seed; --calib builds
// the curvature from the first patterns, --eval-patterns measures E on the
// last ones (E is then obs eval's on those rows, and the predictions do
// not move); the flags are refused where they do not apply.
func TestSaliencySample(t *testing.T) {
	dir := t.TempDir()
	// Six patterns of a smooth target; the last three also as a file.
	rows := []string{"a,b,y", "0,0,0.1", "0,1,0.7", "1,0,0.6", "1,1,0.2", "0.5,0.5,0.5", "0.2,0.9,0.6"}
	write := func(name string, lines []string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("d.csv", rows)
	write("last3.csv", append([]string{rows[0]}, rows[4:]...))
	if r := obs(t, dir, "train", "--data", "d.csv", "--arch", "2-3-1", "--decay", "1e-3", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	base := []string{"saliency", "--model", "m.json", "--data", "d.csv", "--curvature", "ggn", "--alpha", "1e-3", "--json"}
	run := func(csvName string, extra ...string) map[string]any {
		t.Helper()
		r := obs(t, dir, append(append(append([]string(nil), base...), "--csv", csvName), extra...)...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		return decodeJSON(t, r)
	}
	same := func(what string, full, part map[string][]string, cols int) {
		t.Helper()
		for q, r := range part {
			f, ok := full[q]
			if !ok {
				t.Fatalf("%s: candidate %s is not in the full run", what, q)
			}
			for j := 0; j < cols; j++ {
				if r[j] != f[j] {
					t.Errorf("%s: candidate %s column %d: %s, full run %s", what, q, j, r[j], f[j])
				}
			}
		}
	}
	run("full.csv")
	s := run("s.csv", "--sample", "5", "--sample-seed", "7")
	full, part := readRows(t, filepath.Join(dir, "full.csv")), readRows(t, filepath.Join(dir, "s.csv"))
	if len(full) != 13 || len(part) != 5 || s["candidates"] != 5.0 || s["free_params"] != 13.0 || s["sampled"] != true || s["sample_seed"] != 7.0 {
		t.Fatalf("%d full rows, %d sampled; summary %v", len(full), len(part), s)
	}
	// index, name, weight, saliency, predicted, actual, zeroed, retrained.
	same("--sample", full, part, 8)
	run("s2.csv", "--sample", "5", "--sample-seed", "7")
	if a, b := readRows(t, filepath.Join(dir, "s.csv")), readRows(t, filepath.Join(dir, "s2.csv")); len(a) != len(b) {
		t.Error("the same seed drew another sample")
	} else {
		same("same seed", a, b, 11)
	}
	run("s3.csv", "--sample", "5", "--sample-seed", "8")
	if b := readRows(t, filepath.Join(dir, "s3.csv")); len(b) != 5 {
		t.Errorf("seed 8 measured %d candidates", len(b))
	} else if eq := func() bool {
		for q := range b {
			if _, ok := part[q]; !ok {
				return false
			}
		}
		return true
	}(); eq {
		t.Error("seeds 7 and 8 drew the same 5 of 13 parameters")
	}
	// --calib with --sample: the rows of a full --calib run.
	run("c.csv", "--calib", "4")
	cs := run("cs.csv", "--calib", "4", "--sample", "6", "--sample-seed", "2")
	same("--calib --sample", readRows(t, filepath.Join(dir, "c.csv")), readRows(t, filepath.Join(dir, "cs.csv")), 8)
	if cs["calibration_patterns"] != 4.0 {
		t.Errorf("calibration_patterns %v, want 4", cs["calibration_patterns"])
	}
	if c, f := readRows(t, filepath.Join(dir, "c.csv")), full; c["0"][4] == f["0"][4] {
		t.Error("--calib 4 predicts what the full set predicts")
	}
	// --eval-patterns 3: E on the last three rows; the predictions (of the
	// curvature on all six) unchanged.
	ev := run("e.csv", "--eval-patterns", "3")
	r := obs(t, dir, "eval", "--model", "m.json", "--data", "last3.csv", "--json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if want, got := fieldF(t, decodeJSON(t, r), "error"), fieldF(t, ev, "error"); math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("--eval-patterns 3: E %v, obs eval of the last 3 rows %v", got, want)
	}
	e := readRows(t, filepath.Join(dir, "e.csv"))
	for q, row := range e {
		if row[4] != full[q][4] {
			t.Errorf("--eval-patterns moved candidate %s's prediction: %s, full %s", q, row[4], full[q][4])
		}
	}
	if e["0"][5] == full["0"][5] {
		t.Error("--eval-patterns 3 measures the actual increase of all six rows")
	}
	// --eval-calib: E on the --calib patterns (the first 3: obs eval of
	// those rows).
	write("first3.csv", rows[:4])
	ec := run("ec.csv", "--calib", "3", "--eval-calib")
	if r := obs(t, dir, "eval", "--model", "m.json", "--data", "first3.csv", "--json"); r.code != 0 {
		t.Fatal(r.stderr)
	} else if want, got := fieldF(t, decodeJSON(t, r), "error"), fieldF(t, ec, "error"); math.Abs(got-want) > 1e-12*math.Abs(want) || ec["eval_set"] != "calibration" {
		t.Errorf("--eval-calib: E %v (%v), obs eval of the first 3 rows %v", got, ec["eval_set"], want)
	}
	for _, bad := range [][]string{
		{"--eval-calib"},
		{"--calib", "3", "--eval-calib", "--eval-patterns", "3"},
		{"--calib", "3", "--eval-calib", "--retrain"},
		{"--sample", "0"},
		{"--sample", "14"},
		{"--sample-seed", "3"},
		{"--eval-patterns", "0"},
		{"--eval-patterns", "7"},
		{"--eval-patterns", "3", "--retrain"},
		{"--calib", "0"},
	} {
		if r := obs(t, dir, append(append([]string(nil), base...), bad...)...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
	if r := obs(t, dir, "saliency", "--model", "m.json", "--data", "d.csv", "--method", "magnitude", "--calib", "3"); r.code != 2 {
		t.Errorf("--calib with magnitude: exit %d, want 2", r.code)
	}
}
