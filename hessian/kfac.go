package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// KFAC is the Kronecker-factored approximate curvature (K-FAC; Martens &
// Grosse, "Optimizing neural networks with Kronecker-factored approximate
// curvature", ICML 2015; for convolutions KFC, Grosse & Martens, "A
// Kronecker-factored approximate Fisher matrix for convolution layers",
// ICML 2016; the kfac pruner of WoodFisher, Singh & Alistarh, NeurIPS
// 2020): block-diagonal over the Linear and Conv2d layers, each block a
// Kronecker product of two small factors,
//
//	C_l = G_l ⊗ A_l + Decay I,
//	A_l = (1/P) sum_p sum_t abar_pt abar_pt^T            the layer's inputs, abar = (a, 1) with a bias
//	G_l = (1/(P |T|)) sum_p sum_t sum_k g_pkt g_pkt^T     output-side vectors g_pkt = J_{z_l,p,t}^T u_pk
//
// over the layer's |T| output positions t (KFACLayer.Positions). A Linear
// has one: a_p1 is its input and J_{z_l,p,1} = df/dz_l the Jacobian of the
// Gauss–Newton output f with respect to its output z_l (pre-activation).
// A Conv2d has OutHeight*OutWidth: a_pt is the im2col patch position t
// sees (Channels*Kernel*Kernel inputs, zeros over the padding, in the
// order of a weight row; model.Conv2d.Patches) and J_{z_l,p,t} the
// Jacobian of f with respect to the conv's Outputs channels at t. u_pk
// are the columns of a factor U_p U_p^T = L_p of the loss Hessian
// (model.MLP.OutputHessianFactor) for GGN, or the S sampled output
// gradients v_ps / sqrt(S) of MCFisher (the same samples, from the same
// Options.Seed, as New's MCFisher). The Kronecker order is that of the
// layer's parameter block (row j of W, then its bias: index
// j*Stride() + i; for a Conv2d row j is output channel j and i runs over
// its patch, model.Conv2d), so [C_l]_{(j,i),(j',i')} = [G_l]_jj' [A_l]_ii'
// + Decay delta, and mat.Kronecker(dst, G, A) is the block.
//
// Per pattern, a Linear's sum_k (g_k ⊗ abar)(g_k ⊗ abar)^T =
// (sum_k g_k g_k^T) ⊗ abar abar^T is exactly the pattern's GGN (or MC
// Fisher) block: with one pattern every Linear block of KFAC equals that
// of New's curvature of the same kind; with more it is the K-FAC
// approximation (the expectation of a product taken as the product of
// expectations), and the blocks between layers are taken as 0. A conv
// weight is used at every position, so a pattern's block is
// sum_k sum_t sum_t' (g_kt g_kt'^T) ⊗ (abar_t abar_t'^T); KFC's
// assumptions — activations independent of the derivatives, spatial
// homogeneity (the same second moments at every position) and spatially
// uncorrelated derivatives (E[g_t g_t'^T] = 0 for t != t') — reduce it to
// (1/|T|) (E sum_t g g^T) ⊗ (E sum_t abar abar^T), the G ⊗ A above, exact
// when the conv has one output position and there is one pattern. Under
// the assumptions the block is sum_t E[g_t g_t^T] ⊗ E[abar_t abar_t^T]
// with E[g_t g_t^T] the same at every t, estimated as the mean over the
// positions: so the 1/|T| is put on G, A's bias entry is |T| (the bias is
// added at every position) and |T| = 1 gives Linear's factors. Where it
// goes changes no inverse: π-damping (Inverses) scales the damped factors
// by c and 1/c when A and G are.
//
// Memory is the factors, sum_l Stride_l^2 + Outputs_l^2 floats, plus one
// pattern's patches and output-side vectors of a conv layer while it is
// built, never an n x n matrix (Dense forms one, for tests and small
// networks).
type KFAC struct {
	kind   Kind
	free   []int
	p      int
	decay  float64
	layers []KFACLayer
}

// KFACLayer is one Linear or Conv2d layer's factors.
type KFACLayer struct {
	// Offset is the index of the layer's first parameter in the network's
	// flat parameter vector; the layer has Outputs*Stride() parameters.
	// Inputs and Outputs are a Linear's inputs and outputs, a Conv2d's
	// Channels*Kernel*Kernel (one patch) and output channels.
	Offset          int
	Inputs, Outputs int
	// Bias reports whether the layer has a bias, the constant-1 input
	// that is A's last row and column.
	Bias bool
	// Positions is the number of output positions |T| a weight is used
	// at: 1 for a Linear, OutHeight*OutWidth for a Conv2d.
	Positions int
	// A is Stride() x Stride(), G is Outputs x Outputs.
	A, G *mat.SymDense

	conv *model.Conv2d // the layer, if a Conv2d
}

