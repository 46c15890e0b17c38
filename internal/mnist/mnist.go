// Package mnist is the MNIST reproduction behind obs reproduce mnist:
// LeNet-300-100 (or a trained model per seed) pruned one-shot and gradually
// by magnitude, OBD, block-diagonal OBS and layer-wise OBS, every method a
// plan of prune.Prune, with the report, CSV, JSON summary and figure it
// writes. The command line only parses the flags into a Config.
package mnist

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
	"time"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/reproduce"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Alpha is OBS's damping on MNIST when --alpha is not given: the
// curvature of a trained classifier is small (confident softmax outputs),
// so the SNNS-sized default 1e-6 is replaced by the Fisher dampening
// WoodFisher uses (Singh & Alistarh 2020).
const Alpha = 1e-5

// AllMethods are every method of the table.
func AllMethods() []string {
	out := []string{"magnitude", "obd", "lobs"}
	for _, k := range []string{"ggn", "ef", "mcfisher"} {
		for _, b := range []int{32, 128, 512} {
			out = append(out, fmt.Sprintf("obs-%s-b%d", k, b))
		}
	}
	return out
}

// ParseOBS parses an OBS method name: obs-KIND-bB (blocks of B) or
// obs-KIND-kfac[E] (K-FAC with E exact downdates per layer, KIND ggn or
// mcfisher).
func ParseOBS(name string) (kind hessian.Kind, st prune.Structure, ok bool) {
	rest, found := strings.CutPrefix(name, "obs-")
	if !found {
		return 0, nil, false
	}
	k, tail, found := strings.Cut(rest, "-")
	if !found {
		return 0, nil, false
	}
	kind, err := hessian.ParseKind(k)
	if err != nil || kind == hessian.Exact {
		return 0, nil, false
	}
	if es, isKFAC := strings.CutPrefix(tail, "kfac"); isKFAC {
		e := 0
		if es != "" {
			if e, err = strconv.Atoi(es); err != nil || e < 1 || strconv.Itoa(e) != es {
				return 0, nil, false
			}
		}
		if kind != hessian.GGN && kind != hessian.MCFisher {
			return 0, nil, false
		}
		return kind, prune.KFAC{Exact: e}, true
	}
	bs, found := strings.CutPrefix(tail, "b")
	if !found {
		return 0, nil, false
	}
	b, err := strconv.Atoi(bs)
	if err != nil || b < 1 || strconv.Itoa(b) != bs {
		return 0, nil, false
	}
	return kind, prune.Blocks{Size: b}, true
}

// KFACGroup is the number of weights a K-FAC step removes together
// (OBS's group formula): a K-FAC step updates and rescores its whole layer
// (235,500 weights in LeNet's first), so single deletions would cost
// O(n^2) in all.
const KFACGroup = 512

