package reproduce

import (
	"fmt"
	"math"
	"strings"
)

// Summary is the JSON summary of a reproduction (summary.json and
// `obs reproduce --json`). NaN and Inf are null.
type Summary struct {
	Alpha         *float64     `json:"alpha"`
	AlphaNote     string       `json:"alpha_note"`
	Damping       string       `json:"damping,omitempty"`
	Normalisation string       `json:"normalisation"`
	Recompute     int          `json:"recompute"`
	Fix           string       `json:"fix_exact_hessian"`
	XOR           *XORSummary  `json:"xor,omitempty"`
	Monk          *MonkSummary `json:"monk,omitempty"`
}

// RangeJSON is a Range in JSON.
type RangeJSON struct {
	Median *float64 `json:"median"`
	Min    *float64 `json:"min"`
	Max    *float64 `json:"max"`
}

func rangeJSON(r Range) RangeJSON { return RangeJSON{jnum(r.Median), jnum(r.Min), jnum(r.Max)} }

func jnum(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func jrate(k, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := float64(k) / float64(n)
	return &v
}

// XORSummary is the XOR part of the summary.
type XORSummary struct {
	DataSource    string          `json:"data_source"`
	Networks      int             `json:"networks"`
	Seeds         string          `json:"seeds"`
	StartsPerSeed int             `json:"starts_per_seed"`
	KeepGradTol   float64         `json:"keep_grad_tol"`
	TieTol        float64         `json:"tie_tol"`
	MCSamples     int             `json:"mc_fisher_samples"`
	Regimes       []XORRegimeJSON `json:"regimes"`
	Paper         string          `json:"paper"`
	Reference     string          `json:"reference_correct"`
}

// XORRegimeJSON is one weight decay of the XOR experiment.
type XORRegimeJSON struct {
	Decay          float64         `json:"decay"`
	Label          string          `json:"regime"`
	StopE          *float64        `json:"stopped_at_e,omitempty"`
	Verdict        XORVerdictJSON  `json:"verdict"`
	Kept           int             `json:"kept"`
	LocalMinima    int             `json:"local_minima"`
	NotConverged   int             `json:"not_converged"`
	StartsDisagree int             `json:"starts_disagree"`
	Methods        []XORMethodJSON `json:"methods"`
	Sequences      []SequenceJSON  `json:"sequences"`
	Fisher         XORFisherJSON   `json:"empirical_fisher"`
	Sweep          []XORSweepJSON  `json:"alpha_sweep"`
	TieMax         *float64        `json:"tie_max"`
	GapMin         *float64        `json:"gap_min"`
}

// XORVerdictJSON says under which readings of "correct" the paper's claim
// (OBS-GGN right on every kept network, magnitude and every OBD variant
// wrong on at least one) holds.
type XORVerdictJSON struct {
	HoldsUnder []string `json:"holds_under"`
	FailsUnder []string `json:"fails_under"`
	Sentence   string   `json:"sentence"`
}

// XORMethodJSON is one method's first choices. The four readings of
// "correct" are counts of networks out of Networks.
type XORMethodJSON struct {
	Method                  string   `json:"method"`
	Networks                int      `json:"networks"`
	SolvesWithoutRetraining int      `json:"solves_without_retraining"`
	SolvesAfterRetraining   int      `json:"solves_after_retraining"`
	LeastEAfterStep         int      `json:"least_e_after_step"`
	LeastEAfterRetraining   int      `json:"least_e_after_retraining"`
	CorrectRetrainedRate    *float64 `json:"correct_rate"`
	CorrectUnambiguousRate  *float64 `json:"correct_rate_unambiguous"`
	CorrectCompensatedRate  *float64 `json:"best_obs_ggn_step_rate"`
	CorrectOwnRate          *float64 `json:"best_own_step_rate"`
	MeanOwnIncrease         *float64 `json:"mean_increase_own_step"`
	MeanRetrainedIncrease   *float64 `json:"mean_increase_retrained"`
	AgreeMagnitudeRate      *float64 `json:"agree_magnitude_rate"`
}

// SequenceJSON summarises one method's pruning runs.
type SequenceJSON struct {
	Method        string    `json:"method"`
	Retrain       int       `json:"retrain"`
	Runs          int       `json:"runs"`
	ParamsLeft    RangeJSON `json:"params_left"`
	TrainAccuracy RangeJSON `json:"train_accuracy"`
	TestAccuracy  RangeJSON `json:"test_accuracy"`
}

// XORFisherJSON summarises the empirical Fisher's size.
type XORFisherJSON struct {
	EFAgreesMagnitudeRate  *float64  `json:"obs_ef_agrees_magnitude_rate"`
	GGNAgreesMagnitudeRate *float64  `json:"obs_ggn_agrees_magnitude_rate"`
	EFOverGGNTrace         RangeJSON `json:"ef_over_ggn_trace"`
	EFOverFloor            RangeJSON `json:"ef_mean_diag_over_decay_plus_alpha"`
	GGNOverFloor           RangeJSON `json:"ggn_mean_diag_over_decay_plus_alpha"`
	MeanSqResidual         RangeJSON `json:"mean_squared_residual"`
	HG                     RangeJSON `json:"h_over_g_scale"`
	HGDist                 RangeJSON `json:"h_g_dist_after_scale"`
	ExactIndefinite        int       `json:"exact_hessian_indefinite"`
}

// XORSweepJSON is one OBS curvature at one damping.
type XORSweepJSON struct {
	Method             string   `json:"method"`
	Alpha              float64  `json:"alpha"`
	AgreeMagnitudeRate *float64 `json:"agree_magnitude_rate"`
	CorrectRate        *float64 `json:"correct_rate"`
	Failed             int      `json:"not_invertible"`
}

// MonkSummary is the MONK part of the summary.
type MonkSummary struct {
	DataSource string            `json:"data_source"`
	Seeds      int               `json:"seeds"`
	Restarts   int               `json:"restarts"`
	Problems   []MonkProblemJSON `json:"problems"`
}

// MonkProblemJSON is one MONK's problem.
type MonkProblemJSON struct {
	Problem           string    `json:"problem"`
	DataSource        string    `json:"data_source"`
	TrainFile         string    `json:"train_source"`
	TestFile          string    `json:"test_source"`
	Arch              string    `json:"arch"`
	Params            int       `json:"params"`
	Decay             float64   `json:"decay"`
	StoppingRule      string    `json:"stopping_rule"`
	PaperParamsAfter  int       `json:"paper_params_after"`
	PaperTestAccuracy float64   `json:"paper_test_accuracy"`
	TrainedTrainAcc   RangeJSON `json:"trained_train_accuracy"`
	TrainedTestAcc    RangeJSON `json:"trained_test_accuracy"`
	CurveSeed         uint64    `json:"curve_seed"`
	DistinctMinima    int       `json:"distinct_minima"`
	// RuleRight is MONK-3's count of training patterns the rule
	// a5 != 4 and a2 != 3 gets right.
	RuleRight *int           `json:"rule_a5_not_4_and_a2_not_3_right,omitempty"`
	Methods   []SequenceJSON `json:"methods"`
	// RatioRule are OBS-GGN's runs under the papers' rule L_q <= R E.
	RatioRule []SequenceJSON `json:"ratio_rule"`
	// Minima are the distinct training minima with their seeds' results.
	Minima []MonkMinimumJSON `json:"minima"`
}

// MonkMinimumJSON is one distinct training minimum.
type MonkMinimumJSON struct {
	E             float64        `json:"train_error"`
	Seeds         []uint64       `json:"seeds"`
	TrainAccuracy float64        `json:"train_accuracy"`
	TestAccuracy  float64        `json:"test_accuracy"`
	HG            *float64       `json:"h_over_g_scale"`
	HGDist        *float64       `json:"h_g_dist_after_scale"`
	Methods       []SequenceJSON `json:"methods"`
	RatioRule     []SequenceJSON `json:"ratio_rule"`
}

func sequencesJSON(ss []SequenceSummary) []SequenceJSON {
	out := []SequenceJSON{}
	for _, s := range ss {
		out = append(out, SequenceJSON{Method: s.Method, Retrain: s.Retrain, Runs: s.Runs, ParamsLeft: rangeJSON(s.Left),
			TrainAccuracy: rangeJSON(s.TrainAcc), TestAccuracy: rangeJSON(s.TestAcc)})
	}
	return out
}

// Summary returns the JSON summary of the report.
func (r *Report) Summary() Summary {
	s := Summary{Alpha: jnum(r.alpha()), AlphaNote: "OBS inverts C + alpha I; OBD and magnitude use no damping",
		Normalisation: "1/P (P = training patterns); every curvature includes the weight decay", Recompute: 1, Fix: r.fix(), Damping: r.relativeNote()}
	if x := r.XOR; x != nil {
		xs := &XORSummary{DataSource: "built-in XOR (4 patterns)", Networks: x.Networks, Seeds: fmt.Sprintf("1..%d", x.Networks), StartsPerSeed: 1,
			KeepGradTol: x.KeepGradTol, TieTol: x.TieTol, MCSamples: x.MCSamples,
			Paper:     PaperXORClaim,
			Reference: "four readings of correct: solves_without_retraining (still solves XOR after the method's own step), solves_after_retraining (after the deletion and retraining the rest from the step's result), least_e_after_step (the deletion whose own step raises E least, within tie_tol), least_e_after_retraining (the deletion that raises E least after retraining the rest, lowest E over the starting points w_q = 0 and the OBS-GGN, OBS-EF, OBS-MC and OBS-exact updates, within tie_tol)"}
		for _, reg := range x.Regimes {
			rj := XORRegimeJSON{Decay: reg.Decay, Label: reg.spec().Label(), StopE: jnum(reg.StopE), Verdict: reg.verdict(), Kept: reg.Kept, LocalMinima: reg.LocalMinima, NotConverged: reg.NotConverged,
				StartsDisagree: reg.StartsDisagree, Sequences: sequencesJSON(reg.Sequences), TieMax: jnum(reg.TieMax), GapMin: jnum(reg.GapMin),
				Methods: []XORMethodJSON{}, Sweep: []XORSweepJSON{}}
			un := reg.Kept - reg.StartsDisagree
			for _, m := range reg.Methods {
				rj.Methods = append(rj.Methods, XORMethodJSON{Method: m.Method, Networks: m.Networks,
					SolvesWithoutRetraining: m.SolvesNoRetrain, SolvesAfterRetraining: m.SolvesRetrained,
					LeastEAfterStep: m.CorrectOwn, LeastEAfterRetraining: m.CorrectRetrained,
					CorrectRetrainedRate: jrate(m.CorrectRetrained, m.Networks), CorrectUnambiguousRate: jrate(m.CorrectUnambiguous, un),
					CorrectCompensatedRate: jrate(m.CorrectCompensated, m.Networks), CorrectOwnRate: jrate(m.CorrectOwn, m.Networks),
					MeanOwnIncrease: jnum(m.MeanOwnIncrease), MeanRetrainedIncrease: jnum(m.MeanRetrainedIncrease),
					AgreeMagnitudeRate: jrate(m.AgreeMagnitude, m.Networks)})
			}
			f := reg.Fisher
			rj.Fisher = XORFisherJSON{EFAgreesMagnitudeRate: jrate(f.EFAgreesMagnitude, f.Networks), GGNAgreesMagnitudeRate: jrate(f.GGNAgreesMagnitude, f.Networks),
				EFOverGGNTrace: rangeJSON(f.EFOverGGN), EFOverFloor: rangeJSON(f.EFOverFloor), GGNOverFloor: rangeJSON(f.GGNOverFloor),
				MeanSqResidual: rangeJSON(f.MeanSqResidual), HG: rangeJSON(f.HG), HGDist: rangeJSON(f.HGDist), ExactIndefinite: f.ExactIndefinite}
			for _, sw := range reg.Sweep {
				n := sw.Networks - sw.Failed
				rj.Sweep = append(rj.Sweep, XORSweepJSON{Method: sw.Method, Alpha: sw.Alpha, AgreeMagnitudeRate: jrate(sw.AgreeMagnitude, n),
					CorrectRate: jrate(sw.CorrectRetrained, n), Failed: sw.Failed})
			}
			xs.Regimes = append(xs.Regimes, rj)
		}
		s.XOR = xs
	}
	if m := r.Monk; m != nil {
		ms := &MonkSummary{DataSource: m.DataLabel, Seeds: m.Seeds, Restarts: m.Restarts}
		for _, p := range m.Problems {
			var rule *int
			if p.RuleRight >= 0 {
				rule = &p.RuleRight
			}
			var tr, te []float64
			for _, t := range p.Trained {
				tr, te = append(tr, t.TrainAcc), append(te, t.TestAcc)
			}
			ms.Problems = append(ms.Problems, MonkProblemJSON{Problem: p.Name, DataSource: p.DataLabel, TrainFile: p.TrainSource, TestFile: p.TestSource,
				Arch: p.Arch, Params: p.Params, Decay: p.Decay,
				StoppingRule:     "training accuracy at or above its level before pruning (at least k of P right)",
				PaperParamsAfter: p.PaperAfter, PaperTestAccuracy: p.PaperTestAccuracy,
				TrainedTrainAcc: rangeJSON(rangeOf(tr)), TrainedTestAcc: rangeJSON(rangeOf(te)), CurveSeed: p.CurveSeed,
				DistinctMinima: p.DistinctMinima, RuleRight: rule,
				Methods: sequencesJSON(p.Methods), RatioRule: sequencesJSON(p.RatioMethods), Minima: minimaJSON(p.Minima)})
		}
		s.Monk = ms
	}
	return s
}

// PaperXORClaim is the OBS papers' sentence on XOR, in their words.
const PaperXORClaim = "of OBS, Optimal Brain Damage and magnitude-based methods, only OBS deletes the correct weights from a trained XOR network in every case"

// Readings are the four readings of "correct" in report order, by their
// JSON names.
var Readings = []string{"solves_without_retraining", "solves_after_retraining", "least_e_after_step", "least_e_after_retraining"}

// readingCount returns a method's count under reading i of Readings.
func readingCount(m XORMethodSummary, i int) int {
	return [...]int{m.SolvesNoRetrain, m.SolvesRetrained, m.CorrectOwn, m.CorrectRetrained}[i]
}

func (reg *XORRegime) spec() XORRegimeSpec { return XORRegimeSpec{Decay: reg.Decay, StopE: reg.StopE} }

// verdict judges the paper's claim under each reading: it holds when
// OBS-GGN (the paper's OBS) is right on every kept network while magnitude
// pruning and every OBD variant are wrong on at least one; otherwise it
// fails (and the sentence says which side broke it).
func (reg *XORRegime) verdict() XORVerdictJSON {
	v := XORVerdictJSON{HoldsUnder: []string{}, FailsUnder: []string{}}
	if reg.Kept == 0 || len(reg.Methods) == 0 {
		v.Sentence = fmt.Sprintf("%s: no network kept, no verdict.", reg.spec().Label())
		return v
	}
	var holds, fails []string
	for i, name := range Readings {
		ggn := reg.Methods[xorOBSGGN]
		counts := []string{fmt.Sprintf("obs-ggn %d/%d", readingCount(ggn, i), ggn.Networks)}
		othersPerfect := []string{}
		for _, m := range reg.Methods {
			if m.Method == "magnitude" || strings.HasPrefix(m.Method, "obd-") {
				counts = append(counts, fmt.Sprintf("%s %d", m.Method, readingCount(m, i)))
				if readingCount(m, i) == m.Networks {
					othersPerfect = append(othersPerfect, m.Method)
				}
			}
		}
		why := ""
		switch {
		case readingCount(ggn, i) < ggn.Networks && len(othersPerfect) > 0:
			why = "OBS misses and " + strings.Join(othersPerfect, ", ") + " never does; "
		case readingCount(ggn, i) < ggn.Networks:
			why = "OBS misses; "
		case len(othersPerfect) > 0:
			why = strings.Join(othersPerfect, ", ") + " also never misses; "
		}
		text := fmt.Sprintf("%s (%s%s)", name, why, strings.Join(counts, ", "))
		if why == "" {
			v.HoldsUnder = append(v.HoldsUnder, name)
			holds = append(holds, text)
		} else {
			v.FailsUnder = append(v.FailsUnder, name)
			fails = append(fails, text)
		}
	}
	h, f := "no reading", "no reading"
	if len(holds) > 0 {
		h = strings.Join(holds, "; ")
	}
	if len(fails) > 0 {
		f = strings.Join(fails, "; ")
	}
	v.Sentence = fmt.Sprintf("%s, %d networks kept: the claim holds under %s, and fails under %s.", reg.spec().Label(), reg.Kept, h, f)
	return v
}

func minimaJSON(ms []MonkMinimum) []MonkMinimumJSON {
	out := []MonkMinimumJSON{}
	for _, m := range ms {
		out = append(out, MonkMinimumJSON{E: m.E, Seeds: m.Seeds, TrainAccuracy: m.TrainAcc, TestAccuracy: m.TestAcc,
			HG: jnum(m.HG), HGDist: jnum(m.HGDist), Methods: sequencesJSON(m.Methods), RatioRule: sequencesJSON(m.Ratio)})
	}
	return out
}
