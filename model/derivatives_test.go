package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Tolerances against finite differences. Central differences with step
// h = 1e-6 on functions of order 1 have truncation error O(h^2) ~ 1e-12 and
// rounding error O(eps/h) ~ 1e-10 per entry; derivatives of these small
// networks are O(1..10), so 1e-6 absolute plus relative leaves a wide margin
// while still catching any wrong term (those are O(1e-2) or larger).
const (
	fdStep = 1e-6
	fdTol  = 1e-6
	// exactTol is for identities that hold exactly in real arithmetic and
	// differ only by rounding in sums of O(n) terms of order 1.
	exactTol = 1e-12
)

// netCase is one network configuration covered by the derivative tests.
type netCase struct {
	name   string
	spec   Spec
	pruned []int // indices pruned before testing
}

func derivativeCases() []netCase {
	var cases []netCase
	type out struct {
		loss Loss
		act  Activation
	}
	outs := []out{{SquaredError, Identity}, {SquaredError, Sigmoid}, {SquaredError, Tanh}, {BinaryCrossEntropy, Sigmoid}, {CrossEntropy, Softmax}}
	// The activations added with the layers (leakyrelu, gelu, gelu-tanh,
	// silu) come last, so the cases of the first four keep their indices.
	for _, h := range []Activation{Sigmoid, Tanh, ReLU, Identity, LeakyReLU, GELU, GELUTanh, SiLU} {
		for _, o := range outs {
			cases = append(cases, netCase{
				name:   fmt.Sprintf("hidden=%v/out=%v/loss=%v", h, o.act, o.loss),
				spec:   Spec{Sizes: []int{3, 4, 3, 2}, Hidden: h, Output: o.act, Loss: o.loss, Decay: 0.01},
				pruned: []int{1, 7, 20},
			})
		}
	}
	return append(cases, cnnCases()...)
}

// randomNet returns a network of the given spec with seeded random
// parameters of moderate size (so sigmoids are neither flat nor linear).
func randomNet(t *testing.T, c netCase, seed uint64) *MLP {
	t.Helper()
	m, err := New(c.spec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for q := range m.Params {
		m.Params[q] = rng.NormFloat64()
	}
	for _, q := range c.pruned {
		m.Prune(q)
	}
	return m
}

// randomData returns P patterns suited to the loss: targets in [0,1] for
// bce, probability vectors for ce, anything for squared error.
func randomData(m *MLP, P int, seed uint64) (X, T [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	X = make([][]float64, P)
	T = make([][]float64, P)
	for p := range X {
		X[p] = make([]float64, m.NumInputs())
		for i := range X[p] {
			X[p][i] = rng.NormFloat64()
		}
		T[p] = make([]float64, m.NumOutputs())
		switch m.Loss {
		case SquaredError:
			for k := range T[p] {
				T[p][k] = rng.NormFloat64()
			}
		case BinaryCrossEntropy:
			for k := range T[p] {
				T[p][k] = rng.Float64()
			}
		case CrossEntropy:
			T[p][rng.IntN(len(T[p]))] = 1
		}
	}
	return X, T
}

// near reports whether got and want agree within tol absolutely or relatively.
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// withParams evaluates f at parameters w (restoring m's own afterwards).
func withParams(m *MLP, w []float64, f func()) {
	saved := append([]float64(nil), m.Params...)
	copy(m.Params, w)
	f()
	copy(m.Params, saved)
}

func TestPatternGradMatchesFiniteDifferences(t *testing.T) {
	for _, c := range derivativeCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 1)
			X, T := randomData(m, 3, 2)
			ws := m.NewWorkspace()
			grad := make([]float64, len(m.Params))
			for p := range X {
				m.PatternGrad(ws, grad, X[p], T[p])
				loss := func(w []float64) (l float64) {
					withParams(m, w, func() { l = m.PatternLoss(ws, X[p], T[p]) })
					return l
				}
				ref := fd.Gradient(nil, loss, m.Params, &fd.Settings{Formula: fd.Central, Step: fdStep})
				for q := range grad {
					if m.Pruned[q] {
						if grad[q] != 0 {
							t.Errorf("pattern %d: pruned parameter %d has gradient %v, want 0", p, q, grad[q])
						}
						continue
					}
					if !near(grad[q], ref[q], fdTol) {
						t.Errorf("pattern %d: dl/dw[%d] (%s) = %v, finite differences %v", p, q, m.Name(q), grad[q], ref[q])
					}
				}
			}
		})
	}
}

