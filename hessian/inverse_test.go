package hessian

import (
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// agreeTol bounds the relative Frobenius distance between two inverses of
// the same matrix. The three methods are backward stable and their results
// differ by about eps times the condition number; the test problems have
// condition numbers below 1e4, so 1e-9 leaves a margin of 1e2..1e3.
const agreeTol = 1e-9

// checkInverses runs the three inverses of c and checks that they agree
// and invert C + alpha I.
func checkInverses(t *testing.T, c RankOne, alpha float64) {
	t.Helper()
	var direct mat.SymDense
	if err := InverseDirect(&direct, c, alpha); err != nil {
		t.Fatal(err)
	}
	var rec mat.SymDense
	if err := InverseRecursive(&rec, c, alpha); err != nil {
		t.Fatal(err)
	}
	if e := RelFrobenius(&rec, &direct); e > agreeTol {
		t.Errorf("recursive vs direct: relative Frobenius distance %.3g > %g", e, agreeTol)
	}
	var blocked mat.SymDense // with the default block
	for _, b := range []int{0, 1, 7, 64} {
		blk := new(mat.SymDense)
		if b == 0 {
			blk = &blocked
		}
		if err := InverseBlocked(blk, c, alpha, b); err != nil {
			t.Fatal(err)
		}
		if e := RelFrobenius(blk, &direct); e > agreeTol {
			t.Errorf("blocked (b = %d) vs direct: relative Frobenius distance %.3g > %g", b, e, agreeTol)
		}
	}
	// (C + alpha I) X = I up to rounding. The residual of a computed
	// inverse is about (n + M) eps kappa: n from the factorization or the
	// products of length n, M from summing M rank-1 terms. Observed ratios
	// residual / ((n + M) eps kappa) are 0..5.3; the bound allows 10.
	a := dense(c)
	addDiag(a, alpha)
	kappa := condition(t, a)
	n := c.Dim()
	tol := 10 * float64(n+c.NumTerms()) * 0x1p-52 * kappa
	for name, x := range map[string]*mat.SymDense{"direct": &direct, "recursive": &rec, "blocked": &blocked} {
		var p mat.Dense
		p.Mul(a, x)
		for i := 0; i < n; i++ {
			p.Set(i, i, p.At(i, i)-1)
		}
		r := mat.Norm(&p, math.Inf(1))
		if r > tol {
			t.Errorf("%s: ||(C + alpha I) X - I||_inf = %.3g > %.3g (n = %d, condition %.3g)", name, r, tol, n, kappa)
		}
	}
}

// TestInversesAgreeRandom checks the three inverses on random problems
// given by explicit terms: fewer terms than parameters (the damping matters),
// about as many, and many more, up to nf = 500 and M = 5000 (not in -short).
func TestInversesAgreeRandom(t *testing.T) {
	sizes := []struct{ nf, M int }{{1, 1}, {5, 3}, {30, 10}, {40, 45}, {50, 200}, {200, 1000}, {500, 5000}}
	for i, s := range sizes {
		t.Run(name("nf=%d/M=%d", s.nf, s.M), func(t *testing.T) {
			if s.nf*s.M > 200000 && testing.Short() {
				t.Skip("large case skipped in -short mode")
			}
			c := randomFake(s.nf, s.M, 1e-3, uint64(100+i))
			checkInverses(t, c, 1e-2)
		})
	}
}

// TestInversesAgreeOnNetworks checks the three inverses on the rank-1
// curvatures of small networks with every loss.
func TestInversesAgreeOnNetworks(t *testing.T) {
	for _, c := range lossCases() {
		m := randomNet(t, c, 31)
		X, T := randomData(m, 12, 32)
		for _, kind := range []Kind{GGN, EmpiricalFisher, MCFisher} {
			t.Run(c.name+"/"+kind.String(), func(t *testing.T) {
				checkInverses(t, mustNew(t, kind, m, X, T, &Options{Samples: 4}).(RankOne), 1e-3)
			})
		}
	}
}

func TestInverseBadAlpha(t *testing.T) {
	c := randomFake(4, 6, 0, 1)
	for _, alpha := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		var d mat.SymDense
		errs := map[string]error{
			"recursive":  InverseRecursive(&d, c, alpha),
			"blocked":    InverseBlocked(&d, c, alpha, 0),
			"direct":     InverseDirect(&d, c, alpha),
			"indefinite": func() error { _, err := InverseIndefinite(&d, c, alpha, FixShift); return err }(),
		}
		for name, err := range errs {
			if !errors.Is(err, ErrBadDamping) || !strings.Contains(err.Error(), "alpha") {
				t.Errorf("%s with alpha = %v: error %v, want ErrBadDamping naming alpha", name, alpha, err)
			}
		}
	}
	var d mat.SymDense
	if err := InverseBlocked(&d, c, 1, -1); err == nil || !strings.Contains(err.Error(), "block size -1") {
		t.Errorf("block -1: error %v", err)
	}
}

