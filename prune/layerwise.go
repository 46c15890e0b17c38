package prune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/model"
)

// Layer-wise OBS (Dong, Chen & Pan, "Learning to prune deep neural networks
// via layer-wise Optimal Brain Surgeon", NIPS 2017; Frantar & Alistarh,
// "Optimal Brain Compression", NeurIPS 2022, whose ExactOBS algorithm this
// follows) prunes each layer to keep its output on calibration data, not
// the network's loss:
//
// For layer l with weights W (d_out x d_in) and bias b, write each row as
// w = [W_j, b_j] and the calibration inputs of the layer as
// x~_p = [a_{l-1,p}; 1], p = 1..N (activations of the network as given,
// before any of its layers is pruned). The loss approximated is the
// layer's reconstruction error
//
//	E_l(W') = (1/N) sum_p ||W~' x~_p - W~ x~_p||^2 = sum_j (w'_j - w_j) H (w'_j - w_j)^T / 2,
//	H = (2/N) X~ X~^T + lambda I,  lambda = Damp * mean(diag((2/N) X~ X~^T)),
//
// exactly quadratic, with one Hessian H of size d_in+1 shared by every row
// (the damping lambda adds lambda/2 ||w' - w||^2 to E_l and makes H
// invertible when inputs are constant or collinear, as MNIST's border
// pixels are). Row by row, OBS is then exact: delete the weight q with the
// least increase w_q^2 / (2 [H_R^-1]_qq) over the row's remaining set R,
// update the rest by dw = -(w_q/[H_R^-1]_qq) H_R^-1 e_q, and downdate
// H_R^-1 by removing q (H_R^-1 - H_R^-1 e_q e_q^T H_R^-1 / [H_R^-1]_qq is
// the inverse of H restricted to R \ {q}). Biases are kept (never
// deleted) but take part in the compensation.
//
// Each row is pruned all the way (every weight, in OBS order), recording
// each step's increase; the sparsity target then picks how many leading
// steps of each row to keep: the smallest increases first, with the
// increases of a row made non-decreasing (running maximum) so that a row's
// choice is always a prefix of its path. The per-layer allocation does
// this within each layer; the global allocation across all layers, with
// each layer's increases divided by the layer's output energy
// (1/N) sum_p ||W~ x~_p||^2 so that layers of different scale compare by
// relative error. Finally each row's weights are the exact least-squares
// solution on its kept set (what the sequence of OBS updates gives,
// computed directly by one Cholesky solve).
//
// Note the contrast with the other methods of this package: OBS and OBD
// approximate the increase of the network's training error E (the chosen
// curvature is its Hessian or an approximation of it), magnitude pruning
// approximates nothing; layer-wise OBS minimises each layer's output error
// on the calibration data exactly and says nothing directly about E.

// DefaultLayerDamp is LayerwiseSettings.Damp's default: 1% of the mean
// diagonal, OBC's choice (Frantar & Alistarh 2022, section 5).
const DefaultLayerDamp = 0.01

// Allocation says how a sparsity target is spread over layers.
type Allocation int

const (
	// PerLayer prunes the same fraction of every layer's weights.
	PerLayer Allocation = iota
	// Global prunes the given fraction of all weights, choosing across
	// layers by relative reconstruction error.
	Global
)

func (a Allocation) String() string {
	if a == Global {
		return "global"
	}
	return "per-layer"
}

// ParseAllocation returns the allocation named "global" or "per-layer".
func ParseAllocation(s string) (Allocation, error) {
	switch s {
	case "per-layer", "layer":
		return PerLayer, nil
	case "global":
		return Global, nil
	}
	return 0, fmt.Errorf("prune: unknown sparsity allocation %q (want global or per-layer)", s)
}

