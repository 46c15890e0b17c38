package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// obs reproduce mnist: LeNet-300-100 on MNIST pruned one-shot and
// gradually by magnitude, OBD and layer-wise OBS.

func mnistReproduceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "quick", Usage: "mnist: a fast check (1 seed, a 784-16-8-10 network, 2,000 training and 1,000 test images, 5 epochs of batches of 32, 200 calibration patterns)"},
		&cli.IntFlag{Name: "epochs", Value: 10, Usage: "mnist: training epochs (Adam)"},
		&cli.IntFlag{Name: "ft-epochs", Value: 1, Usage: "mnist: fine-tuning epochs after each gradual pruning step"},
		&cli.IntFlag{Name: "calib", Value: 1000, Usage: "mnist: calibration patterns (the first N training images) for OBD's diagonal and layer-wise OBS"},
		&cli.StringFlag{Name: "sparsities", Value: "0.5,0.7,0.9,0.95,0.98", Usage: "mnist: weight sparsity targets, ascending"},
		&cli.StringFlag{Name: "methods", Value: "magnitude,obd,lobs", Usage: "mnist: pruning methods: magnitude, obd (Gauss-Newton diagonal), lobs (layer-wise OBS)"},
		&cli.StringFlag{Name: "allocations", Value: "global,per-layer", Usage: "mnist: sparsity allocations: global, per-layer"},
	}
}

// mnistFlagNames are the flags that only obs reproduce mnist takes.
var mnistFlagNames = []string{"quick", "epochs", "ft-epochs", "calib", "sparsities", "methods", "allocations"}

