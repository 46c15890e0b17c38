package resources

import (
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Before a prune starts, its time is estimated from what it will do: the
// curvature builds of its schedule, the deletions and, step by step (not
// --one-shot), the measurement of E and its gradient on the training set
// after every step. Each part is counted in floating-point operations by
// the cost models below and turned into time at the rate of a matrix
// product measured on this machine, at this load, just before (RateProbe).
// The models are rough (a factor of a few either way: the builds and
// downdates are not as efficient as a matrix product); as the run goes,
// the estimate of what is left is rescaled by the time the first build and
// the deletions so far actually took, and shown in the progress lines.
//
// Cost models (N parameters, n free at a build, K outputs, M calibration
// patterns, P training and Pt test patterns, B the block size, r the terms
// per pattern: K for ggn, 1 for ef, the samples for mcfisher):
//
//	measurement      6 P N + 4 Pt N (E and its gradient; the test error)
//	build, rank r    M r 4N (the Jacobian rows) plus forming and inverting
//	                 C: dense M r n^2 + n^3, blocks M r n B + n B^2,
//	                 diagonal M r n; exact: 8 M N n (n Hessian-vector
//	                 products) + 10 n^3 (its eigendecomposition)
//	deletion         2 n^2 G (dense downdate of G parameters), 2 B^2 G
//	                 (blocks), a few operations (diagonal, OBD, magnitude)
//	K-FAC            build: M K 4 (multiply-adds) (the unit Jacobian)
//	                 plus the factors (kfacBuild); deletion: the layer's
//	                 update and rescoring, about (2 G + 20 log n) n_l

// EstimateAbove is the estimated time from which prune prints its
// estimate before it starts; OBS_ESTIMATE_ABOVE (a Go duration) overrides
// it.
const EstimateAbove = 10 * time.Second

// RunCost is what a prune will do, in floating-point operations.
type RunCost struct {
	Builds    []float64 // each curvature build, in order
	BuildAt   []int     // the free parameters at each build
	Steps     int       // deletion steps
	Deletions int       // parameters deleted
	PerStep   float64   // the update of one step (mean over the run)
	Measure   float64   // the measurement after each step (0 for one-shot)
	Fixed     float64   // the measurements at the start and the end
	OneShot   bool
	Unit      bool // deletions count hidden units (--granularity unit)
}

func (rc *RunCost) BuildTotal() float64 {
	t := 0.0
	for _, b := range rc.Builds {
		t += b
	}
	return t
}

func (rc *RunCost) Total() float64 {
	return rc.BuildTotal() + float64(rc.Steps)*(rc.PerStep+rc.Measure) + rc.Fixed
}

// CostOf models a prune of net under cfg on P training and Pt test
// patterns with M calibration patterns, from free down to target free
// parameters.
func CostOf(cfg *prune.Config, net *model.MLP, P, Pt, M, free, target int, oneShot bool) *RunCost {
	N := float64(len(net.Params))
	K := float64(net.NumOutputs())
	rc := &RunCost{OneShot: oneShot, Deletions: free - target}
	g := max(cfg.Group, 1)
	rc.Steps = (rc.Deletions + g - 1) / g
	// With --granularity unit a step removes Group hidden units, each a
	// group of about unitSize parameters; the schedule counts units.
	units, unitsLeft, unitSize := 0, 0, 1.0
	if cfg.Granularity.Kind == prune.ByUnit && len(net.Sizes) > 2 {
		params := 0
		for l := 1; l < len(net.Sizes)-1; l++ {
			units += net.Sizes[l]
			if cfg.Granularity.Outgoing {
				params += net.Sizes[l] * net.Sizes[l+1]
			} else {
				params += net.Sizes[l] * (net.Sizes[l-1] + 1)
			}
		}
		unitSize = float64(params) / float64(units)
		unitsLeft = min(cfg.KeepTarget(units), units)
		rc.Unit = true
		rc.Deletions = units - unitsLeft
		rc.Steps = (rc.Deletions + g - 1) / g
	}
	// With --granularity filter the same, a filter's weights and bias
	// being its group.
	if groups, _ := prune.FilterGroups(net); cfg.Granularity.Kind == prune.ByFilter && len(groups) > 0 {
		params := 0
		for _, gr := range groups {
			params += len(gr)
		}
		units = len(groups)
		unitSize = float64(params) / float64(units)
		unitsLeft = min(cfg.KeepTarget(units), units)
		rc.Unit = true
		rc.Deletions = units - unitsLeft
		rc.Steps = (rc.Deletions + g - 1) / g
	}
	// A measurement: E, its gradient and the accuracy on the training
	// set, E and the accuracy on the test set. One-shot measures its
	// start without the gradient.
	measure := 6*float64(P)*N + 4*float64(Pt)*N
	rc.Fixed = 2 * measure
	if oneShot {
		rc.Fixed = measure + 4*float64(P)*N + 4*float64(Pt)*N
	} else {
		rc.Measure = measure
	}
	r := K
	switch cfg.Curvature {
	case hessian.EmpiricalFisher:
		r = 1
	case hessian.MCFisher:
		r = hessian.DefaultSamples
		if o := cfg.CurvatureOptions; o != nil && o.Samples > 0 {
			r = float64(o.Samples)
		}
	}
	Mf := float64(M)
	build := func(n float64) float64 {
		switch {
		case cfg.Method == prune.Magnitude:
			return 0
		case cfg.Method == prune.OBD && cfg.Curvature == hessian.Exact:
			return 8*Mf*N*n + n*n
		case cfg.Method == prune.OBD:
			return Mf * r * (4*N + n)
		}
		jac := Mf * r * 4 * N
		switch st := cfg.Structure.(type) {
		case prune.Blocks:
			B := math.Min(float64(st.Size), n)
			if cfg.Curvature == hessian.Exact {
				return 8*Mf*N*n + 10*n*B*B
			}
			if r > 1 && allLinear(net) {
				// The layers' inputs and output-side vectors: K
				// backward passes per pattern and B^2 per pattern
				// and block, whatever the terms per pattern.
				return Mf*K*4*N + Mf*n*B + n*B*B
			}
			return jac + Mf*r*n*B + n*B*B
		case prune.Diagonal:
			if cfg.Curvature == hessian.Exact {
				return 8 * Mf * N * n
			}
			return jac + Mf*r*n
		case prune.Layers:
			s := 0.0
			for l := 1; l <= net.NumLayers(); l++ {
				rows, cols, _ := net.LayerShape(l)
				L := float64(rows) * float64(cols+1) * n / N
				s += Mf*r*L*L + L*L*L
			}
			if cfg.Curvature == hessian.Exact {
				return 8*Mf*N*n + 10*s
			}
			return jac + s
		case prune.KFAC:
			return kfacBuild(net, Mf, r)
		}
		if cfg.Curvature == hessian.Exact {
			return 8*Mf*N*n + 10*n*n*n
		}
		return jac + Mf*r*n*n + n*n*n
	}
	update := func(n float64) float64 {
		if cfg.Method != prune.OBS || cfg.NoUpdate {
			return 20 + math.Log2(n+1)
		}
		G := float64(g) * unitSize
		switch st := cfg.Structure.(type) {
		case prune.Blocks:
			B := math.Min(float64(st.Size), n)
			return 2*B*B*G + G*G*G + 20*G*math.Log2(n+1)
		case prune.Diagonal:
			return 20 * G
		case prune.Layers:
			L := n / float64(net.NumLayers())
			return 2*L*L*G + G*G*G
		case prune.KFAC:
			// The step updates and rescores the whole layer, of
			// kfacLayer parameters for the mean deleted one.
			L := kfacLayer(net) * n / N
			return (2*G+20*math.Log2(n+1)+float64(st.Exact))*L + G*G*G
		}
		return 2*n*n*G + G*G*G + n
	}
	switch {
	case oneShot || cfg.Method == prune.Magnitude:
		rc.BuildAt = []int{free}
	case rc.Unit:
		for _, u := range cfg.Builds(units, unitsLeft) { // in units: scaled to parameters
			rc.BuildAt = append(rc.BuildAt, int(float64(free)*float64(u)/float64(units)))
		}
	default:
		rc.BuildAt = cfg.Builds(free, target)
	}
	if cfg.Method != prune.Magnitude {
		for _, n := range rc.BuildAt {
			rc.Builds = append(rc.Builds, build(float64(n)))
		}
	}
	// The mean update over the deletions, with n falling linearly.
	if rc.Steps > 0 {
		rc.PerStep = (update(float64(free)) + 2*update(float64(free+target)/2) + update(float64(max(target, 1)))) / 4
	}
	return rc
}

var (
	probeOnce sync.Once
	probeRate float64
)

// RateProbe returns this machine's rate, in floating-point operations per
// second of CPU time, of a 128 x 128 matrix product by gonum (the kernel
// of the builds and passes), measured once per process until it has used
// 40 ms of CPU time (at most 2 s of wall time). CPU time (Linux:
// getrusage), not wall time, so that the estimate does not swell with the
// load of other processes: it is the time the work takes on a core of its
// own (wall time on a loaded machine is longer; the parallel parts on an
// idle one shorter).
func RateProbe() float64 {
	probeOnce.Do(func() {
		const n = 128
		a := mat.NewDense(n, n, nil)
		for i := range n {
			for j := range n {
				a.Set(i, j, float64((i*7+j*3)%11)/11)
			}
		}
		var c mat.Dense
		c.Mul(a, a) // warm up
		cpu0, cpuOK := processCPU()
		start, ops := time.Now(), 0.0
		for {
			c.Mul(a, a)
			ops += 2 * n * n * n
			wall := time.Since(start)
			if cpu, ok := processCPU(); cpuOK && ok && wall < 2*time.Second {
				if cpu-cpu0 >= 40*time.Millisecond {
					probeRate = ops / (cpu - cpu0).Seconds()
					return
				}
				continue
			}
			if wall >= 30*time.Millisecond { // no CPU time: wall time
				probeRate = ops / wall.Seconds()
				return
			}
		}
	})
	return probeRate
}

// Seconds turns operations into time at rate.
func Seconds(ops, rate float64) time.Duration {
	s := ops / rate
	if s > 1e9 {
		s = 1e9 // about 30 years: beyond, the number means nothing
	}
	return time.Duration(s * float64(time.Second))
}

// FormatDuration prints a duration for people: 45s, 3m20s, 5h10m, 12 days.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "under 1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return strings.TrimSuffix(d.Round(time.Second).String(), "0s")
	case d < 48*time.Hour:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	return fmt.Sprintf("%.0f days", d.Hours()/24)
}

