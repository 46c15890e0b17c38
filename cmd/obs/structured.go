package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Structured pruning in obs prune (--granularity unit, unit:outgoing or
// N:M) and the size and speed figures of obs eval.

func granularityFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "granularity", Value: "weight", Usage: "what is removed as one unit: weight, unit (a hidden neuron: its incoming weights and bias), unit:outgoing (its outgoing weights) or N:M such as 2:4 (N of every M consecutive input weights of a row)"},
		&cli.StringFlag{Name: "norm", Value: "l2", Usage: "with --method magnitude --granularity unit: a unit's score, the l2 or l1 norm of its group"},
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
	if c.IsSet("norm") && (g.Kind != prune.ByUnit || cfg.Method != prune.Magnitude) {
		return usagef("--norm applies to --method magnitude with --granularity unit")
	}
	switch g.Kind {
	case prune.ByUnit:
		if c.IsSet("allocation") {
			a, err := prune.ParseAllocation(c.String("allocation"))
			if err != nil {
				return usageError{err}
			}
			cfg.PerLayer = a == prune.PerLayer
		}
	case prune.ByNM:
		for _, f := range []string{"keep", "sparsity", "max-error", "min-accuracy", "max-predicted", "max-predicted-ratio", "group", "allocation"} {
			if c.IsSet(f) {
				return usagef("--%s does not apply to --granularity %v, which sets its own target (%d of every %d weights)", f, g, g.N, g.M)
			}
		}
	}
	return nil
}

// checkUnitTarget checks --keep and the per-layer allocation against the
// hidden units of m.
func checkUnitTarget(c *cli.Context, cfg *prune.Config, m *model.MLP) error {
	if m.NumLayers() < 2 {
		return usagef("--granularity %v needs a hidden layer; %s has none", cfg.Granularity, model.Arch(m.Sizes))
	}
	units := hiddenUnits(m.Sizes)
	if c.IsSet("keep") && cfg.Keep > units {
		return usagef("--keep %d is more than the model's %d hidden units (--granularity unit counts units)", cfg.Keep, units)
	}
	if cfg.PerLayer && (!c.IsSet("sparsity") || c.IsSet("keep")) {
		return usagef("--allocation per-layer needs --sparsity and no --keep")
	}
	return nil
}

func hiddenUnits(sizes []int) int {
	n := 0
	for _, s := range sizes[1 : len(sizes)-1] {
		n += s
	}
	return n
}

// sizeFigures are the size and cost figures of a network.
type sizeFigures struct {
	Arch        string `json:"arch"`
	HiddenUnits int    `json:"hidden_units"`
	// MultiplyAdds is a dense forward pass's per pattern (every weight of
	// the layers' shapes), NonzeroMultiplyAdds the unpruned weights'.
	MultiplyAdds        int `json:"multiply_adds"`
	NonzeroMultiplyAdds int `json:"nonzero_multiply_adds"`
}

func sizesOf(m *model.MLP) sizeFigures {
	d, nz := prune.MultiplyAdds(m)
	return sizeFigures{Arch: model.Arch(m.Sizes), HiddenUnits: hiddenUnits(m.Sizes), MultiplyAdds: d, NonzeroMultiplyAdds: nz}
}

// inferenceTime measures the forward pass of m on X (batched, as
// model.MLP.Evaluate runs it): the best of at least 5 passes and 0.5 s,
// in microseconds per pattern.
func inferenceTime(m *model.MLP, X, T [][]float64) float64 {
	best := time.Duration(1<<63 - 1)
	start := time.Now()
	for i := 0; i < 5 || time.Since(start) < 500*time.Millisecond; i++ {
		t0 := time.Now()
		m.Evaluate(X, T)
		best = min(best, time.Since(t0))
	}
	return best.Seconds() * 1e6 / float64(len(X))
}