// Stride returns the length of one row of the layer's block, Inputs+1
// with a bias, else Inputs: A's size.
func (l *KFACLayer) Stride() int {
	if l.Bias {
		return l.Inputs + 1
	}
	return l.Inputs
}

// NumParams returns Outputs*Stride().
func (l *KFACLayer) NumParams() int { return l.Outputs * l.Stride() }

// kfacChunk is the number of rows gathered before one rank-k update of a
// factor.
const kfacChunk = 256

// NewKFAC returns the K-FAC curvature of kind GGN or MCFisher at net's
// current weights over the patterns X, T (opts as New's, MCFisher only),
// restricted to net's free parameters (pruned weights are 0 in the
// factors' statistics, and their rows and columns are left out of Dim,
// Dense and Diag). Every layer of net with parameters must be a
// model.Linear or a model.Conv2d. It returns ctx's error if ctx is
// cancelled during the build, and an error for other kinds, other layers
// with parameters, data that do not fit net, or a network with every
// parameter pruned. The factors are computed once;
// the curvature keeps no reference to net, X or T.
func NewKFAC(ctx context.Context, kind Kind, net *model.MLP, X, T [][]float64, opts *Options) (*KFAC, error) {
	if net == nil {
		return nil, fmt.Errorf("hessian: nil network")
	}
	if kind != GGN && kind != MCFisher {
		return nil, fmt.Errorf("hessian: K-FAC is built for %v or %v, not %v", GGN, MCFisher, kind)
	}
	free, err := checkNet(net, X, T)
	if err != nil {
		return nil, err
	}
	c := &KFAC{kind: kind, free: free, p: len(X), decay: net.Decay}
	off, H := 0, 0
	var unitOff []int // each weight layer's first unit among UnitJacobian's columns
	for _, ly := range net.Layers() {
		n := ly.NumParams()
		if n == 0 {
			continue
		}
		var L KFACLayer
		switch w := ly.(type) {
		case model.Linear:
			L = KFACLayer{Offset: off, Inputs: w.Inputs, Outputs: w.Outputs, Bias: !w.NoBias, Positions: 1}
		case model.Conv2d:
			L = KFACLayer{Offset: off, Inputs: w.Channels * w.Kernel * w.Kernel, Outputs: w.OutChannels, Bias: !w.NoBias,
				Positions: w.OutHeight() * w.OutWidth(), conv: &w}
		default:
			return nil, fmt.Errorf("hessian: K-FAC needs Linear or Conv2d layers, the network has a %T", ly)
		}
		if L.NumParams() != n {
			panic(fmt.Sprintf("hessian: K-FAC layer of %d parameters, the network's has %d", L.NumParams(), n))
		}
		L.A = mat.NewSymDense(L.Stride(), nil)
		L.G = mat.NewSymDense(L.Outputs, nil)
		c.layers = append(c.layers, L)
		unitOff = append(unitOff, H)
		off += n
		H += ly.Out()
	}

	var g *generator // MCFisher's sampler, drawing what New's would
	S := 1
	switch kind {
	case GGN:
		S = net.NumOutputs()
	case MCFisher:
		o, err := opts.resolve()
		if err != nil {
			return nil, err
		}
		S = o.Samples
		rc := &rankOne{base: base{kind: kind, net: net}, perPattern: S, opts: o}
		K := net.NumOutputs()
		g = &generator{c: rc, pi: make([]float64, K), v: make([]float64, K), rng: rand.New(rand.NewPCG(o.Seed, mcStream))}
	}
	K := net.NumOutputs()
	as := make([]*gram, len(c.layers))
	gs := make([]*gram, len(c.layers))
	for l := range c.layers {
		as[l] = newGram(c.layers[l].A)
		gs[l] = newGram(c.layers[l].G)
	}
	convG := make([][]float64, len(c.layers)) // a conv layer's output-side vectors at every position
	for l, L := range c.layers {
		if L.conv != nil {
			convG[l] = make([]float64, L.Outputs*L.Positions)
		}
	}
	ws := net.NewWorkspace()
	uj := make([]float64, K*H)
	var u mat.Dense
	w := make([]float64, K)
	scale := 1.0
	if kind == MCFisher {
		scale = 1 / math.Sqrt(float64(S))
	}
	for p, x := range X {
		if p%64 == 0 && ctx != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		net.UnitJacobian(ws, uj, x)
		acts := ws.Activations()
		for l := range c.layers {
			L := &c.layers[l]
			if L.conv == nil {
				row := as[l].next()
				copy(row, acts[l])
				if L.Bias {
					row[len(row)-1] = 1
				}
				continue
			}
			// A conv layer's inputs are its im2col patches, one per
			// output position.
			patches := L.conv.Patches(mat.NewDense(1, len(acts[l]), acts[l]))
			for t := range L.Positions {
				row := as[l].next()
				copy(row, patches.RawRowView(t))
				if L.Bias {
					row[len(row)-1] = 1
				}
			}
		}
		switch kind {
		case GGN:
			net.OutputHessianFactor(ws, &u, x, floats.Sum(T[p]))
		case MCFisher:
			copy(g.pi, acts[len(acts)-1])
		}
		s := floats.Sum(T[p])
		for k := range S {
			switch kind {
			case GGN:
				for i := range w {
					w[i] = u.At(i, k)
				}
			case MCFisher:
				g.sample(s)
				for i := range w {
					w[i] = scale * g.v[i]
				}
			}
			// g_l = J_{z_l}^T w, from the rows of the unit Jacobian; a
			// conv layer's, Outputs x Positions in the layer's output
			// order, gives one vector per position.
			for l := range c.layers {
				L := &c.layers[l]
				var row []float64
				if L.conv == nil {
					row = gs[l].next()
				} else {
					row = convG[l]
				}
				clear(row)
				o := unitOff[l]
				for i, wi := range w {
					if wi != 0 {
						floats.AddScaled(row, wi, uj[i*H+o:i*H+o+len(row)])
					}
				}
				if L.conv == nil {
					continue
				}
				for t := range L.Positions {
					r := gs[l].next()
					for j := range r {
						r[j] = row[j*L.Positions+t]
					}
				}
			}
		}
	}
	invP := 1 / float64(len(X))
	for l := range c.layers {
		L := &c.layers[l]
		as[l].flush()
		gs[l].flush()
		L.A.ScaleSym(invP, L.A)
		if L.conv == nil {
			L.G.ScaleSym(invP, L.G)
		} else {
			L.G.ScaleSym(1/float64(len(X)*L.Positions), L.G)
		}
	}
	return c, nil
}

