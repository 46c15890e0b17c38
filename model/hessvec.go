package model

import (
	"fmt"

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

// hvPrepared writes H_p v into dst after prepare, for the pattern's
// targets t, by Pearlmutter's R-operator: a forward pass of the layers'
// tangents (Tangent) followed by a backward pass of their R{cotangents}
// (BackwardTangent). v's pruned entries are ignored and dst's are set to 0.
func (m *MLP) hvPrepared(ws *Workspace, dst, v, t []float64) {
	copy(ws.vbuf, v)
	m.maskZero(ws.vbuf)
	nl := len(m.layers)
	// R-forward; ws.rval[0], the input's tangent, stays 0.
	for k, ly := range m.layers {
		ly.Tangent(ws.rval[k+1], ws.val[k], ws.val[k+1], ws.rval[k], m.block(m.Params, k), m.block(ws.vbuf, k))
	}
	m.outputTangent(ws.rout, ws.val[nl], ws.out, ws.rval[nl])
	m.outputRDelta(ws.rcot[nl], ws.val[nl], ws.out, ws.rval[nl], ws.rout, t, 1)
	// R-backward.
	first := m.pidx[0]
	for k := nl - 1; k >= first; k-- {
		var rgx []float64
		if k > first {
			rgx = ws.rcot[k]
		}
		m.layers[k].BackwardTangent(rgx, m.block(dst, k), ws.val[k], ws.val[k+1], ws.rval[k], ws.cot[k+1], ws.rcot[k+1], m.block(m.Params, k), m.block(ws.vbuf, k))
	}
	m.maskZero(dst)
}

// outputTangent sets ra = R{a_L}, the output activation's tangent, from
// z = z_L, a = a_L and rz = R{z_L}, for one or more patterns (rows of K).
func (m *MLP) outputTangent(ra, z, a, rz []float64) {
	if m.Output != Softmax {
		for i, v := range rz {
			ra[i] = d1(m.Output, z[i], a[i]) * v
		}
		return
	}
	K := m.NumOutputs()
	for o := 0; o < len(rz); o += K {
		ap, rzp := a[o:o+K], rz[o:o+K]
		c := floats.Dot(ap, rzp)
		for i := range rzp {
			ra[o+i] = ap[i] * (rzp[i] - c)
		}
	}
}

// outputRDelta sets rd = scale R{dl/dz_L}, the loss Hessian with respect
// to z_L applied to R{z_L}, for one pattern with targets t, from z = z_L,
// a = a_L, rz = R{z_L} and ra = R{a_L}.
func (m *MLP) outputRDelta(rd, z, a, rz, ra, t []float64, scale float64) {
	switch m.Loss {
	case SquaredError:
		for k := range rd {
			g := d1(m.Output, z[k], a[k])
			rd[k] = scale * (g*g + (a[k]-t[k])*d2(m.Output, z[k], a[k])) * rz[k]
		}
	case BinaryCrossEntropy:
		floats.ScaleTo(rd, scale, ra)
	case CrossEntropy:
		floats.ScaleTo(rd, scale*floats.Sum(t), ra)
	}
}

// PatternHessVec writes H_p v, the exact Hessian of l_p (no weight decay)
// times v, into dst and returns l_p. Pruned entries of v are ignored and
// those of dst are 0.
func (m *MLP) PatternHessVec(ws *Workspace, dst, v, x, t []float64) float64 {
	m.checkParamLen("Hessian-vector product", dst)
	m.checkParamLen("direction", v)
	loss := m.prepare(ws, x, t)
	m.hvPrepared(ws, dst, v, t)
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
	e, col := ws.unit, ws.col
	for q := range m.Params {
		if m.Pruned[q] {
			continue
		}
		e[q] = 1
		m.hvPrepared(ws, col, e, t)
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
		for b, idx := range blocks {
			raw := dst[b].RawSymmetric()
			for a, q := range idx {
				e[q] = 1
				m.hvPrepared(ws, col, e, T[p])
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
