package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// --granularity unit writes the compacted network (17-6-1 with half its
// units removed becomes 17-3-1, and says so), obs export writes tensors of
// that shape, obs eval reports the smaller size; 2:4 leaves the shape and
// zeroes half of every block; flags that do not apply are usage errors.
func TestPruneGranularity(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--arch", "17-6-1", "--seed", "1", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, extra := range [][]string{{"--one-shot"}, {"--allocation", "per-layer"}, {"--method", "magnitude", "--norm", "l1"}, {"--granularity", "unit:outgoing", "--method", "obd"}} {
		args := append([]string{"prune", "--model", "m.json", "--data", "monk1", "--granularity", "unit", "--sparsity", "0.5", "--out", "u.json", "--json"}, extra...)
		r := obs(t, dir, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		s := decodeJSON(t, r)
		after := s["after"].(map[string]any)
		if after["arch"] != "17-3-1" || after["multiply_adds"].(float64) != 17*3+3 || s["compacted"] != true || !strings.Contains(r.stderr, "compacted 17-6-1 to 17-3-1") {
			t.Errorf("%v: summary %v, stderr %q", extra, s, r.stderr)
		}
		m, _, err := model.Load(filepath.Join(dir, "u.json"))
		if err != nil || !slices.Equal(m.Sizes, []int{17, 3, 1}) {
			t.Fatalf("%v: written model %v, %v", extra, m, err)
		}
	}
	if r := obs(t, dir, "export", "--model", "u.json", "--out", "u.npz", "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	ts, err := datasets.ReadWeights(filepath.Join(dir, "u.npz"))
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{}
	for _, x := range ts {
		shapes[x.Name] = x.Shape
	}
	if !slices.Equal(shapes["0.weight"], []int{3, 17}) || !slices.Equal(shapes["2.weight"], []int{1, 3}) {
		t.Errorf("exported shapes %v", shapes)
	}
	r := obs(t, dir, "eval", "--model", "u.json", "--data", "monk1", "--timing", "--json")
	if s := decodeJSON(t, r); r.code != 0 || s["arch"] != "17-3-1" || s["hidden_units"].(float64) != 3 || !(s["infer_us_per_pattern"].(float64) > 0) {
		t.Errorf("eval: exit %d, %v", r.code, s)
	}
	r = obs(t, dir, "prune", "--model", "m.json", "--data", "monk1", "--granularity", "2:4", "--out", "nm.json", "--json", "--quiet")
	if s := decodeJSON(t, r); r.code != 0 || s["after"].(map[string]any)["nonzero_multiply_adds"].(float64) != 17*6+6-(4*6*2+2) {
		t.Errorf("2:4: exit %d, %v, %s", r.code, s, r.stderr)
	}
	for _, args := range [][]string{
		{"--granularity", "3:3", "--sparsity", "0.5"},
		{"--granularity", "2:4", "--sparsity", "0.5"},
		{"--granularity", "2:4", "--keep", "5"},
		{"--granularity", "unit", "--keep", "7"},
		{"--granularity", "unit", "--allocation", "per-layer", "--keep", "2"},
		{"--granularity", "unit", "--sparsity", "0.5", "--norm", "l1"},
		{"--granularity", "weight", "--sparsity", "0.5", "--method", "magnitude", "--norm", "l1"},
		{"--granularity", "unit", "--sparsity", "0.5", "--curvature", "layer-input", "--structure", "layer"},
	} {
		r := obs(t, dir, append([]string{"prune", "--model", "m.json", "--data", "monk1", "--out", "q.json"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// Layer-wise unit OBS through the command line: unit:outgoing to half the
// units, written compacted; incoming groups are refused; 2:4 by every
// row's layer-wise N:M path leaves half of every block (and no
// --sparsity).
func TestPruneLayerUnits(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--arch", "17-6-1", "--seed", "1", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	base := []string{"prune", "--model", "m.json", "--data", "monk1", "--curvature", "layer-input", "--structure", "layer", "--out", "u.json", "--sparsity", "0.5"}
	r := obs(t, dir, append(base, "--granularity", "unit:outgoing", "--json", "--quiet")...)
	if s := decodeJSON(t, r); r.code != 0 || s["after"].(map[string]any)["arch"] != "17-3-1" {
		t.Fatalf("exit %d: %v %s", r.code, s, r.stderr)
	}
	if m, _, err := model.Load(filepath.Join(dir, "u.json")); err != nil || !slices.Equal(m.Sizes, []int{17, 3, 1}) {
		t.Errorf("written model %v, %v", m, err)
	}
	nm := []string{"prune", "--model", "m.json", "--data", "monk1", "--curvature", "layer-input", "--structure", "layer", "--out", "nm.json", "--granularity", "2:4", "--json", "--quiet"}
	r = obs(t, dir, nm...)
	if s := decodeJSON(t, r); r.code != 0 || s["after"].(map[string]any)["nonzero_multiply_adds"].(float64) != 17*6+6-(4*6*2+2) || s["method"] != "layer-wise obs, n:m" {
		t.Errorf("layer-wise 2:4: exit %d, %v, %s", r.code, s, r.stderr)
	}
	for _, extra := range [][]string{{"--granularity", "unit"}, {"--granularity", "2:4"}, {"--granularity", "unit:outgoing", "--keep", "2"}, {"--granularity", "filter"}} {
		if r := obs(t, dir, append(base, extra...)...); r.code != 2 {
			t.Errorf("%v: exit %d, %s", extra, r.code, r.stderr)
		}
	}
}