// gram accumulates sum_r x_r x_r^T into a SymDense, kfacChunk rows at a
// time.
type gram struct {
	s   *mat.SymDense
	buf *mat.Dense
	r   int
}

func newGram(s *mat.SymDense) *gram {
	return &gram{s: s, buf: mat.NewDense(kfacChunk, s.SymmetricDim(), nil)}
}

// next returns the next row to fill, flushing a full buffer first.
func (g *gram) next() []float64 {
	if g.r == kfacChunk {
		g.flush()
	}
	g.r++
	return g.buf.RawRowView(g.r - 1)
}

// flush adds the filled rows' outer products.
func (g *gram) flush() {
	if g.r == 0 {
		return
	}
	rows := g.buf.Slice(0, g.r, 0, g.s.SymmetricDim())
	g.s.SymRankK(g.s, 1, rows.T())
	g.r = 0
}

// Kind returns GGN or MCFisher.
func (c *KFAC) Kind() Kind { return c.kind }

// Dim returns the number of free parameters.
func (c *KFAC) Dim() int { return len(c.free) }

// Free returns the free parameters, in order. The slice must not be
// modified.
func (c *KFAC) Free() []int { return c.free }

// Norm returns P, the number of patterns.
func (c *KFAC) Norm() int { return c.p }

// Decay returns the weight decay included in C.
func (c *KFAC) Decay() float64 { return c.decay }

// Layers returns the layers' factors, in the order of the parameter
// vector. The factors must not be modified.
func (c *KFAC) Layers() []KFACLayer { return c.layers }

// locate returns the layer of parameter q and q's place (j, i) in it: row
// j of the layer's block (G's index) and column i (A's index); l is -1 if
// q is in no layer.
func (c *KFAC) locate(q int) (l, j, i int) {
	for l := range c.layers {
		L := &c.layers[l]
		if q >= L.Offset && q < L.Offset+L.NumParams() {
			t := q - L.Offset
			return l, t / L.Stride(), t % L.Stride()
		}
	}
	return -1, 0, 0
}

// Dense writes the block-diagonal matrix of the G_l ⊗ A_l over the free
// parameters, plus Decay I, into dst (nf x nf).
func (c *KFAC) Dense(dst *mat.SymDense) {
	n := len(c.free)
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	if d := dst.SymmetricDim(); d != n {
		panic(fmt.Sprintf("hessian: destination matrix has size %d, want %d free parameters", d, n))
	}
	type place struct{ l, j, i int }
	at := make([]place, n)
	for r, q := range c.free {
		l, j, i := c.locate(q)
		at[r] = place{l, j, i}
	}
	for a := range n {
		for b := a; b < n; b++ {
			v := 0.0
			if pa, pb := at[a], at[b]; pa.l == pb.l {
				L := &c.layers[pa.l]
				v = L.G.At(pa.j, pb.j) * L.A.At(pa.i, pb.i)
			}
			if a == b {
				v += c.decay
			}
			dst.SetSym(a, b, v)
		}
	}
}

