package model

import (
	"runtime"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// gradSumMin is the size n P (parameters times patterns) from which Grad
// and GradAccuracy take the parallel form, gradSum.
const gradSumMin = 1 << 26

// gradBatch is the number of patterns gradSum holds at a time.
const gradBatch = 64

// gradTile is the number of weight rows gradSum adds a batch into at a time:
// the rows (8 KB each for 1,000 inputs) stay in cache while every pattern of
// the batch is added, and each pattern's input row is read once per tile.
const gradTile = 16

// GradAccuracy returns what Grad(ws, grad, X, T) returns and writes, and
// with it the number of patterns Accuracy counts as right, from one
// forward pass per pattern instead of two. For large networks (n P at least
// 2^26) whose parameter layers are all Linear it runs on GOMAXPROCS
// goroutines; every value is the same, bit for bit, as Grad's and
// Accuracy's (TestGradSumBitForBit): see gradSum. Large networks with a
// Conv2d take BatchGrad's and Evaluate's batched passes instead
// (batchedEvalOK): the same count, E and gradient to rounding.
func (m *MLP) GradAccuracy(ws *Workspace, grad []float64, X, T [][]float64) (e float64, right int) {
	if m.batchedEvalOK(len(X)) {
		e = m.batchGradChunks(grad, X, T, false, &right, nil)
		return e, right
	}
	if m.gradSumOK(len(X)) {
		m.checkSet(X, T)
		m.checkParamLen("gradient", grad)
		return m.gradSum(grad, X, T, true)
	}
	e = m.Grad(ws, grad, X, T)
	for p := range X {
		if correct(m.Forward(ws, X[p]), T[p]) {
			right++
		}
	}
	return e, right
}

// correct is Accuracy's rule for one pattern.
func correct(y, t []float64) bool {
	if len(y) == 1 {
		return (y[0] >= 0.5) == (t[0] >= 0.5)
	}
	return floats.MaxIdx(y) == floats.MaxIdx(t)
}

// batchedEvalOK reports whether GradAccuracy and ErrorAccuracy take the
// batched passes of BatchGrad and Evaluate for P patterns: for large
// networks (n P at least 2^26) with a parameter layer that is not Linear
// (a Conv2d), whose per-pattern passes are slow and serial. Their E and
// gradient then agree with Grad's and Error's to rounding, not bit for
// bit (the sums run in another order); the counts are the same.
func (m *MLP) batchedEvalOK(P int) bool {
	if len(m.Params)*P < gradSumMin {
		return false
	}
	for _, k := range m.pidx {
		if _, ok := m.layers[k].(Linear); !ok {
			return true
		}
	}
	return false
}

// gradSumOK reports whether gradSum applies to P patterns.
func (m *MLP) gradSumOK(P int) bool {
	if len(m.Params)*P < gradSumMin || runtime.GOMAXPROCS(0) < 2 {
		return false
	}
	for _, k := range m.pidx {
		if _, ok := m.layers[k].(Linear); !ok {
			return false
		}
	}
	return true
}

// gradSum is Grad for networks whose parameter layers are all Linear, with
// the patterns' forward and backward passes shared out to GOMAXPROCS
// goroutines and no per-pattern gradient formed. Grad adds each pattern's
// gradient g_p, whose weight entries Linear.Backward writes as one product
// gy_j x_i and whose bias entries are gy_j, into the sum with one addition
// per entry, pattern by pattern. gradSum keeps, for a batch of patterns,
// each Linear layer's gy and x, and adds gy_j x_i (floats.AddScaled: the
// same product, then the same addition) into each entry in the same
// pattern order, a tile of rows at a time on the goroutines: every sum is
// the same. The losses are summed in pattern order as Grad's. Pruned
// entries, which Grad adds as 0, are set to 0 at the end by both. With
// count, right counts the patterns Accuracy counts.
func (m *MLP) gradSum(grad []float64, X, T [][]float64, count bool) (e float64, right int) {
	for i := range grad {
		grad[i] = 0
	}
	workers := runtime.GOMAXPROCS(0)
	P := len(X)
	b := min(gradBatch, P)
	// Per pattern of the batch and Linear layer: gy (Outputs) then x (Inputs).
	width := 0
	off := make([]int, len(m.pidx))
	for i, k := range m.pidx {
		off[i] = width
		width += m.layers[k].Out() + m.layers[k].In()
	}
	keep := make([]float64, b*width)
	loss := make([]float64, b)
	ok := make([]bool, b)
	lanes := make([][]*Workspace, workers) // a worker's patterns of a batch, passed together (lanes.go)
	for w := range lanes {
		for range (b + workers - 1) / workers {
			lanes[w] = append(lanes[w], m.newLane())
		}
	}
	// The tiles of rows of every Linear layer.
	type tile struct{ layer, j0, j1 int }
	var tiles []tile
	for i, k := range m.pidx {
		for j0 := 0; j0 < m.layers[k].Out(); j0 += gradTile {
			tiles = append(tiles, tile{i, j0, min(j0+gradTile, m.layers[k].Out())})
		}
	}
	var wg sync.WaitGroup
	for p0 := 0; p0 < P; p0 += b {
		p1 := min(p0+b, P)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var xs [][]float64
				for p := p0 + w; p < p1; p += workers {
					xs = append(xs, X[p])
				}
				ls := lanes[w][:len(xs)]
				m.forwardLanes(ls, xs)
				for i, ws := range ls {
					p := p0 + w + i*workers
					if count {
						ok[p-p0] = correct(ws.out, T[p])
					}
					loss[p-p0] = m.lossAt(ws, T[p])
				}
				m.backpropLanes(ls)
				for i, ws := range ls {
					p := p0 + w + i*workers
					row := keep[(p-p0)*width : (p-p0+1)*width]
					for li, k := range m.pidx {
						ly := m.layers[k]
						copy(row[off[li]:], ws.cot[k+1])
						copy(row[off[li]+ly.Out():], ws.val[k])
					}
				}
			}()
		}
		wg.Wait()
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for t := w; t < len(tiles); t += workers {
					tl := tiles[t]
					k := m.pidx[tl.layer]
					l := m.layers[k].(Linear)
					g := m.block(grad, k)
					gw := l.weights(g)
					in, o := l.Inputs, off[tl.layer]
					for p := range p1 - p0 {
						row := keep[p*width : (p+1)*width]
						gy, x := row[o:o+l.Outputs], row[o+l.Outputs:o+l.Outputs+in]
						for j := tl.j0; j < tl.j1; j++ {
							floats.AddScaled(gw.Data[j*gw.Stride:j*gw.Stride+in], gy[j], x)
							if !l.NoBias {
								g[j*gw.Stride+in] += gy[j]
							}
						}
					}
				}
			}()
		}
		wg.Wait()
		for p := range p1 - p0 {
			e += loss[p]
			if ok[p] {
				right++
			}
		}
	}
	fP := float64(P)
	floats.Scale(1/fP, grad)
	if m.Decay != 0 {
		floats.AddScaled(grad, m.Decay, m.Params)
	}
	m.maskZero(grad)
	return e/fP + m.decayTerm(), right
}

