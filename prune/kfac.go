package prune

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// KFAC is the Kronecker-factored structure (K-FAC: Martens & Grosse,
// ICML 2015; for conv layers KFC, Grosse & Martens, ICML 2016; the kfac
// pruner of WoodFisher, Singh & Alistarh, NeurIPS 2020): one block per
// Linear or Conv2d layer, the inverse of the π-damped
// (G_l + sqrt(γ)/π I) ⊗ (A_l + π sqrt(γ) I), γ = alpha + decay, held as
// its two factors' inverses (hessian.KFAC, hessian.KFACInverse):
//
//	[C^-1]_qq = [G^-1]_jj [A^-1]_ii    for q the weight (or bias, i = Inputs) of row j,
//	C^-1 e_q  = G^-1 e_j ⊗ A^-1 e_i    (the whole layer: an OBS step updates every weight of it).
//
// Row j is a Linear's output j or a conv's output channel j (a filter:
// its Channels*Kernel^2 weights and bias), so a filter group lies in one
// row of one block. It needs the K-FAC curvature, the builder
// KFACFactors (ggn or mcfisher). Memory is the factors, sum_l
// (n_{l-1}+1)^2 + n_l^2 floats (a conv's n_{l-1} its patch, n_l its
// output channels), plus Exact rows of the layer's size per layer,
// never nf B.
//
// After a deletion the exact constrained downdate of a Kronecker inverse
// is no longer a Kronecker product. The first Exact deletions of each
// layer (counted from the build) follow it exactly, kept as a low-rank
// correction C^-1 = G^-1 ⊗ A^-1 - W^T W (one row of W, the layer's size,
// per deletion: O(Exact n_l) memory and work per query); later ones drop
// the deleted parameter's row and column and leave the rest unchanged, as
// the diagonal structure does: the inverse is then that of the K-FAC
// approximation over the layer restricted to the survivors only up to
// those dropped couplings, until the next rebuild (Plan.Rebuild).
// Parameters pruned before the build are dropped the same way. Exact = 0
// (the name "kfac") drops from the first deletion; "kfac:E" sets Exact = E.
//
// An OBS step changes every weight of the deleted parameter's layer, so
// the saliency of every one of them changes too: a run of single
// deletions costs O(n_l) per step (the update and the layer's rescoring),
// O(n^2) in all. On large layers delete in groups (Plan.Group), as
// WoodFisher's one-shot K-FAC pruner removes its weights at once: the
// group's step is OBS's group formula on [C^-1]_QQ.
type KFAC struct{ Exact int }

func init() {
	structureParsers["kfac"] = func(arg string) (Structure, error) {
		if arg == "" {
			return KFAC{}, nil
		}
		e, err := strconv.Atoi(arg)
		if err != nil || e < 0 {
			return nil, fmt.Errorf("prune: structure kfac:E needs a number E >= 0 of exact downdates per layer, got %q", "kfac:"+arg)
		}
		return KFAC{Exact: e}, nil
	}
}

func (s KFAC) String() string {
	if s.Exact == 0 {
		return "kfac"
	}
	return "kfac:" + strconv.Itoa(s.Exact)
}

// Inverse builds the factors' inverses of curv, which must be a
// *hessian.KFAC (KFACFactors).
func (s KFAC) Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error) {
	k, ok := curv.(*hessian.KFAC)
	if !ok {
		return nil, nil, fmt.Errorf("prune: structure kfac needs the K-FAC curvature (builder KFACFactors), not a %T", curv)
	}
	if s.Exact < 0 {
		return nil, nil, fmt.Errorf("prune: kfac's exact downdates %d must be >= 0", s.Exact)
	}
	invs, err := k.Inverses(cfg.alpha())
	if err != nil {
		return nil, nil, err
	}
	return NewKFACInverse(invs, k.Free(), len(net.Params), s.Exact), nil, nil
}

// KFACFactors is the builder of hessian.NewKFAC: the K-FAC factors of kind
// Curvature (hessian.GGN or hessian.MCFisher, with Options) over the
// calibration set, for the structure KFAC.
type KFACFactors struct {
	Curvature hessian.Kind
	Options   *hessian.Options
}

// Kind returns the curvature's kind.
func (b KFACFactors) Kind() hessian.Kind { return b.Curvature }

