package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
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
		&cli.IntFlag{Name: "epochs", Value: 15, Usage: "mnist: training epochs (Adam, lr 1e-3 times --lr-decay per epoch)"},
		&cli.Float64Flag{Name: "lr-decay", Value: 0.8, Usage: "mnist: multiply the training learning rate by this after every epoch"},
		&cli.StringFlag{Name: "models", Usage: "mnist: comma-separated trained model `FILES`, one per seed 1..N (e.g. from obs train --seed N with the same recipe), used instead of training"},
		&cli.IntFlag{Name: "ft-epochs", Value: 1, Usage: "mnist: fine-tuning epochs after each gradual pruning step"},
		&cli.IntFlag{Name: "ft-patterns", Usage: "mnist: fine-tune on the first `N` training images only (0: all)"},
		&cli.IntFlag{Name: "calib", Value: 1000, Usage: "mnist: calibration patterns M (the first M training images) for OBD's diagonal, OBS's block curvature and layer-wise OBS"},
		&cli.StringFlag{Name: "sparsities", Value: "0.5,0.7,0.9,0.95,0.98", Usage: "mnist: weight sparsity targets, ascending"},
		&cli.StringFlag{Name: "methods", Value: strings.Join(mnistAllMethods(), ","), Usage: "mnist: one-shot pruning methods: magnitude, obd (Gauss-Newton diagonal), lobs (layer-wise OBS), obs-KIND-bB (OBS with KIND ggn, ef or mcfisher in blocks of B), or none (gradual runs only)"},
		&cli.StringFlag{Name: "gradual-methods", Value: "all", Usage: "mnist: methods also run gradually (prune, fine-tune, repeat): a list as --methods, all (every one of --methods) or none"},
		&cli.IntFlag{Name: "mc-samples", Value: 1, Usage: "mnist: Monte-Carlo targets per pattern of obs-mcfisher-* (seeded with the training seed)"},
		&cli.StringFlag{Name: "merge", Usage: "mnist: run nothing; write one report from the mnist-summary.json of earlier runs in the comma-separated `DIRS` (same sparsities, calibration and damping; rows with fewer seeds are marked)"},
		&cli.StringFlag{Name: "allocations", Value: "global,per-layer", Usage: "mnist: sparsity allocations: global, per-layer"},
	}
}

// mnistFlagNames are the flags that only obs reproduce mnist takes.
var mnistFlagNames = []string{"quick", "epochs", "lr-decay", "models", "ft-epochs", "ft-patterns", "calib", "sparsities", "methods", "gradual-methods", "mc-samples", "allocations", "merge"}

// mnistAlpha is OBS's damping on MNIST when --alpha is not given: the
// curvature of a trained classifier is small (confident softmax outputs),
// so the SNNS-sized default 1e-6 is replaced by the Fisher dampening
// WoodFisher uses (Singh & Alistarh 2020).
const mnistAlpha = 1e-5

// mnistAllMethods are every method of the table.
func mnistAllMethods() []string {
	out := []string{"magnitude", "obd", "lobs"}
	for _, k := range []string{"ggn", "ef", "mcfisher"} {
		for _, b := range []int{32, 128, 512} {
			out = append(out, fmt.Sprintf("obs-%s-b%d", k, b))
		}
	}
	return out
}

// mnistOBS parses an OBS method name obs-KIND-bB.
func mnistOBS(name string) (kind hessian.Kind, b int, ok bool) {
	rest, found := strings.CutPrefix(name, "obs-")
	if !found {
		return 0, 0, false
	}
	k, bs, found := strings.Cut(rest, "-b")
	if !found {
		return 0, 0, false
	}
	kind, err := hessian.ParseKind(k)
	if err != nil || kind == hessian.Exact {
		return 0, 0, false
	}
	b, err = strconv.Atoi(bs)
	if err != nil || b < 1 || strconv.Itoa(b) != bs {
		return 0, 0, false
	}
	return kind, b, true
}

// mnistMethodList parses a comma-separated list of methods.
func mnistMethodList(flag, v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if _, _, ok := mnistOBS(f); !ok && f != "magnitude" && f != "obd" && f != "lobs" {
			return nil, usagef("--%s: unknown method %q (want magnitude, obd, lobs or obs-KIND-bB, KIND ggn, ef or mcfisher)", flag, f)
		}
		if slices.Contains(out, f) {
			return nil, usagef("--%s: %q given twice", flag, f)
		}
		out = append(out, f)
	}
	return out, nil
}

