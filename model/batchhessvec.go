package model

import (
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
// the rows of hvPrepared's vector recurrences stacked: each line is the
// batched Tangent or BackwardTangent of one layer (Linear for the products,
// Act for the terms of the first and second derivatives). D and RD carry
// the factor 1/P, so the blocks' products add up to H v - Decay v directly.
//
// The patterns are cut into blocks of at most evalChunk patterns, as many
// as a multiple of hvChunks and of nearly equal sizes; block b belongs to
// lane b mod hvChunks. The lanes run on their own goroutines (the
// element-wise and sparse parts are serial within a block) with their own
// scratch and partial sums, added in lane order, so the result does not
// depend on the number of cores.
//
// prepare runs the forward and backward passes once at the current
// parameters and keeps them (the values and cotangents at every point of
// every block, A, Z, D and D_l W_l: about P (Sizes[0] + 4 sum of the other
// sizes) floats); every product then runs only the R passes, about twice a
// gradient's matrix work. With sparse set, layer 1 works over the non-zero
// inputs only, as batchGradSparse does, keeping its weight sums transposed
// per lane until the lane's Flush.
type batchHV struct {
	m      *MLP
	sparse bool
	X, T   [][]float64
	blocks []*batchWork // values and cotangents (times 1/P) of each block
	start  []int        // first pattern of each block
	loss   []float64    // sum of l_p over each block
	lanes  []*hvLane
	e      float64   // E at the prepared parameters
	vbuf   []float64 // the direction with pruned entries zeroed
}

// hvLane is one lane's blocks, layers' batched forms, scratch of the R
// passes and partial sums.
type hvLane struct {
	blocks     []int
	run        []BatchLayer
	rval, rcot []blas64.General // R{val[k]}, R{cot[k]} of one block
	rout       blas64.General   // R{a_L}
	out        []float64        // partial (H - Decay I) v
}

// newBatchHV returns a batchHV for m's shape and the set X, T; call prepare
// before products.
func (m *MLP) newBatchHV(X, T [][]float64, sparse bool) *batchHV {
	m.checkSet(X, T)
	h := &batchHV{m: m, sparse: sparse, X: X, T: T, vbuf: make([]float64, len(m.Params))}
	P := len(X)
	nb := hvChunks * ((P + evalChunk*hvChunks - 1) / (evalChunk * hvChunks))
	bs := (P + nb - 1) / nb
	w := m.widths()
	for range min(hvChunks, P) {
		ln := &hvLane{out: make([]float64, len(m.Params)), run: m.batchLayers(bs, sparse)}
		ln.rval, ln.rcot = make([]blas64.General, len(w)), make([]blas64.General, len(w))
		for k := 1; k < len(w); k++ {
			ln.rval[k], ln.rcot[k] = newBatch(bs, w[k]), newBatch(bs, w[k])
		}
		ln.rout = newBatch(bs, m.NumOutputs())
		h.lanes = append(h.lanes, ln)
	}
	for p0 := 0; p0 < P; p0 += bs {
		r := min(bs, P-p0)
		ln := h.lanes[len(h.blocks)%len(h.lanes)]
		ln.blocks = append(ln.blocks, len(h.blocks))
		bw := m.newBatchWork(r)
		bw.run = nil // the lane's layers serve its blocks
		h.blocks = append(h.blocks, bw)
		h.start = append(h.start, p0)
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
	nl := len(m.layers)
	K := m.NumOutputs()
	invP := 1 / float64(len(h.X))
	h.forLanes(func(ln *hvLane) {
		for _, b := range ln.blocks {
			bw := h.blocks[b]
			p0 := h.start[b]
			X, T := h.X[p0:p0+bw.rows], h.T[p0:p0+bw.rows]
			m.forwardBatch(bw, ln.run, X)
			zL, aL, dL := bw.val[nl], bw.out, bw.cot[nl]
			sum := 0.0
			for p := range X {
				o := p * K
				sum += m.outputLoss(zL.Data[o:o+K], aL.Data[o:o+K], T[p], bw.gradF, dL.Data[o:o+K])
			}
			h.loss[b] = sum
			floats.Scale(invP, dL.Data)
			m.backwardBatch(bw, ln.run, nil, bw.rows)
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
	h.forLanes(func(ln *hvLane) {
		for i := range ln.out {
			ln.out[i] = 0
		}
		for _, b := range ln.blocks {
			h.blockProduct(b, ln)
		}
		for k, run := range ln.run {
			run.Flush(m.block(ln.out, k))
		}
	})
	copy(dst, h.lanes[0].out)
	for _, ln := range h.lanes[1:] {
		floats.Add(dst, ln.out)
	}
	if m.Decay != 0 {
		floats.AddScaled(dst, m.Decay, v)
	}
	m.maskZero(dst)
}

// blockProduct adds block b's part of (H - Decay I) v (h.vbuf) to ln.out
// (or to the sums a layer keeps until Flush).
func (h *batchHV) blockProduct(b int, ln *hvLane) {
	m := h.m
	bw := h.blocks[b]
	r := bw.rows
	p0 := h.start[b]
	T := h.T[p0 : p0+r]
	nl := len(m.layers)
	// R-forward; the input's tangent is 0.
	for k, run := range ln.run {
		var rx blas64.General
		if k > 0 {
			rx = rowsOf(ln.rval[k], r)
		}
		run.Tangent(rowsOf(ln.rval[k+1], r), bw.val[k], bw.val[k+1], rx, m.block(m.Params, k), m.block(h.vbuf, k))
	}
	// R{delta_L}: the loss Hessian with respect to z_L applied to R{z_L},
	// times 1/P.
	invP := 1 / float64(len(h.X))
	K := m.NumOutputs()
	rd, rzL, raL := rowsOf(ln.rcot[nl], r), rowsOf(ln.rval[nl], r), rowsOf(ln.rout, r)
	zL, aL := bw.val[nl], bw.out
	m.outputTangent(raL.Data, zL.Data, aL.Data, rzL.Data)
	for p := range r {
		o := p * K
		m.outputRDelta(rd.Data[o:o+K], zL.Data[o:o+K], aL.Data[o:o+K], rzL.Data[o:o+K], raL.Data[o:o+K], T[p], invP)
	}
	// R-backward.
	first := m.pidx[0]
	for k := nl - 1; k >= first; k-- {
		var rgx, rx blas64.General
		if k > first {
			rgx = rowsOf(ln.rcot[k], r)
		}
		if k > 0 {
			rx = rowsOf(ln.rval[k], r)
		}
		ln.run[k].BackwardTangent(rgx, m.block(ln.out, k), bw.val[k], bw.val[k+1], rx, bw.cot[k+1], rowsOf(ln.rcot[k+1], r), m.block(m.Params, k), m.block(h.vbuf, k))
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
