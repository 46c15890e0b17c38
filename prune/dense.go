package prune

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Dense is the structure of the original OBS: one nf x nf inverse over all
// free parameters, formed as Config.Inverse says (the exact Hessian by
// hessian.InverseIndefinite with Config.Fix). Memory nf^2 floats. Its
// name is "dense"; it is the default (a nil Config.Structure).
type Dense struct{}

func init() { structureParsers["dense"] = noArg("dense", Dense{}) }

func (Dense) String() string { return "dense" }

// Inverse forms the dense inverse.
func (Dense) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	inv := &mat.SymDense{}
	alpha := cfg.alpha()
	var fix *hessian.FixReport
	if curv.Kind() == hessian.Exact {
		rep, err := hessian.InverseIndefinite(inv, curv, alpha, cfg.Fix)
		fix = &rep
		if err != nil {
			return nil, fix, err
		}
	} else {
		r1, ok := curv.(hessian.RankOne)
		if !ok {
			return nil, nil, fmt.Errorf("prune: curvature %v has no rank-1 terms", curv.Kind())
		}
		var err error
		switch cfg.Inverse {
		case Recursive:
			err = hessian.InverseRecursive(inv, r1, alpha)
		case Direct:
			err = hessian.InverseDirect(inv, curv, alpha)
		default:
			err = hessian.InverseBlocked(inv, r1, alpha, 0)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return NewDenseInverse(inv, curv.Free(), len(net.Params)), fix, nil
}

// DenseInverse is an InverseCurvature held as one dense nf x nf matrix over
// the free parameters: the structure of the original OBS. Memory is nf^2
// floats; a downdate by k parameters costs nf^2 k flops.
type DenseInverse struct {
	free []int
	pos  []int // pos[q] is q's row, -1 if q is not covered
	inv  *mat.SymDense
}

// NewDenseInverse returns the inverse inv (nf x nf) whose rows and columns
// are the parameters free (in increasing order) of a network with n
// parameters. It keeps inv, which Downdate changes in place.
func NewDenseInverse(inv *mat.SymDense, free []int, n int) *DenseInverse {
	if d := inv.SymmetricDim(); d != len(free) {
		panic(fmt.Sprintf("prune: inverse has size %d for %d free parameters", d, len(free)))
	}
	d := &DenseInverse{free: free, pos: make([]int, n), inv: inv}
	for q := range d.pos {
		d.pos[q] = -1
	}
	for r, q := range free {
		d.pos[q] = r
	}
	return d
}

// Matrix returns the inverse itself (rows and columns in Free's order).
func (d *DenseInverse) Matrix() *mat.SymDense { return d.inv }

func (d *DenseInverse) row(q int) int {
	if q < 0 || q >= len(d.pos) || d.pos[q] < 0 {
		panic(fmt.Sprintf("prune: parameter %d is not covered by the inverse", q))
	}
	return d.pos[q]
}

// Free returns the parameters of the rows.
func (d *DenseInverse) Free() []int { return d.free }

// Diag returns [C^-1]_qq.
func (d *DenseInverse) Diag(q int) float64 {
	r := d.row(q)
	return d.inv.At(r, r)
}

// Block writes [C^-1]_QQ into dst.
func (d *DenseInverse) Block(dst *mat.SymDense, Q []int) {
	sizeSym(dst, len(Q))
	for a, qa := range Q {
		ra := d.row(qa)
		for b := a; b < len(Q); b++ {
			dst.SetSym(a, b, d.inv.At(ra, d.row(Q[b])))
		}
	}
}

// Columns returns Free and the nf x k matrix C^-1 E_Q.
func (d *DenseInverse) Columns(Q []int) ([]int, *mat.Dense) {
	n, k := len(d.free), len(Q)
	cq := mat.NewDense(n, k, nil)
	// Column r of the symmetric matrix from its upper triangle: rows i < r
	// down column r, rows i >= r along row r (element access through At
	// cost as much as a third of NETtalk's downdates).
	raw, out := d.inv.RawSymmetric(), cq.RawMatrix()
	for a, q := range Q {
		r := d.row(q)
		for i := 0; i < r; i++ {
			out.Data[i*out.Stride+a] = raw.Data[i*raw.Stride+r]
		}
		for i, v := range raw.Data[r*raw.Stride+r : r*raw.Stride+n] {
			out.Data[(r+i)*out.Stride+a] = v
		}
	}
	return d.free, cq
}

// Downdate removes Q: C^-1 -= (C_Q L^-T)(C_Q L^-T)^T with
// [C^-1]_QQ = L L^T and C_Q = C^-1 E_Q, then zeroes Q's rows and columns.
func (d *DenseInverse) Downdate(Q []int) error {
	_, cq := d.Columns(Q)
	var s mat.SymDense
	d.Block(&s, Q)
	l, err := choleskyL(&s, Q)
	if err != nil {
		return err
	}
	// X = C_Q L^-T, so X^T = L^-1 C_Q^T and X X^T = C_Q S^-1 C_Q^T.
	var xt mat.Dense
	if err := xt.Solve(l, cq.T()); err != nil {
		return fmt.Errorf("%w: downdate by %d parameters: %v", hessian.ErrNotPositiveDefinite, len(Q), err)
	}
	if len(d.free) >= tiledDowndate {
		// One tiled rank-k product on GOMAXPROCS goroutines (gonum's
		// Dsyrk behind SymRankK is serial in the pure-Go build).
		var x mat.Dense
		x.CloneFrom(xt.T())
		hessian.AddSymRankK(d.inv, -1, &x)
	} else {
		d.inv.SymRankK(d.inv, -1, xt.T())
	}
	n := len(d.free)
	for _, q := range Q {
		r := d.pos[q]
		for i := 0; i < n; i++ {
			d.inv.SetSym(r, i, 0)
		}
		d.pos[q] = -1
	}
	return nil
}

// Compact drops the rows and columns that Downdate zeroed: the survivors'
// submatrix (its upper triangle) is moved to the front of the same storage,
// so Free, Matrix and the rows change and every later Downdate, Columns and
// OBS step costs the current nf^2 instead of the built size's square. No
// value changes, no memory is allocated beyond the new Free slice (the old
// one, which an Update's Rows may share, is left as it was).
func (d *DenseInverse) Compact() {
	keep := make([]int, 0, len(d.free))
	for r, q := range d.free {
		if d.pos[q] >= 0 {
			keep = append(keep, r)
		}
	}
	if len(keep) == len(d.free) {
		return
	}
	raw := d.inv.RawSymmetric()
	n, data := len(keep), raw.Data
	// Row a's entries move from old (ra, keep[b]) to new (a, b): as a <= ra,
	// b <= keep[b] and n <= the old stride, every write lands at or before
	// its source and before every source still to be read, so copying in
	// increasing order is safe in place.
	for a, ra := range keep {
		src := data[ra*raw.Stride:]
		dst := data[a*n:]
		for b := a; b < n; b++ {
			dst[b] = src[keep[b]]
		}
	}
	free := make([]int, n)
	for a, ra := range keep {
		q := d.free[ra]
		free[a] = q
		d.pos[q] = a
	}
	d.free = free
	d.inv = mat.NewSymDense(n, data[:n*n])
}

// tiledDowndate is the size from which Downdate uses hessian.AddSymRankK:
// below it the serial SymRankK is as fast, and results of the small
// networks (XOR, MONK's) stay bit-identical to earlier releases.
const tiledDowndate = 512

// choleskyL returns the lower Cholesky factor of s = [C^-1]_QQ or an error
// wrapping hessian.ErrNotPositiveDefinite.
func choleskyL(s *mat.SymDense, Q []int) (*mat.TriDense, error) {
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		return nil, fmt.Errorf("%w: [C^-1]_QQ of %d parameters (first %d) is not positive definite; raise alpha", hessian.ErrNotPositiveDefinite, len(Q), Q[0])
	}
	var l mat.TriDense
	chol.LTo(&l)
	return &l, nil
}

// sizeSym resizes an empty dst to k x k and panics if a non-empty one differs.
func sizeSym(dst *mat.SymDense, k int) {
	if dst.IsEmpty() {
		dst.ReuseAsSym(k)
	}
	if d := dst.SymmetricDim(); d != k {
		panic(fmt.Sprintf("prune: destination has size %d, want %d", d, k))
	}
}
