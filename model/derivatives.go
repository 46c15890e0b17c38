package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Workspace holds the per-pattern state of forward, backward and R-operator
// passes, so that loops over patterns allocate nothing. A Workspace belongs
// to one network shape and must not be shared between goroutines.
type Workspace struct {
	z, a   [][]float64 // pre- and post-activations per layer; a[0] is the input
	delta  [][]float64 // dl/dz per layer
	back   [][]float64 // W_l^T delta_l per layer l (indexed by l-1's size)
	rz, ra [][]float64 // R{z}, R{a}
	rdelta [][]float64 // R{delta}
	gradF  []float64   // grad_f l at the last forward
	outJ   []float64   // K-vector: df_k/dz_L for one k
	grad   []float64   // length n: per-pattern gradient scratch
	vbuf   []float64   // length n: masked copy of a direction v
	unit   []float64   // length n: unit vector e_q, zero between uses
	col    []float64   // length n: one Hessian column
	loss   float64
	sizes  []int
}

// NewWorkspace returns a workspace for m's shape.
func (m *MLP) NewWorkspace() *Workspace {
	L := len(m.Sizes)
	ws := &Workspace{sizes: append([]int(nil), m.Sizes...)}
	alloc := func() [][]float64 {
		v := make([][]float64, L)
		for l, s := range m.Sizes {
			v[l] = make([]float64, s)
		}
		return v
	}
	ws.z, ws.a, ws.delta, ws.back = alloc(), alloc(), alloc(), alloc()
	ws.rz, ws.ra, ws.rdelta = alloc(), alloc(), alloc()
	ws.gradF = make([]float64, m.NumOutputs())
	ws.outJ = make([]float64, m.NumOutputs())
	ws.grad = make([]float64, len(m.Params))
	ws.vbuf = make([]float64, len(m.Params))
	ws.unit = make([]float64, len(m.Params))
	ws.col = make([]float64, len(m.Params))
	return ws
}

// Activations returns the activations a_0 (the input), ..., a_L of the last
// forward pass made with ws (by Forward, OutputJacobian, ...), one slice per
// layer. The slices are views into ws, valid until its next use.
func (ws *Workspace) Activations() [][]float64 { return ws.a }

func (m *MLP) checkWorkspace(ws *Workspace) {
	if len(ws.sizes) != len(m.Sizes) || len(ws.grad) != len(m.Params) {
		panic("model: workspace does not match network shape")
	}
	for i, s := range m.Sizes {
		if ws.sizes[i] != s {
			panic("model: workspace does not match network shape")
		}
	}
}

func vec(x []float64) blas64.Vector { return blas64.Vector{N: len(x), Inc: 1, Data: x} }

