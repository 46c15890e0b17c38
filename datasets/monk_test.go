package datasets

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestMonkDomain(t *testing.T) {
	dom := MonkDomain()
	if len(dom) != 432 {
		t.Fatalf("len(MonkDomain()) = %d, want 432", len(dom))
	}
	seen := make(map[[6]int]bool)
	for i, a := range dom {
		if !monkInDomain(a) {
			t.Errorf("dom[%d] = %v out of domain", i, a)
		}
		if seen[a] {
			t.Errorf("dom[%d] = %v repeated", i, a)
		}
		seen[a] = true
		// Strictly increasing lexicographic order, checked with the
		// standard library's comparison rather than monkID.
		if i > 0 && slices.Compare(dom[i-1][:], a[:]) >= 0 {
			t.Errorf("dom[%d] = %v not after dom[%d] = %v", i, a, i-1, dom[i-1])
		}
		if id := monkID(a); id != i+1 {
			t.Errorf("monkID(%v) = %d, want %d", a, id, i+1)
		}
	}
	// 432 distinct in-domain vectors in strict order are the whole grid, so
	// the first and last must be the corners.
	if dom[0] != [6]int{1, 1, 1, 1, 1, 1} || dom[431] != [6]int{3, 3, 2, 3, 4, 2} {
		t.Errorf("corners %v, %v", dom[0], dom[431])
	}
	// Spot check against the UCI files: " 1 1 1 1 1 3 1 data_5".
	if dom[4] != [6]int{1, 1, 1, 1, 3, 1} {
		t.Errorf("dom[4] = %v, want [1 1 1 1 3 1] (data_5)", dom[4])
	}
}

func TestMonkEncode(t *testing.T) {
	names := MonkInputNames()
	if len(names) != 17 || names[0] != "a1=1" || names[16] != "a6=2" || names[13] != "a5=3" {
		t.Fatalf("MonkInputNames() = %v", names)
	}
	groups := []int{3, 3, 2, 3, 4, 2}
	for _, a := range MonkDomain() {
		x := MonkEncode(a)
		if len(x) != 17 {
			t.Fatalf("len(MonkEncode(%v)) = %d, want 17", a, len(x))
		}
		off := 0
		for g, size := range groups {
			ones := 0
			for j := off; j < off+size; j++ {
				switch x[j] {
				case 1:
					ones++
					if want := fmt.Sprintf("a%d=%d", g+1, a[g]); names[j] != want {
						t.Errorf("MonkEncode(%v): 1 at %q, want %q", a, names[j], want)
					}
				case 0:
				default:
					t.Errorf("MonkEncode(%v)[%d] = %v, want 0 or 1", a, j, x[j])
				}
			}
			if ones != 1 {
				t.Errorf("MonkEncode(%v): %d ones in group a%d, want 1", a, ones, g+1)
			}
			off += size
		}
	}
}

func TestMonkConceptCounts(t *testing.T) {
	// Positives in monks-N.test, from SOURCE.md's validation table.
	want := map[int]int{1: 216, 2: 142, 3: 228}
	for problem, n := range want {
		got := 0
		for _, a := range MonkDomain() {
			got += MonkConcept(problem, a)
		}
		if got != n {
			t.Errorf("MONK-%d: %d positives over the domain, want %d", problem, got, n)
		}
	}
}

func TestMonkPanics(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"MonkConcept problem 0", func() { MonkConcept(0, [6]int{1, 1, 1, 1, 1, 1}) }},
		{"MonkConcept a5=5", func() { MonkConcept(1, [6]int{1, 1, 1, 1, 5, 1}) }},
		{"MonkEncode a1=0", func() { MonkEncode([6]int{0, 1, 1, 1, 1, 1}) }},
		{"MonkTest 4", func() { MonkTest(4) }},
		{"MonkUCI 0", func() { MonkUCI(0) }},
		{"MonkSet class 2", func() { MonkSet(1, []MonkPattern{{Class: 2, A: [6]int{1, 1, 1, 1, 1, 1}, ID: 1}}, "x", "x") }},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", tc.name)
				}
			}()
			tc.f()
		}()
	}
}

