package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Structured pruning in obs prune (--granularity unit, unit:outgoing,
// filter or N:M).

func granularityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "granularity", Value: "weight", Usage: "what is removed as one unit: weight, unit (a hidden neuron: its incoming weights and bias), unit:outgoing (its outgoing weights), filter (a conv layer's output channel: its weights and bias, with the next layer's input channel) or N:M such as 2:4 (N of every M consecutive input weights of a row)"},
		&cli.StringFlag{Name: "norm", Value: "l2", Usage: "with --method magnitude --granularity unit or filter: a group's score, the l2 or l1 norm of its weights"},
	}
}

// readGranularity reads --granularity and --norm into cfg; it is called
// before pruneFlags, whose target checks depend on the granularity.
func readGranularity(c *cli.Context, cfg *prune.Config) error {
	g, err := prune.ParseGranularity(c.String("granularity"))
	if err != nil {
		return usageError{err}
	}
	cfg.Granularity = g
	switch c.String("norm") {
	case "l2":
	case "l1":
		cfg.L1 = true
	default:
		return usagef("--norm %q: want l2 or l1", c.String("norm"))
	}
	if c.IsSet("norm") && ((g.Kind != prune.ByUnit && g.Kind != prune.ByFilter) || cfg.Method != prune.Magnitude) {
		return usagef("--norm applies to --method magnitude with --granularity unit or filter")
	}
	switch g.Kind {
	case prune.ByUnit, prune.ByFilter:
		if c.IsSet("allocation") {
			a, err := prune.ParseAllocation(c.String("allocation"))
			if err != nil {
				return usageError{err}
			}
			cfg.PerLayer = a == prune.PerLayer
		}
	case prune.ByNM:
		if err := refuse(c, []string{"keep", "sparsity", "max-error", "min-accuracy", "max-predicted", "max-predicted-ratio", "group", "allocation"}, fmt.Sprintf("does not apply to --granularity %v, which sets its own target (%d of every %d weights)", g, g.N, g.M)); err != nil {
			return err
		}
	}
	return nil
}

// checkUnitTarget checks --keep and the per-layer allocation against the
// hidden units (or the filters) of m.
func checkUnitTarget(c *cli.Context, cfg *prune.Config, m *model.MLP) error {
	if cfg.Granularity.Kind == prune.ByFilter {
		filters, _ := prune.FilterGroups(m)
		if len(filters) == 0 {
			return usagef("--granularity filter removes the filters of conv layers; %s has none", m.Describe())
		}
		if c.IsSet("keep") && cfg.Keep > len(filters) {
			return usagef("--keep %d is more than the model's %d filters (--granularity filter counts filters)", cfg.Keep, len(filters))
		}
		if cfg.PerLayer && (!c.IsSet("sparsity") || c.IsSet("keep")) {
			return usagef("--allocation per-layer needs --sparsity and no --keep")
		}
		return nil
	}
	if m.Layered() {
		return usagef("--granularity %v removes an MLP's hidden units; %s is given by its layers", cfg.Granularity, m.Describe())
	}
	if m.NumLayers() < 2 {
		return usagef("--granularity %v needs a hidden layer; %s has none", cfg.Granularity, model.Arch(m.Sizes))
	}
	units := prune.HiddenUnits(m.Sizes)
	if c.IsSet("keep") && cfg.Keep > units {
		return usagef("--keep %d is more than the model's %d hidden units (--granularity unit counts units)", cfg.Keep, units)
	}
	if cfg.PerLayer && (!c.IsSet("sparsity") || c.IsSet("keep")) {
		return usagef("--allocation per-layer needs --sparsity and no --keep")
	}
	return nil
}

// runPruneLayerUnits is obs prune --curvature layer-input --structure
// layer --granularity unit:outgoing: layer-wise OBS of hidden units
// (prune.LayerUnitOBSPruner), one shot to --sparsity of the units; or
// with --granularity N:M every row's greedy N:M path (prune.LayerOBSPruner
// with N:M, OBC's way).
func runPruneLayerUnits(c *cli.Context) error {
	g, err := prune.ParseGranularity(c.String("granularity"))
	if err != nil {
		return usageError{err}
	}
	nm := g.Kind == prune.ByNM
	if !nm && (g.Kind != prune.ByUnit || !g.Outgoing) {
		return usagef("--curvature layer-input removes units by their outgoing weights (--granularity unit:outgoing) or N:M patterns (such as 2:4), not %v", g)
	}
	if nm {
		if err := refuse(c, []string{"sparsity", "allocation"}, fmt.Sprintf("does not apply to --granularity %v, which sets its own target (%d of every %d weights)", g, g.N, g.M)); err != nil {
			return err
		}
	}
	if err := refuse(c, []string{"norm", "one-shot", "no-update", "group", "recompute", "retrain", "retrain-above", "keep", "max-error", "min-accuracy", "max-predicted", "max-predicted-ratio", "remove-dead", "records", "alpha", "fix", "inverse", "samples", "sigma", "curv-seed", "layer-sparsity"}, "does not apply to layer-wise unit OBS"); err != nil {
		return err
	}
	sp := c.Float64("sparsity")
	if !nm && (!c.IsSet("sparsity") || !(sp >= 0 && sp <= 1)) {
		return usagef("layer-wise unit OBS needs --sparsity in [0, 1], the fraction of hidden units to remove")
	}
	alloc, err := prune.ParseAllocation(c.String("allocation"))
	if err != nil {
		return usageError{err}
	}
	calib, damp, err := layerCalibDamp(c)
	if err != nil {
		return err
	}
	out := c.String("out")
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	if m.Layered() && !nm {
		return usagef("--granularity %v removes an MLP's hidden units; %s is given by its layers", g, m.Describe())
	}
	if m.NumLayers() < 2 && !nm {
		return usagef("--granularity %v needs a hidden layer; %s has none", g, model.Arch(m.Sizes))
	}
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	small, s, err := study.PruneLayerUnits(m, train, test, study.LayerConfig{Sparsity: sp, Allocation: alloc, Granularity: g,
		Calib: calib, Damp: damp, Stop: func() bool { return interrupted(c) }})
	if interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s.Model, s.Out = c.String("model"), out
	if err := savePruned(c, out, small, file, train, s); err != nil {
		return err
	}
	if nm {
		info(c, "layer-wise OBS %v: %d -> %d parameters; wrote %s\n", g, s.ParamsBefore, s.ParamsAfter, out)
		return emit(c, s)
	}
	info(c, "layer-wise unit OBS (%s): compacted %s to %s (%d parameters); wrote %s\n", alloc, s.Before.Arch, s.After.Arch, s.ParamsAfter, out)
	return emit(c, s)
}
