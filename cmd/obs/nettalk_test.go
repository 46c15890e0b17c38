package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReproduceNettalkBadInputs(t *testing.T) {
	runBadInputs(t, []badInput{
		{"no corpus dir", nil, []string{"reproduce", "nettalk", "--out-dir", "d"}, 2, "nettalk-dir"},
		{"missing corpus", nil, []string{"reproduce", "nettalk", "--nettalk-dir", "nowhere", "--out-dir", "d"}, 1, "nowhere"},
		{"even window", nil, []string{"reproduce", "nettalk", "--nettalk-dir", "nowhere", "--window", "4"}, 2, "window"},
		{"bad method", nil, []string{"reproduce", "nettalk", "--nettalk-dir", "nowhere", "--methods", "obs-magic"}, 1, "obs-magic"},
		{"unknown damping", nil, []string{"reproduce", "nettalk", "--nettalk-dir", "nowhere", "--damping", "scaled"}, 2, "scaled"},
		{"damping without OBS", nil, []string{"reproduce", "nettalk", "--nettalk-dir", "nowhere", "--damping", "relative", "--methods", "obd-ggn,magnitude"}, 2, "--damping applies to obs-ggn and obs-ef only"},
		{"stray argument", nil, []string{"reproduce", "nettalk", "extra", "--nettalk-dir", "nowhere"}, 2, "no arguments"},
		{"nettalk-dir with other data", nil, []string{"train", "--data", "xor", "--nettalk-dir", "x", "--out", "o.json"}, 2, "nettalk-dir"},
	})
}

// A small run on the real corpus (skipped where ../shared is absent): a
// 3-letter window, 4 hidden units, 40 training and 40 test words.
func TestReproduceNettalkSmall(t *testing.T) {
	corpus, _ := filepath.Abs("../../../shared/datasets/nettalk")
	if _, err := os.Stat(filepath.Join(corpus, "nettalk.data")); err != nil {
		t.Skipf("NETtalk corpus not found at %s (it is not shipped with obs)", corpus)
	}
	dir := t.TempDir()
	r := obs(t, dir, "reproduce", "nettalk", "--nettalk-dir", corpus, "--window", "3", "--hidden", "4",
		"--train-words", "40", "--test-words", "40", "--keep", "150", "--group", "8", "--max-iter", "100", "--json", "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("--quiet run wrote to stderr: %q", r.stderr)
	}
	m := decodeJSON(t, r)
	if m["params"].(float64) != 87*4+4+26*5 {
		t.Errorf("params %v", m["params"])
	}
	for _, f := range []string{"nettalk-report.md", "nettalk-curves.csv", "nettalk-curves.png", "nettalk-summary.json"} {
		readFile(t, filepath.Join(dir, "reproduce-nettalk"), f)
	}
}
