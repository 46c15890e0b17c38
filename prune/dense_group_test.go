package prune

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// groupTol bounds the differences between the group downdate, k single
// downdates and the direct inverse of the reduced matrix: a well-conditioned
// SPD matrix (condition number below about 10), so a few hundred ulps.
const groupTol = 1e-11

// The rank-k downdate of the dense inverse by a group Q equals k rank-1
// downdates one after another, and both equal the inverse of the matrix
// with Q's rows and columns removed (Hassibi & Stork's constrained
// inverse). n is above tiledDowndate so the tiled product is the one tested.
func TestGroupDowndate(t *testing.T) {
	const n, k = tiledDowndate + 40, 12
	rng := rand.New(rand.NewPCG(4, 4))
	a := wellConditioned(rng, n)
	free := make([]int, n)
	for i := range free {
		free[i] = i
	}
	inverse := func(s *mat.SymDense) *mat.SymDense { return choleskyInverse(t, s) }
	Q := rng.Perm(n)[:k]
	group := NewDenseInverse(inverse(a), free, n)
	if err := group.Downdate(Q); err != nil {
		t.Fatal(err)
	}
	seq := NewDenseInverse(inverse(a), free, n)
	for _, q := range Q {
		if err := seq.Downdate([]int{q}); err != nil {
			t.Fatal(err)
		}
	}
	removed := map[int]bool{}
	for _, q := range Q {
		removed[q] = true
	}
	var keep []int
	for i := 0; i < n; i++ {
		if !removed[i] {
			keep = append(keep, i)
		}
	}
	reduced := mat.NewSymDense(len(keep), nil)
	for i, qi := range keep {
		for j := i; j < len(keep); j++ {
			reduced.SetSym(i, j, a.At(qi, keep[j]))
		}
	}
	direct := inverse(reduced)
	g, s := group.Matrix(), seq.Matrix()
	for i, qi := range keep {
		for j := i; j < len(keep); j++ {
			qj := keep[j]
			want := direct.At(i, j)
			if d := math.Abs(g.At(qi, qj) - want); d > groupTol {
				t.Fatalf("group downdate [%d][%d] = %v, direct inverse %v", qi, qj, g.At(qi, qj), want)
			}
			if d := math.Abs(s.At(qi, qj) - want); d > groupTol {
				t.Fatalf("sequential downdates [%d][%d] = %v, direct inverse %v", qi, qj, s.At(qi, qj), want)
			}
		}
	}
	for _, q := range Q {
		for j := 0; j < n; j++ {
			if g.At(q, j) != 0 {
				t.Fatalf("row %d of removed parameter not zero after the group downdate", q)
			}
		}
	}
}

// Compact keeps the survivors' values, and a downdate after it equals the
// direct inverse of the matrix without both groups.
func TestCompactDowndate(t *testing.T) {
	const n, k = tiledDowndate + 40, 12
	rng := rand.New(rand.NewPCG(5, 5))
	a := wellConditioned(rng, n)
	inverse := func(s *mat.SymDense) *mat.SymDense { return choleskyInverse(t, s) }
	// A network of n+3 parameters whose parameters 1, 4 and 7 are not covered.
	var free []int
	for q := 0; len(free) < n; q++ {
		if q != 1 && q != 4 && q != 7 {
			free = append(free, q)
		}
	}
	perm := rng.Perm(n)
	Q1, Q2 := make([]int, k), make([]int, k)
	for i := range Q1 {
		Q1[i], Q2[i] = free[perm[i]], free[perm[k+i]]
	}
	d := NewDenseInverse(inverse(a), free, n+3)
	if err := d.Downdate(Q1); err != nil {
		t.Fatal(err)
	}
	before := mat.DenseCopyOf(d.Matrix())
	oldFree := append([]int(nil), d.Free()...)
	d.Compact()
	if got := len(d.Free()); got != n-k {
		t.Fatalf("compacted to %d rows, want %d", got, n-k)
	}
	row := map[int]int{}
	for r, q := range oldFree {
		row[q] = r
	}
	for i, qi := range d.Free() {
		for j := i; j < n-k; j++ {
			if got, want := d.Matrix().At(i, j), before.At(row[qi], row[d.Free()[j]]); got != want {
				t.Fatalf("compacted [%d][%d] = %v, before %v", i, j, got, want)
			}
		}
	}
	if err := d.Downdate(Q2); err != nil {
		t.Fatal(err)
	}
	gone := map[int]bool{}
	for _, q := range append(Q1, Q2...) {
		gone[q] = true
	}
	var keep []int // rows of a
	for r, q := range free {
		if !gone[q] {
			keep = append(keep, r)
		}
	}
	reduced := mat.NewSymDense(len(keep), nil)
	for i, ri := range keep {
		for j := i; j < len(keep); j++ {
			reduced.SetSym(i, j, a.At(ri, keep[j]))
		}
	}
	direct := inverse(reduced)
	for i, ri := range keep {
		for j := i; j < len(keep); j++ {
			qi, qj := free[ri], free[keep[j]]
			got := d.Matrix().At(d.row(qi), d.row(qj))
			if diff := math.Abs(got - direct.At(i, j)); diff > groupTol {
				t.Fatalf("after compacting and a second downdate [%d][%d] = %v, direct inverse %v", qi, qj, got, direct.At(i, j))
			}
		}
	}
}

// wellConditioned returns the n x n SPD matrix M M^T / n + I for a seeded
// Gaussian M: eigenvalues from 1 to about 5, a condition number below 10.
func wellConditioned(rng *rand.Rand, n int) *mat.SymDense {
	m := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	a := mat.NewSymDense(n, nil)
	a.SymOuterK(1/float64(n), m)
	for i := 0; i < n; i++ {
		a.SetSym(i, i, a.At(i, i)+1)
	}
	return a
}

// choleskyInverse is the direct inverse of the SPD matrix s by gonum's
// Cholesky: the reference the downdates are checked against.
func choleskyInverse(t *testing.T, s *mat.SymDense) *mat.SymDense {
	t.Helper()
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		t.Fatal("test matrix not positive definite")
	}
	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil {
		t.Fatal(err)
	}
	return &inv
}

// Columns reads C^-1 E_Q from the upper triangle exactly as element access
// does, for parameters above, below and on each other's rows, after a
// downdate and a compaction.
func TestDenseColumnsExact(t *testing.T) {
	const n = 37
	rng := rand.New(rand.NewPCG(6, 1))
	a := wellConditioned(rng, n)
	free := make([]int, n)
	for i := range free {
		free[i] = i
	}
	d := NewDenseInverse(choleskyInverse(t, a), free, n)
	check := func(Q []int) {
		t.Helper()
		got, cq := d.Columns(Q)
		for c, q := range Q {
			r := -1
			for i, f := range got {
				if f == q {
					r = i
				}
			}
			for i := range got {
				if v, want := cq.At(i, c), d.Matrix().At(i, r); v != want {
					t.Fatalf("Columns(%v)[%d][%d] = %v, want %v", Q, i, c, v, want)
				}
			}
		}
	}
	check([]int{0, n - 1, 17, 3})
	if err := d.Downdate([]int{5, 30}); err != nil {
		t.Fatal(err)
	}
	d.Compact()
	check([]int{36, 0, 6, 29})
}
