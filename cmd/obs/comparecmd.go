package main

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

func init() { register(60, compareCommand) }

func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "prune copies of one model with several methods and compare them",
		ArgsUsage: " ",
		Description: `Prunes a copy of the model with each of --methods under the same rules
(prune.Run: one parameter per step, the curvature rebuilt at the new weights
every --recompute deletions, damping --alpha, until --keep parameters are left;
the default --keep 1 prunes as far as possible so the curves show everything)
and writes into --out-dir (created if missing):

  curves.png, curves.svg  training error (log scale) and test accuracy (test
                          error without classes; training accuracy without a
                          test set) against the parameters left, one line per method
  prediction.png          actual against predicted increase of E at every step,
                          log-log with y = x; magnitude pruning has no prediction;
                          steps with an actual increase <= 0 cannot be shown and
                          are counted in the legend
  summary.md, summary.json per method: parameters left when E first exceeds
                          1.5, 2, 5 and 10 times the starting E and when the
                          training accuracy first drops; Spearman and Pearson
                          correlation of predicted and actual increase over the
                          steps; median |log10(predicted/actual)|; the best single
                          scale c minimising sum (c predicted - actual)^2; and how
                          often the step's choice was the brute-force best
  steps.csv               every step of every method (run = method)

Brute-force check (--brute-force-every N, 0 = off): before every N-th step,
every candidate is deleted at the current weights with the method's own step
(OBS: its compensating update from the same, freshly built curvature; OBD and
magnitude: set to 0) and the candidate whose actual increase of E is least is
compared with the method's choice. With --recompute 1 this is exactly the
choice the method faced.

Methods: magnitude, obd (diagonal of the GGN; obd-exact for the exact
Hessian's), obs-ggn, obs-ef, obs-mcfisher, obs-exact. obs-exact needs the
indefinite exact Hessian made definite: --fix (default abs, as in every obs
command; stated in every output). Every curvature carries the 1/P normalisation of E and the model's
weight decay.

Example:
  obs train --data monk1 --decay 1e-4 --seed 1 --out m.json
  mkdir cmp && obs compare --model m.json --data monk1 --out-dir cmp`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "trained model `FILE`"},
			&cli.StringFlag{Name: "methods", Value: strings.Join(study.DefaultMethods, ","), Usage: "comma-separated methods: magnitude, obd, obd-exact, obs-ggn, obs-ef, obs-mcfisher, obs-exact"},
			&cli.Float64Flag{Name: "alpha", Value: prune.DefaultAlpha, Usage: "damping: OBS inverts C + alpha I"},
			&cli.IntFlag{Name: "recompute", Value: 1, Usage: "rebuild the curvature and its inverse every N deletions (0: never, downdate only)"},
			&cli.IntFlag{Name: "keep", Value: 1, Usage: "stop each run when N parameters are left"},
			fixFlag("how obs-exact inverts an indefinite exact Hessian"),
			&cli.StringFlag{Name: "structure", Value: "dense", Usage: "how the obs-* methods store C^-1: dense, block:B, layer or diag (their labels then end in it, e.g. obs-ggn-block128)"},
			&cli.IntFlag{Name: "samples", Value: 0, Usage: "Monte-Carlo Fisher samples per pattern (0: the library default)"},
			&cli.Float64Flag{Name: "sigma", Value: 0, Usage: "noise sigma of the mse Monte-Carlo Fisher (0: the library default, 1)"},
			&cli.Uint64Flag{Name: "curv-seed", Value: 1, Usage: "seed of the Monte-Carlo Fisher's sampled targets"},
			&cli.IntFlag{Name: "brute-force-every", Value: 1, Usage: "check every N-th step against the brute-force best deletion (0: never)"},
			&cli.StringFlag{Name: "out-dir", Required: true, Usage: "`DIR` to write the figures, summaries and steps into (created if missing)"},
			memoryFlag(),
		),
		Action: runCompare,
	}
}

