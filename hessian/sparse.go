package hessian

import (
	"fmt"
	"runtime"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/model"
)

// NewSparse returns the GGN or EmpiricalFisher curvature of New (the same
// matrix, terms, 1/P and Decay), whose Dense builds the matrix from the
// structure of the per-pattern terms instead of dense rank-1 sums. It pays
// off when the inputs are sparse, as NETtalk's one-hot windows (7 ones in
// 203 inputs), and is never slower in the order of its work.
//
// The structure: for an output combination u (a column of the output
// Hessian factor U for GGN, the output gradient for EmpiricalFisher) the
// term J_p^T u restricted to layer l is vec(b_l a_{l-1}^T), b_l = B_l^T u the
// back-propagated vector of layer l's units (B_l the K x n_l derivatives of
// the outputs with respect to layer l's pre-activations,
// model.MLP.UnitJacobian) and a_{l-1} layer l-1's activations with a
// trailing 1 for the bias. So
//
//	C[(l,j,i),(m,j',i')] = Decay [same] + (1/P) sum_p D_p[(l,j),(m,j')] a_{l-1,i} a_{m-1,i'},
//	D_p = B_p^T U U^T B_p   ((sum n_l) x (sum n_l), B_p = [B_1 ... B_L]).
//
// Dense computes the blocks of D_p of every pattern (small products), then
// fills C by groups of rows, each group on one goroutine with large matrix
// products:
//
//   - Layer 1 with sparse inputs (at most sparseDensity of them non-zero on
//     average, as one-hot windows): the rows (1, j, i) of one input i, over
//     the patterns P_i where a_{0,i} != 0. Their columns in layer 1 are sums
//     of a_{0,i} a_{0,i'} D_p[(1,.),(1,.)] over the non-zero inputs i' of
//     each pattern (n_1 x n_1 blocks added with floats.AddScaled); their
//     columns in a layer m >= 2 are one product per layer,
//     [D_p[(1,j),(m,j')]]_{p,(j,j')}^T [a_{0,i} a_{m-1}(p)]_p
//     ((n_1 n_m) x |P_i| times |P_i| x (n_{m-1}+1)), already in C's order.
//   - Every other layer l (dense inputs): the rows (l, j, .) of one unit j,
//     columns (m, j', .) for m >= l: one product A_l^T M per layer m,
//     A_l the P x (n_{l-1}+1) activations and M[p,(j',i')] =
//     D_p[(l,j),(m,j')] a_{m-1,i'}(p) over the units j' whose D entry is
//     non-zero for some pattern (for sigmoid outputs and squared error the
//     GGN's output block is diagonal in the units, so one j' per j).
//
// For 203-80-26 with 7 active inputs this is about 2.3 10^9 multiply-adds
// in the layer-1 blocks and 10^10 in products, against 26 n^2 / 2 = 4.4
// 10^9 per pattern for the dense rank-1 terms. Patterns are taken in
// chunks whose factors fit in sparseChunkBytes. Every group is computed the
// same way whatever the number of goroutines, so the result does not
// depend on it; it equals the dense build to rounding.
func NewSparse(kind Kind, net *model.MLP, X, T [][]float64) (RankOne, error) {
	if net != nil && net.Layered() {
		return nil, fmt.Errorf("hessian: the sparse build is for MLPs; build the curvature of a network given by its layers with New")
	}
	if kind != GGN && kind != EmpiricalFisher {
		return nil, fmt.Errorf("hessian: the sparse build covers %v and %v, not %v", GGN, EmpiricalFisher, kind)
	}
	c, err := New(kind, net, X, T, nil)
	if err != nil {
		return nil, err
	}
	return &sparse{rankOne: c.(*rankOne)}, nil
}

const (
	// sparseDensity: layer 1's inputs are treated as sparse when on
	// average at most this fraction of them is non-zero (NETtalk: 7/203).
	// Above it the per-input row groups would cost more than the dense
	// products.
	sparseDensity = 0.25
	// sparseChunkBytes bounds the per-pattern factors (D_p's blocks and
	// the activations) held at once: NETtalk's 5,603 training letters at
	// 203-80-26 take 423 MB, one chunk.
	sparseChunkBytes = 512 << 20
	// sparseK is the number of patterns per product (the inner dimension):
	// deep enough for the BLAS to run at speed, small enough that the
	// gathered operands stay a few MB per goroutine.
	sparseK = 512
)

