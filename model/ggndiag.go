package model

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
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
	L := len(m.Sizes) - 1
	K := m.Sizes[L]
	diag := make([]float64, len(m.Params))
	bw := m.newBatchWork(min(evalChunk, len(X)))
	sq := make([]blas64.General, L) // squared inputs of each layer
	for l := range L {
		g := bw.a[l]
		sq[l] = blas64.General{Rows: g.Rows, Cols: g.Cols, Stride: g.Stride, Data: make([]float64, len(g.Data))}
	}
	dsq := make([][]float64, L+1)
	for l := 1; l <= L; l++ {
		dsq[l] = make([]float64, len(bw.d[l].Data))
	}
	for p0 := 0; p0 < len(X); p0 += evalChunk {
		p1 := min(p0+evalChunk, len(X))
		r := p1 - p0
		m.forwardBatch(bw, X[p0:p1])
		for l := range L {
			a := rowsOf(bw.a[l], r)
			for i, v := range a.Data {
				sq[l].Data[i] = v * v
			}
		}
		zL, aL := rowsOf(bw.z[L], r), rowsOf(bw.a[L], r)
		for k := range K {
			dL := rowsOf(bw.d[L], r)
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
			for l := L; l >= 1; l-- {
				w, _ := m.layer(m.Params, l)
				gw, gb := m.layer(diag, l)
				d := rowsOf(bw.d[l], r)
				ds := blas64.General{Rows: r, Cols: d.Cols, Stride: d.Stride, Data: dsq[l][:r*d.Stride]}
				for i, v := range d.Data {
					ds.Data[i] = v * v
				}
				gemm(blas.Trans, blas.NoTrans, ds, rowsOf(sq[l-1], r), 1, gw)
				for j := range gb.N {
					s := 0.0
					for p := range r {
						s += ds.Data[p*ds.Stride+j]
					}
					gb.Data[j*gb.Inc] += s
				}
				if l > 1 {
					back := rowsOf(bw.d[l-1], r)
					gemm(blas.NoTrans, blas.NoTrans, d, w, 0, back)
					z, a := rowsOf(bw.z[l-1], r), rowsOf(bw.a[l-1], r)
					for i, v := range back.Data {
						back.Data[i] = v * d1(m.Hidden, z.Data[i], a.Data[i])
					}
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
