package model

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/obs-toolkit/obs/internal/enum"
)

// Method is a full-batch training algorithm.
type Method int

const (
	// LBFGS is limited-memory BFGS (Nocedal, "Updating quasi-Newton
	// matrices with limited storage", Math. Comp. 35, 1980; Liu & Nocedal,
	// Math. Prog. 45, 1989), gonum's optimize.LBFGS.
	LBFGS Method = iota
	// BFGS is dense BFGS with a line search (Nocedal & Wright, "Numerical
	// Optimization", 2nd ed., 2006, Algorithm 6.1), gonum's optimize.BFGS.
	BFGS
	// LM is Levenberg–Marquardt on the squared-error residuals (Levenberg
	// 1944; Marquardt 1963), squared error only.
	LM
	// GD is gradient descent with momentum, classic full-batch
	// backpropagation (Rumelhart, Hinton & Williams 1986).
	GD
)

var methodNames = [...]string{"lbfgs", "bfgs", "lm", "gd"}

func (m Method) String() string { return enum.Name(methodNames[:], "Method", m) }

// ParseMethod returns the training method with the given name: lbfgs, bfgs,
// lm or gd.
func ParseMethod(s string) (Method, error) {
	if m, ok := enum.Parse[Method](methodNames[:], s); ok {
		return m, nil
	}
	return 0, fmt.Errorf("model: unknown training method %q (want %s)", s, enum.Or(methodNames[:]))
}

// Defaults of TrainSettings, exported so that command-line flags can show them.
const (
	DefaultGradTol      = 1e-8
	DefaultMaxIter      = 10000
	DefaultMaxIterGD    = 200000
	DefaultLearningRate = 0.5
	DefaultMomentum     = 0.9
	DefaultPolishIter   = 50
)

// TrainSettings configures Train. A nil *TrainSettings and the zero value
// both mean the documented defaults.
type TrainSettings struct {
	// Method is the training algorithm; the zero value is LBFGS.
	Method Method
	// GradTol is the stopping tolerance on the Euclidean norm of grad E
	// over the free (unpruned) parameters: training has converged when
	// ||grad E||_2 <= GradTol. If zero, DefaultGradTol (1e-8). Must be >= 0.
	GradTol float64
	// MaxIter caps the major iterations of all stages together (one line
	// search for LBFGS/BFGS, one Jacobian for LM, one step for GD, one
	// Newton–CG step of the polish). If zero, DefaultMaxIter (10000), or
	// DefaultMaxIterGD (200000) for GD. Must be >= 0. The main stage keeps
	// min(PolishIter, MaxIter/10) of them for the polish, which runs only
	// while iterations are left, and at most PolishIter of them.
	MaxIter int
	// LearningRate and Momentum are GD's step size lr and momentum mu in
	// v <- mu v - lr grad E, w <- w + v; other methods ignore them. If zero,
	// DefaultLearningRate (0.5) and DefaultMomentum (0.9). LearningRate must
	// be positive and Momentum in [0, 1).
	LearningRate, Momentum float64
	// NoMomentum makes GD plain gradient descent (mu = 0); Momentum must
	// then be zero.
	NoMomentum bool
	// PolishIter caps the Newton–CG iterations of the polish stage that
	// runs after LBFGS, BFGS or LM ends with ||grad E||_2 > GradTol (see
	// Train), within MaxIter.
	// If zero, DefaultPolishIter (50); must be >= 0.
	PolishIter int
	// NoPolish skips the polish stage; PolishIter must then be zero.
	NoPolish bool
	// Batched computes E and its gradient during training with BatchGrad
	// (forward and backward passes of many patterns at once, as matrix
	// products; layer 1 over the non-zero inputs only when at most a
	// quarter of them are non-zero) instead of the per-pattern Grad: several times faster on
	// large training sets (NETtalk's 5,603 letters), equal to rounding, not
	// bit for bit. The Newton-CG polish then runs on batched exact
	// Hessian-vector products (the R-operator as matrix products, about 15x
	// faster than the per-pattern ones at NETtalk's size) with its CG solves
	// preconditioned by the Gauss-Newton diagonal. The final E and GradNorm
	// are recomputed with Grad either way. The default (false) keeps earlier
	// results bit-identical.
	Batched bool
	// Progress, if not nil, is called at the starting point (Iteration 0)
	// and after every major iteration of every stage, polish included.
	Progress func(TrainProgress)
	// Stop, if not nil, is called once per major iteration; when it returns
	// true, training ends with Status "stopped" and m holds the last
	// iterate (no polish runs). Use it for cancellation (Ctrl-C).
	Stop func() bool
}

