package study

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/prune"
)

// CompareOutputs are the files compare writes, in order.
var CompareOutputs = []string{"curves.png", "curves.svg", "prediction.png", "summary.md", "summary.json", "steps.csv"}

// CompareSettings are the rules every method ran under, stated in every output.
type CompareSettings struct {
	Model           string   `json:"model"`
	ModelSeed       *uint64  `json:"model_seed"`
	Data            string   `json:"data"`
	DataSource      string   `json:"data_source"`
	Patterns        int      `json:"patterns"`
	TestPatterns    int      `json:"test_patterns,omitempty"`
	Normalisation   string   `json:"normalisation"`
	Alpha           float64  `json:"alpha"`
	Recompute       int      `json:"recompute"`
	Keep            int      `json:"keep"`
	Fix             string   `json:"fix"`
	Structure       string   `json:"structure,omitempty"` // of the obs-* methods; empty for dense
	MCSamples       int      `json:"mc_samples"`
	MCSigma         float64  `json:"mc_sigma"`
	CurvSeed        uint64   `json:"curv_seed"`
	BruteForceEvery int      `json:"brute_force_every"`
	StartParams     int      `json:"start_params"`
	StartError      float64  `json:"start_train_error"`
	StartAccuracy   *float64 `json:"start_train_accuracy"`
	StartTestAcc    *float64 `json:"start_test_accuracy,omitempty"`
	StartGradNorm   float64  `json:"start_grad_norm"`
}

// BoundJSON is the parameters left when E first exceeds Factor times its
// starting value.
type BoundJSON struct {
	Factor   float64 `json:"factor"`
	MaxError float64 `json:"max_train_error"`
	Left     int     `json:"params_left"`
	Exceeded bool    `json:"exceeded"`
}

// MethodJSON is one method's line of summary.json.
type MethodJSON struct {
	Method              string      `json:"method"`
	Steps               int         `json:"steps"`
	StopReason          string      `json:"stop_reason"`
	EndParams           int         `json:"end_params"`
	EndError            float64     `json:"end_train_error"`
	EndTestAccuracy     *float64    `json:"end_test_accuracy,omitempty"`
	Bounds              []BoundJSON `json:"params_left_at_error_bound"`
	AccuracyLeft        *int        `json:"params_left_accuracy_preserved,omitempty"`
	AccuracyExceeded    *bool       `json:"accuracy_dropped,omitempty"`
	AccuracyTest        *float64    `json:"test_accuracy_there,omitempty"`
	Predicted           int         `json:"steps_with_prediction"`
	Spearman            *float64    `json:"spearman_predicted_actual"`
	Pearson             *float64    `json:"pearson_predicted_actual"`
	MedianLog10         *float64    `json:"median_abs_log10_ratio"`
	Pairs               int         `json:"median_pairs"`
	Scale               *float64    `json:"best_scale"`
	PearsonLog          *float64    `json:"pearson_log10_predicted_actual"`
	ScaleGeometric      *float64    `json:"scale_geometric_mean"`
	Decades             *float64    `json:"decades_spanned"`
	NonPositive         int         `json:"steps_actual_nonpositive"`
	BruteForceChecked   int         `json:"brute_force_checked"`
	BruteForceMatches   int         `json:"brute_force_matches"`
	BruteForceRate      *float64    `json:"brute_force_rate"`
	MeanRegret          *float64    `json:"brute_force_mean_excess"`
	FixShiftMax         *float64    `json:"fix_shift_max,omitempty"`
	FixNegativeEigenMax *int        `json:"fix_negative_eigenvalues_max,omitempty"`
}

// CompareSummary is summary.json, and obs compare's result.
type CompareSummary struct {
	Settings CompareSettings `json:"settings"`
	OutDir   string          `json:"out_dir"`
	Files    []string        `json:"files"`
	Methods  []MethodJSON    `json:"methods"`
}

// logStats are the predicted-against-actual statistics on log10 scale, over
// the steps where both increases are positive. The increases of a pruning
// run span many decades, where a linear Pearson correlation and a linear
// least-squares scale are ruled by the few largest steps (and the scale can
// come out negative); on log10 values every step counts alike.
type logStats struct {
	pearson float64 // Pearson correlation of log10 predicted and log10 actual
	scale   float64 // 10^mean(log10(actual/predicted)): the least-squares scale on log axes
	decades float64 // log10(max/min) over the predicted and actual values
	pairs   int
}