// TimeEstimate is a prune's time estimate and its progress.
type TimeEstimate struct {
	cost     *RunCost
	rate     float64
	measured bool // rate was measured (else assumedRate)

	mu         sync.Mutex
	start      time.Time
	buildsDone int
	buildRatio float64 // actual / modelled time of the builds so far (0: none yet)
	buildTime  time.Duration
	stepsDone  int
	stepsStart time.Time // when the deletions after the last build began
	stepsSince int
}

// smallRun is the work (operations) below which the rate is not measured
// (the probe takes 40 ms of CPU time) but taken as assumedRate: such a run
// takes about a second at most.
const (
	smallRun    = 2e9
	assumedRate = 1e9
)

// NewTimeEstimate starts the estimate of a run of cost: the rate is
// measured by RateProbe unless the run is small.
func NewTimeEstimate(cost *RunCost) *TimeEstimate {
	e := &TimeEstimate{cost: cost, rate: assumedRate, start: time.Now()}
	if cost.Total() >= smallRun {
		e.rate, e.measured = RateProbe(), true
	}
	return e
}

// Rate returns the rate, in operations per second, the estimate uses.
func (e *TimeEstimate) Rate() float64 { return e.rate }

// Modelled returns the estimate of the whole run before it starts.
func (e *TimeEstimate) Modelled() time.Duration { return Seconds(e.cost.Total(), e.rate) }