// TrainProgress reports one major iteration.
type TrainProgress struct {
	// Iteration counts major iterations from 0 (the starting point);
	// polish iterations continue the count of the main stage.
	Iteration int
	// E is the training error (with weight decay) and GradNorm
	// ||grad E||_2 over the free parameters.
	E, GradNorm float64
}

// TrainResult summarises a training run.
type TrainResult struct {
	// Method is the name of the main-stage method ("lbfgs", ...).
	Method string
	// E is the final training error including weight decay, and GradNorm
	// ||grad E||_2 over the free parameters, both recomputed at the final
	// parameters (equal to m.Error and the norm of m.Grad).
	E, GradNorm float64
	// Iterations counts major iterations of all stages; Evaluations counts
	// passes over the training set that computed E (with its gradient,
	// Jacobian or exact Hessian), the final recomputation included.
	Iterations, Evaluations int
	// Status says why training stopped, e.g. "gradient tolerance reached",
	// "iteration limit", "line search failed: ...", "stopped"; after a
	// polish it reads "<main stage>; Newton-CG polish: <polish status>",
	// the polish status naming its steps and Hessian-vector products.
	Status string
	// Converged reports GradNorm <= GradTol.
	Converged bool
	// Polished reports whether the Newton polish stage ran, and
	// HessVecProducts what it cost: the exact Hessian-vector products of
	// its CG solves (each a pass over the training set, about three
	// gradients; not counted in Evaluations).
	Polished        bool
	HessVecProducts int
}

// Named constants of the trainers.
const (
	// roundoffE is the relative change of E treated as rounding: E sums P
	// per-pattern losses, so two evaluations at points closer than the
	// resolution of E can differ by a few ulps of E in either direction.
	// A trial step of LM or the Newton polish is accepted if it lowers E, or
	// if it raises E by no more than roundoffE*|E| while lowering
	// ||grad E||_2: near a minimum that is the only measurable progress.
	roundoffE = 1e-13
	// shiftMin and shiftMax bound the Levenberg shift of the Newton polish
	// and the damping of LM, relative to the largest diagonal entry of the
	// curvature matrix (at least 1): the first nonzero shift is shiftMin
	// times it, and a shift beyond shiftMax times it (steps of length
	// ~||grad E||/shift, far below rounding) means no step lowers E.
	shiftMin = 1e-12
	shiftMax = 1e16
	// lmTau sets LM's initial damping mu = lmTau * max_i G_ii (Madsen,
	// Nielsen & Tingleff, "Methods for non-linear least squares problems",
	// 2004, section 3.2).
	lmTau = 1e-3
)

