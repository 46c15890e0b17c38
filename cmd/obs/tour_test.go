package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
)

// The README's tour, run from the repository root as shown, leaves no
// untracked file there that git would report: every file or directory its
// commands write at the root (--out, --out-dir, --dump, --plot, --records,
// the wine CSV) matches a pattern of .gitignore (issue 23, class 8).
func TestTourOutputsIgnored(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ignore, err := os.ReadFile("../../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	var patterns []string
	for _, l := range strings.Split(string(ignore), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "/") {
			patterns = append(patterns, strings.TrimSuffix(l[1:], "/"))
		}
	}
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	outs := regexp.MustCompile(`(?:--out|--out-dir|--dump|--plot|--records|wine_csv\.py)\s+([^\s\\]+)`)
	n := 0
	for _, b := range blocks {
		for _, m := range outs.FindAllStringSubmatch(b[1], -1) {
			name := m[1]
			if strings.Contains(name, "/") || strings.ToUpper(name) == name { // elsewhere, or a placeholder such as DIR
				continue
			}
			n++
			ok := false
			for _, p := range patterns {
				if match, _ := path.Match(p, name); match {
					ok = true
				}
			}
			if !ok {
				t.Errorf("the tour writes %s into the repository root and .gitignore does not ignore it", name)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d outputs in the README's commands", n)
	}
}

// The fixture pruned.json that scripts/torch_roundtrip.py writes records the
// commands that made it; run again on the committed weights and data, they
// write it again byte for byte, so the script rewrites the committed
// fixtures unchanged (it once recorded its random temporary directory and
// left the settings to defaults that later changed) (issue 23, class 8).
func TestTorchFixtureReproducible(t *testing.T) {
	src := "testdata/torch"
	want, err := os.ReadFile(path.Join(src, "pruned.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Provenance struct{ Command string }   `json:"provenance"`
		History    []struct{ Command string } `json:"history"`
	}
	if err := json.Unmarshal(want, &f); err != nil || len(f.History) != 1 {
		t.Fatalf("pruned.json: %v, %d history entries", err, len(f.History))
	}
	dir := t.TempDir()
	for _, name := range []string{"model64.npz", "data.csv"} {
		b, err := os.ReadFile(path.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(path.Join(dir, name), b, 0o644)
	}
	for _, cmd := range []string{f.Provenance.Command, f.History[0].Command} {
		args := strings.Fields(strings.TrimPrefix(cmd, "obs "))
		for _, a := range args {
			if strings.Contains(a, "/") {
				t.Fatalf("the fixture records a path %q: it depends on where the script ran", a)
			}
		}
		if r := obs(t, dir, args...); r.code != 0 {
			t.Fatalf("%s: %s", cmd, r.stderr)
		}
	}
	got, err := os.ReadFile(path.Join(dir, "pruned.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the recorded commands do not write testdata/torch/pruned.json byte for byte; rerun scripts/torch_roundtrip.py as its doc says")
	}
}