// Describe says what the estimate is made of.
func (e *TimeEstimate) Describe(recompute string) string {
	rc := e.cost
	var parts []string
	if nb := len(rc.Builds); nb > 0 {
		what := "1 curvature build"
		if nb > 1 {
			what = fmt.Sprintf("%d curvature builds (--recompute %s)", nb, recompute)
		}
		parts = append(parts, fmt.Sprintf("%s ≈ %s", what, FormatDuration(Seconds(rc.BuildTotal(), e.rate))))
	}
	what := "deletions"
	if rc.Unit {
		what = "hidden units removed"
	}
	parts = append(parts, fmt.Sprintf("%d %s ≈ %s", rc.Deletions, what, FormatDuration(Seconds(float64(rc.Steps)*rc.PerStep, e.rate))))
	if rc.Measure > 0 {
		parts = append(parts, fmt.Sprintf("measuring E and its gradient after each of %d steps ≈ %s", rc.Steps, FormatDuration(Seconds(float64(rc.Steps)*rc.Measure, e.rate))))
	}
	parts = append(parts, fmt.Sprintf("the start and end measurements ≈ %s", FormatDuration(Seconds(rc.Fixed, e.rate))))
	rate := fmt.Sprintf("from a matrix product at %.2g GFLOP/s of CPU time measured now", e.rate/1e9)
	if !e.measured {
		rate = fmt.Sprintf("at an assumed %.2g GFLOP/s (a small run: not measured)", e.rate/1e9)
	}
	return fmt.Sprintf("estimated time about %s (%s; on a core of its own, modelled %s; longer on a loaded machine)",
		FormatDuration(e.Modelled()), strings.Join(parts, ", "), rate)
}