// Build returns hessian.NewKFAC(ctx, b.Curvature, net, calib.X, calib.T, b.Options).
func (b KFACFactors) Build(ctx context.Context, net *model.MLP, calib Calibration) (hessian.Curvature, error) {
	c, err := hessian.NewKFAC(ctx, b.Curvature, net, calib.X, calib.T, b.Options)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// KFACInverse is an InverseCurvature held as one Kronecker product of
// factor inverses per layer, with a low-rank correction for the exact
// downdates (see KFAC).
type KFACInverse struct {
	free   []int
	block  []int32 // block of each parameter, -1 if in none
	gone   []bool  // not covered: pruned at the build or removed by Downdate
	blocks []kfacBlock
	exact  int
}

// kfacBlock is one layer: C^-1 = G^-1 ⊗ A^-1 - W^T W over its whole
// parameter block (local index t = j*stride + i).
type kfacBlock struct {
	off, stride, nout int
	a, g              []float64   // A^-1 (stride x stride), G^-1 (nout x nout), row-major
	rows              []int       // the layer's parameters free at the build
	w                 [][]float64 // rows of the correction, each nout*stride
}

// NewKFACInverse returns the inverse whose layers are invs, over the free
// parameters free of a network of n parameters, with exact downdates for
// the first exact deletions per layer.
func NewKFACInverse(invs []hessian.KFACInverse, free []int, n, exact int) *KFACInverse {
	v := &KFACInverse{free: free, block: make([]int32, n), gone: make([]bool, n), exact: exact}
	for q := range v.block {
		v.block[q] = -1
		v.gone[q] = true
	}
	for b, iv := range invs {
		L := iv.Layer
		k := kfacBlock{off: L.Offset, stride: L.Stride(), nout: L.Outputs,
			a: symData(iv.AInv), g: symData(iv.GInv)}
		if L.Offset+L.NumParams() > n {
			panic(fmt.Sprintf("prune: K-FAC layer %d ends at %d, past %d parameters", b+1, L.Offset+L.NumParams(), n))
		}
		for q := L.Offset; q < L.Offset+L.NumParams(); q++ {
			v.block[q] = int32(b)
		}
		v.blocks = append(v.blocks, k)
	}
	for _, q := range free {
		if v.block[q] < 0 {
			panic(fmt.Sprintf("prune: free parameter %d is in no K-FAC layer", q))
		}
		v.gone[q] = false
		b := &v.blocks[v.block[q]]
		b.rows = append(b.rows, q)
	}
	return v
}

// symData returns the full row-major copy of s.
func symData(s *mat.SymDense) []float64 {
	n := s.SymmetricDim()
	d := make([]float64, n*n)
	for i := range n {
		for j := range n {
			d[i*n+j] = s.At(i, j)
		}
	}
	return d
}

// locate returns q's block and local index, and panics if q is not
// covered.
func (v *KFACInverse) locate(q int) (b, t int) {
	if q < 0 || q >= len(v.gone) || v.gone[q] {
		panic(fmt.Sprintf("prune: parameter %d is not covered by the inverse", q))
	}
	b = int(v.block[q])
	return b, q - v.blocks[b].off
}

// kron returns [G^-1 ⊗ A^-1]_tu.
func (k *kfacBlock) kron(t, u int) float64 {
	return k.g[(t/k.stride)*k.nout+u/k.stride] * k.a[(t%k.stride)*k.stride+u%k.stride]
}

// entry returns [C^-1]_tu with the correction.
func (k *kfacBlock) entry(t, u int) float64 {
	e := k.kron(t, u)
	for _, w := range k.w {
		e -= w[t] * w[u]
	}
	return e
}

// Free returns the parameters the inverse covered when it was built.
func (v *KFACInverse) Free() []int { return v.free }

// Diag returns [C^-1]_qq.
func (v *KFACInverse) Diag(q int) float64 {
	b, t := v.locate(q)
	return v.blocks[b].entry(t, t)
}

// Block writes [C^-1]_QQ into dst; entries between layers are 0.
func (v *KFACInverse) Block(dst *mat.SymDense, Q []int) {
	blockDiagonalBlock(dst, Q, v.locate, func(b, i, j int) float64 { return v.blocks[b].entry(i, j) })
}

// blocksOf returns the distinct blocks of Q in increasing order.
func (v *KFACInverse) blocksOf(Q []int) []int { return distinctBlocks(Q, v.locate) }

// Columns returns the rows of Q's layers and C^-1 E_Q on them: every
// parameter of the layer, so on large layers OBSStep uses mulColumns
// instead.
func (v *KFACInverse) Columns(Q []int) ([]int, *mat.Dense) {
	var rows []int
	off := map[int]int{}
	for _, b := range v.blocksOf(Q) {
		off[b] = len(rows)
		rows = append(rows, v.blocks[b].rows...)
	}
	cols := mat.NewDense(len(rows), len(Q), nil)
	for a, q := range Q {
		b, t := v.locate(q)
		k := &v.blocks[b]
		for r, p := range k.rows {
			if !v.gone[p] {
				cols.Set(off[b]+r, a, k.entry(p-k.off, t))
			}
		}
	}
	return rows, cols
}

// mulColumns returns the rows of Q's layers and C^-1 E_Q y on them, as
// Columns(Q) times y but without forming the columns: per layer
// G^-1 Y A^-1 - W^T (W E_Q y), Y the n_l x (n_{l-1}+1) matrix holding y
// at Q's places, one product of G^-1's columns at Q's rows with Y A^-1.
func (v *KFACInverse) mulColumns(Q []int, y []float64) ([]int, []float64) {
	var rows []int
	var out []float64
	for _, b := range v.blocksOf(Q) {
		k := &v.blocks[b]
		// The distinct rows j of Q in this layer and T = Y A^-1 on them.
		jat := map[int]int{}
		var js []int
		for _, q := range Q {
			if bq, t := v.locate(q); bq == b {
				if _, ok := jat[t/k.stride]; !ok {
					jat[t/k.stride] = len(js)
					js = append(js, t/k.stride)
				}
			}
		}
		T := blas64.General{Rows: len(js), Cols: k.stride, Stride: k.stride, Data: make([]float64, len(js)*k.stride)}
		G := blas64.General{Rows: k.nout, Cols: len(js), Stride: len(js), Data: make([]float64, k.nout*len(js))}
		for c, j := range js {
			for r := range k.nout {
				G.Data[r*len(js)+c] = k.g[r*k.nout+j]
			}
		}
		corr := make([]float64, len(k.w))
		for a, q := range Q {
			bq, t := v.locate(q)
			if bq != b {
				continue
			}
			row := T.Data[jat[t/k.stride]*k.stride:][:k.stride]
			ai := k.a[(t%k.stride)*k.stride:][:k.stride]
			for i, x := range ai {
				row[i] += y[a] * x
			}
			for r, w := range k.w {
				corr[r] += w[t] * y[a]
			}
		}
		full := blas64.General{Rows: k.nout, Cols: k.stride, Stride: k.stride, Data: make([]float64, k.nout*k.stride)}
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, G, T, 0, full)
		for r, w := range k.w {
			for t := range full.Data {
				full.Data[t] -= corr[r] * w[t]
			}
		}
		for _, p := range k.rows {
			x := 0.0
			if !v.gone[p] {
				x = full.Data[p-k.off]
			}
			rows = append(rows, p)
			out = append(out, x)
		}
	}
	return rows, out
}

