package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// Linear is the fully connected layer y = W x + b of Inputs inputs and
// Outputs outputs (PyTorch's nn.Linear). Its parameter block is W row by
// row, each row followed by its bias:
//
//	theta[j*(Inputs+1) + i] = W[j][i],  theta[j*(Inputs+1) + Inputs] = b[j],
//
// Outputs*(Inputs+1) parameters. With NoBias (PyTorch's bias=False) there
// is no bias: theta[j*Inputs + i] = W[j][i], Outputs*Inputs parameters.
//
// The single-pattern forms are BLAS level 2 (Gemv), the batched forms
// level 3 (one product per rule, tiled in the pure-Go build, see gemm).
type Linear struct {
	Inputs, Outputs int
	NoBias          bool
}

func (l Linear) In() int  { return l.Inputs }
func (l Linear) Out() int { return l.Outputs }

func (l Linear) NumParams() int { return l.Outputs * l.stride() }

// stride is the length of one row of the block: the weights and the bias.
func (l Linear) stride() int {
	if l.NoBias {
		return l.Inputs
	}
	return l.Inputs + 1
}

// weights returns W as a view into theta.
func (l Linear) weights(theta []float64) blas64.General {
	if len(theta) != l.NumParams() {
		panic(fmt.Sprintf("model: linear %dx%d block has %d parameters, want %d", l.Outputs, l.Inputs, len(theta), l.NumParams()))
	}
	return blas64.General{Rows: l.Outputs, Cols: l.Inputs, Stride: l.stride(), Data: theta}
}

// bias returns b as a strided view into theta; ok is false without bias.
func (l Linear) bias(theta []float64) (b blas64.Vector, ok bool) {
	if l.NoBias {
		return blas64.Vector{}, false
	}
	return blas64.Vector{N: l.Outputs, Inc: l.Inputs + 1, Data: theta[l.Inputs:]}, true
}

// Forward sets y = W x + b.
func (l Linear) Forward(y, x, theta []float64) {
	l.rowsTimes(y, x, theta, 0, l.Outputs, l.setBias(y, theta))
}

// setBias sets y = b and returns 1, or returns 0 without a bias: the beta
// with which rowsTimes adds W x to it.
func (l Linear) setBias(y, theta []float64) (beta float64) {
	if b, ok := l.bias(theta); ok {
		blas64.Copy(b, vec(y))
		return 1
	}
	return 0
}

// rowsTimes sets y[j0:j1] = W[j0:j1] x + beta y[j0:j1] (one blas64.Gemv).
func (l Linear) rowsTimes(y, x, theta []float64, j0, j1 int, beta float64) {
	w := l.weights(theta)
	wr := blas64.General{Rows: j1 - j0, Cols: w.Cols, Stride: w.Stride, Data: w.Data[j0*w.Stride:]}
	blas64.Gemv(blas.NoTrans, 1, wr, vec(x), beta, vec(y[j0:j1]))
}

// rowsTransTimes sets gx = W[j0:j1]^T gy[j0:j1] + beta gx (one blas64.Gemv).
func (l Linear) rowsTransTimes(gx, gy, theta []float64, j0, j1 int, beta float64) {
	w := l.weights(theta)
	wr := blas64.General{Rows: j1 - j0, Cols: w.Cols, Stride: w.Stride, Data: w.Data[j0*w.Stride:]}
	blas64.Gemv(blas.Trans, 1, wr, vec(gy[j0:j1]), beta, vec(gx))
}

// Backward sets gtheta to gy x^T (and gy for the bias) and gx = W^T gy.
func (l Linear) Backward(gx, gtheta, gy, x, y, theta []float64) {
	if gtheta != nil {
		gw := l.weights(gtheta)
		for j := range gw.Rows {
			floats.ScaleTo(gw.Data[j*gw.Stride:j*gw.Stride+gw.Cols], gy[j], x)
		}
		if gb, ok := l.bias(gtheta); ok {
			blas64.Copy(vec(gy), gb)
		}
	}
	if gx != nil {
		l.rowsTransTimes(gx, gy, theta, 0, l.Outputs, 0)
	}
}

// Tangent sets ry = V x + c + W rx for the direction v = (V, c).
func (l Linear) Tangent(ry, x, y, rx, theta, v []float64) {
	beta := 0.0
	if v != nil {
		if c, ok := l.bias(v); ok {
			blas64.Copy(c, vec(ry))
			beta = 1
		}
		blas64.Gemv(blas.NoTrans, 1, l.weights(v), vec(x), beta, vec(ry))
		beta = 1
	}
	if rx != nil {
		blas64.Gemv(blas.NoTrans, 1, l.weights(theta), vec(rx), beta, vec(ry))
	} else if beta == 0 {
		clear(ry)
	}
}

