package model

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/internal/parallel"
)

// batchHV computes exact Hessian-vector products H v of E (the same H as
// HessVec: (1/P) sum_p hess l_p + Decay I over the unpruned parameters) by
// Pearlmutter's R-operator over blocks of evalChunk patterns at once, as
// matrix products through gonum's BLAS, the way batchGrad computes the
// gradient. For a block of r patterns with activations A_l, pre-activations
// Z_l and deltas D_l (r x Sizes[l], one row per pattern) and a direction
// with weights V_l and biases c_l:
//
//	R-forward:  RZ_l = A_{l-1} V_l^T + RA_{l-1} W_l^T + 1 c_l^T, RA_0 = 0,
//	            RA_l = phi'(Z_l) .* RZ_l (softmax: row by row);
//	output:     RD_L = the loss Hessian in z_L times RZ_L, row by row;
//	R-backward: H_W_l += RD_l^T A_{l-1} + D_l^T RA_{l-1},  H_c_l += 1^T RD_l,
//	            RD_{l-1} = phi'(Z_{l-1}) .* (D_l V_l + RD_l W_l)
//	                       + phi''(Z_{l-1}) .* RZ_{l-1} .* (D_l W_l),
//
// the rows of hvPrepared's vector recurrences stacked. D and RD carry the
// factor 1/P, so the blocks' products add up to H v - Decay v directly.
//
// The patterns are cut into blocks of at most evalChunk patterns, as many
// as a multiple of hvChunks and of nearly equal sizes; block b belongs to
// lane b mod hvChunks. The lanes run on their own goroutines (the
// element-wise and sparse parts are serial within a block) with their own
// scratch and partial sums, added in lane order, so the result does not
// depend on the number of cores.
//
// prepare runs the forward and backward passes once at the current
// parameters and keeps them (A, Z, D and D_l W_l of every block: about
// P (Sizes[0] + 4 sum of the other sizes) floats); every product then runs
// only the R passes, about twice a gradient's matrix work. With sparse set,
// layer 1 works over the non-zero inputs only, as batchGradSparse does.
type batchHV struct {
	m      *MLP
	sparse bool
	X, T   [][]float64
	blocks []*batchWork // A, Z, D (times 1/P) of each block
	start  []int        // first pattern of each block
	bk     [][]blas64.General
	loss   []float64 // sum of l_p over each block
	lanes  []*hvLane
	e      float64   // E at the prepared parameters
	vbuf   []float64 // the direction with pruned entries zeroed
	vt     []float64 // sparse: V_1^T
}

// hvLane is one lane's blocks, scratch of the R passes and partial sums.
type hvLane struct {
	blocks     []int
	rz, ra, rd []blas64.General
	out        []float64 // partial (H - Decay I) v
	wt, gwt    []float64 // sparse: W_1^T scratch and the partial layer-1 product, transposed
}

// newBatchHV returns a batchHV for m's shape and the set X, T; call prepare
// before products.
func (m *MLP) newBatchHV(X, T [][]float64, sparse bool) *batchHV {
	m.checkSet(X, T)
	h := &batchHV{m: m, sparse: sparse, X: X, T: T, vbuf: make([]float64, len(m.Params))}
	L := len(m.Sizes)
	P := len(X)
	nb := hvChunks * ((P + evalChunk*hvChunks - 1) / (evalChunk * hvChunks))
	bs := (P + nb - 1) / nb
	g := func(r, c int) blas64.General {
		return blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
	}
	if sparse {
		h.vt = make([]float64, m.Sizes[0]*m.Sizes[1])
	}
	for range min(hvChunks, P) {
		ln := &hvLane{out: make([]float64, len(m.Params))}
		ln.rz, ln.ra, ln.rd = make([]blas64.General, L), make([]blas64.General, L), make([]blas64.General, L)
		for l := 1; l < L; l++ {
			ln.rz[l], ln.ra[l], ln.rd[l] = g(bs, m.Sizes[l]), g(bs, m.Sizes[l]), g(bs, m.Sizes[l])
		}
		if sparse {
			ln.wt = make([]float64, m.Sizes[0]*m.Sizes[1])
			ln.gwt = make([]float64, m.Sizes[0]*m.Sizes[1])
		}
		h.lanes = append(h.lanes, ln)
	}
	for p0 := 0; p0 < P; p0 += bs {
		r := min(bs, P-p0)
		ln := h.lanes[len(h.blocks)%len(h.lanes)]
		ln.blocks = append(ln.blocks, len(h.blocks))
		bw := m.newBatchWork(r)
		bw.sparse, bw.wt = sparse, ln.wt // wt is only scratch of forwardBatch
		h.blocks = append(h.blocks, bw)
		h.start = append(h.start, p0)
		bk := make([]blas64.General, L)
		for l := 1; l < L-1; l++ {
			bk[l] = g(r, m.Sizes[l])
		}
		h.bk = append(h.bk, bk)
	}
	h.loss = make([]float64, len(h.blocks))
	return h
}