func logPairs(steps []prune.Step) logStats {
	var lp, la []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range steps {
		if !(s.Predicted > 0 && s.Actual > 0) || math.IsInf(s.Predicted, 0) || math.IsInf(s.Actual, 0) || s.Method == "dead-unit" {
			continue
		}
		lp, la = append(lp, math.Log10(s.Predicted)), append(la, math.Log10(s.Actual))
		lo, hi = math.Min(lo, math.Min(s.Predicted, s.Actual)), math.Max(hi, math.Max(s.Predicted, s.Actual))
	}
	ls := logStats{pearson: math.NaN(), scale: math.NaN(), decades: math.NaN(), pairs: len(lp)}
	if len(lp) == 0 {
		return ls
	}
	sum := 0.0
	for i := range lp {
		sum += la[i] - lp[i]
	}
	ls.scale = math.Pow(10, sum/float64(len(lp)))
	ls.decades = math.Log10(hi / lo)
	if len(lp) > 1 {
		ls.pearson = stats.Pearson(lp, la)
	}
	return ls
}

// MethodSummary summarises one method's run of a comparison.
func MethodSummary(r MethodRun) MethodJSON {
	res := r.Result
	mj := MethodJSON{Method: r.Name, Steps: len(res.Steps), StopReason: res.StopReason, EndParams: res.End.Params,
		EndError: res.End.TrainError, EndTestAccuracy: num(res.End.TestAccuracy), Predicted: r.Predicted,
		Spearman: num(r.Spearman), Pearson: num(r.Pearson), MedianLog10: num(r.MedianLog10), Pairs: r.Pairs,
		Scale: num(r.Scale), NonPositive: r.NonPositive, BruteForceChecked: len(r.Checks), BruteForceMatches: r.Matches,
		BruteForceRate: num(r.Rate)}
	for _, b := range r.Bounds {
		mj.Bounds = append(mj.Bounds, BoundJSON{b.Factor, b.MaxE, b.Left, b.Exceeded})
	}
	lp := logPairs(res.Steps)
	mj.PearsonLog, mj.ScaleGeometric, mj.Decades = num(lp.pearson), num(lp.scale), num(lp.decades)
	if r.AccuracyLeft >= 0 {
		left, ex := r.AccuracyLeft, r.AccuracyExceeded
		mj.AccuracyLeft, mj.AccuracyExceeded, mj.AccuracyTest = &left, &ex, num(r.AccuracyTest)
	}
	if len(r.Checks) > 0 {
		sum := 0.0
		for _, ch := range r.Checks {
			sum += ch.ChoiceIncrease - ch.BestIncrease
		}
		mj.MeanRegret = num(sum / float64(len(r.Checks)))
	}
	if len(res.FixReports) > 0 {
		shift, neg := 0.0, 0
		for _, f := range res.FixReports {
			shift, neg = math.Max(shift, f.Shift), max(neg, f.Negative)
		}
		mj.FixShiftMax, mj.FixNegativeEigenMax = &shift, &neg
	}
	return mj
}

// dataOf names the set the second curves panel is measured on.
func dataOf(set CompareSettings, test *datasets.Set) string {
	if test != nil {
		return test.Name + " (test set)"
	}
	return set.Data
}

// settingsLine states the rules every method ran under and the seeds, for
// figure labels.
func settingsLine(set CompareSettings) string {
	seed := "?"
	if set.ModelSeed != nil {
		seed = strconv.FormatUint(*set.ModelSeed, 10)
	}
	return fmt.Sprintf("α = %g, curvature rebuilt %s, fix %s, seeds: model %s, MC %d; E with 1/P", set.Alpha, EveryN(set.Recompute, "deletion"), set.Fix, seed, set.CurvSeed)
}

