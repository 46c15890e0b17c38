package hessian

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/parallel"
)

// BlockStarts returns the first rows of contiguous blocks of size rows
// over nf rows (the last block may be shorter), followed by nf:
// 0 = s_0 < s_1 < ... < s_nb = nf. It panics if size < 1.
func BlockStarts(nf, size int) []int {
	if size < 1 {
		panic(fmt.Sprintf("hessian: block size %d must be at least 1", size))
	}
	starts := []int{0}
	for s := size; s < nf; s += size {
		starts = append(starts, s)
	}
	return append(starts, nf)
}

// checkStarts panics unless starts is 0 = s_0 < s_1 < ... < s_nb = nf.
func checkStarts(starts []int, nf int) {
	if len(starts) < 2 || starts[0] != 0 || starts[len(starts)-1] != nf {
		panic(fmt.Sprintf("hessian: block starts must run from 0 to %d", nf))
	}
	for b := 1; b < len(starts); b++ {
		if starts[b] <= starts[b-1] {
			panic(fmt.Sprintf("hessian: block starts %d, %d are not increasing", starts[b-1], starts[b]))
		}
	}
}

// BlockAccumulator sums rank-1 terms into the diagonal blocks of an
// nf x nf matrix, sum_m (X_m)_b (X_m)_b^T for each block b of contiguous
// rows, without forming the rest of the matrix: memory is the blocks, the
// sum of their squared sizes (nf B floats for blocks of size B).
//
// Every block is fed by the same terms, so the terms of a curvature are
// computed once, in chunks, for all blocks (see InverseBlocks).
type BlockAccumulator struct {
	starts []int
	blocks []*mat.SymDense
}

// NewBlockAccumulator returns an accumulator of zero blocks with the given
// starts (as BlockStarts returns).
func NewBlockAccumulator(starts []int) *BlockAccumulator {
	checkStarts(starts, starts[len(starts)-1])
	a := &BlockAccumulator{starts: starts, blocks: make([]*mat.SymDense, len(starts)-1)}
	for b := range a.blocks {
		a.blocks[b] = mat.NewSymDense(starts[b+1]-starts[b], nil)
	}
	return a
}

// Add adds U_b U_b^T to every block b, where U is the nf x m matrix of m
// terms as columns and U_b its rows of block b. Only the upper triangles
// are written. The blocks are shared out to GOMAXPROCS goroutines; within
// a block, row i of the triangle is one serial blas64.Gemv (the rows
// i..end of U_b times row i), over data that stays in cache for blocks of
// a few hundred rows, as the tiles of products.go. Each entry is computed
// by one call, so the sums do not depend on GOMAXPROCS.
//
// Forming U_b U_b^T costs B^2 m flops per block (B(B+1)/2 entries, m
// multiply-adds each) and inverting once at the end 2 B^3 / 3; applying
// the same terms by Woodbury updates of each block's inverse, as
// InverseBlocked does for a dense matrix, costs 3 B^2 m (twice the
// products plus the update). Forming is the cheaper whenever m > B/3 terms
// go into a block, which holds for every useful curvature (GGN has K terms
// per pattern), so Woodbury is not offered for blocks.
func (a *BlockAccumulator) Add(u *mat.Dense) {
	r := u.RawMatrix()
	if r.Rows != a.starts[len(a.starts)-1] {
		panic(fmt.Sprintf("hessian: terms have %d rows, blocks cover %d", r.Rows, a.starts[len(a.starts)-1]))
	}
	if r.Cols == 0 {
		return
	}
	_ = parallel.For(len(a.blocks), 0, nil, nil, func(b int) error {
		addBlock(a.blocks[b], r, a.starts[b], a.starts[b+1])
		return nil
	})
}

// addBlock adds U_b U_b^T to the upper triangle of acc for the rows
// i0..i1-1 of the terms u.
func addBlock(acc *mat.SymDense, u blas64.General, i0, i1 int) {
	s := acc.RawSymmetric()
	for i := i0; i < i1; i++ {
		k := i - i0
		ui := blas64.Vector{N: u.Cols, Inc: 1, Data: u.Data[i*u.Stride:]}
		dst := blas64.Vector{N: i1 - i, Inc: 1, Data: s.Data[k*s.Stride+k:]}
		blas64.Gemv(blas.NoTrans, 1, rows(u, i, i1, 0), ui, 1, dst)
	}
}

