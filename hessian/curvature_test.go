package hessian

import (
	"errors"
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// sumTol is for identities that hold exactly in real arithmetic and differ
// only by the order of summation of O(P n) products of O(1) numbers:
// relative Frobenius error of a few hundred eps at most.
const sumTol = 1e-12

// freeColumns returns J[:, free] as a new K x nf matrix.
func freeColumns(j *mat.Dense, free []int) *mat.Dense {
	K, _ := j.Dims()
	out := mat.NewDense(K, len(free), nil)
	for k := 0; k < K; k++ {
		for a, q := range free {
			out.Set(k, a, j.At(k, q))
		}
	}
	return out
}

// outputHessian returns L_p = hess_f l_p from its formula (package model's
// documentation), built from the prediction pi and the target sum s.
func outputHessian(loss model.Loss, pi []float64, s float64) *mat.Dense {
	K := len(pi)
	L := mat.NewDense(K, K, nil)
	for i := 0; i < K; i++ {
		switch loss {
		case model.SquaredError:
			L.Set(i, i, 1)
		case model.BinaryCrossEntropy:
			L.Set(i, i, pi[i]*(1-pi[i]))
		case model.CrossEntropy:
			for j := 0; j < K; j++ {
				v := -pi[i] * pi[j]
				if i == j {
					v += pi[i]
				}
				L.Set(i, j, s*v)
			}
		}
	}
	return L
}

// addDecayAndScale returns a/P + decay I as a SymDense.
func addDecayAndScale(a *mat.Dense, P int, decay float64) *mat.SymDense {
	n, _ := a.Dims()
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := a.At(i, j) / float64(P)
			if i == j {
				v += decay
			}
			s.SetSym(i, j, v)
		}
	}
	return s
}

// referenceGGN builds (1/P) sum_p J_p^T L_p J_p + Decay I the slow obvious way.
func referenceGGN(m *model.MLP, X, T [][]float64) *mat.SymDense {
	free := m.Free()
	ws := m.NewWorkspace()
	sum := mat.NewDense(len(free), len(free), nil)
	for p := range X {
		var j mat.Dense
		m.OutputJacobian(ws, &j, X[p])
		jf := freeColumns(&j, free)
		pi := append([]float64(nil), m.Forward(ws, X[p])...)
		L := outputHessian(m.Loss, pi, floats.Sum(T[p]))
		var lj, jtlj mat.Dense
		lj.Mul(L, jf)
		jtlj.Mul(jf.T(), &lj)
		sum.Add(sum, &jtlj)
	}
	return addDecayAndScale(sum, len(X), m.Decay)
}

// referenceEF builds (1/P) sum_p g_p g_p^T + Decay I the slow obvious way.
func referenceEF(m *model.MLP, X, T [][]float64) *mat.SymDense {
	free := m.Free()
	ws := m.NewWorkspace()
	sum := mat.NewDense(len(free), len(free), nil)
	g := make([]float64, len(m.Params))
	for p := range X {
		m.PatternGrad(ws, g, X[p], T[p])
		gf := mat.NewVecDense(len(free), nil)
		for a, q := range free {
			gf.SetVec(a, g[q])
		}
		var ggt mat.Dense
		ggt.Outer(1, gf, gf)
		sum.Add(sum, &ggt)
	}
	return addDecayAndScale(sum, len(X), m.Decay)
}

func TestGGNMatchesDenseReference(t *testing.T) {
	for _, c := range lossCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 1)
			X, T := randomData(m, 13, 2)
			curv := mustNew(t, GGN, m, X, T, nil)
			r1 := curv.(RankOne)
			if got, want := r1.NumTerms(), len(X)*m.NumOutputs(); got != want {
				t.Errorf("NumTerms = %d, want P K = %d", got, want)
			}
			if curv.Dim() != m.NumFree() || curv.Norm() != len(X) || curv.Decay() != m.Decay {
				t.Errorf("Dim, Norm, Decay = %d, %d, %v; want %d, %d, %v", curv.Dim(), curv.Norm(), curv.Decay(), m.NumFree(), len(X), m.Decay)
			}
			if e := RelFrobenius(dense(curv), referenceGGN(m, X, T)); e > sumTol {
				t.Errorf("relative Frobenius error %.3g > %g", e, sumTol)
			}
		})
	}
}