// mnistRun is one row of mnist-runs.csv.
type mnistRun struct {
	Seed       uint64  `json:"seed"`
	Method     string  `json:"method"`
	Allocation string  `json:"allocation"`
	Mode       string  `json:"mode"`
	Target     float64 `json:"target"`
	Sparsity   float64 `json:"sparsity"`
	TestAcc    float64 `json:"test_accuracy"`
	// Seconds, AllocMiB and PeakHeapMiB run from the start of this
	// method's one-shot or gradual run to this target (test evaluations
	// excluded): the last target's are the whole run's.
	Seconds     float64 `json:"seconds"`
	AllocMiB    float64 `json:"alloc_mib"`
	PeakHeapMiB float64 `json:"peak_heap_mib"`
	PeakRSSMiB  float64 `json:"peak_rss_mib"`
}

type mnistConfig struct {
	Arch          string    `json:"arch"`
	Hidden        string    `json:"hidden"`
	Seeds         int       `json:"seeds"`
	Epochs        int       `json:"epochs"`
	Batch         int       `json:"batch"`
	LearningRate  float64   `json:"learning_rate"`
	FTEpochs      int       `json:"ft_epochs"`
	FTPatterns    int       `json:"ft_patterns"`
	FTRate        float64   `json:"ft_learning_rate"`
	LRDecay       float64   `json:"lr_decay"`
	Models        []string  `json:"models,omitempty"`
	Calib         int       `json:"calibration_patterns"`
	Damp          float64   `json:"layerwise_damp"`
	Alpha         float64   `json:"obs_alpha"`
	MCSamples     int       `json:"mc_samples"`
	Gradual       []string  `json:"gradual_methods"`
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
		LearningRate: model.DefaultAdamRate, LRDecay: c.Float64("lr-decay"), FTEpochs: c.Int("ft-epochs"), FTRate: 5e-4, Calib: c.Int("calib"), Damp: prune.DefaultLayerDamp,
		Alpha: mnistAlpha, MCSamples: c.Int("mc-samples"), Quick: c.Bool("quick")}
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
		for _, f := range []string{"epochs", "lr-decay", "quick"} {
			if c.IsSet(f) {
				return cfg, usagef("--%s does not apply with --models (the models are trained)", f)
			}
		}
		cfg.Seeds = len(cfg.Models)
	}
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
	cfg.FTPatterns = c.Int("ft-patterns")
	if cfg.Epochs < 1 || cfg.FTEpochs < 0 || cfg.Calib < 1 || cfg.FTPatterns < 0 {
		return cfg, usagef("--epochs %d must be >= 1, --ft-epochs %d >= 0, --ft-patterns %d >= 0 and --calib %d >= 1", cfg.Epochs, cfg.FTEpochs, cfg.FTPatterns, cfg.Calib)
	}
	for _, f := range strings.Split(c.String("sparsities"), ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(v > 0 && v < 1) || (len(cfg.Sparsities) > 0 && v <= cfg.Sparsities[len(cfg.Sparsities)-1]) {
			return cfg, usagef("--sparsities %q: want ascending fractions in (0, 1)", c.String("sparsities"))
		}
		cfg.Sparsities = append(cfg.Sparsities, v)
	}
	var err error
	if c.String("methods") == "none" {
		cfg.Methods = []string{}
	} else if cfg.Methods, err = mnistMethodList("methods", c.String("methods")); err != nil {
		return cfg, err
	}
	switch g := c.String("gradual-methods"); g {
	case "all":
		cfg.Gradual = cfg.Methods
	case "none":
		cfg.Gradual = []string{}
	default:
		if cfg.Gradual, err = mnistMethodList("gradual-methods", g); err != nil {
			return cfg, err
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
		cfg.allocs = append(cfg.allocs, a)
		cfg.Allocations = append(cfg.Allocations, a.String())
	}
	return cfg, nil
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

// mnistPlan is the plan of a method with an allocation: the weights only
// (biases kept, though OBS's update moves them), pruned to each sparsity in
// turn, every one a checkpoint. Magnitude, OBD and layer-wise OBS rank
// once and round the counts to the nearest weight, OBS downdates after
// every deletion and rounds down, as each always has.
func mnistPlan(m *model.MLP, method string, alloc prune.Allocation, cfg *mnistConfig, seed uint64) *prune.Plan {
	p := &prune.Plan{Candidates: prune.Weights(m), PerLayer: alloc == prune.PerLayer, RankOnce: true, Round: prune.Nearest}
	switch method {
	case "magnitude":
		p.Method = prune.MagnitudePruner{}
	case "obd":
		p.Method = prune.OBDPruner{Curvature: prune.GGNDiagonal{}}
	case "lobs":
		p.Method = prune.LayerOBSPruner{Damp: cfg.Damp, Relative: alloc == prune.Global}
	default:
		kind, b, _ := mnistOBS(method)
		p.Method = prune.OBSPruner{Curvature: prune.Terms{Curvature: kind, Options: &hessian.Options{Samples: cfg.MCSamples, Seed: seed}},
			Alpha: cfg.Alpha, Structure: prune.Blocks{Size: b}}
		p.RankOnce, p.Round = false, prune.Floor
	}
	for _, s := range cfg.Sparsities {
		p.Checkpoints = append(p.Checkpoints, prune.Target{Sparsity: s})
	}
	p.Target = p.Checkpoints[len(p.Checkpoints)-1]
	return p
}

// meter measures a run that may be split into parts: wall time, bytes
// allocated and the peak of the Go heap (live and not yet swept objects,
// sampled every 20 ms). Work between parts is not counted, and exclude
// takes out work inside a part (the test evaluations at checkpoints).
type meter struct {
	sec, allocMiB float64 // finished parts, less the excluded work
	running       bool
	start         time.Time
	startAlloc    uint64
	peak          atomic.Uint64 // bytes; written by the sampler, read at checkpoints
}

// peakMiB is the peak heap seen so far, in MiB.
func (mt *meter) peakMiB() float64 { return float64(mt.peak.Load()) / (1 << 20) }

// now returns the time and allocations so far, the running part included.
func (mt *meter) now() (sec, allocMiB float64) {
	sec, allocMiB = mt.sec, mt.allocMiB
	if mt.running {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		sec += time.Since(mt.start).Seconds()
		allocMiB += float64(ms.TotalAlloc-mt.startAlloc) / (1 << 20)
	}
	return sec, allocMiB
}

// exclude runs fn inside a part without counting its time or allocations.
func (mt *meter) exclude(fn func()) {
	s0, a0 := mt.now()
	fn()
	s1, a1 := mt.now()
	mt.sec -= s1 - s0
	mt.allocMiB -= a1 - a0
}

// part runs fn and adds its time, allocations and peak heap to mt.
func (mt *meter) part(fn func() error) error {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	peak := func() {
		metrics.Read(sample)
		v := sample[0].Value.Uint64()
		for p := mt.peak.Load(); v > p && !mt.peak.CompareAndSwap(p, v); p = mt.peak.Load() {
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				peak()
			}
		}
	}()
	mt.running, mt.start, mt.startAlloc = true, time.Now(), ms.TotalAlloc
	err := fn()
	mt.sec, mt.allocMiB = mt.now()
	mt.running = false
	close(quit)
	<-done
	peak()
	return err
}

