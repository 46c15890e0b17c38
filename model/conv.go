package model

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Conv2d is the two-dimensional convolution of PyTorch's nn.Conv2d with
// dilation 1 and groups 1: an input of Channels x Height x Width and an
// output of OutChannels x OutHeight() x OutWidth(), both flat in PyTorch's
// memory order (channel, row, column), so a pattern is one flat vector
// and a batch of them is PyTorch's N x C x H x W tensor. Zero padding of
// Padding on every side; Stride 0 means 1.
//
//	y[o, i, j] = b[o] + sum_{c,u,v} W[o, c, u, v] x[c, i*s - p + u, j*s - p + v]
//
// Its parameter block is laid out as Linear's with one row per output
// channel: the row's Channels*Kernel*Kernel weights in PyTorch's order
// (c, u, v), then the channel's bias,
//
//	theta[o*(CKK+1) + (c*Kernel + u)*Kernel + v] = W[o, c, u, v],  theta[o*(CKK+1) + CKK] = b[o],
//
// CKK = Channels*Kernel*Kernel; with NoBias the rows have no bias
// (stride CKK).
//
// Every rule is a product with the im2col matrix of its input, the
// CKK x (patterns*positions) matrix whose column for a pattern and an
// output position holds the input patch that position sees (Chellapilla,
// Puri & Simard, "High performance convolutional neural networks for
// document processing", 2006): y = W col + b, and the gradients and
// tangents are the dense layer's with col for the input. The products
// are gonum BLAS (gemm, tiled in the pure-Go build as Linear's); the
// single-pattern forms are the batched ones on one row, their scratch
// taken from a pool.
type Conv2d struct {
	Channels, Height, Width int
	OutChannels, Kernel     int
	Stride, Padding         int
	NoBias                  bool
}

func (l Conv2d) stride() int {
	if l.Stride == 0 {
		return 1
	}
	return l.Stride
}

// OutHeight returns the output's rows, (Height + 2 Padding - Kernel)/Stride + 1.
func (l Conv2d) OutHeight() int { return (l.Height+2*l.Padding-l.Kernel)/l.stride() + 1 }

// OutWidth returns the output's columns, (Width + 2 Padding - Kernel)/Stride + 1.
func (l Conv2d) OutWidth() int { return (l.Width+2*l.Padding-l.Kernel)/l.stride() + 1 }

// Validate reports whether l's shape is a convolution: positive sizes, a
// kernel that fits the padded input and a padding below the kernel.
func (l Conv2d) Validate() error {
	if l.Channels < 1 || l.Height < 1 || l.Width < 1 || l.OutChannels < 1 || l.Kernel < 1 || l.Stride < 0 || l.Padding < 0 {
		return fmt.Errorf("model: conv %dx%dx%d -> %d channels, kernel %d, stride %d, padding %d: sizes must be positive", l.Channels, l.Height, l.Width, l.OutChannels, l.Kernel, l.Stride, l.Padding)
	}
	if l.Kernel > l.Height+2*l.Padding || l.Kernel > l.Width+2*l.Padding {
		return fmt.Errorf("model: conv kernel %d does not fit a %dx%d input with padding %d", l.Kernel, l.Height, l.Width, l.Padding)
	}
	if l.Padding >= l.Kernel {
		return fmt.Errorf("model: conv padding %d must be smaller than the kernel %d", l.Padding, l.Kernel)
	}
	return nil
}

func (l Conv2d) In() int  { return l.Channels * l.Height * l.Width }
func (l Conv2d) Out() int { return l.OutChannels * l.OutHeight() * l.OutWidth() }

// patch returns CKK, the length of one output channel's weights.
func (l Conv2d) patch() int { return l.Channels * l.Kernel * l.Kernel }

func (l Conv2d) rowStride() int {
	if l.NoBias {
		return l.patch()
	}
	return l.patch() + 1
}

func (l Conv2d) NumParams() int { return l.OutChannels * l.rowStride() }