// forLanes runs fn for every lane on GOMAXPROCS goroutines.
func (h *batchHV) forLanes(fn func(ln *hvLane)) {
	_ = parallel.For(len(h.lanes), 0, nil, nil, func(k int) error {
		fn(h.lanes[k])
		return nil
	})
}

// prepare runs the forward and backward passes of every block at m's
// current parameters and returns E there (with weight decay).
func (h *batchHV) prepare() float64 {
	m := h.m
	L := len(m.Sizes) - 1
	K := m.Sizes[L]
	invP := 1 / float64(len(h.X))
	h.forLanes(func(ln *hvLane) {
		for _, b := range ln.blocks {
			bw := h.blocks[b]
			p0 := h.start[b]
			X, T := h.X[p0:p0+bw.rows], h.T[p0:p0+bw.rows]
			m.forwardBatch(bw, X)
			zL, aL, dL := bw.z[L], bw.a[L], bw.d[L]
			sum := 0.0
			for p := range X {
				o := p * K
				sum += m.outputLoss(zL.Data[o:o+K], aL.Data[o:o+K], T[p], bw.gradF, dL.Data[o:o+K])
			}
			h.loss[b] = sum
			floats.Scale(invP, dL.Data)
			for l := L; l > 1; l-- {
				w, _ := m.layer(m.Params, l)
				bk := h.bk[b][l-1]
				gemm(blas.NoTrans, blas.NoTrans, bw.d[l], w, 0, bk) // D_l W_l
				z, a, d := bw.z[l-1], bw.a[l-1], bw.d[l-1]
				for i, v := range bk.Data {
					d.Data[i] = v * d1(m.Hidden, z.Data[i], a.Data[i])
				}
			}
		}
	})
	sum := 0.0
	for _, l := range h.loss {
		sum += l
	}
	h.e = sum*invP + m.decayTerm()
	return h.e
}

// product writes H v into dst at the parameters of the last prepare (which
// must not have changed since). Pruned entries of v are ignored and those of
// dst are 0.
func (h *batchHV) product(dst, v []float64) {
	m := h.m
	m.checkParamLen("Hessian-vector product", dst)
	m.checkParamLen("direction", v)
	copy(h.vbuf, v)
	m.maskZero(h.vbuf)
	n0, n1 := m.Sizes[0], m.Sizes[1]
	if h.sparse {
		vw, _ := m.layer(h.vbuf, 1)
		for j := 0; j < n1; j++ {
			for i := 0; i < n0; i++ {
				h.vt[i*n1+j] = vw.Data[j*vw.Stride+i]
			}
		}
	}
	h.forLanes(func(ln *hvLane) {
		for i := range ln.out {
			ln.out[i] = 0
		}
		for i := range ln.gwt {
			ln.gwt[i] = 0
		}
		for _, b := range ln.blocks {
			h.blockProduct(b, ln)
		}
	})
	copy(dst, h.lanes[0].out)
	for _, ln := range h.lanes[1:] {
		floats.Add(dst, ln.out)
		if h.sparse {
			floats.Add(h.lanes[0].gwt, ln.gwt)
		}
	}
	if h.sparse {
		gwt := h.lanes[0].gwt
		hw, _ := m.layer(dst, 1)
		for j := 0; j < n1; j++ {
			for i := 0; i < n0; i++ {
				hw.Data[j*hw.Stride+i] = gwt[i*n1+j]
			}
		}
	}
	if m.Decay != 0 {
		floats.AddScaled(dst, m.Decay, v)
	}
	m.maskZero(dst)
}

