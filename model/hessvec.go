package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// prepare runs the forward and backward passes for (x, t), leaving z, a,
// delta and back in ws for the R-operator, and returns l_p.
func (m *MLP) prepare(ws *Workspace, x, t []float64) float64 {
	loss := m.PatternLoss(ws, x, t)
	m.backprop(ws, ws.grad)
	return loss
}

// hvPrepared writes H_p v into dst after prepare, by Pearlmutter's
// R-operator: a forward pass of R{z}, R{a} followed by a backward pass of
// R{delta}. v's pruned entries are ignored and dst's are set to 0.
func (m *MLP) hvPrepared(ws *Workspace, dst, v []float64, s float64) {
	copy(ws.vbuf, v)
	m.maskZero(ws.vbuf)
	L := len(m.Sizes) - 1
	// R-forward.
	for i := range ws.ra[0] {
		ws.ra[0][i] = 0
	}
	for l := 1; l <= L; l++ {
		w, _ := m.layer(m.Params, l)
		vw, vb := m.layer(ws.vbuf, l)
		rz, ra := ws.rz[l], ws.ra[l]
		blas64.Copy(vb, vec(rz))
		blas64.Gemv(blas.NoTrans, 1, vw, vec(ws.a[l-1]), 1, vec(rz))
		blas64.Gemv(blas.NoTrans, 1, w, vec(ws.ra[l-1]), 1, vec(rz))
		act := m.actOf(l)
		if act == Softmax {
			a := ws.a[l]
			c := floats.Dot(a, rz)
			for i := range ra {
				ra[i] = a[i] * (rz[i] - c)
			}
		} else {
			for i := range ra {
				ra[i] = d1(act, ws.z[l][i], ws.a[l][i]) * rz[i]
			}
		}
	}
	// R{delta_L}: the loss Hessian with respect to z_L applied to R{z_L}.
	rd := ws.rdelta[L]
	switch m.Loss {
	case SquaredError:
		for k := range rd {
			z, a := ws.z[L][k], ws.a[L][k]
			g := d1(m.Output, z, a)
			rd[k] = (g*g + ws.gradF[k]*d2(m.Output, z, a)) * ws.rz[L][k]
		}
	case BinaryCrossEntropy:
		copy(rd, ws.ra[L])
	case CrossEntropy:
		floats.ScaleTo(rd, s, ws.ra[L])
	}
	// R-backward.
	for l := L; l >= 1; l-- {
		w, _ := m.layer(m.Params, l)
		vw, _ := m.layer(ws.vbuf, l)
		hw, hb := m.layer(dst, l)
		d, rdl := ws.delta[l], ws.rdelta[l]
		for j := range hw.Rows {
			row := hw.Data[j*hw.Stride : j*hw.Stride+hw.Cols]
			floats.ScaleTo(row, rdl[j], ws.a[l-1])
			floats.AddScaled(row, d[j], ws.ra[l-1])
		}
		blas64.Copy(vec(rdl), hb)
		if l > 1 {
			prev := ws.rdelta[l-1]
			// prev = V^T delta + W^T R{delta}, then the activation terms.
			blas64.Gemv(blas.Trans, 1, vw, vec(d), 0, vec(prev))
			blas64.Gemv(blas.Trans, 1, w, vec(rdl), 1, vec(prev))
			for i := range prev {
				z, a := ws.z[l-1][i], ws.a[l-1][i]
				prev[i] = d1(m.Hidden, z, a)*prev[i] + d2(m.Hidden, z, a)*ws.rz[l-1][i]*ws.back[l-1][i]
			}
		}
	}
	m.maskZero(dst)
}

// PatternHessVec writes H_p v, the exact Hessian of l_p (no weight decay)
// times v, into dst and returns l_p. Pruned entries of v are ignored and
// those of dst are 0.
func (m *MLP) PatternHessVec(ws *Workspace, dst, v, x, t []float64) float64 {
	m.checkParamLen("Hessian-vector product", dst)
	m.checkParamLen("direction", v)
	loss := m.prepare(ws, x, t)
	m.hvPrepared(ws, dst, v, floats.Sum(t))
	return loss
}

