package prune

import "gonum.org/v1/gonum/mat"

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
