package main

import (
	"errors"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/study"
)

func init() { register(80, studyCommand) }

func studyCommand() *cli.Command {
	return &cli.Command{
		Name:      "study",
		Usage:     "score every curvature's pruning predictions against a shared ground truth and write the report",
		ArgsUsage: " ",
		Description: `Trains small students in controlled settings (teacher–student regression
with homoscedastic, heteroscedastic or no noise, a smaller and a wider student,
sigmoid output with squared error and 0/1 labels, softmax classification with
sampled, argmax, smoothed and flipped labels), 20 seeds each, and scores the OBS
predictions of the exact Hessian, the Gauss–Newton matrix, the empirical Fisher,
the Monte-Carlo Fisher, the mini-batch empirical Fisher (B = 8, 32), OBD and
magnitude against one shared ground truth: the training error after deleting
each parameter and retraining the rest. Reports Spearman correlations, regret of
the first choice, signed calibration, paired differences with bootstrap 95%
intervals, a sweep of the relative damping alpha = delta tr(C)/n, the agreement
of F_emp, G and H (best scale, distance, information-matrix statistic) and
multi-step pruning curves on training and test loss.

Also scores F_emp divided by its scale c* (the scale control), relative decay
(ggn-rel, ef-rel), the Monte-Carlo Fisher with one sampled target per pattern
(mc1, as many single-sample gradients as F_emp), the population empirical Fisher
(popf: the label noise integrated out under its known law), an overparameterised
student with lambda -> 0, and a calibration-size factor P_c in {32, 128, 512,
2048} (curvatures on independent calibration patterns, with mc4 against F_emp/c*
from as many gradients and n_eff against n). The main paired table is
Bonferroni-corrected; the opening bullets are chosen by conditions on the numbers.

Writes DIR/gn-vs-fisher.md and the per-seed results DIR/gn-vs-fisher-seeds.csv
(DIR is created if missing). Deterministic: the same flags
write the same bytes, whatever --workers. Every curvature carries the 1/P
normalisation and the weight decay. scripts/study.sh runs the full study into
docs/ (about 4.5 minutes of CPU for 10 seeds); --quick runs two tiny settings with 3 seeds
and 6 sampled candidates per network (seconds; for tests).

Example:
  obs study --out-dir docs`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out-dir", Required: true, Usage: "`DIR` for gn-vs-fisher.md (created if missing)"},
			&cli.BoolFlag{Name: "quick", Usage: "tiny sizes, 3 seeds, sampled candidates (seconds; for tests)"},
			&cli.StringFlag{Name: "seeds", Usage: "comma-separated seeds (default 1..20; 1,2,3 with --quick)"},
			&cli.IntFlag{Name: "workers", Usage: "networks scored at once (0: the number of CPUs); results do not depend on it"},
		},
		Action: runStudy,
	}
}

func runStudy(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("study takes no arguments")
	}
	seeds, err := study.ParseSeeds("seeds", c.String("seeds"))
	if err != nil {
		return usageError{err}
	}
	if c.Int("workers") < 0 {
		return usagef("--workers %d must be >= 0", c.Int("workers"))
	}
	dir := c.String("out-dir")
	if err := ensureDir("--out-dir", dir); err != nil {
		return err
	}
	if err := checkOutputs(c, out("--out-dir", filepath.Join(dir, study.ReportName)), out("--out-dir", filepath.Join(dir, study.SeedsName))); err != nil {
		return err
	}
	b := newBar(c, -1, "study")
	cfg := study.RunConfig{Quick: c.Bool("quick"), Seeds: seeds, Workers: c.Int("workers"),
		Progress: func(done, total int) { b.Set(done, "study: %d of %d settings and seeds", done, total) },
		Stop:     func() bool { return interrupted(c) }}
	res, err := study.Run(cfg)
	b.Done()
	if errors.Is(err, study.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s := study.NewRunSummary(res, dir)
	seedsCSV, err := res.SeedsCSV()
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(s.SeedsCSV, seedsCSV); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(s.Report, res.Markdown()); err != nil {
		return err
	}
	if c.Bool("json") {
		return emit(c, s)
	}
	info(c, "wrote %s and %s (seeds %v, relative damping delta %g, 1/P)\n", s.Report, s.SeedsCSV, res.Seeds, study.MainDelta)
	return nil
}
