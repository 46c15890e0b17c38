package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Workspace holds the per-pattern state of forward, backward and R-operator
// passes, so that loops over patterns allocate nothing. A Workspace belongs
// to one network shape and must not be shared between goroutines.
type Workspace struct {
	// Per point k of the network (k = 0 the input, k+1 the output of
	// layers[k]): the value, its cotangent dl/dval, and their R{.}.
	val, cot, rval, rcot [][]float64
	out, rout            []float64   // a_L = the output activation of val[last], R{a_L}
	z, a                 [][]float64 // views: z[l] the output of weight layer l, a[l-1] its input, a[L] = out
	gradF                []float64   // grad_f l at the last forward
	grad                 []float64   // length n: per-pattern gradient scratch
	vbuf                 []float64   // length n: masked copy of a direction v
	unit                 []float64   // length n: unit vector e_q, zero between uses
	col                  []float64   // length n: one Hessian column
	loss                 float64
	widths               []int // widths of val
}

// widths returns the widths of the points of the network: the input, then
// every layer's output.
func (m *MLP) widths() []int {
	w := []int{m.layers[0].In()}
	for _, ly := range m.layers {
		w = append(w, ly.Out())
	}
	return w
}

// NewWorkspace returns a workspace for m's shape.
func (m *MLP) NewWorkspace() *Workspace {
	ws := &Workspace{widths: m.widths()}
	alloc := func() [][]float64 {
		v := make([][]float64, len(ws.widths))
		for k, s := range ws.widths {
			v[k] = make([]float64, s)
		}
		return v
	}
	ws.val, ws.cot, ws.rval, ws.rcot = alloc(), alloc(), alloc(), alloc()
	L := m.NumLayers()
	ws.z, ws.a = make([][]float64, L+1), make([][]float64, L+1)
	for l := 1; l <= L; l++ {
		k := m.pidx[l-1]
		ws.a[l-1], ws.z[l] = ws.val[k], ws.val[k+1]
	}
	ws.out = make([]float64, m.NumOutputs())
	ws.rout = make([]float64, m.NumOutputs())
	ws.a[L] = ws.out
	ws.gradF = make([]float64, m.NumOutputs())
	ws.grad = make([]float64, len(m.Params))
	ws.vbuf = make([]float64, len(m.Params))
	ws.unit = make([]float64, len(m.Params))
	ws.col = make([]float64, len(m.Params))
	return ws
}

// Activations returns the activations a_0 (the input), ..., a_L of the last
// forward pass made with ws (by Forward, OutputJacobian, ...), one slice per
// weight layer's input and the output. The slices are views into ws, valid
// until its next use.
func (ws *Workspace) Activations() [][]float64 { return ws.a }

func (m *MLP) checkWorkspace(ws *Workspace) {
	if len(ws.widths) != len(m.layers)+1 || len(ws.grad) != len(m.Params) {
		panic("model: workspace does not match network shape")
	}
	if ws.widths[0] != m.layers[0].In() {
		panic("model: workspace does not match network shape")
	}
	for k, ly := range m.layers {
		if ws.widths[k+1] != ly.Out() {
			panic("model: workspace does not match network shape")
		}
	}
}

// Forward computes the network's prediction for input x: the output
// activations a_L (probabilities for bce and ce). The returned slice is a
// view into ws, valid until its next use.
func (m *MLP) Forward(ws *Workspace, x []float64) []float64 {
	m.checkWorkspace(ws)
	if len(x) != m.NumInputs() {
		panic(fmt.Sprintf("model: input has %d values, network takes %d", len(x), m.NumInputs()))
	}
	copy(ws.val[0], x)
	for k, ly := range m.layers {
		ly.Forward(ws.val[k+1], ws.val[k], m.block(m.Params, k))
	}
	m.outputActivate(ws.out, ws.val[len(m.layers)])
	return ws.out
}

// lossAt computes l_p, grad_f l_p and dl/dz_L from the last forward pass.
func (m *MLP) lossAt(ws *Workspace, t []float64) float64 {
	nl := len(m.layers)
	if len(t) != len(ws.out) {
		panic(fmt.Sprintf("model: target has %d values, network has %d outputs", len(t), len(ws.out)))
	}
	ws.loss = m.outputLoss(ws.val[nl], ws.out, t, ws.gradF, ws.cot[nl])
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

// backprop propagates ws.cot[last] = dl/dz_L (already set) down the
// layers and writes the parameter gradient into dst, zeroing pruned
// entries; with dst nil it only propagates. It leaves every cotangent in
// ws.cot for the R-operator.
func (m *MLP) backprop(ws *Workspace, dst []float64) {
	first := m.pidx[0]
	for k := len(m.layers) - 1; k >= first; k-- {
		var gx, gtheta []float64
		if k > first {
			gx = ws.cot[k]
		}
		if dst != nil {
			gtheta = m.block(dst, k)
		}
		m.layers[k].Backward(gx, gtheta, ws.cot[k+1], ws.val[k], ws.val[k+1], m.block(m.Params, k))
	}
	if dst != nil {
		m.maskZero(dst)
	}
}

// seedOutput sets d = df_k/dz_L after a forward pass: e_k, times
// phi'(z_L) for squared error, whose f is a_L.
func (m *MLP) seedOutput(ws *Workspace, d []float64, k int) {
	for i := range d {
		d[i] = 0
	}
	if m.Loss == SquaredError {
		d[k] = d1(m.Output, ws.val[len(m.layers)][k], ws.out[k])
	} else {
		d[k] = 1
	}
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
	nl := len(m.layers)
	raw := jac.RawMatrix()
	for k := 0; k < K; k++ {
		m.seedOutput(ws, ws.cot[nl], k)
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
	nl := len(m.layers)
	K, H := m.NumOutputs(), 0
	for _, k := range m.pidx {
		H += m.layers[k].Out()
	}
	if len(dst) != K*H {
		panic(fmt.Sprintf("model: unit Jacobian has %d entries, want %d x %d", len(dst), K, H))
	}
	m.Forward(ws, x)
	for k := 0; k < K; k++ {
		m.seedOutput(ws, ws.cot[nl], k)
		m.backprop(ws, nil)
		row := dst[k*H : (k+1)*H]
		off := 0
		for _, j := range m.pidx {
			copy(row[off:], ws.cot[j+1])
			off += m.layers[j].Out()
		}
	}
}
