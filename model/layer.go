package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
)

// Layer is one stage y = f(x; theta) of a network: In() inputs x, Out()
// outputs y and NumParams() parameters theta, the layer's block of the
// network's flat parameter vector (see the package documentation for the
// order inside a Linear block). A network is a sequence of layers; the
// network's passes call only these local rules, so a new kind of layer is
// one type with its own finite-difference test.
//
// The single-pattern methods take one pattern's vectors. x and y are the
// input and output of a Forward at theta; gy = dl/dy is the cotangent of
// the output, rx and ry are tangents (Pearlmutter's R{x}, R{y}: the
// derivatives along a direction v of the parameters of this and the
// earlier layers). Destinations come first; a nil destination is not
// computed, a nil rx or v means zero.
//
//   - Forward sets y = f(x; theta).
//   - Backward is the vector–Jacobian product (backprop): gx = (dy/dx)^T gy
//     and gtheta = (dy/dtheta)^T gy.
//   - Tangent is the Jacobian–vector product (forward mode):
//     ry = (dy/dx) rx + (dy/dtheta) v.
//   - BackwardTangent is the R-operator of Backward, the derivative of its
//     results along the direction when x moves by rx, theta by v and gy by
//     rgy: rgx = R{gx} and rtheta = R{gtheta}. With Tangent it gives exact
//     Hessian–vector products (the R-operator is a JVP of the backward
//     pass).
//
// Batch returns the batched forms of the same four rules, for one
// goroutine. Layers are values that hold no state: one layer may serve
// any number of goroutines at once.
type Layer interface {
	In() int
	Out() int
	NumParams() int
	Forward(y, x, theta []float64)
	Backward(gx, gtheta, gy, x, y, theta []float64)
	Tangent(ry, x, y, rx, theta, v []float64)
	BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64)
	Batch(rows int) BatchLayer
}

// BatchLayer holds a layer's batched forms and their scratch for up to the
// rows given to Layer.Batch. Every batch argument holds r patterns, one a
// row (r x width, row-major with Stride == Cols); the rules are Layer's,
// row by row, with the parameter terms summed over the rows. An empty
// (zero) matrix or a nil slice as destination is not computed, an empty rx
// or a nil v means zero.
//
//   - Forward and Tangent write y and ry.
//   - Backward writes gtheta, the sum over the rows, and gx.
//   - BackwardTangent adds the sum over the rows to rtheta (so blocks of
//     patterns accumulate) and writes rgx. A layer may keep these sums in
//     its own layout until Flush, which adds them to its argument; callers
//     call Flush once after their last BackwardTangent.
//   - SquaredGrad adds to dst the sum over the rows of the squares of
//     each row's parameter gradient (dy/dtheta)^T gy_p (the diagonal of
//     the Gauss–Newton matrix, see MLP.GGNDiagonal).
//
// The x (and y) given to Backward, Tangent, BackwardTangent and
// SquaredGrad are those of a Forward at theta, unchanged since: a layer
// may keep what its last Forward derived from x for the rules that
// follow (Conv2d keeps x's im2col matrix). A BatchLayer belongs to one
// goroutine.
type BatchLayer interface {
	Forward(y, x blas64.General, theta []float64)
	Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64)
	Tangent(ry, x, y, rx blas64.General, theta, v []float64)
	BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64)
	Flush(rtheta []float64)
	SquaredGrad(dst []float64, gy, x blas64.General)
}

// sparseInput is implemented by batched layers that can skip the zero
// entries of their input (Linear, for one-hot inputs such as NETtalk's
// windows): after setSparseInput(true) their batched products visit only
// the non-zero inputs.
type sparseInput interface {
	setSparseInput(on bool)
}

// empty reports whether a batch destination is absent.
func empty(g blas64.General) bool { return g.Data == nil }

// rowsOf returns the first r rows of g.
func rowsOf(g blas64.General, r int) blas64.General {
	g.Rows = r
	g.Data = g.Data[:r*g.Stride]
	return g
}

func newBatch(rows, cols int) blas64.General {
	return blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float64, rows*cols)}
}

func vec(x []float64) blas64.Vector { return blas64.Vector{N: len(x), Inc: 1, Data: x} }

// Act is an element-wise activation layer y_i = phi(x_i) of Width units,
// without parameters. Func is any activation but Softmax (softmax belongs
// to the cross-entropy loss). The
// activations of the OBS papers (identity, sigmoid, tanh, relu) take loops
// whose derivative is inlined.
type Act struct {
	Func  Activation
	Width int
}

