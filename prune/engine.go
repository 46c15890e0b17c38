package prune

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Target is where a pruning run, or a checkpoint on its way, stops: at the
// fraction Sparsity of the candidates pruned (those pruned before
// included), and with at least Keep candidates left. Zero fields are not
// used; the zero Target prunes every candidate.
type Target struct {
	Sparsity float64
	Keep     int
}

// Rounding is how a sparsity becomes a number of candidates.
type Rounding int

const (
	// Floor never passes the sparsity: floor(s n + 1e-9), the 1e-9 keeping
	// products such as 0.3 * 10 at 3. It is the zero value.
	Floor Rounding = iota
	// Nearest rounds s n to the nearest integer, halves away from zero.
	Nearest
)

// Rules are the stopping rules that need the errors of every step
// (Plan.Measure). A zero field is not used. The loop stops before a step
// that makes the training error exceed MaxError or the training accuracy
// fall below MinAccuracy (after any retraining), or whose predicted
// increase exceeds MaxPredicted or MaxPredictedRatio times the training
// error E before it (the OBS papers' rule: delete while L_q << E); that
// step is undone and reported as Result.Rejected.
type Rules struct {
	MaxError, MinAccuracy, MaxPredicted, MaxPredictedRatio float64
}

func (r Rules) zero() bool { return r == Rules{} }

// Retraining retrains the surviving parameters during a run; the
// curvature is then rebuilt at the new weights. A zero field is not used.
type Retraining struct {
	// Every retrains after every Every-th step, Above whenever the
	// training error after a step exceeds it (both need Plan.Measure), and
	// AtCheckpoints when a checkpoint or the target is reached, before
	// Plan.Checkpoint is called.
	Every         int
	Above         float64
	AtCheckpoints bool
	// Train retrains net; stage is the checkpoint's index (-1 for Every
	// and Above). If nil, model.Train with Settings on the data set.
	Train    func(net *model.MLP, stage int) error
	Settings *model.TrainSettings
}

// Plan is everything about a pruning run but the network and the data:
// the method and the policies of the one loop, Prune. The zero value of
// every field but Method is a documented default.
type Plan struct {
	// Method scores candidates and makes the steps (required).
	Method Pruner
	// Calib is the calibration set the curvature is built from; the zero
	// value is the data set.
	Calib Calibration

	// Target is where the run ends; the zero Target prunes every
	// candidate. Round is how sparsities become counts (Floor).
	Target Target
	Round  Rounding
	// Candidates, if not nil (one entry per parameter), restricts the
	// deletions to the parameters with Candidates[q] true (see Weights);
	// the others stay, are never deleted and may still be changed by an
	// update. Sparsity and Keep count candidates.
	Candidates []bool
	// Groups, if not nil, are the units of deletion: each a set of
	// parameters removed together, scored by the method's group saliency
	// (Candidates must then be nil). Sparsity and Keep count groups. nil:
	// every candidate parameter alone.
	Groups [][]int
	// Granularity, if not zero, is what is removed as one unit: hidden
	// units (their groups replace Groups) or an N:M pattern (which sets
	// Candidates, Target and a cap on the method); see Granularity.
	Granularity Granularity
	// PerLayer brings every layer's candidates to the target separately
	// (a group belongs to the layer of its first parameter) instead of
	// choosing across the whole network; it needs a Sparsity and no Keep.
	PerLayer bool
	// Checkpoints are targets passed on the way, ascending; when one is
	// reached Checkpoint(i) is called with the network in that state. A
	// step's choice never depends on the targets, so with one pool (not
	// PerLayer) and groups of one, the state at a checkpoint is that of a
	// run to it.
	Checkpoints []Target
	Checkpoint  func(i int) error

	// Group is the number of candidates removed per step, together by the
	// method's step (OBS's group formula). If zero, 1.
	Group int
	// Rebuild is when the curvature is rebuilt at the current weights; nil
	// never (the inverse follows every deletion by downdate).
	Rebuild Schedule
	// RankOnce ranks the candidates once per build and never rescores them
	// between builds (no downdate): the one-shot rule of OBD, magnitude and
	// OBS without update.
	RankOnce bool
	// Compact compacts a dense inverse whenever 1/Compact of its rows have
	// been removed since it was built or last compacted (0: never), so a
	// deletion costs the current nf^2.
	Compact int
	// Retrain retrains the survivors (zero value: never).
	Retrain Retraining
	// Measure measures the training (and test) error and accuracy after
	// every step and records the steps in Result.Steps; Rules, Retrain's
	// Every and Above and RemoveDead need it. Without it only the start and
	// the end are measured (the mode of large networks).
	Measure bool
	Rules   Rules
	// RemoveDead removes the parameters of hidden units that lost every
	// incoming or outgoing connection after every step, without changing
	// the network's function (see Step.DeadUnits).
	RemoveDead bool

	// TestX and TestT are an optional held-out set measured with the
	// training set (nil: none).
	TestX, TestT [][]float64
	// Progress, if not nil, is called after every step (with NaN errors
	// unless Measure). Rebuilt, if not nil, is called after every build
	// with the free parameters it covers and the time it took.
	Progress func(Step)
	Rebuilt  func(free int, took time.Duration)
}

