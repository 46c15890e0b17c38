package main

import (
	"errors"
	"io"
	"math"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

func init() { register(40, pruneCommand) }

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "prune a trained model with OBS, OBD or magnitude pruning",
		ArgsUsage: " ",
		Description: `Removes parameters one at a time (or --group K at a time) until a stopping rule
would be broken, recording for every step the predicted and the actual increase
of the training error E. The deletion that would break --max-error,
--min-accuracy, --max-predicted or --max-predicted-ratio is undone, so the written model satisfies
every rule.

OBS (Hassibi & Stork 1993): saliency w_q^2 / (2 [C^-1]_qq) and the compensating
update dw = -(w_q/[C^-1]_qq) C^-1 e_q, with C the chosen curvature (each with the
1/P normalisation and the model's weight decay) plus --alpha I. After a deletion
C^-1 follows the constrained downdate, and is rebuilt at the new weights on the
--recompute schedule: the default 5% rebuilds whenever 5% of the parameters
left at the last build have been deleted (about 32 builds from 2,410 down to
500 parameters); 1 rebuilds after every deletion as SNNS, FCNN4R and NNSYSID
do (obs reproduce does); 0 never rebuilds. OBD: saliency 1/2 C_qq w_q^2, no
update. Magnitude: |w_q|. --fix (exact Hessian) defaults to abs, as in every
command.

A ggn, ef or mcfisher build reports n_eff = (sum ||g_p||^2)^2 /
sum ||g_p||^4 of the calibration gradients at the starting weights, with
their number P and the free parameters nf (one extra backpropagation per
calibration pattern).

Before it starts, a run estimates its time from what it will do (the
curvature builds of its schedule, the deletions, and for a step-by-step run
the measurement of E after every step, at a rate measured on this machine)
and prints the estimate (stderr) when it exceeds 10 seconds, with the
settings that would shorten it; the progress lines update it as the run
goes. A run estimated beyond --max-time (default 30m) is refused before it
starts (exit 1), naming those settings: a step-by-step run of a large
network measures E on the whole training set after every deletion, where
--one-shot measures only the start and the end.

--curvature layer-input (with --structure layer) is layer-wise OBS (Dong et al.
2017; OBC, Frantar & Alistarh 2022): it approximates each layer's
reconstruction error on --calib calibration inputs instead of E, with the
exact Hessian 2XX^T/N (+ --damp) shared by every row, and prunes each row by
exact OBS to --sparsity of the weights (biases kept), --allocation per-layer
or global, or to each layer's own fraction (--layer-sparsity fc1=0.95,fc2=0.8,
fc3=0.3, by the layer names the model file records).

--structure stores C^-1 dense (the default), in contiguous blocks of B free
parameters (block:B, WoodFisher), one block per layer (layer) or diagonal
(diag): a step and its downdate then touch only the deleted parameter's
block, and memory is nf B floats instead of nf^2. --one-shot builds once and
deletes to --sparsity or --keep by downdates alone, the mode for networks of
10^5 parameters. --structure kfac (ggn or mcfisher only) is K-FAC (Martens &
Grosse 2015, WoodFisher's kfac pruner): per layer C^-1 = G^-1 ⊗ A^-1 from the
layer inputs (A) and the output-side vectors (G), for a conv layer its im2col
patches and the vectors at every output position (KFC, Grosse & Martens
2016), pi-damped with alpha,
memory the factors (sum of squared layer widths); a step updates the whole
layer, so on large layers remove --group K at a time; kfac:E downdates the
first E deletions of each layer exactly, later ones drop their row and
column until the next rebuild:
  obs prune --model big.json --data train.csv --structure block:128 \
      --sparsity 0.9 --one-shot --out big-pruned.json

Example:
  obs prune --model monk1.json --data monk1 --method obs --curvature ggn \
      --min-accuracy 1 --out monk1-pruned.json --records steps.csv
  obs prune --model lenet.json --data mnist --method obs --structure layer \
      --curvature layer-input --sparsity 0.9 --out lenet-90.json`,
		Flags: append(append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "trained model `FILE`"},
			&cli.StringFlag{Name: "method", Value: "obs", Usage: "obs, obd or magnitude"},
			&cli.BoolFlag{Name: "no-update", Usage: "use the saliency but skip the OBS compensating update"},
			&cli.IntFlag{Name: "group", Value: 1, Usage: "remove K parameters per step (group OBS, block formula)"},
			&cli.StringFlag{Name: "recompute", Value: defaultRecompute, Usage: "rebuild the curvature and its inverse every `N` deletions (1: every time; 0: never, downdate only), or P% to rebuild when P% of the parameters left at the last build have been deleted"},
			&cli.IntFlag{Name: "retrain", Value: 0, Usage: "retrain the survivors every N deletions (0: never)"},
			&cli.Float64Flag{Name: "retrain-above", Usage: "retrain whenever the training error exceeds this"},
			&cli.StringFlag{Name: "trainer", Value: "lbfgs", Usage: "trainer for retraining: lbfgs, bfgs, lm or gd"},
			&cli.IntFlag{Name: "keep", Usage: "stop when N parameters are left"},
			&cli.Float64Flag{Name: "sparsity", Usage: "stop when this fraction of all parameters is pruned"},
			&cli.Float64Flag{Name: "max-error", Usage: "stop before the training error would exceed this"},
			&cli.Float64Flag{Name: "min-accuracy", Usage: "stop before the training accuracy would fall below this (0..1)"},
			&cli.Float64Flag{Name: "max-predicted", Usage: "stop before a deletion whose predicted increase exceeds this"},
			&cli.Float64Flag{Name: "max-predicted-ratio", Usage: "stop before a deletion whose predicted increase L_q exceeds `R` times the training error E (the OBS papers' rule: L_q much smaller than E)"},
			&cli.BoolFlag{Name: "remove-dead", Usage: "also remove the parameters of hidden units left with no input or no output (E is unchanged)"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "pruned model `FILE` to write (JSON, with its pruning history)"},
			&cli.StringFlag{Name: "records", Usage: "write every step to `STEPS.csv`"},
			&cli.BoolFlag{Name: "one-shot", Usage: "build the curvature once and delete down to --sparsity or --keep by downdates only, measuring only the start and the end (for large networks; no retraining, no --records)"},
			&cli.BoolFlag{Name: "in-place", Usage: "allow --out to be the --model file itself (otherwise refused, so a typo cannot destroy the model)"},
			memoryFlag(), maxTimeFlag(),
		), append(append(curvatureFlags(), layerPruneFlags()...), granularityFlags()...)...),
		Action: runPrune,
	}
}