func TestEmpiricalFisherMatchesDenseReference(t *testing.T) {
	for _, c := range lossCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 3)
			X, T := randomData(m, 11, 4)
			curv := mustNew(t, EmpiricalFisher, m, X, T, nil)
			if got := curv.(RankOne).NumTerms(); got != len(X) {
				t.Errorf("NumTerms = %d, want P = %d", got, len(X))
			}
			if e := RelFrobenius(dense(curv), referenceEF(m, X, T)); e > sumTol {
				t.Errorf("relative Frobenius error %.3g > %g", e, sumTol)
			}
		})
	}
}

// TestEmpiricalFisherIsGGNWithResiduals checks the identity g_p = J_p^T
// grad_f l_p that links the two: for squared error with one output,
// F_emp = (1/P) sum_p r_p^2 J_p^T J_p, a residual-weighted GGN.
func TestEmpiricalFisherIsGGNWithResiduals(t *testing.T) {
	c := netCase{"mse/1out", model.Spec{Sizes: []int{3, 4, 1}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError}, []int{2}}
	m := randomNet(t, c, 5)
	X, T := randomData(m, 9, 6)
	ws := m.NewWorkspace()
	free := m.Free()
	sum := mat.NewDense(len(free), len(free), nil)
	r := make([]float64, 1)
	for p := range X {
		var j mat.Dense
		m.OutputJacobian(ws, &j, X[p])
		m.OutputGrad(ws, r, X[p], T[p])
		jf := freeColumns(&j, free)
		var jtj mat.Dense
		jtj.Mul(jf.T(), jf)
		jtj.Scale(r[0]*r[0], &jtj)
		sum.Add(sum, &jtj)
	}
	want := addDecayAndScale(sum, len(X), 0)
	if e := RelFrobenius(dense(mustNew(t, EmpiricalFisher, m, X, T, nil)), want); e > sumTol {
		t.Errorf("relative Frobenius error %.3g > %g", e, sumTol)
	}
}

// TestExactMatchesFiniteDifferences compares the exact Hessian with central
// differences of the gradient of E over the free parameters. Step 1e-6:
// truncation O(h^2) ~ 1e-12, rounding O(eps/h) ~ 1e-10 per entry for entries
// of order 1..10, so 1e-6 leaves a wide margin and still catches any wrong
// term (those are O(1e-2) or larger).
func TestExactMatchesFiniteDifferences(t *testing.T) {
	const step, tol = 1e-6, 1e-6
	for _, c := range lossCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 7)
			X, T := randomData(m, 6, 8)
			curv := mustNew(t, Exact, m, X, T, nil)
			free := m.Free()
			ws := m.NewWorkspace()
			w0 := append([]float64(nil), m.Params...)
			grad := make([]float64, len(m.Params))
			gradAt := func(dst, w []float64) {
				for a, q := range free {
					m.Params[q] = w[a]
				}
				m.Grad(ws, grad, X, T)
				for a, q := range free {
					dst[a] = grad[q]
				}
			}
			wf := make([]float64, len(free))
			for a, q := range free {
				wf[a] = w0[q]
			}
			ref := mat.NewDense(len(free), len(free), nil)
			fd.Jacobian(ref, gradAt, wf, &fd.JacobianSettings{Formula: fd.Central, Step: step})
			copy(m.Params, w0)
			if d := maxAbsDiff(dense(curv), ref); d > tol {
				t.Errorf("max |H - FD| = %.3g > %g", d, tol)
			}
		})
	}
}