func (p *Plan) group() int {
	if p.Group == 0 {
		return 1
	}
	return p.Group
}

func (p *Plan) validate(n int) error {
	switch {
	case p.Method == nil:
		return errors.New("prune: the plan has no method")
	case p.Group < 0 || p.Target.Keep < 0 || p.Compact < 0 || p.Retrain.Every < 0:
		return errors.New("prune: group, keep, compact and retrain must be >= 0")
	case !(p.Target.Sparsity >= 0 && p.Target.Sparsity <= 1):
		return fmt.Errorf("prune: sparsity %v must be in [0, 1]", p.Target.Sparsity)
	case p.Candidates != nil && len(p.Candidates) != n:
		return fmt.Errorf("prune: %d candidates for %d parameters", len(p.Candidates), n)
	case p.Candidates != nil && p.Groups != nil:
		return errors.New("prune: candidates and groups are exclusive")
	case p.PerLayer && (p.Target.Sparsity == 0 || p.Target.Keep != 0):
		return errors.New("prune: per-layer pruning needs a sparsity and no number to keep")
	case !p.Measure && (!p.Rules.zero() || p.Retrain.Every > 0 || p.Retrain.Above > 0 || p.RemoveDead):
		return errors.New("prune: stopping rules, retraining by steps or error and removing dead units need the per-step measurements (Measure)")
	}
	seen := make([]bool, n)
	for _, g := range p.Groups {
		if len(g) == 0 {
			return errors.New("prune: an empty group")
		}
		for _, q := range g {
			if q < 0 || q >= n {
				return fmt.Errorf("prune: group holds parameter %d of %d", q, n)
			}
			if seen[q] {
				return fmt.Errorf("prune: parameter %d is in two groups", q)
			}
			seen[q] = true
		}
	}
	for i, c := range p.Checkpoints {
		if !(c.Sparsity >= 0 && c.Sparsity <= 1) || c.Keep < 0 {
			return fmt.Errorf("prune: checkpoint %d: sparsity %v must be in [0, 1] and keep >= 0", i, c.Sparsity)
		}
	}
	if c, ok := p.Method.(interface{ check() error }); ok {
		return c.check()
	}
	return nil
}

// pools are the units of deletion (groups, or single candidates) and the
// pool (one, or one per layer) each belongs to.
type pools struct {
	units  [][]int // each unit's parameters; nil entries for singletons use one[]
	one    []int   // the parameter of singleton unit u (when units is nil)
	poolOf []int   // pool of each unit
	unitOf []int   // unit of each parameter, -1: none
	total  []int   // units per pool
	gone   []int   // units of each pool fully pruned
}

func (ps *pools) n() int {
	if ps.units != nil {
		return len(ps.units)
	}
	return len(ps.one)
}

// unit returns the parameters of unit u; buf holds a singleton.
func (ps *pools) unit(u int, buf []int) []int {
	if ps.units != nil {
		return ps.units[u]
	}
	return append(buf[:0], ps.one[u])
}

func (ps *pools) pruned(net *model.MLP, u int) bool {
	if ps.units == nil {
		return net.Pruned[ps.one[u]]
	}
	for _, q := range ps.units[u] {
		if !net.Pruned[q] {
			return false
		}
	}
	return true
}

