// Package nettalk runs the third experiment of the Optimal Brain Surgeon
// paper (B. Hassibi and D. G. Stork, "Second order derivatives for network
// pruning: Optimal Brain Surgeon", NIPS 5, 1993): a NETtalk network
// (Sejnowski and Rosenberg, 1987) trained to a minimum and pruned by OBS
// with the full, not block-diagonal, inverse of the Gauss–Newton matrix,
// beside OBS with the empirical Fisher, OBD and magnitude pruning, with the
// best-guess phoneme and stress accuracy on held-out words measured against
// the parameters left.
//
// At 203-80-26 (n = 18,426 parameters) one dense curvature is 2.7 GB, so
// the run is arranged around it: the curvature is built from the sparse
// one-hot inputs (hessian.NewSparse), inverted in place by a block sweep
// (hessian.InverseDirectInPlace: one n x n matrix) or, for the empirical
// Fisher of P < n training letters where it is cheaper, through its P x P
// kernel (hessian.InverseKernel, into the same matrix), and parameters are
// removed in groups of k with the group OBS step and a rank-k downdate of
// the inverse (prune.Prune with prune.OBSPruner), rebuilding the
// curvature at the current weights whenever the parameters left have fallen
// by the fraction Recompute since the last build (a geometric schedule:
// the builds get cheaper as nf^3). The inverse is compacted (its
// survivors moved to the front of the same storage) whenever a tenth of its
// rows have been removed, so deletions cost the current nf^2. Memory is one
// n x n matrix (reused across rebuilds and methods) plus O(n k), and during
// a build the sparse build's per-pattern factors (at most 512 MB).
//
// The package never prints; Settings.Progress reports progress.
package nettalk

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The published claim, quoted from the paper's abstract.
const (
	PaperClaim  = "whereas Sejnowski and Rosenberg used 18,000 weights in their NETtalk network, we used OBS to prune a network to just 1560 weights, yielding better generalization."
	PaperSource = "B. Hassibi and D. G. Stork, Second order derivatives for network pruning: Optimal Brain Surgeon, NIPS 5 (1993), abstract"
	// PaperParams is the size the paper pruned NETtalk to.
	PaperParams = 1560
)

// SeedStream is the second PCG word of the initial weights, the stream of
// obs train --seed s (the same as internal/reproduce).
const SeedStream = 0x6f6273 // "obs"

// Method names.
const (
	OBSGGN    = "obs-ggn"
	OBSEF     = "obs-ef"
	OBDGGN    = "obd-ggn"
	Magnitude = "magnitude"
)

// Methods lists the methods in the order they run.
var Methods = []string{OBSGGN, OBSEF, OBDGGN, Magnitude}

// ErrStopped is returned when Settings.Stop asked the run to end.
var ErrStopped = errors.New("nettalk: stopped")

// Settings of a run. DefaultSettings gives the full experiment; Small a
// run of seconds.
type Settings struct {
	Dir        string  `json:"-"`           // the corpus (datasets.ReadNettalk)
	Window     int     `json:"window"`      // letters per window (odd)
	Hidden     int     `json:"hidden"`      // hidden units
	TrainWords int     `json:"train_words"` // 0: all common words
	TestWords  int     `json:"test_words"`  // 0: the whole rest of the dictionary; else an evenly spaced subset
	Decay      float64 `json:"decay"`
	Seed       uint64  `json:"seed"`
	// Training: L-BFGS on batched gradients (model.TrainSettings.Batched),
	// then the Newton-CG polish of model.Train (batched exact
	// Hessian-vector products, Jacobi-preconditioned CG, no n x n matrix)
	// with at most Polish of the MaxIter
	// iterations, to ||grad E|| <= GradTol; 0 Polish: none.
	GradTol float64 `json:"grad_tol"`
	MaxIter int     `json:"max_iter"`
	Polish  int     `json:"polish_iter"`
	// Pruning (never retrained).
	Alpha float64 `json:"alpha"` // OBS damping: C + Alpha I
	// Damping is how Alpha and Decay enter OBS's curvature
	// (hessian.Damping): absolute, C_data + (Decay + Alpha) I, the
	// paper's and the default; relative, C_data + (Decay + Alpha) s I with
	// s = tr(C_data)/n at every build (the scale-matched control of
	// docs/gn-vs-fisher.md). OBD and magnitude do not use it.
	Damping hessian.Damping `json:"-"`
	// DampingName is Damping's name in the summary.
	DampingName string   `json:"damping"`
	Group       int      `json:"group"`     // parameters removed per step (group OBS)
	Recompute   float64  `json:"recompute"` // rebuild the curvature when the parameters left fell by this fraction since the last build (0: never)
	Keep        int      `json:"keep"`      // prune down to this many parameters
	Points      int      `json:"points"`    // test accuracy measured at n0 (1 - i/Points), i = 0..Points, and at PaperParams
	Methods     []string `json:"methods"`   // subset of Methods
	// Progress, if not nil, is called after training iterations and pruning
	// steps; Stop, if not nil, is polled and ends the run with ErrStopped.
	Progress func(Progress) `json:"-"`
	Stop     func() bool    `json:"-"`
}