func TestExactEqualsGGNForLinearSquaredError(t *testing.T) {
	c := netCase{"linear", model.Spec{Sizes: []int{4, 2}, Hidden: model.Identity, Output: model.Identity, Loss: model.SquaredError, Decay: 0.05}, []int{3}}
	m := randomNet(t, c, 9)
	X, T := randomData(m, 10, 10)
	h := dense(mustNew(t, Exact, m, X, T, nil))
	g := dense(mustNew(t, GGN, m, X, T, nil))
	if e := RelFrobenius(h, g); e > sumTol {
		t.Errorf("linear squared error: relative Frobenius distance of H from G %.3g > %g", e, sumTol)
	}
}

// mcError returns the relative Frobenius error of F_mc with S samples from G.
func mcError(t *testing.T, m *model.MLP, X, T [][]float64, g *mat.SymDense, S int, sigma float64, seed uint64) float64 {
	f := mustNew(t, MCFisher, m, X, T, &Options{Samples: S, Sigma: sigma, Seed: seed})
	if got := f.(RankOne).NumTerms(); got != S*len(X) {
		t.Fatalf("NumTerms = %d, want P S = %d", got, S*len(X))
	}
	return RelFrobenius(dense(f), g)
}

// TestMCFisherConvergesToGGN checks that F_mc is an unbiased estimate of G:
// its relative error falls like 1/sqrt(S) (10x more samples, about 3x less
// error). With 20 patterns and these seeds the errors observed are
// 0.12..0.32, 0.04..0.06 and 0.008..0.033 for S = 10, 100 and 1000, and
// 0.003..0.005 for S = 30000; the bounds (0.1 and 0.015) leave about 3x.
func TestMCFisherConvergesToGGN(t *testing.T) {
	for _, c := range lossCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 11)
			X, T := randomData(m, 20, 12)
			g := dense(mustNew(t, GGN, m, X, T, nil))
			prev := math.Inf(1)
			for _, S := range []int{10, 100, 1000} {
				e := mcError(t, m, X, T, g, S, 0, 13)
				t.Logf("S = %d: relative Frobenius error %.4f", S, e)
				if e >= prev {
					t.Errorf("S = %d: error %.4f did not decrease from %.4f", S, e, prev)
				}
				prev = e
			}
			if prev > 0.1 {
				t.Errorf("S = 1000: relative error %.4f > 0.1", prev)
			}
			if testing.Short() {
				return
			}
			e := mcError(t, m, X, T, g, 30000, 0, 14)
			t.Logf("S = 30000: relative Frobenius error %.4f", e)
			if e > 0.015 {
				t.Errorf("S = 30000: relative error %.4f > 0.015", e)
			}
		})
	}
}

// TestMCFisherSigmaScaling checks E[F_mc] = G_data / sigma^2 for squared
// error (weight decay 0 so that the whole matrix scales).
func TestMCFisherSigmaScaling(t *testing.T) {
	c := lossCases()[0]
	c.spec.Decay = 0
	m := randomNet(t, c, 15)
	X, T := randomData(m, 20, 16)
	g := dense(mustNew(t, GGN, m, X, T, nil))
	f := dense(mustNew(t, MCFisher, m, X, T, &Options{Samples: 2000, Sigma: 2, Seed: 17}))
	f.ScaleSym(4, f)
	if e := RelFrobenius(f, g); e > 0.05 {
		t.Errorf("sigma = 2: relative error of sigma^2 F_mc from G %.4f > 0.05", e)
	}
}

func TestDiagMatchesDense(t *testing.T) {
	for _, c := range lossCases() {
		m := randomNet(t, c, 19)
		X, T := randomData(m, 7, 20)
		for _, kind := range []Kind{Exact, GGN, EmpiricalFisher, MCFisher} {
			t.Run(c.name+"/"+kind.String(), func(t *testing.T) {
				curv := mustNew(t, kind, m, X, T, &Options{Samples: 3})
				d := make([]float64, curv.Dim())
				curv.Diag(d)
				a := dense(curv)
				for i, v := range d {
					// Same sums of squares in a different order.
					if w := a.At(i, i); math.Abs(v-w) > sumTol*math.Max(1, math.Abs(w)) {
						t.Errorf("Diag[%d] = %v, Dense = %v", i, v, w)
					}
				}
			})
		}
	}
}

