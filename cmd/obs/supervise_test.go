//go:build linux

package main

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestRlimitAS (class 5): under ulimit -v the memory check counts what
// RLIMIT_AS leaves and refuses a run that does not fit, and a run let
// through (a --max-memory above the limit) that dies in the Go runtime for
// lack of memory ends in one line and exit 1, not a trace and exit 2.
func TestRlimitAS(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh to set ulimit -v")
	}
	dir := t.TempDir()
	// 16,001 parameters: the dense curvature and its inverse need 3.8 GiB.
	if r := obs(t, dir, "train", "--data", "xor", "--arch", "2-4000-1", "--restarts", "1", "--max-iter", "1", "--quiet", "--out", "big.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	limited := func(args ...string) result {
		cmd := exec.Command("sh", append([]string{"-c", `ulimit -v 3000000 && exec "$0" "$@"`, obsBin}, args...)...)
		cmd.Dir = dir
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return result{code, out.String(), errb.String()}
	}
	r := limited("prune", "--model", "big.json", "--keep", "10", "--quiet", "--out", "p.json")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "not enough memory") || !strings.Contains(r.stderr, "RLIMIT_AS") {
		t.Errorf("prune under ulimit -v: exit %d, stderr %q; want the memory check's one line naming RLIMIT_AS", r.code, r.stderr)
	}
	r = limited("prune", "--model", "big.json", "--keep", "10", "--quiet", "--max-memory", "20G", "--max-time", "0", "--out", "p.json")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "obs: out of memory: ") {
		t.Errorf("runtime out of memory under ulimit -v: exit %d, stderr %q; want exit 1 and one line", r.code, r.stderr)
	}
	if r := limited("eval", "--model", "big.json", "--json"); r.code != 0 || !strings.Contains(r.stdout, `"params":16001`) {
		t.Errorf("a run that fits, supervised: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