// LayerwiseSettings configures LayerwiseOBS.
type LayerwiseSettings struct {
	// Damp is the relative damping lambda / mean(diag H); if zero,
	// DefaultLayerDamp. It must be a finite number >= 0.
	Damp float64
	// NoDamp adds no damping (H must then be positive definite); Damp
	// must then be zero.
	NoDamp bool
	// Allocation spreads the sparsity target: PerLayer (zero value) or
	// Global.
	Allocation Allocation
	// LayerTargets, if not nil, gives LayerwiseOBS one sparsity target per
	// weight layer (LayerPaths.ApplyLayers) instead of its sparsity
	// argument, which must then be 0, with the PerLayer allocation.
	LayerTargets []float64
	// Progress, if not nil, is called after each row's path (serialised).
	Progress func(done, total int)
	// Stop, if not nil, is polled before each row; when it returns true
	// LayerwiseOBS returns parallel.ErrStopped.
	Stop func() bool
	// N and M, if M > 0, make every row's path N:M (NewLayerPaths): the
	// greedy OBS path chooses only among the weights of the blocks of M
	// consecutive inputs (NMBlocks) that still have fewer than N zeros,
	// and ends when every block has N, as OBC prunes to N:M (Frantar &
	// Alistarh 2022, section 5). Prune with LayerOBSPruner and Granularity
	// ByNM takes every row's whole path.
	N, M int
}

// LayerPaths holds every row's OBS path: which weight goes at each step
// and the increase of E_l it causes. Computing it is the expensive part;
// Apply then prunes to any sparsity.
type LayerPaths struct {
	m      *model.MLP  // a copy of the network as given
	x      [][]float64 // the calibration inputs (not copied)
	damp   float64
	hess   []*mat.SymDense // per layer (index l-1): damped H
	energy []float64       // per layer: (1/N) sum ||W~ x~||^2
	// order[l-1][j] lists row j's weight indices (0..d_in-1) in deletion
	// order; delta[l-1][j] the increase of each step; fixed[l-1][j] the
	// number of leading steps that delete weights pruned before.
	order [][][]int
	delta [][][]float64
	fixed [][]int
	// nm: the paths are N:M (LayerwiseSettings.M); the weights on no path
	// are never deleted.
	nm bool
}

// LayerwiseResult reports LayerwiseOBS.
type LayerwiseResult struct {
	// Sparsity is the fraction of weights (biases excluded) pruned in
	// the result, per layer in LayerSparsity.
	Sparsity      float64
	LayerSparsity []float64
	// LayerError is each layer's predicted increase of E_l (sum over rows
	// of the path increases taken; exact for the recorded path), and
	// LayerEnergy the layer's output energy it can be compared to.
	LayerError, LayerEnergy []float64
	// Damp is the relative damping used.
	Damp float64
}

// layerDamp resolves the relative damping of the layer-wise Hessians:
// zero is DefaultLayerDamp and none is 0.
func layerDamp(damp float64, none bool) (float64, error) {
	switch {
	case !(damp >= 0) || math.IsInf(damp, 0):
		return 0, fmt.Errorf("prune: layer-wise damping %v must be a finite number >= 0 (0: DefaultLayerDamp; NoDamp for none)", damp)
	case none && damp != 0:
		return 0, fmt.Errorf("prune: layer-wise damping %v with NoDamp", damp)
	case none:
		return 0, nil
	case damp == 0:
		return DefaultLayerDamp, nil
	}
	return damp, nil
}