// writeCurves writes curves.png and curves.svg: two panels tiled with
// plot.Align, training error and a test (or training) accuracy or error.
func writeCurves(dir string, cmp *Comparison, set CompareSettings, test *datasets.Set) error {
	var trainS, otherS []figures.Series
	classes := !math.IsNaN(cmp.Start.TrainAccuracy)
	hasTest := test != nil
	other := func(s prune.Snapshot) float64 {
		switch {
		case hasTest && classes:
			return s.TestAccuracy
		case hasTest:
			return s.TestError
		}
		return s.TrainAccuracy
	}
	otherLabel := "training accuracy"
	switch {
	case hasTest && classes:
		otherLabel = "test accuracy"
	case hasTest:
		otherLabel = "test error"
	}
	for _, r := range cmp.Runs {
		ts := figures.Series{Label: r.Name, Key: r.Name, X: []float64{float64(r.Result.Start.Params)}, Y: []float64{r.Result.Start.TrainError}}
		oth := figures.Series{Label: r.Name, Key: r.Name, X: []float64{float64(r.Result.Start.Params)}, Y: []float64{other(r.Result.Start)}}
		for _, s := range r.Result.Steps {
			snap := prune.Snapshot{TrainAccuracy: s.TrainAccuracy, TestError: s.TestError, TestAccuracy: s.TestAccuracy}
			ts.X, ts.Y = append(ts.X, float64(s.Left)), append(ts.Y, s.TrainError)
			oth.X, oth.Y = append(oth.X, float64(s.Left)), append(oth.Y, other(snap))
		}
		trainS, otherS = append(trainS, ts), append(otherS, oth)
	}
	p1, err := figures.New(trainS, figures.Options{Title: "training error on " + set.Data + "\n" + settingsLine(set),
		XLabel: "parameters left", YLabel: "E (log scale)", LogY: true})
	if err != nil {
		return err
	}
	row := []*plot.Plot{p1}
	if hasTest || classes {
		p2, err := figures.New(otherS, figures.Options{Title: otherLabel + " on " + dataOf(set, test), XLabel: "parameters left", YLabel: otherLabel, LogY: hasTest && !classes})
		if err != nil {
			return err
		}
		row = append(row, p2)
	}
	for _, ext := range []string{"png", "svg"} {
		if err := savePanels(filepath.Join(dir, "curves."+ext), ext, row); err != nil {
			return err
		}
	}
	return nil
}

// savePanels tiles plots side by side with one legend beside them
// (figures.SaveRow) and writes them atomically.
func savePanels(path, _ string, row []*plot.Plot) error {
	return figures.SaveRow(path, row, vg.Length(16*len(row))*vg.Centimeter, 11*vg.Centimeter)
}

// writePrediction writes the log-log scatter of actual against predicted
// increases, counting in each label the steps a log axis cannot show.
func writePrediction(path string, cmp *Comparison, set CompareSettings) error {
	var series []figures.Series
	noPred := []string{}
	visible := 0
	for _, r := range cmp.Runs {
		s := figures.Series{Key: r.Name}
		hidden := 0
		for _, st := range r.Result.Steps {
			if math.IsNaN(st.Predicted) {
				continue
			}
			if !(st.Predicted > 0 && st.Actual > 0) {
				hidden++
			} else {
				visible++
			}
			s.X, s.Y = append(s.X, st.Predicted), append(s.Y, st.Actual)
		}
		if len(s.X) == 0 {
			noPred = append(noPred, r.Name)
			continue
		}
		s.Label = r.Name
		if hidden > 0 {
			s.Label += fmt.Sprintf(" (%d of %d steps with increase <= 0 not shown)", hidden, len(s.X))
		}
		series = append(series, s)
	}
	title := "actual vs predicted increase of E per step, " + set.Data
	if len(noPred) > 0 {
		title += "; no prediction: " + strings.Join(noPred, ", ")
	}
	o := figures.Options{XLabel: "predicted increase of E", YLabel: "actual increase of E",
		LogX: true, LogY: true, Points: true, Diagonal: true, Width: 20, Height: 15}
	if visible == 0 {
		// Nothing positive to place on log axes (e.g. only magnitude
		// pruning): an empty linear frame that says so.
		o.LogX, o.LogY, o.Diagonal = false, false, false
		title = "actual vs predicted increase of E, " + set.Data + ": no step to show"
		if len(noPred) > 0 {
			title += " (no prediction: " + strings.Join(noPred, ", ") + ")"
		}
	}
	title += "\n" + settingsLine(set)
	p, err := figures.New(series, o)
	if err != nil {
		return err
	}
	// The legend (beside the plot) counts the hidden steps per method; the
	// title says which methods have no prediction.
	p.Title.Text = title
	return figures.Save(p, path, o)
}

// EveryN says "after every deletion", "every 5 deletions" or "never" (n = 0).
func EveryN(n int, unit string) string {
	switch n {
	case 0:
		return "never"
	case 1:
		if unit == "deletion" {
			return "after every deletion"
		}
		return "every " + unit
	}
	return fmt.Sprintf("every %d %ss", n, unit)
}