// Train minimises E(w) over the unpruned parameters of m in place; pruned
// parameters stay exactly 0 (only the free coordinates, m.Free(), are
// optimised). X and T hold P input and target rows.
//
// LBFGS and BFGS run gonum's optimize.Minimize. Its own gradient tests use
// the infinity norm, so they are disabled (GradientThreshold 0 and the
// method's GradStopThreshold NaN) and a Converger stops at
// ||grad E||_2 <= GradTol; it also never stops on a stalled E, since OBS
// needs a real minimum.
//
// Newton polish: when LBFGS, BFGS or LM ends with ||grad E||_2 > GradTol
// (gonum's line search reporting no progress near the minimum, or the
// main stage's share of MaxIter used up) and iterations are left under
// MaxIter, Train takes Newton–CG steps: each solves (H + s I) d = -grad E,
// H the exact Hessian of E over the free parameters, by truncated conjugate
// gradients on exact Hessian-vector products (no n x n matrix; at most
// polishCGMax products of about four gradients' cost each per step), with
// a backtracking line search, and a Levenberg-style shift s that stays 0
// unless no step along d lowers E (details at polish). The polish
// is reported in Polished, HessVecProducts and Status. GD is never
// polished: it is there to reproduce classic backpropagation.
//
// Train is deterministic: the same m, data and settings give bit-identical
// results. It returns an error for invalid settings, data that do not fit m
// or contain NaN/Inf, LM with a loss other than squared error, and NaN or
// Inf in E or its gradient during training (naming the iteration; the error
// wraps ErrNotFinite). On such an error m holds the last accepted iterate.
func Train(m *MLP, X, T [][]float64, s *TrainSettings) (TrainResult, error) {
	var set TrainSettings
	if s != nil {
		set = *s
	}
	if err := set.resolve(); err != nil {
		return TrainResult{}, err
	}
	if err := m.Check(); err != nil {
		return TrainResult{}, err
	}
	if err := m.CheckData(X, T); err != nil {
		return TrainResult{}, err
	}
	if set.Method == LM && m.Loss != SquaredError {
		return TrainResult{}, fmt.Errorf("model: method lm needs the squared-error loss (mse), not %v", m.Loss)
	}

	t := &trainer{m: m, X: X, T: T, set: set, ws: m.NewWorkspace(), free: m.Free(), mainIter: set.MaxIter}
	t.sparseX = set.Batched && sparseInputs(X)
	if set.Method != GD && set.PolishIter > 0 {
		t.mainIter -= min(set.PolishIter, set.MaxIter/polishShare)
	}
	t.full = make([]float64, len(m.Params))
	res := TrainResult{Method: set.Method.String()}
	x := make([]float64, len(t.free))
	t.pack(x)

	var (
		status    string
		converged bool
		stopped   bool
		err       error
	)
	if len(t.free) == 0 {
		status = "no free parameters"
	} else {
		switch set.Method {
		case LBFGS:
			status, converged, stopped, err = t.quasiNewton(x, &optimize.LBFGS{GradStopThreshold: math.NaN()})
		case BFGS:
			status, converged, stopped, err = t.quasiNewton(x, &optimize.BFGS{GradStopThreshold: math.NaN()})
		case LM:
			status, converged, stopped, err = t.levenbergMarquardt(x)
		case GD:
			status, converged, stopped, err = t.gradientDescent(x)
		}
		if err == nil && !converged && !stopped && set.Method != GD && set.PolishIter > 0 && t.iter < set.MaxIter {
			res.Polished = true
			var ps string
			ps, err = t.polish(x)
			status += "; Newton-CG polish: " + ps
		}
	}
	t.unpack(x)
	res.Iterations = t.iter
	res.HessVecProducts = t.products
	if err != nil {
		res.Evaluations = t.evals
		res.Status = err.Error()
		return res, err
	}
	res.E = m.Grad(t.ws, t.full, X, T)
	t.evals++
	res.GradNorm = floats.Norm(t.full, 2)
	res.Evaluations = t.evals
	res.Status = status
	res.Converged = res.GradNorm <= set.GradTol
	return res, nil
}

// resolve fills in defaults and validates the settings.
func (s *TrainSettings) resolve() error {
	if s.Method < 0 || int(s.Method) >= len(methodNames) {
		return fmt.Errorf("model: unknown training method %v (want lbfgs, bfgs, lm or gd)", s.Method)
	}
	if !(s.GradTol >= 0) || math.IsInf(s.GradTol, 0) {
		return fmt.Errorf("model: gradient tolerance %v must be a finite number >= 0", s.GradTol)
	}
	if s.GradTol == 0 {
		s.GradTol = DefaultGradTol
	}
	if s.MaxIter < 0 {
		return fmt.Errorf("model: iteration limit %d must be >= 0", s.MaxIter)
	}
	if s.MaxIter == 0 {
		s.MaxIter = DefaultMaxIter
		if s.Method == GD {
			s.MaxIter = DefaultMaxIterGD
		}
	}
	if !(s.LearningRate >= 0) || math.IsInf(s.LearningRate, 0) {
		return fmt.Errorf("model: learning rate %v must be a finite number > 0", s.LearningRate)
	}
	if s.LearningRate == 0 {
		s.LearningRate = DefaultLearningRate
	}
	if err := resolveMomentum(&s.Momentum, s.NoMomentum); err != nil {
		return err
	}
	if s.PolishIter < 0 || (s.NoPolish && s.PolishIter != 0) {
		return fmt.Errorf("model: polish iterations %d must be >= 0, and 0 with NoPolish", s.PolishIter)
	}
	if s.PolishIter == 0 && !s.NoPolish {
		s.PolishIter = DefaultPolishIter // resolved: Train polishes while PolishIter > 0
	}
	return nil
}

// trainer holds the state shared by the training stages. Points x are
// packed: x[i] is parameter free[i].
type trainer struct {
	m    *MLP
	X, T [][]float64
	set  TrainSettings
	ws   *Workspace
	free []int
	full []float64 // length n: full-length gradient scratch

	iter     int // the major iteration in progress (0 at the start)
	mainIter int // the main stage's share of MaxIter
	evals    int
	products int  // Hessian-vector products of the polish
	sparseX  bool // Batched with sparse inputs: batchGradSparse
}