// peakRSS is the process's peak resident set size so far, in MiB.
func peakRSS() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}

func runReproduceMNIST(c *cli.Context) error {
	if c.IsSet("merge") {
		return mergeMNIST(c)
	}
	cfg, err := mnistSettings(c)
	if err != nil {
		return err
	}
	for _, f := range []string{"monk-dir", "fix"} {
		if c.IsSet(f) {
			return usagef("--%s does not apply to obs reproduce mnist", f)
		}
	}
	dir := c.String("out-dir")
	// Trained models are read before anything runs: a bad file fails at once.
	var trained []*model.MLP
	for _, f := range cfg.Models {
		m, _, err := model.Load(f)
		if err != nil {
			return err
		}
		if m.Sizes[0] != 784 || m.Sizes[len(m.Sizes)-1] != 10 || m.Spec.Loss != model.CrossEntropy {
			return fmt.Errorf("model file %s: a %v network with %v loss, want 784 inputs, 10 outputs and cross-entropy", f, m.Sizes, m.Spec.Loss)
		}
		trained = append(trained, m)
	}
	if len(trained) > 0 {
		cfg.Arch = archString(trained[0].Sizes)
		cfg.Hidden = trained[0].Spec.Hidden.String()
	}
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
	jobs := cfg.Seeds * (1 + (len(cfg.Methods)+len(cfg.Gradual))*len(allocs))
	b := newBar(c, jobs, "mnist")
	done := 0
	tick := func(desc string) { done++; b.Set(done, "mnist: %s", desc) }
	var runs []mnistRun
	row := func(seed uint64, method string, alloc prune.Allocation, mode string, s float64, pm *model.MLP, mt *meter) {
		sec, am := mt.now()
		var acc float64
		mt.exclude(func() { _, acc = pm.Evaluate(Xt, Tt) })
		runs = append(runs, mnistRun{seed, method, alloc.String(), mode, s, weightSparsity(pm), acc, sec, am, mt.peakMiB(), peakRSS()})
	}
	for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
		var m *model.MLP
		var mt meter
		if len(trained) > 0 {
			m = trained[seed-1]
		} else {
			if m, err = model.New(spec); err != nil {
				return err
			}
			m.Init(newRand(seed))
			err = mt.part(func() error {
				_, err := model.TrainMiniBatch(m, X, T, &model.MiniBatchSettings{Epochs: cfg.Epochs, BatchSize: cfg.Batch, LearningRate: cfg.LearningRate, Decay: cfg.LRDecay, Seed: seed, Stop: stop})
				return err
			})
			if err != nil {
				return err
			}
			if interrupted(c) {
				return errInterrupted
			}
		}
		_, acc := m.Evaluate(Xt, Tt)
		runs = append(runs, mnistRun{seed, "dense", "-", "train", 0, 0, acc, mt.sec, mt.allocMiB, mt.peakMiB(), peakRSS()})
		tick(fmt.Sprintf("seed %d trained, test accuracy %.4f", seed, acc))
		for _, method := range cfg.Methods {
			for _, alloc := range allocs {
				if err := mnistOneShot(c.Context, m, method, alloc, &cfg, seed, Xc, Tc, row); err != nil {
					return err
				}
				if interrupted(c) {
					return errInterrupted
				}
				tick(fmt.Sprintf("seed %d %s %s one-shot", seed, method, alloc))
			}
		}
		for _, method := range cfg.Gradual {
			for _, alloc := range allocs {
				// Gradual: prune to each target in turn, fine-tuning after each
				// (the curvature then rebuilt at the new weights).
				pm := m.Clone()
				var mt meter
				p := mnistPlan(pm, method, alloc, &cfg, seed)
				p.Retrain = prune.Retraining{AtCheckpoints: true, Train: func(net *model.MLP, si int) error {
					if cfg.FTEpochs == 0 {
						return nil
					}
					// Shuffling seed: the training seed + 1000 + the step's index.
					Xf, Tf := X, T
					if cfg.FTPatterns > 0 {
						Xf, Tf = X[:min(cfg.FTPatterns, len(X))], T[:min(cfg.FTPatterns, len(X))]
					}
					_, err := model.TrainMiniBatch(net, Xf, Tf, &model.MiniBatchSettings{Epochs: cfg.FTEpochs, BatchSize: cfg.Batch, LearningRate: cfg.FTRate, Seed: seed + 1000 + uint64(si), Stop: stop})
					return err
				}}
				p.Checkpoint = func(i int) error { row(seed, method, alloc, "gradual", cfg.Sparsities[i], pm, &mt); return nil }
				err := mt.part(func() error {
					if _, err := prune.Prune(c.Context, pm, Xc, Tc, p); err != nil {
						return fmt.Errorf("%s: %w", method, err)
					}
					return nil
				})
				if interrupted(c) {
					return errInterrupted
				}
				if err != nil {
					return err
				}
				tick(fmt.Sprintf("seed %d %s %s gradual", seed, method, alloc))
			}
		}
		if seed < uint64(cfg.Seeds) {
			// The seeds done so far, in case the run is stopped.
			part := cfg
			part.Seeds = int(seed)
			if len(cfg.Models) > 0 {
				part.Models = cfg.Models[:seed]
			}
			if err := writeMNIST(c, dir, part, runs, false); err != nil {
				return err
			}
			// Committed now (obs holds every output back until the
			// command ends): each file is complete, and a run stopped in
			// a later seed leaves these.
			if err := atomicfile.Commit(); err != nil {
				return err
			}
			atomicfile.Stage()
		}
	}
	b.Done()
	return writeMNIST(c, dir, cfg, runs, true)
}