// DefaultSettings is the experiment of the paper's size.
func DefaultSettings() Settings {
	return Settings{
		Window: datasets.DefaultNettalkWindow, Hidden: 80, TestWords: 2000,
		Decay: 3e-4, Seed: 1, GradTol: 1e-5, MaxIter: 8000, Polish: 0,
		Alpha: 1e-4, Group: 64, Recompute: 0.5, Keep: 780, Points: 20,
		Methods: Methods,
	}
}

// Progress reports the run's progress.
type Progress struct {
	Stage string // "training" or a method
	// Done of Total units of work: training iterations, or parameters
	// removed in this method.
	Done, Total int
	Left        int     // parameters left (pruning)
	E           float64 // the last measured training error
	Building    bool    // a curvature build and inverse starts now
}

// Point is one measurement on a pruning curve.
type Point struct {
	Params       int     `json:"params"`
	TrainE       float64 `json:"train_e"`
	TrainPhoneme float64 `json:"train_phoneme_acc"`
	TrainStress  float64 `json:"train_stress_acc"`
	TestPhoneme  float64 `json:"test_phoneme_acc"`
	TestStress   float64 `json:"test_stress_acc"`
}

// Curve is one method's pruning run.
type Curve struct {
	Method   string  `json:"method"`
	Points   []Point `json:"points"`
	Best     Point   `json:"best"` // the point of highest test phoneme accuracy (fewest parameters on ties)
	AtPaper  *Point  `json:"at_paper_params,omitempty"`
	Rebuilds int     `json:"curvature_builds"`
	Seconds  float64 `json:"seconds"`
	// CurvatureSeconds is the part of Seconds spent building and inverting
	// (OBS) or building the diagonal of (OBD) the curvature; AtPaperSeconds
	// the time from the method's start to PaperParams parameters left
	// (0 if the curve does not reach it).
	CurvatureSeconds float64 `json:"curvature_seconds"`
	AtPaperSeconds   float64 `json:"at_paper_params_seconds,omitempty"`
}

// Training is the trained network's record.
type Training struct {
	Status     string  `json:"status"`
	Iterations int     `json:"iterations"`
	E          float64 `json:"e"`
	GradNorm   float64 `json:"grad_norm"`
	Converged  bool    `json:"converged"`
	Seconds    float64 `json:"seconds"`
}

// Result is a whole run.
type Result struct {
	Settings      Settings              `json:"settings"`
	Arch          string                `json:"arch"`
	Params        int                   `json:"params"`
	Split         datasets.NettalkSplit `json:"-"`
	TrainPatterns int                   `json:"train_patterns"`
	TestPatterns  int                   `json:"test_patterns"`
	Training      Training              `json:"training"`
	Curves        []Curve               `json:"curves"`
	MemoryBytes   int64                 `json:"inverse_bytes"` // the one n x n matrix
	// KernelBytes is the memory of the empirical Fisher's kernel inverse
	// at full size (its n x P terms and P x P kernel; hessian.InverseKernel),
	// 0 if obs-ef does not run or the sweep is cheaper.
	KernelBytes int64 `json:"kernel_bytes"`
}