func newPools(net *model.MLP, p *Plan) *pools {
	ps := &pools{unitOf: make([]int, len(net.Params))}
	for q := range ps.unitOf {
		ps.unitOf[q] = -1
	}
	if p.Groups != nil {
		ps.units = p.Groups
		for u, g := range p.Groups {
			for _, q := range g {
				ps.unitOf[q] = u
			}
		}
	} else {
		for q := range net.Params {
			if p.Candidates == nil || p.Candidates[q] {
				ps.unitOf[q] = len(ps.one)
				ps.one = append(ps.one, q)
			}
		}
	}
	npool := 1
	if p.PerLayer {
		npool = net.NumLayers()
	}
	ps.total, ps.gone = make([]int, npool), make([]int, npool)
	ps.poolOf = make([]int, ps.n())
	buf := make([]int, 1)
	for u := range ps.poolOf {
		if p.PerLayer {
			l, _, _ := net.Locate(ps.unit(u, buf)[0])
			ps.poolOf[u] = l - 1
		}
		ps.total[ps.poolOf[u]]++
		if ps.pruned(net, u) {
			ps.gone[ps.poolOf[u]]++
		}
	}
	return ps
}

// want returns, per pool, the number of units pruned at target t.
func (ps *pools) want(t Target, r Rounding) []int {
	w := make([]int, len(ps.total))
	for g, total := range ps.total {
		k := total - t.Keep
		if t.Sparsity > 0 {
			var s int
			if r == Nearest {
				s = int(math.Round(t.Sparsity * float64(total)))
			} else {
				s = int(math.Floor(t.Sparsity*float64(total) + 1e-9))
			}
			k = min(k, s)
		}
		w[g] = max(ps.gone[g], min(k, total))
	}
	return w
}

// engine is one run of Prune.
type engine struct {
	ctx  context.Context
	net  *model.MLP
	x, t [][]float64
	p    *Plan
	ev   *evaluator
	ps   *pools
	res  *Result

	sc           Scorer
	sal          []float64 // saliency per unit
	rescored     []bool    // rescore's marks, all false between calls
	heaps        []unitQueue
	since, built int
	compactAt    int
	left         int // free parameters (NumFree, kept up to date)
	buf          []int
	step         int
}

// Prune prunes net in place on the data set X, T (P rows each) as the plan
// says: the one loop behind Run, OneShot, Analyze's method values, layer-wise
// OBS and every experiment. At each step it rebuilds the method's state when
// due (the first step, the schedule, after retraining), takes the Group
// units of smallest saliency (ties to the lower index, or the scorer's
// TieRank) from the pool that is short of its count, applies the method's
// step, prunes them, has the state follow the survivors, and measures,
// retrains and checks the rules as the plan asks; checkpoints are called on
// the way. The curvature is built from p.Calib (the data set if zero); E,
// the accuracy and the rules are measured on X, T.
//
// If ctx is cancelled Prune returns ctx's error (Run and OneShot turn it
// into ErrStopped), with net in the state after the last completed step;
// other errors leave it there too.
func Prune(ctx context.Context, net *model.MLP, X, T [][]float64, p *Plan) (*Result, error) {
	p, err := p.Granularity.resolve(net, p)
	if err != nil {
		return nil, err
	}
	if err := p.validate(len(net.Params)); err != nil {
		return nil, err
	}
	if err := net.Check(); err != nil {
		return nil, err
	}
	if err := checkData(net, X, T, p.TestX, p.TestT); err != nil {
		return nil, err
	}
	calib := p.Calib.or(X, T)
	if err := calib.check(); err != nil {
		return nil, err
	}
	e := &engine{ctx: ctx, net: net, x: calib.X, t: calib.T, p: p, ev: newEvaluator(net, X, T, p.TestX, p.TestT), buf: make([]int, 1)}
	// Without per-step measurements (one-shot) the start's gradient is
	// not needed: its error and accuracies only.
	e.res = &Result{Method: p.Method.String(), Start: e.ev.measure(p.Measure), Predicted: math.NaN()}
	if d, ok := p.Method.(interface{ Damping() float64 }); ok {
		e.res.Alpha = d.Damping()
	}
	if p.Measure {
		if err := checkFinite("training error", 0, e.res.Start.TrainError, e.res.Start.GradNorm); err != nil {
			return nil, err
		}
		if reason := unmetAtStart(&p.Rules, e.res.Start); reason != "" {
			e.res.StopReason = reason
			e.res.End = e.res.Start
			return e.res, nil
		}
	}
	e.ps = newPools(net, p)
	e.left = net.NumFree()
	e.sal = make([]float64, e.ps.n())
	var stages [][]int
	for _, c := range p.Checkpoints {
		stages = append(stages, e.ps.want(c, p.Round))
	}
	final := e.ps.want(p.Target, p.Round)
	if len(p.Checkpoints) == 0 || !beyond(stages[len(stages)-1], final) {
		stages = append(stages, final)
	}
	done, err := e.run(stages)
	if err != nil {
		return e.res, err
	}
	if !done {
		return e.res, nil
	}
	e.res.StopReason = e.reached()
	e.res.End = e.ev.snapshot()
	return e.res, nil
}