// collectTerms returns every term, in order, as the rows of a matrix.
func collectTerms(c RankOne, b int) [][]float64 {
	var out [][]float64
	c.Terms(b, func(u *mat.Dense) {
		r, k := u.Dims()
		if k > b || r != c.Dim() {
			panic("bad block shape")
		}
		for j := 0; j < k; j++ {
			out = append(out, mat.Col(nil, j, u))
		}
	})
	return out
}

func TestTermsBlockSizesAgree(t *testing.T) {
	for _, c := range lossCases() {
		m := randomNet(t, c, 21)
		X, T := randomData(m, 5, 22)
		for _, kind := range []Kind{GGN, EmpiricalFisher, MCFisher} {
			t.Run(c.name+"/"+kind.String(), func(t *testing.T) {
				r1 := mustNew(t, kind, m, X, T, &Options{Samples: 3, Seed: 5}).(RankOne)
				ref := collectTerms(r1, 1)
				if len(ref) != r1.NumTerms() {
					t.Fatalf("%d terms, NumTerms says %d", len(ref), r1.NumTerms())
				}
				for _, b := range []int{1, 2, 7, r1.NumTerms() + 5} {
					got := collectTerms(r1, b)
					for m := range ref {
						if !floats.Equal(got[m], ref[m]) {
							t.Fatalf("b = %d: term %d differs", b, m)
						}
					}
				}
			})
		}
	}
}

