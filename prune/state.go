package prune

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// state is the curvature information a method needs at some weights.
type state struct {
	free []int            // parameter index of each row of inv and diag
	pos  []int            // pos[q] is q's row, -1 if q was pruned when built
	inv  InverseCurvature // (C + alpha I)^-1 for OBS; nil otherwise
	diag []float64        // diagonal of C (undamped) for OBD and NoUpdate
	fix  *hessian.FixReport
	// since counts deletions since the state was built.
	since int
}

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
func (c *Config) label() string {
	switch c.Method {
	case Magnitude:
		return "magnitude"
	case OBD:
		return "obd-" + c.Curvature.String()
	}
	s := "obs-" + c.Curvature.String()
	if !c.dense() {
		s += "-" + strings.ReplaceAll(c.structure().String(), ":", "")
	}
	if c.NoUpdate {
		s += "-noupdate"
	}
	return s
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

// needsCurvature reports whether the method uses curvature at all.
func (c *Config) needsCurvature() bool { return c.Method != Magnitude }

// build computes the state at net's current weights.
func build(net *model.MLP, X, T [][]float64, cfg *Config) (*state, error) {
	st := &state{pos: make([]int, len(net.Params))}
	if !cfg.needsCurvature() {
		return st, nil
	}
	curv, err := hessian.New(cfg.Curvature, net, X, T, cfg.CurvatureOptions)
	if err != nil {
		return nil, err
	}
	st.free = curv.Free()
	for q := range st.pos {
		st.pos[q] = -1
	}
	for r, q := range st.free {
		st.pos[q] = r
	}
	if cfg.Method == OBS && !cfg.NoUpdate && !cfg.dense() {
		// Only OBD and NoUpdate read the diagonal; a large network's
		// curvature is not streamed twice for nothing.
		st.diag = nil
	} else {
		st.diag = make([]float64, len(st.free))
		curv.Diag(st.diag)
	}
	for r, d := range st.diag {
		if math.IsNaN(d) || math.IsInf(d, 0) {
			return nil, fmt.Errorf("prune: curvature diagonal is %v at parameter %s", d, net.Name(st.free[r]))
		}
	}
	if cfg.Method != OBS {
		return st, nil
	}
	inv, fix, err := cfg.structure().Inverse(net, curv, cfg)
	st.fix = fix
	if err != nil {
		return nil, err
	}
	st.inv = inv
	if err := checkInverseDiag(st.inv, net, cfg.alpha()); err != nil {
		return nil, err
	}
	return st, nil
}

// saliencies writes the method's saliency of every parameter into sal
// (NaN for pruned ones).
func saliencies(sal []float64, net *model.MLP, st *state, cfg *Config) {
	for q := range sal {
		sal[q] = math.NaN()
		if net.Pruned[q] {
			continue
		}
		w := net.Params[q]
		switch cfg.Method {
		case Magnitude:
			sal[q] = math.Abs(w)
		case OBD:
			sal[q] = 0.5 * st.diag[st.pos[q]] * w * w
		case OBS:
			sal[q] = Saliency(st.inv, net.Params, q)
		}
	}
}

// choose returns the k parameters with the smallest saliency (ties to the
// lower index), in increasing order of saliency.
func choose(sal []float64, k int) []int {
	var idx []int
	for q, s := range sal {
		if !math.IsNaN(s) {
			idx = append(idx, q)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return sal[idx[a]] < sal[idx[b]] })
	if len(idx) > k {
		idx = idx[:k]
	}
	return idx
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
