package main

import (
	"strings"
	"testing"
)

// --structure and --one-shot: a block-diagonal one-shot run reaches its
// sparsity and says how it was made; impossible combinations are usage
// errors (exit 2) with a one-line message.
func TestPruneStructureOneShot(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	r := obs(t, dir, "prune", "--model", "xor.json", "--data", "xor", "--structure", "block:4", "--sparsity", "0.5", "--one-shot", "--out", "p.json", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	if s["structure"] != "block:4" || s["one_shot"] != true || s["params_after"].(float64) != 5 {
		t.Errorf("summary %v", s)
	}
	for _, args := range [][]string{
		{"--structure", "block:0", "--sparsity", "0.5"},
		{"--structure", "blocks", "--sparsity", "0.5"},
		{"--method", "obd", "--structure", "diag", "--sparsity", "0.5"},
		{"--structure", "layer", "--inverse", "direct", "--sparsity", "0.5"},
		{"--one-shot", "--sparsity", "0.5", "--recompute", "2"},
		{"--one-shot", "--sparsity", "0.5", "--records", "s.csv"},
	} {
		r := obs(t, dir, append([]string{"prune", "--model", "xor.json", "--data", "xor", "--out", "q.json"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
