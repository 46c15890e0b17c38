package study

import (
	"time"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// obs prune's layer-wise OBS (--curvature layer-input): the runs and their
// summaries.

// layerLoss states what layer-wise OBS approximates instead of E.
const layerLoss = "each layer's reconstruction error (1/N) sum_p ||W x_p - W' x_p||^2 on the calibration inputs, not E"

// BeforeAfter holds a network's size and figures before and after
// pruning: unpruned parameters, the training error E, the training and
// the test accuracy (nil where there is none).
type BeforeAfter struct {
	ParamsBefore     int      `json:"params_before"`
	ParamsAfter      int      `json:"params_after"`
	TrainErrorBefore float64  `json:"train_error_before"`
	TrainErrorAfter  float64  `json:"train_error_after"`
	TrainAccBefore   *float64 `json:"train_accuracy_before"`
	TrainAccAfter    *float64 `json:"train_accuracy_after"`
	TestAccBefore    *float64 `json:"test_accuracy_before,omitempty"`
	TestAccAfter     *float64 `json:"test_accuracy_after,omitempty"`
}

// measure returns the unpruned parameters of m, its E and accuracy on
// train and its accuracy on test (nil test: none).
func measure(m *model.MLP, train, test *datasets.Set) (params int, e float64, acc, testAcc *float64) {
	st := datasets.Evaluate(m, train.Inputs, train.Targets)
	if test != nil {
		testAcc = datasets.Evaluate(m, test.Inputs, test.Targets).Accuracy
	}
	return m.NumFree(), st.Error, st.Accuracy, testAcc
}

// LayerConfig is a layer-wise OBS run of obs prune on the first Calib
// training patterns.
type LayerConfig struct {
	// Sparsity is the fraction of the weights (biases kept) or, with
	// Granularity unit:outgoing, of the hidden units to remove; N:M sets
	// its own.
	Sparsity float64
	// LayerSparsity, if not nil, is the fraction of each weight layer's
	// weights to remove (prune.LayerwiseSettings.LayerTargets), instead
	// of Sparsity (then 0) and Allocation (then per-layer).
	LayerSparsity []float64
	Allocation    prune.Allocation
	// Granularity is weights (the zero value), unit:outgoing or N:M.
	Granularity prune.Granularity
	// Calib is the number of calibration patterns, the first of the
	// training set (all of them if it has fewer).
	Calib int
	// Damp is the relative damping of each layer's input Hessian; 0 is
	// none (prune.LayerwiseSettings.NoDamp).
	Damp float64
	// Progress, if not nil, is called with (0, rows) at the start and
	// after every row of a weights run.
	Progress func(done, total int)
	// Stop, if not nil, is polled during the run.
	Stop func() bool
}

// LayerSummary is the summary of layer-wise OBS of the weights (obs prune
// --structure layer --curvature layer-input), also recorded in the pruned
// model file's history.
type LayerSummary struct {
	Model         string    `json:"model"`
	Out           string    `json:"out"`
	Data          string    `json:"data"`
	Method        string    `json:"method"`
	Loss          string    `json:"loss_approximated"`
	Structure     string    `json:"structure"`
	Curvature     string    `json:"curvature"`
	Allocation    string    `json:"allocation"`
	Calibration   int       `json:"calibration_patterns"`
	Damp          float64   `json:"damp"`
	Sparsity      float64   `json:"sparsity"`
	LayerTargets  []float64 `json:"layer_targets,omitempty"`
	LayerSparsity []float64 `json:"layer_sparsity"`
	LayerError    []float64 `json:"layer_error"`
	LayerEnergy   []float64 `json:"layer_energy"`
	BeforeAfter
	Seconds float64 `json:"seconds"`
}

// PruneLayerwise prunes m in place by layer-wise OBS of its weights
// (prune.LayerwiseOBS: Dong et al. 2017; OBC, Frantar & Alistarh 2022) to
// cfg.Sparsity on the first cfg.Calib patterns of train and returns the
// summary, measured on train and test (nil: none) before and after. The
// caller fills in the file names (Model, Out). A stopped run returns
// prune.LayerwiseOBS's error.
func PruneLayerwise(m *model.MLP, train, test *datasets.Set, cfg LayerConfig) (LayerSummary, error) {
	X := train.Inputs[:min(cfg.Calib, train.Len())]
	s := LayerSummary{Data: train.Name, Method: "layer-wise obs", Loss: layerLoss,
		Structure: "layer", Curvature: "layer-input", Allocation: cfg.Allocation.String(), Calibration: len(X), Damp: cfg.Damp,
		LayerTargets: cfg.LayerSparsity}
	s.ParamsBefore, s.TrainErrorBefore, s.TrainAccBefore, s.TestAccBefore = measure(m, train, test)
	rows := 0
	for l := 1; l <= m.NumLayers(); l++ {
		r, _, _ := m.LayerShape(l)
		rows += r
	}
	if cfg.Progress != nil {
		cfg.Progress(0, rows)
	}
	start := time.Now()
	res, err := prune.LayerwiseOBS(m, X, cfg.Sparsity, &prune.LayerwiseSettings{Damp: cfg.Damp, NoDamp: cfg.Damp == 0,
		Allocation: cfg.Allocation, LayerTargets: cfg.LayerSparsity, Progress: cfg.Progress, Stop: cfg.Stop})
	if err != nil {
		return s, err
	}
	s.Seconds = time.Since(start).Seconds()
	s.Sparsity, s.LayerSparsity, s.LayerError, s.LayerEnergy = res.Sparsity, res.LayerSparsity, res.LayerError, res.LayerEnergy
	s.ParamsAfter, s.TrainErrorAfter, s.TrainAccAfter, s.TestAccAfter = measure(m, train, test)
	return s, nil
}

// LayerUnitSummary is the summary of layer-wise OBS of hidden units or
// N:M patterns (obs prune --curvature layer-input --granularity
// unit:outgoing or N:M), also recorded in the pruned model file's history.
type LayerUnitSummary struct {
	Model       string            `json:"model"`
	Out         string            `json:"out"`
	Data        string            `json:"data"`
	Method      string            `json:"method"`
	Loss        string            `json:"loss_approximated"`
	Granularity string            `json:"granularity"`
	Curvature   string            `json:"curvature"`
	Allocation  string            `json:"allocation"`
	Calibration int               `json:"calibration_patterns"`
	Damp        float64           `json:"damp"`
	Sparsity    float64           `json:"sparsity"`
	Before      prune.SizeFigures `json:"before"`
	After       prune.SizeFigures `json:"after"`
	BeforeAfter
	Compacted bool    `json:"compacted"`
	Seconds   float64 `json:"seconds"`
}

// PruneLayerUnits prunes m in place by layer-wise OBS of its hidden units
// (prune.LayerUnitOBSPruner, cfg.Granularity unit:outgoing) to
// cfg.Sparsity of the units, or of every row's N:M pattern
// (prune.LayerOBSPruner, OBC's greedy path), on the first cfg.Calib
// patterns of train. It returns the network to write, compacted for units
// (prune.Compact; m itself for N:M), and the summary, measured on train
// and test (nil: none) before and after. The caller fills in the file
// names (Model, Out).
func PruneLayerUnits(m *model.MLP, train, test *datasets.Set, cfg LayerConfig) (*model.MLP, LayerUnitSummary, error) {
	g := cfg.Granularity
	nm := g.Kind == prune.ByNM
	cal := prune.FirstN(train.Inputs, train.Targets, min(cfg.Calib, train.Len()))
	s := LayerUnitSummary{Data: train.Name, Method: "layer-wise unit obs", Loss: layerLoss,
		Granularity: g.String(), Curvature: "layer-input", Allocation: cfg.Allocation.String(), Calibration: cal.Len(), Damp: cfg.Damp, Sparsity: cfg.Sparsity,
		Before: prune.SizeFiguresOf(m), Compacted: true}
	s.ParamsBefore, s.TrainErrorBefore, s.TrainAccBefore, s.TestAccBefore = measure(m, train, test)
	start := time.Now()
	noDamp := cfg.Damp == 0
	plan := &prune.Plan{Method: prune.LayerUnitOBSPruner{Damp: cfg.Damp, NoDamp: noDamp, Relative: cfg.Allocation == prune.Global},
		Calib: cal, Granularity: g, PerLayer: cfg.Allocation == prune.PerLayer, Target: prune.Target{Sparsity: cfg.Sparsity}}
	if nm {
		s.Method, s.Allocation, s.Compacted = "layer-wise obs, n:m", "every row", false
		s.Sparsity = float64(g.N) / float64(g.M)
		plan = &prune.Plan{Method: prune.LayerOBSPruner{Damp: cfg.Damp, NoDamp: noDamp}, Calib: cal, Granularity: g}
	}
	if _, err := prune.Prune(prune.PollContext(cfg.Stop), m, train.Inputs, train.Targets, plan); err != nil {
		return nil, s, err
	}
	s.Seconds = time.Since(start).Seconds()
	small := m
	if !nm {
		small, _ = prune.Compact(m)
	}
	s.After = prune.SizeFiguresOf(small)
	s.ParamsAfter, s.TrainErrorAfter, s.TrainAccAfter, s.TestAccAfter = measure(small, train, test)
	return small, s, nil
}