// gnOutput returns the Gauss–Newton output f after a forward pass: a_L for
// squared error, the logits z_L otherwise (see the package documentation).
func gnOutput(m *MLP, ws *Workspace) []float64 {
	L := m.NumLayers()
	if m.Loss == SquaredError {
		return ws.a[L]
	}
	return ws.z[L]
}

func TestOutputJacobianMatchesFiniteDifferences(t *testing.T) {
	for _, c := range derivativeCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 3)
			X, T := randomData(m, 2, 4)
			ws := m.NewWorkspace()
			var jac mat.Dense
			K, n := m.NumOutputs(), len(m.Params)
			ref := mat.NewDense(K, n, nil)
			gradF := make([]float64, K)
			grad := make([]float64, n)
			for p := range X {
				m.OutputJacobian(ws, &jac, X[p])
				f := func(y, w []float64) {
					withParams(m, w, func() {
						m.Forward(ws, X[p])
						copy(y, gnOutput(m, ws))
					})
				}
				fd.Jacobian(ref, f, m.Params, &fd.JacobianSettings{Formula: fd.Central, Step: fdStep})
				for k := 0; k < K; k++ {
					for q := 0; q < n; q++ {
						want := ref.At(k, q)
						if m.Pruned[q] {
							want = 0
						}
						if !near(jac.At(k, q), want, fdTol) {
							t.Errorf("pattern %d: J[%d][%d] = %v, finite differences %v", p, k, q, jac.At(k, q), want)
						}
					}
				}
				// g_p = J_p^T grad_f l_p (MATH.md), an identity between two
				// independent code paths.
				m.OutputGrad(ws, gradF, X[p], T[p])
				m.PatternGrad(ws, grad, X[p], T[p])
				jtr := mat.NewVecDense(n, nil)
				jtr.MulVec(jac.T(), mat.NewVecDense(K, gradF))
				for q := range grad {
					if !near(grad[q], jtr.AtVec(q), exactTol) {
						t.Errorf("pattern %d: g[%d] = %v, J^T grad_f l = %v", p, q, grad[q], jtr.AtVec(q))
					}
				}
			}
		})
	}
}

func TestPatternHessianMatchesFiniteDifferencesOfGradient(t *testing.T) {
	for _, c := range derivativeCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 5)
			X, T := randomData(m, 2, 6)
			ws := m.NewWorkspace()
			n := len(m.Params)
			var hess mat.SymDense
			ref := mat.NewDense(n, n, nil)
			for p := range X {
				m.PatternHessian(ws, &hess, X[p], T[p])
				gradAt := func(g, w []float64) {
					withParams(m, w, func() { m.PatternGrad(ws, g, X[p], T[p]) })
				}
				fd.Jacobian(ref, gradAt, m.Params, &fd.JacobianSettings{Formula: fd.Central, Step: fdStep})
				for i := 0; i < n; i++ {
					for j := 0; j < n; j++ {
						want := ref.At(i, j)
						if m.Pruned[j] {
							want = 0 // the finite-difference column moves a pruned parameter
						}
						if !near(hess.At(i, j), want, fdTol) {
							t.Fatalf("pattern %d: H[%d][%d] = %v, finite differences of gradient %v", p, i, j, hess.At(i, j), want)
						}
					}
				}
			}
		})
	}
}

func TestHessVecIsSymmetricAndIgnoresPruned(t *testing.T) {
	for _, c := range derivativeCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 8)
			X, T := randomData(m, 4, 9)
			ws := m.NewWorkspace()
			n := len(m.Params)
			rng := rand.New(rand.NewPCG(10, 10))
			u, v := make([]float64, n), make([]float64, n)
			for i := range u {
				u[i], v[i] = rng.NormFloat64(), rng.NormFloat64()
			}
			hu, hv := make([]float64, n), make([]float64, n)
			m.HessVec(ws, hu, u, X, T)
			m.HessVec(ws, hv, v, X, T)
			// u^T H v = v^T H u holds only for the restriction to free
			// parameters, which is what HessVec computes.
			m.ApplyMask(u, v)
			if a, b := floats.Dot(u, hv), floats.Dot(v, hu); !near(a, b, exactTol*float64(n)) {
				t.Errorf("u^T H v = %v but v^T H u = %v", a, b)
			}
			// Changing v at pruned indices changes nothing.
			w := append([]float64(nil), v...)
			for _, q := range c.pruned {
				w[q] = 1e3
			}
			hw := make([]float64, n)
			m.HessVec(ws, hw, w, X, T)
			if !floats.Equal(hw, hv) {
				t.Errorf("H v depends on pruned entries of v")
			}
		})
	}
}

