package model

import (
	"fmt"

	"gonum.org/v1/gonum/blas/blas64"
)

// MaxPool2d is PyTorch's nn.MaxPool2d(Kernel) (stride Kernel, no padding,
// floor of the output size) over an input of Channels x Height x Width in
// PyTorch's memory order: y[c, i, j] is the largest of the Kernel x Kernel
// window of channel c at (i*Kernel, j*Kernel). Its derivatives are those of
// the selected input: where a window holds equal maxima the first in row
// order is selected, as PyTorch's CPU kernel does. No parameters.
type MaxPool2d struct {
	Channels, Height, Width, Kernel int
}

// AvgPool2d is PyTorch's nn.AvgPool2d(Kernel) (stride Kernel, no padding,
// floor of the output size): y[c, i, j] is the mean of the Kernel x Kernel
// window of channel c at (i*Kernel, j*Kernel). It is linear, without
// parameters.
type AvgPool2d struct {
	Channels, Height, Width, Kernel int
}

// Flatten is PyTorch's nn.Flatten: in this package's flat patterns the
// identity on Width values. It marks where a network's C x H x W shape
// becomes a vector.
type Flatten struct{ Width int }

// pool is the geometry the two pools share.
type pool struct{ c, h, w, k int }

func (p pool) oh() int  { return p.h / p.k }
func (p pool) ow() int  { return p.w / p.k }
func (p pool) in() int  { return p.c * p.h * p.w }
func (p pool) out() int { return p.c * p.oh() * p.ow() }

func (p pool) validate(kind string) error {
	if p.c < 1 || p.h < 1 || p.w < 1 || p.k < 1 {
		return fmt.Errorf("model: %s %dx%dx%d, kernel %d: sizes must be positive", kind, p.c, p.h, p.w, p.k)
	}
	if p.k > p.h || p.k > p.w {
		return fmt.Errorf("model: %s kernel %d does not fit a %dx%d input", kind, p.k, p.h, p.w)
	}
	return nil
}

// argmax returns the index in the pattern x of the first largest entry
// (in row order) of channel c's window at output (i, j).
func (p pool) argmax(x []float64, c, i, j int) int {
	base := c*p.h*p.w + i*p.k*p.w + j*p.k
	best := base
	m := x[best]
	for u := range p.k {
		row := base + u*p.w
		for v, xv := range x[row : row+p.k] {
			if xv > m {
				best, m = row+v, xv
			}
		}
	}
	return best
}

// each calls f(o, q) for every output o and the input q its window selects.
func (p pool) each(x []float64, f func(o, q int)) {
	oh, ow := p.oh(), p.ow()
	for c := range p.c {
		for i := range oh {
			for j := range ow {
				f((c*oh+i)*ow+j, p.argmax(x, c, i, j))
			}
		}
	}
}

func (m MaxPool2d) geom() pool      { return pool{m.Channels, m.Height, m.Width, m.Kernel} }
func (m MaxPool2d) Validate() error { return m.geom().validate("maxpool") }
func (m MaxPool2d) In() int         { return m.geom().in() }
func (m MaxPool2d) Out() int        { return m.geom().out() }
func (m MaxPool2d) NumParams() int  { return 0 }

// OutHeight and OutWidth return the output's size, Height/Kernel and
// Width/Kernel rounded down.
func (m MaxPool2d) OutHeight() int { return m.geom().oh() }
func (m MaxPool2d) OutWidth() int  { return m.geom().ow() }

// Forward sets y to the windows' maxima.
func (m MaxPool2d) Forward(y, x, theta []float64) {
	p := m.geom()
	oh, ow := p.oh(), p.ow()
	for c := range p.c {
		for i := range oh {
			yr := y[(c*oh+i)*ow : (c*oh+i+1)*ow]
			for j := range yr {
				yr[j] = x[p.argmax(x, c, i, j)]
			}
		}
	}
}

// Backward sets gx to gy at the selected inputs and 0 elsewhere.
func (m MaxPool2d) Backward(gx, gtheta, gy, x, y, theta []float64) {
	if gx == nil {
		return
	}
	clear(gx)
	p := m.geom()
	oh, ow := p.oh(), p.ow()
	for c := range p.c {
		for i := range oh {
			gr := gy[(c*oh+i)*ow : (c*oh+i+1)*ow]
			for j, g := range gr {
				gx[p.argmax(x, c, i, j)] += g
			}
		}
	}
}

// Tangent sets ry to rx at the selected inputs.
func (m MaxPool2d) Tangent(ry, x, y, rx, theta, v []float64) {
	if rx == nil {
		clear(ry)
		return
	}
	m.geom().each(x, func(o, q int) { ry[o] = rx[q] })
}

// BackwardTangent sets rgx to rgy at the selected inputs: the selection
// is locally constant, so the second-order term is zero.
func (m MaxPool2d) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	m.Backward(rgx, nil, rgy, x, y, nil)
}

