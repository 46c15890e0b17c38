package study

import (
	"fmt"
	"io"
	"strings"

	"github.com/obs-toolkit/obs/hessian"
)

// WriteCurvatureTables writes the curvatures of s (those of kinds, in
// that order) as aligned text, as obs hessian prints them: per kind its
// trace, top eigenvalues, smallest eigenvalue, negative eigenvalues,
// condition number and first parameter removed, each inverse and fix, the
// pairs, and the empirical-Fisher diagnosis d with its verdict.
func WriteCurvatureTables(w io.Writer, s *CurvatureSummary, d *Diagnosis, kinds []hessian.Kind) error {
	var err error
	p := func(format string, a ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, a...)
		}
	}
	g := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	p("curvatures over P = %d patterns and %d free parameters (normalisation 1/P, decay %g; alpha %g added for inverses; damping %s)\n",
		s.Patterns, s.Free, s.Decay, s.Alpha, s.Damping)
	if strings.HasPrefix(s.Damping, "relative") {
		for _, kd := range kinds {
			k := s.Kinds[kd.String()]
			p("  %s: scale s = tr(C_data)/n = %s, so C = C_data + %s I and alpha s = %s is added\n", kd, g(k.Scale), g(mulp(k.Scale, s.Decay)), g(k.AlphaAdded))
		}
	}
	p("  %-9s %10s %10s %10s %10s %10s %10s %10s %5s %5s %10s  %s\n",
		"kind", "trace", "lambda_1", "lambda_2", "lambda_3", "lambda_4", "lambda_5", "lambda_min", "neg", "neg*", "cond", "first removed")
	for _, kd := range kinds {
		k := s.Kinds[kd.String()]
		top := make([]string, TopEigen)
		for i := range top {
			top[i] = "-"
			if i < len(k.TopEigenvalues) {
				top[i] = g(k.TopEigenvalues[i])
			}
		}
		first := "-"
		if k.FirstChoice != nil {
			first = k.FirstChoice.Name
		}
		p("  %-9s %10s %10s %10s %10s %10s %10s %10s %5d %5d %10s  %s\n",
			kd, g(k.Trace), top[0], top[1], top[2], top[3], top[4], g(k.MinEigenvalue), k.Negative, k.NegativeBeyondRounding, g(k.Condition), first)
	}
	p("  (neg: eigenvalues < 0; neg*: eigenvalues < -nf*eps*max|lambda|, beyond rounding; cond: 2-norm condition number of C + alpha I)\n")
	for _, kd := range kinds {
		k := s.Kinds[kd.String()]
		p("  %s inverse: %s\n", kd, k.Inverse)
		if f := k.FixReport; f != nil {
			p("  %s fix %s: %d negative eigenvalues (%d beyond rounding), shift %.4g, %d eigenvalues changed, condition of what was inverted %s\n",
				kd, f.Fix, f.Negative, k.NegativeBeyondRounding, f.Shift, f.Changed, g(f.Condition))
		}
	}
	if len(s.Pairs) > 0 {
		p("pairs (A, B): ||A-B||_F/||B||_F, best scale c = argmin ||cA - B||_F and the distance after it, |cos| of leading eigenvectors, rank correlations of OBS saliencies\n")
		p("  %-9s %-9s %12s %10s %12s %8s %9s %9s  %s\n", "A", "B", "rel dist", "best c", "rel dist(c)", "|cos|", "spearman", "kendall", "same first")
		for _, pr := range s.Pairs {
			p("  %-9s %-9s %12s %10s %12s %8s %9s %9s  %v\n", pr.A, pr.B, g(pr.RelFrobenius), g(pr.BestScale),
				g(pr.RelFrobeniusScaled), g(pr.LeadingCosine), g(pr.Spearman), g(pr.Kendall), pr.SameFirst)
		}
	}
	dg := s.Diagnostic
	p("is the empirical Fisher usable here? c* %.3g (c*/MSR %.3g, MSR %.3g), distance after scaling %.3g against %.3g (median) and %.3g (max) for %d MC-1 Fishers (p = %.2g), n_eff %.4g of P = %d for nf = %d, IM-equality statistic %.3g (MC-1 floor %.3g), H ≈ %.3g·G (distance %.3g)\n  verdict: %s\n",
		d.CStar, d.CStarOverMSR, d.MSR, d.DistAfter, d.NullMedian, d.NullMax, d.Draws, d.PValue, d.NEff, d.P, d.N, d.IMStat, d.IMNull, d.HG, d.HGDist, dg.Verdict)
	return err
}

// mulp returns p times v, nil if p is nil.
func mulp(p *float64, v float64) *float64 {
	if p == nil {
		return nil
	}
	return num(*p * v)
}
