package main

import (
	"errors"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/metrics"
	"github.com/obs-toolkit/obs/prune"
)

// Layer-wise OBS in obs prune: --curvature layer-input with --structure
// layer (the layer-wise reconstruction error's Hessian 2XX^T/N, one per
// layer, instead of a curvature of E).

func layerPruneFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "allocation", Value: "per-layer", Usage: "with --structure layer: per-layer (every layer to --sparsity) or global (--sparsity of all weights, layers compared by relative reconstruction error)"},
		&cli.IntFlag{Name: "calib", Value: 1000, Usage: "with --structure layer: calibration patterns, the first N of the training set"},
		&cli.Float64Flag{Name: "damp", Value: prune.DefaultLayerDamp, Usage: "with --structure layer: damping lambda = damp * mean(diag(2XX^T/N)) added to each layer's input Hessian"},
	}
}

// layerSummary is the JSON summary of obs prune --structure layer.
type layerSummary struct {
	Model            string    `json:"model"`
	Out              string    `json:"out"`
	Data             string    `json:"data"`
	Method           string    `json:"method"`
	Loss             string    `json:"loss_approximated"`
	Structure        string    `json:"structure"`
	Curvature        string    `json:"curvature"`
	Allocation       string    `json:"allocation"`
	Calibration      int       `json:"calibration_patterns"`
	Damp             float64   `json:"damp"`
	Sparsity         float64   `json:"sparsity"`
	LayerSparsity    []float64 `json:"layer_sparsity"`
	LayerError       []float64 `json:"layer_error"`
	LayerEnergy      []float64 `json:"layer_energy"`
	ParamsBefore     int       `json:"params_before"`
	ParamsAfter      int       `json:"params_after"`
	TrainErrorBefore float64   `json:"train_error_before"`
	TrainErrorAfter  float64   `json:"train_error_after"`
	TrainAccBefore   *float64  `json:"train_accuracy_before"`
	TrainAccAfter    *float64  `json:"train_accuracy_after"`
	TestAccBefore    *float64  `json:"test_accuracy_before,omitempty"`
	TestAccAfter     *float64  `json:"test_accuracy_after,omitempty"`
	Seconds          float64   `json:"seconds"`
}

func runPruneLayer(c *cli.Context) error {
	if c.String("structure") != "layer" || c.String("method") != "obs" {
		return usagef("--curvature layer-input is layer-wise OBS: it needs --method obs --structure layer")
	}
	for _, f := range []string{"one-shot", "no-update", "group", "recompute", "retrain", "retrain-above", "keep", "max-error", "min-accuracy", "max-predicted", "remove-dead", "records", "alpha", "fix", "inverse", "samples", "sigma", "curv-seed"} {
		if c.IsSet(f) {
			return usagef("--%s does not apply to --structure layer", f)
		}
	}
	if !c.IsSet("sparsity") {
		return usagef("--structure layer needs --sparsity (fraction of weights to prune, biases kept)")
	}
	sp := c.Float64("sparsity")
	if !(sp >= 0 && sp <= 1) {
		return usagef("--sparsity %v must be in [0, 1]", sp)
	}
	alloc, err := prune.ParseAllocation(c.String("allocation"))
	if err != nil {
		return usageError{err}
	}
	calib, damp := c.Int("calib"), c.Float64("damp")
	if calib < 1 {
		return usagef("--calib %d must be >= 1", calib)
	}
	if !(damp >= 0) || damp > 1e300 {
		return usagef("--damp %v must be a finite number >= 0", damp)
	}
	if damp == 0 {
		damp = -1 // none (zero selects the default in prune)
	}
	out := c.String("out")
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	X := train.Inputs[:min(calib, train.Len())]
	s := layerSummary{Model: c.String("model"), Out: out, Data: train.Name, Method: "layer-wise obs",
		Loss:      "each layer's reconstruction error (1/N) sum_p ||W x_p - W' x_p||^2 on the calibration inputs, not E",
		Structure: "layer", Curvature: "layer-input", Allocation: alloc.String(), Calibration: len(X), Damp: c.Float64("damp"),
		ParamsBefore: m.NumFree()}
	before := metrics.Evaluate(m, train)
	s.TrainErrorBefore, s.TrainAccBefore = before.Error, before.Accuracy
	if test != nil {
		s.TestAccBefore = metrics.Evaluate(m, test).Accuracy
	}
	rows := 0
	for l := 1; l <= m.NumLayers(); l++ {
		r, _, _ := m.LayerShape(l)
		rows += r
	}
	b := newBar(c, rows, "layer-wise OBS")
	start := time.Now()
	res, err := prune.LayerwiseOBS(m, X, sp, &prune.LayerwiseSettings{Damp: damp, Allocation: alloc,
		Progress: func(done, total int) { b.Set(done, "layer-wise OBS: row %d of %d", done, total) },
		Stop:     func() bool { return interrupted(c) }})
	b.Done()
	if errors.Is(err, prune.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s.Seconds = time.Since(start).Seconds()
	s.Sparsity, s.LayerSparsity, s.LayerError, s.LayerEnergy = res.Sparsity, res.LayerSparsity, res.LayerError, res.LayerEnergy
	s.ParamsAfter = m.NumFree()
	after := metrics.Evaluate(m, train)
	s.TrainErrorAfter, s.TrainAccAfter = after.Error, after.Accuracy
	if test != nil {
		s.TestAccAfter = metrics.Evaluate(m, test).Accuracy
	}
	hist, _ := marshal(struct {
		Command string       `json:"command"`
		Summary layerSummary `json:"summary"`
	}{"obs " + strings.Join(os.Args[1:], " "), s})
	if err := withData(c, m.ToFile(file.Provenance, append(file.History, hist)).CarryData(file), train).Save(out); err != nil {
		return err
	}
	info(c, "layer-wise OBS (%s): %d -> %d parameters, weight sparsity %.4f; wrote %s\n", alloc, s.ParamsBefore, s.ParamsAfter, s.Sparsity, out)
	return emit(c, s)
}