// weights returns W (OutChannels x CKK) as a view into theta.
func (l Conv2d) weights(theta []float64) blas64.General {
	if len(theta) != l.NumParams() {
		panic(fmt.Sprintf("model: conv block has %d parameters, want %d", len(theta), l.NumParams()))
	}
	return blas64.General{Rows: l.OutChannels, Cols: l.patch(), Stride: l.rowStride(), Data: theta}
}

// one returns the single pattern v as a 1-row batch (empty if v is nil).
func one(v []float64) blas64.General {
	if v == nil {
		return blas64.General{}
	}
	return blas64.General{Rows: 1, Cols: len(v), Stride: len(v), Data: v}
}

// Forward sets y = W * x + b.
func (l Conv2d) Forward(y, x, theta []float64) {
	b := l.single()
	defer convPool.Put(b)
	b.Forward(one(y), one(x), theta)
}

// Backward sets gtheta to the weight gradient gy col^T (and the bias's,
// gy summed over the positions) and gx to the transposed convolution of gy.
func (l Conv2d) Backward(gx, gtheta, gy, x, y, theta []float64) {
	b := l.single()
	defer convPool.Put(b)
	b.Backward(one(gx), gtheta, one(gy), one(x), one(y), theta)
}

// Tangent sets ry = V * x + c + W * rx for the direction v = (V, c).
func (l Conv2d) Tangent(ry, x, y, rx, theta, v []float64) {
	b := l.single()
	defer convPool.Put(b)
	b.Tangent(one(ry), one(x), one(y), one(rx), theta, v)
}

// BackwardTangent sets rtheta to rgy col^T + gy rcol^T (and rgy summed
// over the positions for the bias) and rgx to the transposed convolutions
// of gy by V and of rgy by W.
func (l Conv2d) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	b := l.single()
	defer convPool.Put(b)
	clear(rtheta)
	b.BackwardTangent(one(rgx), rtheta, one(x), one(y), one(rx), one(gy), one(rgy), theta, v)
}

// convPool holds the scratch of the single-pattern forms, so that loops
// over patterns (the per-pattern Jacobians of the curvatures) reuse it.
var convPool = sync.Pool{New: func() any { return new(convBatch) }}

// single returns a convBatch of l from convPool; the caller puts it back.
func (l Conv2d) single() *convBatch {
	b := convPool.Get().(*convBatch)
	b.l = l
	b.colOf = nil
	return b
}

// Batch returns l's batched forms; their scratch (im2col matrices of
// CKK x rows*positions) is allocated on first use.
func (l Conv2d) Batch(rows int) BatchLayer {
	if err := l.Validate(); err != nil {
		panic(err.Error())
	}
	return &convBatch{l: l}
}

// convBatch is Conv2d's batched forms with their scratch: col and rcol
// the im2col matrices of x and rx, gcol a cotangent of col, big and rbig
// outputs or cotangents as OutChannels x rows*positions matrices (the
// product's layout), tmp one pattern's weight gradient.
//
// col is kept between calls: it holds the im2col matrix of the input
// colOf identifies (its first element's address and its rows), so the
// rules that follow a Forward on the same x (Backward, Tangent,
// BackwardTangent, SquaredGrad; BatchLayer's contract: x unchanged since
// that Forward) reuse it instead of forming it again. single() forgets it,
// since the single-pattern forms' callers may reuse a buffer with new
// values.
type convBatch struct {
	l                              Conv2d
	col, rcol, gcol, big, rbig, sq []float64
	colOf                          *float64
	colRows                        int
}

// colFor returns the im2col matrix of x in b.col, formed by Forward (fresh)
// or, for the other rules, reused when b.col already holds x's.
func (b *convBatch) colFor(x blas64.General, fresh bool) blas64.General {
	n := x.Rows * b.l.OutHeight() * b.l.OutWidth()
	if len(x.Data) == 0 {
		return b.im2col(&b.col, x)
	}
	if !fresh && b.colOf == &x.Data[0] && b.colRows == x.Rows {
		return blas64.General{Rows: b.l.patch(), Cols: n, Stride: n, Data: b.col[:b.l.patch()*n]}
	}
	col := b.im2col(&b.col, x)
	b.colOf, b.colRows = &x.Data[0], x.Rows
	return col
}

