package prune

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Diagonal is the diagonal structure: [C^-1]_qq = 1/(C_qq + alpha) and no
// entry off the diagonal (hessian.InverseDiagonal; the exact Hessian's
// diagonal is fixed entry by entry with Config.Fix). OBS with it is
// Optimal Brain Damage with damping: the saliency is 1/2 (C_qq + alpha)
// w_q^2 and the update only sets w_q to 0. Memory nf floats. Its name is
// "diag".
type Diagonal struct{}

func init() { structureParsers["diag"] = noArg("diag", Diagonal{}) }

func (Diagonal) String() string { return "diag" }

// Inverse builds the diagonal inverse.
func (Diagonal) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	d := make([]float64, curv.Dim())
	rep, err := hessian.InverseDiagonal(d, curv, cfg.alpha(), cfg.Fix)
	var fix *hessian.FixReport
	if curv.Kind() == hessian.Exact {
		fix = &rep
	}
	if err != nil {
		return nil, fix, err
	}
	return NewDiagInverse(d, curv.Free(), len(net.Params)), fix, nil
}

// DiagInverse is an InverseCurvature that is diagonal.
type DiagInverse struct {
	free []int
	pos  []int // pos[q] is q's row, -1 if not covered
	d    []float64
}

// NewDiagInverse returns the diagonal inverse with entries d over the
// parameters free of a network of n parameters. It keeps d.
func NewDiagInverse(d []float64, free []int, n int) *DiagInverse {
	if len(d) != len(free) {
		panic(fmt.Sprintf("prune: %d diagonal entries for %d free parameters", len(d), len(free)))
	}
	v := &DiagInverse{free: free, pos: make([]int, n), d: d}
	for q := range v.pos {
		v.pos[q] = -1
	}
	for r, q := range free {
		v.pos[q] = r
	}
	return v
}

func (v *DiagInverse) row(q int) int {
	if q < 0 || q >= len(v.pos) || v.pos[q] < 0 {
		panic(fmt.Sprintf("prune: parameter %d is not covered by the inverse", q))
	}
	return v.pos[q]
}

// Free returns the parameters of the rows.
func (v *DiagInverse) Free() []int { return v.free }

// Diag returns [C^-1]_qq.
func (v *DiagInverse) Diag(q int) float64 { return v.d[v.row(q)] }

// Block writes the diagonal matrix [C^-1]_QQ into dst.
func (v *DiagInverse) Block(dst *mat.SymDense, Q []int) {
	sizeSym(dst, len(Q))
	for a, qa := range Q {
		for c := a; c < len(Q); c++ {
			x := 0.0
			if c == a {
				x = v.d[v.row(qa)]
			}
			dst.SetSym(a, c, x)
		}
	}
}

// Columns returns Q itself and the diagonal entries (column a non-zero in
// row a only).
func (v *DiagInverse) Columns(Q []int) ([]int, *mat.Dense) {
	cols := mat.NewDense(len(Q), len(Q), nil)
	for a, q := range Q {
		cols.Set(a, a, v.d[v.row(q)])
	}
	return append([]int(nil), Q...), cols
}

// Downdate removes Q: a diagonal inverse restricted to the survivors is
// the same diagonal without Q's entries.
func (v *DiagInverse) Downdate(Q []int) error {
	for _, q := range Q {
		r := v.row(q)
		if !(v.d[r] > 0) {
			return fmt.Errorf("%w: diagonal entry %g of parameter %d", hessian.ErrNotPositiveDefinite, v.d[r], q)
		}
	}
	for _, q := range Q {
		v.d[v.row(q)] = 0
		v.pos[q] = -1
	}
	return nil
}