func TestWholeSetDerivatives(t *testing.T) {
	for _, c := range derivativeCases() {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 12)
			X, T := randomData(m, 5, 13)
			ws := m.NewWorkspace()
			n := len(m.Params)
			grad := make([]float64, n)
			e := m.Grad(ws, grad, X, T)
			if e2 := m.Error(ws, X, T); e != e2 {
				t.Errorf("Grad returned E = %v, Error %v", e, e2)
			}
			E := func(w []float64) (v float64) {
				withParams(m, w, func() { v = m.Error(ws, X, T) })
				return v
			}
			ref := fd.Gradient(nil, E, m.Params, &fd.Settings{Formula: fd.Central, Step: fdStep})
			for q := range grad {
				want := ref[q]
				if m.Pruned[q] {
					want = 0
				}
				if !near(grad[q], want, fdTol) {
					t.Errorf("dE/dw[%d] = %v, finite differences %v", q, grad[q], want)
				}
			}
			var hess mat.SymDense
			m.Hessian(ws, &hess, X, T)
			hr := mat.NewDense(n, n, nil)
			gradAt := func(g, w []float64) {
				withParams(m, w, func() { m.Grad(ws, g, X, T) })
			}
			fd.Jacobian(hr, gradAt, m.Params, &fd.JacobianSettings{Formula: fd.Central, Step: fdStep})
			hv := make([]float64, n)
			v := make([]float64, n)
			for j := 0; j < n; j++ {
				for i := 0; i < n; i++ {
					want := hr.At(i, j)
					if m.Pruned[i] || m.Pruned[j] {
						want = 0
					}
					if !near(hess.At(i, j), want, fdTol) {
						t.Fatalf("H[%d][%d] = %v, finite differences %v", i, j, hess.At(i, j), want)
					}
				}
				// Column j of Hessian equals HessVec(e_j).
				v[j] = 1
				m.HessVec(ws, hv, v, X, T)
				v[j] = 0
				for i := 0; i < n; i++ {
					if !near(hv[i], hess.At(i, j), exactTol*10) {
						t.Fatalf("HessVec(e_%d)[%d] = %v, Hessian %v", j, i, hv[i], hess.At(i, j))
					}
				}
			}
		})
	}
}

// For a linear network with squared error, l_p is quadratic in w and its
// Hessian is exactly J_p^T J_p, the Gauss–Newton term (MATH.md).
func TestLinearSquaredErrorHessianEqualsGaussNewton(t *testing.T) {
	c := netCase{spec: Spec{Sizes: []int{4, 3}, Hidden: Identity, Output: Identity, Loss: SquaredError}, pruned: []int{2}}
	m := randomNet(t, c, 14)
	X, T := randomData(m, 6, 15)
	ws := m.NewWorkspace()
	n := len(m.Params)
	var hess mat.SymDense
	m.Hessian(ws, &hess, X, T)
	ggn := mat.NewSymDense(n, nil)
	var jac mat.Dense
	for p := range X {
		m.OutputJacobian(ws, &jac, X[p])
		var jtj mat.Dense
		jtj.Mul(jac.T(), &jac)
		for i := 0; i < n; i++ {
			for j := i; j < n; j++ {
				ggn.SetSym(i, j, ggn.At(i, j)+jtj.At(i, j)/float64(len(X)))
			}
		}
	}
	if !mat.EqualApprox(&hess, ggn, exactTol) {
		t.Errorf("linear model: exact Hessian\n%v\nis not the Gauss–Newton matrix\n%v", mat.Formatted(&hess), mat.Formatted(ggn))
	}
}