// Run trains the network and prunes it with every method.
func Run(s Settings) (*Result, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	s.DampingName = s.Damping.String()
	nt, err := datasets.ReadNettalk(s.Dir)
	if err != nil {
		return nil, err
	}
	train, test, split, err := nt.Sets(datasets.NettalkOptions{Window: s.Window, TrainWords: s.TrainWords, TestWords: s.TestWords})
	if err != nil {
		return nil, err
	}
	spec := model.Spec{Sizes: []int{train.NumInputs(), s.Hidden, train.NumTargets()}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: s.Decay}
	net, err := model.New(spec)
	if err != nil {
		return nil, err
	}
	net.Init(rand.New(rand.NewPCG(s.Seed, SeedStream)))
	res := &Result{Settings: s, Arch: model.Arch(spec.Sizes), Params: len(net.Params), Split: split, TrainPatterns: train.Len(), TestPatterns: test.Len()}

	start := time.Now()
	tr, err := model.Train(net, train.Inputs, train.Targets, &model.TrainSettings{
		GradTol: s.GradTol, MaxIter: s.MaxIter, PolishIter: s.Polish, NoPolish: s.Polish == 0, Batched: true,
		Progress: func(p model.TrainProgress) {
			if s.Progress != nil {
				s.Progress(Progress{Stage: "training", Done: p.Iteration, Total: s.MaxIter, E: p.E, Left: len(net.Params)})
			}
		},
		Stop: s.Stop,
	})
	if err != nil {
		return nil, err
	}
	if s.stopped() {
		return nil, ErrStopped
	}
	res.Training = Training{Status: tr.Status, Iterations: tr.Iterations, E: tr.E, GradNorm: tr.GradNorm, Converged: tr.Converged, Seconds: time.Since(start).Seconds()}

	n := len(net.Params)
	res.MemoryBytes = int64(n) * int64(n) * 8
	if P := train.Len(); useKernel && slices.Contains(s.Methods, OBSEF) && hessian.KernelCheaper(n, P) {
		res.KernelBytes = (int64(n)*int64(P) + int64(P)*int64(P)) * 8
	}
	var buf []float64 // the one n x n matrix, shared by every build
	for _, m := range s.Methods {
		if m == OBSGGN || m == OBSEF {
			buf = make([]float64, n*n)
			// Go's default GC lets garbage grow to the size of the live
			// heap, here the n x n matrix: every OBS step's O(n k)
			// temporaries would then pile up to a second 2.7 GB (peak
			// 5.5 GB measured) before a collection. The matrix holds no
			// pointers, so collecting at 10% growth costs little.
			defer debug.SetGCPercent(debug.SetGCPercent(10))
			break
		}
	}
	for _, m := range s.Methods {
		p := &pruner{s: &s, method: m, net: net.Clone(), train: train, test: test, code: nt.Code, buf: buf}
		c, err := p.run()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m, err)
		}
		res.Curves = append(res.Curves, c)
	}
	return res, nil
}

func (s *Settings) stopped() bool { return s.Stop != nil && s.Stop() }

func (s *Settings) validate() error {
	switch {
	case s.Hidden < 1:
		return fmt.Errorf("nettalk: %d hidden units; want >= 1", s.Hidden)
	case !(s.Decay >= 0) || math.IsInf(s.Decay, 0):
		return fmt.Errorf("nettalk: weight decay %v must be a finite number >= 0", s.Decay)
	case !(s.Alpha > 0) || math.IsInf(s.Alpha, 0):
		return fmt.Errorf("nettalk: alpha %v must be a finite number > 0", s.Alpha)
	case s.Group < 1:
		return fmt.Errorf("nettalk: group %d must be >= 1", s.Group)
	case !(s.Recompute >= 0 && s.Recompute <= 1):
		return fmt.Errorf("nettalk: recompute fraction %v must be in [0, 1]", s.Recompute)
	case s.Keep < 1:
		return fmt.Errorf("nettalk: keep %d must be >= 1", s.Keep)
	case s.Points < 1:
		return fmt.Errorf("nettalk: points %d must be >= 1", s.Points)
	case s.MaxIter < 0 || s.Polish < 0 || !(s.GradTol >= 0):
		return fmt.Errorf("nettalk: max-iter, polish and grad-tol must be >= 0")
	case len(s.Methods) == 0:
		return fmt.Errorf("nettalk: no method")
	}
	for _, m := range s.Methods {
		ok := false
		for _, k := range Methods {
			ok = ok || m == k
		}
		if !ok {
			return fmt.Errorf("nettalk: unknown method %q (want %s, %s, %s or %s)", m, OBSGGN, OBSEF, OBDGGN, Magnitude)
		}
	}
	return nil
}

