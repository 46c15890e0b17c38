package reproduce

import (
	"fmt"
	"io"
)

// WriteKeyFigures writes the key figures of rep as text, as obs reproduce
// prints them (report.md and summary.json hold the rest): per MONK's
// problem and method the parameters left (median [min-max]) and the median
// test accuracy beside the paper's, and per XOR regime how often each
// method's first deletion was the retrained brute force's.
func WriteKeyFigures(w io.Writer, rep *Report) error {
	var err error
	pf := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	if m := rep.Monk; m != nil {
		pf("MONK's problems (%s), %d seeds: parameters left, median [min-max]; test accuracy median\n", m.DataLabel, m.Seeds)
		for _, p := range m.Problems {
			pf("  MONK-%d %s, %d params; paper %d -> %d at %.1f%% test\n", p.Problem, p.Arch, p.Params, p.PaperBefore, p.PaperAfter, 100*p.PaperTestAccuracy)
			for _, s := range p.Methods {
				pf("    %-18s %-14s test %.1f%%\n", s.Method, asciiRange(s.Left), 100*s.TestAcc.Median)
			}
		}
	}
	if x := rep.XOR; x != nil {
		pf("XOR, %d networks (one start each): first deletion correct against the retrained brute force\n", x.Networks)
		for _, reg := range x.Regimes {
			pf("  decay %g: %d kept, %d local minima, %d not converged\n", reg.Decay, reg.Kept, reg.LocalMinima, reg.NotConverged)
			for _, m := range reg.Methods {
				pf("    %-14s %d/%d correct, same as magnitude %d/%d\n", m.Method, m.CorrectRetrained, m.Networks, m.AgreeMagnitude, m.Networks)
			}
		}
	}
	return err
}

// asciiRange formats a range of parameter counts as "21 [14-21]"
// (paramsRange with a hyphen, for terminals).
func asciiRange(r Range) string {
	if r.N == 0 {
		return "-"
	}
	if r.Min == r.Max {
		return fmt.Sprintf("%g", r.Median)
	}
	return fmt.Sprintf("%g [%g-%g]", r.Median, r.Min, r.Max)
}