// span returns the output columns j0 <= j < j1 of a row whose input
// column j*s - p + v falls inside 0..w-1 (the others read the padding).
func span(ow, w, s, p, v int) (j0, j1 int) {
	if p > v {
		j0 = (p - v + s - 1) / s
	}
	if t := w - 1 + p - v; t >= 0 {
		j1 = min(ow, t/s+1)
	}
	return j0, max(j0, j1)
}

// im2col fills col (CKK x r*S, S the output positions) from the r
// patterns of x, pattern by pattern on up to GOMAXPROCS goroutines (each
// writes its own columns). With stride 1 a row of a patch is a copy of
// a row of the input.
func (b *convBatch) im2col(buf *[]float64, x blas64.General) blas64.General {
	l := b.l
	oh, ow, s, k, pad := l.OutHeight(), l.OutWidth(), l.stride(), l.Kernel, l.Padding
	S := oh * ow
	n := x.Rows * S
	col := blas64.General{Rows: l.patch(), Cols: n, Stride: n, Data: scratch(buf, l.patch()*n)}
	forRows(x.Rows, l.patch()*S, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			for c := range l.Channels {
				xc := x.Data[p*x.Stride+c*l.Height*l.Width:]
				for u := range k {
					for v := range k {
						base := ((c*k+u)*k+v)*n + p*S
						j0, j1 := span(ow, l.Width, s, pad, v)
						for i := range oh {
							dst := col.Data[base+i*ow : base+(i+1)*ow]
							ih := i*s - pad + u
							if ih < 0 || ih >= l.Height {
								clear(dst)
								continue
							}
							xr := xc[ih*l.Width : (ih+1)*l.Width]
							clear(dst[:j0])
							clear(dst[j1:])
							if s == 1 {
								copy(dst[j0:j1], xr[j0-pad+v:])
								continue
							}
							for j := j0; j < j1; j++ {
								dst[j] = xr[j*s-pad+v]
							}
						}
					}
				}
			}
		}
	})
	return col
}

// col2im sets gx to the sum, over the columns of gcol (CKK x r*S), of each
// entry added to the input it was read from: the transpose of im2col.
// Patterns are independent (on up to GOMAXPROCS goroutines); within one
// the terms are added in the order (c, u, v, i, j).
func (b *convBatch) col2im(gx, gcol blas64.General) {
	l := b.l
	oh, ow, s, k, pad := l.OutHeight(), l.OutWidth(), l.stride(), l.Kernel, l.Padding
	S := oh * ow
	n := gcol.Cols
	forRows(gx.Rows, l.patch()*S, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			clear(gx.Data[p*gx.Stride : p*gx.Stride+gx.Cols])
			for c := range l.Channels {
				xc := gx.Data[p*gx.Stride+c*l.Height*l.Width:]
				for u := range k {
					for v := range k {
						base := ((c*k+u)*k+v)*n + p*S
						j0, j1 := span(ow, l.Width, s, pad, v)
						for i := range oh {
							ih := i*s - pad + u
							if ih < 0 || ih >= l.Height {
								continue
							}
							src := gcol.Data[base+i*ow : base+(i+1)*ow]
							xr := xc[ih*l.Width : (ih+1)*l.Width]
							if s == 1 {
								dst := xr[j0-pad+v : j1-pad+v]
								for j, g := range src[j0:j1] {
									dst[j] += g
								}
								continue
							}
							for j := j0; j < j1; j++ {
								xr[j*s-pad+v] += src[j]
							}
						}
					}
				}
			}
		}
	})
}