// compactFraction: the inverse is compacted when 1/compactFraction of its
// rows have been removed since it was built or last compacted, so a
// deletion costs at most 11% more than at the current size, and compacting
// (one pass over the matrix) happens a few dozen times.
const compactFraction = 10

// pruner is one method's pruning run.
type pruner struct {
	s           *Settings
	method      string
	net         *model.MLP
	train, test *datasets.NettalkSet
	code        *datasets.NettalkCode
	buf         []float64

	curvSeconds float64 // time spent in builds
}

// kind returns the method's curvature.
func (p *pruner) kind() hessian.Kind {
	if p.method == OBSEF {
		return hessian.EmpiricalFisher
	}
	return hessian.GGN
}

// pruneMethod returns the method as a value of package prune: the
// curvatures come from the sparse one-hot build, OBS's inverse is formed in
// place in the one n x n buffer.
func (p *pruner) pruneMethod(building func()) prune.Pruner {
	b := announced{prune.SparseOneHot{Curvature: p.kind()}, building}
	switch p.method {
	case OBDGGN:
		return prune.OBDPruner{Curvature: b}
	case OBSGGN, OBSEF:
		return prune.OBSPruner{Curvature: b, Structure: inPlace{buf: p.buf}, Alpha: p.s.Alpha, DampingMode: p.s.Damping}
	}
	return prune.MagnitudePruner{}
}

// announced is a builder that calls building before every build.
type announced struct {
	prune.Builder
	building func()
}

func (a announced) Build(ctx context.Context, net *model.MLP, calib prune.Calibration) (hessian.Curvature, error) {
	a.building()
	return a.Builder.Build(ctx, net, calib)
}

// inPlace is the dense structure of the original OBS inverted in place
// (hessian.InverseDirectInPlace) in buf, which every build reuses.
type inPlace struct{ buf []float64 }

func (inPlace) String() string { return "dense" }

func (s inPlace) Inverse(net *model.MLP, curv hessian.Curvature, cfg *prune.Config) (prune.InverseCurvature, *hessian.FixReport, error) {
	runtime.GC() // the old inverse shares buf; nothing else large is live
	nf := curv.Dim()
	inv := mat.NewSymDense(nf, s.buf[:nf*nf])
	if r, ok := curv.(hessian.RankOne); ok && useKernel && hessian.KernelCheaper(nf, r.NumTerms()) {
		// The empirical Fisher at full size: 5,603 terms for 18,426
		// parameters, half the work of the sweep.
		if err := hessian.InverseKernel(inv, r, cfg.Alpha); err != nil {
			return nil, nil, err
		}
	} else if err := hessian.InverseDirectInPlace(inv, curv, cfg.Alpha); err != nil {
		return nil, nil, err
	}
	debug.FreeOSMemory()
	return prune.NewDenseInverse(inv, curv.Free(), len(net.Params)), nil, nil
}

// useKernel lets inPlace invert a curvature of fewer terms than parameters
// through its kernel (hessian.InverseKernel) where that is cheaper; tests
// switch it off to compare with the sweep.
var useKernel = true

