package hessian

import (
	"fmt"
	"strings"

	"github.com/obs-toolkit/obs/internal/enum"
)

// Kind names a curvature matrix of E. The names are used everywhere: in
// flags, file names and reports (never the numbers). The zero value is GGN,
// the positive semi-definite curvature every method accepts.
type Kind int

const (
	// GGN is the generalized Gauss–Newton matrix
	// G = (1/P) sum_p J_p^T L_p J_p + Decay I. It is the zero Kind.
	GGN Kind = iota
	// EmpiricalFisher is F_emp = (1/P) sum_p g_p g_p^T + Decay I, built from
	// the per-pattern gradients at the observed targets.
	EmpiricalFisher
	// MCFisher is the Monte-Carlo estimate of the true Fisher,
	// F_mc = (1/(P S)) sum_p sum_s g~_ps g~_ps^T + Decay I, with targets
	// sampled from the model's predictive distribution (see Options).
	MCFisher
	// Exact is the exact Hessian H = (1/P) sum_p hess l_p + Decay I. It can be
	// indefinite and is not a sum of rank-1 terms.
	Exact
)

var kindNames = [...]string{"ggn", "ef", "mcfisher", "exact"}

// String returns the kind's name: "ggn", "ef", "mcfisher" or "exact".
func (k Kind) String() string { return enum.Name(kindNames[:], "Kind", k) }

// ParseKind returns the curvature kind with the given name (case is ignored).
func ParseKind(s string) (Kind, error) {
	if k, ok := enum.Parse[Kind](kindNames[:], strings.TrimSpace(s)); ok {
		return k, nil
	}
	return 0, fmt.Errorf("hessian: unknown curvature %q (want %s)", s, strings.Join(kindNames[:], ", "))
}

// Defaults of Options.
const (
	// DefaultSamples is the number of Monte-Carlo targets drawn per pattern
	// by MCFisher when Options.Samples is 0.
	DefaultSamples = 8
	// DefaultSigma is the noise standard deviation of the Gaussian predictive
	// distribution used by MCFisher for squared error when Options.Sigma is 0.
	DefaultSigma = 1.0
)

// Options are the settings of the Monte-Carlo Fisher. Only MCFisher uses
// them; the other kinds are deterministic and New ignores Options for them.
// The zero value and a nil *Options give the defaults.
//
// For each pattern, MCFisher draws Samples targets t~ from the model's
// predictive distribution and uses the gradient of the negative
// log-likelihood at t~, g~ = J_p^T v with v = -grad_f log p(t~ | f):
//
//	squared error: t~ = f + Sigma eps, eps ~ N(0, I): v = (f - t~)/Sigma^2 = -eps/Sigma,
//	               so E[v v^T] = I/Sigma^2 and E[F_mc] = G_data/Sigma^2 + Decay I
//	               (unbiased for G exactly when Sigma = 1, the noise model of l = 1/2 ||f - t||^2);
//	bce:           t~_k ~ Bernoulli(pi_k) independently: v = pi - t~, E[v v^T] = diag(pi (1 - pi)) = L_p;
//	ce:            a class c ~ Categorical(pi): v = sqrt(s_p) (pi - e_c), E[v v^T] = s_p (diag(pi) - pi pi^T) = L_p,
//	               s_p the sum of the pattern's targets (1 for probability targets).
//
// So E[F_mc] = G for bce and ce, and for squared error with Sigma = 1.
type Options struct {
	// Samples is the number S of targets drawn per pattern. If zero,
	// DefaultSamples is used; it must not be negative.
	Samples int
	// Sigma is the standard deviation of the Gaussian noise for squared
	// error. If zero, DefaultSigma is used; it must be finite and not
	// negative. Other losses ignore it.
	Sigma float64
	// Seed seeds the PCG generator (math/rand/v2) that draws the targets;
	// every value, 0 included, is a valid seed used as given. The same seed,
	// weights and data give the same samples, and every call of Terms, Dense
	// or Diag of one curvature sees the same samples.
	Seed uint64
}

// Fix is the explicit treatment of an indefinite (exact) Hessian by
// InverseIndefinite. With C = V diag(lambda) V^T, each fix inverts
// V diag(d) V^T for eigenvalues d built from lambda and the damping alpha.
type Fix int

const (
	// FixNone inverts C + alpha I by Cholesky and fails with
	// ErrNotPositiveDefinite if that matrix is not positive definite.
	FixNone Fix = iota
	// FixShift adds the smallest multiple of I that makes C positive
	// semi-definite, shift = max(0, -lambda_min), on top of alpha:
	// d = lambda + shift + alpha. Every eigenvalue moves by the same amount.
	FixShift
	// FixAbs takes absolute values: d = |lambda| + alpha (the saddle-free
	// Newton choice; negative curvature becomes positive).
	FixAbs
	// FixClip raises eigenvalues below alpha to alpha: d = max(lambda, alpha).
	FixClip
	// FixPinv is the pseudo-inverse: directions with |lambda| <= alpha are
	// dropped (their inverse eigenvalue is 0) and the others are inverted
	// as they are, d = lambda, negative ones included. alpha is the
	// threshold and is not added. The result can be indefinite or singular,
	// so [C^-1]_qq can be negative or 0.
	FixPinv
)

var fixNames = [...]string{"none", "shift", "abs", "clip", "pinv"}

// String returns the fix's name: "none", "shift", "abs", "clip" or "pinv".
func (f Fix) String() string { return enum.Name(fixNames[:], "Fix", f) }

// ParseFix returns the fix with the given name (case is ignored).
func ParseFix(s string) (Fix, error) {
	if f, ok := enum.Parse[Fix](fixNames[:], strings.TrimSpace(s)); ok {
		return f, nil
	}
	return 0, fmt.Errorf("hessian: unknown indefinite-Hessian fix %q (want %s)", s, strings.Join(fixNames[:], ", "))
}

// FixReport says what InverseIndefinite did. Eigenvalues are those of the
// curvature C (weight decay included, alpha not).
type FixReport struct {
	// Fix is the fix's name.
	Fix string
	// Alpha is the damping (for FixPinv, the drop threshold).
	Alpha float64
	// Shift is the multiple of I added beyond alpha (FixShift only; else 0).
	Shift float64
	// MinEigen and MaxEigen are the extreme eigenvalues of C.
	MinEigen, MaxEigen float64
	// Negative is the number of eigenvalues of C below 0.
	Negative int
	// Clipped is the number of eigenvalues the fix changed beyond adding
	// alpha: raised to alpha (FixClip), reflected (FixAbs: the negative
	// ones), or dropped (FixPinv). 0 for FixNone and FixShift.
	Clipped int
	// Condition is max|d| / min|d| over the eigenvalues d actually inverted
	// (+Inf if the matrix was singular or indefinite under FixNone).
	Condition float64
}