func (t *trainer) pack(x []float64) {
	for i, q := range t.free {
		x[i] = t.m.Params[q]
	}
}

func (t *trainer) unpack(x []float64) {
	for i, q := range t.free {
		t.m.Params[q] = x[i]
	}
}

// evalGrad sets the parameters to x, writes the packed gradient into g and
// returns E. It returns an error if E or the gradient is not finite.
func (t *trainer) evalGrad(x, g []float64) (float64, error) {
	t.unpack(x)
	var e float64
	switch {
	case t.set.Batched && t.sparseX:
		e = t.m.batchGradSparse(t.full, t.X, t.T)
	case t.set.Batched:
		e = t.m.BatchGrad(t.full, t.X, t.T)
	default:
		e = t.m.Grad(t.ws, t.full, t.X, t.T)
	}
	t.evals++
	if math.IsNaN(e) || math.IsInf(e, 0) {
		return e, fmt.Errorf("model: %v: E is %v at iteration %d: %w", t.set.Method, e, t.iter, ErrNotFinite)
	}
	for i, q := range t.free {
		v := t.full[q]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return e, fmt.Errorf("model: %v: gradient of parameter %d (%s) is %v at iteration %d: %w", t.set.Method, q, t.m.Name(q), v, t.iter, ErrNotFinite)
		}
		g[i] = v
	}
	return e, nil
}

func (t *trainer) progress(e, gradNorm float64) {
	if t.set.Progress != nil {
		t.set.Progress(TrainProgress{Iteration: t.iter, E: e, GradNorm: gradNorm})
	}
}

func (t *trainer) stopRequested() bool {
	return t.set.Stop != nil && t.set.Stop()
}

// finished is the stopping test of the iteration loops of gd and lm, at an
// iterate with gradient norm gn: whether the loop is done, with its status
// and whether it converged or was stopped on request.
func (t *trainer) finished(gn float64) (status string, converged, stopped, done bool) {
	switch {
	case gn <= t.set.GradTol:
		return "gradient tolerance reached", true, false, true
	case t.iter >= t.mainIter:
		return "iteration limit", false, false, true
	case t.stopRequested():
		return "stopped", false, true, true
	}
	return "", false, false, false
}

// acceptable reports whether a trial point with error eNew and gradient
// norm gNew improves on (eOld, gOld); see roundoffE.
func acceptable(eOld, gOld, eNew, gNew float64) bool {
	if eNew < eOld {
		return true
	}
	return eNew <= eOld+roundoffE*math.Abs(eOld) && gNew < gOld
}

// qnConverger is the optimize.Converger of the quasi-Newton stage: it
// counts major iterations, reports progress, and stops on the 2-norm
// gradient test or on request.
type qnConverger struct {
	t       *trainer
	first   bool
	stopped bool
}

func (c *qnConverger) Init(int) { c.first = true }

func (c *qnConverger) Converged(loc *optimize.Location) optimize.Status {
	t := c.t
	if c.first {
		c.first = false
	} else {
		t.iter++
	}
	gn := floats.Norm(loc.Gradient, 2)
	t.progress(loc.F, gn)
	if gn <= t.set.GradTol {
		return optimize.GradientThreshold
	}
	if t.stopRequested() {
		c.stopped = true
		return optimize.Failure
	}
	return optimize.NotTerminated
}

