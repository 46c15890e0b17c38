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

// frobenius returns <A,A>, <A,B> and <B,B>, the Frobenius inner products,
// from the upper triangles.
func frobenius(a, b mat.Symmetric) (aa, ab, bb float64) {
	n := sameDim(a, b)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			x, y := a.At(i, j), b.At(i, j)
			w := 2.0
			if i == j {
				w = 1
			}
			aa += w * x * x
			ab += w * x * y
			bb += w * y * y
		}
	}
	return aa, ab, bb
}

// RelFrobenius returns ||A - B||_F / ||B||_F, the relative Frobenius distance
// of A from B: 0 if both are 0, +Inf if only B is.
func RelFrobenius(a, b mat.Symmetric) float64 {
	n := sameDim(a, b)
	var d, bb float64
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			x, y := a.At(i, j), b.At(i, j)
			w := 2.0
			if i == j {
				w = 1
			}
			d += w * (x - y) * (x - y)
			bb += w * y * y
		}
	}
	if d == 0 {
		return 0
	}
	return math.Sqrt(d / bb)
}

// BestScale returns the scale c* = <A,B>_F / <A,A>_F that brings A closest
// to B in the Frobenius norm and the relative distance after scaling,
// ||c* A - B||_F / ||B||_F. If A is 0 it returns c* = 0 and distance 1 (or 0
// if B is 0 too). For squared error near a minimum, F_emp ~ sigma^2 G, so
// BestScale(G, F_emp) gives about MeanSquaredResidual.
func BestScale(a, b mat.Symmetric) (c, distAfter float64) {
	aa, ab, bb := frobenius(a, b)
	if bb == 0 {
		if aa == 0 {
			return 0, 0
		}
		return 0, math.Inf(1)
	}
	if aa == 0 {
		return 0, 1
	}
	c = ab / aa
	// ||cA - B||^2 = c^2 aa - 2c ab + bb = bb - ab^2/aa, clamped at 0 against rounding.
	d2 := math.Max(0, bb-ab*ab/aa)
	return c, math.Sqrt(d2 / bb)
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
// the noise variance sigma^2 estimated from the residuals: F_emp ~ sigma^2 G
// when residuals behave like noise. It panics if X and T do not fit net.
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
