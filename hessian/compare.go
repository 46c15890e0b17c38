package hessian

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// Measures for comparing two curvatures A and B (see shared/MATH.md, "When
// do G and F_emp agree?"). Dimension mismatches panic.

func sameDim(a, b mat.Symmetric) int {
	n := a.SymmetricDim()
	if m := b.SymmetricDim(); m != n {
		panic(fmt.Sprintf("hessian: comparing matrices of sizes %d and %d", n, m))
	}
	return n
}

// frobeniusDot returns <A,B>_F = sum_ij a_ij b_ij (gonum: element-wise
// product, then sum).
func frobeniusDot(a, b mat.Symmetric) float64 {
	sameDim(a, b)
	var e mat.Dense
	e.MulElem(a, b)
	return mat.Sum(&e)
}

// relDistance returns ||cA - B||_F / ||B||_F from the difference formed
// explicitly, so that nearly equal matrices give a small number, not
// cancellation noise: 0 if the difference is 0, +Inf if only B is.
func relDistance(c float64, a, b mat.Symmetric) float64 {
	n := sameDim(a, b)
	d, negB := mat.NewSymDense(n, nil), mat.NewSymDense(n, nil)
	d.ScaleSym(c, a)
	negB.ScaleSym(-1, b)
	d.AddSym(d, negB)
	num, den := mat.Norm(d, 2), mat.Norm(b, 2) // Frobenius norms
	switch {
	case num == 0:
		return 0
	case den == 0:
		return math.Inf(1)
	}
	return num / den
}

// RelFrobenius returns ||A - B||_F / ||B||_F, the relative Frobenius distance
// of A from B: 0 if both are 0, +Inf if only B is.
func RelFrobenius(a, b mat.Symmetric) float64 {
	return relDistance(1, a, b)
}

// BestScale returns the scale c* = <A,B>_F / <A,A>_F that brings A closest
// to B in the Frobenius norm and the relative distance after scaling,
// ||c* A - B||_F / ||B||_F. If A is 0 it returns c* = 0 and distance 1 (or 0
// if B is 0 too). For squared error near a minimum with noise-like
// residuals the data parts (decay left out) satisfy F_emp ~ sigma^2 G, so
// BestScale of G's and F_emp's data parts gives about MeanSquaredResidual;
// the full matrices do not, the decay being added to both unscaled.
func BestScale(a, b mat.Symmetric) (c, distAfter float64) {
	aa := frobeniusDot(a, a)
	if aa == 0 {
		if frobeniusDot(b, b) == 0 {
			return 0, 0
		}
		return 0, 1
	}
	c = frobeniusDot(a, b) / aa
	return c, relDistance(c, a, b)
}

// TopEigen returns the k largest eigenvalues of a in decreasing order and
// their unit eigenvectors as the columns of an n x k matrix, from a full
// eigendecomposition (gonum mat.EigenSym). k larger than n is reduced to n;
// k < 0 panics, as does a decomposition that fails to converge.
func TopEigen(a mat.Symmetric, k int) (vals []float64, vecs *mat.Dense) {
	n := a.SymmetricDim()
	if k < 0 {
		panic(fmt.Sprintf("hessian: TopEigen of %d eigenvalues", k))
	}
	k = min(k, n)
	var eig mat.EigenSym
	if ok := eig.Factorize(a, true); !ok {
		panic("hessian: eigendecomposition did not converge")
	}
	all := eig.Values(nil) // ascending
	var v mat.Dense
	eig.VectorsTo(&v)
	vals = make([]float64, k)
	if k == 0 {
		return vals, nil
	}
	vecs = mat.NewDense(n, k, nil)
	for j := 0; j < k; j++ {
		src := n - 1 - j
		vals[j] = all[src]
		for i := 0; i < n; i++ {
			vecs.Set(i, j, v.At(i, src))
		}
	}
	return vals, vecs
}

// OBSSaliencies writes the Optimal Brain Surgeon saliencies
// L_q = w_q^2 / (2 [C^-1]_qq) into dst, for the free parameters in the order
// of the curvature: w holds their weights (w[a] = net.Params[Free()[a]]) and
// inv the inverse curvature. L_q is the predicted increase of E when q is
// removed with its compensating update (valid to second order near a
// minimum). A zero or negative [C^-1]_qq (possible after FixPinv) gives +-Inf
// or a negative saliency as the formula says. Lengths that differ from inv's
// size panic.
func OBSSaliencies(dst, w []float64, inv mat.Symmetric) {
	n := inv.SymmetricDim()
	if len(dst) != n || len(w) != n {
		panic(fmt.Sprintf("hessian: saliencies of %d weights into %d values with a %d x %d inverse", len(w), len(dst), n, n))
	}
	for q := range dst {
		dst[q] = w[q] * w[q] / (2 * inv.At(q, q))
	}
}

// MeanSquaredResidual returns (1/(P K)) sum_p ||grad_f l_p||^2, the mean
// square of the output gradients over the P patterns and K outputs. For
// squared error grad_f l_p is the residual r_p = f(x_p) - t_p, so this is
// the noise variance sigma^2 estimated from the residuals: the data parts
// satisfy F_emp ~ sigma^2 G when residuals behave like noise. For
// cross-entropy it is no noise variance. It panics if X and T do not fit net.
func MeanSquaredResidual(net *model.MLP, X, T [][]float64) float64 {
	if err := net.CheckData(X, T); err != nil {
		panic(err)
	}
	ws := net.NewWorkspace()
	r := make([]float64, net.NumOutputs())
	sum := 0.0
	for p := range X {
		net.OutputGrad(ws, r, X[p], T[p])
		sum += floats.Dot(r, r)
	}
	return sum / float64(len(X)*len(r))
}