// addRows is Add for the terms as the rows of ut (m x nf). The blocks are
// taken in groups of consecutive blocks of at least groupRows rows, one
// group a task on GOMAXPROCS goroutines. A group's columns of ut are first
// transposed into a W x m scratch (W the group's rows: W m copies against
// B W m flops) so that the products are addBlock's matrix-vector calls on
// contiguous rows, which run about twice as fast as transposed calls on
// ut's strided columns; a group, rather than one block, is transposed so
// that ut is read in runs of at least 4 KiB (ut, 32 MB in
// BenchmarkBlockBuild and 270 MB for LeNet-300-100, is read from memory,
// and for blocks of 32 the transpose is a fifth of the time).
func (a *BlockAccumulator) addRows(ut blas64.General) {
	if ut.Rows == 0 {
		return
	}
	m := ut.Rows
	groups := a.groups()
	_ = parallel.For(len(groups)-1, 0, nil, nil, func(g int) error {
		b0, b1 := groups[g], groups[g+1]
		i0, i1 := a.starts[b0], a.starts[b1]
		W := i1 - i0
		sp := scratchPool.Get().(*[]float64)
		if cap(*sp) < W*m {
			*sp = make([]float64, W*m)
		}
		u := blas64.General{Rows: W, Cols: m, Stride: m, Data: (*sp)[:W*m]}
		transposeCols(u.Data, ut, i0, i1)
		for b := b0; b < b1; b++ {
			addBlock(a.blocks[b], u, a.starts[b]-i0, a.starts[b+1]-i0)
		}
		scratchPool.Put(sp)
		return nil
	})
}

// groupRows is the least number of rows of the groups of consecutive
// blocks that addRows transposes and multiplies as one task.
const groupRows = 512

// groups returns the first blocks of runs of consecutive blocks of at least
// groupRows rows each (the last may be shorter), followed by the number of
// blocks.
func (a *BlockAccumulator) groups() []int {
	g := []int{0}
	for b := 1; b < len(a.blocks); b++ {
		if a.starts[b]-a.starts[g[len(g)-1]] >= groupRows {
			g = append(g, b)
		}
	}
	return append(g, len(a.blocks))
}

// transposeCols sets u, B x m with B = i1-i0 and m = ut.Rows, to the
// transpose of the columns i0..i1-1 of ut. Eight rows of ut are read at a
// time so that each row of u gets a whole cache line of 8 floats per
// write burst rather than one float in a strided pass.
func transposeCols(u []float64, ut blas64.General, i0, i1 int) {
	m, B := ut.Rows, i1-i0
	k := 0
	for ; k+8 <= m; k += 8 {
		r0 := ut.Data[k*ut.Stride+i0 : k*ut.Stride+i1]
		r1 := ut.Data[(k+1)*ut.Stride+i0 : (k+1)*ut.Stride+i1][:B]
		r2 := ut.Data[(k+2)*ut.Stride+i0 : (k+2)*ut.Stride+i1][:B]
		r3 := ut.Data[(k+3)*ut.Stride+i0 : (k+3)*ut.Stride+i1][:B]
		r4 := ut.Data[(k+4)*ut.Stride+i0 : (k+4)*ut.Stride+i1][:B]
		r5 := ut.Data[(k+5)*ut.Stride+i0 : (k+5)*ut.Stride+i1][:B]
		r6 := ut.Data[(k+6)*ut.Stride+i0 : (k+6)*ut.Stride+i1][:B]
		r7 := ut.Data[(k+7)*ut.Stride+i0 : (k+7)*ut.Stride+i1][:B]
		for i, v := range r0 {
			d := u[i*m+k : i*m+k+8 : i*m+k+8]
			d[0], d[1], d[2], d[3] = v, r1[i], r2[i], r3[i]
			d[4], d[5], d[6], d[7] = r4[i], r5[i], r6[i], r7[i]
		}
	}
	for ; k < m; k++ {
		for i, v := range ut.Data[k*ut.Stride+i0 : k*ut.Stride+i1] {
			u[i*m+k] = v
		}
	}
}

// scratchPool holds the transposed-block scratch of addRows.
var scratchPool = sync.Pool{New: func() any { return new([]float64) }}

