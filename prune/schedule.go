package prune

import "math"

// Every rebuilds the curvature after every n deletions (n <= 0: never).
// Every(1) is the classic OBS of SNNS, FCNN4R and NNSYSID.
type Every int

// Due reports whether since >= n.
func (n Every) Due(since, built int) bool { return n > 0 && since >= int(n) }

// Fraction rebuilds whenever the deletions since the last build reach the
// fraction F of the parameters free at that build (at least one deletion):
// a geometric schedule whose number of builds grows like the log of the
// pruning ratio. F * built is rounded down, or to the nearest integer with
// Nearest.
type Fraction struct {
	F       float64
	Nearest bool
}

// Due reports whether since >= max(1, F built rounded).
func (f Fraction) Due(since, built int) bool {
	if !(f.F > 0) {
		return false
	}
	if f.Nearest {
		return since >= max(1, int(math.Round(f.F*float64(built))))
	}
	return float64(since) >= math.Max(1, math.Floor(f.F*float64(built)))
}
