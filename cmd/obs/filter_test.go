package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
)

// --granularity filter on a CNN writes the compacted network (conv layers
// of 4 and 6 filters with half of each removed become 2 and 3), obs
// export writes tensors of those shapes, obs eval reports the smaller
// multiply-adds, with block OBS, K-FAC, OBD and magnitude; layer-wise
// OBS, an MLP and a --keep above the filters are usage errors.
func TestPruneFilters(t *testing.T) {
	dir := t.TempDir()
	writeQuadrants(t, filepath.Join(dir, "q.csv"), 120, 1)
	layers := "conv:4:3:p=1,relu,maxpool:2,conv:6:2,sigmoid,flatten,linear:4"
	mustRun(t, dir, "train", "--data", "q.csv", "--target", "class", "--loss", "ce", "--input", "1x6x6", "--layers", layers,
		"--trainer", "adam", "--epochs", "20", "--batch", "16", "--lr", "0.01", "--seed", "2", "--quiet", "--out", "cnn.json")
	small := "input 1x6x6, layers conv:2:3:p=1,relu,maxpool:2,conv:3:2,sigmoid,flatten,linear:4"
	// conv1 2 x 9 weights at 6x6, conv2 3 x 2*4 at 2x2, linear 4 x 12.
	macs := float64(2*9*36 + 3*8*4 + 4*12)
	for _, extra := range [][]string{{"--method", "obs", "--structure", "block:16"}, {"--method", "obs", "--structure", "kfac", "--alpha", "1e-3"}, {"--method", "obd", "--one-shot"}, {"--method", "magnitude", "--norm", "l1"}} {
		args := append([]string{"prune", "--model", "cnn.json", "--granularity", "filter", "--allocation", "per-layer", "--sparsity", "0.5", "--out", "f.json", "--json"}, extra...)
		r := mustRun(t, dir, args...)
		s := decodeJSON(t, r)
		after := s["after"].(map[string]any)
		if after["arch"] != small || after["multiply_adds"].(float64) != macs || s["compacted"] != true || s["granularity"] != "filter" {
			t.Errorf("%v: summary %v", extra, s)
		}
	}
	mustRun(t, dir, "export", "--model", "f.json", "--out", "f.npz", "--quiet")
	ts, err := datasets.ReadWeights(filepath.Join(dir, "f.npz"))
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{}
	for _, x := range ts {
		shapes[x.Name] = x.Shape
	}
	if !slices.Equal(shapes["0.weight"], []int{2, 1, 3, 3}) || !slices.Equal(shapes["3.weight"], []int{3, 2, 2, 2}) || !slices.Equal(shapes["6.weight"], []int{4, 12}) {
		t.Errorf("exported shapes %v", shapes)
	}
	r := mustRun(t, dir, "eval", "--model", "f.json", "--json")
	if s := decodeJSON(t, r); s["arch"] != small || s["multiply_adds"].(float64) != macs {
		t.Errorf("eval: %v", s)
	}
	mustRun(t, dir, "train", "--data", "q.csv", "--target", "class", "--loss", "ce", "--arch", "36-5-4", "--quiet", "--out", "mlp.json")
	for _, args := range [][]string{
		{"--model", "cnn.json", "--curvature", "layer-input", "--structure", "layer"},
		{"--model", "cnn.json", "--keep", "11"},
		{"--model", "mlp.json"},
	} {
		a := append([]string{"prune", "--granularity", "filter", "--sparsity", "0.5", "--quiet", "--out", "g.json"}, args...)
		if r := obs(t, dir, a...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line usage error", args, r.code, r.stderr)
		}
	}
}