// quasiNewton runs gonum's LBFGS or BFGS from x and leaves the last major
// iterate in x.
func (t *trainer) quasiNewton(x []float64, method optimize.Method) (status string, converged, stopped bool, err error) {
	n := len(x)
	var (
		fail   error     // first non-finite evaluation
		cacheX []float64 // point of the last Func call, whose gradient is cached
		cacheG = make([]float64, n)
	)
	prob := optimize.Problem{
		// Func also computes the gradient: gonum's line searches ask for
		// both at almost every point, always Func first, so Grad is then a
		// copy.
		Func: func(w []float64) float64 {
			if fail != nil {
				return math.NaN()
			}
			e, err := t.evalGrad(w, cacheG)
			if err != nil {
				fail = err
				return math.NaN()
			}
			cacheX = append(cacheX[:0], w...)
			return e
		},
		Grad: func(g, w []float64) {
			if fail != nil {
				for i := range g {
					g[i] = math.NaN()
				}
				return
			}
			if cacheX != nil && floats.Equal(cacheX, w) {
				copy(g, cacheG)
				return
			}
			if _, err := t.evalGrad(w, g); err != nil {
				fail = err
			}
		},
		Status: func() (optimize.Status, error) {
			if fail != nil {
				return optimize.Failure, fail
			}
			return optimize.NotTerminated, nil
		},
	}
	conv := &qnConverger{t: t}
	settings := &optimize.Settings{
		Converger: conv,
		// gonum counts the starting point as a major iteration.
		MajorIterations: t.mainIter + 1,
	}
	res, merr := optimize.Minimize(prob, x, settings, method)
	if res != nil {
		copy(x, res.X)
	}
	switch {
	case fail != nil:
		return "", false, false, fail
	case conv.stopped:
		return "stopped", false, true, nil
	case res == nil:
		return "", false, false, fmt.Errorf("model: %v: %w", t.set.Method, merr)
	case res.Status == optimize.GradientThreshold:
		return "gradient tolerance reached", true, false, nil
	case res.Status == optimize.IterationLimit:
		return "iteration limit", false, false, nil
	case merr != nil:
		if errors.Is(merr, optimize.ErrNoProgress) || errors.Is(merr, optimize.ErrLinesearcherFailure) ||
			errors.Is(merr, optimize.ErrNonDescentDirection) || errors.Is(merr, optimize.ErrLinesearcherBound) {
			return "line search failed: " + merr.Error(), false, false, nil
		}
		return "optimizer failed: " + merr.Error(), false, false, nil
	default:
		return "optimizer status " + res.Status.String(), false, false, nil
	}
}

// gradientDescent runs GD with momentum from x.
func (t *trainer) gradientDescent(x []float64) (status string, converged, stopped bool, err error) {
	n := len(x)
	g := make([]float64, n)
	v := make([]float64, n)
	prev := make([]float64, n)
	lr, mom := t.set.LearningRate, t.set.Momentum
	e, err := t.evalGrad(x, g)
	if err != nil {
		return "", false, false, err
	}
	for {
		gn := floats.Norm(g, 2)
		t.progress(e, gn)
		if status, converged, stopped, done := t.finished(gn); done {
			return status, converged, stopped, nil
		}
		t.iter++
		floats.Scale(mom, v)
		floats.AddScaled(v, -lr, g)
		copy(prev, x)
		floats.Add(x, v)
		if e, err = t.evalGrad(x, g); err != nil {
			copy(x, prev)
			return "", false, false, err
		}
	}
}

// maxDiag returns the largest diagonal entry of a, at least 1: the scale
// of the shifts in the polish and LM.
func maxDiag(a *mat.SymDense) float64 {
	d := 1.0
	for i := 0; i < a.SymmetricDim(); i++ {
		d = math.Max(d, a.At(i, i))
	}
	return d
}