// sparse is a GGN or EmpiricalFisher whose Dense exploits zero activations.
type sparse struct {
	*rankOne
}

// sparsePlan is the layout of one sparse build.
type sparsePlan struct {
	c        *rankOne
	net      *model.MLP // an unpruned copy: pruned parameters are 0, so f is the same
	L, K, H  int
	cols     int   // columns of G_p = U^T B_p: K (GGN) or 1 (EmpiricalFisher)
	n        []int // n[l] units of layer l (n[0] inputs)
	in       []int // in[l] = n[l-1] + 1: inputs of a unit of layer l with the bias
	unit0    []int // unit0[l]: layer l's first unit in B_p (l = 1..L)
	off      []int // off[l]: layer l's first parameter
	blk      [][]int
	rec      int   // floats of D_p's blocks per pattern
	pos      []int // pos[q]: row of parameter q in C, -1 if pruned
	sparse1  bool  // layer 1's inputs are sparse
	firstTyp int   // first layer grouped by unit (1, or 2 with sparse inputs)
}

func newSparsePlan(c *rankOne) *sparsePlan {
	net := c.net.Clone()
	for q := range net.Pruned {
		net.Pruned[q] = false
	}
	L := net.NumLayers()
	s := &sparsePlan{c: c, net: net, L: L, K: net.NumOutputs(), n: net.Sizes,
		in: make([]int, L+1), unit0: make([]int, L+2), off: make([]int, L+1), blk: make([][]int, L+1)}
	s.cols = s.K
	if c.kind == EmpiricalFisher {
		s.cols = 1
	}
	for l := 1; l <= L; l++ {
		s.in[l] = s.n[l-1] + 1
		s.unit0[l+1] = s.unit0[l] + s.n[l]
		s.off[l] = net.Offset(l)
		s.blk[l] = make([]int, L+1)
		for m := l; m <= L; m++ {
			s.blk[l][m] = s.rec
			s.rec += s.n[l] * s.n[m]
		}
	}
	s.H = s.unit0[L+1]
	s.pos = make([]int, len(net.Params))
	for q := range s.pos {
		s.pos[q] = -1
	}
	for r, q := range c.free {
		s.pos[q] = r
	}
	nnz := 0
	for _, x := range c.X {
		for _, v := range x {
			if v != 0 {
				nnz++
			}
		}
	}
	s.sparse1 = float64(nnz) <= sparseDensity*float64(len(c.X)*s.n[0])
	s.firstTyp = 1
	if s.sparse1 {
		s.firstTyp = 2
	}
	return s
}

// acts returns the floats of one pattern's activations (every layer's
// input with its trailing 1).
func (s *sparsePlan) acts() int {
	a := 0
	for l := 1; l <= s.L; l++ {
		a += s.in[l]
	}
	return a
}

// sparseChunk holds the factors of patterns p0..p0+P-1.
type sparseChunk struct {
	p0, P int
	fac   []float64   // P x rec: D_p's blocks (l, m), m >= l, row-major n_l x n_m
	act   [][]float64 // act[l]: P x in[l], layer l's inputs with the trailing 1
	nzIdx [][]int     // nzIdx[p]: the non-zero inputs of layer 1 (bias included)
	byIn  [][]int     // byIn[i]: the patterns (chunk rows) with input i non-zero
}

// sparseScratch is one goroutine's per-pattern scratch.
type sparseScratch struct {
	ws   *model.Workspace
	b    []float64 // K x H unit Jacobian
	u    mat.Dense
	g    []float64 // cols x H: G = U^T B
	grad []float64
}

func (s *sparsePlan) newScratch() *sparseScratch {
	return &sparseScratch{ws: s.net.NewWorkspace(), b: make([]float64, s.K*s.H), g: make([]float64, s.cols*s.H), grad: make([]float64, s.K)}
}

