package prune

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// LayerUnitOBSPruner is layer-wise OBS for hidden units (Granularity
// ByUnit with Outgoing): removing hidden unit j of layer l removes input j
// of layer l+1 from every row. All rows of layer l+1 share the Hessian of
// the layer-wise reconstruction error, H = (2/N) X~ X~^T + lambda I over
// the layer's inputs and the bias (as NewLayerPaths), so the group of the
// unit's outgoing weights W_{:,J} (J the units removed together) has the
// exact OBS saliency and update of that quadratic
//
//	L_J = sum_r 1/2 w_rJ^T ([H^-1]_JJ)^-1 w_rJ,  dw_r = -H^-1 E_J ([H^-1]_JJ)^-1 w_rJ,
//
// and after a step H^-1 is downdated once for all rows (the constrained
// downdate of InverseCurvature). The saliency is in units of the layer's
// reconstruction error, not of E: use PerLayer, or Relative (each layer's
// saliencies divided by its output energy) to compare layers. The inverse
// is built at the weights Prepare is given; the inputs of a layer do not
// follow the removal of earlier layers' units until a rebuild. Weights
// pruned singly before (not whole columns) are kept at 0 and left out of
// their rows' updates, an approximation; on a network whose layers have
// lost only whole units the step is exact.
type LayerUnitOBSPruner struct {
	// Damp and NoDamp are the relative damping, as LayerwiseSettings'
	// (Damp 0: DefaultLayerDamp; NoDamp: none).
	Damp     float64
	NoDamp   bool
	Relative bool
}

func (LayerUnitOBSPruner) String() string { return "lobs-unit" }

// Prepare builds the inverse input Hessian of every layer fed by hidden
// units.
func (p LayerUnitOBSPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	damp, err := layerDamp(p.Damp, p.NoDamp)
	if err != nil {
		return nil, err
	}
	L := net.NumLayers()
	s := &lunitScorer{net: net, hinv: make([]*mat.SymDense, L+1), energy: make([]float64, L+1), relative: p.Relative}
	inputs := net.LayerInputs(calib.X)
	for l := 2; l <= L; l++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, e, err := layerHessian(net, l, inputs[l-1], damp)
		if err != nil {
			return nil, err
		}
		var chol mat.Cholesky
		if !chol.Factorize(h) {
			return nil, fmt.Errorf("%w: layer %d: the damped input Hessian 2XX^T/N + lambda I (damping %g); use a positive damping", hessian.ErrNotPositiveDefinite, l, damp)
		}
		s.hinv[l] = mat.NewSymDense(h.SymmetricDim(), nil)
		if err := chol.InverseTo(s.hinv[l]); err != nil {
			return nil, fmt.Errorf("prune: layer %d: inverting the input Hessian: %v", l, err)
		}
		s.energy[l] = e
	}
	return s, nil
}

// lunitScorer holds, for every layer l >= 2, the inverse of its input
// Hessian (hinv[l], over the inputs and the bias).
type lunitScorer struct {
	net      *model.MLP
	hinv     []*mat.SymDense
	energy   []float64
	relative bool
}

// columns returns the layer of the weights Q and their columns (inputs),
// distinct, in order of first appearance; ok is false if Q holds a bias,
// a weight of the first layer or weights of several layers.
func (s *lunitScorer) columns(Q []int) (l int, J []int, ok bool) {
	seen := map[int]bool{}
	for i, q := range Q {
		lq, _, from := s.net.Locate(q)
		if i == 0 {
			l = lq
		}
		if lq != l || lq < 2 || from == s.net.Sizes[lq-1] {
			return 0, nil, false
		}
		if !seen[from] {
			seen[from] = true
			J = append(J, from)
		}
	}
	return l, J, true
}

// solve returns the Cholesky factor of [H^-1]_JJ of layer l.
func (s *lunitScorer) solve(l int, J []int) (*mat.Cholesky, error) {
	k := len(J)
	b := mat.NewSymDense(k, nil)
	for a := range J {
		for c := a; c < k; c++ {
			b.SetSym(a, c, s.hinv[l].At(J[a], J[c]))
		}
	}
	var chol mat.Cholesky
	if !chol.Factorize(b) {
		return nil, fmt.Errorf("%w: [H^-1]_JJ of layer %d's inputs %v; raise the damping", hessian.ErrNotPositiveDefinite, l, J)
	}
	return &chol, nil
}