// mnistRun is one row of mnist-runs.csv.
type mnistRun struct {
	Seed       uint64  `json:"seed"`
	Method     string  `json:"method"`
	Allocation string  `json:"allocation"`
	Mode       string  `json:"mode"`
	Target     float64 `json:"target"`
	Sparsity   float64 `json:"sparsity"`
	TestAcc    float64 `json:"test_accuracy"`
	Seconds    float64 `json:"seconds"`
	AllocMiB   float64 `json:"alloc_mib"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
}

type mnistConfig struct {
	Arch          string    `json:"arch"`
	Hidden        string    `json:"hidden"`
	Seeds         int       `json:"seeds"`
	Epochs        int       `json:"epochs"`
	Batch         int       `json:"batch"`
	LearningRate  float64   `json:"learning_rate"`
	FTEpochs      int       `json:"ft_epochs"`
	FTRate        float64   `json:"ft_learning_rate"`
	Calib         int       `json:"calibration_patterns"`
	Damp          float64   `json:"layerwise_damp"`
	Train, Test   int       `json:"-"`
	TrainPatterns int       `json:"train_patterns"`
	TestPatterns  int       `json:"test_patterns"`
	Sparsities    []float64 `json:"sparsities"`
	Methods       []string  `json:"methods"`
	Allocations   []string  `json:"allocations"`
	allocs        []prune.Allocation
	Quick         bool `json:"quick"`
}

func mnistSettings(c *cli.Context) (mnistConfig, error) {
	cfg := mnistConfig{Arch: "784-300-100-10", Hidden: "relu", Seeds: 3, Epochs: c.Int("epochs"), Batch: model.DefaultBatchSize,
		LearningRate: model.DefaultAdamRate, FTEpochs: c.Int("ft-epochs"), FTRate: 5e-4, Calib: c.Int("calib"), Damp: prune.DefaultLayerDamp, Quick: c.Bool("quick")}
	if c.Int("seeds") > 0 {
		cfg.Seeds = c.Int("seeds")
	}
	if cfg.Quick {
		cfg.Arch, cfg.Train, cfg.Test, cfg.Batch = "784-16-8-10", 2000, 1000, 32
		if !c.IsSet("seeds") {
			cfg.Seeds = 1
		}
		if !c.IsSet("epochs") {
			cfg.Epochs = 5
		}
		if !c.IsSet("calib") {
			cfg.Calib = 200
		}
	}
	if cfg.Epochs < 1 || cfg.FTEpochs < 0 || cfg.Calib < 1 {
		return cfg, usagef("--epochs %d must be >= 1, --ft-epochs %d >= 0 and --calib %d >= 1", cfg.Epochs, cfg.FTEpochs, cfg.Calib)
	}
	for _, f := range strings.Split(c.String("sparsities"), ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v < 1) || (len(cfg.Sparsities) > 0 && v <= cfg.Sparsities[len(cfg.Sparsities)-1]) {
			return cfg, usagef("--sparsities %q: want ascending fractions in (0, 1)", c.String("sparsities"))
		}
		cfg.Sparsities = append(cfg.Sparsities, v)
	}
	for _, f := range strings.Split(c.String("methods"), ",") {
		f = strings.TrimSpace(f)
		if f != "magnitude" && f != "obd" && f != "lobs" {
			return cfg, usagef("--methods: unknown method %q (want magnitude, obd, lobs)", f)
		}
		cfg.Methods = append(cfg.Methods, f)
	}
	for _, f := range strings.Split(c.String("allocations"), ",") {
		a, err := prune.ParseAllocation(strings.TrimSpace(f))
		if err != nil {
			return cfg, usageError{err}
		}
		cfg.allocs = append(cfg.allocs, a)
		cfg.Allocations = append(cfg.Allocations, a.String())
	}
	return cfg, nil
}

// selectPrune prunes the lowest-scoring unpruned weights (biases kept) of m
// until the weight sparsity reaches target, globally or per layer.
func selectPrune(m *model.MLP, score []float64, target float64, alloc prune.Allocation) {
	type cand struct {
		q int
		s float64
	}
	L := m.NumLayers()
	pools := make([][]cand, L)
	total, gone := make([]int, L), make([]int, L)
	for q := range m.Params {
		l, _, from := m.Locate(q)
		if from == m.Sizes[l-1] {
			continue
		}
		pi := l - 1
		if alloc == prune.Global {
			pi = 0
		}
		total[pi]++
		if m.Pruned[q] {
			gone[pi]++
			continue
		}
		pools[pi] = append(pools[pi], cand{q, score[q]})
	}
	for pi, pool := range pools {
		sort.SliceStable(pool, func(a, b int) bool { return pool[a].s < pool[b].s })
		need := int(math.Round(target*float64(total[pi]))) - gone[pi]
		for _, c := range pool[:max(0, min(need, len(pool)))] {
			m.Prune(c.q)
		}
	}
}

// weightSparsity is the fraction of weights (biases excluded) pruned.
func weightSparsity(m *model.MLP) float64 {
	n, g := 0, 0
	for q, p := range m.Pruned {
		l, _, from := m.Locate(q)
		if from == m.Sizes[l-1] {
			continue
		}
		n++
		if p {
			g++
		}
	}
	return float64(g) / float64(n)
}

// pruneStep prunes a copy of m to target with method and allocation.
func pruneStep(m *model.MLP, method string, alloc prune.Allocation, target float64, Xc, Tc [][]float64, damp float64) (*model.MLP, error) {
	out := m.Clone()
	switch method {
	case "magnitude":
		s := make([]float64, len(m.Params))
		for q, w := range m.Params {
			s[q] = math.Abs(w)
		}
		selectPrune(out, s, target, alloc)
	case "obd":
		d := m.GGNDiagonal(Xc, Tc)
		s := make([]float64, len(m.Params))
		for q, w := range m.Params {
			s[q] = 0.5 * d[q] * w * w
		}
		selectPrune(out, s, target, alloc)
	case "lobs":
		if _, err := prune.LayerwiseOBS(out, Xc, target, &prune.LayerwiseSettings{Damp: damp, Allocation: alloc}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// measure runs fn and returns its wall time, the bytes it allocated and the
// process's peak resident set size so far, in MiB.
func measure(fn func() error) (sec, allocMiB, rssMiB float64, err error) {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	start := time.Now()
	err = fn()
	sec = time.Since(start).Seconds()
	runtime.ReadMemStats(&b)
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return sec, float64(b.TotalAlloc-a.TotalAlloc) / (1 << 20), float64(ru.Maxrss) / 1024, err
}

func runReproduceMNIST(c *cli.Context) error {
	cfg, err := mnistSettings(c)
	if err != nil {
		return err
	}
	for _, f := range []string{"monk-dir", "alpha", "fix"} {
		if c.IsSet(f) {
			return usagef("--%s does not apply to obs reproduce mnist", f)
		}
	}
	dir := c.String("out-dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", dir, err)
	}
	train, test, err := datasets.MNIST()
	if err != nil {
		return err
	}
	X, T, Xt, Tt := train.Inputs, train.Targets, test.Inputs, test.Targets
	if cfg.Train > 0 {
		X, T, Xt, Tt = X[:cfg.Train], T[:cfg.Train], Xt[:cfg.Test], Tt[:cfg.Test]
	}
	cfg.TrainPatterns, cfg.TestPatterns = len(X), len(Xt)
	Xc, Tc := X[:min(cfg.Calib, len(X))], T[:min(cfg.Calib, len(X))]
	cfg.Calib = len(Xc)
	sizes, _ := model.ParseArch(cfg.Arch)
	spec := model.Spec{Sizes: sizes, Hidden: model.ReLU, Output: model.Softmax, Loss: model.CrossEntropy}
	allocs := cfg.allocs
	stop := func() bool { return interrupted(c) }
	jobs := cfg.Seeds * (1 + len(cfg.Methods)*len(allocs)*2)
	b := newBar(c, jobs, "mnist")
	done := 0
	tick := func(desc string) { done++; b.Set(done, "mnist: %s", desc) }
	var runs []mnistRun
	add := func(r mnistRun) { runs = append(runs, r) }
	for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
		m, err := model.New(spec)
		if err != nil {
			return err
		}
		m.Init(newRand(seed))
		sec, am, rss, err := measure(func() error {
			_, err := model.TrainMiniBatch(m, X, T, &model.MiniBatchSettings{Epochs: cfg.Epochs, BatchSize: cfg.Batch, LearningRate: cfg.LearningRate, Seed: seed, Stop: stop})
			return err
		})
		if err != nil {
			return err
		}
		if interrupted(c) {
			return errInterrupted
		}
		_, acc := m.Evaluate(Xt, Tt)
		add(mnistRun{seed, "dense", "-", "train", 0, 0, acc, sec, am, rss})
		tick(fmt.Sprintf("seed %d trained, test accuracy %.4f", seed, acc))
		for _, method := range cfg.Methods {
			for _, alloc := range allocs {
				// One-shot: each target from the trained network.
				var lp *prune.LayerPaths
				for i, s := range cfg.Sparsities {
					var pm *model.MLP
					sec, am, rss, err := measure(func() error {
						var err error
						if method == "lobs" {
							if i == 0 { // one set of paths serves every target
								if lp, err = prune.NewLayerPaths(m, Xc, &prune.LayerwiseSettings{Damp: cfg.Damp, Stop: stop}); err != nil {
									return err
								}
							}
							pm, _, err = lp.Apply(s, alloc)
							return err
						}
						pm, err = pruneStep(m, method, alloc, s, Xc, Tc, cfg.Damp)
						return err
					})
					if interrupted(c) {
						return errInterrupted
					}
					if err != nil {
						return err
					}
					_, acc := pm.Evaluate(Xt, Tt)
					add(mnistRun{seed, method, alloc.String(), "one-shot", s, weightSparsity(pm), acc, sec, am, rss})
				}
				tick(fmt.Sprintf("seed %d %s %s one-shot", seed, method, alloc))
				// Gradual: prune to each target in turn, fine-tuning after each.
				cur := m
				for si, s := range cfg.Sparsities {
					sec, am, rss, err := measure(func() error {
						var err error
						if cur, err = pruneStep(cur, method, alloc, s, Xc, Tc, cfg.Damp); err != nil {
							return err
						}
						if cfg.FTEpochs > 0 {
							// Shuffling seed: the training seed + 1000 + the step's index.
							_, err = model.TrainMiniBatch(cur, X, T, &model.MiniBatchSettings{Epochs: cfg.FTEpochs, BatchSize: cfg.Batch, LearningRate: cfg.FTRate, Seed: seed + 1000 + uint64(si), Stop: stop})
						}
						return err
					})
					if interrupted(c) {
						return errInterrupted
					}
					if err != nil {
						return err
					}
					_, acc := cur.Evaluate(Xt, Tt)
					add(mnistRun{seed, method, alloc.String(), "gradual", s, weightSparsity(cur), acc, sec, am, rss})
				}
				tick(fmt.Sprintf("seed %d %s %s gradual", seed, method, alloc))
			}
		}
	}
	b.Done()
	return writeMNIST(c, dir, cfg, runs)
}

// cell is the mean and range of a set of accuracies.
type cell struct{ Mean, Min, Max float64 }

func summarise(v []float64) cell {
	c := cell{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range v {
		c.Mean += x / float64(len(v))
		c.Min, c.Max = math.Min(c.Min, x), math.Max(c.Max, x)
	}
	return c
}

func (c cell) String() string {
	return fmt.Sprintf("%.2f [%.2f, %.2f]", 100*c.Mean, 100*c.Min, 100*c.Max)
}

func writeMNIST(c *cli.Context, dir string, cfg mnistConfig, runs []mnistRun) error {
	pick := func(method, alloc, mode string, s float64) (acc, sec, am, rss []float64) {
		for _, r := range runs {
			if r.Method == method && r.Allocation == alloc && r.Mode == mode && r.Target == s {
				acc, sec, am, rss = append(acc, r.TestAcc), append(sec, r.Seconds), append(am, r.AllocMiB), append(rss, r.PeakRSSMiB)
			}
		}
		return
	}
	dense, dsec, _, _ := pick("dense", "-", "train", 0)
	names := map[string]string{"magnitude": "magnitude", "obd": "OBD (Gauss-Newton diagonal)", "lobs": "layer-wise OBS"}
	var md strings.Builder
	fmt.Fprintf(&md, "# MNIST, %s: pruning by magnitude, OBD and layer-wise OBS\n\n", cfg.Arch)
	if cfg.Quick {
		md.WriteString("**Quick mode** (`--quick`): a small network on a subset; a check that the pipeline runs, not a result.\n\n")
	}
	fmt.Fprintf(&md, "Trained with Adam (lr %g, batch %d, %d epochs, ReLU hidden, softmax cross-entropy, no weight decay) on %d training images; "+
		"test accuracy on %d test images; seeds 1..%d (initial weights and shuffling). Sparsity is the fraction of **weights** removed; "+
		"**biases are kept dense**. OBD scores 1/2 G_qq w_q^2 with the Gauss-Newton diagonal G on the first %d training images; "+
		"layer-wise OBS uses each layer's inputs on the same %d images, damping %g x mean diagonal. Global allocation ranks all weights together "+
		"(layer-wise OBS: by reconstruction error relative to the layer's output energy); per-layer prunes every layer to the target. "+
		"One-shot: from the trained network, no retraining. Gradual: pruned to each target in turn, each step followed by %d epoch(s) of Adam at lr %g (the mask kept).\n\n",
		cfg.LearningRate, cfg.Batch, cfg.Epochs, cfg.TrainPatterns, cfg.TestPatterns, cfg.Seeds, cfg.Calib, cfg.Calib, cfg.Damp, cfg.FTEpochs, cfg.FTRate)
	fmt.Fprintf(&md, "Dense network: test accuracy %s %% (mean [min, max] over %d seeds), training %.1f s per seed.\n\n", summarise(dense), len(dense), summarise(dsec).Mean)
	md.WriteString("Test accuracy in %, mean [min, max] over seeds; one-shot / gradual with fine-tuning.\n\n| method | allocation | mode |")
	for _, s := range cfg.Sparsities {
		fmt.Fprintf(&md, " %g%% |", 100*s)
	}
	md.WriteString(" mean s per run | max alloc MiB per run |\n|---|---|---|")
	for range cfg.Sparsities {
		md.WriteString("---|")
	}
	md.WriteString("---|---|\n")
	var series []figures.Series
	for _, method := range cfg.Methods {
		for _, alloc := range cfg.Allocations {
			for _, mode := range []string{"one-shot", "gradual"} {
				fmt.Fprintf(&md, "| %s | %s | %s |", names[method], alloc, mode)
				var allSec, allAm []float64
				fig := figures.Series{Label: fmt.Sprintf("%s %s %s", method, alloc, mode)}
				for _, s := range cfg.Sparsities {
					acc, sec, am, _ := pick(method, alloc, mode, s)
					cl := summarise(acc)
					fmt.Fprintf(&md, " %s |", cl)
					allSec, allAm = append(allSec, sec...), append(allAm, am...)
					fig.X, fig.Y = append(fig.X, 100*s), append(fig.Y, 100*cl.Mean)
				}
				fmt.Fprintf(&md, " %.2f | %.0f |\n", summarise(allSec).Mean, slices.Max(allAm))
				series = append(series, fig)
			}
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Fprintf(&md, "\nTimes are wall-clock seconds per pruning run (one-shot layer-wise OBS: the first target includes computing all paths, "+
		"later ones reuse them; gradual: the step and its fine-tuning), on a machine that may have been shared; alloc MiB is what the run allocated; "+
		"the process's peak resident memory was %.0f MiB. The times and memory are the only columns that differ between identical runs.\n\n", float64(ru.Maxrss)/1024)
	md.WriteString(mnistPublished)
	files := []string{"mnist-report.md", "mnist-runs.csv", "mnist-summary.json", "mnist-accuracy.png"}
	if err := atomicfile.Write(filepath.Join(dir, files[0]), func(w io.Writer) error { _, err := io.WriteString(w, md.String()); return err }); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, files[1]), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"seed", "method", "allocation", "mode", "target", "sparsity", "test_accuracy", "seconds", "alloc_mib", "peak_rss_mib"})
		for _, r := range runs {
			cw.Write([]string{strconv.FormatUint(r.Seed, 10), r.Method, r.Allocation, r.Mode, fmt.Sprint(r.Target), fmt.Sprint(r.Sparsity), fmt.Sprint(r.TestAcc),
				fmt.Sprintf("%.3f", r.Seconds), fmt.Sprintf("%.1f", r.AllocMiB), fmt.Sprintf("%.0f", r.PeakRSSMiB)})
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		return err
	}
	summary := struct {
		Config mnistConfig `json:"config"`
		Runs   []mnistRun  `json:"runs"`
	}{cfg, runs}
	if err := atomicfile.Write(filepath.Join(dir, files[2]), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(summary)
	}); err != nil {
		return err
	}
	if err := figures.Write(filepath.Join(dir, files[3]), series, figures.Options{Title: "MNIST " + cfg.Arch + ": test accuracy after pruning (mean over seeds)", XLabel: "weight sparsity (%)", YLabel: "test accuracy (%)", Width: 20, Height: 14}); err != nil {
		return err
	}
	info(c, "wrote %s in %s\n", strings.Join(files, ", "), dir)
	return emit(c, struct {
		OutDir string   `json:"out_dir"`
		Files  []string `json:"files"`
		Dense  cell     `json:"dense_test_accuracy"`
	}{dir, files, summarise(dense)})
}

// mnistPublished is the comparison with published LeNet-300-100 results,
// quoted with their sources.
const mnistPublished = `## Published LeNet-300-100 results

| source | network | test error | parameters kept |
|---|---|---|---|
| LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", Proc. IEEE 86(11), 1998 (comparison of classifiers) | 3-layer NN, 300+100 hidden units, no distortions | 3.05% | all (266,610) |
| Han, Pool, Tran & Dally, "Learning both weights and connections for efficient neural networks", NIPS 2015, Table 1 | LeNet-300-100 reference | 1.64% | 267K |
| same | LeNet-300-100 pruned (iterative magnitude pruning with retraining) | 1.59% | 22K (12x compression, about 92% pruned) |

Han et al. retrain for many epochs after each pruning iteration; the gradual runs here fine-tune only briefly, so compare with care.
`