// checkpoints returns the parameter counts where the curve is measured,
// in decreasing order.
func (p *pruner) checkpoints(n0 int) []int {
	set := map[int]bool{n0: true, p.s.Keep: true}
	if PaperParams > p.s.Keep && PaperParams < n0 {
		set[PaperParams] = true
	}
	for i := 1; i < p.s.Points; i++ {
		if c := int(math.Round(float64(n0) * (1 - float64(i)/float64(p.s.Points)))); c > p.s.Keep {
			set[c] = true
		}
	}
	var cs []int
	for c := range set {
		if c <= n0 && c >= p.s.Keep {
			cs = append(cs, c)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(cs)))
	return cs
}

// run prunes by prune.Prune from the start to Keep parameters, measuring
// at the checkpoints; the curvature is rebuilt whenever the parameters left
// fell by the fraction Recompute since the last build (rounded to the
// nearest parameter).
func (p *pruner) run() (Curve, error) {
	start := time.Now()
	c := Curve{Method: p.method}
	n0 := p.net.NumFree()
	cps := p.checkpoints(n0)
	e := math.NaN()
	total := n0 - p.s.Keep
	plan := &prune.Plan{
		Method: p.pruneMethod(func() {
			if p.s.Progress != nil { // the build and inverse take minutes at full size
				left := p.net.NumFree()
				p.s.Progress(Progress{Stage: p.method, Done: n0 - left, Total: total, Left: left, E: e, Building: true})
			}
		}),
		Target:  prune.Target{Keep: p.s.Keep},
		Group:   p.s.Group,
		Rebuild: prune.Fraction{F: p.s.Recompute, Nearest: true},
		Compact: compactFraction,
		Checkpoint: func(i int) error {
			pt := p.measure()
			e = pt.TrainE
			c.Points = append(c.Points, pt)
			if pt.Params == PaperParams {
				at := pt
				c.AtPaper = &at
				c.AtPaperSeconds = time.Since(start).Seconds()
			}
			return nil
		},
		Rebuilt: func(_ int, took time.Duration) {
			if p.method != Magnitude { // magnitude has no curvature to build
				p.curvSeconds += took.Seconds()
				c.Rebuilds++
			}
		},
		Progress: func(s prune.Step) {
			if p.s.Progress != nil {
				p.s.Progress(Progress{Stage: p.method, Done: n0 - s.Left, Total: total, Left: s.Left, E: e})
			}
		},
	}
	for _, k := range cps {
		plan.Checkpoints = append(plan.Checkpoints, prune.Target{Keep: k})
	}
	if _, err := prune.Prune(prune.PollContext(p.s.Stop), p.net, p.train.Inputs, p.train.Targets, plan); err != nil {
		if errors.Is(err, context.Canceled) {
			return c, ErrStopped
		}
		return c, err
	}
	c.Best = c.Points[0]
	for _, pt := range c.Points {
		if pt.TestPhoneme >= c.Best.TestPhoneme {
			c.Best = pt
		}
	}
	c.Seconds = time.Since(start).Seconds()
	c.CurvatureSeconds = p.curvSeconds
	return c, nil
}

// measure evaluates the network: training error and best-guess accuracy on
// both sets.
func (p *pruner) measure() Point {
	ws := p.net.NewWorkspace()
	pt := Point{Params: p.net.NumFree(), TrainE: p.net.Error(ws, p.train.Inputs, p.train.Targets)}
	pt.TrainPhoneme, pt.TrainStress = accuracy(p.net, p.train, p.code)
	pt.TestPhoneme, pt.TestStress = accuracy(p.net, p.test, p.code)
	return pt
}

// accuracy runs the patterns through net in chunks on GOMAXPROCS
// goroutines, each chunk with its own workspace; every output is the
// serial Forward's, so the result does not depend on the number of
// goroutines.
func accuracy(net *model.MLP, s *datasets.NettalkSet, code *datasets.NettalkCode) (phoneme, stress float64) {
	outs := make([][]float64, s.Len())
	const chunk = 1024
	_ = parallel.For((len(outs)+chunk-1)/chunk, 0, nil, nil, func(c int) error {
		w := net.NewWorkspace()
		for i := c * chunk; i < min((c+1)*chunk, len(outs)); i++ {
			outs[i] = append([]float64(nil), net.Forward(w, s.Inputs[i])...)
		}
		return nil
	})
	return s.Accuracy(code, outs)
}
