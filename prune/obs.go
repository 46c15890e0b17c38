package prune

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
)

// Update is an OBS step: the changes Delta of the parameters Rows (the rest
// are unchanged) and the predicted increase of E.
type Update struct {
	Rows      []int
	Delta     []float64
	Predicted float64
}

// Apply adds the update to the parameter vector w.
func (u Update) Apply(w []float64) {
	for i, q := range u.Rows {
		w[q] += u.Delta[i]
	}
}

// OBSStep returns the OBS update that removes the parameters Q from the
// weights w (the network's whole parameter vector) under the inverse
// curvature inv (Hassibi & Stork 1993; for a set, the group form):
//
//	dw = -C^-1 E_Q ([C^-1]_QQ)^-1 w_Q,  predicted 1/2 w_Q^T ([C^-1]_QQ)^-1 w_Q,
//
// which for one parameter is dw = -(w_q / [C^-1]_qq) C^-1 e_q and
// w_q^2 / (2 [C^-1]_qq). The update sets w_Q to 0 up to rounding (set them
// exactly with model.MLP.Prune). It changes neither w nor inv: apply it with
// Update.Apply, then call inv.Downdate(Q) to continue from the survivors.
// It returns an error wrapping hessian.ErrNotPositiveDefinite if [C^-1]_QQ
// is not positive definite.
func OBSStep(inv InverseCurvature, w []float64, Q []int) (Update, error) {
	k := len(Q)
	s := mat.NewSymDense(k, nil)
	inv.Block(s, Q)
	wq := mat.NewVecDense(k, nil)
	for a, q := range Q {
		wq.SetVec(a, w[q])
	}
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		return Update{}, fmt.Errorf("%w: [C^-1]_QQ of %d parameters (first %d); raise alpha", hessian.ErrNotPositiveDefinite, k, Q[0])
	}
	var y mat.VecDense
	if err := chol.SolveVecTo(&y, wq); err != nil {
		return Update{}, fmt.Errorf("prune: solving with [C^-1]_QQ: %v", err)
	}
	u := Update{Predicted: 0.5 * mat.Dot(wq, &y)}
	rows, cq := inv.Columns(Q)
	var step mat.VecDense // C^-1 E_Q y on rows
	step.MulVec(cq, &y)
	u.Rows = rows
	u.Delta = make([]float64, len(rows))
	for i := range rows {
		u.Delta[i] = -step.AtVec(i)
	}
	return u, nil
}

// Saliency returns the OBS saliency of parameter q, w_q^2 / (2 [C^-1]_qq):
// the predicted increase of E when q is removed with its update.
func Saliency(inv InverseCurvature, w []float64, q int) float64 {
	return w[q] * w[q] / (2 * inv.Diag(q))
}
