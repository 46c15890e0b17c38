package prune

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseRecompute reads a rebuild schedule as obs prune's --recompute takes
// it: N (every N deletions, 0 never), giving Config.Recompute, or P%,
// giving Config.RecomputeFraction.
func ParseRecompute(s string) (every int, fraction float64, err error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, perr := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if perr != nil || !(v > 0 && v <= 100) {
			return 0, 0, fmt.Errorf("recompute %q: a percentage must be in (0, 100]", s)
		}
		return 0, v / 100, nil
	}
	n, perr := strconv.Atoi(s)
	if perr != nil || n < 0 {
		return 0, 0, fmt.Errorf("recompute %q must be a number of deletions >= 0 or a percentage like 5%%", s)
	}
	return n, 0, nil
}

// RecomputeSchedule says in words when the curvature is rebuilt.
func (cfg *Config) RecomputeSchedule() string {
	switch {
	case cfg.RecomputeFraction > 0:
		return fmt.Sprintf("whenever %g%% of the parameters left at the last build have been deleted", 100*cfg.RecomputeFraction)
	case cfg.Recompute == 0:
		return "never (downdate only)"
	case cfg.Recompute == 1:
		return "after every deletion"
	}
	return fmt.Sprintf("every %d deletions", cfg.Recompute)
}
