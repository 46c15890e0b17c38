package hessian

import (
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// The diagonal blocks of a RankOne curvature of a network whose weight
// layers are all Linear, from the layers' inputs and output-side vectors
// instead of the terms.
//
// A term of pattern p is u = J_p^T w (w a column of the output Hessian
// factor, the loss gradient, or a sampled output gradient), and its entry
// for the weight from input i to unit j of Linear layer l is the product
// g_j x_i of the unit's output-side derivative g = J_{z_l}^T w and the
// layer's input x (x_i = 1 for the bias). An entry of C between the
// parameters (l, j, i) and (l', j', i') is therefore
//
//	sum_p x_{p,i} x'_{p,i'} S_p,  S_p = sum_k g_{pk,j} g'_{pk,j'},
//
// the terms of a pattern collapsing into one weight S_p per pair of rows.
// A block of B parameters lies on one or two rows of one layer (B below
// the layer's width), so it costs B^2 multiply-adds per pattern instead
// of the terms' K B^2, and the K nf values of a pattern's terms are never
// formed (for a 784-1000-1000-10 MLP, 18 million per pattern). The sums
// are those of the terms, in another order, so the blocks agree with
// termRows's to rounding (TestLinearBlocksMatchTerms).

// rowsChunk is the number of patterns linearBlocks holds at a time.
const rowsChunk = 256

// rowSeg is a run of consecutive inputs i0..i0+n-1 of row j of weight
// layer l (1-based, i = cols the bias) that are consecutive free
// parameters of one block, at offset r in the block.
type rowSeg struct{ l, j, i0, n, r int }

// linearBlocks accumulates the blocks sum_m (X_m)_b (X_m)_b^T of c's
// terms, as termRows and BlockAccumulator.addRows do, for a network whose
// weight layers are all Linear; ok is false (and nothing is done) for any
// other network.
func linearBlocks(c *rankOne, starts []int) (blocks []*mat.SymDense, ok bool) {
	net := c.net
	L := net.NumLayers()
	layers := net.Layers()
	var lin []model.Linear // weight layer l at lin[l-1]
	for _, ly := range layers {
		if ly.NumParams() == 0 {
			continue
		}
		l, isLin := ly.(model.Linear)
		if !isLin {
			return nil, false
		}
		lin = append(lin, l)
	}
	if len(lin) != L {
		return nil, false
	}
	// The segments of every block.
	nb := len(starts) - 1
	segs := make([][]rowSeg, nb)
	for b := range nb {
		var s []rowSeg
		for a := starts[b]; a < starts[b+1]; a++ {
			l, j, i := net.Locate(c.free[a])
			if n := len(s); n > 0 {
				last := &s[n-1]
				if last.l == l && last.j == j && last.i0+last.n == i {
					last.n++
					continue
				}
			}
			s = append(s, rowSeg{l: l, j: j, i0: i, n: 1, r: a - starts[b]})
		}
		segs[b] = s
	}
	blocks = make([]*mat.SymDense, nb)
	for b := range blocks {
		blocks[b] = mat.NewSymDense(starts[b+1]-starts[b], nil)
	}

	P, K, S := len(c.X), net.NumOutputs(), c.perPattern
	H := 0
	unitOff := make([]int, L+1) // layer l's first unit among UnitJacobian's columns
	for l := 1; l <= L; l++ {
		unitOff[l] = H
		H += lin[l-1].Outputs
	}
	pc := min(rowsChunk, P)
	// Per chunk: xt[l] the inputs of layer l, transposed ((cols+1) x pc,
	// the last row ones), and g[l] the output-side vectors, pattern by
	// pattern, term by term (pc x S x Outputs).
	xt := make([][]float64, L+1)
	g := make([][]float64, L+1)
	for l := 1; l <= L; l++ {
		xt[l] = make([]float64, (lin[l-1].Inputs+1)*pc)
		g[l] = make([]float64, pc*S*lin[l-1].Outputs)
	}
	workers := runtime.GOMAXPROCS(0)
	type genWS struct {
		ws *model.Workspace
		uj []float64
		u  mat.Dense
		w  []float64
	}
	gens := make([]*genWS, workers)
	for w := range gens {
		gens[w] = &genWS{ws: net.NewWorkspace(), uj: make([]float64, K*H), w: make([]float64, K)}
	}
	var mc *generator // MCFisher's sampler, drawing in pattern order as termRows's
	var pis []float64
	if c.kind == MCFisher {
		mc = c.newGenerator()
		pis = make([]float64, pc*K)
	}
	ctx := contextOf(c)
	// outside writes g_l = J_{z_l}^T w for every layer into the term's row
	// of the chunk's g.
	outside := func(gw *genWS, q, k int, w []float64) {
		for l := 1; l <= L; l++ {
			out := lin[l-1].Outputs
			row := g[l][(q*S+k)*out : (q*S+k+1)*out]
			clear(row)
			o := unitOff[l]
			for c, wc := range w {
				if wc != 0 {
					floats.AddScaled(row, wc, gw.uj[c*H+o:c*H+o+out])
				}
			}
		}
	}
	var wg sync.WaitGroup
	for p0 := 0; p0 < P; p0 += pc {
		if cancelled(ctx) {
			return blocks, true // the caller sees the context's error
		}
		p1 := min(p0+pc, P)
		m := p1 - p0
		for wk := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				gw := gens[wk]
				for p := p0 + wk; p < p1; p += workers {
					q := p - p0
					x := c.X[p]
					net.UnitJacobian(gw.ws, gw.uj, x)
					acts := gw.ws.Activations()
					for l := 1; l <= L; l++ {
						in := lin[l-1].Inputs
						t := xt[l]
						for i, v := range acts[l-1][:in] {
							t[i*pc+q] = v
						}
						t[in*pc+q] = 1
					}
					switch c.kind {
					case GGN:
						net.OutputHessianFactor(gw.ws, &gw.u, x, floats.Sum(c.T[p]))
						for k := range S {
							for i := range gw.w {
								gw.w[i] = gw.u.At(i, k)
							}
							outside(gw, q, k, gw.w)
						}
					case EmpiricalFisher:
						net.OutputGrad(gw.ws, gw.w, x, c.T[p])
						outside(gw, q, 0, gw.w)
					case MCFisher:
						copy(pis[q*K:(q+1)*K], acts[L])
					}
				}
			}()
		}
		wg.Wait()
		if c.kind == MCFisher {
			// The samples in pattern order, from one generator as
			// termRows draws them; the Jacobians again, serially.
			gw := gens[0]
			scale := 1 / math.Sqrt(float64(S))
			for p := p0; p < p1; p++ {
				q := p - p0
				copy(mc.pi, pis[q*K:(q+1)*K])
				s := floats.Sum(c.T[p])
				net.UnitJacobian(gw.ws, gw.uj, c.X[p])
				for k := range S {
					mc.sample(s)
					for i := range gw.w {
						gw.w[i] = scale * mc.v[i]
					}
					outside(gw, q, k, gw.w)
				}
			}
		}
		addChunk(blocks, segs, xt, g, lin, S, m, pc)
	}
	return blocks, true
}

