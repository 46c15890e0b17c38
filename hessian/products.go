package hessian

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/parallel"
)

// The matrix products of InverseBlocked, of forming a rank-1 sum and of
// InverseIndefinite, on raw row-major storage.
//
// In the pure-Go build (tiled, set in block.go) every product is cut into
// tiles of its output, handed out to GOMAXPROCS goroutines, and each tile
// is computed by a sequence of serial blas64.Gemv calls whose operands
// stay in cache: for C^-1 U, a panel of tileRows rows of C^-1 (256 KiB at
// nf = 2000) times each term in turn; for Z Z^T, tileCols rows of Z times
// each of the panel's rows. gonum's matrix-vector kernels (assembly, four
// rows at a time) do this work faster than its Dgemm, whose kernels are
// dot products and axpys of length 64 on 64 x 64 x 64 blocks. Measured on
// 2 cores at nf = 2000 with b = 128 terms, in GFLOP/s
// (go test -run='^$' -bench=Products ./hessian):
//
//	                      one Dgemm call   Dgemm per tile   Gemv per tile
//	W = C^-1 U                 15.5             22.5             35.5
//	Z Z^T, upper triangle      14               21.5             35.5
//
// (Z Z^T as one Dgemm call per panel of 128 rows, from the diagonal on.)
//
// Each output element is written by exactly one call, over a tile fixed in
// advance whatever the number of goroutines, so results are bit-identical
// for every GOMAXPROCS. Between 8 and 32 rows and 64 and 384 columns the
// tile shape made no difference beyond the noise of the measurement.
//
// With the openblas build tag each product is one call (addUpper: one per
// row panel), which OpenBLAS runs on its own threads.
const (
	tileRows = 16
	tileCols = 192
)

// forTiles calls fn for the tiles [i0, i1) x [j0, j1) of an m x n output,
// row panel by row panel, on GOMAXPROCS goroutines. With upper set, a
// panel's tiles start at column i0 (they cover the upper triangle and the
// diagonal blocks of a square output).
func forTiles(m, n int, upper bool, fn func(i0, i1, j0, j1 int)) {
	panels := (m + tileRows - 1) / tileRows
	_ = parallel.For(panels, 0, nil, nil, func(k int) error {
		i0 := k * tileRows
		i1 := min(i0+tileRows, m)
		j := 0
		if upper {
			j = i0
		}
		for ; j < n; j += tileCols {
			fn(i0, i1, j, min(j+tileCols, n))
		}
		return nil
	})
}

// rows is the view of rows i0..i1-1 of a, from column j0 to the end.
func rows(a blas64.General, i0, i1, j0 int) blas64.General {
	return block(a, i0, i1, j0, a.Cols)
}

// square is the full n x n storage of the symmetric matrix a (both
// triangles, as InverseBlocked keeps them).
func square(a *mat.SymDense) blas64.General {
	s := a.RawSymmetric()
	return blas64.General{Rows: s.N, Cols: s.N, Stride: s.Stride, Data: s.Data}
}

// block is the view of a[i0:i1, j0:j1].
func block(a blas64.General, i0, i1, j0, j1 int) blas64.General {
	return blas64.General{Rows: i1 - i0, Cols: j1 - j0, Stride: a.Stride, Data: a.Data[i0*a.Stride+j0:]}
}

// gemm sets c = alpha A op(B) + beta c, op(B) = B or B^T, like blas64.Gemm
// with A not transposed. Tiled, each tile is a sequence of blas64.Gemv:
// for op(B) = B^T one per column j of the tile (rows i0..i1-1 of A times
// row j of B), for op(B) = B one per row i (B's columns j0..j1-1 times
// row i of A).
func gemm(tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	if !tiled {
		blas64.Gemm(blas.NoTrans, tB, alpha, a, b, beta, c)
		return
	}
	forTiles(c.Rows, c.Cols, false, func(i0, i1, j0, j1 int) {
		if tB == blas.Trans {
			ai := rows(a, i0, i1, 0)
			for j := j0; j < j1; j++ {
				blas64.Gemv(blas.NoTrans, alpha, ai, row(b, j, 0, b.Cols), beta, column(c, j, i0, i1))
			}
			return
		}
		bj := block(b, 0, b.Rows, j0, j1)
		for i := i0; i < i1; i++ {
			blas64.Gemv(blas.Trans, alpha, bj, row(a, i, 0, a.Cols), beta, row(c, i, j0, j1))
		}
	})
}

