package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// fastRefusal is how long a refused run may take: the estimate is checked
// before anything large is allocated, so well under a second on any
// machine; 10 s leaves room for a loaded one.
const fastRefusal = 10 * time.Second

// Runs too large for the machine are refused before they start, with one
// line naming the estimate (exit 1: the flags are well formed).
func TestResourceGuards(t *testing.T) {
	dir := t.TempDir()
	// A 38,001-parameter model (2-9500-1): one dense 38,001 x 38,001
	// matrix is 10.8 GiB.
	if r := obs(t, dir, "train", "--data", "xor", "--arch", "2-9500-1", "--restarts", "1", "--max-iter", "2", "--quiet", "--out", "big.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"train 400M parameters", []string{"train", "--data", "xor", "--arch", "2-100000000-1", "--max-memory", "4G", "--out", "o.json"}, []string{"400000001 parameters", "4 GiB is available (--max-memory)", "smaller --arch"}},
		{"train 4M parameters", []string{"train", "--data", "xor", "--arch", "2-1000000-1", "--max-memory", "1G", "--out", "o.json"}, []string{"4000001 parameters"}},
		{"train 4M parameters bfgs", []string{"train", "--data", "xor", "--arch", "2-1000000-1", "--trainer", "bfgs", "--out", "o.json"}, []string{"BFGS's dense", "--trainer lbfgs"}},
		{"prune 38k exact", []string{"prune", "--model", "big.json", "--data", "xor", "--curvature", "exact", "--keep", "10", "--max-memory", "8G", "--out", "o.json"}, []string{"exact Hessian", "--structure block:B", "--curvature ggn"}},
		{"prune 38k ggn", []string{"prune", "--model", "big.json", "--data", "xor", "--keep", "10", "--max-memory", "8G", "--out", "o.json"}, []string{"Cholesky inverse", "--inverse blocked", "--method obd"}},
		{"hessian 38k", []string{"hessian", "--model", "big.json", "--data", "xor", "--max-memory", "8G"}, []string{"4 curvatures", "--kinds"}},
		{"saliency 38k", []string{"saliency", "--model", "big.json", "--data", "xor", "--max-memory", "8G"}, []string{"Cholesky inverse"}},
		{"compare 38k", []string{"compare", "--model", "big.json", "--data", "xor", "--max-memory", "8G", "--out-dir", "."}, []string{"exact Hessian", "--methods"}},
	}
	for _, tc := range cases {
		start := time.Now()
		r := obs(t, dir, tc.args...)
		took := time.Since(start)
		if r.code != 1 || !strings.HasPrefix(r.stderr, "obs: not enough memory: this run needs about ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 and one line", tc.name, r.code, r.stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: %q does not say %q", tc.name, r.stderr, w)
			}
		}
		if took > fastRefusal {
			t.Errorf("%s: refused after %v", tc.name, took)
		}
	}
	// A malformed limit is a usage error.
	if r := obs(t, dir, "train", "--data", "xor", "--max-memory", "lots", "--out", "o.json"); r.code != 2 || !strings.Contains(r.stderr, "--max-memory") {
		t.Errorf("--max-memory lots: exit %d, %q", r.code, r.stderr)
	}
	// Magnitude pruning of the same model needs no matrix and fits.
	if r := obs(t, dir, "prune", "--model", "big.json", "--data", "xor", "--method", "magnitude", "--sparsity", "0.001", "--max-memory", "1G", "--quiet", "--out", "o.json"); r.code != 0 {
		t.Errorf("magnitude: exit %d, %q", r.code, r.stderr)
	}
}

