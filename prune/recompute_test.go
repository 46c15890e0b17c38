package prune

import "testing"

// ParseRecompute reads N and P% and refuses the rest; RecomputeSchedule
// says the same schedule back in words.
func TestParseRecompute(t *testing.T) {
	for _, tc := range []struct {
		in       string
		every    int
		fraction float64
		ok       bool
		words    string
	}{
		{"5%", 0, 0.05, true, "whenever 5% of the parameters left at the last build have been deleted"},
		{" 0 ", 0, 0, true, "never (downdate only)"},
		{"1", 1, 0, true, "after every deletion"},
		{"40", 40, 0, true, "every 40 deletions"},
		{"0%", 0, 0, false, ""},
		{"101%", 0, 0, false, ""},
		{"-1", 0, 0, false, ""},
		{"x", 0, 0, false, ""},
	} {
		every, fraction, err := ParseRecompute(tc.in)
		if (err == nil) != tc.ok || every != tc.every || fraction != tc.fraction {
			t.Errorf("ParseRecompute(%q) = %d, %v, %v", tc.in, every, fraction, err)
			continue
		}
		cfg := Config{Recompute: every, RecomputeFraction: fraction}
		if got := cfg.RecomputeSchedule(); tc.ok && got != tc.words {
			t.Errorf("%q: schedule %q, want %q", tc.in, got, tc.words)
		}
	}
}