// beyond reports whether a is at or past b in every pool.
func beyond(a, b []int) bool {
	for g := range a {
		if a[g] < b[g] {
			return false
		}
	}
	return true
}

// reached is the stop reason of a run that met its target.
func (e *engine) reached() string {
	left := e.net.NumFree()
	if left == 0 {
		return "no parameter left"
	}
	t := e.p.Target
	if e.p.Candidates != nil || e.p.Groups != nil || e.p.PerLayer {
		return fmt.Sprintf("reached the target (%d parameters left)", left)
	}
	// The fewest parameters the target lets the network keep.
	keep := t.Keep
	if t.Sparsity > 0 {
		if k := len(e.net.Params) - int(math.Floor(t.Sparsity*float64(len(e.net.Params))+1e-9)); k > keep {
			keep = k
		}
	}
	if t.Sparsity > 0 && keep != t.Keep {
		return fmt.Sprintf("reached %d parameters (sparsity %g leaves %d)", left, t.Sparsity, keep)
	}
	return fmt.Sprintf("reached %d parameters (keep %d)", left, keep)
}

// run goes through the stages; done is false if a rule stopped it.
func (e *engine) run(stages [][]int) (done bool, err error) {
	p, ps := e.p, e.ps
	for stage, want := range stages {
		for {
			short := false
			for g := range want {
				if ps.gone[g] < want[g] {
					short = true
				}
			}
			if !short {
				break
			}
			if err := e.ctx.Err(); err != nil {
				return false, err
			}
			rebuilt := false
			if e.sc == nil || (p.Rebuild != nil && p.Rebuild.Due(e.since, e.built)) {
				err := e.build()
				if cerr := e.ctx.Err(); cerr != nil {
					// A build cut short by the context may be incomplete.
					e.sc = nil
					return false, cerr
				}
				if err != nil {
					return false, fmt.Errorf("step %d: %w", e.step+1, err)
				}
				rebuilt = true
			}
			g := -1
			for i, h := range e.heaps {
				if ps.gone[i] < want[i] && h.Len() > 0 && (g < 0 || h.less(h.min(), e.heaps[g].min())) {
					g = i
				}
			}
			if g < 0 {
				break // no candidate with a saliency left
			}
			k := min(p.group(), want[g]-ps.gone[g], e.heaps[g].Len())
			ok, err := e.take(g, k, rebuilt)
			if err != nil || !ok {
				return false, err
			}
		}
		if st, ok := e.sc.(settler); ok {
			if err := st.Settle(e.net); err != nil {
				return false, err
			}
		}
		if p.Retrain.AtCheckpoints {
			if err := e.retrain(stage); err != nil {
				return false, err
			}
		}
		if stage < len(p.Checkpoints) && p.Checkpoint != nil {
			if err := p.Checkpoint(stage); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// settler is a Scorer whose steps carry no update of their own: Settle
// sets the weights of the survivors once a stage's deletions are done
// (layer-wise OBS's least-squares rows).
type settler interface {
	Settle(net *model.MLP) error
}

// build makes the method's state at the current weights and fills the
// heaps.
func (e *engine) build() error {
	e.sc = nil // let the old state go before the new one is built
	start := time.Now()
	sc, err := e.p.Method.Prepare(e.ctx, e.net, Calibration{X: e.x, T: e.t})
	if f, ok := sc.(interface{ FixReport() *hessian.FixReport }); ok && err == nil && f.FixReport() != nil {
		e.res.FixReports = append(e.res.FixReports, *f.FixReport())
	}
	if err != nil {
		return err
	}
	e.sc = sc
	left := e.left
	e.since, e.built, e.compactAt = 0, left, left
	if e.p.Rebuilt != nil {
		e.p.Rebuilt(left, time.Since(start))
	}
	var rank []int
	if r, ok := sc.(interface{ TieRank(q int) int }); ok {
		rank = make([]int, len(e.sal))
		for u := range rank {
			rank[u] = r.TieRank(e.ps.unit(u, e.buf)[0])
		}
	}
	for u := range e.sal {
		e.sal[u] = math.NaN()
		if !e.ps.pruned(e.net, u) {
			e.sal[u] = sc.Saliency(e.net.Params, e.live(u))
		}
	}
	e.heaps = newQueues(e.sal, e.ps.poolOf, len(e.ps.total), rank)
	return nil
}

// take removes the k units of smallest saliency of pool g in one step; ok
// is false if a rule rejected the step (then undone).
func (e *engine) take(g, k int, rebuilt bool) (ok bool, err error) {
	p, net, ps := e.p, e.net, e.ps
	e.step++
	var Q []int
	s := Step{Step: e.step, Method: e.res.Method, Rebuilt: rebuilt, Predicted: math.NaN()}
	for range k {
		u := e.heaps[g].pop()
		Q = append(Q, e.live(u)...)
		s.Saliency += e.sal[u]
	}
	s.Index, s.Indices = Q[0], Q
	if p.Measure || p.Progress != nil { // names cost more than a block's step
		names := make([]string, len(Q))
		for i, q := range Q {
			names[i] = net.Name(q)
		}
		s.Name = strings.Join(names, "+")
	}
	var saved []float64
	if p.Measure {
		saved = append([]float64(nil), net.Params...)
		s.EBefore = e.ev.trainError()
	}
	u, err := e.sc.Step(net.Params, Q)
	if err != nil {
		return false, fmt.Errorf("step %d: %w", e.step, err)
	}
	u.Apply(net.Params)
	s.Predicted = u.Predicted
	for _, q := range Q {
		net.Prune(q)
	}
	e.left -= len(Q)
	retrained := false
	if p.Measure {
		s.EAfter = e.ev.trainError()
		s.Actual = s.EAfter - s.EBefore
		if err := checkFinite("training error", e.step, s.EAfter, s.Saliency); err != nil {
			return false, err
		}
		if (p.Retrain.Every > 0 && e.step%p.Retrain.Every == 0) || (p.Retrain.Above > 0 && s.EAfter > p.Retrain.Above) {
			if err := e.retrain(-1); err != nil {
				return false, fmt.Errorf("step %d: retraining: %w", e.step, err)
			}
			retrained = true
		}
		s.Retrained = retrained
		snap := e.ev.snapshot()
		s.TrainError, s.TrainAccuracy, s.TestError, s.TestAccuracy = snap.TrainError, snap.TrainAccuracy, snap.TestError, snap.TestAccuracy
		s.Left, s.GradNorm = snap.Params, snap.GradNorm
		if reason := breaks(&p.Rules, s); reason != "" {
			copy(net.Params, saved)
			for _, q := range Q {
				net.Pruned[q] = false
			}
			e.left += len(Q)
			rej := s
			e.res.Rejected = &rej
			e.res.StopReason = "the next deletion would " + reason
			e.res.End = e.ev.snapshot()
			return false, nil
		}
	} else {
		nan := math.NaN()
		s.EBefore, s.EAfter, s.Actual, s.TrainError, s.TrainAccuracy, s.TestError, s.TestAccuracy, s.GradNorm = nan, nan, nan, nan, nan, nan, nan, nan
		s.Left = e.left
	}
	ps.gone[g] += k
	if len(e.res.Removed) == 0 {
		e.res.Predicted = 0
	}
	e.res.Removed = append(e.res.Removed, Q...)
	e.res.Predicted += u.Predicted
	if !retrained && !p.RankOnce && (p.Rebuild == nil || !p.Rebuild.Due(e.since+len(Q), e.built)) {
		// The state follows the survivors; when the next step rebuilds it
		// anyway, the downdate would be wasted.
		changed, err := e.sc.Remove(Q)
		if err != nil {
			return false, fmt.Errorf("step %d: %w", e.step, err)
		}
		e.rescore(changed)
		if d, ok := e.sc.(interface{ compact() }); ok && p.Compact > 0 {
			if left := e.left; e.compactAt-left >= e.compactAt/p.Compact {
				d.compact()
				e.compactAt = left
			}
		}
	}
	e.since += len(Q) // parameters, as built counts them (k units of groups)
	if p.Measure {
		s.DeadUnits = deadUnits(net)
		e.res.Steps = append(e.res.Steps, s)
	}
	if p.Progress != nil {
		p.Progress(s)
	}
	if p.RemoveDead && len(s.DeadUnits) > 0 {
		e.removeDead(s.TrainError)
	}
	return true, nil
}

// live returns the unpruned parameters of unit u (a group may have lost
// members before the run or to dead-unit removal), in e's buffer.
func (e *engine) live(u int) []int {
	e.buf = e.buf[:0]
	if e.ps.units == nil {
		return append(e.buf, e.ps.one[u])
	}
	for _, q := range e.ps.units[u] {
		if !e.net.Pruned[q] {
			e.buf = append(e.buf, q)
		}
	}
	return e.buf
}

// rescore updates the saliencies of the units of the changed parameters,
// each unit once (a group lists many changed parameters: layer-wise unit
// OBS changes a whole layer's, and scoring a unit per member was quadratic).
func (e *engine) rescore(changed []int) {
	if len(e.rescored) != len(e.sal) {
		e.rescored = make([]bool, len(e.sal))
	}
	var done []int
	for _, q := range changed {
		u := e.ps.unitOf[q]
		if u < 0 || e.net.Pruned[q] || e.rescored[u] {
			continue
		}
		e.rescored[u] = true
		done = append(done, u)
		e.sal[u] = e.sc.Saliency(e.net.Params, e.live(u))
		e.heaps[e.ps.poolOf[u]].fix(u)
	}
	for _, u := range done {
		e.rescored[u] = false
	}
}

// retrain retrains the survivors and drops the state.
func (e *engine) retrain(stage int) error {
	r := &e.p.Retrain
	var err error
	if r.Train != nil {
		err = r.Train(e.net, stage)
	} else {
		_, err = model.Train(e.net, e.ev.x, e.ev.t, r.Settings)
	}
	e.sc = nil // the weights moved: rebuild at the new minimum
	return err
}

// removeDead removes dead units after a step and records it.
func (e *engine) removeDead(before float64) {
	net := e.net
	removed := removeDead(net)
	if len(removed) == 0 {
		return
	}
	e.step++
	d := Step{Step: e.step, Index: removed[0], Indices: removed, Method: "dead-unit", Predicted: 0, Saliency: 0, EBefore: before}
	names := make([]string, len(removed))
	for i, q := range removed {
		names[i] = net.Name(q)
		if u := e.ps.unitOf[q]; u >= 0 && e.ps.pruned(net, u) {
			e.ps.gone[e.ps.poolOf[u]]++
		}
	}
	d.Name = strings.Join(names, "+")
	after := e.ev.snapshot()
	d.EAfter, d.Actual = after.TrainError, after.TrainError-before
	d.TrainError, d.TrainAccuracy, d.TestError, d.TestAccuracy = after.TrainError, after.TrainAccuracy, after.TestError, after.TestAccuracy
	d.Left, d.GradNorm = after.Params, after.GradNorm
	e.res.Steps = append(e.res.Steps, d)
	e.res.Removed = append(e.res.Removed, removed...)
	e.left -= len(removed)
	e.sc = nil // the survivors changed outside the downdate
	if e.p.Progress != nil {
		e.p.Progress(d)
	}
}

// salHeap is a min-heap of units by saliency, ties to the lower rank
// (rank nil: the lower unit), with each unit's position for fix.
type salHeap struct {
	sal  []float64
	rank []int
	idx  []int // heap of units
	at   []int // at[u] is u's position in idx, -1 if absent
}

func (h *salHeap) Len() int           { return len(h.idx) }
func (h *salHeap) Less(i, j int) bool { return h.Less2(h.idx[i], h.idx[j]) }

// Less2 orders units a and b: by saliency, ties to the lower rank.
func (h *salHeap) Less2(a, b int) bool {
	if h.sal[a] != h.sal[b] {
		return h.sal[a] < h.sal[b]
	}
	if h.rank != nil {
		return h.rank[a] < h.rank[b]
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
