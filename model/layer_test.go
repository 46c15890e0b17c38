package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// layerCases are the layers under test: Linear with and without bias (one
// wide enough to cross gemm's tiles) and an Act of every element-wise
// activation.
func layerCases() []Layer {
	ls := []Layer{Linear{Inputs: 4, Outputs: 3}, Linear{Inputs: 4, Outputs: 3, NoBias: true}, Linear{Inputs: 37, Outputs: 20}, Linear{Inputs: 37, Outputs: 20, NoBias: true}}
	for _, a := range elementwiseActivations() {
		ls = append(ls, Act{Func: a, Width: 5})
	}
	ls = append(ls, convCases()...)
	return ls
}

func layerName(ly Layer) string {
	switch l := ly.(type) {
	case Linear:
		return fmt.Sprintf("linear-%dx%d-nobias=%v", l.Outputs, l.Inputs, l.NoBias)
	case Act:
		return fmt.Sprintf("act-%v", l.Func)
	}
	return fmt.Sprintf("%T%+v", ly, ly)
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// axpy returns x + h d.
func axpy(x []float64, h float64, d []float64) []float64 {
	y := append([]float64(nil), x...)
	floats.AddScaled(y, h, d)
	return y
}

// Each layer's four rules against finite differences of Forward: Backward
// against the gradient of gy . f(x; theta), Tangent against the derivative
// of f along (rx, v), BackwardTangent against the derivative of Backward's
// results along (rx, v, rgy). Tolerances as fdTol (see its comment).
func TestLayerRulesMatchFiniteDifferences(t *testing.T) {
	for _, ly := range layerCases() {
		t.Run(layerName(ly), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, uint64(ly.In()*100+ly.NumParams())))
			nin, nout, np := ly.In(), ly.Out(), ly.NumParams()
			x, theta := randVec(rng, nin), randVec(rng, np)
			gy, rgy := randVec(rng, nout), randVec(rng, nout)
			rx, v := randVec(rng, nin), randVec(rng, np)
			fwd := func(x, theta []float64) []float64 {
				y := make([]float64, nout)
				ly.Forward(y, x, theta)
				return y
			}
			y := fwd(x, theta)
			settings := &fd.Settings{Formula: fd.Central, Step: fdStep}

			gx, gtheta := make([]float64, nin), make([]float64, np)
			ly.Backward(gx, gtheta, gy, x, y, theta)
			wantX := fd.Gradient(nil, func(x []float64) float64 { return floats.Dot(gy, fwd(x, theta)) }, x, settings)
			wantT := fd.Gradient(nil, func(th []float64) float64 { return floats.Dot(gy, fwd(x, th)) }, theta, settings)
			expectNear(t, "Backward gx", gx, wantX, fdTol)
			expectNear(t, "Backward gtheta", gtheta, wantT, fdTol)

			// Directional derivatives: column 0 of the Jacobian of h -> g(h).
			along := func(n int, g func(h float64) []float64) []float64 {
				jac := mat.NewDense(n, 1, nil)
				fd.Jacobian(jac, func(dst, h []float64) { copy(dst, g(h[0])) }, []float64{0}, &fd.JacobianSettings{Formula: fd.Central, Step: fdStep})
				return mat.Col(nil, 0, jac)
			}
			ry := make([]float64, nout)
			ly.Tangent(ry, x, y, rx, theta, v)
			expectNear(t, "Tangent", ry, along(nout, func(h float64) []float64 { return fwd(axpy(x, h, rx), axpy(theta, h, v)) }), fdTol)

			rgx, rtheta := make([]float64, nin), make([]float64, np)
			ly.BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v)
			back := func(h float64) []float64 {
				xh, th := axpy(x, h, rx), axpy(theta, h, v)
				gx, gt := make([]float64, nin), make([]float64, np)
				ly.Backward(gx, gt, axpy(gy, h, rgy), xh, fwd(xh, th), th)
				return append(gx, gt...)
			}
			want := along(nin+np, back)
			expectNear(t, "BackwardTangent rgx", rgx, want[:nin], fdTol)
			expectNear(t, "BackwardTangent rtheta", rtheta, want[nin:], fdTol)

			// A nil rx or v is a zero one.
			zx, zv := make([]float64, nin), make([]float64, np)
			ry0, ryz := make([]float64, nout), make([]float64, nout)
			ly.Tangent(ry0, x, y, nil, theta, nil)
			ly.Tangent(ryz, x, y, zx, theta, zv)
			expectNear(t, "Tangent with nil rx, v", ry0, ryz, 0)
			rgx0, rgxz := make([]float64, nin), make([]float64, nin)
			ly.BackwardTangent(rgx0, nil, x, y, nil, gy, rgy, theta, nil)
			ly.BackwardTangent(rgxz, nil, x, y, zx, gy, rgy, theta, zv)
			expectNear(t, "BackwardTangent with nil rx, v", rgx0, rgxz, 0)
		})
	}
}

