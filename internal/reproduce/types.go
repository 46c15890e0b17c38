package reproduce

import (
	"fmt"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/parallel"
	"github.com/obs-toolkit/obs/prune"
)

// SeedStream is the second PCG word of every network's random stream: the
// initial weights of seed s come from rand.New(rand.NewPCG(s, SeedStream)),
// exactly as `obs train --seed s` draws them.
const SeedStream = 0x6f6273 // "obs"

// Defaults of the settings.
const (
	// DefaultXORNetworks is the number of XOR networks (seeds 1..100).
	DefaultXORNetworks = 100
	// DefaultMonkSeeds is the number of seeds per MONK's problem.
	DefaultMonkSeeds = 10
	// DefaultRestarts is the number of starts per MONK network
	// (model.TrainRestarts keeps the lowest E), as `obs train` uses.
	DefaultRestarts = 5
	// DefaultKeepGradTol is the largest ||grad E||_2 at which a trained XOR
	// network counts as sitting at a minimum and is kept. Training itself
	// runs to model.DefaultGradTol (1e-8); 1e-6 leaves a margin for networks
	// whose Newton polish stalls just above it.
	DefaultKeepGradTol = 1e-6
	// DefaultFix is the treatment of an indefinite exact Hessian used by
	// OBS-exact: absolute eigenvalues plus alpha. At a minimum the exact
	// Hessian is positive definite and every fix but pinv gives (H + alpha
	// I)^-1; unlike clip, abs does not turn negative curvature into the
	// weakest curvature 1/alpha, which would make those directions look free.
	DefaultFix = hessian.FixAbs
)

// TieTol is the tolerance within which two increases of E count as equal when
// a method's choice is compared with the best one. Networks with a mirror
// symmetry have pairs of parameters whose deletions give the same E up to the
// training tolerance (||grad E|| <= 1e-8 gives E to about 1e-12 near a
// decayed minimum, and to about 1e-8 without decay, where E itself is of that
// size). XORRegime.TieMax and GapMin report, for every run, the largest
// difference counted as a tie and the smallest one that was not, so the
// separation can be checked (100 XOR networks: ties within 2e-8, distinct
// deletions at least 1.7e-4 apart).
const TieTol = 1e-6

// XORRegimeSpec is one XOR regime: a weight decay and, if StopE > 0,
// training stopped early as soon as E <= StopE (instead of at a minimum).
type XORRegimeSpec struct {
	Decay, StopE float64
}

// Label names the regime, e.g. "lambda = 0.0001" or "lambda = 0, stopped at
// E <= 0.01".
func (r XORRegimeSpec) Label() string {
	if r.StopE > 0 {
		return fmt.Sprintf("lambda = %g, stopped at E <= %g", r.Decay, r.StopE)
	}
	return fmt.Sprintf("lambda = %g", r.Decay)
}

// DefaultXORRegimes are the XOR regimes: weight decay 1e-3, 1e-4 and 1e-5
// (finite minima), 0 at a minimum (interpolating: E -> 0 and the weights
// grow until ||grad E|| reaches the training tolerance, where the empirical
// Fisher vanishes, ../shared/MATH.md), and 0 stopped early at E <= 1e-2,
// the regime closest to 1993 backpropagation, which stopped once the
// outputs were close enough.
var DefaultXORRegimes = []XORRegimeSpec{{1e-3, 0}, {1e-4, 0}, {1e-5, 0}, {0, 0}, {0, 1e-2}}

// ErrStopped is returned when Settings.Stop asked the experiment to end.
var ErrStopped = parallel.ErrStopped

// Settings are shared by RunXOR and RunMonk. The zero value gives the
// defaults, except Fix, which is used as given (DefaultSettings sets
// DefaultFix; FixNone makes OBS-exact fail on an indefinite Hessian).
type Settings struct {
	// Seeds is the number of XOR networks or of MONK seeds, seeds 1..Seeds.
	// If zero, DefaultXORNetworks for RunXOR and DefaultMonkSeeds for
	// RunMonk.
	Seeds int
	// Alpha is the OBS damping: OBS inverts C + Alpha I. If zero,
	// prune.DefaultAlpha (1e-6).
	Alpha float64
	// Damping is how Alpha and the weight decay enter OBS's curvature
	// (prune.Config.Damping): absolute, the zero value, or relative to the
	// curvature's scale tr(C_data)/n. The method labels stay; the report
	// and the summary state a relative damping.
	Damping hessian.Damping
	// Fix is how OBS-exact inverts the exact Hessian.
	Fix hessian.Fix
	// MCSamples is the number of Monte-Carlo Fisher targets per pattern
	// (sigma is hessian.DefaultSigma = 1, for which E[F_mc] = G). If zero,
	// hessian.DefaultSamples. The samples of network s use seed s.
	MCSamples int
	// Workers is the number of goroutines; if zero, runtime.GOMAXPROCS(0).
	// It does not change any result.
	Workers int
	// Progress, if not nil, is called after every unit of work (an XOR
	// network, a MONK seed) with the units done and in total. Calls are
	// serialised.
	Progress func(done, total int)
	// Stop, if not nil, is polled between and inside units; when it returns
	// true the run ends with ErrStopped.
	Stop func() bool
}

// DefaultSettings returns the settings `obs reproduce` starts from.
func DefaultSettings() Settings { return Settings{Fix: DefaultFix} }

func (s Settings) alpha() float64 {
	if s.Alpha == 0 {
		return prune.DefaultAlpha
	}
	return s.Alpha
}

func (s Settings) seeds(def int) int {
	if s.Seeds == 0 {
		return def
	}
	return s.Seeds
}

// Range is the median, minimum and maximum of a sample (NaN when empty).
// The median of an even count is the mean of the two middle values.
type Range struct {
	Median, Min, Max float64
	N                int
}

// Run is one pruning run of one network by one method.
type Run struct {
	Problem string // "xor", "monk1", ...
	Data    string // where the data came from (DataLabel)
	Seed    uint64
	Decay   float64
	// Method is the label of the method and its loop settings, e.g.
	// "obs-ggn", "obd-ggn+retrain", "magnitude".
	Method    string
	Curvature string  // "" for magnitude
	Alpha     float64 // OBS damping; 0 for OBD and magnitude
	Fix       string  // fix of the exact Hessian for OBS-exact, else ""
	Recompute int     // prune.Config.Recompute
	Retrain   int     // prune.Config.Retrain (0: never)
	// MinAccuracy is the stopping rule: the training accuracy must stay at
	// or above it; it is (k - 1/2)/P for k of P patterns right before
	// pruning, so "at least k right" with no float equality involved.
	MinAccuracy   float64
	Before, After prune.Snapshot
	StopReason    string
	Steps         []prune.Step
}

// Left is the number of parameters left after the run.
func (r *Run) Left() int { return r.After.Params }
