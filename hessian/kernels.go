package hessian

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// Dense kernels for the blocked inverse and for forming a RankOne matrix.
// gonum's pure-Go Dsymm and Dsyrk are serial and its Dgemm runs at about a
// third of the machine's speed here, so the level-3 work is one tiled,
// parallel "C += alpha A B^T" whose innermost step is dot4: four dot
// products of contiguous rows at once, in AVX2/FMA assembly on amd64
// (dot_amd64.s; build tag noasm or purego, or a CPU without AVX2 and FMA,
// falls back to gonum's floats.Dot). At nf = 2000 this is 3-4x faster
// per term than gonum Dsymm + Dsyrk and 6-7x faster than the memory-bound
// rank-1 recursion.

// useLevel3BLAS is set by the openblas build (openblas.go): the blocked
// update and the forming of rank-1 sums then call blas64's dsymm, dsyrk and
// dtrsm, which OpenBLAS runs far faster than any pure-Go kernel.
var useLevel3BLAS = false

// Tile sizes of gemmNT, tuned on an AMD EPYC (Zen 5, 1 MiB L2) for
// nf = 2000 and blocks of 128..256 terms (tileRows 16..64 and tileK
// 256..2048 were within 10%): a row tile of A (tileRows x tileK doubles,
// 128 KiB) stays in L2 while the matching rows of B stream past it.
const (
	tileRows = 32
	tileCols = 64
	tileK    = 512
)

// minParallelWork is the number of multiply-adds below which a kernel runs
// on the calling goroutine only: starting goroutines costs about a
// microsecond, the time of ~10^4 multiply-adds.
const minParallelWork = 1 << 16

// parallel runs fn(id, w) for id = 0..w-1 on w goroutines, the caller's
// included, where w is GOMAXPROCS for work of at least minParallelWork
// multiply-adds and 1 below that.
func parallel(work int, fn func(id, w int)) {
	w := 1
	if work >= minParallelWork {
		w = runtime.GOMAXPROCS(0)
	}
	if w <= 1 {
		fn(0, 1)
		return
	}
	var wg sync.WaitGroup
	wg.Add(w - 1)
	for id := 1; id < w; id++ {
		go func() {
			defer wg.Done()
			fn(id, w)
		}()
	}
	fn(0, w)
	wg.Wait()
}

// gemmNT computes C += alpha A B^T for the m x n matrix C, with A m x k and B
// n x k, all row-major with the given strides. If upper is set, C is square
// and only its entries j >= i are touched. Row tiles are dealt to the
// goroutines in turn, which balances the triangle of the upper case.
func gemmNT(m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, upper bool) {
	if m == 0 || n == 0 || k == 0 {
		return
	}
	work := m * n * k
	if upper {
		work /= 2
	}
	nt := (m + tileRows - 1) / tileRows
	parallel(work, func(id, w int) {
		for it := id; it < nt; it += w {
			i0, i1 := it*tileRows, min(it*tileRows+tileRows, m)
			for k0 := 0; k0 < k; k0 += tileK {
				k1 := min(k0+tileK, k)
				j0 := 0
				if upper {
					j0 = i0
				}
				for ; j0 < n; j0 += tileCols {
					j1 := min(j0+tileCols, n)
					for i := i0; i < i1; i++ {
						ai := a[i*lda+k0 : i*lda+k1]
						ci := c[i*ldc : i*ldc+n]
						js := j0
						if upper && i > js {
							js = i
						}
						j := js
						for ; j+4 <= j1; j += 4 {
							d := dot4(ai, b[j*ldb+k0:], b[(j+1)*ldb+k0:], b[(j+2)*ldb+k0:], b[(j+3)*ldb+k0:])
							ci[j] += alpha * d[0]
							ci[j+1] += alpha * d[1]
							ci[j+2] += alpha * d[2]
							ci[j+3] += alpha * d[3]
						}
						for ; j < j1; j++ {
							ci[j] += alpha * floats.Dot(ai, b[j*ldb+k0:j*ldb+k1])
						}
					}
				}
			}
		}
	})
}

// transpose writes the transpose of the m x n matrix a (stride lda) into t
// (n x m, stride ldt).
func transpose(m, n int, a []float64, lda int, t []float64, ldt int) {
	const bs = 32
	for i0 := 0; i0 < m; i0 += bs {
		i1 := min(i0+bs, m)
		for j0 := 0; j0 < n; j0 += bs {
			j1 := min(j0+bs, n)
			for i := i0; i < i1; i++ {
				row := a[i*lda : i*lda+n]
				for j := j0; j < j1; j++ {
					t[j*ldt+i] = row[j]
				}
			}
		}
	}
}

// mirrorUpper copies the strict upper triangle of the n x n matrix c onto its
// lower triangle, in tiles.
func mirrorUpper(n int, c []float64, ldc int) {
	const bs = 32
	nt := (n + bs - 1) / bs
	parallel(n*n/2, func(id, w int) {
		for it := id; it < nt; it += w {
			i0, i1 := it*bs, min(it*bs+bs, n)
			for j0 := i0; j0 < n; j0 += bs {
				j1 := min(j0+bs, n)
				for i := i0; i < i1; i++ {
					for j := max(j0, i+1); j < j1; j++ {
						c[j*ldc+i] = c[i*ldc+j]
					}
				}
			}
		}
	})
}