// gather returns the r patterns of g (r x OutChannels*S) as the
// OutChannels x r*S matrix of the products, in *buf.
func (b *convBatch) gather(buf *[]float64, g blas64.General) blas64.General {
	S := b.l.OutHeight() * b.l.OutWidth()
	n := g.Rows * S
	m := blas64.General{Rows: b.l.OutChannels, Cols: n, Stride: n, Data: scratch(buf, b.l.OutChannels*n)}
	forRows(g.Rows, g.Cols, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			for o := range b.l.OutChannels {
				copy(m.Data[o*n+p*S:o*n+(p+1)*S], g.Data[p*g.Stride+o*S:p*g.Stride+(o+1)*S])
			}
		}
	})
	return m
}

// scatter sets the r patterns of y from m (OutChannels x r*S), adding the
// bias of p (a parameter block or direction) when there is one and p is
// not nil.
func (b *convBatch) scatter(y, m blas64.General, p []float64) {
	l := b.l
	S := l.OutHeight() * l.OutWidth()
	n := m.Cols
	forRows(y.Rows, y.Cols, func(r0, r1 int) {
		for r := r0; r < r1; r++ {
			for o := range l.OutChannels {
				dst := y.Data[r*y.Stride+o*S : r*y.Stride+(o+1)*S]
				src := m.Data[o*n+r*S : o*n+(r+1)*S]
				if l.NoBias || p == nil {
					copy(dst, src)
					continue
				}
				c := p[o*l.rowStride()+l.patch()]
				for i, v := range src {
					dst[i] = v + c
				}
			}
		}
	})
}

// addBiasSums adds (or with overwrite sets) the row sums of m
// (OutChannels x r*S) to the bias of p.
func (b *convBatch) addBiasSums(p []float64, m blas64.General, overwrite bool) {
	if b.l.NoBias {
		return
	}
	for o := range m.Rows {
		s := 0.0
		for _, v := range m.Data[o*m.Stride : o*m.Stride+m.Cols] {
			s += v
		}
		q := o*b.l.rowStride() + b.l.patch()
		if overwrite {
			p[q] = s
		} else {
			p[q] += s
		}
	}
}

func (b *convBatch) outMatrix(buf *[]float64, rows int) blas64.General {
	n := rows * b.l.OutHeight() * b.l.OutWidth()
	return blas64.General{Rows: b.l.OutChannels, Cols: n, Stride: n, Data: scratch(buf, b.l.OutChannels*n)}
}

func (b *convBatch) colMatrix(buf *[]float64, rows int) blas64.General {
	n := rows * b.l.OutHeight() * b.l.OutWidth()
	return blas64.General{Rows: b.l.patch(), Cols: n, Stride: n, Data: scratch(buf, b.l.patch()*n)}
}

// Forward sets Y = W col(X) + b.
func (b *convBatch) Forward(y, x blas64.General, theta []float64) {
	col := b.colFor(x, true)
	big := b.outMatrix(&b.big, x.Rows)
	gemm(blas.NoTrans, blas.NoTrans, b.l.weights(theta), col, 0, big)
	b.scatter(y, big, theta)
}

// Backward sets G_W = GY col(X)^T, g_b = GY 1 and GX = col2im(W^T GY).
func (b *convBatch) Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64) {
	g := b.gather(&b.big, gy)
	if gtheta != nil {
		col := b.colFor(x, false)
		gemm(blas.NoTrans, blas.Trans, g, col, 0, b.l.weights(gtheta))
		b.addBiasSums(gtheta, g, true)
	}
	if !empty(gx) {
		gcol := b.colMatrix(&b.gcol, gy.Rows)
		gemm(blas.Trans, blas.NoTrans, b.l.weights(theta), g, 0, gcol)
		b.col2im(gx, gcol)
	}
}

// Tangent sets RY = V col(X) + c + W col(RX).
func (b *convBatch) Tangent(ry, x, y, rx blas64.General, theta, v []float64) {
	big := b.outMatrix(&b.big, ry.Rows)
	beta := 0.0
	if v != nil {
		gemm(blas.NoTrans, blas.NoTrans, b.l.weights(v), b.colFor(x, false), 0, big)
		beta = 1
	}
	if !empty(rx) {
		gemm(blas.NoTrans, blas.NoTrans, b.l.weights(theta), b.im2col(&b.rcol, rx), beta, big)
	} else if beta == 0 {
		clear(big.Data)
	}
	b.scatter(ry, big, v)
}

