package model

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
		// Linear.Forward, a tile of rows at a time.
		beta := 0.0
		for _, ws := range lanes {
			beta = l.setBias(ws.val[k+1], theta)
		}
		for j0 := 0; j0 < l.Outputs; j0 += laneTile {
			j1 := min(j0+laneTile, l.Outputs)
			for _, ws := range lanes {
				l.rowsTimes(ws.val[k+1], ws.val[k], theta, j0, j1, beta)
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
		// Linear.Backward's gx = W^T gy + 0 gx, a tile of rows at a time.
		for j0 := 0; j0 < l.Outputs; j0 += laneTile {
			j1 := min(j0+laneTile, l.Outputs)
			beta := 1.0
			if j0 == 0 {
				beta = 0
			}
			for _, ws := range lanes {
				l.rowsTransTimes(ws.cot[k], ws.cot[k+1], theta, j0, j1, beta)
			}
		}
	}
}