func runCompare(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("compare takes no arguments")
	}
	methods, err := study.ParseMethods("methods", c.String("methods"))
	if err != nil {
		return usageError{err}
	}
	alpha, err := finitePositive(c, "alpha")
	if err != nil {
		return err
	}
	fix, err := hessian.ParseFix(c.String("fix"))
	if err != nil {
		return usageError{err}
	}
	structure, err := prune.ParseStructure(c.String("structure"))
	if err != nil {
		return usageError{err}
	}
	if _, ok := structure.(prune.KFAC); ok {
		for _, m := range methods {
			if meth, kind, _ := study.ParseMethod(m); meth == prune.OBS && kind != hessian.GGN && kind != hessian.MCFisher {
				return usagef("--structure %v applies to obs-ggn and obs-mcfisher only; leave %s out of --methods", structure, m)
			}
		}
	}
	for _, f := range []string{"recompute", "keep", "samples", "brute-force-every"} {
		if c.Int(f) < 0 {
			return usagef("--%s %d must be >= 0", f, c.Int(f))
		}
	}
	mc, err := mcOptions(c)
	if err != nil {
		return err
	}
	// Flags of methods that --methods leaves out are usage errors.
	has := func(pred func(string) bool) bool {
		for _, m := range methods {
			if pred(m) {
				return true
			}
		}
		return false
	}
	isOBS := func(m string) bool { return strings.HasPrefix(m, "obs-") }
	for _, f := range []struct {
		flag, needs string
		ok          bool
	}{
		{"alpha", "an obs-* method", has(isOBS)},
		{"structure", "an obs-* method", has(isOBS)},
		{"fix", "obs-exact or obd-exact", has(func(m string) bool { return strings.HasSuffix(m, "-exact") })},
		{"samples", "obs-mcfisher", has(func(m string) bool { return m == "obs-mcfisher" })},
		{"sigma", "obs-mcfisher", has(func(m string) bool { return m == "obs-mcfisher" })},
		{"curv-seed", "obs-mcfisher", has(func(m string) bool { return m == "obs-mcfisher" })},
	} {
		if c.IsSet(f.flag) && !f.ok && hasFlag(c, f.flag) {
			return usagef("--%s applies only with %s in --methods", f.flag, f.needs)
		}
	}
	dir := c.String("out-dir")
	if err := ensureDir("--out-dir", dir); err != nil {
		return err
	}
	var outs []atomicfile.File
	for _, f := range study.CompareOutputs {
		outs = append(outs, out("--out-dir", filepath.Join(dir, f)))
	}
	if err := checkOutputs(c, outs...); err != nil {
		return err
	}
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return err
	}
	if k := c.Int("keep"); k >= m.NumFree() {
		return usagef("--keep %d leaves nothing to prune: the model has %d unpruned parameters", k, m.NumFree())
	}
	biggest, bigCfg := study.LargestEstimate(methods, m)
	if err := checkMemory(c, biggest, "leave out the largest methods with --methods, or "+resources.CurvatureAlternatives(&bigCfg)); err != nil {
		return err
	}
	train, test, err := loadDataFor(c, m, file)
	if err != nil {
		return err
	}
	if err := datasets.CheckFits(m, train); err != nil {
		return err
	}
	if test != nil {
		if err := datasets.CheckFits(m, test); err != nil {
			return err
		}
	}
	cfg := study.CompareConfig{Methods: methods, Alpha: alpha, Fix: fix, MC: mc, Recompute: c.Int("recompute"),
		Keep: c.Int("keep"), BruteForceEvery: c.Int("brute-force-every"), Structure: structure}
	total := len(methods) * (m.NumFree() - cfg.Keep)
	b := newBar(c, total, "compare")
	done := 0
	cfg.Progress = func(method string, s prune.Step) {
		done++
		b.Set(done, "%s: %d left", method, s.Left)
	}
	cfg.Stop = func() bool { return interrupted(c) }
	cmp, err := study.Compare(m, train, test, cfg)
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}

	s := study.NewCompareSummary(cmp, cfg, train, test, c.String("model"), file.Provenance.Seed, dir)

	if err := study.WriteComparison(dir, &s, cmp, test); err != nil {
		return err
	}
	if c.Bool("json") {
		return emit(c, s)
	}
	info(c, "compared %d methods on %s from %d parameters (keep %d, alpha %g, curvature rebuilt %s, fix %s, 1/P); wrote %s in %s\n",
		len(cmp.Runs), train.Name, cmp.Start.Params, cmp.Keep, cmp.Alpha, study.EveryN(cmp.Recompute, "deletion"), cmp.Fix, strings.Join(study.CompareOutputs, ", "), dir)
	return study.WriteCompareTable(stdoutOf(c), cmp, &s)
}
