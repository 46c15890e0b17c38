package main

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/prune"
)

// Layer-wise OBS in obs prune: --curvature layer-input with --structure
// layer (the layer-wise reconstruction error's Hessian 2XX^T/N, one per
// layer, instead of a curvature of E).

func layerPruneFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "allocation", Value: "per-layer", Usage: "only with --curvature layer-input: per-layer (every layer to --sparsity) or global (--sparsity of all weights, layers compared by relative reconstruction error)"},
		&cli.IntFlag{Name: "calib", DefaultText: "every training pattern; 1000 with --curvature layer-input", Usage: "build the curvature (obs, obd; every --structure) from the first `N` training patterns; E, the accuracy and the stopping rules are still measured on all of them"},
		&cli.StringFlag{Name: "layer-sparsity", Usage: "only with --curvature layer-input, instead of --sparsity: each weight layer's fraction of weights to prune, `NAME=F,...` for every layer, NAME the layer names the model file records (obs import --names) or else 1, 2, ... (like fc1=0.95,fc2=0.8,fc3=0.3, Dong et al.'s LeNet-300-100 setting)"},
		&cli.Float64Flag{Name: "damp", Value: prune.DefaultLayerDamp, Usage: "only with --curvature layer-input: damping lambda = damp * mean(diag(2XX^T/N)) added to each layer's input Hessian (--alpha is the damping of the other curvatures)"},
	}
}

// defaultLayerCalib is --calib's default with --curvature layer-input.
const defaultLayerCalib = 1000

// calibFlags reads --calib for the curvature of --method obs or obd and
// refuses the flags of layer-wise OBS alone: it returns the calibration
// set, the first --calib patterns of train (the zero value without
// --calib: every pattern).
func calibFlags(c *cli.Context, cfg *prune.Config, train *datasets.Set) error {
	for _, f := range []string{"allocation", "damp", "layer-sparsity"} {
		if f == "allocation" && (cfg.Granularity.Kind == prune.ByUnit || cfg.Granularity.Kind == prune.ByFilter) {
			continue // the units' or filters' global or per-layer allocation (granularityFlags)
		}
		if c.IsSet(f) {
			return usagef("--%s applies only to --curvature layer-input (layer-wise OBS)", f)
		}
	}
	if !c.IsSet("calib") {
		return nil
	}
	if cfg.Method == prune.Magnitude {
		return usagef("--calib does not apply to --method magnitude (no curvature)")
	}
	n := c.Int("calib")
	if n < 1 {
		return usagef("--calib %d must be >= 1", n)
	}
	cfg.Calib = prune.FirstN(train.Inputs, train.Targets, n)
	return nil
}

func runPruneLayer(c *cli.Context) error {
	if c.String("structure") != "layer" || c.String("method") != "obs" {
		return usagef("--curvature layer-input is layer-wise OBS: it needs --method obs --structure layer")
	}
	if c.IsSet("granularity") {
		return runPruneLayerUnits(c)
	}
	if err := refuse(c, []string{"norm", "one-shot", "no-update", "group", "recompute", "retrain", "retrain-above", "keep", "max-error", "min-accuracy", "max-predicted", "remove-dead", "records", "alpha", "damping", "fix", "inverse", "samples", "sigma", "curv-seed"}, "does not apply to --structure layer"); err != nil {
		return err
	}
	perLayer := c.IsSet("layer-sparsity")
	switch {
	case perLayer && c.IsSet("sparsity"):
		return usagef("give --sparsity or --layer-sparsity, not both")
	case perLayer && c.IsSet("allocation"):
		return usagef("--allocation does not apply to --layer-sparsity (every layer has its own target)")
	case !perLayer && !c.IsSet("sparsity"):
		return usagef("--structure layer needs --sparsity (fraction of weights to prune, biases kept) or --layer-sparsity")
	}
	sp := c.Float64("sparsity")
	if !(sp >= 0 && sp <= 1) {
		return usagef("--sparsity %v must be in [0, 1]", sp)
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
	var targets []float64
	if perLayer {
		if targets, err = parseLayerSparsity(c.String("layer-sparsity"), layerKeys(file.LayerNames, m.NumLayers())); err != nil {
			return err
		}
	}
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	var b *bar // made at the first call, (0, rows)
	s, err := study.PruneLayerwise(m, train, test, study.LayerConfig{Sparsity: sp, LayerSparsity: targets, Allocation: alloc, Calib: calib, Damp: damp,
		Stop: func() bool { return interrupted(c) },
		Progress: func(done, total int) {
			if b == nil {
				b = newBar(c, total, "layer-wise OBS")
				return
			}
			b.Set(done, "layer-wise OBS: row %d of %d", done, total)
		}})
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s.Model, s.Out = c.String("model"), out
	if err := savePruned(c, out, m, file, train, s); err != nil {
		return err
	}
	info(c, "layer-wise OBS (%s): %d -> %d parameters, weight sparsity %.4f; wrote %s\n", alloc, s.ParamsBefore, s.ParamsAfter, s.Sparsity, out)
	return emit(c, s)
}

// layerCalibDamp reads --calib and --damp of layer-wise OBS: the
// calibration patterns (defaultLayerCalib unless given) and the damping,
// --damp 0 being none (study.LayerConfig.Damp).
func layerCalibDamp(c *cli.Context) (calib int, damp float64, err error) {
	calib, damp = defaultLayerCalib, c.Float64("damp")
	if c.IsSet("calib") {
		calib = c.Int("calib")
	}
	if calib < 1 {
		return 0, 0, usagef("--calib %d must be >= 1", calib)
	}
	if !(damp >= 0) || damp > 1e300 {
		return 0, 0, usagef("--damp %v must be a finite number >= 0", damp)
	}
	return calib, damp, nil
}

// layerKeys are the names --layer-sparsity knows the L weight layers by:
// the tensor prefixes the model file records (obs import --names), or
// else "1".."L".
func layerKeys(recorded []string, L int) []string {
	if len(recorded) == L {
		return recorded
	}
	keys := make([]string, L)
	for l := range keys {
		keys[l] = strconv.Itoa(l + 1)
	}
	return keys
}

// parseLayerSparsity reads --layer-sparsity, NAME=F for every name of
// keys, in any order, each F in [0, 1), and returns the targets in the
// order of keys. An unknown, repeated or missing name and a value outside
// [0, 1) are usage errors.
func parseLayerSparsity(s string, keys []string) ([]float64, error) {
	out := make([]float64, len(keys))
	seen := make([]bool, len(keys))
	for item := range strings.SplitSeq(s, ",") {
		name, v, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok {
			return nil, usagef("--layer-sparsity item %q: want NAME=F (layers %s)", item, strings.Join(keys, ", "))
		}
		l := slices.Index(keys, name)
		if l < 0 {
			return nil, usagef("--layer-sparsity: the model has no layer %q (its layers: %s)", name, strings.Join(keys, ", "))
		}
		if seen[l] {
			return nil, usagef("--layer-sparsity: layer %q given twice", name)
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f >= 0 && f < 1) {
			return nil, usagef("--layer-sparsity: layer %q: %q must be a number in [0, 1)", name, v)
		}
		out[l], seen[l] = f, true
	}
	var missing []string
	for l, ok := range seen {
		if !ok {
			missing = append(missing, keys[l])
		}
	}
	if missing != nil {
		return nil, usagef("--layer-sparsity has no target for layer %s (give every layer one; 0 keeps a layer whole)", strings.Join(missing, ", "))
	}
	return out, nil
}
