package prune

import (
	"context"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// InverseCurvature is the inverse of a damped curvature, (C + alpha I)^-1,
// over a network's free parameters, in whatever structure it is stored
// (dense, block-diagonal, per layer, diagonal). It holds the operations the
// OBS family needs; OBSStep and the pruning loops use nothing else, so a new
// structure is one new type. Parameters are named by their index in the
// network's flat parameter vector (model.MLP.Params), never by a row.
//
// A structure that is not dense is the inverse of the block-diagonal part
// of C (every entry between two blocks taken as 0), so every operation
// stays within the blocks of the parameters it is given.
//
// The methods panic if given a parameter that the inverse does not cover
// (one pruned before it was built, or already removed by Downdate).
type InverseCurvature interface {
	// Free returns the parameters the inverse covers when it was built, in
	// increasing order. The slice must not be modified.
	Free() []int
	// Diag returns [C^-1]_qq, the diagonal entry of parameter q.
	Diag(q int) float64
	// Block writes the k x k matrix [C^-1]_QQ (k = len(Q), in Q's order)
	// into dst; an empty dst is resized, one of another size panics.
	Block(dst *mat.SymDense, Q []int)
	// Columns returns C^-1 E_Q, the columns of the inverse for the
	// parameters Q, on the rows where they can be non-zero: rows lists
	// those rows' parameters (the whole of Free for a dense inverse, Q's
	// blocks for a block-diagonal one) and cols is len(rows) x len(Q).
	// Rows of parameters already removed by Downdate are 0.
	Columns(Q []int) (rows []int, cols *mat.Dense)
	// Downdate removes the parameters Q, applying the constrained downdate
	//
	//	C^-1 <- C^-1 - C^-1 E_Q ([C^-1]_QQ)^-1 E_Q^T C^-1,
	//
	// which is the inverse of C restricted to the survivors (Hassibi &
	// Stork 1993), and sets Q's rows and columns to 0. It returns an error
	// wrapping hessian.ErrNotPositiveDefinite, and leaves the inverse
	// unchanged, if [C^-1]_QQ is not positive definite.
	Downdate(Q []int) error
}

// Pruner is a pruning method as a value, in the manner of gonum's
// optimize.Method: Magnitude, OBD and OBS are the types MagnitudePruner,
// OBDPruner and OBSPruner (one file each), and Prune is the one loop that
// runs any of them. A method's own settings (curvature, damping, structure)
// are fields of its type.
type Pruner interface {
	// String names the method and its curvature, e.g. "obs-ggn-block128",
	// "obd-exact" or "magnitude" (Result.Method, Step.Method).
	String() string
	// Prepare returns the method's state at net's current weights, its
	// curvature (if any) built from the calibration set calib (never
	// empty: Prune passes the data set when the plan has none). net is not
	// modified; the state may keep it to read its weights and mask. A long
	// build stops with ctx's error when ctx is cancelled.
	Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error)
}

// Scorer is a method's state at some weights: the saliencies of
// candidate groups, the step that removes a set of parameters and the
// bookkeeping after it. A group G is a set of parameter indices removed
// together; a single parameter is the group {q}. w is the network's whole
// parameter vector.
//
// A Scorer may also implement TieRank(q int) int (ties between equal
// saliencies go to the lower rank instead of the lower index), Settle(net
// *model.MLP) error (called when a stage's deletions are done, for methods
// that set the survivors once, as layer-wise OBS's least squares) and
// FixReport() *hessian.FixReport (how an exact Hessian was made definite).
type Scorer interface {
	// Saliency returns the method's saliency of removing the group G (the
	// smallest is removed first); NaN excludes G.
	Saliency(w []float64, G []int) float64
	// Step returns the change of the weights that removes the parameters
	// Q (Update.Rows nil: none besides setting w_Q to 0) and its predicted
	// increase of E (NaN if the method predicts none). It changes neither
	// w nor the state.
	Step(w []float64, Q []int) (Update, error)
	// Remove tells the state that Q was removed (after the step's update
	// was applied and Q pruned) so that it follows the survivors, and
	// returns the parameters whose saliency may have changed (nil: none).
	Remove(Q []int) (changed []int, err error)
}

// Builder makes the curvature of a network at its current weights from a
// calibration set: which kind it is (hessian.Kind) and how it is computed
// (per-pattern terms, the sparse one-hot first layer, a diagonal only) are
// its business. Terms, SparseOneHot and GGNDiagonal are the builders of
// this package.
type Builder interface {
	Kind() hessian.Kind
	Build(ctx context.Context, net *model.MLP, calib Calibration) (hessian.Curvature, error)
}

// Schedule decides when the curvature is rebuilt at the current weights:
// Due reports whether a state built over built free parameters, with since
// deletions since, is stale. Every and Fraction are the schedules of this
// package; a nil Schedule never rebuilds (every deletion by downdate).
type Schedule interface {
	Due(since, built int) bool
}