// WriteCompareTable writes, as obs compare prints it, one line per method
// of cmp: the parameters left when E first exceeds twice its start (from
// the summary s of NewCompareSummary), the Spearman correlation and median
// |log10| ratio of predicted to actual increase, and how often the
// method's choice was the brute-force best.
func WriteCompareTable(w io.Writer, cmp *Comparison, s *CompareSummary) error {
	if _, err := fmt.Fprintf(w, "  %-13s %9s %9s %10s %s\n", "method", "left@2E0", "spearman", "median|lg|", "brute-force best chosen"); err != nil {
		return err
	}
	for i, r := range cmp.Runs {
		bf := "not checked"
		if len(r.Checks) > 0 {
			bf = fmt.Sprintf("%d of %d", r.Matches, len(r.Checks))
		}
		left := "-"
		for _, b := range s.Methods[i].Bounds {
			if b.Factor == 2 {
				left = strconv.Itoa(b.Left)
			}
		}
		if _, err := fmt.Fprintf(w, "  %-13s %9s %9s %10s %s\n", r.Name, left, Short(r.Spearman), Short(r.MedianLog10), bf); err != nil {
			return err
		}
	}
	return nil
}

// Short formats a number for the markdown summary and the table.
func Short(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func writeCompareMarkdown(w io.Writer, s CompareSummary, cmp *Comparison) error {
	set := s.Settings
	seed := "unknown"
	if set.ModelSeed != nil {
		seed = strconv.FormatUint(*set.ModelSeed, 10)
	}
	fmt.Fprintf(w, "# obs compare: %s\n\n", set.Data)
	fmt.Fprintf(w, "Model `%s` (training seed %s) on %s (%s; %d training patterns", set.Model, seed, set.Data, set.DataSource, set.Patterns)
	if set.TestPatterns > 0 {
		fmt.Fprintf(w, ", %d test patterns", set.TestPatterns)
	}
	fmt.Fprintf(w, ").\n\n")
	fmt.Fprintf(w, "Rules for every method: one parameter per step until %d are left; curvature rebuilt %s; "+
		"damping α = %g; exact Hessian made definite by fix `%s`; Monte-Carlo Fisher with %d samples per pattern, σ = %g, seed %d; "+
		"normalisation %s. Start: %d parameters, E = %s, ‖∇E‖ = %s",
		set.Keep, EveryN(set.Recompute, "deletion"), set.Alpha, set.Fix, set.MCSamples, set.MCSigma, set.CurvSeed, set.Normalisation,
		set.StartParams, Short(set.StartError), Short(set.StartGradNorm))
	if set.StartAccuracy != nil {
		fmt.Fprintf(w, ", training accuracy %s", Short(*set.StartAccuracy))
	}
	if set.StartTestAcc != nil {
		fmt.Fprintf(w, ", test accuracy %s", Short(*set.StartTestAcc))
	}
	fmt.Fprintf(w, ".\n\n## Parameters left\n\n")
	fmt.Fprintf(w, "Parameters left before the first step that raised the training error above the bound (`*`: never exceeded before the run stopped).\n\n")
	fmt.Fprintf(w, "| method |")
	for _, b := range cmp.Runs[0].Bounds {
		fmt.Fprintf(w, " E ≤ %g E₀ |", b.Factor)
	}
	classes := set.StartAccuracy != nil
	if classes {
		fmt.Fprintf(w, " training accuracy kept | test accuracy there |")
	}
	fmt.Fprintf(w, " end: params, E |\n|---|")
	for range cmp.Runs[0].Bounds {
		fmt.Fprintf(w, "---|")
	}
	if classes {
		fmt.Fprintf(w, "---|---|")
	}
	fmt.Fprintf(w, "---|\n")
	star := func(ok bool) string {
		if ok {
			return ""
		}
		return "*"
	}
	for _, r := range cmp.Runs {
		fmt.Fprintf(w, "| %s |", r.Name)
		for _, b := range r.Bounds {
			fmt.Fprintf(w, " %d%s |", b.Left, star(b.Exceeded))
		}
		if classes {
			fmt.Fprintf(w, " %d%s | %s |", r.AccuracyLeft, star(r.AccuracyExceeded), Short(r.AccuracyTest))
		}
		fmt.Fprintf(w, " %d, %s |\n", r.Result.End.Params, Short(r.Result.End.TrainError))
	}
	fmt.Fprintf(w, "\n## Predicted against actual increase of E, over the steps\n\n")
	check := "never"
	if set.BruteForceEvery > 0 {
		check = "before " + EveryN(set.BruteForceEvery, "step")
	}
	fmt.Fprintf(w, "Magnitude pruning makes no prediction. The increases span decades (column \"decades\"), so Pearson's correlation "+
		"and the scale are taken on log10 values, over the steps where both increases are positive (the pairs): Pearson of "+
		"log10 predicted against log10 actual, and the scale c = 10^mean(log10(actual/predicted)), the least-squares fit of "+
		"actual ≈ c·predicted on log axes (summary.json also holds the linear Pearson and least-squares scale). "+
		"Brute-force best: the candidate with the least actual increase after the method's own step, checked %s.\n\n", check)
	fmt.Fprintf(w, "| method | steps | Spearman | Pearson (log10) | median abs log10 ratio (pairs) | scale (log axes) | decades | actual ≤ 0 | brute-force best chosen |\n")
	fmt.Fprintf(w, "|---|---|---|---|---|---|---|---|---|\n")
	for i, r := range cmp.Runs {
		mj := s.Methods[i]
		bf := "not checked"
		if len(r.Checks) > 0 {
			bf = fmt.Sprintf("%d of %d (%s)", r.Matches, len(r.Checks), Short(r.Rate))
		}
		lp := logPairs(r.Result.Steps)
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s (%d) | %s | %s | %d | %s |\n", r.Name, mj.Steps, Short(r.Spearman), Short(lp.pearson),
			Short(r.MedianLog10), r.Pairs, Short(lp.scale), Short(lp.decades), r.NonPositive, bf)
	}
	fmt.Fprintf(w, "\nFiles: %s.\n", strings.Join(CompareOutputs, ", "))
	return nil
}

