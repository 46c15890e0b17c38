package datasets

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// ucidir is the directory of the UCI MONK's files embedded in the package.
const ucidir = "monkdata"

// uciDir returns the directory of the UCI MONK's files (the embedded copy,
// present in every clone).
func uciDir(t *testing.T) string {
	t.Helper()
	return ucidir
}

func parseMonkFile(t *testing.T, path string) []MonkPattern {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pats, err := ParseMonk(f, filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	return pats
}

func TestMonkUCIFiles(t *testing.T) {
	dir := uciDir(t)
	trainSize := map[int]int{1: 124, 2: 169, 3: 122}
	trainNoise := map[int]int{1: 0, 2: 0, 3: 6}
	// Positives from SOURCE.md's validation table.
	trainPos := map[int]int{1: 62, 2: 64, 3: 60}
	testPos := map[int]int{1: 216, 2: 142, 3: 228}
	for problem := 1; problem <= 3; problem++ {
		train := parseMonkFile(t, filepath.Join(dir, fmt.Sprintf("monks-%d.train", problem)))
		test := parseMonkFile(t, filepath.Join(dir, fmt.Sprintf("monks-%d.test", problem)))
		if len(train) != trainSize[problem] || len(test) != 432 {
			t.Errorf("MONK-%d: %d train and %d test rows, want %d and 432", problem, len(train), len(test), trainSize[problem])
		}
		count := func(pats []MonkPattern) (pos, disagree int) {
			for _, p := range pats {
				pos += p.Class
				if p.Class != MonkConcept(problem, p.A) {
					disagree++
				}
			}
			return pos, disagree
		}
		if pos, dis := count(train); pos != trainPos[problem] || dis != trainNoise[problem] {
			t.Errorf("monks-%d.train: %d positives, %d disagreeing with the rule; want %d, %d", problem, pos, dis, trainPos[problem], trainNoise[problem])
		}
		if pos, dis := count(test); pos != testPos[problem] || dis != 0 {
			t.Errorf("monks-%d.test: %d positives, %d disagreeing with the rule; want %d, 0", problem, pos, dis, testPos[problem])
		}
		// The test file covers the domain exactly once, in order.
		seen := make(map[[6]int]int)
		for _, p := range test {
			seen[p.A]++
		}
		for _, a := range MonkDomain() {
			if seen[a] != 1 {
				t.Errorf("monks-%d.test: %v appears %d times, want 1", problem, a, seen[a])
			}
		}
		// MonkTest equals the test file pattern for pattern.
		want := MonkSet(problem, test, "", "")
		got := MonkTest(problem)
		if !slices.EqualFunc(got.Inputs, want.Inputs, slices.Equal) || !slices.EqualFunc(got.Targets, want.Targets, slices.Equal) {
			t.Errorf("MonkTest(%d) differs from monks-%d.test", problem, problem)
		}
		// LoadMonk gives the same sets.
		ltrain, ltest, err := LoadMonk(dir, problem)
		if err != nil {
			t.Fatal(err)
		}
		if ltrain.Len() != len(train) || ltest.Len() != 432 || ltrain.Name != fmt.Sprintf("monks-%d.train", problem) ||
			!strings.Contains(ltrain.Source, dir) {
			t.Errorf("LoadMonk(%d): %d/%d patterns, name %q, source %q", problem, ltrain.Len(), ltest.Len(), ltrain.Name, ltrain.Source)
		}
		if err := ltrain.Validate(); err != nil {
			t.Error(err)
		}
		if !slices.EqualFunc(ltest.Inputs, got.Inputs, slices.Equal) || !slices.EqualFunc(ltest.Targets, got.Targets, slices.Equal) {
			t.Errorf("LoadMonk(%d) test set differs from MonkTest", problem)
		}
	}
}

func TestMonkUCINoisyRows(t *testing.T) {
	dir := uciDir(t)
	// From SOURCE.md: the noisy rows of monks-3.train.
	want := []int{5, 61, 203, 213, 214, 391}
	var got []int
	for _, p := range parseMonkFile(t, filepath.Join(dir, "monks-3.train")) {
		if p.Class != MonkConcept(3, p.A) {
			got = append(got, p.ID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("noisy monks-3.train ids %v, want %v", got, want)
	}
}

func TestParseMonk(t *testing.T) {
	in := " 1 1 1 1 1 3 1 data_5\n 0 3 3 2 3 4 2 data_432\r\n\n\n"
	pats, err := ParseMonk(strings.NewReader(in), "ok")
	if err != nil {
		t.Fatal(err)
	}
	want := []MonkPattern{
		{Class: 1, A: [6]int{1, 1, 1, 1, 3, 1}, ID: 5},
		{Class: 0, A: [6]int{3, 3, 2, 3, 4, 2}, ID: 432},
	}
	if !slices.Equal(pats, want) {
		t.Errorf("ParseMonk = %v, want %v", pats, want)
	}
}

func TestParseMonkErrors(t *testing.T) {
	const good = " 1 1 1 1 1 3 1 data_5\n"
	for _, tc := range []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", []string{"f.train: no MONK patterns"}},
		{"blank only", "\n  \n", []string{"no MONK patterns"}},
		{"out of domain", good + " 1 1 1 1 1 7 1 data_5\n", []string{"f.train line 2: a5 = 7 out of domain 1..4"}},
		{"zero attribute", " 1 0 1 1 1 3 1 data_5\n", []string{"line 1: a1 = 0 out of domain 1..3"}},
		{"not an integer", good + good + " 1 1 x 1 1 3 1 data_5\n", []string{"line 3: a2 = \"x\" is not an integer"}},
		{"signed attribute", " 1 1 +1 1 1 3 1 data_5\n", []string{"line 1: a2 = \"+1\""}},
		{"missing field", " 1 1 1 1 1 3 data_5\n", []string{"line 1: 7 fields, want 8"}},
		{"extra field", " 1 1 1 1 1 3 1 data_5 x\n", []string{"line 1: 9 fields, want 8"}},
		{"bad class", " 2 1 1 1 1 3 1 data_5\n", []string{"line 1: class \"2\", want 0 or 1"}},
		{"bad id", " 1 1 1 1 1 3 1 item_5\n", []string{"line 1: the Id field \"item_5\""}},
		{"empty id number", " 1 1 1 1 1 3 1 data_\n", []string{"line 1: the Id field \"data_\""}},
		{"id out of range", " 1 1 1 1 1 3 1 data_433\n", []string{"line 1: the Id field data_433 out of range"}},
		{"id zero", " 1 1 1 1 1 3 1 data_0\n", []string{"line 1: the Id field data_0 out of range"}},
		{"id inconsistent", good + " 1 1 1 1 1 3 1 data_6\n", []string{"line 2: the Id field data_6 does not match attributes 1 1 1 1 3 1 (data_5)"}},
		{"blank line inside", good + "\n" + good, []string{"line 2: blank line"}},
		{"long line", strings.Repeat("1", 70000), []string{"line 1: line too long"}},
	} {
		_, err := ParseMonk(strings.NewReader(tc.in), "f.train")
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		checkErr(t, tc.name, err, tc.want...)
	}
}

func TestLoadMonkErrors(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := LoadMonk(dir, 1); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadMonk of an empty directory: %v, want a not-exist error", err)
	} else {
		checkErr(t, "missing file", err, "monks-1.train")
	}
	if _, _, err := LoadMonk(dir, 4); err == nil {
		t.Error("LoadMonk(problem 4): no error")
	} else {
		checkErr(t, "problem 4", err, "want 1, 2 or 3")
	}
	// A bad line in the test file names the path and line.
	os.WriteFile(filepath.Join(dir, "monks-2.train"), []byte(" 1 1 1 1 1 3 1 data_5\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "monks-2.test"), []byte(" 1 1 1 1 1 3 1 data_5\n 1 1 1 1 1 3 1 data_5 x\n"), 0o644)
	if _, _, err := LoadMonk(dir, 2); err == nil {
		t.Error("LoadMonk with a bad test file: no error")
	} else {
		checkErr(t, "bad test file", err, filepath.Join(dir, "monks-2.test")+" line 2:")
	}
}