// rowStep returns y = ([H^-1]_JJ)^-1 w_rJ for row r of layer l.
func (s *lunitScorer) rowStep(chol *mat.Cholesky, w []float64, l, r int, J []int) (wj, y *mat.VecDense, err error) {
	wj = mat.NewVecDense(len(J), nil)
	for a, j := range J {
		wj.SetVec(a, w[s.net.Index(l, r, j)])
	}
	y = &mat.VecDense{}
	if err := chol.SolveVecTo(y, wj); err != nil {
		return nil, nil, fmt.Errorf("prune: solving with [H^-1]_JJ: %v", err)
	}
	return wj, y, nil
}

func (s *lunitScorer) Saliency(w []float64, G []int) float64 {
	l, J, ok := s.columns(G)
	if !ok {
		return math.NaN()
	}
	chol, err := s.solve(l, J)
	if err != nil {
		return math.NaN()
	}
	v := 0.0
	for r := range s.net.Sizes[l] {
		wj, y, err := s.rowStep(chol, w, l, r, J)
		if err != nil {
			return math.NaN()
		}
		v += 0.5 * mat.Dot(wj, y)
	}
	if s.relative && s.energy[l] > 0 {
		v /= s.energy[l]
	}
	return v
}

// Step updates every row of the layers of Q (all of Q's weights must be
// whole columns of layers >= 2, as unit groups with Outgoing are).
func (s *lunitScorer) Step(w []float64, Q []int) (Update, error) {
	u := Update{}
	for _, J := range s.byLayer(Q) {
		l := J.l
		if _, _, ok := s.columns(J.params); !ok {
			return Update{}, fmt.Errorf("prune: layer-wise unit OBS removes whole inputs of layers after the first, not %s", s.net.Name(Q[0]))
		}
		chol, err := s.solve(l, J.cols)
		if err != nil {
			return Update{}, err
		}
		din := s.net.Sizes[l-1]
		cols := mat.NewDense(din+1, len(J.cols), nil)
		for a, j := range J.cols {
			for i := 0; i <= din; i++ {
				cols.Set(i, a, s.hinv[l].At(i, j))
			}
		}
		for r := range s.net.Sizes[l] {
			wj, y, err := s.rowStep(chol, w, l, r, J.cols)
			if err != nil {
				return Update{}, err
			}
			u.Predicted += 0.5 * mat.Dot(wj, y)
			var d mat.VecDense
			d.MulVec(cols, y)
			for i := 0; i <= din; i++ {
				q := s.net.Index(l, r, i)
				if s.net.Pruned[q] {
					continue
				}
				u.Rows = append(u.Rows, q)
				u.Delta = append(u.Delta, -d.AtVec(i))
			}
		}
	}
	return u, nil
}

type layerCols struct {
	l      int
	params []int
	cols   []int
}

// byLayer splits Q by layer, in increasing order of layers.
func (s *lunitScorer) byLayer(Q []int) []*layerCols {
	var out []*layerCols
	for _, q := range Q {
		l, _, from := s.net.Locate(q)
		var c *layerCols
		for _, o := range out {
			if o.l == l {
				c = o
			}
		}
		if c == nil {
			c = &layerCols{l: l}
			out = append(out, c)
			slices.SortFunc(out, func(a, b *layerCols) int { return a.l - b.l })
		}
		c.params = append(c.params, q)
		found := false
		for _, j := range c.cols {
			found = found || j == from
		}
		if !found {
			c.cols = append(c.cols, from)
		}
	}
	return out
}

// Remove downdates the inverse of every layer of Q by its columns and
// returns the layers' weights, whose saliencies all changed.
func (s *lunitScorer) Remove(Q []int) ([]int, error) {
	var changed []int
	for _, J := range s.byLayer(Q) {
		l := J.l
		chol, err := s.solve(l, J.cols)
		if err != nil {
			return nil, err
		}
		h := s.hinv[l]
		n := h.SymmetricDim()
		cols := mat.NewDense(n, len(J.cols), nil)
		for a, j := range J.cols {
			for i := range n {
				cols.Set(i, a, h.At(i, j))
			}
		}
		var lt mat.TriDense
		chol.LTo(&lt)
		var x mat.Dense // L^-1 (H^-1 E_J)^T
		if err := x.Solve(&lt, cols.T()); err != nil {
			return nil, fmt.Errorf("%w: layer %d: downdate: %v", hessian.ErrNotPositiveDefinite, l, err)
		}
		h.SymRankK(h, -1, x.T())
		for _, j := range J.cols {
			for i := range n {
				h.SetSym(j, i, 0)
			}
		}
		for r := range s.net.Sizes[l] {
			for i := range s.net.Sizes[l-1] {
				if q := s.net.Index(l, r, i); !s.net.Pruned[q] {
					changed = append(changed, q)
				}
			}
		}
	}
	return changed, nil
}
