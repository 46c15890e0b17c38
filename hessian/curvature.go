package hessian

import (
	"context"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// New returns the curvature of the given kind of E at net's current weights
// over the patterns X (inputs) and T (targets), restricted to net's free
// parameters. GGN, EmpiricalFisher and MCFisher return a RankOne.
//
// New keeps a copy of net, so later changes to net (training, pruning) do
// not change the curvature; it keeps X and T themselves, which must not
// change while the curvature is in use. opts is used by MCFisher only and
// may be nil. New returns an error if X and T do not fit net, contain NaN or
// Inf, if every parameter is pruned, or if opts is invalid.
//
// The RankOne curvatures stream their terms pattern by pattern and never
// store them; Exact computes the exact Hessian (n exact Hessian-vector
// products per pattern, Pearlmutter's R-operator) once, on first use, and
// keeps it.
func New(kind Kind, net *model.MLP, X, T [][]float64, opts *Options) (Curvature, error) {
	free, err := checkNet(net, X, T)
	if err != nil {
		return nil, err
	}
	base := base{kind: kind, net: net.Clone(), X: X, T: T, free: free, decay: net.Decay}
	K := net.NumOutputs()
	switch kind {
	case Exact:
		return &exact{base: base, cache: &exactCache{}}, nil
	case GGN:
		return &rankOne{base: base, perPattern: K}, nil
	case EmpiricalFisher:
		return &rankOne{base: base, perPattern: 1}, nil
	case MCFisher:
		o, err := opts.resolve()
		if err != nil {
			return nil, err
		}
		return &rankOne{base: base, perPattern: o.Samples, opts: o}, nil
	default:
		return nil, fmt.Errorf("hessian: unknown curvature %v (want %v, %v, %v or %v)", kind, Exact, GGN, EmpiricalFisher, MCFisher)
	}
}

// Resolved returns the options with the defaults their zero fields stand
// for filled in (a nil o is all defaults), or an error for invalid ones:
// what a build with o uses, for a summary to state.
func (o *Options) Resolved() (Options, error) { return o.resolve() }

// resolve returns the options with defaults filled in, or an error.
func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Samples < 0 {
		return r, fmt.Errorf("hessian: Monte-Carlo samples %d must be >= 0 (0 means the default %d)", r.Samples, DefaultSamples)
	}
	if r.Samples == 0 {
		r.Samples = DefaultSamples
	}
	if !(r.Sigma >= 0) || math.IsInf(r.Sigma, 1) {
		return r, fmt.Errorf("hessian: Monte-Carlo sigma %v must be a finite number >= 0 (0 means the default %v)", r.Sigma, DefaultSigma)
	}
	if r.Sigma == 0 {
		r.Sigma = DefaultSigma
	}
	return r, nil
}

// base holds what every curvature shares.
type base struct {
	kind Kind
	net  *model.MLP // a private copy
	X, T [][]float64
	free []int
	ctx  context.Context // nil: never cancelled (see WithContext)
	// decay is the weight-decay coefficient of C: net.Decay, or another
	// value set by WithDecay (relative damping).
	decay float64
}

func (b *base) Kind() Kind     { return b.kind }
func (b *base) Dim() int       { return len(b.free) }
func (b *base) Free() []int    { return b.free }
func (b *base) Norm() int      { return len(b.X) }
func (b *base) Decay() float64 { return b.decay }
func (b *base) sizeSym(dst *mat.SymDense) {
	n := len(b.free)
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	if d := dst.SymmetricDim(); d != n {
		panic(fmt.Sprintf("hessian: destination matrix has size %d, want %d free parameters", d, n))
	}
}

func (b *base) checkDiagLen(dst []float64) {
	if len(dst) != len(b.free) {
		panic(fmt.Sprintf("hessian: diagonal has length %d, want %d free parameters", len(dst), len(b.free)))
	}
}

// exact is the exact Hessian of E over the free parameters.
type exact struct {
	base
	cache *exactCache // shared by the copies of WithDecay
}

// exactCache is the exact Hessian with the network's own weight decay,
// computed on first use.
type exactCache struct {
	once sync.Once
	h    *mat.SymDense // nf x nf
}

// hessian computes (once) and returns the exact Hessian over the free
// parameters, with the network's weight decay net.Decay.
func (c *exact) hessian() *mat.SymDense {
	c.cache.once.Do(func() {
		var full mat.SymDense
		c.net.Hessian(c.net.NewWorkspace(), &full, c.X, c.T)
		n := len(c.free)
		c.cache.h = mat.NewSymDense(n, nil)
		for a, qa := range c.free {
			for b := a; b < n; b++ {
				c.cache.h.SetSym(a, b, full.At(qa, c.free[b]))
			}
		}
	})
	return c.cache.h
}

// extraDecay is what the model's Hessian lacks on its diagonal: Decay -
// net.Decay, 0 unless WithDecay changed the decay.
func (c *exact) extraDecay() float64 { return c.decay - c.net.Decay }

// Dense writes the exact Hessian H = (1/P) sum_p hess l_p + Decay I over the
// free parameters into dst.
func (c *exact) Dense(dst *mat.SymDense) {
	c.sizeSym(dst)
	dst.CopySym(c.hessian())
	if d := c.extraDecay(); d != 0 {
		addDiag(dst, d)
	}
}

// Diag writes the diagonal of the exact Hessian into dst.
func (c *exact) Diag(dst []float64) {
	c.checkDiagLen(dst)
	h := c.hessian()
	d := c.extraDecay()
	for i := range dst {
		dst[i] = h.At(i, i) + d
	}
}

// checkNet checks a network and its data before a curvature is built and
// returns its free parameters, of which there must be at least one.
func checkNet(net *model.MLP, X, T [][]float64) ([]int, error) {
	if net == nil {
		return nil, fmt.Errorf("hessian: nil network")
	}
	if err := net.Check(); err != nil {
		return nil, fmt.Errorf("hessian: %w", err)
	}
	if err := net.CheckData(X, T); err != nil {
		return nil, fmt.Errorf("hessian: %w", err)
	}
	free := net.Free()
	if len(free) == 0 {
		return nil, fmt.Errorf("hessian: every parameter of the %s network is pruned; there is no curvature to build", net.Describe())
	}
	return free, nil
}
