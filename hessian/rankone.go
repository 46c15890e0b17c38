package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// mcStream is the PCG stream (second seed word) of the Monte-Carlo targets,
// so that Options.Seed alone selects the samples.
const mcStream = 0x6f6273_6d63 // "obsmc"

// denseBlock is the number of terms per block when a RankOne curvature forms
// its matrix or diagonal.
const denseBlock = 128

// rankOne is a curvature that is a sum of rank-1 terms, generated pattern by
// pattern: GGN, EmpiricalFisher or MCFisher.
type rankOne struct {
	base
	perPattern int     // terms per pattern: K (GGN), 1 (EmpiricalFisher), S (MCFisher)
	opts       Options // MCFisher only, defaults resolved
}

// NumTerms returns M = P K for GGN, P for EmpiricalFisher and P S for MCFisher.
func (c *rankOne) NumTerms() int { return len(c.X) * c.perPattern }

// Terms calls fn with blocks of at most b terms, the columns of an nf x b'
// matrix, pattern by pattern in data order (within a pattern: output by
// output for GGN, sample by sample for MCFisher). Memory is O(nf b) and one
// pattern's Jacobian; nothing is allocated per term.
func (c *rankOne) Terms(b int, fn func(u *mat.Dense)) {
	if b < 1 {
		panic(fmt.Sprintf("hessian: Terms block size %d must be at least 1", b))
	}
	b = min(b, c.NumTerms())
	nf := len(c.free)
	buf := mat.NewDense(nf, b, nil)
	raw := buf.RawMatrix()
	g := c.newGenerator()
	col := 0
	for p := range c.X {
		g.pattern(p)
		for k := 0; k < c.perPattern; k++ {
			for a, v := range g.terms[k*nf : (k+1)*nf] {
				raw.Data[a*raw.Stride+col] = v
			}
			col++
			if col == b {
				fn(buf)
				col = 0
			}
		}
	}
	if col > 0 {
		fn(buf.Slice(0, nf, 0, col).(*mat.Dense))
	}
}

// Dense writes C = Decay I + (1/P) sum_m X_m X_m^T into dst.
func (c *rankOne) Dense(dst *mat.SymDense) {
	c.sizeSym(dst)
	denseFromTerms(dst, c)
}

// Diag writes diag(C) = Decay + (1/P) sum_m X_m^2 (elementwise) into dst.
func (c *rankOne) Diag(dst []float64) {
	c.checkDiagLen(dst)
	diagFromTerms(dst, c)
}

// denseFromTerms writes Decay I + (1/P) sum_m X_m X_m^T into dst (nf x nf)
// from c's terms: the upper triangle, one rank-k update (addUpper) per
// block of terms.
func denseFromTerms(dst *mat.SymDense, c RankOne) {
	dst.Zero()
	full := square(dst)
	invP := 1 / float64(c.Norm())
	ctx := contextOf(c)
	c.Terms(denseBlock, func(u *mat.Dense) {
		if cancelled(ctx) {
			return // the context is cancelled; see WithContext
		}
		r := u.RawMatrix()
		addUpper(full, invP, r, r)
	})
	addDiag(dst, c.Decay())
}

// diagFromTerms writes Decay + (1/P) sum_m X_m^2 into dst from c's terms.
func diagFromTerms(dst []float64, c RankOne) {
	for i := range dst {
		dst[i] = 0
	}
	c.Terms(denseBlock, func(u *mat.Dense) {
		r := u.RawMatrix()
		for i := range dst {
			row := r.Data[i*r.Stride : i*r.Stride+r.Cols]
			dst[i] += floats.Dot(row, row)
		}
	})
	invP := 1 / float64(c.Norm())
	for i := range dst {
		dst[i] = dst[i]*invP + c.Decay()
	}
}

// generator computes one pattern's terms into reused workspaces.
type generator struct {
	c     *rankOne
	ws    *model.Workspace
	jac   mat.Dense // K x n output Jacobian
	u     mat.Dense // K x K output Hessian factor
	jf    []float64 // K x nf: the Jacobian's free columns (jac's own data when every parameter is free)
	grad  []float64 // n: per-pattern gradient
	pi    []float64 // K: the network's prediction
	v     []float64 // K: sampled output gradient
	w     []float64 // perPattern x K: the weights of the terms' combinations
	terms []float64 // perPattern x nf: the pattern's terms, one per row
	rng   *rand.Rand
}

func (c *rankOne) newGenerator() *generator {
	n, K := len(c.net.Params), c.net.NumOutputs()
	g := &generator{
		c:    c,
		ws:   c.net.NewWorkspace(),
		grad: make([]float64, n),
		pi:   make([]float64, K),
		v:    make([]float64, K),
		w:    make([]float64, c.perPattern*K),
	}
	g.jac.ReuseAs(K, n)
	g.u.ReuseAs(K, K)
	if c.kind == MCFisher {
		g.rng = rand.New(rand.NewPCG(c.opts.Seed, mcStream))
	}
	return g
}

