package prune

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/model"
)

// ErrStopped is returned when Config.Stop asked the run to end.
var ErrStopped = errors.New("prune: stopped")

// evaluator measures a network on the training set X, T and, if TestX is
// not nil, the held-out set TestX, TestT.
type evaluator struct {
	net          *model.MLP
	x, t         [][]float64
	testX, testT [][]float64
	ws           *model.Workspace
	grad         []float64
	classes      bool // training targets are 0/1 classes
}

func newEvaluator(net *model.MLP, X, T [][]float64, cfg *Config) *evaluator {
	ev := &evaluator{net: net, x: X, t: T, testX: cfg.TestX, testT: cfg.TestT, ws: net.NewWorkspace(), grad: make([]float64, len(net.Params)), classes: true}
	for _, row := range T {
		for _, v := range row {
			if v != 0 && v != 1 {
				ev.classes = false
			}
		}
	}
	return ev
}

func (ev *evaluator) trainError() float64 {
	return ev.net.Error(ev.ws, ev.x, ev.t)
}

func (ev *evaluator) snapshot() Snapshot {
	m := ev.net
	s := Snapshot{Params: m.NumFree(), TrainAccuracy: math.NaN(), TestError: math.NaN(), TestAccuracy: math.NaN()}
	s.TrainError = m.Grad(ev.ws, ev.grad, ev.x, ev.t)
	s.GradNorm = floats.Norm(ev.grad, 2)
	if ev.classes {
		s.TrainAccuracy = m.Accuracy(ev.ws, ev.x, ev.t)
	}
	if ev.testX != nil {
		s.TestError = m.Error(ev.ws, ev.testX, ev.testT)
		if ev.classes {
			s.TestAccuracy = m.Accuracy(ev.ws, ev.testX, ev.testT)
		}
	}
	return s
}

// checkData checks that the training set X, T and the held-out set of cfg,
// if any, fit net.
func checkData(net *model.MLP, X, T [][]float64, cfg *Config) error {
	if err := net.CheckData(X, T); err != nil {
		return err
	}
	if cfg.TestX != nil || cfg.TestT != nil {
		if err := net.CheckData(cfg.TestX, cfg.TestT); err != nil {
			return fmt.Errorf("test set: %w", err)
		}
	}
	return nil
}

func checkFinite(what string, step int, vs ...float64) error {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("prune: %s became %v at step %d; raise alpha or retrain the model", what, v, step)
		}
	}
	return nil
}

