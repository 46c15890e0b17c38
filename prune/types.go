package prune

import (
	"fmt"
	"time"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/enum"
	"github.com/obs-toolkit/obs/model"
)

// Method is a pruning method.
type Method int

const (
	Magnitude Method = iota
	OBD
	OBS
)

var methodNames = [...]string{"magnitude", "obd", "obs"}

func (m Method) String() string { return enum.Name(methodNames[:], "Method", m) }

// ParseMethod returns the method named magnitude, obd or obs.
func ParseMethod(s string) (Method, error) {
	if m, ok := enum.Parse[Method](methodNames[:], s); ok {
		return m, nil
	}
	return 0, fmt.Errorf("prune: unknown method %q (want %s)", s, enum.Or(methodNames[:]))
}

// Inverse selects how C^-1 is formed for OBS.
type Inverse int

const (
	// Blocked is the Woodbury form consuming blocks of rank-1 terms (the
	// zero value; obs prune and saliency default to Direct, the faster).
	Blocked Inverse = iota
	// Recursive is the Hassibi–Stork rank-1 recursion exactly as published.
	Recursive
	// Direct is the Cholesky inverse of the formed matrix.
	Direct
)

var inverseNames = [...]string{"blocked", "recursive", "direct"}

func (i Inverse) String() string { return enum.Name(inverseNames[:], "Inverse", i) }

// ParseInverse returns the inverse form named blocked, recursive or direct.
func ParseInverse(s string) (Inverse, error) {
	if inv, ok := enum.Parse[Inverse](inverseNames[:], s); ok {
		return inv, nil
	}
	return 0, fmt.Errorf("prune: unknown inverse form %q (want %s)", s, enum.Or(inverseNames[:]))
}

// DefaultAlpha is the damping used when Config.Alpha is zero (SNNS uses
// 1e-6; see ../shared/MATH.md).
const DefaultAlpha = 1e-6

// Config selects a method and the rules of the pruning loop in one flat
// struct, the form the command line fills in: Run and OneShot turn it into
// a method value (MagnitudePruner, OBDPruner, OBSPruner) and a Plan for
// Prune (Config.Plan), which a Go program may also build directly. The
// zero value is magnitude pruning of one parameter at a time until none is
// left.
type Config struct {
	Method Method
	// Curvature is the curvature OBS inverts, or whose diagonal OBD uses
	// (GGN or Exact). Magnitude pruning ignores it.
	Curvature hessian.Kind
	// CurvatureOptions are passed to hessian.New (Monte-Carlo samples, seed).
	CurvatureOptions *hessian.Options
	// Calib is the calibration set the curvature (OBS, OBD) is built from,
	// with every structure; the zero value is the training set X, T (see
	// Plan.Calib, FirstN, Sample). E, the accuracy and the stopping rules
	// are always measured on X, T.
	Calib Calibration
	// Alpha is the damping: OBS inverts C + Alpha I. If zero, DefaultAlpha.
	Alpha float64
	// Damping is how Alpha and the weight decay enter OBS's curvature:
	// absolute (the zero value) or relative to its scale tr(C_data)/n (see
	// OBSPruner.DampingMode and hessian.Damping). OBD and magnitude ignore it.
	Damping hessian.Damping
	// Fix is how OBS makes an indefinite exact Hessian invertible. FixNone
	// fails when it is not positive definite.
	Fix hessian.Fix
	// Inverse is the form used to invert a rank-1 curvature with the dense
	// structure.
	Inverse Inverse
	// Structure is how OBS stores the inverse curvature: nil is Dense; see
	// Blocks, Layers and Diagonal, and ParseStructure.
	Structure Structure
	// NoUpdate uses the method's saliency but no compensating update: the
	// chosen parameters are just set to 0. The predicted increase is then
	// the quadratic model's 1/2 C_qq w_q^2.
	NoUpdate bool
	// Granularity is what is removed as one unit (see Granularity): with
	// ByUnit, Group, Keep and Sparsity count hidden units and PerLayer
	// applies to Run too; ByNM sets the target itself.
	Granularity Granularity
	// L1 scores a group by the L1 norm of its weights in magnitude pruning
	// (instead of the L2 norm).
	L1 bool
	// Group removes this many parameters per step with the block formula.
	// If zero, 1.
	Group int
	// Recompute rebuilds the curvature (and its inverse) at the current
	// weights every Recompute deletions; 0 never rebuilds and follows the
	// constrained downdate. Retraining always forces a rebuild.
	Recompute int
	// RecomputeFraction, if > 0, rebuilds instead whenever the deletions
	// since the last build reach this fraction of the parameters free at
	// that build (at least one deletion): a geometric schedule whose
	// number of builds grows like the log of the pruning ratio, not like
	// the number of deletions. It overrides Recompute.
	RecomputeFraction float64
	// Rebuilt, if not nil, is called after every build of the curvature
	// state with the free parameters it covers and the time it took.
	Rebuilt func(free int, took time.Duration)
	// Retrain retrains the surviving parameters every Retrain deletions (0:
	// never), and RetrainAbove whenever the training error exceeds it (0:
	// never), with Train's settings.
	Retrain      int
	RetrainAbove float64
	Train        *model.TrainSettings

	// TestX and TestT are an optional held-out set (rows of inputs and of
	// targets, like X and T) on which Run and OneShot also measure the
	// error and accuracy; nil means none (the test figures are then NaN).
	TestX, TestT [][]float64

	// Stopping rules; a zero value is not used. The loop stops before a
	// deletion that would leave fewer than Keep parameters, raise the
	// sparsity above Sparsity, make the training error exceed MaxError or
	// the training accuracy fall below MinAccuracy (after any retraining),
	// or whose predicted increase exceeds MaxPredicted. With none, it prunes
	// until no parameter is left.
	Keep         int
	Sparsity     float64
	MaxError     float64
	MinAccuracy  float64
	MaxPredicted float64
	// MaxPredictedRatio stops before a deletion whose predicted increase
	// exceeds MaxPredictedRatio times the training error E before it (the
	// OBS papers' rule: delete while L_q is much smaller than E).
	MaxPredictedRatio float64

	// RemoveDead removes the parameters of hidden units that lost every
	// incoming or every outgoing connection; a unit with no input is a
	// constant whose effect is first folded into the biases it feeds, so E
	// does not change.
	RemoveDead bool

	// Candidates, if not nil (one entry per parameter), restricts the
	// parameters OneShot may delete to those with Candidates[q] true (see
	// Weights); the others stay free, are never deleted and are still
	// changed by OBS's update. Sparsity and Keep then count candidates
	// only: Sparsity is the fraction of candidates pruned (those pruned
	// before included), Keep the candidates left. Run does not take it.
	Candidates []bool
	// PerLayer makes OneShot prune the candidates of every layer to
	// Sparsity separately (counts rounded down per layer) instead of
	// choosing across the whole network; it needs Sparsity and not Keep.
	// Run does not take it.
	PerLayer bool
	// Checkpoints, if not empty, are ascending sparsities in (0, Sparsity]
	// (counted as Sparsity is) that OneShot passes on its way; when it
	// reaches Checkpoints[i] it calls Checkpoint(i), with the network in
	// the state a run to that sparsity ends in (see OneShot). Run does not
	// take them.
	Checkpoints []float64
	Checkpoint  func(i int)

	// Progress, if not nil, is called after every step.
	Progress func(Step)
	// Stop, if not nil, is polled before every step; when it returns true
	// Run returns ErrStopped.
	Stop func() bool
}