// blockProduct adds block b's part of (H - Decay I) v (h.vbuf) to ln.out,
// or for sparse layer 1 to ln.gwt.
func (h *batchHV) blockProduct(b int, ln *hvLane) {
	m := h.m
	bw := h.blocks[b]
	r := bw.rows
	p0 := h.start[b]
	dst := ln.out
	X, T := h.X[p0:p0+r], h.T[p0:p0+r]
	L := len(m.Sizes) - 1
	n1 := m.Sizes[1]
	// R-forward.
	for l := 1; l <= L; l++ {
		w, _ := m.layer(m.Params, l)
		vw, vb := m.layer(h.vbuf, l)
		rz, ra := rowsOf(ln.rz[l], r), rowsOf(ln.ra[l], r)
		nl := m.Sizes[l]
		for p := range r {
			blas64.Copy(vb, vec(rz.Data[p*rz.Stride:p*rz.Stride+nl]))
		}
		if l == 1 && h.sparse {
			addSparseRows(rz, X, h.vt, n1)
		} else {
			gemm(blas.NoTrans, blas.Trans, bw.a[l-1], vw, 1, rz) // += A V^T
		}
		if l > 1 {
			gemm(blas.NoTrans, blas.Trans, rowsOf(ln.ra[l-1], r), w, 1, rz) // += RA W^T
		}
		z, a := bw.z[l], bw.a[l]
		if act := m.actOf(l); act == Softmax {
			for p := range r {
				o := p * nl
				ap, rzp := a.Data[o:o+nl], rz.Data[o:o+nl]
				c := floats.Dot(ap, rzp)
				for i := range rzp {
					ra.Data[o+i] = ap[i] * (rzp[i] - c)
				}
			}
		} else {
			for i, v := range rz.Data {
				ra.Data[i] = d1(act, z.Data[i], a.Data[i]) * v
			}
		}
	}
	// R{delta_L}: the loss Hessian with respect to z_L applied to R{z_L},
	// times 1/P.
	invP := 1 / float64(len(h.X))
	K := m.Sizes[L]
	rd, rzL, raL := rowsOf(ln.rd[L], r), rowsOf(ln.rz[L], r), rowsOf(ln.ra[L], r)
	zL, aL := bw.z[L], bw.a[L]
	for p := range r {
		o := p * K
		switch m.Loss {
		case SquaredError:
			for k := range K {
				z, a := zL.Data[o+k], aL.Data[o+k]
				g := d1(m.Output, z, a)
				rd.Data[o+k] = invP * (g*g + (a-T[p][k])*d2(m.Output, z, a)) * rzL.Data[o+k]
			}
		case BinaryCrossEntropy:
			floats.ScaleTo(rd.Data[o:o+K], invP, raL.Data[o:o+K])
		case CrossEntropy:
			floats.ScaleTo(rd.Data[o:o+K], invP*floats.Sum(T[p]), raL.Data[o:o+K])
		}
	}
	// R-backward.
	for l := L; l >= 1; l-- {
		w, _ := m.layer(m.Params, l)
		vw, _ := m.layer(h.vbuf, l)
		hw, hb := m.layer(dst, l)
		rdl, d := rowsOf(ln.rd[l], r), bw.d[l]
		nl := m.Sizes[l]
		if l == 1 && h.sparse {
			// (RD_1^T X)^T[i, :] = sum over the patterns with x_pi != 0 of x_pi RD_1[p, :].
			for p, x := range X {
				rp := rdl.Data[p*rdl.Stride : p*rdl.Stride+n1]
				for i, xv := range x {
					if xv != 0 {
						floats.AddScaled(ln.gwt[i*n1:(i+1)*n1], xv, rp)
					}
				}
			}
		} else {
			gemm(blas.Trans, blas.NoTrans, rdl, bw.a[l-1], 1, hw) // += RD^T A
		}
		if l > 1 {
			gemm(blas.Trans, blas.NoTrans, d, rowsOf(ln.ra[l-1], r), 1, hw) // += D^T RA
		}
		for j := range nl {
			s := 0.0
			for p := range r {
				s += rdl.Data[p*rdl.Stride+j]
			}
			hb.Data[j*hb.Inc] += s
		}
		if l > 1 {
			prev := rowsOf(ln.rd[l-1], r)
			gemm(blas.NoTrans, blas.NoTrans, d, vw, 0, prev)  // D V
			gemm(blas.NoTrans, blas.NoTrans, rdl, w, 1, prev) // + RD W
			z, a, rz, bk := bw.z[l-1], bw.a[l-1], rowsOf(ln.rz[l-1], r), h.bk[b][l-1]
			for i, v := range prev.Data {
				zi, ai := z.Data[i], a.Data[i]
				prev.Data[i] = d1(m.Hidden, zi, ai)*v + d2(m.Hidden, zi, ai)*rz.Data[i]*bk.Data[i]
			}
		}
	}
}

// BatchHessVec writes H v into dst, the exact Hessian of E times v, and
// returns E(w), like HessVec (the same H = (1/P) sum_p hess l_p + Decay I
// over the unpruned parameters; pruned entries of v ignored, those of dst
// 0), but by the R-operator over blocks of up to evalChunk patterns as matrix
// products (see batchHV), with dense products in layer 1 as BatchGrad. The
// sums run in a different order, so it agrees with HessVec to rounding, not
// bit for bit.
func (m *MLP) BatchHessVec(dst, v []float64, X, T [][]float64) float64 {
	h := m.newBatchHV(X, T, false)
	e := h.prepare()
	h.product(dst, v)
	return e
}