// Run prunes net in place on the training set X, T (P rows each) under cfg,
// measuring every step on X, T and, if cfg.TestX is not nil, on the
// held-out set cfg.TestX, cfg.TestT. net must be free of NaN and fit the
// data. On error net holds the state after the last completed step.
func Run(net *model.MLP, X, T [][]float64, cfg Config) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.Candidates != nil || cfg.PerLayer || len(cfg.Checkpoints) > 0 {
		return nil, fmt.Errorf("prune: candidates, per-layer counts and checkpoints apply to one-shot pruning only")
	}
	if err := net.Check(); err != nil {
		return nil, err
	}
	if err := checkData(net, X, T, &cfg); err != nil {
		return nil, err
	}
	ev := newEvaluator(net, X, T, &cfg)
	n := len(net.Params)
	res := &Result{Method: cfg.label(), Start: ev.snapshot()}
	if cfg.Method == OBS {
		res.Alpha = cfg.alpha()
	}
	if err := checkFinite("training error", 0, res.Start.TrainError, res.Start.GradNorm); err != nil {
		return nil, err
	}
	keep := cfg.KeepTarget(n)
	sal := make([]float64, n)
	saved := make([]float64, n)
	var st *state
	var err error
	if reason := unmetAtStart(&cfg, res.Start); reason != "" {
		res.StopReason = reason
		res.End = res.Start
		return res, nil
	}
	for step := 1; ; step++ {
		left := net.NumFree()
		if left == 0 {
			res.StopReason = "no parameter left"
			break
		}
		if left <= keep {
			res.StopReason = fmt.Sprintf("reached %d parameters (%s)", left, keepRule(&cfg, keep))
			break
		}
		// The last group is cut to stop exactly at keep.
		k := min(cfg.group(), left-keep)
		if cfg.Stop != nil && cfg.Stop() {
			return res, ErrStopped
		}
		rebuilt := false
		if st == nil || cfg.rebuildDue(st.since, st.built) {
			if st != nil {
				st.inv = nil // let the old inverse go before the new one is built
			}
			start := time.Now()
			if st, err = build(net, X, T, &cfg); err != nil {
				return res, fmt.Errorf("step %d: %w", step, err)
			}
			st.built = left
			if cfg.Rebuilt != nil {
				cfg.Rebuilt(left, time.Since(start))
			}
			if st.fix != nil {
				res.FixReports = append(res.FixReports, *st.fix)
			}
			rebuilt = true
		}
		saliencies(sal, net, st, &cfg)
		Q := choose(sal, k)
		s := Step{Step: step, Index: Q[0], Indices: Q, Method: cfg.label(), Rebuilt: rebuilt, Predicted: math.NaN()}
		names := make([]string, len(Q))
		for i, q := range Q {
			names[i] = net.Name(q)
			s.Saliency += sal[q]
		}
		s.Name = strings.Join(names, "+")

		copy(saved, net.Params)
		s.EBefore = ev.trainError()
		switch {
		case cfg.Method == OBS && !cfg.NoUpdate:
			u, err := OBSStep(st.inv, net.Params, Q)
			if err != nil {
				return res, fmt.Errorf("step %d: %w", step, err)
			}
			u.Apply(net.Params)
			s.Predicted = u.Predicted
		case cfg.Method == OBS: // saliency only: the quadratic model's increase of zeroing w_q
			q := Q[0]
			s.Predicted = 0.5 * (st.diag[st.pos[q]] + cfg.alpha()) * net.Params[q] * net.Params[q]
		case cfg.Method == OBD:
			s.Predicted = s.Saliency
		}
		for _, q := range Q {
			net.Prune(q)
		}
		s.EAfter = ev.trainError()
		s.Actual = s.EAfter - s.EBefore
		if err := checkFinite("training error", step, s.EAfter, s.Saliency); err != nil {
			return res, err
		}

		if (cfg.Retrain > 0 && step%cfg.Retrain == 0) || (cfg.RetrainAbove > 0 && s.EAfter > cfg.RetrainAbove) {
			if _, err := model.Train(net, X, T, cfg.Train); err != nil {
				return res, fmt.Errorf("step %d: retraining: %w", step, err)
			}
			s.Retrained = true
		}
		snap := ev.snapshot()
		s.TrainError, s.TrainAccuracy, s.TestError, s.TestAccuracy = snap.TrainError, snap.TrainAccuracy, snap.TestError, snap.TestAccuracy
		s.Left, s.GradNorm = snap.Params, snap.GradNorm

		if reason := breaks(&cfg, s); reason != "" {
			copy(net.Params, saved)
			for _, q := range Q {
				net.Pruned[q] = false
			}
			rej := s
			res.Rejected = &rej
			res.StopReason = "the next deletion would " + reason
			break
		}
		if cfg.Method == OBS {
			if s.Retrained {
				st = nil // the weights moved: rebuild at the new minimum
			} else {
				if cfg.Recompute == 0 || st.since+k < cfg.Recompute {
					// The inverse follows the survivors; when the next step
					// rebuilds it anyway, the downdate would be wasted.
					if err := st.inv.Downdate(Q); err != nil {
						return res, fmt.Errorf("step %d: %w (Recompute rebuilds the inverse instead)", step, err)
					}
				}
				st.since += k
			}
		} else if st != nil {
			st.since += k
			if s.Retrained {
				st = nil
			}
		}
		s.DeadUnits = deadUnits(net)
		res.Steps = append(res.Steps, s)
		if cfg.Progress != nil {
			cfg.Progress(s)
		}
		if cfg.RemoveDead && len(s.DeadUnits) > 0 {
			if removed := removeDead(net); len(removed) > 0 {
				step++
				d := Step{Step: step, Index: removed[0], Indices: removed, Method: "dead-unit", Predicted: 0, Saliency: 0, EBefore: snap.TrainError}
				names := make([]string, len(removed))
				for i, q := range removed {
					names[i] = net.Name(q)
				}
				d.Name = strings.Join(names, "+")
				after := ev.snapshot()
				d.EAfter, d.Actual = after.TrainError, after.TrainError-snap.TrainError
				d.TrainError, d.TrainAccuracy, d.TestError, d.TestAccuracy = after.TrainError, after.TrainAccuracy, after.TestError, after.TestAccuracy
				d.Left, d.GradNorm = after.Params, after.GradNorm
				res.Steps = append(res.Steps, d)
				st = nil // the survivors changed outside the downdate
				if cfg.Progress != nil {
					cfg.Progress(d)
				}
			}
		}
	}
	res.End = ev.snapshot()
	return res, nil
}