// BackwardTangent sets rtheta to rgy x^T + gy rx^T (and rgy for the bias)
// and rgx = V^T gy + W^T rgy.
func (l Linear) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	if rtheta != nil {
		hw := l.weights(rtheta)
		for j := range hw.Rows {
			row := hw.Data[j*hw.Stride : j*hw.Stride+hw.Cols]
			floats.ScaleTo(row, rgy[j], x)
			if rx != nil {
				floats.AddScaled(row, gy[j], rx)
			}
		}
		if hb, ok := l.bias(rtheta); ok {
			blas64.Copy(vec(rgy), hb)
		}
	}
	if rgx != nil {
		beta := 0.0
		if v != nil {
			blas64.Gemv(blas.Trans, 1, l.weights(v), vec(gy), 0, vec(rgx))
			beta = 1
		}
		blas64.Gemv(blas.Trans, 1, l.weights(theta), vec(rgy), beta, vec(rgx))
	}
}

// Batch returns l's batched forms: one matrix product per rule. Their
// scratch is allocated on first use, whatever the number of rows.
func (l Linear) Batch(rows int) BatchLayer { return &linearBatch{l: l} }

// linearBatch is Linear's batched forms with their scratch. With sparse
// set the products with the input visit only its non-zero entries
// (addSparseRows, addSparseOuter), through W^T and parameter sums kept
// transposed (Inputs x Outputs): for one-hot inputs that is a few columns'
// work instead of all.
type linearBatch struct {
	l      Linear
	sparse bool
	wt     []float64 // sparse: W^T or V^T
	gwt    []float64 // sparse: one Backward's weight gradient, transposed
	acc    []float64 // sparse: BackwardTangent's weight sums until Flush, transposed
	held   bool      // acc holds sums not yet flushed
	sq, gq []float64 // SquaredGrad: the squared inputs and cotangents
	bias   []float64 // the bias of setBiasRows
}

func (b *linearBatch) setSparseInput(on bool) { b.sparse = on }

// transposed returns the n_in x n_out transpose of w's weights in *buf,
// allocating it on first use.
func transposed(buf *[]float64, w blas64.General) []float64 {
	t := scratch(buf, w.Rows*w.Cols)
	n1 := w.Rows
	for j := 0; j < n1; j++ {
		for i := 0; i < w.Cols; i++ {
			t[i*n1+j] = w.Data[j*w.Stride+i]
		}
	}
	return t
}

// scratch returns (*buf)[:n], allocating it when it is shorter.
func scratch(buf *[]float64, n int) []float64 {
	if cap(*buf) < n {
		*buf = make([]float64, n)
	}
	return (*buf)[:n]
}

// addTransposed adds the n_in x n_out matrix t, transposed, to g's weights
// (with overwrite, sets them to it).
func addTransposed(g blas64.General, t []float64, overwrite bool) {
	n1 := g.Rows
	for j := 0; j < n1; j++ {
		for i := 0; i < g.Cols; i++ {
			if overwrite {
				g.Data[j*g.Stride+i] = t[i*n1+j]
			} else {
				g.Data[j*g.Stride+i] += t[i*n1+j]
			}
		}
	}
}

// setBiasRows sets every row of y to the bias of p (a parameter block or
// direction), or to 0 without bias, and returns the beta of the product
// that follows. The strided bias is gathered once, then copied row by row.
func (b *linearBatch) setBiasRows(y blas64.General, p []float64) float64 {
	c, ok := b.l.bias(p)
	if !ok {
		return 0
	}
	bias := scratch(&b.bias, c.N)
	blas64.Copy(c, vec(bias))
	for r := range y.Rows {
		copy(y.Data[r*y.Stride:r*y.Stride+y.Cols], bias)
	}
	return 1
}

// Forward sets y = X W^T + 1 b^T.
func (b *linearBatch) Forward(y, x blas64.General, theta []float64) {
	w := b.l.weights(theta)
	beta := b.setBiasRows(y, theta)
	if b.sparse {
		if beta == 0 {
			clear(y.Data)
		}
		addSparseRows(y, x, transposed(&b.wt, w))
		return
	}
	gemm(blas.NoTrans, blas.Trans, x, w, beta, y) // y += X W^T
}

// addBiasSums adds (or with overwrite sets) the column sums of g to the
// bias of p; nothing without bias.
func (b *linearBatch) addBiasSums(p []float64, g blas64.General, overwrite bool) {
	gb, ok := b.l.bias(p)
	if !ok {
		return
	}
	for j := range gb.N {
		s := 0.0
		for r := range g.Rows {
			s += g.Data[r*g.Stride+j]
		}
		if overwrite {
			gb.Data[j*gb.Inc] = s
		} else {
			gb.Data[j*gb.Inc] += s
		}
	}
}