// Rebuilt records a build that took took.
func (e *TimeEstimate) Rebuilt(free int, took time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.buildsDone < len(e.cost.Builds) {
		if m := Seconds(e.cost.Builds[e.buildsDone], e.rate); m > 0 {
			e.buildTime += took
			done := 0.0
			for _, b := range e.cost.Builds[:e.buildsDone+1] {
				done += b
			}
			e.buildRatio = e.buildTime.Seconds() / (done / e.rate)
		}
	}
	e.buildsDone++
	e.stepsStart, e.stepsSince = time.Now(), 0
}

// Step records a deletion step.
func (e *TimeEstimate) Step() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stepsStart.IsZero() {
		e.stepsStart = time.Now()
	}
	e.stepsDone++
	e.stepsSince++
}

// Left returns the estimated time left, from the model rescaled by what
// the run took so far, and whether it is known yet.
func (e *TimeEstimate) Left() (time.Duration, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	rc := e.cost
	ratio := e.buildRatio
	if ratio == 0 {
		ratio = 1
	}
	rest := 0.0
	for _, b := range rc.Builds[min(e.buildsDone, len(rc.Builds)):] {
		rest += b
	}
	left := Seconds(rest*ratio, e.rate)
	stepsLeft := rc.Steps - e.stepsDone
	if e.stepsSince > 0 && !e.stepsStart.IsZero() {
		per := time.Since(e.stepsStart) / time.Duration(e.stepsSince)
		left += time.Duration(stepsLeft) * per
	} else {
		left += Seconds(float64(stepsLeft)*(rc.PerStep+rc.Measure)*ratio, e.rate)
	}
	left += Seconds(rc.Fixed/2*ratio, e.rate) // the end's measurement, at the builds' pace
	return left, e.buildsDone > 0
}

// EstimateThreshold returns the time from which the estimate is printed.
func EstimateThreshold() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("OBS_ESTIMATE_ABOVE")); err == nil && d >= 0 {
		return d
	}
	return EstimateAbove
}