// pruneFlags reads the loop flags into cfg.
func pruneFlags(c *cli.Context, cfg *prune.Config, nParams, nFree int) error {
	var err error
	cfg.NoUpdate = c.Bool("no-update")
	if cfg.NoUpdate && cfg.Method != prune.OBS {
		return usagef("--no-update applies only to --method obs")
	}
	cfg.Group = c.Int("group")
	if cfg.Group < 1 {
		return usagef("--group %d must be >= 1", cfg.Group)
	}
	if cfg.Group > 1 && (cfg.Method != prune.OBS || cfg.NoUpdate) {
		return usagef("--group needs --method obs with its update")
	}
	if cfg.Recompute, cfg.RecomputeFraction, err = prune.ParseRecompute(c.String("recompute")); err != nil {
		return usagef("--%v", err)
	}
	cfg.Retrain = c.Int("retrain")
	if cfg.Retrain < 0 {
		return usagef("--retrain must be >= 0")
	}
	cfg.RetrainAbove = c.Float64("retrain-above")
	method, err := model.ParseMethod(c.String("trainer"))
	if err != nil {
		return usageError{err}
	}
	cfg.Train = &model.TrainSettings{Method: method}
	if c.IsSet("trainer") && !c.IsSet("retrain") && !c.IsSet("retrain-above") {
		return usagef("--trainer applies only with --retrain or --retrain-above")
	}
	cfg.Keep = c.Int("keep")
	if c.IsSet("keep") && (cfg.Keep < 0 || (cfg.Keep > nFree && cfg.Granularity.Kind == prune.ByWeight)) {
		return usagef("--keep %d is outside 0..%d, the model's unpruned parameters", cfg.Keep, nFree)
	}
	cfg.Sparsity = c.Float64("sparsity")
	if !(cfg.Sparsity >= 0 && cfg.Sparsity <= 1) {
		return usagef("--sparsity %v must be in [0, 1]", cfg.Sparsity)
	}
	cfg.MaxError, cfg.MinAccuracy, cfg.MaxPredicted = c.Float64("max-error"), c.Float64("min-accuracy"), c.Float64("max-predicted")
	cfg.MaxPredictedRatio = c.Float64("max-predicted-ratio")
	for _, f := range []string{"max-error", "max-predicted", "max-predicted-ratio", "retrain-above"} {
		if v := c.Float64(f); !(v >= 0) || math.IsInf(v, 0) {
			return usagef("--%s %v must be a finite number >= 0", f, v)
		}
	}
	if !(cfg.MinAccuracy >= 0 && cfg.MinAccuracy <= 1) {
		return usagef("--min-accuracy %v must be in [0, 1]", cfg.MinAccuracy)
	}
	if cfg.Granularity.Kind != prune.ByNM && !c.IsSet("keep") && !c.IsSet("sparsity") && !c.IsSet("max-error") && !c.IsSet("min-accuracy") && !c.IsSet("max-predicted") && !c.IsSet("max-predicted-ratio") {
		return usagef("give a stopping rule: --keep, --sparsity, --max-error, --min-accuracy, --max-predicted or --max-predicted-ratio")
	}
	cfg.RemoveDead = c.Bool("remove-dead")
	return nil
}