// Diag writes [G_l]_jj [A_l]_ii + Decay for every free parameter into dst.
func (c *KFAC) Diag(dst []float64) {
	if len(dst) != len(c.free) {
		panic(fmt.Sprintf("hessian: diagonal has length %d, want %d free parameters", len(dst), len(c.free)))
	}
	for r, q := range c.free {
		l, j, i := c.locate(q)
		L := &c.layers[l]
		dst[r] = L.G.At(j, j)*L.A.At(i, i) + c.decay
	}
}

// KFACInverse is one layer's inverse under π-damping: with γ = alpha +
// Decay and
//
//	π = sqrt( (tr(A)/dim A) / (tr(G)/dim G) )   (1 if either trace is 0),
//
// AInv = (A + π sqrt(γ) I)^-1 and GInv = (G + sqrt(γ)/π I)^-1, so the
// layer's damped block and its inverse are
//
//	(G + sqrt(γ)/π I) ⊗ (A + π sqrt(γ) I) = G ⊗ A + γ I + sqrt(γ) (π G ⊗ I + I ⊗ A / π),
//	its inverse GInv ⊗ AInv.
//
// This is the factored Tikhonov damping of Martens & Grosse (2015, §6.3):
// G ⊗ A + γ I, the dense structure's C + alpha I with C = G ⊗ A + Decay I,
// is not a Kronecker product, and π-damping is the Kronecker product
// closest to it in their sense, adding the positive semi-definite cross
// term sqrt(γ) (π G ⊗ I + I ⊗ A / π) (the choice of π minimises its
// norm bound). So it damps more than alpha I.
type KFACInverse struct {
	Layer      *KFACLayer
	AInv, GInv *mat.SymDense
	Pi, Gamma  float64
}

// Inverses returns every layer's π-damped factor inverses (KFACInverse),
// computed by Cholesky factorizations of the two factors: the n x n
// block is never formed. alpha must be > 0 (or Decay > 0). It returns an
// error wrapping ErrNotPositiveDefinite if a damped factor is not
// positive definite.
func (c *KFAC) Inverses(alpha float64) ([]KFACInverse, error) {
	gamma := alpha + c.decay
	if !(gamma > 0) || math.IsInf(gamma, 0) {
		return nil, fmt.Errorf("hessian: K-FAC damping alpha + decay = %v must be a finite number > 0", gamma)
	}
	out := make([]KFACInverse, len(c.layers))
	for l := range c.layers {
		L := &c.layers[l]
		ta := traceSym(L.A) / float64(L.Stride())
		tg := traceSym(L.G) / float64(L.Outputs)
		pi := 1.0
		if ta > 0 && tg > 0 {
			pi = math.Sqrt(ta / tg)
		}
		sg := math.Sqrt(gamma)
		ai, err := dampedInverse(L.A, pi*sg)
		if err != nil {
			return nil, fmt.Errorf("%w: K-FAC layer %d's input factor A: raise alpha", ErrNotPositiveDefinite, l+1)
		}
		gi, err := dampedInverse(L.G, sg/pi)
		if err != nil {
			return nil, fmt.Errorf("%w: K-FAC layer %d's output factor G: raise alpha", ErrNotPositiveDefinite, l+1)
		}
		out[l] = KFACInverse{Layer: L, AInv: ai, GInv: gi, Pi: pi, Gamma: gamma}
	}
	return out, nil
}

func traceSym(s *mat.SymDense) float64 {
	t := 0.0
	for i := range s.SymmetricDim() {
		t += s.At(i, i)
	}
	return t
}

// dampedInverse returns (s + d I)^-1 by Cholesky.
func dampedInverse(s *mat.SymDense, d float64) (*mat.SymDense, error) {
	n := s.SymmetricDim()
	m := mat.NewSymDense(n, nil)
	m.CopySym(s)
	for i := range n {
		m.SetSym(i, i, m.At(i, i)+d)
	}
	var ch mat.Cholesky
	if !ch.Factorize(m) {
		return nil, ErrNotPositiveDefinite
	}
	inv := mat.NewSymDense(n, nil)
	if err := ch.InverseTo(inv); err != nil {
		return nil, err
	}
	return inv, nil
}