// termRows calls fn with successive chunks of c's terms as the rows of an
// m x nf matrix, m the terms of up to patterns patterns, in Terms' order.
// The patterns of a chunk are shared out to GOMAXPROCS goroutines with a
// generator each (their terms do not depend on one another), except for
// MCFisher, whose targets are drawn in pattern order by one generator so
// that they are the samples Terms gives. Each pattern's terms are rows of
// the generator, written in place, so no strided writes are made. The matrix is
// reused between calls of fn.
func termRows(c *rankOne, patterns int, fn func(ut blas64.General)) {
	P, K, nf := len(c.X), c.perPattern, len(c.free)
	patterns = max(1, min(patterns, P))
	buf := make([]float64, patterns*K*nf)
	workers := runtime.GOMAXPROCS(0)
	if c.kind == MCFisher {
		workers = 1
	}
	workers = min(workers, patterns)
	gens := make([]*generator, workers)
	for w := range gens {
		gens[w] = c.newGenerator()
	}
	var wg sync.WaitGroup
	for p0 := 0; p0 < P; p0 += patterns {
		p1 := min(p0+patterns, P)
		for w, g := range gens {
			lo, hi := p0+(p1-p0)*w/workers, p0+(p1-p0)*(w+1)/workers
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := lo; p < hi; p++ {
					g.patternTo(buf[(p-p0)*K*nf:(p-p0+1)*K*nf], p)
				}
			}()
		}
		wg.Wait()
		fn(blas64.General{Rows: (p1 - p0) * K, Cols: nf, Stride: nf, Data: buf})
	}
}

// Blocks returns the accumulated blocks (upper triangles), owned by the
// accumulator.
func (a *BlockAccumulator) Blocks() []*mat.SymDense { return a.blocks }

// termChunk is the number of terms per chunk of InverseBlocks: the terms
// matrix is nf x termChunk floats.
const termChunk = 128

// InverseBlocks returns the inverses (C_bb + alpha I)^-1 of the diagonal
// blocks C_bb of the curvature c, the blocks of rows starts[b]..
// starts[b+1]-1 (see BlockStarts): the inverse of the block-diagonal part
// of C + alpha I (WoodFisher's structure, Singh & Alistarh, "WoodFisher:
// Efficient second-order approximation for neural network compression",
// NeurIPS 2020). No nf x nf matrix is formed; the memory is the blocks,
// sum_b B_b^2 floats, plus (RankOne) one chunk of terms, nf x 128 floats.
//
// A RankOne curvature streams its terms once, in chunks, into every block
// (BlockAccumulator), then each block is scaled by 1/P, gets Decay + alpha
// on its diagonal and is inverted by Cholesky; fix is not used. The exact
// Hessian is formed block by block from exact Hessian-vector products
// (model.MLP.HessianBlocks: nf R-operator passes per pattern, the time of
// the dense exact Hessian, O(P nf n), but memory O(sum_b B_b^2)), and each
// block is inverted with fix as InverseIndefinite does; the report merges
// the blocks' (extreme eigenvalues, counts summed, the largest shift and
// condition).
//
// alpha must be finite and > 0. The error wraps ErrNotPositiveDefinite and
// names the block when one cannot be inverted.
func InverseBlocks(c Curvature, starts []int, alpha float64, fix Fix) ([]*mat.SymDense, FixReport, error) {
	rep := FixReport{Fix: fix.String(), Alpha: alpha, MinEigen: math.Inf(1), MaxEigen: math.Inf(-1)}
	if err := checkAlpha(alpha); err != nil {
		return nil, rep, err
	}
	checkStarts(starts, c.Dim())
	nb := len(starts) - 1
	var blocks []*mat.SymDense
	switch c := c.(type) {
	case RankOne:
		if r, ok := c.(*rankOne); ok && r.perPattern > 1 {
			// Several terms per pattern (GGN, MCFisher with S > 1)
			// collapse into one weight per pair of rows; with one
			// term the terms are as cheap.
			blocks, _ = linearBlocks(r, starts)
		}
		if blocks == nil {
			acc := NewBlockAccumulator(starts)
			if r, ok := c.(*rankOne); ok {
				termRows(r, max(1, termChunk/r.perPattern), acc.addRows)
			} else {
				c.Terms(termChunk, acc.Add)
			}
			blocks = acc.blocks
		}
		invP := 1 / float64(c.Norm())
		d := c.Decay() + alpha
		err := parallel.For(nb, blockInverseWorkers, nil, nil, func(b int) error {
			a := blocks[b]
			s := a.RawSymmetric()
			for i := 0; i < s.N; i++ {
				row := s.Data[i*s.Stride+i : i*s.Stride+s.N]
				for j := range row {
					row[j] *= invP
				}
				row[0] += d
			}
			return choleskyInverse(a, a, fmt.Sprintf("block %d (rows %d..%d) of C + alpha I", b, starts[b], starts[b+1]-1), alpha, c.Decay(), false)
		})
		return blocks, FixReport{}, err
	case *exact:
		blocks = make([]*mat.SymDense, nb)
		idx := make([][]int, nb)
		for b := range blocks {
			blocks[b] = &mat.SymDense{}
			idx[b] = c.free[starts[b]:starts[b+1]]
		}
		c.net.HessianBlocks(c.net.NewWorkspace(), blocks, idx, c.X, c.T)
		if d := c.extraDecay(); d != 0 {
			for _, a := range blocks {
				addDiag(a, d)
			}
		}
		reps := make([]FixReport, nb)
		err := parallel.For(nb, 0, nil, nil, func(b int) error {
			a := blocks[b]
			dst := mat.NewSymDense(a.SymmetricDim(), nil)
			r, err := invertIndefinite(dst, a, alpha, fix, Exact, c.Decay(), FixReport{Fix: fix.String(), Alpha: alpha})
			reps[b] = r
			blocks[b] = dst
			if err != nil {
				return fmt.Errorf("block %d (rows %d..%d): %w", b, starts[b], starts[b+1]-1, err)
			}
			return nil
		})
		for _, r := range reps {
			rep.MinEigen, rep.MaxEigen = math.Min(rep.MinEigen, r.MinEigen), math.Max(rep.MaxEigen, r.MaxEigen)
			rep.Negative += r.Negative
			rep.Clipped += r.Clipped
			rep.Shift = math.Max(rep.Shift, r.Shift)
			rep.Condition = math.Max(rep.Condition, r.Condition)
		}
		return blocks, rep, err
	default:
		return nil, rep, fmt.Errorf("hessian: no block inverse for curvature %v of type %T", c.Kind(), c)
	}
}