// Downdate removes Q: the first Exact deletions of each layer by the exact
// constrained downdate (a row of W each), later ones by dropping their
// rows and columns (see KFAC). It fails, changing nothing, if [C^-1]_QQ
// of a layer that still takes exact downdates is not positive definite
// (dropping rows and columns needs no pivot: what is left of a positive
// definite matrix stays so).
func (v *KFACInverse) Downdate(Q []int) error {
	for _, b := range v.blocksOf(Q) {
		if len(v.blocks[b].w) >= v.exact {
			continue
		}
		var sub []int
		for _, q := range Q {
			if bq, _ := v.locate(q); bq == b {
				sub = append(sub, q)
			}
		}
		var s mat.SymDense
		v.Block(&s, sub)
		if _, err := choleskyL(&s, sub); err != nil {
			return fmt.Errorf("layer block %d: %w", b+1, err)
		}
	}
	for _, q := range Q {
		b, t := v.locate(q)
		k := &v.blocks[b]
		if len(k.w) < v.exact {
			// C^-1 <- C^-1 - C^-1 e_t e_t^T C^-1 / [C^-1]_tt: one more row
			// of W, the downdated column scaled by 1/sqrt of its pivot.
			c := make([]float64, k.nout*k.stride)
			for u := range c {
				c[u] = k.entry(u, t)
			}
			d := c[t]
			if !(d > 0) {
				return fmt.Errorf("%w: kfac: pivot %g of parameter %d in an exact downdate; raise alpha", hessian.ErrNotPositiveDefinite, d, q)
			}
			s := 1 / math.Sqrt(d)
			for u := range c {
				c[u] *= s
			}
			k.w = append(k.w, c)
		}
		v.gone[q] = true
	}
	return nil
}

// Floats returns the float64s the structure holds at its peak for net:
// per weight layer the factors A and G, their damped copies and inverses
// (twice: hessian's and the row-major copies), the rows gathered for the
// factors' rank-k updates, Exact correction rows of the layer's size,
// and for a conv layer one pattern's patches (twice: im2col's and the
// rows) and output-side vectors at every position while the factors are
// built: O(sum_l Stride_l^2 + Outputs_l^2), never the n x n or n x B of
// the other structures.
func (s KFAC) Floats(net *model.MLP) float64 {
	f := 0.0
	for l := 1; l <= net.NumLayers(); l++ {
		rows, cols, bias := net.LayerShape(l)
		if bias {
			cols++
		}
		na, ng := float64(cols), float64(rows)
		f += 5*(na*na+ng*ng) + kfacRows*(na+ng) + float64(s.Exact)*na*ng
		if c, ok := net.WeightLayer(l).(model.Conv2d); ok {
			pos := float64(c.OutHeight() * c.OutWidth())
			f += pos * (2*na + ng)
		}
	}
	return f
}

// kfacRows is hessian's number of rows per rank-k update of a factor.
const kfacRows = 256
