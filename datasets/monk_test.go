package datasets

import (
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
		{"MonkBuiltinTrain 0", func() { MonkBuiltinTrain(0) }},
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

func TestMonkBuiltinTrain(t *testing.T) {
	sizes := map[int]int{1: 124, 2: 169, 3: 122}
	noise := map[int]int{1: 0, 2: 0, 3: 6}
	for problem := 1; problem <= 3; problem++ {
		s := MonkBuiltinTrain(problem)
		if s.Len() != sizes[problem] {
			t.Errorf("MonkBuiltinTrain(%d).Len() = %d, want %d", problem, s.Len(), sizes[problem])
		}
		as, cs := monkPatternsOf(t, s)
		seen := make(map[[6]int]bool)
		flipped := 0
		for p, a := range as {
			if seen[a] {
				t.Errorf("MonkBuiltinTrain(%d): %v repeated", problem, a)
			}
			seen[a] = true
			if p > 0 && slices.Compare(as[p-1][:], a[:]) >= 0 {
				t.Errorf("MonkBuiltinTrain(%d): pattern %d not sorted by id", problem, p)
			}
			if cs[p] != MonkConcept(problem, a) {
				flipped++
			}
		}
		if flipped != noise[problem] {
			t.Errorf("MonkBuiltinTrain(%d): %d labels disagree with the concept, want %d", problem, flipped, noise[problem])
		}
		// Deterministic: a second call gives the same set.
		s2 := MonkBuiltinTrain(problem)
		if s2.Name != s.Name || s2.Source != s.Source || !slices.EqualFunc(s.Inputs, s2.Inputs, slices.Equal) || !slices.EqualFunc(s.Targets, s2.Targets, slices.Equal) {
			t.Errorf("MonkBuiltinTrain(%d) differs between calls", problem)
		}
		if s.Name != fmt.Sprintf("monk%d-train", problem) {
			t.Errorf("Name = %q", s.Name)
		}
		for _, w := range []string{"NOT the original UCI sample", "--monk-dir", "1991"} {
			if !strings.Contains(s.Source, w) {
				t.Errorf("MonkBuiltinTrain(%d).Source = %q lacks %q", problem, s.Source, w)
			}
		}
	}
}

// TestMonkBuiltinTrainGolden pins the built-in samples, so that a change of
// the drawing procedure (which would change every result computed on them)
// is noticed. The values were recorded from this implementation.
func TestMonkBuiltinTrainGolden(t *testing.T) {
	for _, tc := range []struct {
		problem int
		first   []int // first six ids
		last    int   // last id
		flipped []int // ids whose label disagrees with the concept
	}{
		{1, []int{4, 7, 10, 11, 12, 16}, 431, nil},
		{2, []int{1, 3, 10, 13, 14, 16}, 432, nil},
		{3, []int{3, 4, 5, 18, 19, 21}, 430, []int{19, 35, 143, 233, 328, 340}},
	} {
		pats := monkBuiltinPatterns(tc.problem)
		var first, flipped []int
		for i, p := range pats {
			if i < 6 {
				first = append(first, p.ID)
			}
			if p.Class != MonkConcept(tc.problem, p.A) {
				flipped = append(flipped, p.ID)
			}
		}
		if !slices.Equal(first, tc.first) || pats[len(pats)-1].ID != tc.last || !slices.Equal(flipped, tc.flipped) {
			t.Errorf("MONK-%d built-in sample changed: first ids %v, last %d, flipped %v; want %v, %d, %v",
				tc.problem, first, pats[len(pats)-1].ID, flipped, tc.first, tc.last, tc.flipped)
		}
	}
}