// Backward sets G_W = GY^T X, g_b = GY^T 1 and GX = GY W.
func (b *linearBatch) Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64) {
	if gtheta != nil {
		gw := b.l.weights(gtheta)
		if b.sparse {
			gwt := scratch(&b.gwt, gw.Rows*gw.Cols)
			clear(gwt)
			addSparseOuter(gwt, x, gy)
			addTransposed(gw, gwt, true)
		} else {
			gemm(blas.Trans, blas.NoTrans, gy, x, 0, gw) // G_W = GY^T X
		}
		b.addBiasSums(gtheta, gy, true)
	}
	if !empty(gx) {
		gemm(blas.NoTrans, blas.NoTrans, gy, b.l.weights(theta), 0, gx) // GY W
	}
}

// Tangent sets RY = X V^T + 1 c^T + RX W^T.
func (b *linearBatch) Tangent(ry, x, y, rx blas64.General, theta, v []float64) {
	beta := 0.0
	if v != nil {
		vw := b.l.weights(v)
		beta = b.setBiasRows(ry, v)
		if b.sparse {
			if beta == 0 {
				clear(ry.Data)
			}
			addSparseRows(ry, x, transposed(&b.wt, vw))
		} else {
			gemm(blas.NoTrans, blas.Trans, x, vw, beta, ry) // += X V^T
		}
		beta = 1
	}
	if !empty(rx) {
		gemm(blas.NoTrans, blas.Trans, rx, b.l.weights(theta), beta, ry) // += RX W^T
	} else if beta == 0 {
		clear(ry.Data)
	}
}

// BackwardTangent adds RGY^T X + GY^T RX to the weights of rtheta and
// RGY^T 1 to its bias, and sets RGX = GY V + RGY W.
func (b *linearBatch) BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64) {
	if rtheta != nil {
		hw := b.l.weights(rtheta)
		if b.sparse {
			acc := scratch(&b.acc, hw.Rows*hw.Cols)
			if !b.held {
				clear(acc)
				b.held = true
			}
			addSparseOuter(acc, x, rgy)
		} else {
			gemm(blas.Trans, blas.NoTrans, rgy, x, 1, hw) // += RGY^T X
		}
		if !empty(rx) {
			gemm(blas.Trans, blas.NoTrans, gy, rx, 1, hw) // += GY^T RX
		}
		b.addBiasSums(rtheta, rgy, false)
	}
	if !empty(rgx) {
		beta := 0.0
		if v != nil {
			gemm(blas.NoTrans, blas.NoTrans, gy, b.l.weights(v), 0, rgx) // GY V
			beta = 1
		}
		gemm(blas.NoTrans, blas.NoTrans, rgy, b.l.weights(theta), beta, rgx) // + RGY W
	}
}

// Flush adds the sparse weight sums of BackwardTangent to rtheta.
func (b *linearBatch) Flush(rtheta []float64) {
	if !b.held {
		return
	}
	addTransposed(b.l.weights(rtheta), b.acc, false)
	b.held = false
}

// SquaredGrad adds (GY o GY)^T (X o X) to the weights of dst and
// (GY o GY)^T 1 to its bias: row p's gradient is gy_p x_p^T, whose squares
// are (gy_p o gy_p)(x_p o x_p)^T.
func (b *linearBatch) SquaredGrad(dst []float64, gy, x blas64.General) {
	sq := blas64.General{Rows: x.Rows, Cols: x.Cols, Stride: x.Stride, Data: scratch(&b.sq, len(x.Data))}
	for i, v := range x.Data {
		sq.Data[i] = v * v
	}
	gq := blas64.General{Rows: gy.Rows, Cols: gy.Cols, Stride: gy.Stride, Data: scratch(&b.gq, len(gy.Data))}
	for i, v := range gy.Data {
		gq.Data[i] = v * v
	}
	gemm(blas.Trans, blas.NoTrans, gq, sq, 1, b.l.weights(dst))
	b.addBiasSums(dst, gq, false)
}

// addSparseRows adds to row p of z the sum over the non-zero x[p][i] of
// x[p][i] times row i of wt (the transposed weights or direction,
// n_in x n_out): z += X W^T visiting only the non-zero inputs.
func addSparseRows(z, x blas64.General, wt []float64) {
	n1 := z.Cols
	for p := range x.Rows {
		zp := z.Data[p*z.Stride : p*z.Stride+n1]
		for i, v := range x.Data[p*x.Stride : p*x.Stride+x.Cols] {
			if v != 0 {
				floats.AddScaled(zp, v, wt[i*n1:(i+1)*n1])
			}
		}
	}
}

// addSparseOuter adds (D^T X)^T to t (n_in x n_out) visiting only the
// non-zero inputs: row i of t gets x[p][i] d_p for every pattern p with
// x[p][i] != 0, patterns in order.
func addSparseOuter(t []float64, x, d blas64.General) {
	n1 := d.Cols
	for p := range x.Rows {
		dp := d.Data[p*d.Stride : p*d.Stride+n1]
		for i, v := range x.Data[p*x.Stride : p*x.Stride+x.Cols] {
			if v != 0 {
				floats.AddScaled(t[i*n1:(i+1)*n1], v, dp)
			}
		}
	}
}