// Step records one deletion.
type Step struct {
	Step    int    // 1-based
	Index   int    // the parameter removed (the first of a group)
	Indices []int  // every parameter removed in this step
	Name    string // its name (names joined by "+" for a group)
	Method  string // "obs-ggn", "obd-exact", "magnitude", "dead-unit", ...

	Saliency  float64 // the method's saliency of the choice
	Predicted float64 // predicted increase of E; NaN for magnitude
	EBefore   float64 // training E before the deletion
	EAfter    float64 // training E right after it, before any retraining
	Actual    float64 // EAfter - EBefore

	Retrained     bool
	Rebuilt       bool    // the curvature was (re)built for this step's choice
	TrainError    float64 // after the step, retraining included
	TrainAccuracy float64 // NaN when the targets are not 0/1 classes
	TestError     float64 // NaN without a test set
	TestAccuracy  float64 // NaN without a test set or classes
	Left          int     // unpruned parameters after the step
	GradNorm      float64 // ||grad E|| after the step
	DeadUnits     []string
}

// Result is the outcome of a pruning run.
type Result struct {
	Method     string
	Alpha      float64 // damping used (OBS)
	Steps      []Step
	Start      Snapshot // before the first deletion
	End        Snapshot // after the last accepted one
	StopReason string
	// Rejected is the deletion that broke a stopping rule and was undone,
	// if the loop stopped that way.
	Rejected *Step
	// FixReports lists how each exact-Hessian inverse was made definite.
	FixReports []hessian.FixReport
	// Removed lists the parameters deleted by the method's steps, in
	// order (a dead unit's parameters too).
	Removed []int
	// Predicted is the sum of the predicted increases of E of every step
	// (NaN for magnitude, or when nothing was removed).
	Predicted float64
}

// Snapshot is the state of the network at one point of the run.
type Snapshot struct {
	Params        int
	TrainError    float64
	TrainAccuracy float64
	TestError     float64
	TestAccuracy  float64
	// GradNorm is ||grad E||; NaN at the start of a run without per-step
	// measurements (Plan.Measure false, as one-shot), which needs none.
	GradNorm float64
}