func TestMCFisherSeed(t *testing.T) {
	c := lossCases()[3]
	m := randomNet(t, c, 23)
	X, T := randomData(m, 5, 24)
	a := collectTerms(mustNew(t, MCFisher, m, X, T, &Options{Seed: 1}).(RankOne), 4)
	b := collectTerms(mustNew(t, MCFisher, m, X, T, &Options{Seed: 1}).(RankOne), 4)
	d := collectTerms(mustNew(t, MCFisher, m, X, T, &Options{Seed: 2}).(RankOne), 4)
	if len(a) != DefaultSamples*len(X) {
		t.Errorf("%d terms with default samples, want %d", len(a), DefaultSamples*len(X))
	}
	same := func(x, y [][]float64) bool {
		for i := range x {
			if !floats.Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed gave different samples")
	}
	if same(a, d) {
		t.Error("different seeds gave the same samples")
	}
}

// TestCurvatureIsASnapshot checks that New copies the network.
func TestCurvatureIsASnapshot(t *testing.T) {
	c := lossCases()[0]
	m := randomNet(t, c, 25)
	X, T := randomData(m, 5, 26)
	for _, kind := range []Kind{Exact, GGN} {
		curv := mustNew(t, kind, m, X, T, nil)
		before := dense(curv)
		saved := append([]float64(nil), m.Params...)
		m.Params[4] += 1
		m.Prune(5)
		if after := dense(curv); !mat.EqualApprox(before, after, 0) {
			t.Errorf("%v: changing the network changed the curvature", kind)
		}
		copy(m.Params, saved)
		m.Pruned[5] = false
	}
}

// TestTermsAllocateNothingPerTerm checks that the allocations of one Terms
// call do not grow with the number of patterns.
func TestTermsAllocateNothingPerTerm(t *testing.T) {
	c := lossCases()[3]
	m := randomNet(t, c, 27)
	for _, kind := range []Kind{GGN, EmpiricalFisher, MCFisher} {
		var allocs [2]float64
		for i, P := range []int{10, 100} {
			X, T := randomData(m, P, 28)
			r1 := mustNew(t, kind, m, X, T, nil).(RankOne)
			allocs[i] = testing.AllocsPerRun(3, func() { r1.Terms(1, func(*mat.Dense) {}) })
		}
		if allocs[1] > allocs[0] {
			t.Errorf("%v: Terms made %v allocations for 10 patterns and %v for 100", kind, allocs[0], allocs[1])
		}
	}
}

func TestNewErrors(t *testing.T) {
	c := lossCases()[0]
	m := randomNet(t, c, 29)
	X, T := randomData(m, 4, 30)
	short := [][]float64{X[0], X[1][:2], X[2], X[3]}
	nan := [][]float64{T[0], T[1], {math.NaN(), 0}, T[3]}
	allPruned := m.Clone()
	for q := range allPruned.Params {
		allPruned.Prune(q)
	}
	cases := []struct {
		name string
		kind Kind
		net  *model.MLP
		X, T [][]float64
		opts *Options
		want string
	}{
		{"nil net", GGN, nil, X, T, nil, "nil network"},
		{"rows", GGN, m, X, T[:3], nil, "target rows"},
		{"empty", GGN, m, nil, nil, nil, "no patterns"},
		{"short row", GGN, m, short, T, nil, "row 1 has 2 inputs"},
		{"NaN", EmpiricalFisher, m, X, nan, nil, "row 2 holds NaN"},
		{"all pruned", Exact, allPruned, X, T, nil, "every parameter"},
		{"kind", Kind(9), m, X, T, nil, "unknown curvature"},
		{"samples", MCFisher, m, X, T, &Options{Samples: -1}, "samples -1"},
		{"sigma", MCFisher, m, X, T, &Options{Sigma: math.NaN()}, "sigma NaN"},
		{"sigma<0", MCFisher, m, X, T, &Options{Sigma: -1}, "sigma -1"},
	}
	for _, tc := range cases {
		_, err := New(tc.kind, tc.net, tc.X, tc.T, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "hessian: ") {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}

func TestParseKindAndFix(t *testing.T) {
	for _, k := range []Kind{Exact, GGN, EmpiricalFisher, MCFisher} {
		got, err := ParseKind(strings.ToUpper(k.String()))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v", k, got, err)
		}
	}
	if _, err := ParseKind("fisher"); err == nil || !strings.Contains(err.Error(), "ggn, ef, mcfisher, exact") {
		t.Errorf("ParseKind(fisher): %v", err)
	}
	for _, f := range []Fix{FixNone, FixShift, FixAbs, FixClip, FixPinv} {
		got, err := ParseFix(f.String())
		if err != nil || got != f {
			t.Errorf("ParseFix(%q) = %v, %v", f, got, err)
		}
	}
	if _, err := ParseFix("damp"); err == nil || !strings.HasPrefix(err.Error(), "hessian: ") || !strings.Contains(err.Error(), "none, shift, abs, clip, pinv") {
		t.Errorf("ParseFix(damp): %v", err)
	}
	if s := Kind(7).String(); s != "Kind(7)" {
		t.Errorf("Kind(7).String() = %q", s)
	}
	if !errors.Is(checkAlpha(0), ErrBadDamping) {
		t.Error("checkAlpha(0) does not wrap ErrBadDamping")
	}
}

// TestConcurrentUse runs Dense and Diag of each kind from several
// goroutines (meaningful under -race) and checks the results agree.
func TestConcurrentUse(t *testing.T) {
	c := lossCases()[3]
	m := randomNet(t, c, 37)
	X, T := randomData(m, 6, 38)
	for _, kind := range []Kind{Exact, GGN, EmpiricalFisher, MCFisher} {
		curv := mustNew(t, kind, m, X, T, nil)
		res := make([]*mat.SymDense, 4)
		done := make(chan int)
		for g := range res {
			go func() {
				res[g] = dense(curv)
				curv.Diag(make([]float64, curv.Dim()))
				done <- g
			}()
		}
		for range res {
			<-done
		}
		for g := 1; g < len(res); g++ {
			if !mat.Equal(res[g], res[0]) {
				t.Errorf("%v: concurrent Dense calls differ", kind)
			}
		}
	}
}
