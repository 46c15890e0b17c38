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
	ev := newEvaluator(net, X, T, &cfg)
	n := len(net.Params)
	res := &OneShotResult{Method: cfg.label(), Start: ev.snapshot(), Predicted: math.NaN()}
	if cfg.Method == OBS {
		res.Alpha = cfg.alpha()
	}
	keep := cfg.Keep
	if cfg.Sparsity > 0 {
		if k := n - int(math.Floor(cfg.Sparsity*float64(n)+1e-9)); k > keep {
			keep = k
		}
	}
	todo := net.NumFree() - keep
	if todo <= 0 {
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
	if cfg.Method != OBS || cfg.NoUpdate {
		Q := choose(sal, todo)
		res.Predicted = 0
		for i, q := range Q {
			if cfg.Stop != nil && cfg.Stop() {
				return res, ErrStopped
			}
			s := Step{Step: i + 1, Index: q, Indices: []int{q}, Name: net.Name(q), Method: res.Method, Saliency: sal[q], Predicted: math.NaN()}
			switch {
			case cfg.Method == OBD:
				s.Predicted = sal[q]
			case cfg.Method == OBS:
				s.Predicted = 0.5 * (st.diag[st.pos[q]] + cfg.alpha()) * net.Params[q] * net.Params[q]
			}
			res.Predicted += s.Predicted
			net.Prune(q)
			res.Removed = append(res.Removed, q)
			oneShotProgress(&cfg, net, s)
		}
		res.End = ev.snapshot()
		return res, nil
	}

	h := newSalHeap(sal)
	res.Predicted = 0
	for step := 1; todo > 0; step++ {
		if cfg.Stop != nil && cfg.Stop() {
			return res, ErrStopped
		}
		k := min(cfg.group(), todo)
		Q := make([]int, k)
		salQ := 0.0
		for i := range Q {
			Q[i] = heap.Pop(h).(int)
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
		todo -= k
		for _, q := range u.Rows {
			if net.Pruned[q] {
				continue
			}
			d := st.inv.Diag(q)
			if !(d > 0) || math.IsInf(d, 0) {
				return res, fmt.Errorf("prune: step %d: the downdated inverse has diagonal %v at parameter %s; raise alpha (now %g)", step, d, net.Name(q), cfg.alpha())
			}
			sal[q] = Saliency(st.inv, net.Params, q)
			h.fix(q)
		}
		if cfg.Progress != nil {
			oneShotProgress(&cfg, net, Step{Step: step, Index: Q[0], Indices: Q, Name: net.Name(Q[0]), Method: res.Method, Saliency: salQ, Predicted: u.Predicted})
		}
	}
	res.End = ev.snapshot()
	return res, nil
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

// newSalHeap holds the parameters whose saliency is not NaN.
func newSalHeap(sal []float64) *salHeap {
	h := &salHeap{sal: sal, at: make([]int, len(sal))}
	for q, s := range sal {
		h.at[q] = -1
		if !math.IsNaN(s) {
			h.at[q] = len(h.idx)
			h.idx = append(h.idx, q)
		}
	}
	heap.Init(h)
	return h
}

func (h *salHeap) Len() int { return len(h.idx) }
func (h *salHeap) Less(i, j int) bool {
	a, b := h.idx[i], h.idx[j]
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