func runPrune(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("prune takes no arguments")
	}
	if c.String("curvature") == "layer-input" {
		return runPruneLayer(c)
	}
	cfg, err := methodConfig(c)
	if err != nil {
		return err
	}
	outPath, records := c.String("out"), c.String("records")
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	if err := readGranularity(c, &cfg); err != nil {
		return err
	}
	if err := pruneFlags(c, &cfg, len(m.Params), m.NumFree()); err != nil {
		return err
	}
	if err := calibFlags(c, &cfg, train); err != nil {
		return err
	}
	if k := cfg.Granularity.Kind; k == prune.ByUnit || k == prune.ByFilter {
		if err := checkUnitTarget(c, &cfg, m); err != nil {
			return err
		}
	}
	est := resources.EstimatePruneOf(&cfg, m)
	if err := checkMemory(c, est, resources.CurvatureAlternatives(&cfg)); err != nil {
		return err
	}
	if err := checkOutputs(c, out("--out", outPath), out("--records", records)); err != nil {
		return err
	}
	if c.Bool("one-shot") {
		if records != "" {
			return usagef("--records needs the per-step measurements that --one-shot skips")
		}
		if c.IsSet("recompute") || c.IsSet("retrain") || c.IsSet("retrain-above") || c.IsSet("max-error") || c.IsSet("min-accuracy") || c.IsSet("max-predicted") || c.IsSet("remove-dead") {
			return usagef("--one-shot takes only --sparsity or --keep as its target (no --recompute, --retrain, --max-error, --min-accuracy, --max-predicted or --remove-dead)")
		}
		cfg.Recompute, cfg.Train = 0, nil
	}
	sizeBefore := prune.SizeFiguresOf(m)
	before := m.NumFree()
	nf := before
	// The bar counts the deletions --keep and --sparsity allow; error and
	// accuracy rules can end the run sooner.
	target := min(cfg.KeepTarget(len(m.Params)), before)
	eta, err := estimatePruneTime(c, &cfg, m, train, test, before, target)
	if err != nil {
		return err
	}
	// With units or filters the bar counts groups (left reads the mask).
	left, noun := func(free int) int { return free }, ""
	if groups := cfg.Granularity.Groups(m); groups != nil {
		left, noun = func(int) int { return prune.GroupsLeft(m, groups) }, " units"
		if cfg.Granularity.Kind == prune.ByFilter {
			noun = " filters"
		}
		before, target = len(groups), min(cfg.KeepTarget(len(groups)), len(groups))
	}
	b := newBar(c, before-target, "pruning "+c.String("method"))
	if cfg.Method != prune.Magnitude {
		b.Set(0, "building the curvature (%d calibration patterns)", calibLen(&cfg, train))
	}
	cfg.Rebuilt = func(free int, took time.Duration) {
		eta.Rebuilt(free, took)
		n := left(free)
		b.Set(before-n, "pruning: %d%s left%s", n, noun, eta.LeftText())
	}
	cfg.Progress = func(s prune.Step) {
		if s.Method == "dead-unit" {
			n := left(s.Left)
			b.Set(before-n, "pruning: %d%s left (dead units removed)", n, noun)
			return
		}
		eta.Step()
		n := left(s.Left)
		if !b.Due() && n > target {
			return
		}
		if math.IsNaN(s.TrainError) { // one-shot: only the start and the end are measured
			b.Set(before-n, "pruning: %d%s left%s", n, noun, eta.LeftText())
		} else {
			b.Set(before-n, "pruning: %d%s left, E %.3g%s", n, noun, s.TrainError, eta.LeftText())
		}
	}
	cfg.Stop = func() bool { return interrupted(c) }
	if test != nil {
		cfg.TestX, cfg.TestT = test.Inputs, test.Targets
	}
	neff, nEffP, err := calibNEff(&cfg, m, train)
	if err != nil {
		return err
	}
	var res *prune.Result
	if c.Bool("one-shot") {
		var one *prune.OneShotResult
		if one, err = prune.OneShot(m, train.Inputs, train.Targets, cfg); err == nil {
			res = one.Result()
		}
	} else {
		cfg.Train.Stop = cfg.Stop
		res, err = prune.Run(m, train.Inputs, train.Targets, cfg)
	}
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s := study.NewPruneSummary(res, &cfg, train, c.Bool("one-shot"))
	s.Model, s.Out, s.Records = c.String("model"), outPath, records
	if nEffP > 0 {
		s.SetNEff(neff, nEffP, nf)
	}

	written := s.Structured(m, &cfg, sizeBefore)
	if records != "" {
		if err := atomicfile.Write(records, func(w io.Writer) error {
			return prune.WriteStepsCSV(w, res.Method, res.Steps, true)
		}); err != nil {
			return err
		}
	}
	if err := savePruned(c, outPath, written, file, train, s); err != nil {
		return err
	}
	info(c, "%s: %d -> %d parameters (%s); wrote %s\n", res.Method, res.Start.Params, res.End.Params, res.StopReason, outPath)
	if s.Compacted {
		info(c, "compacted %s to %s (%d parameters): %s holds the smaller network\n", s.Before.Arch, s.After.Arch, s.CompactedParams, outPath)
	}
	return emit(c, s)
}

