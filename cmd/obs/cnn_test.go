package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeQuadrants writes a CSV of P synthetic 1x6x6 images whose class is
// the quadrant of a bright spot, columns p0..p35 and class.
func writeQuadrants(t *testing.T, path string, P int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 2))
	var b strings.Builder
	for i := range 36 {
		fmt.Fprintf(&b, "p%d,", i)
	}
	b.WriteString("class\n")
	for range P {
		x := make([]float64, 36)
		for i := range x {
			x[i] = 0.3 * rng.NormFloat64()
		}
		c := rng.IntN(4)
		x[(3*(c/2)+rng.IntN(3))*6+3*(c%2)+rng.IntN(3)] += 2
		for _, v := range x {
			fmt.Fprintf(&b, "%.6f,", v)
		}
		fmt.Fprintf(&b, "q%d\n", c)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A CNN given by --input and --layers goes through train (mini-batch),
// eval, prune (block OBS and K-FAC) and hessian; --layers with --arch or --act, and
// bn in a network to train, are usage errors.
func TestCNNCommands(t *testing.T) {
	dir := t.TempDir()
	writeQuadrants(t, filepath.Join(dir, "q.csv"), 120, 1)
	layers := "conv:3:3:p=1,relu,maxpool:2,conv:4:2:nobias,tanh,flatten,linear:4"
	r := mustRun(t, dir, "train", "--data", "q.csv", "--target", "class", "--loss", "ce", "--input", "1x6x6", "--layers", layers,
		"--trainer", "adam", "--epochs", "30", "--batch", "16", "--lr", "0.01", "--seed", "2", "--quiet", "--json", "--out", "cnn.json")
	var tr struct {
		Arch          string  `json:"arch"`
		Params        int     `json:"params"`
		TrainAccuracy float64 `json:"train_accuracy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &tr); err != nil {
		t.Fatal(err, r.stdout)
	}
	if tr.Arch != "input 1x6x6, layers "+layers || tr.Params != 146 || tr.TrainAccuracy < 0.9 {
		t.Fatalf("train: %s", r.stdout)
	}
	mustRun(t, dir, "eval", "--model", "cnn.json", "--quiet")
	r = mustRun(t, dir, "prune", "--model", "cnn.json", "--method", "obs", "--structure", "block:16", "--sparsity", "0.5", "--quiet", "--json", "--out", "p.json")
	if !strings.Contains(r.stdout, `"params_after"`) {
		t.Fatalf("prune: %s", r.stdout)
	}
	r = mustRun(t, dir, "prune", "--model", "cnn.json", "--method", "obs", "--structure", "kfac", "--group", "4", "--one-shot", "--sparsity", "0.5", "--quiet", "--json", "--out", "k.json")
	if !strings.Contains(r.stdout, `"structure":"kfac"`) || !strings.Contains(r.stdout, `"params_after":73`) {
		t.Fatalf("prune --structure kfac: %s", r.stdout)
	}
	mustRun(t, dir, "hessian", "--model", "cnn.json", "--kinds", "ggn,ef", "--quiet")
	for _, args := range [][]string{
		{"--arch", "36-4-4"},
		{"--act", "relu"},
		{"--input", "1x6x6"},
		{"--layers", "conv:3:3,bn,flatten,linear:4", "--input", "1x6x6"},
		{"--layers", "conv:3:9,flatten,linear:4", "--input", "1x6x6"},
	} {
		a := []string{"train", "--data", "q.csv", "--target", "class", "--loss", "ce", "--quiet", "--out", "x.json"}
		if args[0] != "--layers" && args[0] != "--input" {
			a = append(a, "--layers", layers, "--input", "1x6x6")
		}
		a = append(a, args...)
		if r := obs(t, dir, a...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("obs %s: exit %d, stderr %q; want a one-line usage error", strings.Join(a, " "), r.code, r.stderr)
		}
	}
}