// nearlyParallel returns terms that are all close to one direction, scaled
// to 1e3, so that with a damping far below eps ||C|| the rank-1 updates
// cancel catastrophically: C + alpha I has condition number ~1e16 and none
// of the inverses can be trusted.
func nearlyParallel() *fakeRankOne {
	n, M := 20, 40
	u := mat.NewDense(n, M, nil)
	for m := 0; m < M; m++ {
		for i := 0; i < n; i++ {
			// A deterministic perturbation of relative size 1e-6.
			u.Set(i, m, float64(i+1)*1e3*(1+1e-6*math.Sin(float64(7*m+13*i))))
		}
	}
	return newFake(u, 1, 0)
}

func TestInversesDetectLossOfPositiveDefiniteness(t *testing.T) {
	c := nearlyParallel()
	const alpha = 1e-8
	var d mat.SymDense
	errs := map[string]error{
		"recursive": InverseRecursive(&d, c, alpha),
		"blocked":   InverseBlocked(&d, c, alpha, 8),
		"direct":    InverseDirect(&d, c, alpha),
	}
	for name, err := range errs {
		if !errors.Is(err, ErrNotPositiveDefinite) || !strings.Contains(err.Error(), "raise alpha") || !strings.Contains(err.Error(), "alpha = 1e-08") {
			t.Errorf("%s: error %v, want ErrNotPositiveDefinite advising to raise alpha = 1e-08", name, err)
		}
	}
	// Enough damping cures it.
	if err := InverseRecursive(&d, c, 1); err != nil {
		t.Errorf("alpha = 1: %v", err)
	}
}

// TestInverseRecursiveOverflow: terms so large that X^T H^-1 X overflows.
func TestInverseRecursiveOverflow(t *testing.T) {
	u := mat.NewDense(3, 2, []float64{1e160, 0, 0, 1e160, 1, 1})
	var d mat.SymDense
	err := InverseRecursive(&d, newFake(u, 1, 0), 1e-10)
	if !errors.Is(err, ErrNotPositiveDefinite) || !strings.Contains(err.Error(), "term 1 of 2") {
		t.Errorf("error %v, want ErrNotPositiveDefinite at term 1", err)
	}
}

