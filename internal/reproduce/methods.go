package reproduce

import (
	"math"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/prune"
)

// method is one pruning method with its loop settings.
type method struct {
	label string
	cfg   prune.Config
}

// newMethod returns the method m with curvature k (ignored by magnitude),
// rebuilding the curvature after every deletion (Recompute 1, as SNNS,
// FCNN4R and NNSYSID do) and retraining every retrain deletions.
func newMethod(m prune.Method, k hessian.Kind, retrain int, s Settings, mcSeed uint64) method {
	cfg := prune.Config{Method: m, Recompute: 1, Retrain: retrain}
	if m != prune.Magnitude {
		cfg.Curvature = k
	}
	if m == prune.OBS {
		cfg.Alpha, cfg.Damping = s.alpha(), s.Damping
		if k == hessian.Exact {
			cfg.Fix = s.Fix
		}
		if k == hessian.MCFisher {
			cfg.CurvatureOptions = &hessian.Options{Samples: s.MCSamples, Seed: mcSeed}
		}
	}
	label := "magnitude"
	switch m {
	case prune.OBD:
		label = "obd-" + k.String()
	case prune.OBS:
		label = "obs-" + k.String()
	}
	if retrain > 0 {
		label += "+retrain"
	}
	return method{label: label, cfg: cfg}
}

// xorFirstMethods are the methods whose first choice is compared on XOR, in
// report order; brute marks those whose own step is a distinct starting
// point for the brute-force retraining (OBD's step is magnitude's: w_q = 0).
func xorFirstMethods(s Settings, seed uint64) (ms []method, brute []bool) {
	ms = []method{
		newMethod(prune.Magnitude, 0, 0, s, seed),
		newMethod(prune.OBD, hessian.Exact, 0, s, seed),
		newMethod(prune.OBD, hessian.GGN, 0, s, seed),
		newMethod(prune.OBS, hessian.GGN, 0, s, seed),
		newMethod(prune.OBS, hessian.EmpiricalFisher, 0, s, seed),
		newMethod(prune.OBS, hessian.MCFisher, 0, s, seed),
		newMethod(prune.OBS, hessian.Exact, 0, s, seed),
	}
	brute = []bool{true, false, false, true, true, true, true}
	return ms, brute
}

// Indices into xorFirstMethods.
const (
	xorMagnitude = 0
	xorOBSGGN    = 3
	xorOBSEF     = 4
)

// xorSequenceMethods are the whole-sequence runs on XOR: every method
// without retraining, then OBD and magnitude retraining after every
// deletion (their published setting) and OBS-GGN with retraining.
func xorSequenceMethods(s Settings, seed uint64) []method {
	ms, _ := xorFirstMethods(s, seed)
	return append(ms,
		newMethod(prune.Magnitude, 0, 1, s, seed),
		newMethod(prune.OBD, hessian.Exact, 1, s, seed),
		newMethod(prune.OBD, hessian.GGN, 1, s, seed),
		newMethod(prune.OBS, hessian.GGN, 1, s, seed),
	)
}

// monkMethods are the MONK runs, in report order: the paper's OBS-GGN, the
// other OBS curvatures, OBD and magnitude with retraining after every
// deletion (their published setting), OBS-GGN with retraining (an extra
// row), and OBD and magnitude without retraining.
func monkMethods(s Settings, seed uint64) []method {
	return []method{
		newMethod(prune.OBS, hessian.GGN, 0, s, seed),
		newMethod(prune.OBS, hessian.EmpiricalFisher, 0, s, seed),
		newMethod(prune.OBS, hessian.Exact, 0, s, seed),
		newMethod(prune.OBD, hessian.GGN, 1, s, seed),
		newMethod(prune.Magnitude, 0, 1, s, seed),
		newMethod(prune.OBS, hessian.GGN, 1, s, seed),
		newMethod(prune.OBD, hessian.GGN, 0, s, seed),
		newMethod(prune.Magnitude, 0, 0, s, seed),
	}
}

// minAccuracy returns the stopping threshold "at least k of P right" for a
// network with training accuracy acc on P patterns: (k - 1/2)/P, halfway
// between k-1 and k right, so that no float equality is involved.
func minAccuracy(acc float64, p int) float64 {
	k := math.Round(acc * float64(p))
	return (k - 0.5) / float64(p)
}

// describe returns the record of a run of m, without its results.
func describe(m method, problem, data string, seed uint64, decay float64) Run {
	r := Run{Problem: problem, Data: data, Seed: seed, Decay: decay, Method: m.label,
		Recompute: m.cfg.Recompute, Retrain: m.cfg.Retrain}
	if m.cfg.Method != prune.Magnitude {
		r.Curvature = m.cfg.Curvature.String()
	}
	if m.cfg.Method == prune.OBS {
		r.Alpha = m.cfg.Alpha
		if m.cfg.Curvature == hessian.Exact {
			r.Fix = m.cfg.Fix.String()
		}
	}
	return r
}
