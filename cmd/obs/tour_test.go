package main

import (
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