// monkPatternsOf decodes a Set built by MonkSet back into attribute vectors
// and classes, independently of the package's own decoding.
func monkPatternsOf(t *testing.T, s *Set) ([][6]int, []int) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.NumInputs() != 17 || s.NumTargets() != 1 || s.TargetNames[0] != "class" {
		t.Fatalf("%s: shape %d -> %d %v", s.Name, s.NumInputs(), s.NumTargets(), s.TargetNames)
	}
	groups := []int{3, 3, 2, 3, 4, 2}
	as := make([][6]int, s.Len())
	cs := make([]int, s.Len())
	for p, x := range s.Inputs {
		off := 0
		for g, size := range groups {
			for j := 0; j < size; j++ {
				if x[off+j] == 1 {
					as[p][g] = j + 1
				}
			}
			off += size
		}
		cs[p] = int(s.Targets[p][0])
	}
	return as, cs
}

func TestMonkTest(t *testing.T) {
	dom := MonkDomain()
	for problem := 1; problem <= 3; problem++ {
		s := MonkTest(problem)
		if s.Len() != 432 {
			t.Fatalf("MonkTest(%d).Len() = %d, want 432", problem, s.Len())
		}
		as, cs := monkPatternsOf(t, s)
		for p := range as {
			if as[p] != dom[p] {
				t.Fatalf("MonkTest(%d) pattern %d = %v, want %v", problem, p, as[p], dom[p])
			}
			if cs[p] != MonkConcept(problem, dom[p]) {
				t.Errorf("MonkTest(%d) pattern %d has class %d, want the concept's", problem, p, cs[p])
			}
		}
	}
}

func TestMonkUCI(t *testing.T) {
	sizes := map[int]int{1: 124, 2: 169, 3: 122}
	noise := map[int]int{1: 0, 2: 0, 3: 6} // flipped labels in monks-3.train (Thrun et al. 1991)
	for problem := 1; problem <= 3; problem++ {
		train, test := MonkUCI(problem)
		if train.Len() != sizes[problem] || test.Len() != 432 {
			t.Errorf("MonkUCI(%d): %d and %d patterns, want %d and 432", problem, train.Len(), test.Len(), sizes[problem])
		}
		as, cs := monkPatternsOf(t, train)
		flipped := 0
		for p, a := range as {
			if cs[p] != MonkConcept(problem, a) {
				flipped++
			}
		}
		if flipped != noise[problem] {
			t.Errorf("MonkUCI(%d): %d training labels disagree with the concept, want %d", problem, flipped, noise[problem])
		}
		// The test file is the whole domain labelled by the concept.
		if want := MonkTest(problem); !slices.EqualFunc(test.Inputs, want.Inputs, slices.Equal) || !slices.EqualFunc(test.Targets, want.Targets, slices.Equal) {
			t.Errorf("MonkUCI(%d) test set differs from MonkTest", problem)
		}
		for _, w := range []string{"UCI", fmt.Sprintf("monks-%d.train", problem), "CC BY 4.0"} {
			if !strings.Contains(train.Source, w) {
				t.Errorf("MonkUCI(%d).Source = %q lacks %q", problem, train.Source, w)
			}
		}
	}
}

// TestMonkUCIChecksums checks the embedded files against the SHA-256 sums
// listed in their SOURCE.md, so a changed byte is noticed.
func TestMonkUCIChecksums(t *testing.T) {
	note := MonkSourceNote()
	for _, name := range []string{"monks-1.train", "monks-1.test", "monks-2.train", "monks-2.test", "monks-3.train", "monks-3.test"} {
		b, err := monkFiles.ReadFile("monkdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		sum := fmt.Sprintf("%x", sha256.Sum256(b))
		if !strings.Contains(note, "| "+name+" |") || !strings.Contains(note, sum) {
			t.Errorf("%s: sha256 %s not listed in SOURCE.md", name, sum)
		}
	}
}