// factor computes G_p = U_p^T B_p of pattern p into sc.g and leaves the
// forward pass of p in sc.ws.
func (s *sparsePlan) factor(sc *sparseScratch, p int) {
	c := s.c
	x, t := c.X[p], c.T[p]
	bm := blas64.General{Rows: s.K, Cols: s.H, Stride: s.H, Data: sc.b}
	switch c.kind {
	case GGN:
		s.net.OutputHessianFactor(sc.ws, &sc.u, x, floats.Sum(t))
		s.net.UnitJacobian(sc.ws, sc.b, x)
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, sc.u.RawMatrix(), bm, 0, blas64.General{Rows: s.K, Cols: s.H, Stride: s.H, Data: sc.g})
	case EmpiricalFisher:
		s.net.OutputGrad(sc.ws, sc.grad, x, t)
		s.net.UnitJacobian(sc.ws, sc.b, x)
		blas64.Gemv(blas.Trans, 1, bm, blas64.Vector{N: s.K, Inc: 1, Data: sc.grad}, 0, blas64.Vector{N: s.H, Inc: 1, Data: sc.g})
	default:
		panic(fmt.Sprintf("hessian: no sparse build for %v", c.kind))
	}
}

// fill computes the factors of the chunk's patterns.
func (s *sparsePlan) fill(ch *sparseChunk, workers int) {
	pool := make(chan *sparseScratch, workers)
	for i := 0; i < workers; i++ {
		pool <- s.newScratch()
	}
	_ = parallel.For(ch.P, workers, nil, nil, func(i int) error {
		sc := <-pool
		defer func() { pool <- sc }()
		s.factor(sc, ch.p0+i)
		rec := ch.fac[i*s.rec : (i+1)*s.rec]
		for l := 1; l <= s.L; l++ {
			gl := blas64.General{Rows: s.cols, Cols: s.n[l], Stride: s.H, Data: sc.g[s.unit0[l]:]}
			for m := l; m <= s.L; m++ {
				gm := blas64.General{Rows: s.cols, Cols: s.n[m], Stride: s.H, Data: sc.g[s.unit0[m]:]}
				blas64.Gemm(blas.Trans, blas.NoTrans, 1, gl, gm, 0, blas64.General{Rows: s.n[l], Cols: s.n[m], Stride: s.n[m], Data: rec[s.blk[l][m]:]})
			}
		}
		acts := sc.ws.Activations()
		for l := 1; l <= s.L; l++ {
			a := ch.act[l][i*s.in[l] : (i+1)*s.in[l]]
			copy(a, acts[l-1])
			a[s.n[l-1]] = 1
		}
		return nil
	})
	if s.sparse1 {
		for i := range ch.byIn {
			ch.byIn[i] = ch.byIn[i][:0]
		}
		for p := 0; p < ch.P; p++ {
			ch.nzIdx[p] = ch.nzIdx[p][:0]
			for i, v := range ch.act[1][p*s.in[1] : (p+1)*s.in[1]] {
				if v != 0 {
					ch.nzIdx[p] = append(ch.nzIdx[p], i)
					ch.byIn[i] = append(ch.byIn[i], p)
				}
			}
		}
	}
}

// sparseGroupBuf is one goroutine's buffers for a group of rows.
type sparseGroupBuf struct {
	t       []float64 // in[1] x n1 x n1: layer-1 columns of a layer-1 row group
	touched []bool
	a, f, o []float64
}