// activate sets a = phi(z) for an elementwise activation or softmax.
func activate(act Activation, a, z []float64) {
	switch act {
	case Identity:
		copy(a, z)
	case Sigmoid:
		for i, v := range z {
			a[i] = sigmoid(v)
		}
	case Tanh:
		for i, v := range z {
			a[i] = math.Tanh(v)
		}
	case ReLU:
		for i, v := range z {
			a[i] = math.Max(v, 0)
		}
	case Softmax:
		lse := floats.LogSumExp(z)
		for i, v := range z {
			a[i] = math.Exp(v - lse)
		}
	default:
		panic(fmt.Sprintf("model: unknown activation %v", act))
	}
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus returns log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// d1 and d2 return the first and second derivatives of an elementwise activation, given
// z and a = phi(z).
func d1(act Activation, z, a float64) float64 {
	switch act {
	case Sigmoid:
		return a * (1 - a)
	case Tanh:
		return 1 - a*a
	case ReLU:
		if z > 0 {
			return 1
		}
		return 0
	default:
		return 1
	}
}

func d2(act Activation, z, a float64) float64 {
	switch act {
	case Sigmoid:
		return a * (1 - a) * (1 - 2*a)
	case Tanh:
		return -2 * a * (1 - a*a)
	default:
		return 0
	}
}

func (m *MLP) actOf(l int) Activation {
	if l == len(m.Sizes)-1 {
		return m.Output
	}
	return m.Hidden
}

// Forward computes the network's prediction for input x: the output
// activations a_L (probabilities for bce and ce). The returned slice is a
// view into ws, valid until its next use.
func (m *MLP) Forward(ws *Workspace, x []float64) []float64 {
	m.checkWorkspace(ws)
	if len(x) != m.Sizes[0] {
		panic(fmt.Sprintf("model: input has %d values, network takes %d", len(x), m.Sizes[0]))
	}
	copy(ws.a[0], x)
	for l := 1; l < len(m.Sizes); l++ {
		w, b := m.layer(m.Params, l)
		z := ws.z[l]
		blas64.Copy(b, vec(z))
		blas64.Gemv(blas.NoTrans, 1, w, vec(ws.a[l-1]), 1, vec(z))
		activate(m.actOf(l), ws.a[l], z)
	}
	return ws.a[len(m.Sizes)-1]
}

// lossAt computes l_p, grad_f l_p and dl/dz_L from the last forward pass.
func (m *MLP) lossAt(ws *Workspace, t []float64) float64 {
	L := len(m.Sizes) - 1
	if len(t) != m.Sizes[L] {
		panic(fmt.Sprintf("model: target has %d values, network has %d outputs", len(t), m.Sizes[L]))
	}
	ws.loss = m.outputLoss(ws.z[L], ws.a[L], t, ws.gradF, ws.delta[L])
	return ws.loss
}

// outputLoss returns l for one pattern's output pre-activations z,
// activations a and targets t, and writes grad_f l into gradF and dl/dz_L
// into dz.
func (m *MLP) outputLoss(z, a, t, gradF, dz []float64) float64 {
	loss := 0.0
	switch m.Loss {
	case SquaredError:
		for k := range a {
			r := a[k] - t[k]
			loss += 0.5 * r * r
			gradF[k] = r
			dz[k] = r * d1(m.Output, z[k], a[k])
		}
	case BinaryCrossEntropy:
		for k := range a {
			loss += softplus(z[k]) - t[k]*z[k]
			gradF[k] = a[k] - t[k]
			dz[k] = gradF[k]
		}
	case CrossEntropy:
		s := floats.Sum(t)
		loss = s*floats.LogSumExp(z) - floats.Dot(t, z)
		for k := range a {
			gradF[k] = s*a[k] - t[k]
			dz[k] = gradF[k]
		}
	}
	return loss
}

// backprop propagates ws.delta[L] (already set) down the network and writes
// the parameter gradient into dst, zeroing pruned entries. It also fills
// ws.back and every ws.delta[l].
func (m *MLP) backprop(ws *Workspace, dst []float64) {
	for l := len(m.Sizes) - 1; l >= 1; l-- {
		w, _ := m.layer(m.Params, l)
		gw, gb := m.layer(dst, l)
		d := ws.delta[l]
		for j := range gw.Rows {
			floats.ScaleTo(gw.Data[j*gw.Stride:j*gw.Stride+gw.Cols], d[j], ws.a[l-1])
		}
		blas64.Copy(vec(d), gb)
		back := ws.back[l-1]
		blas64.Gemv(blas.Trans, 1, w, vec(d), 0, vec(back))
		if l > 1 {
			act := m.Hidden
			for i, v := range back {
				ws.delta[l-1][i] = v * d1(act, ws.z[l-1][i], ws.a[l-1][i])
			}
		}
	}
	m.maskZero(dst)
}

func (m *MLP) maskZero(v []float64) {
	for q, p := range m.Pruned {
		if p {
			v[q] = 0
		}
	}
}

func (m *MLP) checkParamLen(name string, v []float64) {
	if len(v) != len(m.Params) {
		panic(fmt.Sprintf("model: %s has length %d, want %d parameters", name, len(v), len(m.Params)))
	}
}

// PatternLoss returns l_p for the pattern (x, t), without weight decay.
func (m *MLP) PatternLoss(ws *Workspace, x, t []float64) float64 {
	m.Forward(ws, x)
	return m.lossAt(ws, t)
}

// PatternGrad writes g_p = grad_w l_p(w) for the pattern (x, t) into grad
// (length n; pruned entries 0, no weight decay) and returns l_p.
func (m *MLP) PatternGrad(ws *Workspace, grad, x, t []float64) float64 {
	m.checkParamLen("gradient", grad)
	loss := m.PatternLoss(ws, x, t)
	m.backprop(ws, grad)
	return loss
}

// OutputGrad writes grad_f l_p, the gradient of the loss with respect to the
// Gauss–Newton output f (see the package documentation), into dst (length K)
// and returns l_p. For squared error this is the residual r_p = a_L - t.
func (m *MLP) OutputGrad(ws *Workspace, dst, x, t []float64) float64 {
	loss := m.PatternLoss(ws, x, t)
	copy(dst, ws.gradF)
	return loss
}

// OutputHessianFactor writes into u (K x K; an empty u is resized) a matrix
// U with U U^T = L_p = hess_f l_p, the loss Hessian with respect to the
// Gauss–Newton output f, at input x with targets summing to s (s is 1 for a
// probability vector; only ce uses it):
//
//	squared error: U = I
//	bce:           U = diag(sqrt(pi_k (1 - pi_k)))
//	ce:            column k of U is sqrt(s pi_k) (e_k - pi)
//
// so that the Gauss–Newton matrix is a sum of rank-1 terms (J_p^T u_k)(J_p^T u_k)^T.
func (m *MLP) OutputHessianFactor(ws *Workspace, u *mat.Dense, x []float64, s float64) {
	K := m.NumOutputs()
	if u.IsEmpty() {
		u.ReuseAs(K, K)
	}
	if r, c := u.Dims(); r != K || c != K {
		panic(fmt.Sprintf("model: output Hessian factor is %dx%d, want %dx%d", r, c, K, K))
	}
	pi := m.Forward(ws, x)
	u.Zero()
	switch m.Loss {
	case SquaredError:
		for k := 0; k < K; k++ {
			u.Set(k, k, 1)
		}
	case BinaryCrossEntropy:
		for k := 0; k < K; k++ {
			u.Set(k, k, math.Sqrt(pi[k]*(1-pi[k])))
		}
	case CrossEntropy:
		for k := 0; k < K; k++ {
			c := math.Sqrt(s * pi[k])
			for i := 0; i < K; i++ {
				e := 0.0
				if i == k {
					e = 1
				}
				u.Set(i, k, c*(e-pi[i]))
			}
		}
	}
}

// OutputJacobian writes J_p = df/dw (K x n; an empty jac is resized), the
// Jacobian of the Gauss–Newton output f at input x, into jac. Columns of
// pruned parameters are 0.
func (m *MLP) OutputJacobian(ws *Workspace, jac *mat.Dense, x []float64) {
	K, n := m.NumOutputs(), len(m.Params)
	if jac.IsEmpty() {
		jac.ReuseAs(K, n)
	}
	if r, c := jac.Dims(); r != K || c != n {
		panic(fmt.Sprintf("model: Jacobian is %dx%d, want %dx%d", r, c, K, n))
	}
	m.Forward(ws, x)
	L := len(m.Sizes) - 1
	raw := jac.RawMatrix()
	for k := 0; k < K; k++ {
		// df_k/dz_L.
		for i := range ws.outJ {
			ws.outJ[i] = 0
		}
		if m.Loss == SquaredError {
			ws.outJ[k] = d1(m.Output, ws.z[L][k], ws.a[L][k])
		} else {
			ws.outJ[k] = 1
		}
		copy(ws.delta[L], ws.outJ)
		m.backprop(ws, raw.Data[k*raw.Stride:k*raw.Stride+n])
	}
}

// UnitOutput returns the activation of unit j of layer l (0 is the input
// layer) for input x.
func (m *MLP) UnitOutput(ws *Workspace, x []float64, l, j int) float64 {
	m.Forward(ws, x)
	return ws.a[l][j]
}

// UnitJacobian writes df/dz for every unit of layers 1..L at input x into
// dst, a K x H row-major matrix (H = Sizes[1] + ... + Sizes[L], layer 1's
// units first): dst[k*H+u] = df_k/dz_u, the bias columns of OutputJacobian,
// at O(K sum_l n_l n_{l-1}) instead of OutputJacobian's O(K n). It panics if
// len(dst) != K H.
func (m *MLP) UnitJacobian(ws *Workspace, dst, x []float64) {
	L := len(m.Sizes) - 1
	K, H := m.NumOutputs(), 0
	for l := 1; l <= L; l++ {
		H += m.Sizes[l]
	}
	if len(dst) != K*H {
		panic(fmt.Sprintf("model: unit Jacobian has %d entries, want %d x %d", len(dst), K, H))
	}
	m.Forward(ws, x)
	for k := 0; k < K; k++ {
		row := dst[k*H : (k+1)*H]
		d := ws.delta[L]
		for i := range d {
			d[i] = 0
		}
		if m.Loss == SquaredError {
			d[k] = d1(m.Output, ws.z[L][k], ws.a[L][k])
		} else {
			d[k] = 1
		}
		off := H - m.Sizes[L]
		copy(row[off:], d)
		for l := L; l >= 2; l-- {
			w, _ := m.layer(m.Params, l)
			back := ws.back[l-1]
			blas64.Gemv(blas.Trans, 1, w, vec(ws.delta[l]), 0, vec(back))
			for i, v := range back {
				ws.delta[l-1][i] = v * d1(m.Hidden, ws.z[l-1][i], ws.a[l-1][i])
			}
			off -= m.Sizes[l-1]
			copy(row[off:], ws.delta[l-1])
		}
	}
}