func (a Act) In() int        { return a.Width }
func (a Act) Out() int       { return a.Width }
func (a Act) NumParams() int { return 0 }

func (a Act) check() {
	if !elementwise(a.Func) {
		panic(fmt.Sprintf("model: %v is not an element-wise activation", a.Func))
	}
}

// Forward sets y_i = phi(x_i).
func (a Act) Forward(y, x, theta []float64) { activate(a.Func, y, x) }

// Backward sets gx_i = phi'(x_i) gy_i; gx may be gy.
func (a Act) Backward(gx, gtheta, gy, x, y, theta []float64) {
	if gx == nil {
		return
	}
	if a.Func == ReLU { // d1's relu case without its switch per entry
		for i, v := range gy {
			if x[i] > 0 {
				gx[i] = v * 1
			} else {
				gx[i] = v * 0
			}
		}
		return
	}
	if inlined(a.Func) {
		for i, v := range gy {
			gx[i] = v * d1(a.Func, x[i], y[i])
		}
		return
	}
	for i, v := range gy {
		gx[i] = v * d1Any(a.Func, x[i], y[i])
	}
}

// Tangent sets ry_i = phi'(x_i) rx_i.
func (a Act) Tangent(ry, x, y, rx, theta, v []float64) {
	if rx == nil {
		clear(ry)
		return
	}
	if inlined(a.Func) {
		for i, r := range rx {
			ry[i] = d1(a.Func, x[i], y[i]) * r
		}
		return
	}
	for i, r := range rx {
		ry[i] = d1Any(a.Func, x[i], y[i]) * r
	}
}

// BackwardTangent sets rgx_i = phi'(x_i) rgy_i + phi”(x_i) rx_i gy_i;
// rgx may be rgy.
func (a Act) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	if rgx == nil {
		return
	}
	if rx == nil {
		a.Backward(rgx, nil, rgy, x, y, nil)
		return
	}
	if inlined(a.Func) {
		for i, r := range rgy {
			rgx[i] = d1(a.Func, x[i], y[i])*r + d2(a.Func, x[i], y[i])*rx[i]*gy[i]
		}
		return
	}
	for i, r := range rgy {
		rgx[i] = d1Any(a.Func, x[i], y[i])*r + d2Any(a.Func, x[i], y[i])*rx[i]*gy[i]
	}
}

// Batch returns a's batched forms: the element-wise rules over all rows at
// once, split over up to GOMAXPROCS goroutines for large batches.
func (a Act) Batch(rows int) BatchLayer {
	a.check()
	return actBatch{a}
}

type actBatch struct{ a Act }

// part returns rows p0..p1-1 of g's data (nil for an empty g).
func part(g blas64.General, p0, p1 int) []float64 {
	if empty(g) {
		return nil
	}
	return g.Data[p0*g.Stride : p1*g.Stride]
}

func (b actBatch) Forward(y, x blas64.General, theta []float64) {
	forRows(x.Rows, x.Cols, func(p0, p1 int) { b.a.Forward(part(y, p0, p1), part(x, p0, p1), nil) })
}

func (b actBatch) Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64) {
	if empty(gx) {
		return
	}
	forRows(gy.Rows, gy.Cols, func(p0, p1 int) {
		b.a.Backward(part(gx, p0, p1), nil, part(gy, p0, p1), part(x, p0, p1), part(y, p0, p1), nil)
	})
}

func (b actBatch) Tangent(ry, x, y, rx blas64.General, theta, v []float64) {
	forRows(ry.Rows, ry.Cols, func(p0, p1 int) {
		b.a.Tangent(part(ry, p0, p1), part(x, p0, p1), part(y, p0, p1), part(rx, p0, p1), nil, nil)
	})
}

func (b actBatch) BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64) {
	if empty(rgx) {
		return
	}
	forRows(rgy.Rows, rgy.Cols, func(p0, p1 int) {
		b.a.BackwardTangent(part(rgx, p0, p1), nil, part(x, p0, p1), part(y, p0, p1), part(rx, p0, p1), part(gy, p0, p1), part(rgy, p0, p1), nil, nil)
	})
}

func (actBatch) Flush([]float64)                                 {}
func (actBatch) SquaredGrad(dst []float64, gy, x blas64.General) {}
