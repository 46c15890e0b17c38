package prune

import (
	"fmt"
	"sort"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Blocks is the block-diagonal structure of WoodFisher (Singh & Alistarh,
// "WoodFisher: Efficient second-order approximation for neural network
// compression", NeurIPS 2020): contiguous blocks of Size free parameters
// (in the order of the parameter vector; the last block may be shorter),
// each with its own inverse (hessian.InverseBlocks). Memory nf Size floats;
// one OBS step and downdate cost Size^2 flops. Blocks{Size: 1} is the
// diagonal (as Diagonal) and a Size of at least nf is Dense. Its name is
// "block:Size".
type Blocks struct{ Size int }

func init() {
	structureParsers["block"] = func(arg string) (Structure, error) {
		b, err := strconv.Atoi(arg)
		if err != nil || b < 1 {
			return nil, fmt.Errorf("prune: structure block:B needs a block size B >= 1, got %q", "block:"+arg)
		}
		return Blocks{Size: b}, nil
	}
}

func (s Blocks) String() string { return "block:" + strconv.Itoa(s.Size) }

// Inverse builds the block inverses.
func (s Blocks) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	if s.Size < 1 {
		return nil, nil, fmt.Errorf("prune: block size %d must be >= 1", s.Size)
	}
	return blockInverse(net, curv, cfg, hessian.BlockStarts(curv.Dim(), s.Size))
}

// blockInverse builds the inverses of the blocks with the given starts.
func blockInverse(net *model.MLP, curv hessian.Curvature, cfg *Config, starts []int) (InverseCurvature, *hessian.FixReport, error) {
	blocks, rep, err := hessian.InverseBlocks(curv, starts, cfg.alpha(), cfg.Fix)
	var fix *hessian.FixReport
	if curv.Kind() == hessian.Exact {
		fix = &rep
	}
	if err != nil {
		return nil, fix, err
	}
	return NewBlockInverse(blocks, starts, curv.Free(), len(net.Params)), fix, nil
}

// BlockInverse is an InverseCurvature held as the inverses of the diagonal
// blocks of C + alpha I.
type BlockInverse struct {
	free    []int
	pos     []int   // pos[q] is q's row, -1 if not covered
	starts  []int   // block b holds rows starts[b]..starts[b+1]-1
	blockOf []int32 // block of each row
	inv     []*mat.SymDense
	x       []float64 // downdate1's scratch
}

// NewBlockInverse returns the inverse whose block b, inv[b], covers the
// rows starts[b]..starts[b+1]-1, row r being the parameter free[r] of a
// network of n parameters. It keeps inv, which Downdate changes in place.
func NewBlockInverse(inv []*mat.SymDense, starts []int, free []int, n int) *BlockInverse {
	if len(starts) != len(inv)+1 || starts[0] != 0 || starts[len(inv)] != len(free) {
		panic(fmt.Sprintf("prune: %d blocks with %d starts do not cover %d free parameters", len(inv), len(starts), len(free)))
	}
	d := &BlockInverse{free: free, pos: make([]int, n), starts: starts, blockOf: make([]int32, len(free)), inv: inv}
	for q := range d.pos {
		d.pos[q] = -1
	}
	for r, q := range free {
		d.pos[q] = r
	}
	for b := range inv {
		if inv[b].SymmetricDim() != starts[b+1]-starts[b] {
			panic(fmt.Sprintf("prune: block %d has size %d, want %d", b, inv[b].SymmetricDim(), starts[b+1]-starts[b]))
		}
		for r := starts[b]; r < starts[b+1]; r++ {
			d.blockOf[r] = int32(b)
		}
	}
	return d
}

// NumBlocks returns the number of blocks.
func (d *BlockInverse) NumBlocks() int { return len(d.inv) }

// locate returns q's block and its row within the block.
func (d *BlockInverse) locate(q int) (b, i int) {
	if q < 0 || q >= len(d.pos) || d.pos[q] < 0 {
		panic(fmt.Sprintf("prune: parameter %d is not covered by the inverse", q))
	}
	r := d.pos[q]
	b = int(d.blockOf[r])
	return b, r - d.starts[b]
}

// Free returns the parameters of the rows.
func (d *BlockInverse) Free() []int { return d.free }

// Diag returns [C^-1]_qq.
func (d *BlockInverse) Diag(q int) float64 {
	b, i := d.locate(q)
	return d.inv[b].At(i, i)
}

// Block writes [C^-1]_QQ into dst; entries between blocks are 0.
func (d *BlockInverse) Block(dst *mat.SymDense, Q []int) {
	blockDiagonalBlock(dst, Q, d.locate, func(b, i, j int) float64 { return d.inv[b].At(i, j) })
}

// blocksOf returns the distinct blocks of Q in increasing order.
func (d *BlockInverse) blocksOf(Q []int) []int { return distinctBlocks(Q, d.locate) }

// blockDiagonalBlock writes [C^-1]_QQ of a block-diagonal inverse into dst
// (the block structure's and K-FAC's, whose blocks are layers): locate
// gives a parameter's block and its place there, entry an entry of one
// block; entries between blocks are 0.
func blockDiagonalBlock(dst *mat.SymDense, Q []int, locate func(q int) (b, i int), entry func(b, i, j int) float64) {
	sizeSym(dst, len(Q))
	for a, qa := range Q {
		ba, ia := locate(qa)
		for c := a; c < len(Q); c++ {
			v := 0.0
			if bc, ic := locate(Q[c]); bc == ba {
				v = entry(ba, ia, ic)
			}
			dst.SetSym(a, c, v)
		}
	}
}

// distinctBlocks returns the distinct blocks (as locate gives them) of Q
// in increasing order.
func distinctBlocks(Q []int, locate func(q int) (b, i int)) []int {
	var bs []int
	for _, q := range Q {
		b, _ := locate(q)
		bs = append(bs, b)
	}
	sort.Ints(bs)
	out := bs[:0]
	for i, b := range bs {
		if i == 0 || b != bs[i-1] {
			out = append(out, b)
		}
	}
	return out
}

// Columns returns the rows of Q's blocks and C^-1 E_Q on them.
func (d *BlockInverse) Columns(Q []int) ([]int, *mat.Dense) {
	bs := d.blocksOf(Q)
	off := map[int]int{}
	var rows []int
	for _, b := range bs {
		off[b] = len(rows)
		rows = append(rows, d.free[d.starts[b]:d.starts[b+1]]...)
	}
	cols := mat.NewDense(len(rows), len(Q), nil)
	for a, q := range Q {
		b, i := d.locate(q)
		inv := d.inv[b]
		for j := 0; j < inv.SymmetricDim(); j++ {
			cols.Set(off[b]+j, a, inv.At(j, i))
		}
	}
	return rows, cols
}

// Downdate removes Q block by block: the constrained downdate of a
// block-diagonal inverse stays within each block.
func (d *BlockInverse) Downdate(Q []int) error {
	if len(Q) == 1 {
		return d.downdate1(Q[0])
	}
	return d.downdate(Q)
}

// downdate is Downdate through gonum's mat, for any Q.
func (d *BlockInverse) downdate(Q []int) error {
	bs := d.blocksOf(Q)
	type part struct {
		b     int
		local []int
		l     *mat.TriDense
	}
	parts := make([]part, len(bs))
	for k, b := range bs {
		p := part{b: b}
		var sub []int
		for _, q := range Q {
			if qb, i := d.locate(q); qb == b {
				p.local = append(p.local, i)
				sub = append(sub, q)
			}
		}
		s := mat.NewSymDense(len(p.local), nil)
		for x, i := range p.local {
			for y := x; y < len(p.local); y++ {
				s.SetSym(x, y, d.inv[b].At(i, p.local[y]))
			}
		}
		l, err := choleskyL(s, sub)
		if err != nil {
			return fmt.Errorf("block %d: %w", b, err)
		}
		p.l = l
		parts[k] = p
	}
	for _, p := range parts {
		inv := d.inv[p.b]
		B := inv.SymmetricDim()
		cq := mat.NewDense(B, len(p.local), nil)
		for a, i := range p.local {
			for j := 0; j < B; j++ {
				cq.Set(j, a, inv.At(j, i))
			}
		}
		var xt mat.Dense
		if err := xt.Solve(p.l, cq.T()); err != nil {
			return fmt.Errorf("%w: block %d: downdate: %v", hessian.ErrNotPositiveDefinite, p.b, err)
		}
		inv.SymRankK(inv, -1, xt.T())
		for _, i := range p.local {
			for j := 0; j < B; j++ {
				inv.SetSym(i, j, 0)
			}
		}
	}
	for _, q := range Q {
		d.pos[q] = -1
	}
	return nil
}

// groupSolve is blockSolve for a group Q that spans several blocks (a
// hidden unit's 785 weights over blocks of 128): [C^-1]_QQ is then block
// diagonal, and y = ([C^-1]_QQ)^-1 w_Q is solved block by block, each part
// by the Cholesky factor of its own block (sum of k_b^3 instead of |Q|^3).
// done is false, and nothing is computed, if Q lies in one block (the
// general path is then the same computation).
func (d *BlockInverse) groupSolve(w []float64, Q []int) (wq, y *mat.VecDense, done bool, err error) {
	parts := map[int][]int{} // block -> positions in Q
	var order []int
	for a, q := range Q {
		b, _ := d.locate(q)
		if _, ok := parts[b]; !ok {
			order = append(order, b)
		}
		parts[b] = append(parts[b], a)
	}
	if len(order) < 2 {
		return nil, nil, false, nil
	}
	wq = mat.NewVecDense(len(Q), nil)
	y = mat.NewVecDense(len(Q), nil)
	for a, q := range Q {
		wq.SetVec(a, w[q])
	}
	for _, b := range order {
		pos := parts[b]
		s := mat.NewSymDense(len(pos), nil)
		wb := mat.NewVecDense(len(pos), nil)
		for x, a := range pos {
			_, i := d.locate(Q[a])
			wb.SetVec(x, w[Q[a]])
			for z := x; z < len(pos); z++ {
				_, j := d.locate(Q[pos[z]])
				s.SetSym(x, z, d.inv[b].At(i, j))
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(s) {
			return nil, nil, true, fmt.Errorf("%w: [C^-1]_QQ of %d parameters (first %d), block %d; raise alpha", hessian.ErrNotPositiveDefinite, len(Q), Q[0], b)
		}
		var yb mat.VecDense
		if err := chol.SolveVecTo(&yb, wb); err != nil {
			return nil, nil, true, fmt.Errorf("prune: solving with [C^-1]_QQ: %v", err)
		}
		for x, a := range pos {
			y.SetVec(a, yb.AtVec(x))
		}
	}
	return wq, y, true, nil
}
