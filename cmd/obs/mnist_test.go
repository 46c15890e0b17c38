package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReproduceMNISTQuick runs obs reproduce mnist --quick (a small network
// on a subset, a few seconds) with magnitude, OBD, layer-wise OBS and OBS
// with every curvature kind, and checks its files: every method,
// allocation, mode and target present, sparsities reached, accuracies
// valid, biases never counted; then --merge.
func TestReproduceMNISTQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("obs reproduce mnist --quick takes about 10 s on 2 cores; skipped with -short")
	}
	dir := t.TempDir()
	r := obs(t, dir, "reproduce", "mnist", "--quick", "--quiet", "--json", "--sparsities", "0.5,0.9", "--out-dir", "out",
		"--methods", "magnitude,obd,lobs,obs-ggn-b32,obs-ef-b128,obs-mcfisher-b32", "--gradual-methods", "magnitude,obs-ggn-b128")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	f, err := os.Open(filepath.Join(dir, "out", "mnist-runs.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// dense + (6 one-shot + 2 gradual methods) x 2 allocations x 2 targets.
	if len(rows) != 1+1+(6+2)*2*2 {
		t.Fatalf("%d rows in mnist-runs.csv", len(rows))
	}
	methods := map[string]int{}
	for _, row := range rows[2:] {
		methods[row[1]+" "+row[3]]++
		target, _ := strconv.ParseFloat(row[4], 64)
		sp, _ := strconv.ParseFloat(row[5], 64)
		acc, _ := strconv.ParseFloat(row[6], 64)
		// Per-layer targets round per layer; the weight sparsity is then
		// within a few weights of the target.
		if sp < target-0.002 || sp > target+0.002 || !(acc >= 0 && acc <= 1) {
			t.Errorf("run %v: sparsity %v for target %v, accuracy %v", row, sp, target, acc)
		}
	}
	for _, m := range []string{"obs-ggn-b32 one-shot", "obs-ef-b128 one-shot", "obs-mcfisher-b32 one-shot", "lobs one-shot", "obs-ggn-b128 gradual", "magnitude gradual"} {
		if methods[m] != 2*2 {
			t.Errorf("%s: %d rows, want 4", m, methods[m])
		}
	}
	for _, name := range []string{"mnist-report.md", "mnist-summary.json", "mnist-accuracy.png"} {
		if st, err := os.Stat(filepath.Join(dir, "out", name)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty", name)
		}
	}
	// --merge joins the report with another run's (here the same one
	// twice: every row once per run, the dense rows once).
	if r := obs(t, dir, "reproduce", "mnist", "--merge", "out,out", "--quiet", "--out-dir", "merged"); r.code != 0 {
		t.Fatalf("--merge: exit %d: %s", r.code, r.stderr)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "merged", "mnist-report.md"))
	if !strings.Contains(string(m), "| OBS ggn, blocks of 128 (`obs-ggn-b128`) | per-layer | gradual |") {
		t.Errorf("merged report:\n%s", m)
	}
	if r := obs(t, dir, "reproduce", "mnist", "--merge", "out", "--calib", "5", "--out-dir", "merged"); r.code != 2 {
		t.Errorf("--merge with --calib: exit %d, want 2", r.code)
	}
	rep, _ := os.ReadFile(filepath.Join(dir, "out", "mnist-report.md"))
	if !strings.Contains(string(rep), "biases are kept dense") || !strings.Contains(string(rep), "Han, Pool, Tran & Dally") {
		t.Error("report lacks the bias statement or the published results")
	}
	for _, bad := range [][]string{
		{"reproduce", "mnist", "xor"},
		{"reproduce", "xor", "--quick"},
		{"reproduce", "mnist", "--sparsities", "0.9,0.5"},
		{"reproduce", "mnist", "--methods", "obs"},
		{"reproduce", "mnist", "--methods", "obs-exact-b32"},
		{"reproduce", "mnist", "--methods", "obs-ggn-b0"},
		{"reproduce", "mnist", "--gradual-methods", "obs-ggn"},
		{"reproduce", "mnist", "--alpha", "0"},
		{"reproduce", "mnist", "--models", "a.json", "--epochs", "3"},
	} {
		if r := obs(t, dir, bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
}

// TestTrainAdamAndLayerwiseCLI trains a small network on MNIST with
// --trainer adam on a --mnist-dir copy and prunes it layer-wise.
func TestTrainAdamAndLayerwiseCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes MNIST; skipped with -short")
	}
	dir := t.TempDir()
	r := obs(t, dir, "train", "--data", "mnist", "--arch", "784-8-10", "--act", "relu", "--loss", "ce", "--trainer", "adam", "--epochs", "1", "--batch", "256", "--quiet", "--json", "--out", "m.json")
	if r.code != 0 {
		t.Fatalf("train: exit %d: %s", r.code, r.stderr)
	}
	js := decodeJSON(t, r)
	if acc, _ := js["test_accuracy"].(float64); acc < 0.8 || js["trainer"] != "adam" || js["epochs"] != float64(1) {
		t.Errorf("train summary %v", js)
	}
	r = obs(t, dir, "prune", "--model", "m.json", "--data", "mnist", "--method", "obs", "--structure", "layer", "--curvature", "layer-input", "--sparsity", "0.5", "--calib", "300", "--quiet", "--json", "--out", "p.json")
	if r.code != 0 {
		t.Fatalf("prune: exit %d: %s", r.code, r.stderr)
	}
	js = decodeJSON(t, r)
	if sp, _ := js["sparsity"].(float64); sp != 0.5 || js["calibration_patterns"] != float64(300) {
		t.Errorf("prune summary %v", js)
	}
	// The trained model as obs reproduce mnist --models: no training, one
	// OBS method one-shot.
	r = obs(t, dir, "reproduce", "mnist", "--models", "m.json", "--calib", "100", "--sparsities", "0.5", "--methods", "obs-ef-b32", "--gradual-methods", "none",
		"--allocations", "global", "--quiet", "--out-dir", "rep")
	if r.code != 0 {
		t.Fatalf("reproduce --models: exit %d: %s", r.code, r.stderr)
	}
	if rep, _ := os.ReadFile(filepath.Join(dir, "rep", "mnist-report.md")); !strings.Contains(string(rep), "Trained models given (seeds 1..1 in order): m.json") ||
		!strings.Contains(string(rep), "| OBS ef, blocks of 32 (`obs-ef-b32`) | global | one-shot |") {
		t.Errorf("reproduce --models report:\n%s", rep)
	}
	for _, bad := range [][]string{
		{"prune", "--model", "m.json", "--data", "mnist", "--method", "obd", "--structure", "layer", "--curvature", "layer-input", "--sparsity", "0.5", "--out", "q.json"},
		{"prune", "--model", "m.json", "--data", "mnist", "--structure", "layer", "--curvature", "layer-input", "--sparsity", "0.5", "--one-shot", "--out", "q.json"},
		{"prune", "--model", "m.json", "--data", "mnist", "--structure", "block:32", "--curvature", "layer-input", "--sparsity", "0.5", "--out", "q.json"},
		{"prune", "--model", "m.json", "--data", "mnist", "--structure", "layer", "--curvature", "layer-input", "--out", "q.json"},
		{"prune", "--model", "m.json", "--data", "mnist", "--structure", "layer", "--curvature", "layer-input", "--sparsity", "0.5", "--group", "2", "--out", "q.json"},
		{"train", "--data", "mnist", "--trainer", "adam", "--restarts", "2", "--out", "x.json"},
		{"train", "--data", "mnist", "--trainer", "adam", "--momentum", "0.5", "--out", "x.json"},
		{"train", "--data", "mnist", "--trainer", "sgd", "--batch", "0", "--out", "x.json"},
		{"train", "--data", "mnist", "--lr-schedule", "cosine", "--out", "x.json"},
		{"train", "--data", "mnist", "--trainer", "adam", "--lr-schedule", "cosine", "--lr-decay", "0.5", "--out", "x.json"},
		{"train", "--data", "mnist", "--trainer", "adam", "--lr-schedule", "linear", "--out", "x.json"},
		{"train", "--data", "xor", "--mnist-dir", ".", "--out", "x.json"},
	} {
		if r := obs(t, dir, bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, r.code, r.stderr)
		}
	}
	if r := obs(t, dir, "train", "--data", "mnist", "--mnist-dir", "nope", "--trainer", "adam", "--out", "x.json"); r.code != 1 || !strings.Contains(r.stderr, "nope") {
		t.Errorf("missing --mnist-dir: exit %d, %s", r.code, r.stderr)
	}
}