// sizeHessian resizes an empty hess to n x n, checks a non-empty one, and
// zeroes it.
func (m *MLP) sizeHessian(hess *mat.SymDense) {
	n := len(m.Params)
	if hess.IsEmpty() {
		hess.ReuseAsSym(n)
	}
	if hess.SymmetricDim() != n {
		panic(fmt.Sprintf("model: Hessian has size %d, want %d", hess.SymmetricDim(), n))
	}
	hess.Zero()
}

// addPatternHessian adds scale * hess l_p for the pattern (x, t) to the
// upper triangle of hess, column q being the exact product H_p e_q, and
// returns l_p. Pruned rows and columns get nothing.
func (m *MLP) addPatternHessian(ws *Workspace, hess *mat.SymDense, x, t []float64, scale float64) float64 {
	raw := hess.RawSymmetric()
	loss := m.prepare(ws, x, t)
	s := floats.Sum(t)
	e, col := ws.unit, ws.col
	for q := range m.Params {
		if m.Pruned[q] {
			continue
		}
		e[q] = 1
		m.hvPrepared(ws, col, e, s)
		e[q] = 0
		for i := 0; i <= q; i++ {
			raw.Data[i*raw.Stride+q] += scale * col[i]
		}
	}
	return loss
}

// PatternHessian writes the exact Hessian of l_p (n x n, no weight decay)
// into hess, one exact Hessian-vector product per unpruned parameter, and
// returns l_p. Rows and columns of pruned parameters are 0. An empty hess is
// resized. Column q is H_p e_q; the matrix is symmetric because H_p is, and
// the upper triangle is the one stored.
func (m *MLP) PatternHessian(ws *Workspace, hess *mat.SymDense, x, t []float64) float64 {
	m.sizeHessian(hess)
	return m.addPatternHessian(ws, hess, x, t, 1)
}

// HessianBlocks writes into dst[b] the exact Hessian of E,
// H = (1/P) sum_p hess l_p + Decay I, restricted to the parameters
// blocks[b] (rows and columns in that order), and returns E(w). No n x n
// matrix is formed: for each pattern one forward and backward pass, then
// one exact Hessian-vector product H_p e_q (Pearlmutter's R-operator, about
// the cost of two more passes) for every parameter q of every block, whose
// entries in q's own block are kept. The time is that of the dense exact
// Hessian, O(P nf n) for nf = the parameters in blocks; the memory is the
// blocks' (sum of their squared sizes) and one vector of n. An empty dst[b]
// is resized; every parameter in blocks must be unpruned.
func (m *MLP) HessianBlocks(ws *Workspace, dst []*mat.SymDense, blocks [][]int, X, T [][]float64) float64 {
	m.checkSet(X, T)
	if len(dst) != len(blocks) {
		panic(fmt.Sprintf("model: %d destination blocks for %d blocks", len(dst), len(blocks)))
	}
	for b, idx := range blocks {
		if dst[b].IsEmpty() {
			dst[b].ReuseAsSym(len(idx))
		}
		if dst[b].SymmetricDim() != len(idx) {
			panic(fmt.Sprintf("model: block %d has size %d, want %d", b, dst[b].SymmetricDim(), len(idx)))
		}
		for _, q := range idx {
			if m.Pruned[q] {
				panic(fmt.Sprintf("model: HessianBlocks given the pruned parameter %d", q))
			}
		}
		dst[b].Zero()
	}
	P := float64(len(X))
	invP := 1 / P
	sum := 0.0
	e, col := ws.unit, ws.col
	for p := range X {
		sum += m.prepare(ws, X[p], T[p])
		s := floats.Sum(T[p])
		for b, idx := range blocks {
			raw := dst[b].RawSymmetric()
			for a, q := range idx {
				e[q] = 1
				m.hvPrepared(ws, col, e, s)
				e[q] = 0
				for c := 0; c <= a; c++ {
					raw.Data[c*raw.Stride+a] += invP * col[idx[c]]
				}
			}
		}
	}
	for b, idx := range blocks {
		raw := dst[b].RawSymmetric()
		for a := range idx {
			raw.Data[a*raw.Stride+a] += m.Decay
		}
	}
	return sum/P + m.decayTerm()
}