// BackwardTangent adds RGY col(X)^T + GY col(RX)^T to the weights of rtheta
// and RGY 1 to its bias, and sets RGX = col2im(V^T GY + W^T RGY).
func (b *convBatch) BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64) {
	rg := b.gather(&b.rbig, rgy)
	needG := (rtheta != nil && !empty(rx)) || (!empty(rgx) && v != nil)
	var g blas64.General
	if needG {
		g = b.gather(&b.big, gy)
	}
	if rtheta != nil {
		hw := b.l.weights(rtheta)
		gemm(blas.NoTrans, blas.Trans, rg, b.colFor(x, false), 1, hw)
		if !empty(rx) {
			gemm(blas.NoTrans, blas.Trans, g, b.im2col(&b.rcol, rx), 1, hw)
		}
		b.addBiasSums(rtheta, rg, false)
	}
	if !empty(rgx) {
		gcol := b.colMatrix(&b.gcol, rgy.Rows)
		beta := 0.0
		if v != nil {
			gemm(blas.Trans, blas.NoTrans, b.l.weights(v), g, 0, gcol)
			beta = 1
		}
		gemm(blas.Trans, blas.NoTrans, b.l.weights(theta), rg, beta, gcol)
		b.col2im(rgx, gcol)
	}
}

func (b *convBatch) Flush([]float64) {}

// SquaredGrad adds, for every row p, the squares of the pattern's
// gradient GY_p col(X_p)^T (and of GY_p 1 for the bias) to dst. Unlike
// Linear's, a pattern's weight gradient is a sum over positions, so its
// square is formed pattern by pattern.
func (b *convBatch) SquaredGrad(dst []float64, gy, x blas64.General) {
	l := b.l
	g := b.gather(&b.big, gy)
	col := b.colFor(x, false)
	S := l.OutHeight() * l.OutWidth()
	kk := l.patch()
	tmp := blas64.General{Rows: l.OutChannels, Cols: kk, Stride: kk, Data: scratch(&b.sq, l.OutChannels*kk)}
	rs := l.rowStride()
	for p := range gy.Rows {
		gp := blas64.General{Rows: l.OutChannels, Cols: S, Stride: g.Stride, Data: g.Data[p*S:]}
		cp := blas64.General{Rows: kk, Cols: S, Stride: col.Stride, Data: col.Data[p*S:]}
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, gp, cp, 0, tmp)
		for o := range l.OutChannels {
			for i, w := range tmp.Data[o*kk : (o+1)*kk] {
				dst[o*rs+i] += w * w
			}
			if !l.NoBias {
				s := 0.0
				for _, v := range gp.Data[o*gp.Stride : o*gp.Stride+S] {
					s += v
				}
				dst[o*rs+kk] += s * s
			}
		}
	}
}

// Patches returns the im2col rows of the patterns X (N x In()): the
// N*S x Channels*Kernel^2 matrix whose row p*S + s holds the input patch
// output position s of pattern p sees (zeros where it covers the
// padding), in the order of a weight row, so that output channel o at
// that position is the row's product with W's row o, plus the bias.
func (l Conv2d) Patches(X *mat.Dense) *mat.Dense {
	n, in := X.Dims()
	if in != l.In() {
		panic(fmt.Sprintf("model: conv patches of %d inputs, want %d", in, l.In()))
	}
	b := convBatch{l: l}
	raw := X.RawMatrix()
	col := b.im2col(&b.col, blas64.General{Rows: n, Cols: in, Stride: raw.Stride, Data: raw.Data})
	out := mat.NewDense(col.Cols, col.Rows, nil)
	out.Copy(mat.NewDense(col.Rows, col.Cols, col.Data).T())
	return out
}
