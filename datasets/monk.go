package datasets

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
)

// MonkPattern is one instance of a MONK's problem, as on a line of the UCI
// files.
type MonkPattern struct {
	// Class is the label, 0 or 1.
	Class int

	// A holds the attributes a1..a6, each in its domain (see MonkDomain).
	A [6]int

	// ID is the 1-based lexicographic index k of A in the domain, written
	// data_k in the UCI files.
	ID int
}

// monkSizes holds the domain sizes of a1..a6; attribute i takes the values
// 1..monkSizes[i].
var monkSizes = [6]int{3, 3, 2, 3, 4, 2}

const (
	// monkDomainSize is the number of attribute vectors, 3*3*2*3*4*2.
	monkDomainSize = 432

	// monkNumInputs is the length of the one-hot encoding, 3+3+2+3+4+2.
	monkNumInputs = 17
)

// MonkDomain returns all 432 MONK's attribute vectors (a1..a6) in
// lexicographic order, a1 varying slowest. The vector at index i has ID i+1.
func MonkDomain() [][6]int {
	dom := make([][6]int, 0, monkDomainSize)
	var a [6]int
	for a[0] = 1; a[0] <= monkSizes[0]; a[0]++ {
		for a[1] = 1; a[1] <= monkSizes[1]; a[1]++ {
			for a[2] = 1; a[2] <= monkSizes[2]; a[2]++ {
				for a[3] = 1; a[3] <= monkSizes[3]; a[3]++ {
					for a[4] = 1; a[4] <= monkSizes[4]; a[4]++ {
						for a[5] = 1; a[5] <= monkSizes[5]; a[5]++ {
							dom = append(dom, a)
						}
					}
				}
			}
		}
	}
	return dom
}

// monkInDomain reports whether every attribute of a is in its domain.
func monkInDomain(a [6]int) bool {
	for i, v := range a {
		if v < 1 || v > monkSizes[i] {
			return false
		}
	}
	return true
}

// monkID returns the 1-based lexicographic index of a, which must be in the
// domain.
func monkID(a [6]int) int {
	k := 0
	for i, v := range a {
		k = k*monkSizes[i] + v - 1
	}
	return k + 1
}

// mustMonk panics unless problem is 1, 2 or 3 and a is in the domain.
func mustMonk(problem int, a [6]int) {
	mustProblem(problem)
	if !monkInDomain(a) {
		panic(fmt.Sprintf("datasets: MONK attributes %v out of domain", a))
	}
}

// mustProblem panics unless problem is 1, 2 or 3.
func mustProblem(problem int) {
	if problem < 1 || problem > 3 {
		panic(fmt.Sprintf("datasets: MONK problem %d, want 1, 2 or 3", problem))
	}
}

// MonkConcept returns the noise-free class, 0 or 1, of the attribute vector a
// under the concept of the given MONK's problem (Thrun et al., 1991):
//
//	MONK-1: (a1 = a2) or (a5 = 1)
//	MONK-2: exactly two of a1..a6 equal 1
//	MONK-3: (a5 = 3 and a4 = 1) or (a5 != 4 and a2 != 3)
//
// MonkConcept panics if problem is not 1, 2 or 3 or a is out of the domain.
func MonkConcept(problem int, a [6]int) int {
	mustMonk(problem, a)
	a1, a2, a4, a5 := a[0], a[1], a[3], a[4]
	var c bool
	switch problem {
	case 1:
		c = a1 == a2 || a5 == 1
	case 2:
		ones := 0
		for _, v := range a {
			if v == 1 {
				ones++
			}
		}
		c = ones == 2
	case 3:
		c = (a5 == 3 && a4 == 1) || (a5 != 4 && a2 != 3)
	}
	if c {
		return 1
	}
	return 0
}

// MonkInputNames returns the names of the 17 inputs of MonkEncode:
// "a1=1", "a1=2", "a1=3", "a2=1", ..., "a6=2".
func MonkInputNames() []string {
	names := make([]string, 0, monkNumInputs)
	for i, size := range monkSizes {
		for v := 1; v <= size; v++ {
			names = append(names, fmt.Sprintf("a%d=%d", i+1, v))
		}
	}
	return names
}

// MonkEncode returns the one-hot encoding of a: 17 inputs in groups of
// 3, 3, 2, 3, 4 and 2, one group per attribute, with a 1 at the position of
// the attribute's value and 0 elsewhere. Input j is named MonkInputNames()[j].
// MonkEncode panics if a is out of the domain.
func MonkEncode(a [6]int) []float64 {
	if !monkInDomain(a) {
		panic(fmt.Sprintf("datasets: MONK attributes %v out of domain", a))
	}
	x := make([]float64, monkNumInputs)
	off := 0
	for i, size := range monkSizes {
		x[off+a[i]-1] = 1
		off += size
	}
	return x
}

// MonkSet encodes pats with MonkEncode into a Set with one target, "class",
// equal to each pattern's Class (0 or 1). The labels are taken from pats as
// they are, noise included, not from the concept. MonkSet panics if problem
// is not 1, 2 or 3, or a pattern has attributes out of the domain or a class
// other than 0 or 1.
func MonkSet(problem int, pats []MonkPattern, name, source string) *Set {
	mustProblem(problem)
	s := &Set{
		Name:        name,
		Source:      source,
		Inputs:      make([][]float64, len(pats)),
		Targets:     make([][]float64, len(pats)),
		InputNames:  MonkInputNames(),
		TargetNames: []string{"class"},
	}
	for p, pat := range pats {
		if pat.Class != 0 && pat.Class != 1 {
			panic(fmt.Sprintf("datasets: MONK pattern %d has class %d, want 0 or 1", p, pat.Class))
		}
		s.Inputs[p] = MonkEncode(pat.A)
		s.Targets[p] = []float64{float64(pat.Class)}
	}
	return s
}

// monkTestPatterns returns the whole domain labelled by the concept.
func monkTestPatterns(problem int) []MonkPattern {
	dom := MonkDomain()
	pats := make([]MonkPattern, len(dom))
	for i, a := range dom {
		pats[i] = MonkPattern{Class: MonkConcept(problem, a), A: a, ID: i + 1}
	}
	return pats
}

// MonkTest returns the test set of a MONK's problem: all 432 attribute
// vectors in ID order, labelled by the noise-free concept. It equals the UCI
// file monks-N.test pattern for pattern. MonkTest panics if problem is not 1,
// 2 or 3.
func MonkTest(problem int) *Set {
	mustProblem(problem)
	return MonkSet(problem, monkTestPatterns(problem),
		fmt.Sprintf("monk%d-test", problem),
		fmt.Sprintf("built-in MONK-%d test set: all 432 attribute vectors labelled by the concept (identical to the UCI monks-%d.test)", problem, problem))
}

// sample returns m distinct integers from [0, n), the first m positions of a
// partial Fisher–Yates shuffle of 0..n-1 driven by src.
func sample(src rand.Source, n, m int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := range m {
		j := i + int(uniform(src, uint64(n-i)))
		p[i], p[j] = p[j], p[i]
	}
	return p[:m]
}

// uniform returns a uniformly distributed integer in [0, n), n > 0, by
// Lemire's multiply-and-reject method (D. Lemire, "Fast random integer
// generation in an interval", ACM TOMACS 29(1), 2019).
func uniform(src rand.Source, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}