// row is the vector a[i, j0:j1].
func row(a blas64.General, i, j0, j1 int) blas64.Vector {
	return blas64.Vector{N: j1 - j0, Inc: 1, Data: a.Data[i*a.Stride+j0:]}
}

// column is the vector a[i0:i1, j].
func column(a blas64.General, j, i0, i1 int) blas64.Vector {
	return blas64.Vector{N: i1 - i0, Inc: a.Stride, Data: a.Data[i0*a.Stride+j:]}
}

// addUpper adds alpha A B^T to the upper triangle of the n x n matrix c;
// A and B have n rows and as many columns. Of the strict lower triangle,
// only entries inside the diagonal tiles (tileRows, or openblasPanel,
// wide) are written, with values to be overwritten by mirrorUpper or
// ignored. The tiles start at the diagonal, so the work beyond the
// triangle is a fraction of about tileRows/n (gonum's Dsyrk, which would
// do exactly the triangle, is serial). Tiled, row i of a tile is one
// blas64.Gemv: rows j0..j1-1 of B times row i of A.
func addUpper(c blas64.General, alpha float64, a, b blas64.General) {
	n := c.Rows
	if !tiled {
		for i0 := 0; i0 < n; i0 += openblasPanel {
			i1 := min(i0+openblasPanel, n)
			blas64.Gemm(blas.NoTrans, blas.Trans, alpha, rows(a, i0, i1, 0), rows(b, i0, n, 0), 1, rows(c, i0, i1, i0))
		}
		return
	}
	forTiles(n, n, true, func(i0, i1, j0, j1 int) {
		bj := rows(b, j0, j1, 0)
		for i := i0; i < i1; i++ {
			blas64.Gemv(blas.NoTrans, alpha, bj, row(a, i, 0, a.Cols), 1, row(c, i, j0, j1))
		}
	})
}

// openblasPanel is the height of the row panels of addUpper in the
// openblas build: one multithreaded OpenBLAS call per panel.
const openblasPanel = 128

// mirrorUpper copies the strict upper triangle of the square matrix c onto
// its lower triangle, in column strips of tileRows (rows i0..i1-1 of the
// upper triangle onto columns i0..i1-1 of the lower), on GOMAXPROCS
// goroutines in the pure-Go build.
func mirrorUpper(c blas64.General) {
	n := c.Rows
	strip := func(i0, i1 int) {
		for i := i0; i < i1 && i < n-1; i++ {
			m := n - 1 - i
			blas64.Copy(blas64.Vector{N: m, Inc: 1, Data: c.Data[i*c.Stride+i+1:]}, blas64.Vector{N: m, Inc: c.Stride, Data: c.Data[(i+1)*c.Stride+i:]})
		}
	}
	if !tiled {
		strip(0, n)
		return
	}
	forTiles(n, 1, false, func(i0, i1, _, _ int) { strip(i0, i1) })
}

// solveUpperRight sets w = w R^-1 for the upper triangular b x b matrix r
// (blas64.Trsm; rows of w are independent, so the pure-Go build solves row
// panels on GOMAXPROCS goroutines).
func solveUpperRight(w blas64.General, r blas64.Triangular) {
	if !tiled {
		blas64.Trsm(blas.Right, blas.NoTrans, 1, r, w)
		return
	}
	forTiles(w.Rows, 1, false, func(i0, i1, _, _ int) {
		blas64.Trsm(blas.Right, blas.NoTrans, 1, r, rows(w, i0, i1, 0))
	})
}