// mnistOneShot prunes m one-shot to every target with method and
// allocation and records a row per target: one run of prune.Prune, one
// build, through the targets as checkpoints.
func mnistOneShot(ctx context.Context, m *model.MLP, method string, alloc prune.Allocation, cfg *mnistConfig, seed uint64, Xc, Tc [][]float64,
	row func(seed uint64, method string, alloc prune.Allocation, mode string, s float64, pm *model.MLP, mt *meter)) error {
	var mt meter
	pm := m.Clone()
	p := mnistPlan(pm, method, alloc, cfg, seed)
	p.Checkpoint = func(i int) error { row(seed, method, alloc, "one-shot", cfg.Sparsities[i], pm, &mt); return nil }
	return mt.part(func() error {
		if _, err := prune.Prune(ctx, pm, Xc, Tc, p); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		return nil
	})
}

// mnistSummary is mnist-summary.json.
type mnistSummary struct {
	Config mnistConfig `json:"config"`
	Runs   []mnistRun  `json:"runs"`
}

// mergeMNIST writes one report from the summaries of earlier runs: their
// methods, gradual methods and allocations joined, the dense rows taken
// from the first.
func mergeMNIST(c *cli.Context) error {
	for _, f := range c.FlagNames() {
		if f != "merge" && f != "out-dir" && f != "quiet" && f != "json" && c.IsSet(f) {
			return usagef("--merge runs nothing and takes only --out-dir, --quiet and --json, not --%s", f)
		}
	}
	var cfg mnistConfig
	var runs []mnistRun
	for i, d := range strings.Split(c.String("merge"), ",") {
		b, err := os.ReadFile(filepath.Join(d, "mnist-summary.json"))
		if err != nil {
			return fmt.Errorf("--merge: %v", err)
		}
		var s mnistSummary
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("--merge: %s: %v", filepath.Join(d, "mnist-summary.json"), err)
		}
		o := s.Config
		if i == 0 {
			cfg = o
			cfg.Methods, cfg.Gradual, cfg.Allocations = nil, nil, nil
		} else if !slices.Equal(o.Sparsities, cfg.Sparsities) || o.Calib != cfg.Calib || o.Alpha != cfg.Alpha || o.MCSamples != cfg.MCSamples ||
			o.Damp != cfg.Damp || o.Arch != cfg.Arch || !(prefix(o.Models, cfg.Models) || prefix(cfg.Models, o.Models)) ||
			(len(o.Gradual) > 0 && len(cfg.Gradual) > 0 && (o.FTEpochs != cfg.FTEpochs || o.FTPatterns != cfg.FTPatterns || o.FTRate != cfg.FTRate)) {
			return fmt.Errorf("--merge: %s was run with other settings than %s", d, strings.Split(c.String("merge"), ",")[0])
		}
		if o.Seeds > cfg.Seeds { // runs stopped early have fewer seeds
			cfg.Seeds, cfg.Models = o.Seeds, o.Models
		}
		if len(o.Gradual) > 0 { // the fine-tuning settings come from a run that fine-tuned
			cfg.FTEpochs, cfg.FTPatterns, cfg.FTRate = o.FTEpochs, o.FTPatterns, o.FTRate
		}
		for _, m := range s.Config.Methods {
			if !slices.Contains(cfg.Methods, m) {
				cfg.Methods = append(cfg.Methods, m)
			}
		}
		for _, m := range s.Config.Gradual {
			if !slices.Contains(cfg.Gradual, m) {
				cfg.Gradual = append(cfg.Gradual, m)
			}
		}
		for _, a := range s.Config.Allocations {
			if !slices.Contains(cfg.Allocations, a) {
				cfg.Allocations = append(cfg.Allocations, a)
			}
		}
		for _, r := range s.Runs {
			if r.Mode != "train" || i == 0 {
				runs = append(runs, r)
			}
		}
	}
	dir := c.String("out-dir")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", dir, err)
	}
	return writeMNIST(c, dir, cfg, runs, true)
}

