package study

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/model"
)

// ErrStopped is returned when RunConfig.Stop asked the study to end.
var ErrStopped = parallel.ErrStopped

// RunConfig configures Run.
type RunConfig struct {
	// Quick uses the small settings of Settings(true).
	Quick bool
	// Seeds are the seeds every setting is run with; each seed draws its
	// own teacher, inputs, noise, labels and student starts. If empty,
	// DefaultSeeds (one seed with Quick).
	Seeds []uint64
	// MonkDir, if not empty, holds the UCI files monks-N.train and
	// monks-N.test; otherwise the built-in copy of the UCI files is used.
	MonkDir string
	// Measure configures every measurement. Its Seed is replaced by the
	// setting's seed so the Monte-Carlo Fisher differs between seeds.
	Measure MeasureConfig
	// Workers is the number of settings measured at once. If zero,
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// Progress, if not nil, is called after each setting and seed (never
	// concurrently) with the number done and the total.
	Progress func(done, total int)
	// Stop, if not nil, is polled before each setting and during training;
	// when it returns true Run returns ErrStopped.
	Stop func() bool
}

// DefaultSeeds are the seeds of the full study.
var DefaultSeeds = []uint64{1, 2, 3}

// Outcome is one setting trained and measured with one seed.
type Outcome struct {
	Seed uint64
	// Training: final E (weight decay included), ||grad E||_2, whether the
	// tolerance was reached, why training stopped.
	TrainE, TrainGradNorm float64
	Converged             bool
	Status                string
	// TrainAccuracy and TestAccuracy are NaN when there are no classes or
	// no test set.
	TrainAccuracy, TestAccuracy float64
	// SignalStd is the standard deviation of the teacher's outputs over
	// the training inputs (regression; NaN otherwise).
	SignalStd float64
	Measurement
}

// Row is one setting with an outcome per seed.
type Row struct {
	Setting  Setting
	Outcomes []Outcome
}

// FactorResult is a factor with its measured rows.
type FactorResult struct {
	Key, Title string
	Rows       []Row
}

// Results is everything Run measured, with the configuration that produced it.
type Results struct {
	Quick   bool
	Seeds   []uint64
	MonkDir string
	// Alpha is the damping used, Fix the exact Hessian's fix, MCSamples and
	// MCCheckSamples the Monte-Carlo Fisher's samples per pattern and MCSigma
	// its noise sigma for squared error.
	Alpha                     float64
	Fix                       string
	MCSamples, MCCheckSamples int
	MCSigma                   float64
	Factors                   []FactorResult
}

// Run trains and measures every setting of Settings(cfg.Quick) with every
// seed. It is deterministic: the same configuration gives the same results,
// whatever the number of workers.
func Run(cfg RunConfig) (*Results, error) {
	seeds := cfg.Seeds
	if len(seeds) == 0 {
		seeds = DefaultSeeds
		if cfg.Quick {
			seeds = DefaultSeeds[:1]
		}
	}
	mc := cfg.Measure
	res := &Results{Quick: cfg.Quick, Seeds: append([]uint64(nil), seeds...), MonkDir: cfg.MonkDir,
		Alpha: mc.alpha(), Fix: mc.Fix.String(), MCSamples: mc.MCSamples, MCCheckSamples: mc.MCCheckSamples, MCSigma: mc.MCSigma}
	if res.MCSamples == 0 {
		res.MCSamples = hessian.DefaultSamples
	}
	if res.MCCheckSamples == 0 {
		res.MCCheckSamples = DefaultCheckSamples
	}
	if res.MCSigma == 0 {
		res.MCSigma = hessian.DefaultSigma
	}
	type job struct{ f, r, s int }
	var jobs []job
	for fi, f := range Settings(cfg.Quick) {
		fr := FactorResult{Key: f.Key, Title: f.Title}
		for ri, s := range f.Settings {
			fr.Rows = append(fr.Rows, Row{Setting: s, Outcomes: make([]Outcome, len(seeds))})
			for si := range seeds {
				jobs = append(jobs, job{fi, ri, si})
			}
		}
		res.Factors = append(res.Factors, fr)
	}
	// Start the costly jobs first so that the workers finish together; the
	// order does not change any result. Cost ~ patterns x trainings.
	cost := func(j job) int {
		s := &res.Factors[j.f].Rows[j.r].Setting
		p := s.P
		if s.Task == Monk {
			p = 150
		}
		n := max(1, s.Restarts)
		if s.Path {
			n++
		}
		return p * n
	}
	sort.SliceStable(jobs, func(a, b int) bool { return cost(jobs[a]) > cost(jobs[b]) })
	stop := func() bool { return cfg.Stop != nil && cfg.Stop() }
	err := parallel.For(len(jobs), cfg.Workers, stop, cfg.Progress, func(i int) error {
		j := jobs[i]
		row := &res.Factors[j.f].Rows[j.r]
		out, err := runOne(&row.Setting, seeds[j.s], cfg, stop)
		if err != nil {
			return fmt.Errorf("%s, %s, seed %d: %w", res.Factors[j.f].Title, row.Setting.Label, seeds[j.s], err)
		}
		row.Outcomes[j.s] = *out
		return nil
	})
	if errors.Is(err, ErrStopped) {
		return nil, ErrStopped
	}
	if err != nil {
		return nil, err
	}
	if stop() {
		return nil, ErrStopped
	}
	return res, nil
}