// shiftedSolve solves (a + shift I) d = -g by Cholesky into d, using work as
// scratch. It returns false if a + shift I is not numerically positive
// definite (the factorization fails or its condition number exceeds
// mat.ConditionTolerance).
func shiftedSolve(d []float64, a *mat.SymDense, shift float64, g []float64, work *mat.SymDense, chol *mat.Cholesky) bool {
	work.CopySym(a)
	for i := range g {
		work.SetSym(i, i, work.At(i, i)+shift)
	}
	if !chol.Factorize(work) {
		return false
	}
	dv := mat.NewVecDense(len(d), d)
	if err := chol.SolveVecTo(dv, mat.NewVecDense(len(g), g)); err != nil {
		return false
	}
	floats.Scale(-1, d)
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// damped is the state of a damped second-order method at x: E and its
// gradient there, and the workspaces of trial steps (work, the n x n
// matrix of LM's Cholesky solves, is allocated by step on first use).
type damped struct {
	g, gt, xt, d []float64
	work         *mat.SymDense
	chol         mat.Cholesky
	e, gn        float64 // E(x) and ||g||
}

func newDamped(t *trainer, x []float64) (*damped, error) {
	n := len(x)
	s := &damped{g: make([]float64, n), gt: make([]float64, n), xt: make([]float64, n), d: make([]float64, n)}
	e, err := t.evalGrad(x, s.g)
	if err != nil {
		return nil, err
	}
	s.e, s.gn = e, floats.Norm(s.g, 2)
	return s, nil
}

// step tries steps d solving (a + (base + shift) I) d = -g from x, raising
// shift tenfold (to at least shiftMin*scale) after each rejected one, until
// a step is acceptable — then x, g, E and ||g|| move to it — or shift passes
// shiftMax*scale (ok false, x unchanged). It returns the shift it ended at.
func (s *damped) step(t *trainer, x []float64, a *mat.SymDense, base, shift, scale float64) (float64, bool, error) {
	if s.work == nil {
		s.work = mat.NewSymDense(len(x), nil)
	}
	for {
		if shiftedSolve(s.d, a, base+shift, s.g, s.work, &s.chol) {
			floats.AddTo(s.xt, x, s.d)
			et, err := t.evalGrad(s.xt, s.gt)
			if err != nil {
				return shift, false, err
			}
			if gtn := floats.Norm(s.gt, 2); acceptable(s.e, s.gn, et, gtn) {
				copy(x, s.xt)
				copy(s.g, s.gt)
				s.e, s.gn = et, gtn
				return shift, true, nil
			}
		}
		shift = math.Max(10*shift, shiftMin*scale)
		if shift > shiftMax*scale {
			return shift, false, nil
		}
	}
}

// Named constants of the Newton–CG polish.
const (
	// polishCGMax caps the conjugate-gradient iterations (one exact
	// Hessian-vector product each, about three gradients' cost) of one
	// polish step, so that a step costs at most polishCGMax gradients
	// whatever the conditioning: a truncated step still lowers E, and the
	// next step continues from it.
	polishCGMax = 250
	// polishBacktrack is the number of halvings of a Newton–CG step
	// tried before the shift is raised: 2^-20 of a Newton step is below
	// any useful progress.
	polishBacktrack = 20
	// polishShare: of MaxIter iterations, the main stage may use all but
	// MaxIter/polishShare (at most PolishIter), which are kept for the
	// polish, so that a main stage stopped by the limit is still polished
	// and the two together stay within MaxIter.
	polishShare = 10
	// polishForcing caps the forcing term eta of the inexact Newton steps:
	// CG stops when ||(H + shift I) d + g|| <= eta ||g|| with
	// eta = min(polishForcing, sqrt(||g||)), which gives superlinear local
	// convergence (Nocedal & Wright 2006, Theorem 7.2 and Algorithm 7.1).
	polishForcing = 0.5
)

// newtonCG solves Newton systems over the free parameters by conjugate
// gradients on exact Hessian-vector products (MLP.HessVec, Pearlmutter's
// R-operator): no n x n matrix is formed, and a product costs a few
// gradients.
//
// The patterns are split into hvChunks fixed contiguous chunks whose
// products run on their own goroutines and are summed in chunk order, so
// the result does not depend on the number of cores. With
// TrainSettings.Batched the products are batched instead (batchHV: the
// R-operator over blocks of patterns as matrix products, layer 1 over the
// non-zero inputs when they are sparse, the forward and backward passes
// kept from one product to the next at the same point), and the CG solves
// are preconditioned by the Gauss-Newton diagonal (jacobi).
type newtonCG struct {
	t        *trainer
	vFull    []float64 // full-length direction
	data     *MLP      // t.m without weight decay, sharing its parameters
	chunks   []hvChunk
	batched  *batchHV  // with TrainSettings.Batched, else nil
	hvFull   []float64 // full-length batched product
	minv, z  []float64 // packed Jacobi preconditioner M^-1 and M^-1 r (batched only)
	diag     []float64 // full-length Gauss-Newton diagonal for minv
	r, p, hp []float64 // packed CG residual, direction, product
	products int       // Hessian-vector products so far
	maxIter  int
}

// hvChunks is the number of pattern chunks of a Hessian-vector product:
// enough for the cores of a small machine, few enough that each chunk
// amortises its goroutine.
const hvChunks = 4

// hvChunk is one chunk's patterns [lo, hi), workspace and product.
type hvChunk struct {
	lo, hi int
	ws     *Workspace
	out    []float64
}

func newNewtonCG(t *trainer, n int) *newtonCG {
	np := len(t.m.Params)
	data := *t.m // shares Params and Pruned with t.m
	data.Decay = 0
	c := &newtonCG{t: t, vFull: make([]float64, np), data: &data,
		r: make([]float64, n), p: make([]float64, n), hp: make([]float64, n),
		maxIter: min(2*n, polishCGMax)}
	if t.set.Batched {
		c.batched = c.data.newBatchHV(t.X, t.T, t.sparseX)
		c.hvFull = make([]float64, np)
		return c
	}
	P := len(t.X)
	k := min(hvChunks, P)
	for i := 0; i < k; i++ {
		c.chunks = append(c.chunks, hvChunk{lo: i * P / k, hi: (i + 1) * P / k, ws: t.m.NewWorkspace(), out: make([]float64, np)})
	}
	return c
}

// jacobi sets c.minv to 1 / (diag G + shift) over the free parameters, G
// the Gauss-Newton matrix with weight decay at the parameters of the
// polish's first solve (GGNDiagonal, computed once: it costs about 25
// Hessian-vector products at NETtalk's size, and the polish moves the
// parameters little): the Jacobi preconditioner of the batched polish's CG
// solves (Nocedal & Wright 2006, section 5.1, preconditioned CG,
// Algorithm 5.3). G's diagonal is positive with weight decay and close to
// the Hessian's near a minimum of a small-residual fit; an entry that is
// not positive (no decay, a dead unit) gets the mean of the positive ones.
// On NETtalk (203-80-26, from L-BFGS's iterate after 2,950 iterations,
// pure-Go build) it cut the polish to 1e-5 from 5,904 products in 27 steps
// to 2,564 in 14; the step count varies with rounding (the OpenBLAS build
// from the same start: 5,137 products in 25 steps).
func (c *newtonCG) jacobi(shift float64) {
	t := c.t
	n := len(t.free)
	if c.minv == nil {
		c.minv, c.z = make([]float64, n), make([]float64, n)
		c.diag = t.m.GGNDiagonal(t.X, t.T)
	}
	sum, cnt := 0.0, 0
	for i, q := range t.free {
		c.minv[i] = c.diag[q] + shift
		if c.minv[i] > 0 {
			sum += c.minv[i]
			cnt++
		}
	}
	mean := 1.0
	if cnt > 0 {
		mean = sum / float64(cnt)
	}
	for i, v := range c.minv {
		if !(v > 0) {
			v = mean
		}
		c.minv[i] = 1 / v
	}
}

// at readies the products at the parameters now in the model (set by
// t.unpack): the batched products run the forward and backward passes
// there once; the per-pattern ones need nothing.
func (c *newtonCG) at() {
	if c.batched != nil {
		c.batched.prepare()
	}
}

// hv writes (H + shift I) v into dst, H the exact Hessian of E over the
// free parameters at the parameters currently in the model (after at).
func (c *newtonCG) hv(dst, v []float64, shift float64) {
	t := c.t
	for i, q := range t.free {
		c.vFull[q] = v[i]
	}
	if c.batched != nil {
		c.batched.product(c.hvFull, c.vFull)
		c.products++
		for i, q := range t.free {
			dst[i] = c.hvFull[q] + (t.m.Decay+shift)*v[i]
		}
		return
	}
	var wg sync.WaitGroup
	for i := range c.chunks {
		ch := &c.chunks[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.data.HessVec(ch.ws, ch.out, c.vFull, t.X[ch.lo:ch.hi], t.T[ch.lo:ch.hi])
		}()
	}
	wg.Wait()
	c.products++
	P := float64(len(t.X))
	for i, q := range t.free {
		s := 0.0
		for _, ch := range c.chunks {
			s += float64(ch.hi-ch.lo) / P * ch.out[q]
		}
		dst[i] = s + (t.m.Decay+shift)*v[i]
	}
}

// solve runs truncated CG on (H + shift I) d = -g from d = 0 at the point
// x (Nocedal & Wright 2006, Algorithm 7.1). It stops when the residual is
// below eta ||g||, after maxIter iterations, or at a direction of
// non-positive curvature; in the last case d is the iterate so far (a
// descent direction) if there is one, and ok is false at the first
// iteration, where there is none.
func (c *newtonCG) solve(d, x, g []float64, gn, shift float64) (ok bool) {
	c.t.unpack(x)
	c.at()
	tol := math.Min(polishForcing, math.Sqrt(gn)) * gn
	for i := range d {
		d[i] = 0
	}
	floats.ScaleTo(c.r, -1, g)
	copy(c.p, c.r)
	rr := gn * gn // r^T z, z = M^-1 r (M = I without a preconditioner)
	if c.batched != nil {
		c.jacobi(shift)
		floats.MulTo(c.z, c.minv, c.r)
		copy(c.p, c.z)
		rr = floats.Dot(c.r, c.z)
	}
	for j := 0; j < c.maxIter; j++ {
		c.hv(c.hp, c.p, shift)
		curv := floats.Dot(c.p, c.hp)
		if !(curv > 0) || math.IsInf(curv, 0) {
			return j > 0
		}
		a := rr / curv
		floats.AddScaled(d, a, c.p)
		floats.AddScaled(c.r, -a, c.hp)
		rrNew := floats.Dot(c.r, c.r)
		if math.Sqrt(rrNew) <= tol {
			break
		}
		if c.minv != nil {
			floats.MulTo(c.z, c.minv, c.r)
			rz := floats.Dot(c.r, c.z)
			floats.AddScaledTo(c.p, c.z, rz/rr, c.p)
			rr = rz
			continue
		}
		floats.AddScaledTo(c.p, c.r, rrNew/rr, c.p)
		rr = rrNew
	}
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// polish takes Newton–CG steps with a backtracking line search from x
// (Nocedal & Wright 2006, Algorithm 7.1) and leaves the result in x. Each
// step solves (H + shift I) d = -grad E by truncated CG on exact
// Hessian-vector products (newtonCG.solve; where -grad E itself has
// non-positive curvature, d is -grad E / scale), then tries x + a d for
// a = 1, 1/2, ... (polishBacktrack halvings) until the point is acceptable
// (see roundoffE). If none is, shift rises tenfold (from at least
// shiftMin*scale; Levenberg-style damping, section 3.4) and the step is
// solved again, up to shiftMax*scale; after an accepted step the shift
// falls tenfold (to 0 below shiftMin*scale). scale is
// max(1, |g^T H g| / g^T g) at the start, the Rayleigh quotient of the
// first gradient, which sets the units of the shift. Steps count as major
// iterations and stop at MaxIter overall as well as at PolishIter.
func (t *trainer) polish(x []float64) (status string, err error) {
	n := len(x)
	s, err := newDamped(t, x)
	if err != nil {
		return "", err
	}
	c := newNewtonCG(t, n)
	defer func() { t.products = c.products }()
	t.unpack(x)
	c.at()
	c.hv(s.d, s.g, 0)
	scale := math.Max(1, math.Abs(floats.Dot(s.g, s.d))/(s.gn*s.gn))
	if s.gn == 0 {
		scale = 1
	}
	cost := func() string { return fmt.Sprintf("%d Hessian-vector products", c.products) }
	shift := 0.0
	for k := 0; ; k++ {
		switch {
		case s.gn <= t.set.GradTol:
			return fmt.Sprintf("gradient tolerance reached after %d steps, %s", k, cost()), nil
		case k >= t.set.PolishIter || t.iter >= t.set.MaxIter:
			return fmt.Sprintf("iteration limit (%d steps, %s)", k, cost()), nil
		case t.stopRequested():
			return fmt.Sprintf("stopped after %d steps, %s", k, cost()), nil
		}
		t.iter++
		accepted := false
		for !accepted {
			if !c.solve(s.d, x, s.g, s.gn, shift) {
				// Negative curvature along -g itself: steepest descent,
				// scaled to the curvature's units, for the line search.
				floats.ScaleTo(s.d, -1/scale, s.g)
			}
			// Backtracking: halve the step until it is acceptable.
			for a, j := 1.0, 0; j < polishBacktrack; a, j = a/2, j+1 {
				floats.AddScaledTo(s.xt, x, a, s.d)
				et, err := t.evalGrad(s.xt, s.gt)
				if err != nil {
					return "", err
				}
				if gtn := floats.Norm(s.gt, 2); acceptable(s.e, s.gn, et, gtn) {
					copy(x, s.xt)
					copy(s.g, s.gt)
					s.e, s.gn = et, gtn
					accepted = true
					break
				}
			}
			if accepted {
				continue
			}
			shift = math.Max(10*shift, shiftMin*scale)
			if shift > shiftMax*scale {
				t.unpack(x)
				return fmt.Sprintf("no step lowers E (shift above %g) after %d steps, %s", shiftMax*scale, k, cost()), nil
			}
		}
		shift /= 10
		if shift < shiftMin*scale {
			shift = 0
		}
		t.progress(s.e, s.gn)
	}
}

// resolveMomentum resolves a settings' momentum: zero is DefaultMomentum,
// none gives 0; it must be in [0, 1), and zero with none.
func resolveMomentum(mu *float64, none bool) error {
	if !(*mu >= 0 && *mu < 1) || (none && *mu != 0) {
		return fmt.Errorf("model: momentum %v must be in [0, 1) (0: DefaultMomentum), and 0 with NoMomentum", *mu)
	}
	switch {
	case none:
		*mu = 0
	case *mu == 0:
		*mu = DefaultMomentum
	}
	return nil
}