// Training flags mean what they say: --grad-tol 0 is refused, not replaced
// by 1e-8; --max-iter bounds every stage, the Newton-CG polish included,
// whose cost is reported.
func TestTrainFlagsMeanWhatTheySay(t *testing.T) {
	dir := t.TempDir()
	r := obs(t, dir, "train", "--data", "xor", "--grad-tol", "0", "--out", "o.json")
	if r.code != 2 || !strings.Contains(r.stderr, "--grad-tol 0 must be") {
		t.Errorf("--grad-tol 0: exit %d, %q", r.code, r.stderr)
	}
	r = obs(t, dir, "train", "--data", "monk1", "--max-iter", "20", "--quiet", "--json", "--out", "m.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	if s := decodeJSON(t, r); s["iterations"].(float64) > 20 {
		t.Errorf("--max-iter 20 ran %v iterations (%v)", s["iterations"], s["status"])
	}
	// BFGS's line search gives up before 1e-14 on XOR with decay; the
	// polish finishes with Hessian-vector products and says how many.
	r = obs(t, dir, "train", "--data", "xor", "--trainer", "bfgs", "--grad-tol", "1e-14", "--decay", "1e-4", "--restarts", "1", "--quiet", "--json", "--out", "x.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	s := decodeJSON(t, r)
	if ok, _ := regexp.MatchString(`Newton-CG polish: gradient tolerance reached after \d+ steps, \d+ Hessian-vector products`, s["status"].(string)); !ok || s["converged"] != true {
		t.Errorf("status %q, converged %v", s["status"], s["converged"])
	}
}

// --fix has one default, abs, in every command that takes it, and says so.
func TestFixDefaultEverywhere(t *testing.T) {
	for _, cmd := range []string{"prune", "hessian", "saliency", "compare", "reproduce"} {
		r := obs(t, t.TempDir(), cmd, "--help")
		help := r.stdout + r.stderr
		i := strings.Index(help, "--fix value")
		if i < 0 {
			t.Errorf("%s --help has no --fix", cmd)
			continue
		}
		line := help[i:]
		line = line[:strings.IndexByte(line, '\n')]
		if !strings.Contains(line, `(default: "abs")`) || !strings.Contains(line, "same default in every command") {
			t.Errorf("%s: %q", cmd, line)
		}
	}
}

// Stop messages agree with what happened.
func TestPruneStopMessages(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	// A group larger than what is left is cut to stop exactly at --keep.
	r := obs(t, dir, "prune", "--model", "xor.json", "--data", "xor", "--group", "100", "--keep", "1", "--quiet", "--json", "--out", "o.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	s := decodeJSON(t, r)
	if s["params_after"].(float64) != 1 || s["stop_reason"] != "reached 1 parameters (keep 1)" {
		t.Errorf("--group 100 --keep 1: %v -> %v parameters, %q", s["params_before"], s["params_after"], s["stop_reason"])
	}
	// A rule already broken before pruning says so and prunes nothing.
	if r := obs(t, dir, "train", "--data", "monk3", "--decay", "1e-3", "--quiet", "--out", "m3.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = obs(t, dir, "prune", "--model", "m3.json", "--data", "monk3", "--min-accuracy", "1", "--quiet", "--json", "--out", "o.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	s = decodeJSON(t, r)
	if reason := s["stop_reason"].(string); !strings.Contains(reason, "already below the bound 1") || s["steps"].(float64) != 0 {
		t.Errorf("--min-accuracy 1 on a 93%% model: %q after %v steps", reason, s["steps"])
	}
}

// --recompute takes a percentage, the default, stated in the summary.
func TestPruneRecomputeSchedule(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--decay", "1e-4", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := obs(t, dir, "prune", "--model", "m.json", "--data", "monk1", "--keep", "20", "--quiet", "--json", "--out", "o.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	s := decodeJSON(t, r)
	if s["recompute_schedule"] != "whenever 5% of the parameters left at the last build have been deleted" || s["params_after"].(float64) != 20 {
		t.Errorf("default schedule: %v, %v parameters", s["recompute_schedule"], s["params_after"])
	}
	for _, bad := range []string{"0%", "150%", "x", "-1"} {
		if r := obs(t, dir, "prune", "--model", "m.json", "--data", "monk1", "--keep", "20", "--recompute", bad, "--out", "o.json"); r.code != 2 || !strings.Contains(r.stderr, "--recompute") {
			t.Errorf("--recompute %s: exit %d, %q", bad, r.code, r.stderr)
		}
	}
}
