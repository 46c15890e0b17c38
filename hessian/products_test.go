package hessian

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// productTol bounds the relative Frobenius difference between a tiled
// product and mat.Mul's: the tiles sum each element in another order, and
// with inner dimension k <= 500 of standard normal entries the rounding is
// a few eps sqrt(k) ~ 1e-14 relative.
const productTol = 1e-13

// randomGeneral is an r x c matrix of standard normal entries with a stride
// wider than c, so that views with a stride are exercised.
func randomGeneral(r, c int, rng *rand.Rand) blas64.General {
	a := blas64.General{Rows: r, Cols: c, Stride: c + 3, Data: make([]float64, r*(c+3))}
	for i := range a.Data {
		a.Data[i] = rng.NormFloat64()
	}
	return a
}

func toDense(a blas64.General) *mat.Dense {
	var d mat.Dense
	d.SetRawMatrix(a)
	return mat.DenseCopyOf(&d)
}

// relDiff is ||a - b||_F / ||b||_F.
func relDiff(a, b mat.Matrix) float64 {
	var d mat.Dense
	d.Sub(a, b)
	return mat.Norm(&d, 2) / mat.Norm(b, 2)
}

// TestTiledProductsMatchMul checks gemm and addUpper against mat.Mul on
// shapes that are not multiples of the tiles (tileRows x tileCols), and
// smaller than one tile, and that addUpper leaves the strict lower triangle
// alone outside the diagonal tiles; mirrorUpper and solveUpperRight are
// checked against their definitions.
func TestTiledProductsMatchMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sz := range [][3]int{{1, 1, 1}, {5, 3, 7}, {17, 200, 33}, {250, 130, 401}, {40, 500, 16}} {
		m, n, k := sz[0], sz[1], sz[2]
		a, bt, bn := randomGeneral(m, k, rng), randomGeneral(n, k, rng), randomGeneral(k, n, rng)
		c0 := randomGeneral(m, n, rng)
		for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			b := bn
			if tB == blas.Trans {
				b = bt
			}
			c := toDense(c0).RawMatrix()
			gemm(tB, 0.5, a, b, -2, c)
			// want = 0.5 A op(B) - 2 C0
			var want, prod mat.Dense
			if tB == blas.Trans {
				prod.Mul(toDense(a), toDense(b).T())
			} else {
				prod.Mul(toDense(a), toDense(b))
			}
			want.Scale(0.5, &prod)
			var c0s mat.Dense
			c0s.Scale(-2, toDense(c0))
			want.Add(&want, &c0s)
			if e := relDiff(toDense(c), &want); e > productTol {
				t.Errorf("gemm %c, %d x %d x %d: relative difference %.3g", tB, m, n, k, e)
			}
		}
	}
	for _, n := range []int{1, 15, 16, 17, 193, 400} {
		k := 1 + n%37
		a, b := randomGeneral(n, k, rng), randomGeneral(n, k, rng)
		c0 := randomGeneral(n, n, rng)
		c := toDense(c0).RawMatrix()
		addUpper(c, -1.5, a, b)
		var want mat.Dense
		want.Mul(toDense(a), toDense(b).T())
		want.Scale(-1.5, &want)
		want.Add(&want, toDense(c0))
		got := toDense(c)
		for i := 0; i < n; i++ {
			for j := 0; j < n; j++ {
				g, w := got.At(i, j), want.At(i, j)
				switch {
				case j >= i:
					if d := g - w; d > productTol*10 || d < -productTol*10 {
						t.Fatalf("addUpper n = %d: (%d, %d) = %v, want %v", n, i, j, g, w)
					}
				case i/tileRows != j/tileRows || !tiled:
					// Outside the diagonal tiles (tiled) the lower triangle
					// keeps its value; the openblas build's panels are wider.
					if tiled && g != c0.Data[i*c0.Stride+j] {
						t.Fatalf("addUpper n = %d: wrote (%d, %d) in the strict lower triangle", n, i, j)
					}
				}
			}
		}
		mirrorUpper(c)
		for i := 0; i < n; i++ {
			for j := 0; j < i; j++ {
				if c.Data[i*c.Stride+j] != c.Data[j*c.Stride+i] {
					t.Fatalf("mirrorUpper n = %d: (%d, %d) = %v, (%d, %d) = %v", n, i, j, c.Data[i*c.Stride+j], j, i, c.Data[j*c.Stride+i])
				}
			}
		}
	}
	// solveUpperRight: (W R^-1) R = W.
	const b = 20
	r := randomGeneral(b, b, rng)
	for i := 0; i < b; i++ {
		r.Data[i*r.Stride+i] = 5 + float64(i) // well conditioned
		for j := 0; j < i; j++ {
			r.Data[i*r.Stride+j] = 0
		}
	}
	w0 := randomGeneral(333, b, rng)
	w := toDense(w0).RawMatrix()
	solveUpperRight(w, blas64.Triangular{Uplo: blas.Upper, Diag: blas.NonUnit, N: b, Stride: r.Stride, Data: r.Data})
	var back mat.Dense
	back.Mul(toDense(w), toDense(r))
	if e := relDiff(&back, toDense(w0)); e > productTol {
		t.Errorf("solveUpperRight: (W R^-1) R differs from W by %.3g", e)
	}
}
