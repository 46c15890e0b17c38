package prune

import (
	"container/heap"
	"fmt"
	"math"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// OneShotResult is the outcome of OneShot.
type OneShotResult struct {
	Method string
	Alpha  float64 // damping used (OBS)
	// Removed lists the parameters deleted, in order.
	Removed []int
	// Predicted is the sum of the predicted increases of E of every step
	// (for OBS the quadratic model's increase along the whole path; NaN for
	// magnitude).
	Predicted  float64
	Start, End Snapshot
	// FixReport says how the exact Hessian was made definite (else nil).
	FixReport *hessian.FixReport
}

// OneShot prunes net in place on the training set X, T (P rows each) to
// the target of cfg (Sparsity or Keep) in one shot: the curvature and its
// inverse are built once at the starting weights and followed by the
// downdate after every deletion, never rebuilt and with no retraining; only
// the start and the end are measured (on X, T and, if cfg.TestX is not nil,
// on cfg.TestX, cfg.TestT). This is the mode of large networks, where
// Run's per-step measurements of the training error would dominate.
//
// OBS deletes, step by step, the parameter (or Config.Group parameters)
// of smallest saliency w_q^2 / (2 [C^-1]_qq) among all blocks, kept in a
// heap, applies its update and downdates the inverse: with a
// block-diagonal Structure a step touches one block, B^2 flops plus the
// heap's log n per changed saliency. OBD, magnitude and OBS with NoUpdate
// delete the parameters of smallest saliency at the start, all at once.
// The loop fields of Config (Recompute, Retrain, MaxError, MinAccuracy,
// MaxPredicted, RemoveDead) must be zero. Progress, if set, is called after
// every deletion with the step's index, parameter, saliency, prediction
// and parameters left (the errors of the step are NaN); Stop is polled
// before every deletion.
//
// Candidates restricts the deletions (Weights: keep the biases), PerLayer
// gives every layer its own heap and count, and Checkpoints report the
// states on the way. A step's choice never depends on the target: the
// target only decides when the loop stops. So with one group (not
// PerLayer) the state at checkpoint s is, bit for bit, the end of a run to
// Sparsity s (TestOneShotCheckpointsEqualSeparateRuns). With PerLayer a run
// through the checkpoints brings every layer to each checkpoint's count
// before going on; that equals a run straight to the checkpoint when no
// block of the inverse spans two layers (Layers, Diagonal; Dense or Blocks
// couple the layers through the blocks that straddle a boundary, whose
// order can then differ).
func OneShot(net *model.MLP, X, T [][]float64, cfg Config) (*OneShotResult, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Recompute != 0 || cfg.Retrain != 0 || cfg.RetrainAbove != 0 || cfg.MaxError != 0 || cfg.MinAccuracy != 0 || cfg.MaxPredicted != 0 || cfg.RemoveDead {
		return nil, fmt.Errorf("prune: one-shot pruning builds once and neither retrains nor checks errors: recompute, retrain, max-error, min-accuracy, max-predicted and remove-dead must be unset")
	}
	if cfg.Sparsity == 0 && cfg.Keep == 0 {
		return nil, fmt.Errorf("prune: one-shot pruning needs a target: a sparsity or a number of parameters to keep")
	}
	if err := net.Check(); err != nil {
		return nil, err
	}
	if err := checkData(net, X, T, &cfg); err != nil {
		return nil, err
	}
	need, groupOf, err := oneShotQuotas(net, &cfg)
	if err != nil {
		return nil, err
	}
	ev := newEvaluator(net, X, T, &cfg)
	n := len(net.Params)
	res := &OneShotResult{Method: cfg.label(), Start: ev.snapshot(), Predicted: math.NaN()}
	if cfg.Method == OBS {
		res.Alpha = cfg.alpha()
	}
	checkpoint := func(stage int) {
		if stage < len(cfg.Checkpoints) && cfg.Checkpoint != nil {
			cfg.Checkpoint(stage)
		}
	}
	last := need[len(need)-1]
	todo := 0
	for _, k := range last {
		todo += k
	}
	if todo <= 0 {
		for stage := range need {
			checkpoint(stage)
		}
		res.End = res.Start
		return res, nil
	}
	st, err := build(net, X, T, &cfg)
	if err != nil {
		return nil, err
	}
	res.FixReport = st.fix
	sal := make([]float64, n)
	saliencies(sal, net, st, &cfg)
	// One heap per group of candidates (one group, or one per layer with
	// PerLayer): a step takes the smallest saliency among the groups
	// still short of the stage's count.
	heaps := make([]*salHeap, len(last))
	for g := range heaps {
		heaps[g] = newSalHeapOf(sal, groupOf, g)
	}
	update := cfg.Method == OBS && !cfg.NoUpdate
	res.Predicted = 0
	done := make([]int, len(last))
	step := 0
	for stage, want := range need {
		for {
			g := -1
			for i, h := range heaps {
				if done[i] < want[i] && h.Len() > 0 && (g < 0 || h.Less2(h.idx[0], heaps[g].idx[0])) {
					g = i
				}
			}
			if g < 0 {
				break
			}
			if cfg.Stop != nil && cfg.Stop() {
				return res, ErrStopped
			}
			step++
			if !update {
				// OBD, magnitude, NoUpdate: saliencies never change, so the
				// heap's order is choose's (by saliency, ties to the lower
				// index).
				q := heap.Pop(heaps[g]).(int)
				s := Step{Step: step, Index: q, Indices: []int{q}, Name: net.Name(q), Method: res.Method, Saliency: sal[q], Predicted: math.NaN()}
				switch {
				case cfg.Method == OBD:
					s.Predicted = sal[q]
				case cfg.Method == OBS:
					s.Predicted = 0.5 * (st.diag[st.pos[q]] + cfg.alpha()) * net.Params[q] * net.Params[q]
				}
				res.Predicted += s.Predicted
				net.Prune(q)
				res.Removed = append(res.Removed, q)
				done[g]++
				oneShotProgress(&cfg, net, s)
				continue
			}
			k := min(cfg.group(), want[g]-done[g], heaps[g].Len())
			Q := make([]int, k)
			salQ := 0.0
			for i := range Q {
				Q[i] = heap.Pop(heaps[g]).(int)
				salQ += sal[Q[i]]
			}
			u, err := OBSStep(st.inv, net.Params, Q)
			if err != nil {
				return res, fmt.Errorf("step %d: %w", step, err)
			}
			u.Apply(net.Params)
			for _, q := range Q {
				net.Prune(q)
			}
			if err := st.inv.Downdate(Q); err != nil {
				return res, fmt.Errorf("step %d: %w", step, err)
			}
			res.Removed = append(res.Removed, Q...)
			res.Predicted += u.Predicted
			done[g] += k
			for _, q := range u.Rows {
				if net.Pruned[q] || groupOf[q] < 0 {
					continue
				}
				d := st.inv.Diag(q)
				if !(d > 0) || math.IsInf(d, 0) {
					return res, fmt.Errorf("prune: step %d: the downdated inverse has diagonal %v at parameter %s; raise alpha (now %g)", step, d, net.Name(q), cfg.alpha())
				}
				sal[q] = Saliency(st.inv, net.Params, q)
				heaps[groupOf[q]].fix(q)
			}
			if cfg.Progress != nil {
				oneShotProgress(&cfg, net, Step{Step: step, Index: Q[0], Indices: Q, Name: net.Name(Q[0]), Method: res.Method, Saliency: salQ, Predicted: u.Predicted})
			}
		}
		checkpoint(stage)
	}
	res.End = ev.snapshot()
	return res, nil
}

// Weights returns the candidate set of a network's weights, its biases
// excluded (for Config.Candidates).
func Weights(net *model.MLP) []bool {
	w := make([]bool, len(net.Params))
	for q := range w {
		l, _, from := net.Locate(q)
		w[q] = from != net.Sizes[l-1]
	}
	return w
}

// oneShotQuotas returns, for every stage (each checkpoint, then the target
// if beyond the last), how many deletions each group of candidates must
// have had by the stage's end, and each parameter's group (-1: not a
// candidate or already pruned). One group holds every candidate, or with
// PerLayer one per layer.
func oneShotQuotas(net *model.MLP, cfg *Config) (need [][]int, groupOf []int, err error) {
	n := len(net.Params)
	if cfg.Candidates != nil && len(cfg.Candidates) != n {
		return nil, nil, fmt.Errorf("prune: %d candidates for %d parameters", len(cfg.Candidates), n)
	}
	if cfg.PerLayer && (cfg.Sparsity == 0 || cfg.Keep != 0) {
		return nil, nil, fmt.Errorf("prune: per-layer one-shot pruning needs a sparsity and no number to keep")
	}
	if len(cfg.Checkpoints) > 0 {
		if cfg.Sparsity == 0 || cfg.Keep != 0 || cfg.Group > 1 {
			return nil, nil, fmt.Errorf("prune: one-shot checkpoints need a sparsity, no number to keep and groups of 1")
		}
		for i, c := range cfg.Checkpoints {
			if !(c > 0 && c <= cfg.Sparsity) || (i > 0 && c <= cfg.Checkpoints[i-1]) {
				return nil, nil, fmt.Errorf("prune: checkpoints %v must ascend in (0, sparsity %g]", cfg.Checkpoints, cfg.Sparsity)
			}
		}
	}
	groups := 1
	if cfg.PerLayer {
		groups = net.NumLayers()
	}
	groupOf = make([]int, n)
	total, pruned, free := make([]int, groups), make([]int, groups), make([]int, groups)
	for q := range groupOf {
		groupOf[q] = -1
		if cfg.Candidates != nil && !cfg.Candidates[q] {
			continue
		}
		g := 0
		if cfg.PerLayer {
			l, _, _ := net.Locate(q)
			g = l - 1
		}
		total[g]++
		if net.Pruned[q] {
			pruned[g]++
			continue
		}
		free[g]++
		groupOf[q] = g
	}
	stage := func(s float64) []int {
		want := make([]int, groups)
		for g := range want {
			k := free[g] - cfg.Keep
			if s > 0 {
				// Stop before the pruned fraction would exceed s.
				k = int(math.Floor(s*float64(total[g])+1e-9)) - pruned[g]
				if cfg.Keep > 0 {
					k = min(k, free[g]-cfg.Keep)
				}
			}
			want[g] = max(0, k)
		}
		return want
	}
	for _, c := range cfg.Checkpoints {
		need = append(need, stage(c))
	}
	if len(cfg.Checkpoints) == 0 || cfg.Checkpoints[len(cfg.Checkpoints)-1] < cfg.Sparsity {
		need = append(need, stage(cfg.Sparsity))
	}
	return need, groupOf, nil
}

// oneShotProgress reports a one-shot step with the errors unmeasured.
func oneShotProgress(cfg *Config, net *model.MLP, s Step) {
	if cfg.Progress == nil {
		return
	}
	nan := math.NaN()
	s.EBefore, s.EAfter, s.Actual, s.TrainError, s.TrainAccuracy, s.TestError, s.TestAccuracy, s.GradNorm = nan, nan, nan, nan, nan, nan, nan, nan
	s.Left = net.NumFree()
	cfg.Progress(s)
}

// salHeap is a min-heap of parameters by saliency (ties to the lower
// index, as choose), with each parameter's position for fix.
type salHeap struct {
	sal []float64
	idx []int // heap of parameters
	at  []int // at[q] is q's position in idx, -1 if absent
}

// newSalHeapOf holds the parameters of group g (groupOf[q] == g) whose
// saliency is not NaN.
func newSalHeapOf(sal []float64, groupOf []int, g int) *salHeap {
	h := &salHeap{sal: sal, at: make([]int, len(sal))}
	for q, s := range sal {
		h.at[q] = -1
		if groupOf[q] == g && !math.IsNaN(s) {
			h.at[q] = len(h.idx)
			h.idx = append(h.idx, q)
		}
	}
	heap.Init(h)
	return h
}

func (h *salHeap) Len() int           { return len(h.idx) }
func (h *salHeap) Less(i, j int) bool { return h.Less2(h.idx[i], h.idx[j]) }

// Less2 orders parameters a and b: by saliency, ties to the lower index.
func (h *salHeap) Less2(a, b int) bool {
	if h.sal[a] != h.sal[b] {
		return h.sal[a] < h.sal[b]
	}
	return a < b
}
func (h *salHeap) Swap(i, j int) {
	h.idx[i], h.idx[j] = h.idx[j], h.idx[i]
	h.at[h.idx[i]], h.at[h.idx[j]] = i, j
}
func (h *salHeap) Push(x any) { q := x.(int); h.at[q] = len(h.idx); h.idx = append(h.idx, q) }
func (h *salHeap) Pop() any {
	q := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	h.at[q] = -1
	return q
}

// fix restores the heap after q's saliency changed.
func (h *salHeap) fix(q int) {
	if i := h.at[q]; i >= 0 {
		heap.Fix(h, i)
	}
}