// KeepTarget returns the fewest parameters Keep and Sparsity allow a
// network of n parameters to keep (0 without either rule).
func (c *Config) KeepTarget(n int) int {
	keep := c.Keep
	if c.Sparsity > 0 {
		// Stop before the pruned fraction would exceed Sparsity.
		if k := n - int(math.Floor(c.Sparsity*float64(n)+1e-9)); k > keep {
			keep = k
		}
	}
	return keep
}

// keepRule names the rule that set keep: --keep, --sparsity or both.
func keepRule(cfg *Config, keep int) string {
	switch {
	case cfg.Sparsity > 0 && keep != cfg.Keep:
		return fmt.Sprintf("sparsity %g leaves %d", cfg.Sparsity, keep)
	default:
		return fmt.Sprintf("keep %d", keep)
	}
}

// unmetAtStart returns why the network breaks an error or accuracy rule
// before any deletion (then nothing is pruned), or "".
func unmetAtStart(cfg *Config, s Snapshot) string {
	switch {
	case cfg.MaxError > 0 && s.TrainError > cfg.MaxError:
		return fmt.Sprintf("nothing pruned: the training error before pruning, %.3g, is already above the bound %.3g", s.TrainError, cfg.MaxError)
	case cfg.MinAccuracy > 0 && s.TrainAccuracy < cfg.MinAccuracy:
		return fmt.Sprintf("nothing pruned: the training accuracy before pruning, %.4g, is already below the bound %.4g", s.TrainAccuracy, cfg.MinAccuracy)
	}
	return ""
}

// breaks returns why step s violates a stopping rule, or "".
func breaks(cfg *Config, s Step) string {
	switch {
	case cfg.MaxPredicted > 0 && s.Predicted > cfg.MaxPredicted:
		return fmt.Sprintf("have a predicted increase %.3g above %.3g", s.Predicted, cfg.MaxPredicted)
	case cfg.MaxPredictedRatio > 0 && s.Predicted > cfg.MaxPredictedRatio*s.EBefore:
		return fmt.Sprintf("have a predicted increase %.3g above %g times E = %.3g", s.Predicted, cfg.MaxPredictedRatio, s.EBefore)
	case cfg.MaxError > 0 && s.TrainError > cfg.MaxError:
		return fmt.Sprintf("raise the training error to %.3g, above %.3g", s.TrainError, cfg.MaxError)
	case cfg.MinAccuracy > 0 && s.TrainAccuracy < cfg.MinAccuracy:
		return fmt.Sprintf("drop the training accuracy to %.4g, below %.4g", s.TrainAccuracy, cfg.MinAccuracy)
	}
	return ""
}
