package datasets

import (
	"bytes"
	"embed"
	"fmt"
)

// monkFiles holds the six UCI MONK's files, byte for byte (see
// monkdata/SOURCE.md for where they come from and their checksums). They
// are under CC BY 4.0: S.B. Thrun et al., "The MONK's Problems", CMU-CS-91-197
// (1991), via the UCI Machine Learning Repository, data set 70.
//
//go:embed monkdata/monks-*.train monkdata/monks-*.test monkdata/SOURCE.md
var monkFiles embed.FS

// MonkUCI returns the original UCI training and test sets of a MONK's
// problem from the copy built into the package: monks-N.train (124, 169 or
// 122 patterns, MONK-3 with its 6 noisy labels) and monks-N.test (432
// patterns). MonkUCI panics if problem is not 1, 2 or 3; the embedded files
// are checked by the package tests, so a parse error is a build defect.
func MonkUCI(problem int) (train, test *Set) {
	mustProblem(problem)
	read := func(kind string) *Set {
		name := fmt.Sprintf("monks-%d.%s", problem, kind)
		b, err := monkFiles.ReadFile("monkdata/" + name)
		if err != nil {
			panic(fmt.Sprintf("datasets: embedded %s: %v", name, err))
		}
		pats, err := ParseMonk(bytes.NewReader(b), name)
		if err != nil {
			panic(fmt.Sprintf("datasets: embedded %s: %v", name, err))
		}
		src := fmt.Sprintf("UCI MONK-%d %s file %s (built in, CC BY 4.0, Thrun et al. 1991)", problem, map[string]string{"train": "training", "test": "test"}[kind], name)
		return MonkSet(problem, pats, fmt.Sprintf("monk%d-%s", problem, kind), src)
	}
	return read("train"), read("test")
}

// MonkSourceNote returns monkdata/SOURCE.md, the provenance and licence of
// the built-in MONK's files.
func MonkSourceNote() string {
	b, _ := monkFiles.ReadFile("monkdata/SOURCE.md")
	return string(b)
}