// ParseSparsities parses the comma-separated sparsity targets given as the
// flag --flag: ascending fractions in (0, 1); an error names the flag.
func ParseSparsities(flag, v string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(v, ",") {
		s, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(s > 0 && s < 1) || (len(out) > 0 && s <= out[len(out)-1]) {
			return nil, fmt.Errorf("--%s %q: want ascending fractions in (0, 1)", flag, v)
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseMethods parses a comma-separated list of methods given as the flag
// --flag; an error names the flag.
func ParseMethods(flag, v string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if _, _, ok := ParseOBS(f); !ok && f != "magnitude" && f != "obd" && f != "lobs" {
			return nil, fmt.Errorf("--%s: unknown method %q (want magnitude, obd, lobs, obs-KIND-bB (KIND ggn, ef or mcfisher) or obs-KIND-kfac[E] (KIND ggn or mcfisher))", flag, f)
		}
		if slices.Contains(out, f) {
			return nil, fmt.Errorf("--%s: %q given twice", flag, f)
		}
		out = append(out, f)
	}
	return out, nil
}

// Run is one row of mnist-runs.csv.
type Run struct {
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

// Config is the protocol of a reproduction, as mnist-summary.json records
// it. Train and Test, when > 0, take the first Train training and Test test
// images only (--quick); Allocs are the allocations of Allocations.
type Config struct {
	Arch          string             `json:"arch"`
	Hidden        string             `json:"hidden"`
	Seeds         int                `json:"seeds"`
	Epochs        int                `json:"epochs"`
	Batch         int                `json:"batch"`
	LearningRate  float64            `json:"learning_rate"`
	FTEpochs      int                `json:"ft_epochs"`
	FTPatterns    int                `json:"ft_patterns"`
	FTRate        float64            `json:"ft_learning_rate"`
	LRDecay       float64            `json:"lr_decay"`
	Models        []string           `json:"models,omitempty"`
	Calib         int                `json:"calibration_patterns"`
	Damp          float64            `json:"layerwise_damp"`
	Alpha         float64            `json:"obs_alpha"`
	MCSamples     int                `json:"mc_samples"`
	Gradual       []string           `json:"gradual_methods"`
	Train, Test   int                `json:"-"`
	TrainPatterns int                `json:"train_patterns"`
	TestPatterns  int                `json:"test_patterns"`
	Sparsities    []float64          `json:"sparsities"`
	Methods       []string           `json:"methods"`
	Allocations   []string           `json:"allocations"`
	Allocs        []prune.Allocation `json:"-"`
	Quick         bool               `json:"quick"`
	// Layered is set when the models are networks given by their layers
	// (LeNet-5): the report then quotes LeNet-5's published figures.
	Layered bool `json:"layered,omitempty"`
}

// DefaultConfig returns the protocol of the reproduction (docs/mnist.md)
// before its lists are chosen: LeNet-300-100 (784-300-100-10, ReLU) on the
// whole of MNIST, 3 seeds, 15 epochs of Adam (batches of
// model.DefaultBatchSize, learning rate model.DefaultAdamRate times 0.8
// per epoch), one fine-tuning epoch at 5e-4 after each gradual step, 1,000
// calibration patterns, layer-wise damping prune.DefaultLayerDamp, OBS
// damping Alpha and one Monte-Carlo target per pattern. quick is the fast check
// instead: 1 seed of a 784-16-8-10 network on the first 2,000 training
// and 1,000 test images, 5 epochs of batches of 32, 200 calibration
// patterns.
func DefaultConfig(quick bool) Config {
	cfg := Config{Arch: "784-300-100-10", Hidden: "relu", Seeds: 3, Epochs: 15, Batch: model.DefaultBatchSize,
		LearningRate: model.DefaultAdamRate, LRDecay: 0.8, FTEpochs: 1, FTRate: 5e-4, Calib: 1000, Damp: prune.DefaultLayerDamp,
		Alpha: Alpha, MCSamples: 1, Quick: quick}
	if quick {
		cfg.Arch, cfg.Train, cfg.Test, cfg.Batch = "784-16-8-10", 2000, 1000, 32
		cfg.Seeds, cfg.Epochs, cfg.Calib = 1, 5, 200
	}
	return cfg
}

// Jobs is the number of jobs Reproduce reports progress on: per seed, the
// training and every method's one-shot and gradual run per allocation.
func (cfg *Config) Jobs() int {
	return cfg.Seeds * (1 + (len(cfg.Methods)+len(cfg.Gradual))*len(cfg.Allocs))
}

// weightSparsity is the fraction of weights (biases excluded) pruned.
func weightSparsity(m *model.MLP) float64 {
	n, g := 0, 0
	for q, p := range m.Pruned {
		if m.IsBias(q) {
			continue
		}
		n++
		if p {
			g++
		}
	}
	return float64(g) / float64(n)
}

// plan is the plan of a method with an allocation: the weights only
// (biases kept, though OBS's update moves them), pruned to each sparsity in
// turn, every one a checkpoint. Magnitude, OBD and layer-wise OBS rank
// once and round the counts to the nearest weight, OBS downdates after
// every deletion and rounds down, as each always has.
func plan(m *model.MLP, method string, alloc prune.Allocation, cfg *Config, seed uint64) *prune.Plan {
	p := &prune.Plan{Candidates: prune.Weights(m), PerLayer: alloc == prune.PerLayer, RankOnce: true, Round: prune.Nearest}
	switch method {
	case "magnitude":
		p.Method = prune.MagnitudePruner{}
	case "obd":
		p.Method = prune.OBDPruner{Curvature: prune.GGNDiagonal{}}
	case "lobs":
		p.Method = prune.LayerOBSPruner{Damp: cfg.Damp, Relative: alloc == prune.Global}
	default:
		kind, st, _ := ParseOBS(method)
		opts := &hessian.Options{Samples: cfg.MCSamples, Seed: seed}
		var b prune.Builder = prune.Terms{Curvature: kind, Options: opts}
		if _, ok := st.(prune.KFAC); ok {
			b = prune.KFACFactors{Curvature: kind, Options: opts}
			p.Group = KFACGroup
		}
		p.Method = prune.OBSPruner{Curvature: b, Alpha: cfg.Alpha, Structure: st}
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

// peakRSS is the process's peak resident set size so far, in MiB (NaN
// where resources.PeakRSSMiB cannot measure it).
func peakRSS() float64 {
	if v, ok := resources.PeakRSSMiB(); ok {
		return v
	}
	return math.NaN()
}

// LoadModels reads the trained models of cfg.Models, one per seed, before
// anything runs (a bad file fails at once), checks that each is an MNIST
// classifier (an MLP or a network given by its layers, such as LeNet-5)
// of the same architecture as the first, and records that architecture in
// cfg (a network given by its layers has no single hidden activation:
// cfg.Hidden is then "layers").
func LoadModels(cfg *Config) ([]*model.MLP, error) {
	var trained []*model.MLP
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	for _, f := range cfg.Models {
		m, file, err := model.Load(f)
		if err != nil {
			return nil, err
		}
		// The reproduction feeds the embedded MNIST (pixel/255) to the
		// network as it is and reads output k as digit k: a model that
		// standardises its inputs or names its classes otherwise would be
		// scored on the wrong inputs or labels without a word.
		if file.Standardize != nil {
			return nil, fmt.Errorf("model file %s standardises its inputs (input_mean/input_std), which obs reproduce mnist does not apply; fold it into the first layer (obs export, then obs import) or evaluate it with obs eval", f)
		}
		if file.Classes != nil && !slices.Equal(file.Classes, digits) {
			return nil, fmt.Errorf("model file %s names its classes %s, but obs reproduce mnist reads output k as digit k (want 0,...,9 in order)", f, strings.Join(file.Classes, ","))
		}
		if m.NumInputs() != 784 || m.NumOutputs() != 10 || m.Spec.Loss != model.CrossEntropy {
			return nil, fmt.Errorf("model file %s: a %s network with %v loss, want 784 inputs, 10 outputs and cross-entropy", f, m.Describe(), m.Spec.Loss)
		}
		if len(trained) > 0 && m.Describe() != trained[0].Describe() {
			return nil, fmt.Errorf("model file %s: a %s network, but %s is a %s network (every seed's model must have the same architecture)", f, m.Describe(), cfg.Models[0], trained[0].Describe())
		}
		trained = append(trained, m)
	}
	if len(trained) > 0 {
		cfg.Arch = trained[0].Describe()
		cfg.Hidden, cfg.Layered = "layers", trained[0].Layered()
		if !cfg.Layered {
			cfg.Hidden = trained[0].Spec.Hidden.String()
		}
	}
	return trained, nil
}

// Progress receives the reproduction's progress: done of total jobs (a
// seed's training, one method's one-shot or gradual run) and what was done.
type Progress func(done, total int, desc string)

// Reproduce runs the protocol cfg on the embedded MNIST, with the trained
// models (one per seed, from LoadModels) or training a network per seed,
// and returns one Run per seed, method, allocation, mode and target. After
// every seed but the last, seedDone (if not nil) receives the protocol of
// the seeds done so far and their rows, to write a partial report. It
// stops with ctx's error when ctx is cancelled.
func Reproduce(ctx context.Context, cfg *Config, trained []*model.MLP, progress Progress, seedDone func(Config, []Run) error) ([]Run, error) {
	interrupted := func() bool { return ctx.Err() != nil }
	train, test, err := datasets.MNIST()
	if err != nil {
		return nil, err
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
	allocs := cfg.Allocs
	stop := interrupted
	jobs := cfg.Jobs()
	done := 0
	tick := func(desc string) {
		done++
		if progress != nil {
			progress(done, jobs, desc)
		}
	}
	var runs []Run
	row := func(seed uint64, method string, alloc prune.Allocation, mode string, s float64, pm *model.MLP, mt *meter) {
		sec, am := mt.now()
		var acc float64
		mt.exclude(func() { _, acc = pm.Evaluate(Xt, Tt) })
		runs = append(runs, Run{seed, method, alloc.String(), mode, s, weightSparsity(pm), acc, sec, am, mt.peakMiB(), peakRSS()})
	}
	for seed := uint64(1); seed <= uint64(cfg.Seeds); seed++ {
		var m *model.MLP
		var mt meter
		if len(trained) > 0 {
			m = trained[seed-1]
		} else {
			if m, err = model.New(spec); err != nil {
				return nil, err
			}
			m.Init(reproduce.NewRand(seed))
			err = mt.part(func() error {
				_, err := model.TrainMiniBatch(m, X, T, &model.MiniBatchSettings{Epochs: cfg.Epochs, BatchSize: cfg.Batch, LearningRate: cfg.LearningRate, Decay: cfg.LRDecay, Seed: seed, Stop: stop})
				return err
			})
			if err != nil {
				return nil, err
			}
			if interrupted() {
				return nil, ctx.Err()
			}
		}
		_, acc := m.Evaluate(Xt, Tt)
		runs = append(runs, Run{seed, "dense", "-", "train", 0, 0, acc, mt.sec, mt.allocMiB, mt.peakMiB(), peakRSS()})
		tick(fmt.Sprintf("seed %d trained, test accuracy %.4f", seed, acc))
		for _, method := range cfg.Methods {
			for _, alloc := range allocs {
				if err := oneShot(ctx, m, method, alloc, cfg, seed, Xc, Tc, row); err != nil {
					return nil, err
				}
				if interrupted() {
					return nil, ctx.Err()
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
				p := plan(pm, method, alloc, cfg, seed)
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
					if _, err := prune.Prune(ctx, pm, Xc, Tc, p); err != nil {
						return fmt.Errorf("%s: %w", method, err)
					}
					return nil
				})
				if interrupted() {
					return nil, ctx.Err()
				}
				if err != nil {
					return nil, err
				}
				tick(fmt.Sprintf("seed %d %s %s gradual", seed, method, alloc))
			}
		}
		if seed < uint64(cfg.Seeds) && seedDone != nil {
			// The seeds done so far, in case the run is stopped.
			part := *cfg
			part.Seeds = int(seed)
			if len(cfg.Models) > 0 {
				part.Models = cfg.Models[:seed]
			}
			if err := seedDone(part, runs); err != nil {
				return nil, err
			}
		}
	}
	return runs, nil
}

// oneShot prunes m one-shot to every target with method and
// allocation and records a row per target: one run of prune.Prune, one
// build, through the targets as checkpoints.
func oneShot(ctx context.Context, m *model.MLP, method string, alloc prune.Allocation, cfg *Config, seed uint64, Xc, Tc [][]float64,
	row func(seed uint64, method string, alloc prune.Allocation, mode string, s float64, pm *model.MLP, mt *meter)) error {
	var mt meter
	pm := m.Clone()
	p := plan(pm, method, alloc, cfg, seed)
	p.Checkpoint = func(i int) error { row(seed, method, alloc, "one-shot", cfg.Sparsities[i], pm, &mt); return nil }
	return mt.part(func() error {
		if _, err := prune.Prune(ctx, pm, Xc, Tc, p); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		return nil
	})
}

// Summary is mnist-summary.json.
type Summary struct {
	Config Config `json:"config"`
	Runs   []Run  `json:"runs"`
}

// Merge joins the summaries (mnist-summary.json) of earlier runs in dirs
// into one protocol and its rows, for one report: their methods, gradual
// methods and allocations joined, the dense rows taken from the first.
func Merge(dirs []string) (Config, []Run, error) {
	var cfg Config
	var runs []Run
	for i, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "mnist-summary.json"))
		if err != nil {
			return cfg, nil, fmt.Errorf("--merge: %v", err)
		}
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return cfg, nil, fmt.Errorf("--merge: %s: %v", filepath.Join(d, "mnist-summary.json"), err)
		}
		o := s.Config
		if i == 0 {
			cfg = o
			cfg.Methods, cfg.Gradual, cfg.Allocations = nil, nil, nil
		} else if !slices.Equal(o.Sparsities, cfg.Sparsities) || o.Calib != cfg.Calib || o.Alpha != cfg.Alpha || o.MCSamples != cfg.MCSamples ||
			o.Damp != cfg.Damp || o.Arch != cfg.Arch || !(prefix(o.Models, cfg.Models) || prefix(cfg.Models, o.Models)) ||
			(len(o.Gradual) > 0 && len(cfg.Gradual) > 0 && (o.FTEpochs != cfg.FTEpochs || o.FTPatterns != cfg.FTPatterns || o.FTRate != cfg.FTRate)) {
			return cfg, nil, fmt.Errorf("--merge: %s was run with other settings than %s", d, dirs[0])
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
	return cfg, runs, nil
}

// prefix reports whether a is a prefix of b.
func prefix(a, b []string) bool { return len(a) <= len(b) && slices.Equal(a, b[:len(a)]) }

// Cell is the mean and range of a set of accuracies.
type Cell struct {
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Summarise returns the mean, minimum and maximum of v.
func Summarise(v []float64) Cell {
	c := Cell{Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range v {
		c.Mean += x / float64(len(v))
		c.Min, c.Max = math.Min(c.Min, x), math.Max(c.Max, x)
	}
	return c
}

// String formats c in percent as "mean [min, max]".
func (c Cell) String() string {
	return fmt.Sprintf("%.2f [%.2f, %.2f]", 100*c.Mean, 100*c.Min, 100*c.Max)
}

// Write writes the report, CSV, JSON and figure of runs into dir and
// returns the names of the files and the dense networks' test accuracy.
func Write(dir string, cfg Config, runs []Run) (files []string, dense Cell, err error) {
	pick := func(method, alloc, mode string, s float64) (acc, sec, am, heap []float64) {
		for _, r := range runs {
			if r.Method == method && r.Allocation == alloc && r.Mode == mode && r.Target == s {
				acc, sec, am, heap = append(acc, r.TestAcc), append(sec, r.Seconds), append(am, r.AllocMiB), append(heap, r.PeakHeapMiB)
			}
		}
		return
	}
	denseAcc, dsec, _, dheap := pick("dense", "-", "train", 0)
	name := func(method string) string {
		if kind, st, ok := ParseOBS(method); ok {
			if b, ok := st.(prune.Blocks); ok {
				return fmt.Sprintf("OBS %s, blocks of %d (`%s`)", kind, b.Size, method)
			}
			return fmt.Sprintf("OBS %s, %s in steps of %d weights (`%s`)", kind, st, KFACGroup, method)
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
	for _, m := range append(append([]string(nil), cfg.Methods...), cfg.Gradual...) {
		if _, st, ok := ParseOBS(m); ok {
			if _, kfac := st.(prune.KFAC); kfac {
				fmt.Fprintf(&md, "OBS with K-FAC (`obs-KIND-kfac[E]`, KIND ggn or mcfisher) holds per layer the inverse of the pi-damped (G + sqrt(alpha)/pi I) ⊗ (A + pi sqrt(alpha) I), "+
					"A the layer's inputs (bias as a constant 1) and G its output-side vectors (for a conv layer, KFC's: its im2col patches and the vectors of its output channels at every position), "+
					"from the same calibration patterns, and removes %d weights per step by OBS's group formula "+
					"(a step updates the whole layer); the first E deletions of each layer downdate the inverse exactly, later ones drop their row and column (E = 0 without a number).\n\n", KFACGroup)
				break
			}
		}
	}
	fmt.Fprintf(&md, "Dense network: test accuracy %s %% (mean [min, max] over %d seeds)", Summarise(denseAcc), len(denseAcc))
	if len(cfg.Models) == 0 {
		fmt.Fprintf(&md, ", training %.1f s per seed, peak heap %.0f MiB", Summarise(dsec).Mean, slices.Max(dheap))
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
					cl := Summarise(acc)
					if len(acc) != cfg.Seeds {
						fmt.Fprintf(&md, " %s, %d seed(s) |", cl, len(acc))
					} else {
						fmt.Fprintf(&md, " %s |", cl)
					}
					fig.X, fig.Y = append(fig.X, 100*s), append(fig.Y, 100*cl.Mean)
				}
				_, sec, _, heap := pick(method, alloc, mode, last)
				fmt.Fprintf(&md, " %.1f | %.0f |\n", Summarise(sec).Mean, slices.Max(heap))
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
	if cfg.Layered {
		md.WriteString(publishedLeNet5)
	} else {
		md.WriteString(published)
	}
	files = []string{"mnist-report.md", "mnist-runs.csv", "mnist-summary.json", "mnist-accuracy.png"}
	if err := atomicfile.Write(filepath.Join(dir, files[0]), func(w io.Writer) error { _, err := io.WriteString(w, md.String()); return err }); err != nil {
		return nil, dense, err
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
		return nil, dense, err
	}
	summary := Summary{Config: cfg, Runs: runs}
	if err := atomicfile.Write(filepath.Join(dir, files[2]), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(summary)
	}); err != nil {
		return nil, dense, err
	}
	if err := figures.Write(filepath.Join(dir, files[3]), series, figures.Options{Title: "MNIST " + shortArch(cfg) + ": test accuracy after pruning (mean over seeds)", XLabel: "weight sparsity (%)", YLabel: "test accuracy (%)", Width: 20, Height: 14}); err != nil {
		return nil, dense, err
	}
	return files, Summarise(denseAcc), nil
}

// published is the comparison with published LeNet-300-100 results,
// quoted with their sources.
const published = `## Published LeNet-300-100 results

| source | network | test error | parameters kept |
|---|---|---|---|
| LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", Proc. IEEE 86(11), 1998 (comparison of classifiers) | 3-layer NN, 300+100 hidden units, no distortions | 3.05% | all (266,610) |
| Han, Pool, Tran & Dally, "Learning both weights and connections for efficient neural networks", NIPS 2015, Table 1 | LeNet-300-100 reference | 1.64% | 267K |
| same | LeNet-300-100 pruned (iterative magnitude pruning with retraining) | 1.59% | 22K (12x compression, about 92% pruned) |

Han et al. retrain for many epochs after each pruning iteration; the gradual runs here fine-tune only briefly, so compare with care.
`

// publishedLeNet5 is the comparison with published LeNet-5 results,
// quoted with their sources, for a network given by its layers.
const publishedLeNet5 = `## Published LeNet-5 results

| source | network | test error | parameters kept |
|---|---|---|---|
| LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition", Proc. IEEE 86(11), 1998 (comparison of classifiers) | LeNet-5 (6-16-120-84, scaled tanh, trainable subsampling), no distortions | 0.95% | all (about 60,000) |
| Han, Pool, Tran & Dally, "Learning both weights and connections for efficient neural networks", NIPS 2015, Table 1 | LeNet-5 reference (Caffe's 20-50-500 variant) | 0.80% | 431K |
| same | LeNet-5 pruned (iterative magnitude pruning with retraining) | 0.77% | 36K (12x compression, about 92% pruned) |

Han et al.'s LeNet-5 is Caffe's 20-50-500 variant, seven times larger than the 6-16-120-84 network a layer spec such as docs/cnn.md's describes, and they retrain for many epochs after each pruning iteration; the gradual runs here fine-tune only briefly, so compare with care.
`

// shortArch names cfg's network in a figure title: an MLP by its sizes, a
// network given by its layers by its weight layers' widths, like
// "conv 6, conv 16, linear 120, linear 84, linear 10" (the whole layer list
// does not fit a title).
func shortArch(cfg Config) string {
	_, layers, ok := strings.Cut(cfg.Arch, "layers ")
	if !cfg.Layered || !ok {
		return cfg.Arch
	}
	var parts []string
	for _, item := range strings.Split(layers, ",") {
		f := strings.Split(item, ":")
		if (f[0] == "conv" || f[0] == "linear") && len(f) > 1 {
			parts = append(parts, f[0]+" "+f[1])
		}
	}
	return strings.Join(parts, ", ")
}
