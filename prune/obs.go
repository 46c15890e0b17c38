package prune

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Update is an OBS step: the changes Delta of the parameters Rows (the rest
// are unchanged) and the predicted increase of E. Rows may be the
// inverse's own slice (InverseCurvature.Columns): do not modify it.
type Update struct {
	Rows      []int
	Delta     []float64
	Predicted float64
}

// Apply adds the update to the parameter vector w.
func (u Update) Apply(w []float64) {
	for i, q := range u.Rows {
		w[q] += u.Delta[i]
	}
}

// OBSStep returns the OBS update that removes the parameters Q from the
// weights w (the network's whole parameter vector) under the inverse
// curvature inv (Hassibi & Stork 1993; for a set, the group form):
//
//	dw = -C^-1 E_Q ([C^-1]_QQ)^-1 w_Q,  predicted 1/2 w_Q^T ([C^-1]_QQ)^-1 w_Q,
//
// which for one parameter is dw = -(w_q / [C^-1]_qq) C^-1 e_q and
// w_q^2 / (2 [C^-1]_qq). The update sets w_Q to 0 up to rounding (set them
// exactly with model.MLP.Prune). It changes neither w nor inv: apply it with
// Update.Apply, then call inv.Downdate(Q) to continue from the survivors.
// It returns an error wrapping hessian.ErrNotPositiveDefinite if [C^-1]_QQ
// is not positive definite.
func OBSStep(inv InverseCurvature, w []float64, Q []int) (Update, error) {
	if b, ok := inv.(*BlockInverse); ok && len(Q) == 1 {
		return b.step1(w, Q[0])
	}
	return obsStep(inv, w, Q)
}

// obsStep is OBSStep through gonum's mat, for any inverse and Q.
func obsStep(inv InverseCurvature, w []float64, Q []int) (Update, error) {
	wq, y, err := blockSolve(inv, w, Q)
	if err != nil {
		return Update{}, err
	}
	u := Update{Predicted: 0.5 * mat.Dot(wq, y)}
	if m, ok := inv.(interface {
		mulColumns(Q []int, y []float64) ([]int, []float64)
	}); ok {
		// A structure whose columns span a whole layer (KFAC) forms
		// C^-1 E_Q y without forming C^-1 E_Q.
		u.Rows, u.Delta = m.mulColumns(Q, y.RawVector().Data)
		for i := range u.Delta {
			u.Delta[i] = -u.Delta[i]
		}
		return u, nil
	}
	rows, cq := inv.Columns(Q)
	var step mat.VecDense // C^-1 E_Q y on rows
	step.MulVec(cq, y)
	u.Rows = rows
	u.Delta = make([]float64, len(rows))
	for i := range rows {
		u.Delta[i] = -step.AtVec(i)
	}
	return u, nil
}

// blockSolve returns w_Q and y = ([C^-1]_QQ)^-1 w_Q, or an error wrapping
// hessian.ErrNotPositiveDefinite if [C^-1]_QQ is not positive definite.
func blockSolve(inv InverseCurvature, w []float64, Q []int) (wq, y *mat.VecDense, err error) {
	if b, ok := inv.(*BlockInverse); ok {
		if wq, y, done, err := b.groupSolve(w, Q); done {
			return wq, y, err
		}
	}
	k := len(Q)
	s := mat.NewSymDense(k, nil)
	inv.Block(s, Q)
	wq = mat.NewVecDense(k, nil)
	for a, q := range Q {
		wq.SetVec(a, w[q])
	}
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		return nil, nil, fmt.Errorf("%w: [C^-1]_QQ of %d parameters (first %d); raise alpha", hessian.ErrNotPositiveDefinite, k, Q[0])
	}
	y = &mat.VecDense{}
	if err := chol.SolveVecTo(y, wq); err != nil {
		return nil, nil, fmt.Errorf("prune: solving with [C^-1]_QQ: %v", err)
	}
	return wq, y, nil
}

// Saliency returns the OBS saliency of parameter q, w_q^2 / (2 [C^-1]_qq):
// the predicted increase of E when q is removed with its update.
func Saliency(inv InverseCurvature, w []float64, q int) float64 {
	return w[q] * w[q] / (2 * inv.Diag(q))
}

// OBSPruner is Optimal Brain Surgeon (Hassibi & Stork 1993): the saliency
// of a group G is 1/2 w_G^T ([C^-1]_GG)^-1 w_G (w_q^2 / (2 [C^-1]_qq) for
// one parameter), its step OBSStep's compensating update, and after a step
// the inverse follows the survivors by the constrained downdate. C is
// built by Curvature and inverted, damped by Alpha, in Structure.
type OBSPruner struct {
	// Curvature builds C: nil is Terms{}, the Gauss–Newton matrix
	// (hessian.GGN) of the calibration set.
	Curvature Builder
	// Structure stores the inverse: nil is Dense.
	Structure Structure
	// Alpha is the damping: OBS inverts C + Alpha I. If zero, DefaultAlpha.
	Alpha float64
	// DampingMode is how Alpha and the weight decay enter C (see
	// hessian.Damping): the zero value, hessian.Absolute, as they are;
	// hessian.Relative as multiples of the curvature's scale
	// s = tr(C_data)/n, recomputed at every build, so that OBS inverts
	// C_data + (Decay + Alpha) s I. The method's name then ends in
	// "-relative".
	DampingMode hessian.Damping
	// Fix makes an indefinite exact Hessian invertible (FixNone fails).
	Fix hessian.Fix
	// Inverse is the form used to invert a rank-1 curvature with the dense
	// structure.
	Inverse Inverse
	// NoUpdate keeps OBS's saliency but applies no update: the chosen
	// parameters are only set to 0, with the quadratic model's predicted
	// increase 1/2 (C_qq + alpha) w_q^2.
	NoUpdate bool
}

