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
	m, _, train, _, err := loadModelData(c)
	if err != nil {
		return err
	}
	est := resources.EstimatePruneOf(&cfg, m)
	if c.Bool("retrain") {
		resources.AddTraining(est, method, float64(m.NumFree()), m.NumOutputs())
	}
	if err := checkMemory(c, est, resources.CurvatureAlternatives(&cfg)); err != nil {
		return err
	}
	b := newBar(c, m.NumFree(), "saliency")
	stop := func() bool { return interrupted(c) }
	acfg := prune.AnalyzeConfig{Config: cfg, Retrain: c.Bool("retrain"), Train: &model.TrainSettings{Method: method, Stop: stop},
		Progress: func(done, total int) { b.Set(done, "") }}
	acfg.Stop = stop
	a, err := prune.Analyze(m, train.Inputs, train.Targets, acfg)
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s := study.NewSaliencySummary(a, m, &cfg, train, acfg.Retrain)
	s.Model, s.CSV = c.String("model"), csvPath
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
