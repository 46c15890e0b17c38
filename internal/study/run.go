package study

import (
	"errors"
	"fmt"
	"math"
	"sort"

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
	// DefaultSeeds(Quick).
	Seeds []uint64
	// Workers is the number of networks scored at once. If zero,
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// Progress, if not nil, is called after each setting and seed (never
	// concurrently) with the number done and the total.
	Progress func(done, total int)
	// Stop, if not nil, is polled before each setting and during training;
	// when it returns true Run returns ErrStopped.
	Stop func() bool
}

// DefaultSeeds returns the seeds of the full study, 1..20, or of the quick
// one, 1..3.
func DefaultSeeds(quick bool) []uint64 {
	n := 20
	if quick {
		n = 3
	}
	s := make([]uint64, n)
	for i := range s {
		s[i] = uint64(i + 1)
	}
	return s
}

// Row is one setting with a result per seed.
type Row struct {
	Setting Setting
	Nets    []NetResult
}

// Results is everything Run measured, with the configuration that produced it.
type Results struct {
	Quick bool
	Seeds []uint64
	Rows  []Row
}

// Run trains and scores every setting of Settings(cfg.Quick) with every
// seed. It is deterministic: the same configuration gives the same results,
// whatever the number of workers.
func Run(cfg RunConfig) (*Results, error) {
	seeds := cfg.Seeds
	if len(seeds) == 0 {
		seeds = DefaultSeeds(cfg.Quick)
	}
	res := &Results{Quick: cfg.Quick, Seeds: append([]uint64(nil), seeds...)}
	type job struct{ r, s int }
	var jobs []job
	for ri, s := range Settings(cfg.Quick) {
		res.Rows = append(res.Rows, Row{Setting: s, Nets: make([]NetResult, len(seeds))})
		for si := range seeds {
			jobs = append(jobs, job{ri, si})
		}
	}
	// Start the costly jobs first so that the workers finish together; the
	// order does not change any result.
	cost := func(j job) int {
		s := &res.Rows[j.r].Setting
		return s.P * s.NumParams() * max(1, s.Restarts)
	}
	sort.SliceStable(jobs, func(a, b int) bool { return cost(jobs[a]) > cost(jobs[b]) })
	stop := func() bool { return cfg.Stop != nil && cfg.Stop() }
	err := parallel.For(len(jobs), cfg.Workers, stop, cfg.Progress, func(i int) error {
		j := jobs[i]
		row := &res.Rows[j.r]
		out, err := runOne(&row.Setting, seeds[j.s], cfg.Quick, stop)
		if err != nil {
			return fmt.Errorf("%s, seed %d: %w", row.Setting.Label, seeds[j.s], err)
		}
		row.Nets[j.s] = *out
		return nil
	})
	if errors.Is(err, ErrStopped) || stop() {
		return nil, ErrStopped
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// runOne trains the student of s for one seed and scores it.
func runOne(s *Setting, seed uint64, quick bool, stop func() bool) (*NetResult, error) {
	train, test := s.data(seed)
	net, err := model.New(s.studentSpec())
	if err != nil {
		return nil, err
	}
	net, tr, err := trainStudent(net, s, seed, train.Inputs, train.Targets, stop)
	if err != nil {
		return nil, err
	}
	if stop() {
		return nil, ErrStopped
	}
	out, err := scoreNet(s, net, train, test, seed, quick, stop)
	if err != nil {
		return nil, err
	}
	out.Converged = tr.Converged
	return out, nil
}

// trainStudent trains net (just created) as the setting says: from the
// perturbed teacher or from random restarts.
func trainStudent(net *model.MLP, s *Setting, seed uint64, X, T [][]float64, stop func() bool) (*model.MLP, model.TrainResult, error) {
	rng := newRand(seed, streamStudent)
	settings := &model.TrainSettings{Stop: stop}
	if s.FromTeacher {
		t := s.teacher(seed)
		if len(t.Params) != len(net.Params) {
			panic("study: FromTeacher with a student that is not the teacher's size")
		}
		for i, w := range t.Params {
			net.Params[i] = w + startNoise*rng.NormFloat64()
		}
		tr, err := model.Train(net, X, T, settings)
		return net, tr, err
	}
	net, rr, err := model.TrainRestarts(net, X, T, settings, rng, max(1, s.Restarts))
	return net, rr.Best, err
}

// finite reports whether v is a number.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