func (p OBSPruner) String() string {
	s := "obs-" + p.curvature().Kind().String()
	if st := p.structure(); st.String() != "dense" {
		s += "-" + strings.ReplaceAll(st.String(), ":", "")
	}
	if p.NoUpdate {
		s += "-noupdate"
	}
	if p.DampingMode == hessian.Relative {
		s += "-relative"
	}
	return s
}

func (p OBSPruner) curvature() Builder {
	if p.Curvature == nil {
		return Terms{}
	}
	return p.Curvature
}

func (p OBSPruner) structure() Structure {
	if p.Structure == nil {
		return Dense{}
	}
	return p.Structure
}

func (p OBSPruner) alpha() float64 {
	if p.Alpha == 0 {
		return DefaultAlpha
	}
	return p.Alpha
}

// Damping returns the damping alpha used (with relative damping, the
// multiple of the curvature's scale).
func (p OBSPruner) Damping() float64 { return p.alpha() }

// config is the Config a Structure reads its settings from, with the
// damping alpha actually added.
func (p OBSPruner) config(alpha float64) *Config {
	return &Config{Method: OBS, Curvature: p.curvature().Kind(), Alpha: alpha, Fix: p.Fix, Inverse: p.Inverse, Structure: p.Structure, NoUpdate: p.NoUpdate,
		Damping: p.DampingMode}
}

// Prepare builds the curvature and its inverse in the structure.
func (p OBSPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	curv, err := p.curvature().Build(ctx, net, calib)
	if err != nil {
		return nil, err
	}
	alpha := p.alpha()
	if p.DampingMode != hessian.Absolute {
		if curv, alpha, _, err = hessian.Damp(p.DampingMode, curv, alpha); err != nil {
			return nil, err
		}
	}
	s := &obsScorer{net: net, alpha: alpha, noUpdate: p.NoUpdate}
	_, dense := p.structure().(Dense)
	if p.NoUpdate || dense {
		// Only NoUpdate reads the diagonal; a large network's curvature is
		// not streamed twice for nothing when the structure is not dense.
		if s.diag, s.pos, err = curvatureDiag(net, curv); err != nil {
			return nil, err
		}
	}
	inv, fix, err := p.structure().Inverse(net, curv, p.config(alpha))
	s.fix = fix
	if err != nil {
		return s, err
	}
	s.inv = inv
	if err := checkInverseDiag(inv, net, s.alpha); err != nil {
		return s, err
	}
	return s, nil
}

// obsScorer is OBS's state: the inverse and, for NoUpdate, the diagonal of
// the undamped curvature.
type obsScorer struct {
	net      *model.MLP
	inv      InverseCurvature
	alpha    float64
	noUpdate bool
	diag     []float64
	pos      []int
	fix      *hessian.FixReport
	// lastQ and lastRows are the parameters of the last step and the rows
	// it changed, which Remove reuses.
	lastQ, lastRows []int
}

// FixReport says how the exact Hessian was made definite (else nil).
func (s *obsScorer) FixReport() *hessian.FixReport { return s.fix }

func (s *obsScorer) Saliency(w []float64, G []int) float64 {
	if len(G) == 1 {
		return Saliency(s.inv, w, G[0])
	}
	u, err := groupSaliency(s.inv, w, G)
	if err != nil {
		return math.NaN()
	}
	return u
}

// groupSaliency returns 1/2 w_G^T ([C^-1]_GG)^-1 w_G.
func groupSaliency(inv InverseCurvature, w []float64, G []int) (float64, error) {
	wg, y, err := blockSolve(inv, w, G)
	if err != nil {
		return 0, err
	}
	return 0.5 * mat.Dot(wg, y), nil
}

func (s *obsScorer) Step(w []float64, Q []int) (Update, error) {
	if !s.noUpdate {
		u, err := OBSStep(s.inv, w, Q)
		s.lastQ, s.lastRows = Q, u.Rows
		return u, err
	}
	u := Update{}
	for i, q := range Q {
		v := 0.5 * (s.diag[s.pos[q]] + s.alpha) * w[q] * w[q]
		if i == 0 {
			u.Predicted = v
		} else {
			u.Predicted += v
		}
	}
	return u, nil
}

// Remove downdates the inverse and checks the diagonal of the rows it
// changed.
func (s *obsScorer) Remove(Q []int) ([]int, error) {
	rows := s.lastRows
	if !slices.Equal(Q, s.lastQ) || rows == nil {
		rows, _ = s.inv.Columns(Q)
	}
	s.lastQ, s.lastRows = nil, nil
	if err := s.inv.Downdate(Q); err != nil {
		return nil, err
	}
	for _, q := range rows {
		if s.net.Pruned[q] {
			continue
		}
		if d := s.inv.Diag(q); !(d > 0) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("prune: the downdated inverse has diagonal %v at parameter %s; raise alpha (now %g)", d, s.net.Name(q), s.alpha)
		}
	}
	return rows, nil
}

// compact compacts a dense inverse (see DenseInverse.Compact).
func (s *obsScorer) compact() {
	if d, ok := s.inv.(*DenseInverse); ok {
		d.Compact()
	}
}