// Batch returns m's batched forms: Forward selects every window's input
// (as argmax, rows split over up to GOMAXPROCS goroutines) and keeps the
// selection for the rules that follow on the same x (BatchLayer's
// contract), which copy or add through it.
func (m MaxPool2d) Batch(rows int) BatchLayer {
	if err := m.Validate(); err != nil {
		panic(err.Error())
	}
	return &maxPoolBatch{m: m}
}

// maxPoolBatch holds, for the rows of the x that sel identifies (its first
// element's address and rows), the index in its row of each output's
// selected input.
type maxPoolBatch struct {
	m       MaxPool2d
	sel     []int32
	selOf   *float64
	selRows int
}

// selection returns the selected inputs of x's rows, found again unless
// fresh is false and they are those of x.
func (b *maxPoolBatch) selection(x blas64.General, fresh bool) []int32 {
	if !fresh && len(x.Data) > 0 && b.selOf == &x.Data[0] && b.selRows == x.Rows {
		return b.sel
	}
	g := b.m.geom()
	out := g.out()
	if cap(b.sel) < x.Rows*out {
		b.sel = make([]int32, x.Rows*out)
	}
	sel := b.sel[:x.Rows*out]
	forRows(x.Rows, g.in(), func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			g.selectRow(sel[p*out:(p+1)*out], x.Data[p*x.Stride:p*x.Stride+x.Cols])
		}
	})
	b.sel, b.selRows = sel, x.Rows
	b.selOf = nil
	if len(x.Data) > 0 {
		b.selOf = &x.Data[0]
	}
	return sel
}

// selectRow sets sel[o] to argmax's choice for every output o of the
// pattern x; 2x2 windows (LeNet's) take an unrolled loop with the same
// comparisons in the same order.
func (p pool) selectRow(sel []int32, x []float64) {
	oh, ow := p.oh(), p.ow()
	o := 0
	for c := range p.c {
		for i := range oh {
			if p.k != 2 {
				for j := range ow {
					sel[o] = int32(p.argmax(x, c, i, j))
					o++
				}
				continue
			}
			r0 := c*p.h*p.w + 2*i*p.w
			r1 := r0 + p.w
			for j := range ow {
				best := r0 + 2*j
				m := x[best]
				if v := x[r0+2*j+1]; v > m {
					best, m = r0+2*j+1, v
				}
				if v := x[r1+2*j]; v > m {
					best, m = r1+2*j, v
				}
				if v := x[r1+2*j+1]; v > m {
					best = r1 + 2*j + 1
				}
				sel[o] = int32(best)
				o++
			}
		}
	}
}

// gatherSel sets row p of y to row p of x at the selection.
func gatherSel(y, x blas64.General, sel []int32) {
	out := y.Cols
	forRows(y.Rows, out, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			xr := x.Data[p*x.Stride : p*x.Stride+x.Cols]
			for o, q := range sel[p*out : (p+1)*out] {
				y.Data[p*y.Stride+o] = xr[q]
			}
		}
	})
}

// scatterSel sets row p of gx to row p of gy added at the selection, 0
// elsewhere.
func scatterSel(gx, gy blas64.General, sel []int32) {
	out := gy.Cols
	forRows(gx.Rows, gx.Cols, func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			gr := gx.Data[p*gx.Stride : p*gx.Stride+gx.Cols]
			clear(gr)
			for o, q := range sel[p*out : (p+1)*out] {
				gr[q] += gy.Data[p*gy.Stride+o]
			}
		}
	})
}

func (b *maxPoolBatch) Forward(y, x blas64.General, theta []float64) {
	gatherSel(y, x, b.selection(x, true))
}

func (b *maxPoolBatch) Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64) {
	if !empty(gx) {
		scatterSel(gx, gy, b.selection(x, false))
	}
}

func (b *maxPoolBatch) Tangent(ry, x, y, rx blas64.General, theta, v []float64) {
	if empty(rx) {
		clear(ry.Data)
		return
	}
	gatherSel(ry, rx, b.selection(x, false))
}

func (b *maxPoolBatch) BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64) {
	if !empty(rgx) {
		scatterSel(rgx, rgy, b.selection(x, false))
	}
}

func (*maxPoolBatch) Flush([]float64)                                 {}
func (*maxPoolBatch) SquaredGrad(dst []float64, gy, x blas64.General) {}

func (a AvgPool2d) geom() pool      { return pool{a.Channels, a.Height, a.Width, a.Kernel} }
func (a AvgPool2d) Validate() error { return a.geom().validate("avgpool") }
func (a AvgPool2d) In() int         { return a.geom().in() }
func (a AvgPool2d) Out() int        { return a.geom().out() }
func (a AvgPool2d) NumParams() int  { return 0 }

// OutHeight and OutWidth return the output's size, Height/Kernel and
// Width/Kernel rounded down.
func (a AvgPool2d) OutHeight() int { return a.geom().oh() }
func (a AvgPool2d) OutWidth() int  { return a.geom().ow() }

