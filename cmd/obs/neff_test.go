package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
)

// obs prune reports n_eff of the calibration gradients of its curvature
// build, with P and nf beside it: on the line f = x fitted exactly to
// x = +-1, t = +-0 or +-2 every residual is +-1 and every gradient has norm^2
// 2 (n_eff = P, also for the first 3 patterns with --calib 3); with targets
// 1, -1, 3, -1 only the third residual is non-zero (n_eff = 1). Magnitude
// builds nothing and reports no n_eff.
func TestPruneReportsNEff(t *testing.T) {
	dir := t.TempDir()
	for name, rows := range map[string]string{
		"equal.csv": "x,t\n1,0\n-1,0\n1,2\n-1,-2\n",
		"one.csv":   "x,t\n1,1\n-1,-1\n1,3\n-1,-1\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(rows), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Least squares on equal.csv is w = 1, b = 0 exactly.
	if r := obs(t, dir, "train", "--data", "equal.csv", "--arch", "1-1", "--loss", "mse", "--out-act", "identity", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, tc := range []struct {
		data  string
		extra []string
		want  float64
		P     int
	}{
		{"equal.csv", []string{"--curvature", "ef"}, 4, 4},
		{"equal.csv", []string{"--curvature", "ggn", "--one-shot"}, 4, 4},
		{"equal.csv", []string{"--curvature", "mcfisher", "--calib", "3"}, 3, 3},
		{"one.csv", []string{"--curvature", "ef"}, 1, 4},
		{"one.csv", []string{"--method", "obd"}, 1, 4},
	} {
		args := append([]string{"prune", "--model", "m.json", "--data", tc.data, "--keep", "1", "--out", "p.json", "--json", "--quiet"}, tc.extra...)
		r := obs(t, dir, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.extra, r.code, r.stderr)
		}
		s := decodeJSON(t, r)
		if got := fieldF(t, s, "n_eff"); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s %v: n_eff %v, want %v", tc.data, tc.extra, got, tc.want)
		}
		if got := fieldF(t, s, "n_eff_patterns"); got != float64(tc.P) {
			t.Errorf("%s %v: n_eff_patterns %v, want %d", tc.data, tc.extra, got, tc.P)
		}
		if got := fieldF(t, s, "n_eff_free"); got != 2 {
			t.Errorf("%s %v: n_eff_free %v, want 2", tc.data, tc.extra, got)
		}
	}
	r := obs(t, dir, "prune", "--model", "m.json", "--data", "equal.csv", "--method", "magnitude", "--keep", "1", "--out", "p.json", "--json", "--quiet")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if _, ok := decodeJSON(t, r)["n_eff"]; ok {
		t.Error("magnitude pruning reports an n_eff")
	}
}

// A prune with the Monte-Carlo Fisher states its draws (samples per
// pattern, sigma, seed; defaults filled in), whatever its structure;
// other curvatures state none.
func TestPruneStatesMonteCarloDraws(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte("x,t\n1,0\n-1,0\n1,2\n-1,-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := obs(t, dir, "train", "--data", "d.csv", "--arch", "1-2-1", "--act", "tanh", "--loss", "mse", "--out-act", "identity", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, tc := range []struct {
		extra                []string
		samples, sigma, seed float64
	}{
		{[]string{"--curvature", "mcfisher"}, float64(hessian.DefaultSamples), hessian.DefaultSigma, 1}, // --curv-seed defaults to 1
		{[]string{"--curvature", "mcfisher", "--samples", "3", "--sigma", "0.5", "--curv-seed", "7"}, 3, 0.5, 7},
		{[]string{"--curvature", "mcfisher", "--structure", "kfac", "--samples", "2", "--curv-seed", "9", "--one-shot"}, 2, hessian.DefaultSigma, 9},
	} {
		args := append([]string{"prune", "--model", "m.json", "--data", "d.csv", "--keep", "3", "--out", "p.json", "--json", "--quiet"}, tc.extra...)
		r := obs(t, dir, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.extra, r.code, r.stderr)
		}
		s := decodeJSON(t, r)
		for key, want := range map[string]float64{"mc_samples": tc.samples, "mc_sigma": tc.sigma, "curv_seed": tc.seed} {
			if got := fieldF(t, s, key); got != want {
				t.Errorf("%v: %s %v, want %v", tc.extra, key, got, want)
			}
		}
	}
	r := obs(t, dir, "prune", "--model", "m.json", "--data", "d.csv", "--curvature", "ggn", "--keep", "3", "--out", "p.json", "--json", "--quiet")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, key := range []string{"mc_samples", "mc_sigma", "curv_seed"} {
		if _, ok := decodeJSON(t, r)[key]; ok {
			t.Errorf("a ggn prune reports %s", key)
		}
	}
}