// runOne trains the student of s for one seed and measures it.
func runOne(s *Setting, seed uint64, cfg RunConfig, stop func() bool) (*Outcome, error) {
	train, test, err := s.data(seed, cfg.MonkDir)
	if err != nil {
		return nil, err
	}
	X, T := train.Inputs, train.Targets
	net, err := model.New(s.studentSpec())
	if err != nil {
		return nil, err
	}
	net, tr, err := trainStudent(net, s, seed, X, T, stop)
	if err != nil {
		return nil, err
	}
	if stop() {
		return nil, ErrStopped
	}
	out := &Outcome{Seed: seed, TrainE: tr.E, TrainGradNorm: tr.GradNorm, Converged: tr.Converged, Status: tr.Status,
		TrainAccuracy: math.NaN(), TestAccuracy: math.NaN(), SignalStd: math.NaN()}
	ws := net.NewWorkspace()
	if s.Task != TeacherStudent {
		out.TrainAccuracy = net.Accuracy(ws, X, T)
		if test != nil {
			out.TestAccuracy = net.Accuracy(ws, test.Inputs, test.Targets)
		}
	} else {
		t := s.teacher(seed)
		tws := t.NewWorkspace()
		y := make([]float64, len(X))
		for p, x := range X {
			y[p] = t.Forward(tws, x)[0]
		}
		out.SignalStd = math.Sqrt(stat.PopVariance(y, nil))
	}
	mc := cfg.Measure
	mc.Seed = seed
	m, err := Measure(net, train, mc)
	if err != nil {
		return nil, err
	}
	out.Measurement = *m
	return out, nil
}

// trainStudent trains net (just created) as the setting says: from the
// perturbed teacher, along a staged path, or from random restarts.
func trainStudent(net *model.MLP, s *Setting, seed uint64, X, T [][]float64, stop func() bool) (*model.MLP, model.TrainResult, error) {
	rng := newRand(seed, streamStudent)
	settings := &model.TrainSettings{GradTol: s.GradTol, Stop: stop}
	var tr model.TrainResult
	var err error
	switch {
	case s.FromTeacher:
		t := s.teacher(seed)
		if len(t.Params) != len(net.Params) {
			panic("study: FromTeacher with a student that is not the teacher's architecture")
		}
		for i, w := range t.Params {
			net.Params[i] = w + startNoise*rng.NormFloat64()
		}
		tr, err = model.Train(net, X, T, settings)
		return net, tr, err
	case s.Path:
		// Pick the best of the random starts, then follow its path.
		starts := make([][]float64, max(1, s.Restarts))
		bestE, best := math.Inf(1), 0
		for r := range starts {
			c := net.Clone()
			c.Init(rng)
			starts[r] = append([]float64(nil), c.Params...)
			res, err := model.Train(c, X, T, &model.TrainSettings{Stop: stop})
			if err != nil {
				return nil, tr, err
			}
			if res.E < bestE {
				bestE, best = res.E, r
			}
		}
		copy(net.Params, starts[best])
		for _, g := range ProgressTols {
			if g < s.GradTol {
				break
			}
			if tr, err = model.Train(net, X, T, &model.TrainSettings{GradTol: g, Stop: stop}); err != nil {
				return nil, tr, err
			}
		}
		return net, tr, nil
	}
	net, rr, err := model.TrainRestarts(net, X, T, settings, rng, max(1, s.Restarts))
	return net, rr.Best, err
}