// TestInverseRecursiveAllocatesNothingPerTerm compares the allocations of
// inversions with 10 and 1000 terms.
func TestInverseRecursiveAllocatesNothingPerTerm(t *testing.T) {
	var allocs [2]float64
	for i, M := range []int{10, 1000} {
		c := randomFake(20, M, 0, 3)
		var d mat.SymDense
		d.ReuseAsSym(20)
		allocs[i] = testing.AllocsPerRun(2, func() {
			if err := InverseRecursive(&d, c, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
	if allocs[1] > allocs[0] {
		t.Errorf("InverseRecursive made %v allocations for 10 terms and %v for 1000", allocs[0], allocs[1])
	}
}

// TestInverseBlockedAllocatesPerBlockOnly: with 1000 terms in blocks of 100
// the allocations are bounded per block. They are not few: each of a
// block's five tiled products (products.go) starts its goroutines
// (internal/parallel.For: a slice, closures and a goroutine per worker;
// AllocsPerRun runs with GOMAXPROCS 1), and gonum's Cholesky of the
// 100 x 100 matrix S uses its parallel Dgemm. 47 per block were observed
// (36 with blocks of 10); the bound is 60, and one allocation per term
// would add 100.
func TestInverseBlockedAllocatesPerBlockOnly(t *testing.T) {
	c := randomFake(300, 1000, 0, 4)
	var d mat.SymDense
	d.ReuseAsSym(300)
	allocs := testing.AllocsPerRun(2, func() {
		if err := InverseBlocked(&d, c, 1, 100); err != nil {
			t.Fatal(err)
		}
	})
	const bound = 60
	if perBlock := allocs / 10; perBlock > bound {
		t.Errorf("InverseBlocked made %v allocations per block of 100 terms, more than %d", perBlock, bound)
	}
}

func TestInverseDirectExactIndefinite(t *testing.T) {
	q := randomOrthogonal(4, 1)
	c := &denseCurvature{kind: Exact, a: withEigen(q, []float64{-1, 0.5, 1, 2})}
	var d mat.SymDense
	err := InverseDirect(&d, c, 1e-3)
	if !errors.Is(err, ErrNotPositiveDefinite) || !strings.Contains(err.Error(), "InverseIndefinite") {
		t.Errorf("error %v, want ErrNotPositiveDefinite pointing to InverseIndefinite", err)
	}
}

// TestInverseDirectExact checks the direct inverse of a network's exact
// Hessian, made positive definite by enough damping, against
// InverseIndefinite with FixNone, which must coincide with it.
func TestInverseDirectExact(t *testing.T) {
	c := lossCases()[2]
	m := randomNet(t, c, 33)
	X, T := randomData(m, 10, 34)
	h := mustNew(t, Exact, m, X, T, nil)
	a := dense(h)
	vals, _ := TopEigen(a, a.SymmetricDim())
	alpha := math.Max(0, -vals[len(vals)-1]) + 0.5
	var direct, none mat.SymDense
	if err := InverseDirect(&direct, h, alpha); err != nil {
		t.Fatal(err)
	}
	rep, err := InverseIndefinite(&none, h, alpha, FixNone)
	if err != nil {
		t.Fatal(err)
	}
	if e := RelFrobenius(&none, &direct); e > agreeTol {
		t.Errorf("FixNone vs InverseDirect: %.3g", e)
	}
	if math.Abs(rep.MinEigen-vals[len(vals)-1]) > 1e-12 {
		t.Errorf("report MinEigen %v, TopEigen's smallest %v", rep.MinEigen, vals[len(vals)-1])
	}
}

// TestResultsIndependentOfGOMAXPROCS: the blocked inverse and the formed
// matrix (hence the direct inverse) are bit-identical with 1 and 2
// goroutines running and across runs, because every product is cut into
// tiles fixed in advance, each computed by one call (never a sum split
// among goroutines). nf = 300 and blocks of 64 give every product several
// tiles. The blocked inverse's full storage must also be exactly symmetric.
func TestResultsIndependentOfGOMAXPROCS(t *testing.T) {
	c := streamed{randomFake(300, 600, 1e-3, 5)}
	run := func(procs int) (blocked, direct *mat.SymDense) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		blocked, direct = new(mat.SymDense), new(mat.SymDense)
		if err := InverseBlocked(blocked, c, 1e-2, 64); err != nil {
			t.Fatal(err)
		}
		if err := InverseDirect(direct, c, 1e-2); err != nil {
			t.Fatal(err)
		}
		return blocked, direct
	}
	b1, d1 := run(1)
	for _, procs := range []int{2, 2} {
		b2, d2 := run(procs)
		if !mat.Equal(b1, b2) || !mat.Equal(d1, d2) {
			t.Errorf("GOMAXPROCS 1 and %d: blocked differ by %g, direct by %g", procs, maxAbsDiff(b1, b2), maxAbsDiff(d1, d2))
		}
	}
	s := b1.RawSymmetric()
	for i := 0; i < s.N; i++ {
		for j := 0; j < i; j++ {
			if s.Data[i*s.Stride+j] != s.Data[j*s.Stride+i] {
				t.Fatalf("blocked inverse storage not symmetric at (%d, %d): %v vs %v", i, j, s.Data[i*s.Stride+j], s.Data[j*s.Stride+i])
			}
		}
	}
}

// TestCholeskyInverse checks the in-place Cholesky inverse against
// mat.Cholesky's (the same LAPACK routines, so equal to rounding: a
// relative tolerance of 1e-12 on a matrix of condition number about 1e2)
// and its numerical-singularity check, the exact 1-norm condition number
// against mat.ConditionTolerance: diag(1, 1e-17) factors, but its condition
// number 1e17 is above the tolerance 1e16, while diag(1, 1e-15) passes.
func TestCholeskyInverse(t *testing.T) {
	const n, tol = 6, 1e-12
	a := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			a.SetSym(i, j, 1/float64(1+i+j)) // Hilbert-like, then made well conditioned
		}
		a.SetSym(i, i, a.At(i, i)+0.1)
	}
	var want mat.SymDense
	var chol mat.Cholesky
	if !chol.Factorize(a) {
		t.Fatal("mat.Cholesky failed on a definite matrix")
	}
	if err := chol.InverseTo(&want); err != nil {
		t.Fatal(err)
	}
	var got mat.SymDense
	if err := choleskyInverse(&got, a, "test", 1, 0, false); err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(&got, &want, tol*mat.Norm(&want, 1)) {
		t.Errorf("choleskyInverse differs from mat.Cholesky.InverseTo:\n%v\n%v", mat.Formatted(&got), mat.Formatted(&want))
	}
	inPlace := mat.NewSymDense(n, nil)
	inPlace.CopySym(a)
	if err := choleskyInverse(inPlace, inPlace, "test", 1, 0, false); err != nil || !mat.Equal(inPlace, &got) {
		t.Errorf("in place: error %v or a different inverse", err)
	}
	for _, c := range []struct {
		small    float64
		singular bool
	}{{1e-15, false}, {1e-17, true}} {
		d := mat.NewSymDense(2, []float64{1, 0, 0, c.small})
		err := choleskyInverse(d, d, "test", 1, 0, false)
		if c.singular != (err != nil) || c.singular && (!errors.Is(err, ErrNotPositiveDefinite) || !strings.Contains(err.Error(), "numerically singular")) {
			t.Errorf("diag(1, %g): error %v, want numerically singular %t", c.small, err, c.singular)
		}
	}
}
