package main

import (
	"errors"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

func init() { register(50, saliencyCommand) }

func saliencyCommand() *cli.Command {
	return &cli.Command{
		Name:      "saliency",
		Usage:     "measure how well a curvature predicts the loss increase of deleting each parameter",
		ArgsUsage: " ",
		Description: `At the model's current weights, for every surviving parameter q: the method's
saliency and predicted increase of E, the actual increase after the method's
own step (OBS: with its compensating update), the increase from just zeroing
w_q, and with --retrain the increase after deleting q and retraining the rest
(the brute-force "correct" choice). Then the Pearson, Spearman and Kendall
correlations between predicted and actual, and whether the method's first
choice is the best one. --csv writes every candidate.

For large networks: --sample N measures N of the surviving parameters drawn
uniformly (--sample-seed), with the same rows a full run gives them;
--calib N builds the curvature from the first N training patterns; and
--eval-patterns N measures E and every actual increase on the last N
training patterns instead of all of them, --eval-calib on the --calib
patterns (neither with --retrain, which would retrain on that subset):
  obs saliency --model lenet.json --data mnist --curvature ggn --alpha 1e-4 \
      --structure block:128 --calib 1000 --sample 2000 --eval-patterns 1000 \
      --json --csv lenet-saliency.csv

Example:
  obs saliency --model xor.json --data xor --curvature ggn --retrain --csv xor-saliency.csv`,
		Flags: append(append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "trained model `FILE`"},
			&cli.StringFlag{Name: "method", Value: "obs", Usage: "obs, obd or magnitude"},
			&cli.BoolFlag{Name: "no-update", Usage: "OBS saliency without the compensating update"},
			&cli.BoolFlag{Name: "retrain", Usage: "also delete each parameter and retrain the rest (slow: one training per parameter)"},
			&cli.StringFlag{Name: "trainer", Value: "lbfgs", Usage: "trainer for --retrain"},
			&cli.StringFlag{Name: "csv", Usage: "write every candidate to `FILE`"},
			&cli.IntFlag{Name: "top", Value: 10, Usage: "print the N lowest-saliency candidates"},
			&cli.IntFlag{Name: "sample", Usage: "measure `N` surviving parameters drawn uniformly without replacement (default: every one)"},
			&cli.Uint64Flag{Name: "sample-seed", Value: 1, Usage: "seed of the --sample draw"},
			&cli.IntFlag{Name: "calib", DefaultText: "every training pattern", Usage: "build the curvature from the first `N` training patterns"},
			&cli.IntFlag{Name: "eval-patterns", DefaultText: "every training pattern", Usage: "measure E and the actual increases on the last `N` training patterns"},
			&cli.BoolFlag{Name: "eval-calib", Usage: "measure E and the actual increases on the --calib patterns, the curvature's own"},
			memoryFlag(),
		), curvatureFlags()...),
		Action: runSaliency,
	}
}

func runSaliency(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("saliency takes no arguments")
	}
	cfg, err := methodConfig(c)
	if err != nil {
		return err
	}
	cfg.NoUpdate = c.Bool("no-update")
	if cfg.NoUpdate && cfg.Method != prune.OBS {
		return usagef("--no-update applies only to --method obs")
	}
	method, err := model.ParseMethod(c.String("trainer"))
	if err != nil {
		return usageError{err}
	}
	if c.Int("top") < 0 {
		return usagef("--top %d must be >= 0", c.Int("top"))
	}
	if c.IsSet("top") && c.Bool("json") {
		return usagef("--top sets the rows of the table, which --json does not print (--csv writes every candidate)")
	}
	if c.IsSet("trainer") && !c.Bool("retrain") {
		return usagef("--trainer applies only with --retrain")
	}
	csvPath := c.String("csv")
	if err := checkOutputs(c, out("--csv", csvPath)); err != nil {
		return err
	}
	if c.IsSet("sample-seed") && !c.IsSet("sample") {
		return usagef("--sample-seed applies only with --sample")
	}
	if c.IsSet("sample") && c.Int("sample") < 1 {
		return usagef("--sample %d must be >= 1", c.Int("sample"))
	}
	for _, f := range []string{"eval-patterns", "eval-calib"} {
		if c.IsSet(f) && c.Bool("retrain") {
			return usagef("--%s does not apply with --retrain (it would retrain on the evaluation subset)", f)
		}
	}
	if c.Bool("eval-calib") && (!c.IsSet("calib") || c.IsSet("eval-patterns")) {
		return usagef("--eval-calib needs --calib and no --eval-patterns")
	}
	m, _, train, _, err := loadModelData(c)
	if err != nil {
		return err
	}
	if err := calibFlags(c, &cfg, train); err != nil {
		return err
	}
	var cands []int
	if c.IsSet("sample") {
		if n := c.Int("sample"); n > m.NumFree() {
			return usagef("--sample %d exceeds the model's %d surviving parameters", n, m.NumFree())
		}
		cands = prune.SampleCandidates(m, c.Int("sample"), c.Uint64("sample-seed"))
	}
	EX, ET := train.Inputs, train.Targets
	if c.IsSet("eval-patterns") {
		n := c.Int("eval-patterns")
		if n < 1 || n > train.Len() {
			return usagef("--eval-patterns %d is outside 1..%d, the training patterns", n, train.Len())
		}
		if cfg.Calib.Len() == 0 {
			cfg.Calib = prune.Calibration{X: train.Inputs, T: train.Targets}
		}
		EX, ET = EX[len(EX)-n:], ET[len(ET)-n:]
	}
	if c.Bool("eval-calib") {
		EX, ET = cfg.Calib.X, cfg.Calib.T
	}
	est := resources.EstimatePruneOf(&cfg, m)
	if c.Bool("retrain") {
		resources.AddTraining(est, method, float64(m.NumFree()), m.NumOutputs())
	}
	if err := checkMemory(c, est, resources.CurvatureAlternatives(&cfg)); err != nil {
		return err
	}
	total := m.NumFree()
	if cands != nil {
		total = len(cands)
	}
	b := newBar(c, total, "saliency")
	stop := func() bool { return interrupted(c) }
	acfg := prune.AnalyzeConfig{Config: cfg, Retrain: c.Bool("retrain"), Train: &model.TrainSettings{Method: method, Stop: stop},
		Progress: func(done, total int) { b.Set(done, "") }, Candidates: cands}
	acfg.Stop = stop
	a, err := prune.Analyze(m, EX, ET, acfg)
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s := study.NewSaliencySummary(a, m, &cfg, train, acfg.Retrain)
	s.Model, s.CSV = c.String("model"), csvPath
	if cands != nil {
		seed := c.Uint64("sample-seed")
		s.Sampled, s.SampleSeed = true, &seed
	}
	if cfg.Calib.Len() > 0 && cfg.Method != prune.Magnitude {
		s.Calibration = cfg.Calib.Len()
		s.Normalisation = "1/P (P = calibration patterns for the curvature, evaluation patterns for E)"
	}
	if c.IsSet("eval-patterns") || c.Bool("eval-calib") {
		s.EvalPatterns = len(EX)
	}
	if c.Bool("eval-calib") {
		s.EvalSet = "calibration"
	} else if c.IsSet("eval-patterns") {
		s.EvalSet = "last training patterns"
	}
	if csvPath != "" {
		if err := atomicfile.Write(csvPath, func(w io.Writer) error { return prune.WriteCandidatesCSV(w, a) }); err != nil {
			return err
		}
	}
	if !c.Bool("json") {
		if err := prune.WriteCandidatesTable(stdoutOf(c), a, c.Int("top")); err != nil {
			return err
		}
	}
	return emit(c, s)
}