// prefix reports whether a is a prefix of b.
func prefix(a, b []string) bool { return len(a) <= len(b) && slices.Equal(a, b[:len(a)]) }

// archString writes sizes as 784-300-100-10.
func archString(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "-")
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

// writeMNIST writes the report, CSV, JSON and figure of runs; when final,
// it also prints the summary (a partial write after each seed does not).
func writeMNIST(c *cli.Context, dir string, cfg mnistConfig, runs []mnistRun, final bool) error {
	pick := func(method, alloc, mode string, s float64) (acc, sec, am, heap []float64) {
		for _, r := range runs {
			if r.Method == method && r.Allocation == alloc && r.Mode == mode && r.Target == s {
				acc, sec, am, heap = append(acc, r.TestAcc), append(sec, r.Seconds), append(am, r.AllocMiB), append(heap, r.PeakHeapMiB)
			}
		}
		return
	}
	dense, dsec, _, dheap := pick("dense", "-", "train", 0)
	name := func(method string) string {
		if kind, b, ok := mnistOBS(method); ok {
			return fmt.Sprintf("OBS %s, blocks of %d (`%s`)", kind, b, method)
		}
		return map[string]string{"magnitude": "magnitude", "obd": "OBD (Gauss-Newton diagonal)", "lobs": "layer-wise OBS"}[method]
	}
	ftNote := ""
	if cfg.FTPatterns > 0 && len(cfg.Gradual) > 0 {
		ftNote = fmt.Sprintf(" Fine-tuning uses only the first %d training images.", cfg.FTPatterns)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "# MNIST, %s: pruning by magnitude, OBD, block-diagonal OBS and layer-wise OBS\n\n", cfg.Arch)
	if cfg.Quick {
		md.WriteString("**Quick mode** (`--quick`): a small network on a subset; a check that the pipeline runs, not a result.\n\n")
	}
	if len(cfg.Models) > 0 {
		fmt.Fprintf(&md, "Trained models given (seeds 1..%d in order): %s.\n\n", len(cfg.Models), strings.Join(cfg.Models, ", "))
	} else {
		fmt.Fprintf(&md, "Trained with Adam (lr %g times %g per epoch, batch %d, %d epochs, ReLU hidden, softmax cross-entropy, no weight decay); seeds 1..%d (initial weights and shuffling).\n\n",
			cfg.LearningRate, cfg.LRDecay, cfg.Batch, cfg.Epochs, cfg.Seeds)
	}
	fmt.Fprintf(&md, "%d training and %d test images. Sparsity is the fraction of **weights** removed; "+
		"**biases are kept dense** by every method (OBS's compensating update still changes them). All curvature comes from the first M = %d training images "+
		"(calibration patterns). OBD scores 1/2 G_qq w_q^2 with the Gauss-Newton diagonal G. OBS (`obs-KIND-bB`) inverts the diagonal blocks of C + alpha I, "+
		"C the curvature KIND (ggn: Gauss-Newton; ef: empirical Fisher; mcfisher: Monte-Carlo Fisher, %d sampled label(s) per pattern, seeded with the training seed), "+
		"normalised 1/M, in contiguous blocks of B free parameters (WoodFisher), alpha = %g; it deletes the weight of least saliency w_q^2 / (2 [C^-1]_qq), "+
		"updates the block and downdates its inverse, one weight at a time, with no rebuild. "+
		"Layer-wise OBS uses each layer's inputs, damping %g x mean diagonal. Global allocation ranks all weights together "+
		"(layer-wise OBS: by reconstruction error relative to the layer's output energy); per-layer prunes every layer's weights to the target. "+
		"One-shot: from the trained network, no retraining; OBS builds once and records the test accuracy as it passes each target "+
		"(globally the same network as a separate run to that target; per layer, every layer is brought to each target before the next), "+
		"layer-wise OBS computes its paths once. Gradual: pruned to each target in turn, each step followed by %d epoch(s) of Adam at lr %g (the mask kept); "+
		"gradual OBS rebuilds its curvature at every step.%s\n\n",
		cfg.TrainPatterns, cfg.TestPatterns, cfg.Calib, cfg.MCSamples, cfg.Alpha, cfg.Damp, cfg.FTEpochs, cfg.FTRate, ftNote)
	fmt.Fprintf(&md, "Dense network: test accuracy %s %% (mean [min, max] over %d seeds)", summarise(dense), len(dense))
	if len(cfg.Models) == 0 {
		fmt.Fprintf(&md, ", training %.1f s per seed, peak heap %.0f MiB", summarise(dsec).Mean, slices.Max(dheap))
	}
	md.WriteString(".\n\n")
	md.WriteString("Test accuracy in %, mean [min, max] over seeds. Time: wall seconds of the whole run through every target (one-shot: the build and all targets; gradual: every step and fine-tune), mean over seeds; " +
		"peak heap: the largest Go heap sampled during the run (the data sets included), max over seeds.\n\n| method | allocation | mode |")
	for _, s := range cfg.Sparsities {
		fmt.Fprintf(&md, " %g%% |", 100*s)
	}
	md.WriteString(" s per run | peak heap MiB |\n|---|---|---|")
	for range cfg.Sparsities {
		md.WriteString("---|")
	}
	md.WriteString("---|---|\n")
	var series []figures.Series
	last := cfg.Sparsities[len(cfg.Sparsities)-1]
	for _, mode := range []string{"one-shot", "gradual"} {
		methods := cfg.Methods
		if mode == "gradual" {
			methods = cfg.Gradual
		}
		for _, method := range methods {
			for _, alloc := range cfg.Allocations {
				if acc, _, _, _ := pick(method, alloc, mode, last); len(acc) == 0 {
					continue // not run (a merged report)
				}
				fmt.Fprintf(&md, "| %s | %s | %s |", name(method), alloc, mode)
				fig := figures.Series{Label: fmt.Sprintf("%s %s %s", method, alloc, mode)}
				for _, s := range cfg.Sparsities {
					acc, _, _, _ := pick(method, alloc, mode, s)
					cl := summarise(acc)
					if len(acc) != cfg.Seeds {
						fmt.Fprintf(&md, " %s, %d seed(s) |", cl, len(acc))
					} else {
						fmt.Fprintf(&md, " %s |", cl)
					}
					fig.X, fig.Y = append(fig.X, 100*s), append(fig.Y, 100*cl.Mean)
				}
				_, sec, _, heap := pick(method, alloc, mode, last)
				fmt.Fprintf(&md, " %.1f | %.0f |\n", summarise(sec).Mean, slices.Max(heap))
				series = append(series, fig)
			}
		}
	}
	rss := 0.0
	for _, r := range runs {
		rss = max(rss, r.PeakRSSMiB)
	}
	fmt.Fprintf(&md, "\nTimes on a machine that may have been shared; the largest peak resident memory of the process(es) was %.0f MiB. "+
		"The times and memory are the only columns that differ between identical runs.\n\n", rss)
	md.WriteString(mnistPublished)
	files := []string{"mnist-report.md", "mnist-runs.csv", "mnist-summary.json", "mnist-accuracy.png"}
	if err := atomicfile.Write(filepath.Join(dir, files[0]), func(w io.Writer) error { _, err := io.WriteString(w, md.String()); return err }); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, files[1]), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"seed", "method", "allocation", "mode", "target", "sparsity", "test_accuracy", "seconds", "alloc_mib", "peak_heap_mib", "peak_rss_mib"})
		for _, r := range runs {
			cw.Write([]string{strconv.FormatUint(r.Seed, 10), r.Method, r.Allocation, r.Mode, fmt.Sprint(r.Target), fmt.Sprint(r.Sparsity), fmt.Sprint(r.TestAcc),
				fmt.Sprintf("%.3f", r.Seconds), fmt.Sprintf("%.1f", r.AllocMiB), fmt.Sprintf("%.0f", r.PeakHeapMiB), fmt.Sprintf("%.0f", r.PeakRSSMiB)})
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		return err
	}
	summary := mnistSummary{cfg, runs}
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
	if !final {
		return nil
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
