package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/internal/bounded"
)

// ParseMonk reads MONK's patterns in the line format of the UCI files
// monks-N.train and monks-N.test:
//
//	class a1 a2 a3 a4 a5 a6 Id
//
// for example " 1 1 1 1 1 3 1 data_5". Each line must hold exactly 8
// whitespace-separated tokens: the class, 0 or 1; the attributes in their
// domains (see MonkDomain); and an Id data_k whose k is the lexicographic
// index of the attributes. Blank lines are allowed only at the end. name
// identifies the input in error messages, which are one line giving the name,
// the line number and the problem, for example
//
//	datasets: monks-1.train line 17: a5 = 7 out of domain 1..4
//
// Input without any pattern is an error.
func ParseMonk(r io.Reader, name string) ([]MonkPattern, error) {
	var (
		pats  []MonkPattern
		line  int
		blank int // number of the first blank line in a run, or 0
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			if blank == 0 {
				blank = line
			}
			continue
		}
		if blank != 0 {
			return nil, fmt.Errorf("datasets: %s line %d: blank line before more data", name, blank)
		}
		p, err := parseMonkFields(fields)
		if err != nil {
			return nil, fmt.Errorf("datasets: %s line %d: %v", name, line, err)
		}
		pats = append(pats, p)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("datasets: %s line %d: line too long", name, line+1)
		}
		return nil, fmt.Errorf("datasets: %s: %w", name, err)
	}
	if len(pats) == 0 {
		return nil, fmt.Errorf("datasets: %s: no MONK patterns", name)
	}
	return pats, nil
}

// parseMonkFields parses the tokens of one line. Its errors carry no prefix.
func parseMonkFields(f []string) (MonkPattern, error) {
	var p MonkPattern
	if len(f) != 8 {
		return p, fmt.Errorf("%d fields, want 8 (class a1 a2 a3 a4 a5 a6 Id)", len(f))
	}
	switch f[0] {
	case "0":
		p.Class = 0
	case "1":
		p.Class = 1
	default:
		return p, fmt.Errorf("class %q, want 0 or 1", f[0])
	}
	for i := range p.A {
		tok := f[1+i]
		v, ok := parseNatural(tok)
		if !ok {
			return p, fmt.Errorf("a%d = %q is not an integer in 1..%d", i+1, tok, monkSizes[i])
		}
		if v < 1 || v > monkSizes[i] {
			return p, fmt.Errorf("a%d = %d out of domain 1..%d", i+1, v, monkSizes[i])
		}
		p.A[i] = v
	}
	id := f[7]
	ks, found := strings.CutPrefix(id, "data_")
	k, ok := parseNatural(ks)
	if !found || !ok {
		return p, fmt.Errorf("the Id field %q, want data_k with k in 1..%d", id, monkDomainSize)
	}
	if k < 1 || k > monkDomainSize {
		return p, fmt.Errorf("the Id field %s out of range data_1..data_%d", id, monkDomainSize)
	}
	if want := monkID(p.A); k != want {
		return p, fmt.Errorf("the Id field %s does not match attributes %d %d %d %d %d %d (data_%d)",
			id, p.A[0], p.A[1], p.A[2], p.A[3], p.A[4], p.A[5], want)
	}
	p.ID = k
	return p, nil
}

// parseNatural parses a non-empty string of at most 9 ASCII decimal digits.
func parseNatural(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.Atoi(s)
	return v, err == nil
}

// LoadMonk reads the UCI files DIR/monks-N.train and DIR/monks-N.test of MONK's
// problem N = problem with ParseMonk and encodes them with MonkSet. The sets
// are named by the files' base names and their Source is the file path.
func LoadMonk(dir string, problem int) (train, test *Set, err error) {
	if problem < 1 || problem > 3 {
		return nil, nil, fmt.Errorf("datasets: MONK problem %d, want 1, 2 or 3", problem)
	}
	train, err = loadMonkFile(filepath.Join(dir, fmt.Sprintf("monks-%d.train", problem)), problem, "training")
	if err != nil {
		return nil, nil, err
	}
	test, err = loadMonkFile(filepath.Join(dir, fmt.Sprintf("monks-%d.test", problem)), problem, "test")
	if err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// loadMonkFile reads one MONK's file.
func loadMonkFile(path string, problem int, kind string) (*Set, error) {
	// A MONK's file lists at most the 432 patterns of the domain, about
	// 30 bytes each: 1 MiB is far more than any can need.
	f, err := bounded.Open(path, "MONK's file", 1<<20, 0)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	pats, err := ParseMonk(f, path)
	if err != nil {
		return nil, err
	}
	src := fmt.Sprintf("UCI MONK-%d %s file %s", problem, kind, path)
	return MonkSet(problem, pats, filepath.Base(path), src), nil
}
