package main

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/mnist"
	"github.com/obs-toolkit/obs/prune"
)

// obs reproduce mnist: the flags of internal/mnist's reproduction.

func mnistReproduceFlags() []cli.Flag {
	d := mnist.DefaultConfig(false)
	return []cli.Flag{
		&cli.BoolFlag{Name: "quick", Usage: "mnist: a fast check (1 seed, a 784-16-8-10 network, 2,000 training and 1,000 test images, 5 epochs of batches of 32, 200 calibration patterns)"},
		&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "mnist: training epochs (Adam, lr 1e-3 times --lr-decay per epoch)"},
		&cli.Float64Flag{Name: "lr-decay", Value: d.LRDecay, Usage: "mnist: multiply the training learning rate by this after every epoch"},
		&cli.StringFlag{Name: "models", Usage: "mnist: comma-separated trained model `FILES`, one per seed 1..N, all of one architecture (an MLP or a network given by its layers, e.g. LeNet-5, from obs train --seed N with the same recipe), used instead of training"},
		&cli.IntFlag{Name: "ft-epochs", Value: d.FTEpochs, Usage: "mnist: fine-tuning epochs after each gradual pruning step"},
		&cli.IntFlag{Name: "ft-patterns", Usage: "mnist: fine-tune on the first `N` training images only (0: all)"},
		&cli.IntFlag{Name: "calib", Value: d.Calib, Usage: "mnist: calibration patterns M (the first M training images) for OBD's diagonal, OBS's block curvature and layer-wise OBS"},
		&cli.StringFlag{Name: "sparsities", Value: "0.5,0.7,0.9,0.95,0.98", Usage: "mnist: weight sparsity targets, ascending"},
		&cli.StringFlag{Name: "methods", Value: strings.Join(mnist.AllMethods(), ","), Usage: "mnist: one-shot pruning methods: magnitude, obd (Gauss-Newton diagonal), lobs (layer-wise OBS), obs-KIND-bB (OBS with KIND ggn, ef or mcfisher in blocks of B), obs-KIND-kfac[E] (OBS with K-FAC, KIND ggn or mcfisher, 512 weights per step), or none (gradual runs only)"},
		&cli.StringFlag{Name: "gradual-methods", Value: "all", Usage: "mnist: methods also run gradually (prune, fine-tune, repeat): a list as --methods, all (every one of --methods) or none"},
		&cli.IntFlag{Name: "mc-samples", Value: d.MCSamples, Usage: "mnist: Monte-Carlo targets per pattern of obs-mcfisher-* (seeded with the training seed)"},
		&cli.StringFlag{Name: "merge", Usage: "mnist: run nothing; write one report from the mnist-summary.json of earlier runs in the comma-separated `DIRS` (same sparsities, calibration and damping; rows with fewer seeds are marked)"},
		&cli.StringFlag{Name: "allocations", Value: "global,per-layer", Usage: "mnist: sparsity allocations: global, per-layer"},
	}
}

// mnistFlagNames are the flags that only obs reproduce mnist takes.
var mnistFlagNames = []string{"quick", "epochs", "lr-decay", "models", "ft-epochs", "ft-patterns", "calib", "sparsities", "methods", "gradual-methods", "mc-samples", "allocations", "merge"}

