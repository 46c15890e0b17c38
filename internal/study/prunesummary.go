package study

import (
	"math"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// obs prune's summary.

// StepJSON is a pruning step in obs prune's summary.
type StepJSON struct {
	Step      int      `json:"step"`
	Index     int      `json:"index"`
	Name      string   `json:"name"`
	Predicted *float64 `json:"predicted"`
	Actual    *float64 `json:"actual"`
	Accuracy  *float64 `json:"train_accuracy"`
}

// PruneSummary is obs prune's summary, also recorded in the pruned model
// file's history.
type PruneSummary struct {
	Model         string   `json:"model"`
	Out           string   `json:"out"`
	Records       string   `json:"records,omitempty"`
	Data          string   `json:"data"`
	Method        string   `json:"method"`
	Curvature     string   `json:"curvature,omitempty"`
	Alpha         *float64 `json:"alpha,omitempty"`
	Damping       string   `json:"damping,omitempty"`
	Fix           string   `json:"fix,omitempty"`
	Inverse       string   `json:"inverse,omitempty"`
	Structure     string   `json:"structure,omitempty"`
	OneShot       bool     `json:"one_shot,omitempty"`
	Normalisation string   `json:"normalisation"`
	Calibration   int      `json:"calibration_patterns,omitempty"`
	// The Monte-Carlo Fisher's draws (curvature mcfisher only): samples
	// per pattern, the noise sigma of sampled squared-error targets (the
	// other losses sample labels and do not use it) and the seed, with
	// defaults filled in.
	MCSamples int      `json:"mc_samples,omitempty"`
	MCSigma   *float64 `json:"mc_sigma,omitempty"`
	CurvSeed  *uint64  `json:"curv_seed,omitempty"`
	// NEff is n_eff = (sum_p ||g_p||^2)^2 / sum_p ||g_p||^4 of the
	// calibration gradients the first curvature build used (ggn, ef and
	// mcfisher; SetNEff), beside their number P and the free parameters
	// nf; omitted for magnitude, exact and layer-input, and n_eff alone is
	// omitted when every gradient is 0.
	NEff              *float64        `json:"n_eff,omitempty"`
	NEffPatterns      int             `json:"n_eff_patterns,omitempty"`
	NEffFree          int             `json:"n_eff_free,omitempty"`
	NEffNote          string          `json:"n_eff_definition,omitempty"`
	Recompute         *int            `json:"recompute,omitempty"`          // every N deletions; omitted for P% and one-shot
	RecomputeSchedule string          `json:"recompute_schedule,omitempty"` // omitted for one-shot (built once)
	Retrain           *int            `json:"retrain,omitempty"`            // omitted for one-shot
	Group             int             `json:"group"`
	ParamsBefore      int             `json:"params_before"`
	ParamsAfter       int             `json:"params_after"`
	Steps             int             `json:"steps"`
	TrainErrorBefore  float64         `json:"train_error_before"`
	TrainErrorAfter   float64         `json:"train_error_after"`
	TrainAccBefore    *float64        `json:"train_accuracy_before"`
	TrainAccAfter     *float64        `json:"train_accuracy_after"`
	TestAccBefore     *float64        `json:"test_accuracy_before,omitempty"`
	TestAccAfter      *float64        `json:"test_accuracy_after,omitempty"`
	GradNormAfter     float64         `json:"grad_norm_after"`
	SpearmanPredicted *float64        `json:"spearman_predicted_actual"`
	StopReason        string          `json:"stop_reason"`
	Rejected          *StepJSON       `json:"rejected,omitempty"`
	FixReports        []FixReportJSON `json:"fix_reports,omitempty"`
	// Structured pruning (--granularity other than weight).
	Granularity string             `json:"granularity,omitempty"`
	Allocation  string             `json:"allocation,omitempty"`
	Before      *prune.SizeFigures `json:"before,omitempty"`
	After       *prune.SizeFigures `json:"after,omitempty"`
	// Compacted: the written model is the pruned one without its removed
	// units (physically smaller), with CompactedParams parameters left.
	Compacted       bool `json:"compacted,omitempty"`
	CompactedParams int  `json:"compacted_params,omitempty"`
}

// NewPruneSummary returns obs prune's summary of res, a run of cfg on
// train (oneShot: by prune.OneShot). The caller fills in the file names
// (Model, Out, Records) and, for structured pruning, the granularity and
// sizes (Structured).
func NewPruneSummary(res *prune.Result, cfg *prune.Config, train *datasets.Set, oneShot bool) PruneSummary {
	s := PruneSummary{
		Data: train.Name, Method: res.Method,
		Normalisation: "1/P (P = training patterns)", Group: cfg.Group,
		ParamsBefore: res.Start.Params, ParamsAfter: res.End.Params, Steps: len(res.Steps),
		TrainErrorBefore: res.Start.TrainError, TrainErrorAfter: res.End.TrainError,
		TrainAccBefore: num(res.Start.TrainAccuracy), TrainAccAfter: num(res.End.TrainAccuracy),
		TestAccBefore: num(res.Start.TestAccuracy), TestAccAfter: num(res.End.TestAccuracy),
		GradNormAfter: res.End.GradNorm, StopReason: res.StopReason, OneShot: oneShot,
	}
	if s.OneShot {
		s.Steps = res.Start.Params - res.End.Params
	} else {
		// Only the schedule that was used is stated: "recompute" (every N
		// deletions) beside a P% rule would read as "never".
		s.RecomputeSchedule, s.Retrain = cfg.RecomputeSchedule(), &cfg.Retrain
		if cfg.RecomputeFraction == 0 {
			s.Recompute = &cfg.Recompute
		}
	}
	if cfg.Method != prune.Magnitude {
		s.Curvature = cfg.Curvature.String()
		s.Calibration = train.Len()
		if cfg.Calib.Len() > 0 {
			s.Calibration = cfg.Calib.Len()
			s.Normalisation = "1/P (P = calibration patterns for the curvature, training patterns for E)"
		}
		if cfg.Curvature == hessian.MCFisher {
			if o, err := cfg.CurvatureOptions.Resolved(); err == nil { // the build ran with them
				s.MCSamples, s.MCSigma, s.CurvSeed = o.Samples, &o.Sigma, &o.Seed
			}
		}
	}
	if cfg.Method == prune.OBS {
		s.Alpha = num(res.Alpha)
		s.Damping = DampingNote(cfg.Damping)
		s.Inverse = cfg.Inverse.String()
		if cfg.Structure != nil {
			s.Structure, s.Inverse = cfg.Structure.String(), "cholesky per block"
			if _, ok := cfg.Structure.(prune.KFAC); ok {
				s.Inverse = "cholesky of each layer's pi-damped K-FAC factors"
			}
		}
		if cfg.Curvature.String() == "exact" {
			s.Fix = cfg.Fix.String()
			s.Inverse = "eigen/cholesky (exact)"
		}
	}
	var pred, act []float64
	for _, st := range res.Steps {
		if !math.IsNaN(st.Predicted) && st.Method != "dead-unit" {
			pred = append(pred, st.Predicted)
			act = append(act, st.Actual)
		}
	}
	s.SpearmanPredicted = num(stats.Spearman(pred, act))
	if r := res.Rejected; r != nil {
		s.Rejected = &StepJSON{Step: r.Step, Index: r.Index, Name: r.Name, Predicted: num(r.Predicted), Actual: num(r.Actual), Accuracy: num(r.TrainAccuracy)}
	}
	for _, f := range res.FixReports {
		// The same snake_case keys as obs hessian's, and NaN or Inf as null.
		s.FixReports = append(s.FixReports, FixReportJSON{Fix: f.Fix, Alpha: f.Alpha, Shift: f.Shift, MinEigen: num(f.MinEigen), MaxEigen: num(f.MaxEigen),
			Negative: f.Negative, Changed: f.Clipped, Condition: num(f.Condition)})
	}
	return s
}

// SetNEff states n_eff (hessian.EffectiveSamples) of the P calibration
// gradients over nf free parameters.
func (s *PruneSummary) SetNEff(neff float64, P, nf int) {
	s.NEff, s.NEffPatterns, s.NEffFree = num(neff), P, nf
	s.NEffNote = "(sum_p ||g_p||^2)^2 / sum_p ||g_p||^4 of the per-pattern gradients (observed labels, free parameters) on the calibration set at the starting weights: P for equal norms, 1 for one non-zero gradient; read against nf"
}

// Structured completes s for structured pruning (cfg.Granularity other
// than weights) of net, whose size figures were before: it states the
// granularity, the allocation and the sizes, and returns the network to
// write, net compacted (prune.Compact) when units or filters were removed,
// else net itself.
func (s *PruneSummary) Structured(net *model.MLP, cfg *prune.Config, before prune.SizeFigures) *model.MLP {
	g := cfg.Granularity
	if g.Kind == prune.ByWeight {
		return net
	}
	written := net
	s.Granularity, s.Before = g.String(), &before
	if g.Kind == prune.ByUnit || g.Kind == prune.ByFilter {
		s.Allocation = "global"
		if cfg.PerLayer {
			s.Allocation = "per-layer"
		}
		written, _ = prune.Compact(net)
		s.Compacted, s.CompactedParams = true, written.NumFree()
	}
	after := prune.SizeFiguresOf(written)
	s.After = &after
	return written
}

// DampingNote states a damping mode in an output: its name and, for
// relative damping, what alpha and the decay are multiples of.
func DampingNote(d hessian.Damping) string {
	if d == hessian.Relative {
		return "relative (alpha and decay are multiples of tr(C_data)/n, recomputed at every curvature build)"
	}
	return d.String()
}