func expectNear(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !near(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// rowsMatrix returns the rows as one r x n batch.
func rowsMatrix(rows [][]float64) blas64.General {
	g := newBatch(len(rows), len(rows[0]))
	for p, r := range rows {
		copy(g.Data[p*g.Stride:], r)
	}
	return g
}

func row(g blas64.General, p int) []float64 { return g.Data[p*g.Stride : p*g.Stride+g.Cols] }

// The batched forms equal the single-pattern ones row by row, with the
// parameter terms summed over the rows (Backward writing them,
// BackwardTangent and SquaredGrad adding them to what is there), for dense
// inputs and, for Linear, for sparse inputs through the skip-zeros path.
// They compute the same sums in another order (gemm), hence batchHVTol.
func TestBatchLayersMatchSinglePattern(t *testing.T) {
	for _, ly := range layerCases() {
		for _, sparse := range []bool{false, true} {
			if _, ok := ly.Batch(1).(sparseInput); sparse && !ok {
				continue
			}
			t.Run(fmt.Sprintf("%s/sparse=%v", layerName(ly), sparse), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(5, uint64(ly.NumParams())))
				const r = 19
				nin, nout, np := ly.In(), ly.Out(), ly.NumParams()
				rowsOf := func(n int, zeros bool) [][]float64 {
					rs := make([][]float64, r)
					for p := range rs {
						rs[p] = randVec(rng, n)
						if zeros {
							for i := range rs[p] {
								if rng.IntN(3) > 0 {
									rs[p][i] = 0
								}
							}
						}
					}
					return rs
				}
				xs, rxs, gys, rgys := rowsOf(nin, sparse), rowsOf(nin, false), rowsOf(nout, false), rowsOf(nout, false)
				theta, v := randVec(rng, np), randVec(rng, np)
				b := ly.Batch(r)
				if s, ok := b.(sparseInput); ok {
					s.setSparseInput(sparse)
				}
				x, rx, gy, rgy := rowsMatrix(xs), rowsMatrix(rxs), rowsMatrix(gys), rowsMatrix(rgys)
				y, ry, gx, rgx := newBatch(r, nout), newBatch(r, nout), newBatch(r, nin), newBatch(r, nin)
				gtheta := make([]float64, np)
				base := randVec(rng, np)
				rtheta, sq := append([]float64(nil), base...), append([]float64(nil), base...)
				b.Forward(y, x, theta)
				b.Backward(gx, gtheta, gy, x, y, theta)
				b.Tangent(ry, x, y, rx, theta, v)
				b.BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v)
				b.Flush(rtheta)
				b.SquaredGrad(sq, gy, x)

				wantG, wantR, wantSq := make([]float64, np), append([]float64(nil), base...), append([]float64(nil), base...)
				for p := range r {
					y1, ry1 := make([]float64, nout), make([]float64, nout)
					gx1, rgx1, g1, r1 := make([]float64, nin), make([]float64, nin), make([]float64, np), make([]float64, np)
					ly.Forward(y1, xs[p], theta)
					ly.Backward(gx1, g1, gys[p], xs[p], y1, theta)
					ly.Tangent(ry1, xs[p], y1, rxs[p], theta, v)
					ly.BackwardTangent(rgx1, r1, xs[p], y1, rxs[p], gys[p], rgys[p], theta, v)
					expectNear(t, "Forward", row(y, p), y1, batchHVTol)
					expectNear(t, "Backward gx", row(gx, p), gx1, batchHVTol)
					expectNear(t, "Tangent", row(ry, p), ry1, batchHVTol)
					expectNear(t, "BackwardTangent rgx", row(rgx, p), rgx1, batchHVTol)
					floats.Add(wantG, g1)
					floats.Add(wantR, r1)
					for q, g := range g1 {
						wantSq[q] += g * g
					}
				}
				expectNear(t, "Backward gtheta", gtheta, wantG, batchHVTol)
				expectNear(t, "BackwardTangent rtheta", rtheta, wantR, batchHVTol)
				expectNear(t, "SquaredGrad", sq, wantSq, batchHVTol)
			})
		}
	}
}