// Quicker lists the settings of obs prune that would shorten a run of cfg,
// leaving out those it already uses (isSet reports whether a flag was
// given).
func Quicker(isSet func(flag string) bool, cfg *prune.Config, rc *RunCost, oneShot bool, free, patterns int) []string {
	var s []string
	// --one-shot takes only a --sparsity or --keep target.
	fits := cfg.Sparsity+float64(cfg.Keep) > 0
	for _, f := range []string{"recompute", "retrain", "retrain-above", "max-error", "min-accuracy", "max-predicted", "max-predicted-ratio", "remove-dead", "records"} {
		fits = fits && !isSet(f)
	}
	if !oneShot && rc.Measure > 0 && fits {
		s = append(s, "--one-shot (one build, every deletion by downdate, only the start and end measured)")
	}
	if len(rc.Builds) > 1 {
		s = append(s, "a sparser --recompute (e.g. 20%)")
	}
	if cfg.Method == prune.OBS && !cfg.NoUpdate && cfg.Group <= 1 && !oneShot {
		s = append(s, "--group K (K deletions per step)")
	}
	if cfg.Method == prune.OBS && cfg.Structure == nil && free > 256 { // dense
		s = append(s, "--structure block:128 (block-diagonal curvature)")
	}
	if cfg.Method != prune.Magnitude && !isSet("calib") && patterns > 1000 {
		s = append(s, "--calib 1000 (build the curvature on fewer patterns)")
	}
	if cfg.Curvature == hessian.Exact && cfg.Method != prune.Magnitude {
		s = append(s, "--curvature ggn")
	}
	return s
}

// LeftText is ", about 3m left" for the progress line, or "" before the
// first build or deletion.
func (e *TimeEstimate) LeftText() string {
	if e == nil {
		return ""
	}
	d, ok := e.Left()
	if !ok {
		return ""
	}
	return ", about " + FormatDuration(d) + " left"
}

// allLinear reports whether every weight layer of net is Linear: then a
// block curvature with several terms per pattern is formed from the
// layers' inputs and output-side vectors (hessian's linearBlocks).
// kfacBuild models a K-FAC build (hessian.NewKFAC) over M patterns with
// r terms per pattern: K backward passes per pattern through the
// network's multiply-adds (the unit Jacobian), the factors' rank-k
// updates (per pattern and layer, the positions times Stride^2 for A,
// r times Outputs^2 and the output-side vectors for G) and the factors'
// Cholesky inverses.
func kfacBuild(net *model.MLP, M, r float64) float64 {
	macs, _ := prune.MultiplyAdds(net)
	b := M * float64(net.NumOutputs()) * 4 * float64(macs)
	for l := 1; l <= net.NumLayers(); l++ {
		rows, cols, bias := net.LayerShape(l)
		if bias {
			cols++
		}
		pos := 1.0
		if c, ok := net.WeightLayer(l).(model.Conv2d); ok {
			pos = float64(c.OutHeight() * c.OutWidth())
		}
		na, ng := float64(cols), float64(rows)
		b += M*pos*(na*na+r*ng*ng+2*r*float64(net.NumOutputs())*ng) + 2*(na*na*na+ng*ng*ng)
	}
	return b
}

// kfacLayer returns the mean size of the layer of a parameter, sum_l
// n_l^2 / sum_l n_l: the parameters a K-FAC step updates.
func kfacLayer(net *model.MLP) float64 {
	s, s2 := 0.0, 0.0
	for l := 1; l <= net.NumLayers(); l++ {
		rows, cols, bias := net.LayerShape(l)
		if bias {
			cols++
		}
		nl := float64(rows * cols)
		s += nl
		s2 += nl * nl
	}
	return s2 / s
}

func allLinear(net *model.MLP) bool {
	for _, ly := range net.Layers() {
		if _, ok := ly.(model.Linear); !ok && ly.NumParams() > 0 {
			return false
		}
	}
	return true
}
