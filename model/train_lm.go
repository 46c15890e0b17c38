package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// lmBlock is the number of Jacobian rows gathered before one rank-k update
// of J^T J (BLAS-3 Syrk instead of one rank-1 update per row).
const lmBlock = 64

// gaussNewtonFree writes G = (1/P) J^T J into g (len(free) square), where J
// stacks the output Jacobians J_p (squared error: f = a_L) of all patterns
// over the free parameters. For squared error this is the Gauss–Newton
// matrix of the data term of E.
func (t *trainer) gaussNewtonFree(g *mat.SymDense, jac, block *mat.Dense) {
	m := t.m
	nf := len(t.free)
	g.Zero()
	rows := 0
	flush := func() {
		if rows > 0 {
			b := block.Slice(0, rows, 0, nf)
			g.SymRankK(g, 1, b.T())
			rows = 0
		}
	}
	K := m.NumOutputs()
	for p := range t.X {
		m.OutputJacobian(t.ws, jac, t.X[p])
		raw := jac.RawMatrix()
		for k := 0; k < K; k++ {
			if rows == lmBlock {
				flush()
			}
			src := raw.Data[k*raw.Stride:]
			dst := block.RawRowView(rows)
			for i, q := range t.free {
				dst[i] = src[q]
			}
			rows++
		}
	}
	flush()
	t.evals++
	g.ScaleSym(1/float64(len(t.X)), g)
}

// levenbergMarquardt runs Levenberg–Marquardt from x (squared error only):
// each iteration forms G = (1/P) J^T J at the current point and solves
//
//	(G + (Decay + mu) I) d = -grad E
//
// by Cholesky; G + Decay I is the Gauss–Newton approximation of the Hessian
// of E. A step is accepted if it lowers E (see roundoffE), and then mu is
// divided by 10; otherwise mu is multiplied by 10 and the system re-solved
// with the same G. mu starts at lmTau max_i G_ii.
func (t *trainer) levenbergMarquardt(x []float64) (status string, converged, stopped bool, err error) {
	m := t.m
	n := len(x)
	gn := mat.NewSymDense(n, nil)
	var jac mat.Dense
	block := mat.NewDense(lmBlock, n, nil)
	s, err := newDamped(t, x)
	if err != nil {
		return "", false, false, err
	}
	mu := -1.0 // set from G at the first iteration
	for {
		t.progress(s.e, s.gn)
		if status, converged, stopped, done := t.finished(s.gn); done {
			return status, converged, stopped, nil
		}
		t.iter++
		t.unpack(x)
		t.gaussNewtonFree(gn, &jac, block)
		scale := maxDiag(gn)
		if mu < 0 {
			mu = lmTau * scale
		}
		var ok bool
		if mu, ok, err = s.step(t, x, gn, m.Decay, mu, scale); err != nil {
			return "", false, false, err
		} else if !ok {
			t.unpack(x)
			return fmt.Sprintf("no step lowers E (damping above %g)", shiftMax*scale), false, false, nil
		}
		mu = math.Max(mu/10, shiftMin*scale)
	}
}
