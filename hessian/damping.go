package hessian

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/enum"
	"github.com/obs-toolkit/obs/model"
)

// Damping says how the weight decay lambda of E and the damping alpha of an
// inverse enter a curvature C = C_data + lambda I. The zero value is
// Absolute.
//
// Two curvatures that differ by a scale, C_data' = c C_data (the empirical
// Fisher is about c* G with c* the noise variance, White 1982; see
// docs/gn-vs-fisher.md), rank OBS's deletions alike only if their ridges
// scale too: C_data' + (lambda + alpha) I is ridge-damped 1/c times harder
// than C_data + (lambda + alpha) I. Relative damping removes that: with
// s = tr(C_data)/nf it inverts C_data + (lambda + alpha) s I, so that
// C_data' gets c times the ridge of C_data and the two inverses differ by
// the factor c alone (the same deletions and updates; the predicted
// increases keep the scale c).
type Damping int

const (
	// Absolute adds lambda and alpha as they are: (C_data + (lambda +
	// alpha) I)^-1, the OBS papers' choice and the default.
	Absolute Damping = iota
	// Relative adds them as multiples of the curvature's own scale
	// s = tr(C_data)/nf: (C_data + (lambda + alpha) s I)^-1.
	Relative
)

var dampingNames = [...]string{"absolute", "relative"}

// String returns "absolute" or "relative".
func (d Damping) String() string { return enum.Name(dampingNames[:], "Damping", d) }

// ParseDamping returns the damping named absolute or relative (case is ignored).
func ParseDamping(s string) (Damping, error) {
	if d, ok := enum.Parse[Damping](dampingNames[:], strings.TrimSpace(s)); ok {
		return d, nil
	}
	return 0, fmt.Errorf("hessian: unknown damping %q (want %s)", s, enum.Or(dampingNames[:]))
}

// Scale returns s = tr(C_data)/nf, the mean eigenvalue of the data part
// C_data = C - Decay I of c over its nf free parameters, from c's diagonal
// (one pass over a RankOne's terms; the exact Hessian is formed).
func Scale(c Curvature) float64 {
	d := make([]float64, c.Dim())
	c.Diag(d)
	var tr float64
	for _, v := range d {
		tr += v - c.Decay()
	}
	return tr / float64(len(d))
}

// WithDecay returns a copy of c whose weight-decay term is lambda I instead
// of c.Decay() I; the data part and everything else (context, samples) are
// c's. For the curvatures of New and NewSparse the copy keeps their type
// (and their fast paths); an exact Hessian already formed is shared, not
// recomputed. Any other curvature is wrapped, keeping RankOne if c is one.
// WithDecay panics if lambda is negative or not finite.
func WithDecay(c Curvature, lambda float64) Curvature {
	if !(lambda >= 0) || math.IsInf(lambda, 1) {
		panic(fmt.Sprintf("hessian: weight decay %v must be a finite number >= 0", lambda))
	}
	switch v := c.(type) {
	case *rankOne:
		cp := *v
		cp.decay = lambda
		return &cp
	case *sparse:
		cp := *v.rankOne
		cp.decay = lambda
		return &sparse{&cp}
	case *exact:
		cp := *v
		cp.decay = lambda
		return &cp
	case RankOne:
		return &decayedRankOne{decayed{v, lambda}, v}
	}
	return &decayed{c, lambda}
}

// Damp returns the curvature and the damping to invert for the damping
// mode d, and the scale s used: for Absolute c, alpha and 1; for Relative
// WithDecay(c, s c.Decay()), s alpha and s = Scale(c). Inverting the
// returned curvature with the returned alpha gives (C_data + (lambda +
// alpha) s I)^-1. It returns an error if alpha is not a finite number > 0,
// or, for Relative, if s is not a finite number > 0 (an exact Hessian with
// tr(H_data) <= 0, far from a minimum, or a vanished empirical Fisher).
func Damp(d Damping, c Curvature, alpha float64) (Curvature, float64, float64, error) {
	if err := checkAlpha(alpha); err != nil {
		return nil, 0, 0, err
	}
	switch d {
	case Absolute:
		return c, alpha, 1, nil
	case Relative:
		s := Scale(c)
		if !(s > 0) || math.IsInf(s, 1) {
			return nil, 0, 0, fmt.Errorf("hessian: relative damping needs a curvature scale tr(C_data)/n > 0, and the %v curvature has %g; use absolute damping", c.Kind(), s)
		}
		return WithDecay(c, s*c.Decay()), s * alpha, s, nil
	}
	panic(fmt.Sprintf("hessian: unknown damping %d", int(d)))
}

// decayed is a curvature with another weight decay.
type decayed struct {
	Curvature
	decay float64
}

func (c *decayed) Decay() float64 { return c.decay }

func (c *decayed) Dense(dst *mat.SymDense) {
	c.Curvature.Dense(dst)
	addDiag(dst, c.decay-c.Curvature.Decay())
}

func (c *decayed) Diag(dst []float64) {
	c.Curvature.Diag(dst)
	for i := range dst {
		dst[i] += c.decay - c.Curvature.Decay()
	}
}

// decayedRankOne is a RankOne with another weight decay.
type decayedRankOne struct {
	decayed
	r RankOne
}

func (c *decayedRankOne) NumTerms() int                      { return c.r.NumTerms() }
func (c *decayedRankOne) Terms(b int, fn func(u *mat.Dense)) { c.r.Terms(b, fn) }

// EffectiveSamples returns the effective number of per-pattern gradients,
//
//	n_eff = (sum_p ||g_p||^2)^2 / sum_p ||g_p||^4,
//
// of net on the patterns X, T, with g_p = grad l_p over the free parameters
// (the terms of EmpiricalFisher): P when every gradient has the same norm,
// 1 when one gradient carries all of tr F_emp. It is the sample size the
// empirical Fisher's trace is effectively averaged over (Kish's effective
// sample size with weights ||g_p||^2), to be read against nf. It is NaN
// when every g_p is 0 (a perfect fit). The error is that of New.
//
// It is one backpropagation per pattern (model.MLP.PatternGrad, the
// empirical Fisher's terms), each gradient's free entries gathered and
// dotted with themselves, never the terms' nf x b blocks.
func EffectiveSamples(net *model.MLP, X, T [][]float64) (float64, error) {
	free, err := checkNet(net, X, T)
	if err != nil {
		return 0, err
	}
	ws := net.NewWorkspace()
	grad := make([]float64, len(net.Params))
	g := make([]float64, len(free))
	sq := make([]float64, len(X))
	for p := range X {
		net.PatternGrad(ws, grad, X[p], T[p])
		for a, q := range free {
			g[a] = grad[q]
		}
		sq[p] = floats.Dot(g, g)
	}
	return NEff(sq), nil
}

// NEff returns (sum_i v_i)^2 / sum_i v_i^2 for the non-negative weights v
// (NaN if they are all 0): EffectiveSamples with v_p = ||g_p||^2.
func NEff(v []float64) float64 {
	var s, s2 float64
	for _, x := range v {
		s += x
		s2 += x * x
	}
	if s2 == 0 {
		return math.NaN()
	}
	return s * s / s2
}