// freeJacobian computes J_p and gathers its free columns into g.jf; when
// every parameter is free, g.jf is the Jacobian itself (no copy).
func (g *generator) freeJacobian(x []float64) {
	c := g.c
	nf := len(c.free)
	c.net.OutputJacobian(g.ws, &g.jac, x)
	r := g.jac.RawMatrix()
	if nf == r.Cols && r.Stride == r.Cols {
		g.jf = r.Data[:r.Rows*r.Cols]
		return
	}
	if len(g.jf) != r.Rows*nf || (len(g.jf) > 0 && &g.jf[0] == &r.Data[0]) {
		g.jf = make([]float64, r.Rows*nf)
	}
	for j := 0; j < r.Rows; j++ {
		row := r.Data[j*r.Stride : j*r.Stride+r.Cols]
		dst := g.jf[j*nf : (j+1)*nf]
		for a, q := range c.free {
			dst[a] = row[q]
		}
	}
}

// combineTile is the number of columns of the Jacobian that combine takes
// at a time: K rows of it (80 KiB for K = 10) stay in cache while every term
// is formed from them, instead of the whole K x nf Jacobian being read from
// memory once per term.
const combineTile = 1024

// combine writes the terms J_f^T w_k (scaled by scale), w_k the rows of
// g.w (K each), into the rows of dst (perPattern x nf). Each entry is the
// same sum, in the same order (j ascending, zero weights skipped), as one
// floats.AddScaled per j over the whole row: only the loop over the columns
// is cut into tiles.
func (g *generator) combine(dst []float64, scale float64) {
	nf := len(g.c.free)
	K := len(g.v)
	for a0 := 0; a0 < nf; a0 += combineTile {
		a1 := min(a0+combineTile, nf)
		for k := 0; k < g.c.perPattern; k++ {
			row := dst[k*nf+a0 : k*nf+a1]
			for a := range row {
				row[a] = 0
			}
			for j, wj := range g.w[k*K : (k+1)*K] {
				if wj != 0 {
					floats.AddScaled(row, scale*wj, g.jf[j*nf+a0:j*nf+a1])
				}
			}
		}
	}
}

// pattern computes the terms of pattern p into g.terms.
func (g *generator) pattern(p int) {
	nf := len(g.c.free)
	if len(g.terms) != g.c.perPattern*nf {
		g.terms = make([]float64, g.c.perPattern*nf)
	}
	g.patternTo(g.terms, p)
}

// patternTo computes the terms of pattern p into the rows of dst
// (perPattern x nf).
func (g *generator) patternTo(dst []float64, p int) {
	c := g.c
	x, t := c.X[p], c.T[p]
	K := len(g.v)
	switch c.kind {
	case GGN:
		// Terms J_p^T u_k for the columns u_k of U, U U^T = L_p.
		g.freeJacobian(x)
		c.net.OutputHessianFactor(g.ws, &g.u, x, floats.Sum(t))
		for k := 0; k < c.perPattern; k++ {
			for j := 0; j < K; j++ {
				g.w[k*K+j] = g.u.At(j, k)
			}
		}
		g.combine(dst, 1)
	case EmpiricalFisher:
		c.net.PatternGrad(g.ws, g.grad, x, t)
		for a, q := range c.free {
			dst[a] = g.grad[q]
		}
	case MCFisher:
		copy(g.pi, c.net.Forward(g.ws, x))
		g.freeJacobian(x)
		S := c.perPattern
		scale := 1 / math.Sqrt(float64(S))
		s := floats.Sum(t)
		for k := 0; k < S; k++ {
			g.sample(s)
			copy(g.w[k*K:(k+1)*K], g.v)
		}
		g.combine(dst, scale)
	default:
		panic(fmt.Sprintf("hessian: %v has no rank-1 terms", c.kind))
	}
}

// sample draws a target from the predictive distribution at g.pi and writes
// the output gradient of its negative log-likelihood into g.v (see Options).
func (g *generator) sample(s float64) {
	switch g.c.net.Loss {
	case model.SquaredError:
		// t~ = f + sigma eps, v = (f - t~)/sigma^2 = -eps/sigma.
		for j := range g.v {
			g.v[j] = -g.rng.NormFloat64() / g.c.opts.Sigma
		}
	case model.BinaryCrossEntropy:
		for j, pj := range g.pi {
			t := 0.0
			if g.rng.Float64() < pj {
				t = 1
			}
			g.v[j] = pj - t
		}
	case model.CrossEntropy:
		u := g.rng.Float64()
		cls := len(g.pi) - 1 // if rounding leaves u above the cumulative sum
		cum := 0.0
		for j, pj := range g.pi {
			cum += pj
			if u < cum {
				cls = j
				break
			}
		}
		r := math.Sqrt(s)
		for j, pj := range g.pi {
			g.v[j] = r * pj
		}
		g.v[cls] -= r
	default:
		panic(fmt.Sprintf("hessian: no Monte-Carlo Fisher for loss %v", g.c.net.Loss))
	}
}
