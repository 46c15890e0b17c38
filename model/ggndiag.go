package model

import (
	"math"
)

// GGNDiagonal returns the diagonal of the Gauss–Newton matrix
// G = (1/P) sum_p J_p^T L_p J_p + Decay I (the curvature OBD uses, see
// OutputHessianFactor for L_p = U_p U_p^T), with 0 for pruned parameters.
// It is computed in batches without forming any matrix of size n: with
// u_k the k-th column of U_p, each parameter's term is
// sum_k (J_p^T u_k)_q^2, and for a weight from unit i to unit j of layer l
// that is sum_k (delta_{p,k,j} a_{p,i})^2, where delta_{p,k} is u_k
// propagated back through the network; so a layer's diagonal is
// sum_k (D_k o D_k)^T (A o A), one matrix product per output k.
func (m *MLP) GGNDiagonal(X, T [][]float64) []float64 {
	m.checkSet(X, T)
	nl := len(m.layers)
	K := m.NumOutputs()
	diag := make([]float64, len(m.Params))
	bw := m.newBatchWork(min(evalChunk, len(X)))
	first := m.pidx[0]
	for p0 := 0; p0 < len(X); p0 += evalChunk {
		p1 := min(p0+evalChunk, len(X))
		r := p1 - p0
		m.forwardBatch(bw, bw.run, X[p0:p1])
		zL, aL := rowsOf(bw.val[nl], r), rowsOf(bw.out, r)
		for k := range K {
			dL := rowsOf(bw.cot[nl], r)
			for p := range r {
				pi := aL.Data[p*K : (p+1)*K]
				d := dL.Data[p*K : (p+1)*K]
				for i := range d {
					d[i] = 0
				}
				switch m.Loss {
				case SquaredError:
					d[k] = d1(m.Output, zL.Data[p*K+k], pi[k])
				case BinaryCrossEntropy:
					d[k] = math.Sqrt(pi[k] * (1 - pi[k]))
				case CrossEntropy:
					s := 0.0
					for _, v := range T[p0+p] {
						s += v
					}
					c := math.Sqrt(s * pi[k])
					for i := range d {
						d[i] = -c * pi[i]
					}
					d[k] += c
				}
			}
			for j := nl - 1; j >= first; j-- {
				gy, x := rowsOf(bw.cot[j+1], r), rowsOf(bw.val[j], r)
				bw.run[j].SquaredGrad(m.block(diag, j), gy, x)
				if j > first {
					bw.run[j].Backward(rowsOf(bw.cot[j], r), nil, gy, x, rowsOf(bw.val[j+1], r), m.block(m.Params, j))
				}
			}
		}
	}
	P := float64(len(X))
	for q := range diag {
		diag[q] = diag[q]/P + m.Decay
	}
	m.maskZero(diag)
	return diag
}