func mnistSettings(c *cli.Context) (mnist.Config, error) {
	cfg := mnist.DefaultConfig(c.Bool("quick"))
	cfg.LRDecay, cfg.FTEpochs, cfg.MCSamples = c.Float64("lr-decay"), c.Int("ft-epochs"), c.Int("mc-samples")
	if c.IsSet("epochs") {
		cfg.Epochs = c.Int("epochs")
	}
	if c.IsSet("calib") {
		cfg.Calib = c.Int("calib")
	}
	if c.IsSet("alpha") {
		cfg.Alpha = c.Float64("alpha")
	}
	if c.IsSet("damping") {
		return cfg, usagef("--damping applies to xor and monk1..3; obs reproduce mnist damps absolutely (prune --damping relative for one model)")
	}
	if !(cfg.Alpha > 0) || math.IsInf(cfg.Alpha, 0) || !(cfg.LRDecay > 0 && cfg.LRDecay <= 1) || cfg.MCSamples < 1 {
		return cfg, usagef("--alpha %v must be a finite number > 0, --lr-decay %v in (0, 1] and --mc-samples %d >= 1", cfg.Alpha, cfg.LRDecay, cfg.MCSamples)
	}
	if v := c.String("models"); v != "" {
		cfg.Models = strings.Split(v, ",")
		if c.IsSet("seeds") && c.Int("seeds") != len(cfg.Models) {
			return cfg, usagef("--seeds %d but %d --models", c.Int("seeds"), len(cfg.Models))
		}
		if err := refuse(c, []string{"epochs", "lr-decay", "quick"}, "does not apply with --models (the models are trained)"); err != nil {
			return cfg, err
		}
		cfg.Seeds = len(cfg.Models)
	}
	if c.Int("seeds") > 0 {
		cfg.Seeds = c.Int("seeds")
	}
	cfg.FTPatterns = c.Int("ft-patterns")
	if cfg.Epochs < 1 || cfg.FTEpochs < 0 || cfg.Calib < 1 || cfg.FTPatterns < 0 {
		return cfg, usagef("--epochs %d must be >= 1, --ft-epochs %d >= 0, --ft-patterns %d >= 0 and --calib %d >= 1", cfg.Epochs, cfg.FTEpochs, cfg.FTPatterns, cfg.Calib)
	}
	var err error
	if cfg.Sparsities, err = mnist.ParseSparsities("sparsities", c.String("sparsities")); err != nil {
		return cfg, usageError{err}
	}
	if c.String("methods") == "none" {
		cfg.Methods = []string{}
	} else if cfg.Methods, err = mnist.ParseMethods("methods", c.String("methods")); err != nil {
		return cfg, usageError{err}
	}
	switch g := c.String("gradual-methods"); g {
	case "all":
		cfg.Gradual = cfg.Methods
	case "none":
		cfg.Gradual = []string{}
	default:
		if cfg.Gradual, err = mnist.ParseMethods("gradual-methods", g); err != nil {
			return cfg, usageError{err}
		}
	}
	if len(cfg.Methods)+len(cfg.Gradual) == 0 {
		return cfg, usagef("--methods none and --gradual-methods none leave nothing to run")
	}
	for _, f := range strings.Split(c.String("allocations"), ",") {
		a, err := prune.ParseAllocation(strings.TrimSpace(f))
		if err != nil {
			return cfg, usageError{err}
		}
		cfg.Allocs = append(cfg.Allocs, a)
		cfg.Allocations = append(cfg.Allocations, a.String())
	}
	return cfg, nil
}

func runReproduceMNIST(c *cli.Context) error {
	if c.IsSet("merge") {
		return mergeMNIST(c)
	}
	cfg, err := mnistSettings(c)
	if err != nil {
		return err
	}
	if err := refuse(c, []string{"monk-dir", "fix"}, "does not apply to obs reproduce mnist"); err != nil {
		return err
	}
	dir := c.String("out-dir")
	trained, err := mnist.LoadModels(&cfg)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", dir, err)
	}
	b := newBar(c, cfg.Jobs(), "mnist")
	progress := func(done, _ int, desc string) { b.Set(done, "mnist: %s", desc) }
	seedDone := func(part mnist.Config, runs []mnist.Run) error {
		if _, _, err := mnist.Write(dir, part, runs); err != nil {
			return err
		}
		// Committed now (obs holds every output back until the command
		// ends): each file is complete, and a run stopped in a later seed
		// leaves these.
		if err := atomicfile.Commit(); err != nil {
			return err
		}
		atomicfile.Stage()
		return nil
	}
	runs, err := mnist.Reproduce(c.Context, &cfg, trained, progress, seedDone)
	if err != nil {
		return err
	}
	b.Done()
	return writeMNIST(c, dir, cfg, runs)
}

// mergeMNIST writes one report from the summaries of earlier runs.
func mergeMNIST(c *cli.Context) error {
	for _, f := range c.FlagNames() {
		if f != "merge" && f != "out-dir" && f != "quiet" && f != "json" && c.IsSet(f) {
			return usagef("--merge runs nothing and takes only --out-dir, --quiet and --json, not --%s", f)
		}
	}
	cfg, runs, err := mnist.Merge(strings.Split(c.String("merge"), ","))
	if err != nil {
		return err
	}
	dir := c.String("out-dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", dir, err)
	}
	return writeMNIST(c, dir, cfg, runs)
}

// writeMNIST writes the report, CSV, JSON and figure of runs and prints
// the summary.
func writeMNIST(c *cli.Context, dir string, cfg mnist.Config, runs []mnist.Run) error {
	files, dense, err := mnist.Write(dir, cfg, runs)
	if err != nil {
		return err
	}
	info(c, "wrote %s in %s\n", strings.Join(files, ", "), dir)
	return emit(c, struct {
		OutDir string     `json:"out_dir"`
		Files  []string   `json:"files"`
		Dense  mnist.Cell `json:"dense_test_accuracy"`
	}{dir, files, dense})
}