// InverseDiagonal writes into dst (length nf) the inverse of the diagonal
// of C + alpha I, 1/(C_qq + alpha): the structure of Optimal Brain Damage
// (LeCun, Denker & Solla 1990), with blocks of one parameter. For the
// exact Hessian, whose diagonal can be negative, each C_qq is treated as
// an eigenvalue and fixed as InverseIndefinite does (FixNone fails on one
// C_qq + alpha <= 0; FixPinv writes 0 for |C_qq| <= alpha); its diagonal
// comes from nf exact Hessian-vector products per pattern, never from an
// nf x nf matrix. A RankOne diagonal is one pass over the terms.
func InverseDiagonal(dst []float64, c Curvature, alpha float64, fix Fix) (FixReport, error) {
	rep := FixReport{Fix: fix.String(), Alpha: alpha}
	if err := checkAlpha(alpha); err != nil {
		return rep, err
	}
	if len(dst) != c.Dim() {
		panic(fmt.Sprintf("hessian: diagonal has length %d, want %d", len(dst), c.Dim()))
	}
	switch ex := c.(type) {
	case RankOne:
		c.Diag(dst)
		for i, v := range dst {
			dst[i] = 1 / (v + alpha)
		}
		return rep, nil
	case *exact:
		blocks := make([]*mat.SymDense, len(ex.free))
		idx := make([][]int, len(ex.free))
		for i, q := range ex.free {
			blocks[i] = mat.NewSymDense(1, nil)
			idx[i] = []int{q}
		}
		ex.net.HessianBlocks(ex.net.NewWorkspace(), blocks, idx, ex.X, ex.T)
		d := ex.extraDecay()
		for i := range dst {
			dst[i] = blocks[i].At(0, 0) + d
		}
	default:
		return rep, fmt.Errorf("hessian: no diagonal inverse for curvature %v of type %T", c.Kind(), c)
	}
	rep.MinEigen, rep.MaxEigen = math.Inf(1), math.Inf(-1)
	for _, v := range dst {
		rep.MinEigen, rep.MaxEigen = math.Min(rep.MinEigen, v), math.Max(rep.MaxEigen, v)
		if v < 0 {
			rep.Negative++
		}
	}
	if fix == FixNone {
		rep.Condition = (rep.MaxEigen + alpha) / (rep.MinEigen + alpha)
		for i, v := range dst {
			if !(v+alpha > 0) {
				return rep, notPD(fmt.Sprintf("diagonal entry %d of C + alpha I is %g", i, v+alpha), alpha, c.Decay(), true)
			}
			dst[i] = 1 / (v + alpha)
		}
		return rep, nil
	}
	inv := fixValues(dst, alpha, fix, &rep)
	copy(dst, inv)
	return rep, nil
}