// The output Hessian factor satisfies U U^T = hess_f l, checked against
// finite differences of an independent implementation of l as a function of
// the Gauss–Newton output f.
func TestOutputHessianFactor(t *testing.T) {
	for _, c := range derivativeCases()[:5] { // one hidden activation suffices: L_p depends only on the output
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 16)
			X, T := randomData(m, 3, 17)
			ws := m.NewWorkspace()
			K := m.NumOutputs()
			var u mat.Dense
			for p := range X {
				tp := T[p]
				m.OutputHessianFactor(ws, &u, X[p], floats.Sum(tp))
				m.Forward(ws, X[p])
				f0 := append([]float64(nil), gnOutput(m, ws)...)
				lossOfF := func(f []float64) float64 {
					l := 0.0
					switch m.Loss {
					case SquaredError:
						for k := range f {
							l += 0.5 * (f[k] - tp[k]) * (f[k] - tp[k])
						}
					case BinaryCrossEntropy:
						for k := range f {
							pk := 1 / (1 + math.Exp(-f[k]))
							l -= tp[k]*math.Log(pk) + (1-tp[k])*math.Log(1-pk)
						}
					case CrossEntropy:
						z := 0.0
						for k := range f {
							z += math.Exp(f[k])
						}
						for k := range f {
							l -= tp[k] * (f[k] - math.Log(z))
						}
					}
					return l
				}
				ref := mat.NewSymDense(K, nil)
				fd.Hessian(ref, lossOfF, f0, &fd.Settings{Formula: fd.Central, Step: 1e-4})
				var uut mat.Dense
				uut.Mul(&u, u.T())
				// Second differences with h = 1e-4: error O(h^2) + O(eps/h^2) ~ 1e-8.
				if !mat.EqualApprox(&uut, ref, 1e-6) {
					t.Errorf("pattern %d: U U^T =\n%v\nfinite-difference hess_f l =\n%v", p, mat.Formatted(&uut), mat.Formatted(ref))
				}
			}
		})
	}
}

// The per-pattern functions reuse the workspace: nothing is allocated per
// call, so loops over patterns allocate nothing.
func TestPerPatternFunctionsAllocateNothing(t *testing.T) {
	c := derivativeCases()[0]
	m := randomNet(t, c, 20)
	X, T := randomData(m, 1, 21)
	ws := m.NewWorkspace()
	n := len(m.Params)
	grad, v, hv := make([]float64, n), make([]float64, n), make([]float64, n)
	v[0] = 1
	jac := mat.NewDense(m.NumOutputs(), n, nil)
	hess := mat.NewSymDense(n, nil)
	for name, f := range map[string]func(){
		"Forward":        func() { m.Forward(ws, X[0]) },
		"PatternGrad":    func() { m.PatternGrad(ws, grad, X[0], T[0]) },
		"OutputJacobian": func() { m.OutputJacobian(ws, jac, X[0]) },
		"PatternHessVec": func() { m.PatternHessVec(ws, hv, v, X[0], T[0]) },
		"PatternHessian": func() { m.PatternHessian(ws, hess, X[0], T[0]) },
		"Grad":           func() { m.Grad(ws, grad, X, T) },
	} {
		if a := testing.AllocsPerRun(20, f); a != 0 {
			t.Errorf("%s allocates %v times per call", name, a)
		}
	}
}

// UnitJacobian is the bias columns of OutputJacobian (checked against finite
// differences above), for every unit whose bias is not pruned. (MLPs
// only: a conv channel's bias column sums its units.)
func TestUnitJacobianIsBiasColumns(t *testing.T) {
	for _, c := range derivativeCases() {
		if len(c.spec.Layers) > 0 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 5)
			X, _ := randomData(m, 3, 6)
			ws := m.NewWorkspace()
			K, L := m.NumOutputs(), m.NumLayers()
			H := 0
			for l := 1; l <= L; l++ {
				H += m.Sizes[l]
			}
			got := make([]float64, K*H)
			var jac mat.Dense
			for p := range X {
				m.UnitJacobian(ws, got, X[p])
				m.OutputJacobian(ws, &jac, X[p])
				u := 0
				for l := 1; l <= L; l++ {
					for j := 0; j < m.Sizes[l]; j++ {
						q := m.Index(l, j, m.Sizes[l-1])
						for k := 0; k < K; k++ {
							if !m.Pruned[q] && !near(got[k*H+u], jac.At(k, q), exactTol) {
								t.Errorf("pattern %d: df_%d/dz(%d,%d) = %v, Jacobian's bias column %v", p, k, l, j, got[k*H+u], jac.At(k, q))
							}
						}
						u++
					}
				}
			}
		})
	}
}
