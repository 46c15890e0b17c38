package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --damping relative: each kind's C carries decay times its scale
// s = tr(C_data)/n, alpha is added times s, and the output says so; n_eff
// is reported; --damping is refused where there is no damping.
func TestHessianRelativeDamping(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "xor", "--decay", "1e-3", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	args := []string{"hessian", "--model", "m.json", "--data", "xor", "--kinds", "exact,ggn,ef", "--alpha", "1e-2", "--json"}
	abs := decodeJSON(t, obs(t, dir, args...))
	rel := decodeJSON(t, obs(t, dir, append(args, "--damping", "relative")...))
	if abs["damping"] != "absolute" || !strings.HasPrefix(rel["damping"].(string), "relative") {
		t.Errorf("damping stated as %v and %v", abs["damping"], rel["damping"])
	}
	n := fieldF(t, abs, "free")
	const decay, alpha = 1e-3, 1e-2
	for _, k := range []string{"exact", "ggn", "ef"} {
		trAbs := fieldF(t, abs, "kinds", k, "trace")
		s := (trAbs - n*decay) / n
		if got := fieldF(t, rel, "kinds", k, "damping_scale"); math.Abs(got-s) > 1e-12*s {
			t.Errorf("%s: scale %v, want tr(C_data)/n = %v", k, got, s)
		}
		if got := fieldF(t, rel, "kinds", k, "alpha_added"); math.Abs(got-alpha*s) > 1e-12*alpha*s {
			t.Errorf("%s: alpha added %v, want %v", k, got, alpha*s)
		}
		if got, want := fieldF(t, rel, "kinds", k, "trace"), trAbs-n*decay+n*decay*s; math.Abs(got-want) > 1e-12*want {
			t.Errorf("%s: relative trace %v, want %v", k, got, want)
		}
	}
	if _, ok := abs["kinds"].(map[string]any)["ggn"].(map[string]any)["damping_scale"]; ok {
		t.Error("absolute damping reports a scale")
	}
	ne := fieldF(t, abs, "n_eff")
	if !(ne >= 1 && ne <= fieldF(t, abs, "patterns")) {
		t.Errorf("n_eff %v outside [1, P]", ne)
	}
	if r := obs(t, dir, "hessian", "--model", "m.json", "--data", "xor", "--damping", "scaled"); r.code != 2 {
		t.Errorf("--damping scaled: exit %d, want 2", r.code)
	}
	if r := obs(t, dir, "saliency", "--model", "m.json", "--data", "xor", "--method", "magnitude", "--damping", "relative"); r.code != 2 {
		t.Errorf("--damping with magnitude: exit %d, want 2 (%s)", r.code, r.stderr)
	}
	r := obs(t, dir, "saliency", "--model", "m.json", "--data", "xor", "--method", "obs", "--curvature", "ef", "--damping", "relative", "--json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if s := decodeJSON(t, r); s["method"] != "obs-ef-relative" || !strings.HasPrefix(s["damping"].(string), "relative") {
		t.Errorf("saliency states method %v, damping %v", s["method"], s["damping"])
	}
}

// obs reproduce --damping relative states it in summary.json and the
// report; the default states nothing new; mnist refuses it.
func TestReproduceRelativeDamping(t *testing.T) {
	dir := t.TempDir()
	rel := obs(t, dir, "reproduce", "xor", "--seeds", "1", "--damping", "relative", "--out-dir", "rel", "--json", "--quiet")
	if rel.code != 0 {
		t.Fatal(rel.stderr)
	}
	if s := decodeJSON(t, rel); !strings.HasPrefix(s["damping"].(string), "relative damping") {
		t.Errorf("relative run states damping %v", s["damping"])
	}
	report, err := os.ReadFile(filepath.Join(dir, "rel", "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(report), "Relative damping") || !strings.Contains(string(report), "--damping relative") {
		t.Error("report.md of a relative run does not state it")
	}
	abs := obs(t, dir, "reproduce", "xor", "--seeds", "1", "--out-dir", "abs", "--json", "--quiet")
	if abs.code != 0 {
		t.Fatal(abs.stderr)
	}
	if _, ok := decodeJSON(t, abs)["damping"]; ok {
		t.Error("the default run states a damping (its files would change)")
	}
	if r := obs(t, dir, "reproduce", "mnist", "--quick", "--damping", "relative", "--out-dir", "m"); r.code != 2 {
		t.Errorf("reproduce mnist --damping: exit %d, want 2", r.code)
	}
}
