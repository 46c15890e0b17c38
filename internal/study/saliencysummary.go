package study

import (
	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// obs saliency's summary.

// CandidateJSON names a parameter in obs saliency's summary.
type CandidateJSON struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// SaliencySummary is obs saliency's summary.
type SaliencySummary struct {
	Model                string         `json:"model"`
	Data                 string         `json:"data"`
	Method               string         `json:"method"`
	Alpha                *float64       `json:"alpha,omitempty"`
	Damping              string         `json:"damping,omitempty"`
	Normalisation        string         `json:"normalisation"`
	Candidates           int            `json:"candidates"`
	Error                float64        `json:"error"`
	GradNorm             float64        `json:"grad_norm"`
	Pearson              *float64       `json:"pearson"`
	Spearman             *float64       `json:"spearman"`
	Kendall              *float64       `json:"kendall"`
	PearsonRetrained     *float64       `json:"pearson_retrained,omitempty"`
	SpearmanRetrained    *float64       `json:"spearman_retrained,omitempty"`
	KendallRetrained     *float64       `json:"kendall_retrained,omitempty"`
	FirstChoice          CandidateJSON  `json:"first_choice"`
	BestActual           CandidateJSON  `json:"best_actual"`
	BestRetrained        *CandidateJSON `json:"best_retrained,omitempty"`
	FirstIsBestActual    bool           `json:"first_is_best_actual"`
	FirstIsBestRetrained *bool          `json:"first_is_best_retrained,omitempty"`
	CSV                  string         `json:"csv,omitempty"`
	// Sampling (obs saliency --sample, --calib, --eval-patterns): the
	// candidates measured are Candidates of FreeParams drawn with
	// SampleSeed; the curvature is built from Calibration patterns and E,
	// the actual increases and the correlations are measured on
	// EvalPatterns (EvalSet: the last ones of the training set, or the
	// calibration patterns); first_choice and
	// best_actual are among the candidates measured.
	FreeParams   int     `json:"free_params"`
	Sampled      bool    `json:"sampled,omitempty"`
	SampleSeed   *uint64 `json:"sample_seed,omitempty"`
	Calibration  int     `json:"calibration_patterns,omitempty"`
	EvalPatterns int     `json:"eval_patterns,omitempty"`
	EvalSet      string  `json:"eval_set,omitempty"`
}

// NewSaliencySummary returns obs saliency's summary of a, the analysis of
// m under cfg on train (retrain: with the retrained increases). The caller
// fills in the file names (Model, CSV).
func NewSaliencySummary(a *prune.Analysis, m *model.MLP, cfg *prune.Config, train *datasets.Set, retrain bool) SaliencySummary {
	name := func(q int) CandidateJSON { return CandidateJSON{q, m.Name(q)} }
	s := SaliencySummary{
		Data: train.Name, Method: a.Method, Alpha: num(a.Alpha),
		Normalisation: "1/P (P = training patterns)", Candidates: len(a.Candidates), Error: a.E, GradNorm: a.GradNorm,
		Pearson: num(a.Pearson), Spearman: num(a.Spearman), Kendall: num(a.Kendall),
		FirstChoice: name(a.First), BestActual: name(a.BestActual), FirstIsBestActual: a.First == a.BestActual,
		FreeParams: m.NumFree(),
	}
	if a.Alpha == 0 {
		s.Alpha = nil
	}
	if cfg.Method == prune.OBS {
		s.Damping = DampingNote(cfg.Damping)
	}
	if retrain {
		s.PearsonRetrained, s.SpearmanRetrained, s.KendallRetrained = num(a.PearsonRetrained), num(a.SpearmanRetrained), num(a.KendallRetrained)
		br := name(a.BestRetrained)
		s.BestRetrained = &br
		ok := a.First == a.BestRetrained
		s.FirstIsBestRetrained = &ok
	}
	return s
}
