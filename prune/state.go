package prune

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// state is the curvature information a method needs at some weights.
type state struct {
	free []int         // parameter index of each row of inv and diag
	pos  []int         // pos[q] is q's row, -1 if q was pruned when built
	inv  *mat.SymDense // (C + alpha I)^-1 for OBS; nil otherwise
	diag []float64     // diagonal of C (undamped) for OBD and NoUpdate
	fix  *hessian.FixReport
	// since counts deletions since the state was built, over built free
	// parameters.
	since, built int
	col          []float64 // scratch: one column of inv
}

func (c *Config) alpha() float64 {
	if c.Alpha == 0 {
		return DefaultAlpha
	}
	return c.Alpha
}

func (c *Config) group() int {
	if c.Group == 0 {
		return 1
	}
	return c.Group
}

// label names the method and curvature, e.g. "obs-ggn" or "obd-exact".
func (c *Config) label() string {
	switch c.Method {
	case Magnitude:
		return "magnitude"
	case OBD:
		return "obd-" + c.Curvature.String()
	}
	s := "obs-" + c.Curvature.String()
	if c.NoUpdate {
		s += "-noupdate"
	}
	return s
}

func (c *Config) validate() error {
	switch c.Method {
	case Magnitude:
	case OBD:
		if c.Curvature != hessian.GGN && c.Curvature != hessian.Exact {
			return fmt.Errorf("prune: obd uses the diagonal of ggn or exact, not %v", c.Curvature)
		}
	case OBS:
	default:
		return fmt.Errorf("prune: unknown method %v", c.Method)
	}
	if !(c.Alpha >= 0) || math.IsInf(c.Alpha, 0) {
		return fmt.Errorf("prune: alpha %v must be a finite number > 0", c.Alpha)
	}
	if c.Group < 0 {
		return fmt.Errorf("prune: group size %d must be >= 1", c.Group)
	}
	if c.Group > 1 && (c.Method != OBS || c.NoUpdate) {
		return fmt.Errorf("prune: group removal (group %d) needs obs with its update", c.Group)
	}
	if c.Recompute < 0 || c.Retrain < 0 || c.Keep < 0 {
		return fmt.Errorf("prune: recompute, retrain and keep must be >= 0")
	}
	if !(c.RecomputeFraction >= 0 && c.RecomputeFraction <= 1) {
		return fmt.Errorf("prune: recompute fraction %v must be in [0, 1]", c.RecomputeFraction)
	}
	if !(c.Sparsity >= 0 && c.Sparsity <= 1) {
		return fmt.Errorf("prune: sparsity %v must be in [0, 1]", c.Sparsity)
	}
	if !(c.MinAccuracy >= 0 && c.MinAccuracy <= 1) {
		return fmt.Errorf("prune: minimum accuracy %v must be in [0, 1]", c.MinAccuracy)
	}
	for _, v := range []float64{c.MaxError, c.MaxPredicted, c.RetrainAbove} {
		if !(v >= 0) {
			return fmt.Errorf("prune: error bounds must be numbers >= 0, got %v", v)
		}
	}
	return nil
}

// rebuildDue reports whether a state that has seen since deletions since
// it was built over built free parameters is to be rebuilt.
func (c *Config) rebuildDue(since, built int) bool {
	if c.RecomputeFraction > 0 {
		return float64(since) >= math.Max(1, math.Floor(c.RecomputeFraction*float64(built)))
	}
	return c.Recompute > 0 && since >= c.Recompute
}

// Builds returns the number of curvature builds a run of deletions from
// free down to keep parameters, group at a time, makes under c's schedule
// without retraining: what an estimate of its time needs. It also returns
// the free parameters at each build.
func (c *Config) Builds(free, keep int) []int {
	var at []int
	since, built := 0, 0
	for left := free; left > keep; {
		if len(at) == 0 || c.rebuildDue(since, built) {
			at = append(at, left)
			since, built = 0, left
		}
		k := min(c.group(), left-keep)
		left -= k
		since += k
	}
	return at
}

// needsCurvature reports whether the method uses curvature at all.
func (c *Config) needsCurvature() bool { return c.Method != Magnitude }