// defaultRecompute is --recompute's default: a rebuild whenever 5% of the
// parameters left at the last build have been deleted (see README,
// "Defaults"), so that the number of builds grows with the log of the
// pruning ratio instead of with the number of deletions.
const defaultRecompute = "5%"

// calibNEff returns n_eff = (sum ||g_p||^2)^2 / sum ||g_p||^4
// (hessian.EffectiveSamples) of the per-pattern gradients on the
// calibration set (the training set without --calib) at m's current
// weights, and their number P, when cfg builds a ggn, ef or mcfisher
// curvature; P = 0 otherwise. It is one extra pass over the calibration
// set, a backpropagation per pattern: the build's own terms are not the
// gradients for ggn and mcfisher, and are streamed, never kept.
func calibNEff(cfg *prune.Config, m *model.MLP, train *datasets.Set) (float64, int, error) {
	if cfg.Method == prune.Magnitude {
		return 0, 0, nil
	}
	switch cfg.Curvature {
	case hessian.GGN, hessian.EmpiricalFisher, hessian.MCFisher:
	default:
		return 0, 0, nil
	}
	X, T := train.Inputs, train.Targets
	if cfg.Calib.Len() > 0 {
		X, T = cfg.Calib.X, cfg.Calib.T
	}
	neff, err := hessian.EffectiveSamples(m, X, T)
	return neff, len(X), err
}
