package prune

import (
	"fmt"
	"math"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

func (c *Config) alpha() float64 {
	if c.Alpha == 0 {
		return DefaultAlpha
	}
	return c.Alpha
}

func (c *Config) group() int {
	if c.Group == 0 {
		return 1
	}
	return c.Group
}

// label names the method and curvature, e.g. "obs-ggn" or "obd-exact".
func (c *Config) label() string { return c.pruner().String() }

// pruner returns the method value cfg selects.
func (c *Config) pruner() Pruner {
	var b Builder = Terms{Curvature: c.Curvature, Options: c.CurvatureOptions}
	if _, ok := c.Structure.(KFAC); ok {
		b = KFACFactors{Curvature: c.Curvature, Options: c.CurvatureOptions}
	}
	switch c.Method {
	case OBD:
		return OBDPruner{Curvature: b}
	case OBS:
		return OBSPruner{Curvature: b, Structure: c.Structure, Alpha: c.Alpha, Fix: c.Fix, Inverse: c.Inverse, NoUpdate: c.NoUpdate, DampingMode: c.Damping}
	}
	return MagnitudePruner{L1: c.L1}
}

// schedule returns the rebuild schedule of Recompute and RecomputeFraction.
func (c *Config) schedule() Schedule {
	switch {
	case c.RecomputeFraction > 0:
		return Fraction{F: c.RecomputeFraction}
	case c.Recompute > 0:
		return Every(c.Recompute)
	}
	return nil
}

// Plan returns the plan of Prune that cfg describes: the method value, the
// target, the schedule, retraining, rules, candidates and callbacks (Stop
// excepted: Prune takes a context). Run sets Measure on it; OneShot
// RankOnce for the methods without an update.
func (c *Config) Plan() *Plan {
	p := &Plan{Method: c.pruner(), Calib: c.Calib, Target: Target{Sparsity: c.Sparsity, Keep: c.Keep}, Candidates: c.Candidates, PerLayer: c.PerLayer,
		Granularity: c.Granularity, Group: c.Group, Rebuild: c.schedule(), RemoveDead: c.RemoveDead, TestX: c.TestX, TestT: c.TestT, Progress: c.Progress, Rebuilt: c.Rebuilt,
		Rules:   Rules{MaxError: c.MaxError, MinAccuracy: c.MinAccuracy, MaxPredicted: c.MaxPredicted, MaxPredictedRatio: c.MaxPredictedRatio},
		Retrain: Retraining{Every: c.Retrain, Above: c.RetrainAbove, Settings: c.Train}}
	for _, s := range c.Checkpoints {
		p.Checkpoints = append(p.Checkpoints, Target{Sparsity: s})
	}
	if f := c.Checkpoint; f != nil {
		p.Checkpoint = func(i int) error { f(i); return nil }
	}
	return p
}

func (c *Config) validate() error {
	switch c.Method {
	case Magnitude:
	case OBD:
		if c.Curvature != hessian.GGN && c.Curvature != hessian.Exact {
			return fmt.Errorf("prune: obd uses the diagonal of ggn or exact, not %v", c.Curvature)
		}
	case OBS:
	default:
		return fmt.Errorf("prune: unknown method %v", c.Method)
	}
	if !(c.Alpha >= 0) || math.IsInf(c.Alpha, 0) {
		return fmt.Errorf("prune: alpha %v must be a finite number > 0", c.Alpha)
	}
	if !c.dense() {
		if c.Method != OBS {
			return fmt.Errorf("prune: structure %v applies to obs, not %v", c.structure(), c.Method)
		}
		if c.Inverse != Blocked {
			return fmt.Errorf("prune: inverse form %v applies to the dense structure, not %v", c.Inverse, c.structure())
		}
		if b, ok := c.structure().(Blocks); ok && b.Size < 1 {
			return fmt.Errorf("prune: block size %d must be >= 1", b.Size)
		}
		if _, ok := c.structure().(KFAC); ok && c.Curvature != hessian.GGN && c.Curvature != hessian.MCFisher {
			return fmt.Errorf("prune: structure kfac is built for curvature ggn or mcfisher, not %v", c.Curvature)
		}
	}
	if c.L1 && c.Method != Magnitude {
		return fmt.Errorf("prune: the L1 norm applies to magnitude pruning, not %v", c.Method)
	}
	if c.Group < 0 {
		return fmt.Errorf("prune: group size %d must be >= 1", c.Group)
	}
	if c.Group > 1 && (c.Method != OBS || c.NoUpdate) {
		return fmt.Errorf("prune: group removal (group %d) needs obs with its update", c.Group)
	}
	if c.Recompute < 0 || c.Retrain < 0 || c.Keep < 0 {
		return fmt.Errorf("prune: recompute, retrain and keep must be >= 0")
	}
	if !(c.RecomputeFraction >= 0 && c.RecomputeFraction <= 1) {
		return fmt.Errorf("prune: recompute fraction %v must be in [0, 1]", c.RecomputeFraction)
	}
	if !(c.Sparsity >= 0 && c.Sparsity <= 1) {
		return fmt.Errorf("prune: sparsity %v must be in [0, 1]", c.Sparsity)
	}
	if !(c.MinAccuracy >= 0 && c.MinAccuracy <= 1) {
		return fmt.Errorf("prune: minimum accuracy %v must be in [0, 1]", c.MinAccuracy)
	}
	for _, v := range []float64{c.MaxError, c.MaxPredicted, c.RetrainAbove} {
		if !(v >= 0) {
			return fmt.Errorf("prune: error bounds must be numbers >= 0, got %v", v)
		}
	}
	return nil
}

// rebuildDue reports whether a state that has seen since deletions since
// it was built over built free parameters is to be rebuilt.
func (c *Config) rebuildDue(since, built int) bool {
	sc := c.schedule()
	return sc != nil && sc.Due(since, built)
}

// Builds returns the number of curvature builds a run of deletions from
// free down to keep parameters, group at a time, makes under c's schedule
// without retraining: what an estimate of its time needs. It also returns
// the free parameters at each build.
func (c *Config) Builds(free, keep int) []int {
	var at []int
	since, built := 0, 0
	for left := free; left > keep; {
		if len(at) == 0 || c.rebuildDue(since, built) {
			at = append(at, left)
			since, built = 0, left
		}
		k := min(c.group(), left-keep)
		left -= k
		since += k
	}
	return at
}

// checkInverseDiag returns an error if a diagonal entry of inv is not a
// positive finite number.
func checkInverseDiag(inv InverseCurvature, net *model.MLP, alpha float64) error {
	for _, q := range inv.Free() {
		if v := inv.Diag(q); !(v > 0) || math.IsInf(v, 0) {
			return fmt.Errorf("prune: inverse curvature has diagonal %v at parameter %s; raise alpha (now %g)", v, net.Name(q), alpha)
		}
	}
	return nil
}