// build computes the state at net's current weights.
func build(net *model.MLP, X, T [][]float64, cfg *Config) (*state, error) {
	st := &state{pos: make([]int, len(net.Params))}
	if !cfg.needsCurvature() {
		return st, nil
	}
	curv, err := hessian.New(cfg.Curvature, net, X, T, cfg.CurvatureOptions)
	if err != nil {
		return nil, err
	}
	st.free = curv.Free()
	for q := range st.pos {
		st.pos[q] = -1
	}
	for r, q := range st.free {
		st.pos[q] = r
	}
	st.diag = make([]float64, len(st.free))
	curv.Diag(st.diag)
	for r, d := range st.diag {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("prune: curvature diagonal is %v at parameter %s", d, net.Name(st.free[r]))
		}
	}
	if cfg.Method != OBS {
		return st, nil
	}
	st.inv = &mat.SymDense{}
	st.col = make([]float64, len(st.free))
	alpha := cfg.alpha()
	if cfg.Curvature == hessian.Exact {
		rep, err := hessian.InverseIndefinite(st.inv, curv, alpha, cfg.Fix)
		st.fix = &rep
		if err != nil {
			return nil, err
		}
	} else {
		r1, ok := curv.(hessian.RankOne)
		if !ok {
			return nil, fmt.Errorf("prune: curvature %v has no rank-1 terms", cfg.Curvature)
		}
		switch cfg.Inverse {
		case Recursive:
			err = hessian.InverseRecursive(st.inv, r1, alpha)
		case Direct:
			err = hessian.InverseDirect(st.inv, curv, alpha)
		default:
			err = hessian.InverseBlocked(st.inv, r1, alpha, 0)
		}
		if err != nil {
			return nil, err
		}
	}
	for r := range st.free {
		if v := st.inv.At(r, r); !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("prune: inverse curvature has diagonal %v at parameter %s; raise alpha (now %g)", v, net.Name(st.free[r]), alpha)
		}
	}
	return st, nil
}

// saliencies writes the method's saliency of every parameter into sal
// (NaN for pruned ones).
func saliencies(sal []float64, net *model.MLP, st *state, cfg *Config) {
	for q := range sal {
		sal[q] = math.NaN()
		if net.Pruned[q] {
			continue
		}
		w := net.Params[q]
		switch cfg.Method {
		case Magnitude:
			sal[q] = math.Abs(w)
		case OBD:
			sal[q] = 0.5 * st.diag[st.pos[q]] * w * w
		case OBS:
			r := st.pos[q]
			sal[q] = w * w / (2 * st.inv.At(r, r))
		}
	}
}

// choose returns the k parameters with the smallest saliency (ties to the
// lower index), in increasing order of saliency.
func choose(sal []float64, k int) []int {
	var idx []int
	for q, s := range sal {
		if !math.IsNaN(s) {
			idx = append(idx, q)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return sal[idx[a]] < sal[idx[b]] })
	if len(idx) > k {
		idx = idx[:k]
	}
	return idx
}

// obsStep returns the OBS update dw (length n) that removes the set Q and
// its predicted increase 1/2 w_Q^T ([C^-1]_QQ)^-1 w_Q. For one parameter
// this is dw = -(w_q / [C^-1]_qq) C^-1 e_q and w_q^2 / (2 [C^-1]_qq).
func obsStep(net *model.MLP, st *state, Q []int) (dw []float64, predicted float64, err error) {
	k := len(Q)
	s := mat.NewSymDense(k, nil)
	wq := mat.NewVecDense(k, nil)
	for a, qa := range Q {
		wq.SetVec(a, net.Params[qa])
		for b := a; b < k; b++ {
			s.SetSym(a, b, st.inv.At(st.pos[qa], st.pos[Q[b]]))
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		return nil, 0, errors.New("prune: [C^-1]_QQ is not positive definite; raise alpha")
	}
	var y mat.VecDense
	if err := chol.SolveVecTo(&y, wq); err != nil {
		return nil, 0, fmt.Errorf("prune: solving with [C^-1]_QQ: %v", err)
	}
	predicted = 0.5 * mat.Dot(wq, &y)
	var step mat.VecDense // -C^-1 E_Q y over the rows of inv
	step.MulVec(columns(st, Q), &y)
	dw = make([]float64, len(net.Params))
	for r, q := range st.free {
		if !net.Pruned[q] {
			dw[q] = -step.AtVec(r)
		}
	}
	return dw, predicted, nil
}

// columns returns C^-1 E_Q, the columns of the inverse for the parameters Q.
func columns(st *state, Q []int) *mat.Dense {
	cq := mat.NewDense(len(st.free), len(Q), nil)
	for a, q := range Q {
		cq.SetCol(a, mat.Col(nil, st.pos[q], st.inv))
	}
	return cq
}

// downdate applies the constrained downdate
// C^-1 <- C^-1 - C^-1 E_Q ([C^-1]_QQ)^-1 E_Q^T C^-1 after removing Q, which
// is the inverse of C restricted to the survivors, and zeroes Q's rows.
func downdate(st *state, Q []int) {
	n := len(st.free)
	k := len(Q)
	cq := columns(st, Q)
	s := mat.NewSymDense(k, nil)
	for a, qa := range Q {
		for b := a; b < k; b++ {
			s.SetSym(a, b, st.inv.At(st.pos[qa], st.pos[Q[b]]))
		}
	}
	var chol mat.Cholesky
	if chol.Factorize(s) {
		// C^-1 -= (C_Q L^-T)(C_Q L^-T)^T with S = L L^T.
		var l mat.TriDense
		chol.LTo(&l)
		// X = C_Q L^-T, so X^T = L^-1 C_Q^T and X X^T = C_Q S^-1 C_Q^T.
		var xt mat.Dense
		if err := xt.Solve(&l, cq.T()); err == nil {
			st.inv.SymRankK(st.inv, -1, xt.T())
		}
	}
	for _, q := range Q {
		r := st.pos[q]
		for i := 0; i < n; i++ {
			st.inv.SetSym(r, i, 0)
		}
	}
}