// mean sets y to the window means of x.
func (a AvgPool2d) mean(y, x []float64) {
	p := a.geom()
	oh, ow := p.oh(), p.ow()
	s := 1 / float64(p.k*p.k)
	for c := range p.c {
		for i := range oh {
			for j := range ow {
				t := 0.0
				for u := range p.k {
					base := c*p.h*p.w + (i*p.k+u)*p.w + j*p.k
					for _, v := range x[base : base+p.k] {
						t += v
					}
				}
				y[(c*oh+i)*ow+j] = t * s
			}
		}
	}
}

// spread sets gx to each of gy's entries divided among its window, the
// transpose of mean.
func (a AvgPool2d) spread(gx, gy []float64) {
	p := a.geom()
	oh, ow := p.oh(), p.ow()
	s := 1 / float64(p.k*p.k)
	clear(gx)
	for c := range p.c {
		for i := range oh {
			for j := range ow {
				g := gy[(c*oh+i)*ow+j] * s
				for u := range p.k {
					base := c*p.h*p.w + (i*p.k+u)*p.w + j*p.k
					for v := range p.k {
						gx[base+v] += g
					}
				}
			}
		}
	}
}

// Forward sets y to the windows' means.
func (a AvgPool2d) Forward(y, x, theta []float64) { a.mean(y, x) }

// Backward spreads gy evenly over the windows.
func (a AvgPool2d) Backward(gx, gtheta, gy, x, y, theta []float64) {
	if gx != nil {
		a.spread(gx, gy)
	}
}

// Tangent sets ry to the windows' means of rx.
func (a AvgPool2d) Tangent(ry, x, y, rx, theta, v []float64) {
	if rx == nil {
		clear(ry)
		return
	}
	a.mean(ry, rx)
}

// BackwardTangent spreads rgy: the pool is linear.
func (a AvgPool2d) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	if rgx != nil {
		a.spread(rgx, rgy)
	}
}

// Batch returns a's batched forms, the single-pattern rules row by row.
func (a AvgPool2d) Batch(rows int) BatchLayer {
	if err := a.Validate(); err != nil {
		panic(err.Error())
	}
	return rowBatch{a}
}

func (f Flatten) In() int        { return f.Width }
func (f Flatten) Out() int       { return f.Width }
func (f Flatten) NumParams() int { return 0 }

// Forward copies x.
func (f Flatten) Forward(y, x, theta []float64) { copy(y, x) }

// Backward copies gy.
func (f Flatten) Backward(gx, gtheta, gy, x, y, theta []float64) { copy(gx, gy) }

// Tangent copies rx.
func (f Flatten) Tangent(ry, x, y, rx, theta, v []float64) {
	if rx == nil {
		clear(ry)
		return
	}
	copy(ry, rx)
}

// BackwardTangent copies rgy.
func (f Flatten) BackwardTangent(rgx, rtheta, x, y, rx, gy, rgy, theta, v []float64) {
	copy(rgx, rgy)
}

// Batch returns f's batched forms, the single-pattern rules row by row.
func (f Flatten) Batch(rows int) BatchLayer { return rowBatch{f} }

// rowBatch is the batched form of a layer without parameters: its
// single-pattern rules applied row by row.
type rowBatch struct{ l Layer }

func rowOf(g blas64.General, p int) []float64 {
	if empty(g) {
		return nil
	}
	return g.Data[p*g.Stride : p*g.Stride+g.Cols]
}

// rows calls f(p) for every row p, the rows split over up to GOMAXPROCS
// goroutines when the batch is large (forRows): each row's rule writes
// only that row.
func (b rowBatch) rows(n int, f func(p int)) {
	forRows(n, b.l.In(), func(p0, p1 int) {
		for p := p0; p < p1; p++ {
			f(p)
		}
	})
}

func (b rowBatch) Forward(y, x blas64.General, theta []float64) {
	b.rows(x.Rows, func(p int) { b.l.Forward(rowOf(y, p), rowOf(x, p), nil) })
}

func (b rowBatch) Backward(gx blas64.General, gtheta []float64, gy, x, y blas64.General, theta []float64) {
	if empty(gx) {
		return
	}
	b.rows(gy.Rows, func(p int) { b.l.Backward(rowOf(gx, p), nil, rowOf(gy, p), rowOf(x, p), rowOf(y, p), nil) })
}

func (b rowBatch) Tangent(ry, x, y, rx blas64.General, theta, v []float64) {
	b.rows(ry.Rows, func(p int) { b.l.Tangent(rowOf(ry, p), rowOf(x, p), rowOf(y, p), rowOf(rx, p), nil, nil) })
}

func (b rowBatch) BackwardTangent(rgx blas64.General, rtheta []float64, x, y, rx, gy, rgy blas64.General, theta, v []float64) {
	if empty(rgx) {
		return
	}
	b.rows(rgy.Rows, func(p int) {
		b.l.BackwardTangent(rowOf(rgx, p), nil, rowOf(x, p), rowOf(y, p), rowOf(rx, p), rowOf(gy, p), rowOf(rgy, p), nil, nil)
	})
}

func (rowBatch) Flush([]float64)                                 {}
func (rowBatch) SquaredGrad(dst []float64, gy, x blas64.General) {}