// DenseEmpty is the structure's name, "" for dense (so the outputs of a
// dense comparison are as before structures existed).
func DenseEmpty(s prune.Structure) string {
	if _, dense := s.(prune.Dense); dense || s == nil {
		return ""
	}
	return s.String()
}

// WriteComparison writes the outputs of a comparison into dir (the files
// CompareOutputs): the curves, the prediction figure, summary.md,
// summary.json (s) and steps.csv.
func WriteComparison(dir string, s *CompareSummary, cmp *Comparison, test *datasets.Set) error {
	set := s.Settings
	if err := writeCurves(dir, cmp, set, test); err != nil {
		return err
	}
	if err := writePrediction(filepath.Join(dir, "prediction.png"), cmp, set); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "summary.md"), func(w io.Writer) error {
		return writeCompareMarkdown(w, *s, cmp)
	}); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "summary.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, "steps.csv"), func(w io.Writer) error {
		for i, r := range cmp.Runs {
			if err := prune.WriteStepsCSV(w, r.Name, r.Result.Steps, i == 0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return nil
}

// num turns NaN and Inf into JSON null.
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// NewCompareSummary returns obs compare's summary of cmp, run with cfg on
// train (and test, nil for none) from the model file modelPath (its
// training seed modelSeed, nil if unknown), its files written in dir.
func NewCompareSummary(cmp *Comparison, cfg CompareConfig, train, test *datasets.Set, modelPath string, modelSeed *uint64, dir string) CompareSummary {
	mc := cfg.MC
	set := CompareSettings{
		Model: modelPath, ModelSeed: modelSeed, Data: train.Name, DataSource: train.Source,
		Patterns: len(train.Inputs), Normalisation: "1/P (P = training patterns); every curvature includes the model's weight decay",
		Alpha: cmp.Alpha, Recompute: cmp.Recompute, Keep: cmp.Keep, Fix: cmp.Fix,
		Structure: DenseEmpty(cfg.Structure),
		MCSamples: mc.Samples, MCSigma: mc.Sigma, CurvSeed: mc.Seed, BruteForceEvery: cmp.BruteForceEvery,
		StartParams: cmp.Start.Params, StartError: cmp.Start.TrainError, StartAccuracy: num(cmp.Start.TrainAccuracy),
		StartTestAcc: num(cmp.Start.TestAccuracy), StartGradNorm: cmp.Start.GradNorm,
	}
	if set.MCSamples == 0 {
		set.MCSamples = hessian.DefaultSamples
	}
	if set.MCSigma == 0 {
		set.MCSigma = hessian.DefaultSigma
	}
	if test != nil {
		set.TestPatterns = len(test.Inputs)
	}
	s := CompareSummary{Settings: set, OutDir: dir}
	for _, f := range CompareOutputs {
		s.Files = append(s.Files, filepath.Join(dir, f))
	}
	for _, r := range cmp.Runs {
		s.Methods = append(s.Methods, MethodSummary(r))
	}
	return s
}
