package study

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// The JSON form of the study's summary (obs study --json).

// RunSummary is obs study's summary: the files written into a directory,
// the run's seeds, damping, normalisation and ground truth, and every
// setting's row.
type RunSummary struct {
	Report        string    `json:"report"`
	SeedsCSV      string    `json:"seeds_csv"`
	Quick         bool      `json:"quick"`
	Seeds         []uint64  `json:"seeds"`
	Delta         float64   `json:"relative_damping_delta"`
	Normalisation string    `json:"normalisation"`
	Truth         string    `json:"ground_truth"`
	Rows          []RowJSON `json:"rows"`
}

// NewRunSummary returns the summary of res, whose report and per-seed
// results are written into dir (ReportName, SeedsName).
func NewRunSummary(res *Results, dir string) RunSummary {
	return RunSummary{Report: filepath.Join(dir, ReportName), SeedsCSV: filepath.Join(dir, SeedsName), Quick: res.Quick, Seeds: res.Seeds, Delta: MainDelta,
		Normalisation: "1/P (P = training patterns); every curvature includes the weight decay; alpha = delta tr(C)/n",
		Truth:         "E after deleting the parameter and retraining the rest to a minimum, minus E before",
		Rows:          res.SummaryJSON()}
}

// ParseSeeds parses the comma-separated seeds given as the flag --flag
// (nil for a blank list: RunConfig's default seeds); an error names the
// flag.
func ParseSeeds(flag, v string) ([]uint64, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var seeds []uint64
	for _, f := range strings.Split(v, ",") {
		s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("--%s: %q is not a seed (a number >= 0)", flag, f)
		}
		seeds = append(seeds, s)
	}
	return seeds, nil
}

// IntervalJSON is an Interval in JSON (NaN and Inf as null).
type IntervalJSON struct {
	Mean *float64 `json:"mean"`
	Lo   *float64 `json:"lo"`
	Hi   *float64 `json:"hi"`
	N    int      `json:"n"`
}

func ivJSON(iv Interval) IntervalJSON {
	return IntervalJSON{num(iv.Mean), num(iv.Lo), num(iv.Hi), iv.N}
}

// PredictorJSON is a predictor's row of the summary in JSON.
type PredictorJSON struct {
	Spearman     IntervalJSON `json:"spearman_vs_truth"`
	SpearmanTest IntervalJSON `json:"spearman_vs_test_truth"`
	Regret       IntervalJSON `json:"regret_first_choice"`
	FirstIsBest  int          `json:"first_choice_is_best"`
	CalMedian    IntervalJSON `json:"calibration_median_log10"`
	CalSpread    IntervalJSON `json:"calibration_iqr_log10"`
}

// PairedJSON is a paired comparison of two predictors in JSON.
type PairedJSON struct {
	A    string       `json:"a"`
	B    string       `json:"b"`
	Diff IntervalJSON `json:"spearman_a_minus_b"`
	Wins int          `json:"a_wins"`
}

// RowJSON is a setting's row of the summary in JSON.
type RowJSON struct {
	Setting      string                   `json:"setting"`
	Factor       string                   `json:"factor"`
	Seeds        int                      `json:"seeds"`
	Converged    int                      `json:"converged"`
	Candidates   int                      `json:"candidates_per_network"`
	CStar        IntervalJSON             `json:"c_star"`
	CStarOverMSR IntervalJSON             `json:"c_star_over_msr"`
	DistAfter    IntervalJSON             `json:"dist_after_scale"`
	HG           IntervalJSON             `json:"h_over_g_scale"`
	HGDist       IntervalJSON             `json:"h_g_dist_after_scale"`
	IMStat       IntervalJSON             `json:"im_equality_statistic"`
	Predictors   map[string]PredictorJSON `json:"predictors"`
	Pairs        []PairedJSON             `json:"paired"`
}

// SummaryJSON returns Summary's rows as obs study --json writes them: the
// main damping's predictors, NaN and Inf as null.
func (res *Results) SummaryJSON() []RowJSON {
	var rows []RowJSON
	for _, r := range res.Summary() {
		row := RowJSON{Setting: r.Setting.Label, Factor: r.Setting.Factor, Seeds: r.Seeds, Converged: r.Converged, Candidates: r.Candidates,
			CStar: ivJSON(r.CStar), CStarOverMSR: ivJSON(r.CStarOverMSR), DistAfter: ivJSON(r.DistAfter), HG: ivJSON(r.HG),
			HGDist: ivJSON(r.HGDist), IMStat: ivJSON(r.IMStat), Predictors: map[string]PredictorJSON{}}
		for _, p := range r.Predictors[MainIndex()] {
			row.Predictors[p.Name] = PredictorJSON{Spearman: ivJSON(p.Spearman), SpearmanTest: ivJSON(p.SpearmanTest),
				Regret: ivJSON(p.Regret), FirstIsBest: p.FirstIsBest, CalMedian: ivJSON(p.CalMedian), CalSpread: ivJSON(p.CalSpread)}
		}
		for _, p := range r.Pairs {
			row.Pairs = append(row.Pairs, PairedJSON{A: p.A, B: p.B, Diff: ivJSON(p.Diff), Wins: p.Wins})
		}
		rows = append(rows, row)
	}
	return rows
}