// addChunk adds a chunk's contributions to every block, the blocks shared
// out to GOMAXPROCS goroutines. For a pair of segments a <= b of a block,
// with U_a the rows of xt for a's inputs, row i of the pair's part of the
// block gains (S .* U_b) U_a[i] (one blas64.Gemv over the m patterns; for
// a == b only the rows from i on, the upper triangle).
func addChunk(blocks []*mat.SymDense, segs [][]rowSeg, xt, g [][]float64, lin []model.Linear, S, m, pc int) {
	workers := runtime.GOMAXPROCS(0)
	next := make(chan int, len(blocks))
	for b := range blocks {
		next <- b
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sw, v []float64
			for b := range next {
				s := blocks[b].RawSymmetric()
				sg := segs[b]
				for ai, a := range sg {
					ua := blas64.General{Rows: a.n, Cols: m, Stride: pc, Data: xt[a.l][a.i0*pc:]}
					outA := lin[a.l-1].Outputs
					for _, bb := range sg[ai:] {
						outB := lin[bb.l-1].Outputs
						// S_p = sum_k g_{pk,j} g'_{pk,j'}.
						sw = grow(sw, m)
						for p := range m {
							sum := 0.0
							ga := g[a.l][p*S*outA:]
							gb := g[bb.l][p*S*outB:]
							for k := range S {
								sum += ga[k*outA+a.j] * gb[k*outB+bb.j]
							}
							sw[p] = sum
						}
						// V = S .* U_b, row by row.
						v = grow(v, bb.n*m)
						for r := range bb.n {
							floats.MulTo(v[r*m:(r+1)*m], sw[:m], xt[bb.l][(bb.i0+r)*pc:(bb.i0+r)*pc+m])
						}
						V := blas64.General{Rows: bb.n, Cols: m, Stride: m, Data: v}
						for i := range a.n {
							ui := blas64.Vector{N: m, Inc: 1, Data: ua.Data[i*pc:]}
							r0 := 0
							if bb.r == a.r {
								r0 = i // the diagonal pair: the upper triangle
							}
							dst := blas64.Vector{N: bb.n - r0, Inc: 1, Data: s.Data[(a.r+i)*s.Stride+bb.r+r0:]}
							blas64.Gemv(blas.NoTrans, 1, rows(V, r0, bb.n, 0), ui, 1, dst)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
}
