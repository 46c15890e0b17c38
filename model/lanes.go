package model

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The passes of the large-network sums (gradsum.go) over a group of
// patterns at once, with the same floating-point operations as Forward
// and backprop pattern by pattern. A Linear layer's weights (8 KB per row
// for 1,000 inputs, 14 MB for a 784-1000-1000-10 MLP) are read from
// memory once per pattern by the per-pattern passes; here a tile of
// laneTile rows is applied to every pattern of the group while it is in
// cache. gonum's GemvN computes each row's dot product the same way
// whichever rows share the call, as long as the rows are grouped by four
// from the same first row (tiles start at multiples of laneTile, a
// multiple of 4), and GemvT adds the rows' contributions to each output
// one row after another, so a product cut into row tiles, the first with
// beta 0 and the rest with beta 1, adds the same terms in the same order
// (TestLanesBitForBit).

// laneTile is the number of weight rows applied to every pattern of a
// group at a time; a multiple of 4.
const laneTile = 16

// newLane returns a workspace holding one pattern's values and cotangents
// (no n-sized scratch: the lanes' passes write no parameter gradient).
func (m *MLP) newLane() *Workspace {
	ws := &Workspace{widths: m.widths()}
	ws.val = make([][]float64, len(ws.widths))
	ws.cot = make([][]float64, len(ws.widths))
	for k, s := range ws.widths {
		ws.val[k] = make([]float64, s)
		ws.cot[k] = make([]float64, s)
	}
	ws.out = make([]float64, m.NumOutputs())
	ws.gradF = make([]float64, m.NumOutputs())
	return ws
}

// forwardLanes is Forward for the patterns X, one lane each.
func (m *MLP) forwardLanes(lanes []*Workspace, X [][]float64) {
	for p, ws := range lanes {
		copy(ws.val[0], X[p])
	}
	for k, ly := range m.layers {
		theta := m.block(m.Params, k)
		l, ok := ly.(Linear)
		if !ok {
			for _, ws := range lanes {
				ly.Forward(ws.val[k+1], ws.val[k], theta)
			}
			continue
		}
		// Linear.Forward: y = b, then y = W x + 1 y, or y = W x + 0 y.
		w := l.weights(theta)
		beta := 0.0
		if b, ok := l.bias(theta); ok {
			for _, ws := range lanes {
				blas64.Copy(b, vec(ws.val[k+1]))
			}
			beta = 1
		}
		for j0 := 0; j0 < l.Outputs; j0 += laneTile {
			j1 := min(j0+laneTile, l.Outputs)
			wt := blas64.General{Rows: j1 - j0, Cols: w.Cols, Stride: w.Stride, Data: w.Data[j0*w.Stride:]}
			for _, ws := range lanes {
				blas64.Gemv(blas.NoTrans, 1, wt, vec(ws.val[k]), beta, vec(ws.val[k+1][j0:j1]))
			}
		}
	}
	for _, ws := range lanes {
		m.outputActivate(ws.out, ws.val[len(m.layers)])
	}
}

// backpropLanes is backprop(ws, nil) for every lane: the cotangents only.
func (m *MLP) backpropLanes(lanes []*Workspace) {
	first := m.pidx[0]
	for k := len(m.layers) - 1; k > first; k-- {
		theta := m.block(m.Params, k)
		l, ok := m.layers[k].(Linear)
		if !ok {
			for _, ws := range lanes {
				m.layers[k].Backward(ws.cot[k], nil, ws.cot[k+1], ws.val[k], ws.val[k+1], theta)
			}
			continue
		}
		// Linear.Backward: gx = W^T gy + 0 gx, cut into row tiles.
		w := l.weights(theta)
		for j0 := 0; j0 < l.Outputs; j0 += laneTile {
			j1 := min(j0+laneTile, l.Outputs)
			wt := blas64.General{Rows: j1 - j0, Cols: w.Cols, Stride: w.Stride, Data: w.Data[j0*w.Stride:]}
			beta := 1.0
			if j0 == 0 {
				beta = 0
			}
			for _, ws := range lanes {
				blas64.Gemv(blas.Trans, 1, wt, vec(ws.cot[k+1][j0:j1]), beta, vec(ws.cot[k]))
			}
		}
	}
}