// Dense writes C = Decay I + (1/P) sum_p J_p^T U_p U_p^T J_p into dst (upper
// triangle), by the sparse build described at NewSparse.
func (c *sparse) Dense(dst *mat.SymDense) {
	c.sizeSym(dst)
	dst.Zero()
	raw := dst.RawSymmetric()
	s := newSparsePlan(c.rankOne)
	workers := runtime.GOMAXPROCS(0)
	P := len(c.X)
	per := 8 * (s.rec + s.acts())
	chunkP := max(1, min(P, sparseChunkBytes/per))
	ch := &sparseChunk{fac: make([]float64, chunkP*s.rec), act: make([][]float64, s.L+1)}
	for l := 1; l <= s.L; l++ {
		ch.act[l] = make([]float64, chunkP*s.in[l])
	}
	if s.sparse1 {
		ch.nzIdx = make([][]int, chunkP)
		ch.byIn = make([][]int, s.in[1])
	}
	// The row groups: inputs of layer 1 (if sparse), then units.
	type group struct{ l, idx int }
	var groups []group
	if s.sparse1 {
		for i := 0; i < s.in[1]; i++ {
			groups = append(groups, group{1, i})
		}
	}
	for l := s.firstTyp; l <= s.L; l++ {
		for j := 0; j < s.n[l]; j++ {
			groups = append(groups, group{l, j})
		}
	}
	pool := make(chan *sparseGroupBuf, workers)
	for i := 0; i < workers; i++ {
		pool <- &sparseGroupBuf{}
	}
	for p0 := 0; p0 < P; p0 += chunkP {
		ch.p0, ch.P = p0, min(chunkP, P-p0)
		s.fill(ch, workers)
		_ = parallel.For(len(groups), workers, nil, nil, func(g int) error {
			buf := <-pool
			defer func() { pool <- buf }()
			if gr := groups[g]; gr.l == 1 && s.sparse1 {
				s.inputGroup(ch, buf, gr.idx, raw)
			} else {
				s.unitGroup(ch, buf, gr.l, gr.idx, raw)
			}
			return nil
		})
	}
	dst.ScaleSym(1/float64(P), dst)
	addDiag(dst, c.Decay())
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// inputGroup adds the chunk's terms of the rows (1, j, i), j = 0..n_1-1,
// into C (see NewSparse).
func (s *sparsePlan) inputGroup(ch *sparseChunk, buf *sparseGroupBuf, i int, raw blas64.Symmetric) {
	pats := ch.byIn[i]
	if len(pats) == 0 {
		return
	}
	n1, in1 := s.n[1], s.in[1]
	nn := n1 * n1
	buf.t = grow(buf.t, in1*nn)
	if len(buf.touched) != in1 {
		buf.touched = make([]bool, in1)
		for k := range buf.t {
			buf.t[k] = 0
		}
	}
	// Layer-1 columns: t[i'][j][j'] = sum_p a_i a_i' D_p[(1,j),(1,j')].
	a1 := ch.act[1]
	for _, p := range pats {
		w := a1[p*in1+i]
		d := ch.fac[p*s.rec+s.blk[1][1] : p*s.rec+s.blk[1][1]+nn]
		for _, i2 := range ch.nzIdx[p] {
			floats.AddScaled(buf.t[i2*nn:(i2+1)*nn], w*a1[p*in1+i2], d)
			buf.touched[i2] = true
		}
	}
	for j := 0; j < n1; j++ {
		r := s.pos[s.off[1]+j*in1+i]
		if r < 0 {
			continue
		}
		row := raw.Data[r*raw.Stride:]
		for i2, ok := range buf.touched {
			if !ok {
				continue
			}
			t := buf.t[i2*nn+j*n1 : i2*nn+(j+1)*n1]
			for j2, v := range t {
				if r2 := s.pos[s.off[1]+j2*in1+i2]; r2 >= r {
					row[r2] += v
				}
			}
		}
	}
	for i2, ok := range buf.touched {
		if ok {
			t := buf.t[i2*nn : (i2+1)*nn]
			for k := range t {
				t[k] = 0
			}
			buf.touched[i2] = false
		}
	}
	// Columns of layer m >= 2: O = F^T A, F[p,(j,j')] = D_p[(1,j),(m,j')],
	// A[p,.] = a_{0,i}(p) a_{m-1}(p), rows (j, j') and columns i' of O in C's order.
	for m := 2; m <= s.L; m++ {
		wcols := n1 * s.n[m]
		inm := s.in[m]
		kc := max(8, min(sparseK, (1<<20)/wcols))
		buf.f = grow(buf.f, kc*wcols)
		buf.a = grow(buf.a, kc*inm)
		buf.o = grow(buf.o, wcols*inm)
		o := blas64.General{Rows: wcols, Cols: inm, Stride: inm, Data: buf.o}
		for k0 := 0; k0 < len(pats); k0 += kc {
			ps := pats[k0:min(len(pats), k0+kc)]
			for r, p := range ps {
				copy(buf.f[r*wcols:(r+1)*wcols], ch.fac[p*s.rec+s.blk[1][m]:])
				floats.ScaleTo(buf.a[r*inm:(r+1)*inm], a1[p*in1+i], ch.act[m][p*inm:(p+1)*inm])
			}
			beta := 1.0
			if k0 == 0 {
				beta = 0
			}
			blas64.Gemm(blas.Trans, blas.NoTrans, 1,
				blas64.General{Rows: len(ps), Cols: wcols, Stride: wcols, Data: buf.f},
				blas64.General{Rows: len(ps), Cols: inm, Stride: inm, Data: buf.a}, beta, o)
		}
		seg := s.n[m] * inm
		for j := 0; j < n1; j++ {
			r := s.pos[s.off[1]+j*in1+i]
			if r < 0 {
				continue
			}
			s.addRow(raw, r, s.off[m], buf.o[j*seg:(j+1)*seg])
		}
	}
}

// addRow adds src to row r of C at the columns of parameters q0, q0+1, ...
// (upper triangle, free parameters only).
func (s *sparsePlan) addRow(raw blas64.Symmetric, r, q0 int, src []float64) {
	row := raw.Data[r*raw.Stride:]
	for k, v := range src {
		if r2 := s.pos[q0+k]; r2 >= r {
			row[r2] += v
		}
	}
}

// unitGroup adds the chunk's terms of the rows (l, j, .) into C: columns
// of layers m >= l by one product A_l^T M each (see NewSparse).
func (s *sparsePlan) unitGroup(ch *sparseChunk, buf *sparseGroupBuf, l, j int, raw blas64.Symmetric) {
	inl := s.in[l]
	for m := l; m <= s.L; m++ {
		// The units j' of layer m with a non-zero D_p[(l,j),(m,j')].
		var js []int
		for j2 := 0; j2 < s.n[m]; j2++ {
			if m == l && j2 < j {
				continue
			}
			at := s.blk[l][m] + j*s.n[m] + j2
			for p := 0; p < ch.P; p++ {
				if ch.fac[p*s.rec+at] != 0 {
					js = append(js, j2)
					break
				}
			}
		}
		if len(js) == 0 {
			continue
		}
		inm := s.in[m]
		wcols := len(js) * inm
		kc := max(8, min(sparseK, (1<<20)/wcols))
		buf.f = grow(buf.f, kc*wcols)
		buf.o = grow(buf.o, inl*wcols)
		o := blas64.General{Rows: inl, Cols: wcols, Stride: wcols, Data: buf.o}
		for k0 := 0; k0 < ch.P; k0 += kc {
			np := min(ch.P, k0+kc) - k0
			for r := 0; r < np; r++ {
				p := k0 + r
				am := ch.act[m][p*inm : (p+1)*inm]
				d := ch.fac[p*s.rec+s.blk[l][m]+j*s.n[m]:]
				for jj, j2 := range js {
					floats.ScaleTo(buf.f[r*wcols+jj*inm:r*wcols+(jj+1)*inm], d[j2], am)
				}
			}
			beta := 1.0
			if k0 == 0 {
				beta = 0
			}
			blas64.Gemm(blas.Trans, blas.NoTrans, 1,
				blas64.General{Rows: np, Cols: inl, Stride: inl, Data: ch.act[l][k0*inl:]},
				blas64.General{Rows: np, Cols: wcols, Stride: wcols, Data: buf.f}, beta, o)
		}
		for h := 0; h < inl; h++ {
			r := s.pos[s.off[l]+j*inl+h]
			if r < 0 {
				continue
			}
			for jj, j2 := range js {
				s.addRow(raw, r, s.off[m]+j2*inm, buf.o[h*wcols+jj*inm:h*wcols+(jj+1)*inm])
			}
		}
	}
}

// Diag writes diag(C) = Decay + (1/P) sum_p D_p[(l,j),(l,j)] a_{l-1,i}^2
// into dst, from the same per-pattern factors as Dense.
func (c *sparse) Diag(dst []float64) {
	c.checkDiagLen(dst)
	for i := range dst {
		dst[i] = 0
	}
	s := newSparsePlan(c.rankOne)
	sc := s.newScratch()
	for p := range c.X {
		s.factor(sc, p)
		acts := sc.ws.Activations()
		for l := 1; l <= s.L; l++ {
			for j := 0; j < s.n[l]; j++ {
				u := s.unit0[l] + j
				d := 0.0
				for r := 0; r < s.cols; r++ {
					g := sc.g[r*s.H+u]
					d += g * g
				}
				if d == 0 {
					continue
				}
				base := s.off[l] + j*s.in[l]
				for i, a := range acts[l-1] {
					if r := s.pos[base+i]; r >= 0 && a != 0 {
						dst[r] += d * a * a
					}
				}
				if r := s.pos[base+s.n[l-1]]; r >= 0 {
					dst[r] += d
				}
			}
		}
	}
	invP := 1 / float64(len(c.X))
	for i := range dst {
		dst[i] = dst[i]*invP + c.Decay()
	}
}

// plan returns the layout of c's build (for tests).
func (c *sparse) plan() *sparsePlan { return newSparsePlan(c.rankOne) }