// ErrorAccuracy returns Error(ws, X, T) and the number of patterns
// Accuracy counts as right, from one forward pass per pattern; for large
// networks (n P at least 2^26) the patterns are shared out to GOMAXPROCS
// goroutines and their losses summed in pattern order, so E is Error's bit
// for bit; large networks with a Conv2d take Evaluate's batched passes (E
// to rounding, see batchedEvalOK).
func (m *MLP) ErrorAccuracy(ws *Workspace, X, T [][]float64) (e float64, right int) {
	if m.batchedEvalOK(len(X)) {
		return m.evaluate(X, T)
	}
	m.checkSet(X, T)
	P := len(X)
	workers := runtime.GOMAXPROCS(0)
	if len(m.Params)*P < gradSumMin || workers < 2 {
		for p := range X {
			y := m.Forward(ws, X[p])
			if correct(y, T[p]) {
				right++
			}
			e += m.lossAt(ws, T[p])
		}
		return e/float64(P) + m.decayTerm(), right
	}
	return m.errorAccuracy(X, T, workers)
}

// errorAccuracy is ErrorAccuracy on workers goroutines.
func (m *MLP) errorAccuracy(X, T [][]float64, workers int) (e float64, right int) {
	P := len(X)
	loss := make([]float64, P)
	ok := make([]bool, P)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lanes := make([]*Workspace, gradBatch/2)
			for i := range lanes {
				lanes[i] = m.newLane()
			}
			var idx []int
			var xs [][]float64
			for p0 := w; p0 < P; p0 += len(lanes) * workers {
				idx, xs = idx[:0], xs[:0]
				for p := p0; p < P && len(idx) < len(lanes); p += workers {
					idx = append(idx, p)
					xs = append(xs, X[p])
				}
				ls := lanes[:len(idx)]
				m.forwardLanes(ls, xs)
				for i, p := range idx {
					ok[p] = correct(ls[i].out, T[p])
					loss[p] = m.lossAt(ls[i], T[p])
				}
			}
		}()
	}
	wg.Wait()
	for p := range loss {
		e += loss[p]
		if ok[p] {
			right++
		}
	}
	return e/float64(P) + m.decayTerm(), right
}