// NewLayerPaths computes the OBS path of every row of every layer of m for
// the calibration inputs X (N rows). Weights already pruned in m are
// deleted first (at no recorded cost) and stay deleted.
func NewLayerPaths(m *model.MLP, X [][]float64, s *LayerwiseSettings) (*LayerPaths, error) {
	var set LayerwiseSettings
	if s != nil {
		set = *s
	}
	damp, err := layerDamp(set.Damp, set.NoDamp)
	if err != nil {
		return nil, err
	}
	if len(X) == 0 {
		return nil, errors.New("prune: layer-wise OBS needs calibration patterns")
	}
	for l := 1; l <= m.NumLayers(); l++ {
		if _, _, bias := m.LayerShape(l); !bias {
			return nil, fmt.Errorf("prune: layer-wise OBS needs a bias in every layer; %s has none", m.LayerName(l))
		}
	}
	T := make([][]float64, len(X))
	zero := make([]float64, m.NumOutputs())
	for p := range T {
		T[p] = zero
	}
	if err := m.CheckData(X, T); err != nil {
		return nil, err
	}
	if set.M > 0 && !(set.N >= 1 && set.N < set.M) {
		return nil, fmt.Errorf("prune: N:M %d:%d needs 1 <= N < M", set.N, set.M)
	}
	L := m.NumLayers()
	lp := &LayerPaths{m: m.Clone(), x: X, damp: damp, hess: make([]*mat.SymDense, L), energy: make([]float64, L),
		order: make([][][]int, L), delta: make([][][]float64, L), fixed: make([][]int, L), nm: set.M > 0}
	inputs := layerRowInputs(m, X)
	type job struct{ l, j int }
	var jobs []job
	hinv := make([]*mat.SymDense, L)
	for l := 1; l <= L; l++ {
		h, e, err := layerHessian(m, l, inputs[l-1], damp)
		if err != nil {
			return nil, err
		}
		lp.hess[l-1], lp.energy[l-1] = h, e
		var chol mat.Cholesky
		if !chol.Factorize(h) {
			return nil, fmt.Errorf("prune: layer %d: the damped input Hessian 2XX^T/N + lambda I is not positive definite (damping %g); use a positive damping", l, damp)
		}
		hinv[l-1] = mat.NewSymDense(h.SymmetricDim(), nil)
		if err := chol.InverseTo(hinv[l-1]); err != nil {
			return nil, fmt.Errorf("prune: layer %d: inverting the input Hessian: %v", l, err)
		}
		rows, _, _ := m.LayerShape(l)
		lp.order[l-1] = make([][]int, rows)
		lp.delta[l-1] = make([][]float64, rows)
		lp.fixed[l-1] = make([]int, rows)
		for j := range rows {
			jobs = append(jobs, job{l, j})
		}
	}
	err = parallel.For(len(jobs), 0, set.Stop, set.Progress, func(i int) error {
		l, j := jobs[i].l, jobs[i].j
		_, cols, _ := m.LayerShape(l)
		d := cols + 1
		w := make([]float64, d)
		fixed := make([]bool, d)
		for k := range d - 1 {
			q := m.Index(l, j, k)
			w[k] = m.Params[q]
			fixed[k] = m.Pruned[q]
			if fixed[k] {
				lp.fixed[l-1][j]++
			}
		}
		w[d-1] = m.Params[m.Index(l, j, d-1)]
		var order []int
		var delta []float64
		var err error
		if set.M > 0 {
			order, delta, err = obsRowPathNM(lp.hess[l-1], hinv[l-1], w, fixed, set.N, set.M)
		} else {
			order, delta, err = obsRowPath(lp.hess[l-1], hinv[l-1], w, fixed, d-1)
		}
		if err != nil {
			return fmt.Errorf("prune: layer %d row %d: %v", l, j, err)
		}
		lp.order[l-1][j], lp.delta[l-1][j] = order, delta
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lp, nil
}

// layerRowInputs returns, for each weight layer l = 1..L, the inputs its
// rows see for the patterns X: a Linear's input activations (N x d_in),
// or a Conv2d's input patches, the im2col rows (N*S x Channels*Kernel^2,
// S output positions per pattern), as OBC does for convolutions (Frantar
// & Alistarh, "Optimal Brain Compression", NeurIPS 2022, section 5): a
// conv's row (an output channel) is a linear map applied at every
// position, so its layer-wise Hessian is 2 X X^T / (N S) over the patches.
func layerRowInputs(m *model.MLP, X [][]float64) []*mat.Dense {
	inputs := m.LayerInputs(X)
	for l := 1; l <= m.NumLayers(); l++ {
		if c, ok := m.WeightLayer(l).(model.Conv2d); ok {
			inputs[l-1] = c.Patches(inputs[l-1])
		}
	}
	return inputs
}

// layerHessian returns H = (2/N) X~ X~^T + lambda I for layer l's inputs A
// (N x d_in, row-major) and the layer's output energy.
func layerHessian(m *model.MLP, l int, A *mat.Dense, damp float64) (*mat.SymDense, float64, error) {
	N, din := A.Dims()
	aug := mat.NewDense(N, din+1, nil)
	aug.Slice(0, N, 0, din).(*mat.Dense).Copy(A)
	for p := range N {
		aug.Set(p, din, 1)
	}
	h := mat.NewSymDense(din+1, nil)
	h.SymOuterK(2/float64(N), aug.T())
	mean := 0.0
	for i := range din + 1 {
		mean += h.At(i, i)
	}
	mean /= float64(din + 1)
	lambda := damp * mean
	for i := range din + 1 {
		h.SetSym(i, i, h.At(i, i)+lambda)
	}
	// Output energy (1/N) sum_p ||W~ x~_p||^2.
	rows, _, _ := m.LayerShape(l)
	wt := mat.NewDense(rows, din+1, nil)
	for j := range rows {
		for k := range din + 1 {
			wt.Set(j, k, m.Params[m.Index(l, j, k)])
		}
	}
	var out mat.Dense
	out.Mul(aug, wt.T())
	e := mat.Norm(&out, 2)
	return h, e * e / float64(N), nil
}

// obsRowPath prunes one row w (length d) by OBS with Hessian h and its
// inverse hinv (d x d, not modified) until steps weights are gone, never
// deleting index d-1 (the bias). Entries marked fixed (pruned before, so
// w is 0 there and deleting them changes nothing) come first at zero
// increase, and the path starts from the inverse of h restricted to the
// others, computed directly by Cholesky. It returns the deleted indices in
// order and each step's increase w_q^2 / (2 [H_R^-1]_qq). The work is on a
// compacted copy: a deleted index is swapped to the end of the active
// block, so step k costs O((d-k)^2).
func obsRowPath(h, hinv *mat.SymDense, w []float64, fixed []bool, steps int) ([]int, []float64, error) {
	return obsRowPathAllowed(h, hinv, w, fixed, steps, nil)
}

// obsRowPathNM is obsRowPath under the N:M cap: only the weights of the
// row's blocks of m consecutive inputs (the last (d-1)%m inputs and the
// bias are in none) are candidates, a block leaves the candidates once it
// has n zeros (fixed entries count), and the path ends when every block
// has n.
func obsRowPathNM(h, hinv *mat.SymDense, w []float64, fixed []bool, n, m int) ([]int, []float64, error) {
	d := len(w)
	blocks := (d - 1) / m
	zeros := make([]int, blocks)
	steps := 0
	for b := range blocks {
		for i := b * m; i < (b+1)*m; i++ {
			if fixed[i] {
				zeros[b]++
				steps++
			}
		}
		steps += max(0, n-zeros[b])
	}
	for i := blocks * m; i < d; i++ {
		if fixed[i] {
			steps++
		}
	}
	allowed := func(i int) bool { return i < blocks*m && zeros[i/m] < n }
	taken := func(i int) {
		if i < blocks*m {
			zeros[i/m]++
		}
	}
	return obsRowPathAllowed(h, hinv, w, fixed, steps, &rowCap{allowed, taken})
}

// rowCap restricts a row's path: allowed says whether an index may be
// deleted next, taken records a deletion.
type rowCap struct {
	allowed func(i int) bool
	taken   func(i int)
}

// obsRowPathAllowed is obsRowPath with an optional cap on the candidates
// (nil: every index but the bias).
func obsRowPathAllowed(h, hinv *mat.SymDense, w []float64, fixed []bool, steps int, cp *rowCap) ([]int, []float64, error) {
	d := len(w)
	var keep, order []int
	var delta []float64
	for i := range d {
		if fixed[i] {
			order = append(order, i)
			delta = append(delta, 0)
		} else {
			keep = append(keep, i)
		}
	}
	src := hinv
	if len(order) > 0 {
		hr := mat.NewSymDense(len(keep), nil)
		for a, i := range keep {
			for b := a; b < len(keep); b++ {
				hr.SetSym(a, b, h.At(i, keep[b]))
			}
		}
		var chol mat.Cholesky
		if !chol.Factorize(hr) {
			return nil, nil, errors.New("reduced input Hessian not positive definite")
		}
		src = mat.NewSymDense(len(keep), nil)
		if err := chol.InverseTo(src); err != nil {
			return nil, nil, err
		}
	}
	n := len(keep)
	a := make([]float64, n*n)
	raw := src.RawSymmetric()
	for i := range n {
		for j := i; j < n; j++ {
			v := raw.Data[i*raw.Stride+j]
			a[i*n+j], a[j*n+i] = v, v
		}
	}
	wp := make([]float64, n)
	perm := make([]int, n) // perm[pos] = original index
	for pos, i := range keep {
		wp[pos], perm[pos] = w[i], i
	}
	col := make([]float64, n)
	d = n // the stride of a from here on
	for len(order) < steps {
		best, bestS := -1, math.Inf(1)
		for pos := range n {
			if perm[pos] == len(w)-1 || (cp != nil && !cp.allowed(perm[pos])) {
				continue
			}
			if s := wp[pos] * wp[pos] / a[pos*d+pos]; s < bestS {
				best, bestS = pos, s
			}
		}
		if best < 0 {
			break
		}
		order = append(order, perm[best])
		delta = append(delta, bestS/2)
		if cp != nil {
			cp.taken(perm[best])
		}
		// Compensation and downdate over the active block.
		c := a[best*d+best]
		copy(col[:n], a[best*d:best*d+n]) // row best = column best (symmetric)
		floats.AddScaled(wp[:n], -wp[best]/c, col[:n])
		wp[best] = 0
		blas64.Ger(-1/c, blas64.Vector{N: n, Inc: 1, Data: col}, blas64.Vector{N: n, Inc: 1, Data: col},
			blas64.General{Rows: n, Cols: n, Stride: d, Data: a})
		// Swap best with the last active position and shrink.
		last := n - 1
		if best != last {
			blas64.Swap(blas64.Vector{N: n, Inc: 1, Data: a[best*d:]}, blas64.Vector{N: n, Inc: 1, Data: a[last*d:]})
			blas64.Swap(blas64.Vector{N: n, Inc: d, Data: a[best:]}, blas64.Vector{N: n, Inc: d, Data: a[last:]})
			wp[best], wp[last] = wp[last], wp[best]
			perm[best], perm[last] = perm[last], perm[best]
		}
		n--
	}
	return order, delta, nil
}

// OBSRow prunes the row w (length d, its last entry a bias that is never
// deleted) by exact sequential OBS with the Hessian h (d x d, positive
// definite): k deletions, each choosing the least increase
// w_q^2/(2[H_R^-1]_qq) over the remaining set R and applying the
// compensating update. It returns the pruned row, the deleted indices in
// order, each step's increase, and the downdated inverse (d x d, zero in
// the rows and columns of deleted indices; on the rest, the inverse of H
// restricted to the remaining set). It is the reference algorithm that
// NewLayerPaths runs on compacted storage, exported for custom loops and
// tests.
func OBSRow(h *mat.SymDense, w []float64, k int) (pruned []float64, order []int, delta []float64, hinvR *mat.SymDense, err error) {
	d := len(w)
	if h.SymmetricDim() != d || k < 0 || k > d-1 {
		return nil, nil, nil, nil, fmt.Errorf("prune: OBSRow: Hessian %d x %d, row of %d, %d deletions (at most %d)", h.SymmetricDim(), h.SymmetricDim(), d, k, d-1)
	}
	var chol mat.Cholesky
	if !chol.Factorize(h) {
		return nil, nil, nil, nil, errors.New("prune: OBSRow: Hessian is not positive definite")
	}
	inv := mat.NewSymDense(d, nil)
	if err := chol.InverseTo(inv); err != nil {
		return nil, nil, nil, nil, err
	}
	wp := slices.Clone(w)
	gone := make([]bool, d)
	col := make([]float64, d)
	for range k {
		best, bestS := -1, math.Inf(1)
		for q := range d - 1 {
			if !gone[q] {
				if s := wp[q] * wp[q] / inv.At(q, q); s < bestS {
					best, bestS = q, s
				}
			}
		}
		c := inv.At(best, best)
		for i := range d {
			col[i] = inv.At(i, best)
		}
		floats.AddScaled(wp, -wp[best]/c, col)
		wp[best] = 0
		inv.SymRankOne(inv, -1/c, mat.NewVecDense(d, col))
		for i := range d { // exact zeros where rounding left ~1e-17
			inv.SetSym(i, best, 0)
		}
		gone[best] = true
		order = append(order, best)
		delta = append(delta, bestS/2)
	}
	return wp, order, delta, inv, nil
}

// Apply returns a copy of the network NewLayerPaths was given, pruned to
// the sparsity target: the fraction of weights (biases excluded) to
// delete, per layer or globally as allocated (weights pruned before stay
// pruned, so the result may be sparser). The steps of smallest increase
// are taken first, a row's increases made non-decreasing (running maximum)
// so that a row's choice is a prefix of its path, ties to the earlier step
// (layer, row, place), the count rounded to the nearest weight; with the
// global allocation each layer's increases are divided by its output
// energy. Each row's kept weights become the damped least-squares solution
// on its kept set. It is Prune with LayerOBSPruner's scorer on these paths.
// Apply can be called for several targets; the paths are not changed.
func (lp *LayerPaths) Apply(sparsity float64, alloc Allocation) (*model.MLP, LayerwiseResult, error) {
	m := lp.m
	if !(sparsity >= 0 && sparsity <= 1) {
		return nil, LayerwiseResult{}, fmt.Errorf("prune: sparsity %v must be in [0, 1]", sparsity)
	}
	out := m.Clone()
	L := m.NumLayers()
	res := LayerwiseResult{LayerSparsity: make([]float64, L), LayerError: make([]float64, L), LayerEnergy: slices.Clone(lp.energy), Damp: lp.damp}
	sc := lp.scorer(alloc == Global)
	if sparsity > 0 {
		zero := make([]float64, m.NumOutputs())
		T := make([][]float64, len(lp.x))
		for p := range T {
			T[p] = zero
		}
		plan := &Plan{Method: prepared{sc}, Target: Target{Sparsity: sparsity}, Round: Nearest, RankOnce: true,
			Candidates: Weights(out), PerLayer: alloc != Global}
		if _, err := Prune(context.Background(), out, lp.x, T, plan); err != nil {
			return nil, res, err
		}
	} else if err := sc.Settle(out); err != nil {
		return nil, res, err
	}
	lp.account(out, &res)
	return out, res, nil
}

// account fills res's per-layer and overall weight sparsity of out and
// each layer's reconstruction error: a row with k weights pruned adds the
// first k errors of its deletion path.
func (lp *LayerPaths) account(out *model.MLP, res *LayerwiseResult) {
	m := lp.m
	total, pruned := 0, 0
	for l := 1; l <= m.NumLayers(); l++ {
		rows, din, _ := m.LayerShape(l)
		gone := 0
		for j := range rows {
			k := 0
			for i := range din {
				if out.Pruned[m.Index(l, j, i)] {
					k++
				}
			}
			for _, v := range lp.delta[l-1][j][:k] {
				res.LayerError[l-1] += v
			}
			gone += k
		}
		res.LayerSparsity[l-1] = float64(gone) / float64(din*rows)
		total += din * rows
		pruned += gone
	}
	res.Sparsity = float64(pruned) / float64(total)
}

// ApplyLayers is Apply with a sparsity target per weight layer
// (targets[l-1] for layer l, each in [0, 1]) instead of one for all: the
// per-layer allocation chooses each layer's deletions within the layer and
// solves its rows on their own, so layer l of the result is layer l of
// Apply(targets[l-1], PerLayer). Dong et al. (2017) prune LeNet-300-100
// this way (7% of the weights kept overall: 5%, 20% and 70% of fc1, fc2
// and fc3).
func (lp *LayerPaths) ApplyLayers(targets []float64) (*model.MLP, LayerwiseResult, error) {
	m := lp.m
	L := m.NumLayers()
	if len(targets) != L {
		return nil, LayerwiseResult{}, fmt.Errorf("prune: %d per-layer sparsity targets for %d weight layers", len(targets), L)
	}
	for l, t := range targets {
		if !(t >= 0 && t <= 1) {
			return nil, LayerwiseResult{}, fmt.Errorf("prune: sparsity %v of layer %d must be in [0, 1]", t, l+1)
		}
	}
	out := m.Clone()
	res := LayerwiseResult{LayerSparsity: make([]float64, L), LayerError: make([]float64, L), LayerEnergy: slices.Clone(lp.energy), Damp: lp.damp}
	runs := map[float64]*model.MLP{}
	for l := 1; l <= L; l++ {
		t := targets[l-1]
		r, ok := runs[t]
		if !ok {
			var err error
			if r, _, err = lp.Apply(t, PerLayer); err != nil {
				return nil, res, err
			}
			runs[t] = r
		}
		rows, din, _ := m.LayerShape(l)
		for j := range rows {
			for i := range din + 1 {
				q := m.Index(l, j, i)
				out.Params[q] = r.Params[q]
				if r.Pruned[q] {
					out.Prune(q)
				}
			}
		}
	}
	lp.account(out, &res)
	return out, res, nil
}

// prepared is a Pruner whose state is already built.
type prepared struct{ sc *lobsScorer }

func (prepared) String() string { return "lobs" }
func (p prepared) Prepare(context.Context, *model.MLP, Calibration) (Scorer, error) {
	return p.sc, nil
}

// solveRow deletes the indices del of row j of layer l in out and sets the
// kept entries to the least-squares solution w'_R = w_R + H_RR^-1 H_RQ w_Q
// (w the row as given to NewLayerPaths), which is what the sequence of OBS
// updates produces.
func (lp *LayerPaths) solveRow(out *model.MLP, l, j int, del []int) error {
	m := lp.m
	h := lp.hess[l-1]
	d := h.SymmetricDim()
	w := make([]float64, d)
	gone := make([]bool, d)
	for k := range d {
		w[k] = m.Params[m.Index(l, j, k)]
	}
	for _, q := range del {
		gone[q] = true
	}
	var R, Q []int
	for k := range d {
		if gone[k] {
			Q = append(Q, k)
		} else {
			R = append(R, k)
		}
	}
	if len(Q) > 0 && len(R) > 0 {
		hrr := mat.NewSymDense(len(R), nil)
		for a, i := range R {
			for b := a; b < len(R); b++ {
				hrr.SetSym(a, b, h.At(i, R[b]))
			}
		}
		rhs := mat.NewVecDense(len(R), nil)
		for a, i := range R {
			s := 0.0
			for _, q := range Q {
				s += h.At(i, q) * w[q]
			}
			rhs.SetVec(a, s)
		}
		var chol mat.Cholesky
		if !chol.Factorize(hrr) {
			return fmt.Errorf("prune: layer %d row %d: reduced input Hessian not positive definite", l, j)
		}
		var x mat.VecDense
		if err := chol.SolveVecTo(&x, rhs); err != nil {
			return fmt.Errorf("prune: layer %d row %d: %v", l, j, err)
		}
		for a, i := range R {
			out.Params[m.Index(l, j, i)] = w[i] + x.AtVec(a)
		}
	}
	for _, q := range Q {
		out.Prune(m.Index(l, j, q))
	}
	return nil
}

// LayerwiseOBS prunes m in place by layer-wise OBS to the given sparsity
// (fraction of weights, biases kept), or to s.LayerTargets per layer, with
// calibration inputs X: NewLayerPaths then Apply (ApplyLayers).
func LayerwiseOBS(m *model.MLP, X [][]float64, sparsity float64, s *LayerwiseSettings) (LayerwiseResult, error) {
	if !(sparsity >= 0 && sparsity <= 1) {
		return LayerwiseResult{}, fmt.Errorf("prune: sparsity %v must be in [0, 1]", sparsity)
	}
	alloc := PerLayer
	var targets []float64
	if s != nil {
		alloc, targets = s.Allocation, s.LayerTargets
	}
	if targets != nil && (sparsity != 0 || alloc != PerLayer) {
		return LayerwiseResult{}, errors.New("prune: per-layer sparsity targets with a sparsity or the global allocation")
	}
	if targets != nil && len(targets) != m.NumLayers() {
		return LayerwiseResult{}, fmt.Errorf("prune: %d per-layer sparsity targets for %d weight layers", len(targets), m.NumLayers())
	}
	lp, err := NewLayerPaths(m, X, s)
	if err != nil {
		return LayerwiseResult{}, err
	}
	var out *model.MLP
	var res LayerwiseResult
	if targets != nil {
		out, res, err = lp.ApplyLayers(targets)
	} else {
		out, res, err = lp.Apply(sparsity, alloc)
	}
	if err != nil {
		return res, err
	}
	copy(m.Params, out.Params)
	copy(m.Pruned, out.Pruned)
	return res, nil
}

// LayerOBSPruner is layer-wise OBS (see NewLayerPaths) as a method value of
// Prune: Prepare computes every row's path at the current weights, the
// saliency of weight q is the running maximum of its row's increases up to
// q's place in the path (divided by the layer's output energy when
// Relative), ties go to the earlier place (layer, row, step), and once a
// stage's deletions are done each touched row is set to the least-squares
// solution on its kept weights. Use it with Candidates: Weights(net)
// (biases are never deleted), RankOnce and Round: Nearest; then Prune to
// sparsity s with PerLayer (Relative false) or globally (Relative true)
// gives, weight for weight, LayerPaths.Apply(s, PerLayer or Global).
type LayerOBSPruner struct {
	// Damp and NoDamp are the relative damping, as LayerwiseSettings'.
	Damp   float64
	NoDamp bool
	// Relative divides each layer's increases by its output energy, so that
	// layers of different scale compare by relative error (the global
	// allocation).
	Relative bool
}

func (LayerOBSPruner) String() string { return "lobs" }

// Prepare computes the paths.
func (p LayerOBSPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	return p.prepare(ctx, net, calib, 0, 0)
}

// prepare computes the paths, N:M ones if m > 0.
func (p LayerOBSPruner) prepare(ctx context.Context, net *model.MLP, calib Calibration, n, m int) (Scorer, error) {
	lp, err := NewLayerPaths(net, calib.X, &LayerwiseSettings{Damp: p.Damp, NoDamp: p.NoDamp, Stop: func() bool { return ctx.Err() != nil }, N: n, M: m})
	if errors.Is(err, parallel.ErrStopped) {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return lp.scorer(p.Relative), nil
}

// scorer returns the scorer of the paths: each weight's key (the running
// maximum of its row's increases, divided by the layer's output energy if
// relative) and its place (layer, row, step) for ties.
func (lp *LayerPaths) scorer(relative bool) *lobsScorer {
	m := lp.m
	s := &lobsScorer{lp: lp, key: make([]float64, len(m.Params)), rank: make([]int, len(m.Params))}
	for q := range s.key {
		s.key[q] = math.NaN()
	}
	r := 0
	for l := 1; l <= m.NumLayers(); l++ {
		scale := 1.0
		if relative && lp.energy[l-1] > 0 {
			scale = 1 / lp.energy[l-1]
		}
		for j, del := range lp.delta[l-1] {
			run := math.Inf(-1)
			for k, v := range del {
				run = math.Max(run, v)
				q := m.Index(l, j, lp.order[l-1][j][k])
				s.key[q], s.rank[q] = run*scale, r
				r++
			}
		}
	}
	if lp.nm {
		for q, k := range s.key {
			if math.IsNaN(k) {
				s.key[q] = math.Inf(1)
			}
		}
	}
	return s
}

// lobsScorer holds the paths, each weight's key and its place.
type lobsScorer struct {
	lp   *LayerPaths
	key  []float64
	rank []int
}

func (s *lobsScorer) Saliency(w []float64, G []int) float64 {
	if len(G) != 1 {
		return math.NaN()
	}
	return s.key[G[0]]
}

func (s *lobsScorer) TieRank(q int) int { return s.rank[q] }

// Step sets nothing but the deleted weights: the rows are solved by Settle.
func (s *lobsScorer) Step([]float64, []int) (Update, error) {
	return Update{Predicted: math.NaN()}, nil
}

func (s *lobsScorer) Remove([]int) ([]int, error) { return nil, nil }

// Settle sets every row that lost weights since the paths were computed to
// the least-squares solution on its kept set.
func (s *lobsScorer) Settle(net *model.MLP) error {
	m := s.lp.m
	for l := 1; l <= m.NumLayers(); l++ {
		rows, din, _ := m.LayerShape(l)
		for j := range rows {
			var del []int
			for k := range din {
				if net.Pruned[m.Index(l, j, k)] {
					del = append(del, k)
				}
			}
			if len(del) > 0 {
				if err := s.lp.solveRow(net, l, j, del); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// layerNMPruner is LayerOBSPruner with N:M paths (Granularity ByNM): every
// row's path is the greedy N:M one, and the plan deletes whole paths.
type layerNMPruner struct {
	LayerOBSPruner
	n, m int
}

func (p layerNMPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	return p.prepare(ctx, net, calib, p.n, p.m)
}
