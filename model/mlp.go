package model

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// MLP is a feed-forward network with one flat parameter vector and a mask.
// See the package documentation for the parameter order.
type MLP struct {
	Spec
	// Params holds every weight and bias, in the documented order.
	Params []float64
	// Pruned marks removed parameters; Params is exactly 0 there.
	Pruned []bool

	offsets []int // offsets[l] is the start of layer l's block, l = 1..L; offsets[0] = 0 unused

	// The network as a sequence of layers: Linear, Act, Linear, Act, ...,
	// Linear. The output activation belongs to the loss (see outputLoss).
	layers []Layer
	poff   []int // poff[k] is the start of layers[k]'s block in Params
	pidx   []int // pidx[l-1] is the index in layers of weight layer l
}

// New returns a network with the given spec and all parameters zero and free.
// It returns an error if the spec is invalid.
// A zero Output in spec is replaced by the loss's default (Spec.WithDefaults).
func New(spec Spec) (*MLP, error) {
	spec = spec.WithDefaults()
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if len(spec.Layers) > 0 {
		return newLayered(spec)
	}
	spec.Sizes = append([]int(nil), spec.Sizes...)
	n := spec.NumParams()
	m := &MLP{Spec: spec, Params: make([]float64, n), Pruned: make([]bool, n)}
	m.offsets = make([]int, len(spec.Sizes))
	off := 0
	for l := 1; l < len(spec.Sizes); l++ {
		lin := Linear{Inputs: spec.Sizes[l-1], Outputs: spec.Sizes[l]}
		m.offsets[l] = off
		m.pidx = append(m.pidx, len(m.layers))
		m.poff = append(m.poff, off)
		m.layers = append(m.layers, lin)
		off += lin.NumParams()
		if l < len(spec.Sizes)-1 {
			m.poff = append(m.poff, off)
			m.layers = append(m.layers, Act{Func: spec.Hidden, Width: spec.Sizes[l]})
		}
	}
	return m, nil
}

// newLayered returns the network of a validated spec given by its layers.
func newLayered(spec Spec) (*MLP, error) {
	spec.Input = append([]int(nil), spec.Input...)
	spec.Layers = append([]LayerSpec(nil), spec.Layers...)
	ls, err := buildLayers(spec.Input, spec.Layers)
	if err != nil {
		return nil, err
	}
	m := &MLP{Spec: spec, layers: ls, offsets: []int{0}}
	off := 0
	for k, ly := range ls {
		m.poff = append(m.poff, off)
		if ly.NumParams() > 0 {
			m.pidx = append(m.pidx, k)
			m.offsets = append(m.offsets, off)
		}
		off += ly.NumParams()
	}
	m.Params, m.Pruned = make([]float64, off), make([]bool, off)
	return m, nil
}

// rowBlock is a layer whose parameter block is a matrix of rows, each its
// weights followed (unless there is no bias) by one bias: Linear and
// Conv2d.
type rowBlock interface {
	blockShape() (rows, cols int, bias bool)
}

func (l Linear) blockShape() (int, int, bool) { return l.Outputs, l.Inputs, !l.NoBias }
func (l Conv2d) blockShape() (int, int, bool) { return l.OutChannels, l.patch(), !l.NoBias }

// LayerShape returns the shape of weight layer l's block (1-based, as
// Index): rows rows (a Linear's outputs, a Conv2d's output channels) of
// cols weights (a Linear's inputs, a Conv2d's Channels*Kernel*Kernel),
// each followed by a bias when bias is true.
func (m *MLP) LayerShape(l int) (rows, cols int, bias bool) {
	if l < 1 || l > len(m.pidx) {
		panic(fmt.Sprintf("model: weight layer %d out of range [1, %d]", l, len(m.pidx)))
	}
	return m.layers[m.pidx[l-1]].(rowBlock).blockShape()
}

// WeightLayer returns weight layer l (1-based), a Linear or a Conv2d.
func (m *MLP) WeightLayer(l int) Layer {
	m.LayerShape(l)
	return m.layers[m.pidx[l-1]]
}

// Layered reports whether m was given by a layer list (Spec.Layers)
// rather than as an MLP by its sizes; the code that knows only MLPs
// (unit pruning, the sparse curvature, the weight-file import of MLPs)
// refuses a layered network.
func (m *MLP) Layered() bool { return len(m.Spec.Layers) > 0 }

// Layers returns the network as a sequence of layers: Linear, Act, Linear,
// Act, ..., Linear, whose parameter blocks, in this order, make up Params.
// The output activation is not among them: it belongs to the loss (see
// the package documentation). The layers are values; changing the
// returned slice does not change m.
func (m *MLP) Layers() []Layer { return append([]Layer(nil), m.layers...) }

// block returns layer k's block of p, a vector with the layout of Params.
func (m *MLP) block(p []float64, k int) []float64 {
	return p[m.poff[k] : m.poff[k]+m.layers[k].NumParams()]
}

// Clone returns a deep copy of m.
func (m *MLP) Clone() *MLP {
	c := *m
	c.Sizes = append([]int(nil), m.Sizes...)
	c.Input = append([]int(nil), m.Input...)
	c.Spec.Layers = append([]LayerSpec(nil), m.Spec.Layers...)
	c.Params = append([]float64(nil), m.Params...)
	c.Pruned = append([]bool(nil), m.Pruned...)
	c.offsets = append([]int(nil), m.offsets...)
	c.layers = append([]Layer(nil), m.layers...)
	c.poff = append([]int(nil), m.poff...)
	c.pidx = append([]int(nil), m.pidx...)
	return &c
}

// NumLayers returns L, the number of weight layers (Linear or Conv2d).
func (m *MLP) NumLayers() int { return len(m.pidx) }

// NumInputs returns the input width.
func (m *MLP) NumInputs() int { return m.layers[0].In() }

// NumOutputs returns K, the output width.
func (m *MLP) NumOutputs() int { return m.layers[len(m.layers)-1].Out() }

// Offset returns the index of the first parameter of layer l (1-based).
func (m *MLP) Offset(l int) int { return m.offsets[l] }

// Index returns the flat index of the weight from unit i of layer l-1 to unit
// j of layer l; i == Sizes[l-1] selects the bias of unit j. In general,
// the index of row j, column i of weight layer l's block (see LayerShape:
// for a Conv2d j is the output channel and i = (c*Kernel + u)*Kernel + v),
// i == cols selecting the row's bias.
func (m *MLP) Index(l, j, i int) int {
	if l < 1 || l > len(m.pidx) {
		panic(fmt.Sprintf("model: index (%d, %d, %d) out of range for %s", l, j, i, m.Describe()))
	}
	rows, cols, bias := m.LayerShape(l)
	w := cols
	if bias {
		w++
	}
	if j < 0 || j >= rows || i < 0 || i >= w {
		panic(fmt.Sprintf("model: index (%d, %d, %d) out of range for %s", l, j, i, m.Describe()))
	}
	return m.offsets[l] + j*w + i
}

// Locate is the inverse of Index: the layer, to-unit and from-unit of
// parameter q (from == Sizes[l-1] for a bias; in general the row and
// column of its layer's block, from == cols for a bias).
func (m *MLP) Locate(q int) (l, to, from int) {
	if q < 0 || q >= len(m.Params) {
		panic(fmt.Sprintf("model: parameter %d out of range [0, %d)", q, len(m.Params)))
	}
	l = len(m.pidx)
	for l > 1 && q < m.offsets[l] {
		l--
	}
	_, cols, bias := m.LayerShape(l)
	w := cols
	if bias {
		w++
	}
	r := q - m.offsets[l]
	return l, r / w, r % w
}

// IsBias reports whether parameter q is a bias.
func (m *MLP) IsBias(q int) bool {
	l, _, from := m.Locate(q)
	_, cols, _ := m.LayerShape(l)
	return from == cols
}

// unitName names unit j of layer l: "in3", "h1.0" or "out0".
func (m *MLP) unitName(l, j int) string {
	switch {
	case l == 0:
		return fmt.Sprintf("in%d", j)
	case l == len(m.Sizes)-1:
		return fmt.Sprintf("out%d", j)
	default:
		return fmt.Sprintf("h%d.%d", l, j)
	}
}

// Name returns the name of parameter q, e.g. "in3->h1.0" or "bias->out0"
// for an MLP. In a network given by its layers, weight layers are named by
// kind and count, conv1, conv2, ..., linear1, ..., and their parameters
// by PyTorch's indices: "conv1.w[o,c,u,v]", "conv1.b[o]", "linear1.w[j,i]",
// "linear1.b[j]".
func (m *MLP) Name(q int) string {
	l, to, from := m.Locate(q)
	if m.Layered() {
		name := m.LayerName(l)
		switch ly := m.WeightLayer(l).(type) {
		case Conv2d:
			if from == ly.patch() {
				return fmt.Sprintf("%s.b[%d]", name, to)
			}
			kk := ly.Kernel * ly.Kernel
			return fmt.Sprintf("%s.w[%d,%d,%d,%d]", name, to, from/kk, from%kk/ly.Kernel, from%ly.Kernel)
		case Linear:
			if from == ly.Inputs {
				return fmt.Sprintf("%s.b[%d]", name, to)
			}
			return fmt.Sprintf("%s.w[%d,%d]", name, to, from)
		}
	}
	if from == m.Sizes[l-1] {
		return "bias->" + m.unitName(l, to)
	}
	return m.unitName(l-1, from) + "->" + m.unitName(l, to)
}

// LayerName names weight layer l (1-based): "linear1", "linear2" for an
// MLP, and by kind and count ("conv1", "conv2", "linear1") for a network
// given by its layers.
func (m *MLP) LayerName(l int) string {
	kind := "linear"
	if _, ok := m.WeightLayer(l).(Conv2d); ok {
		kind = "conv"
	}
	c := 0
	for k := 1; k <= l; k++ {
		if _, ok := m.WeightLayer(k).(Conv2d); ok == (kind == "conv") {
			c++
		}
	}
	return fmt.Sprintf("%s%d", kind, c)
}

// Names returns the names of all parameters in order.
func (m *MLP) Names() []string {
	names := make([]string, len(m.Params))
	for q := range names {
		names[q] = m.Name(q)
	}
	return names
}

// NumFree returns the number of unpruned parameters.
func (m *MLP) NumFree() int {
	c := 0
	for _, p := range m.Pruned {
		if !p {
			c++
		}
	}
	return c
}

// Free returns the indices of the unpruned parameters in increasing order.
func (m *MLP) Free() []int {
	idx := make([]int, 0, len(m.Params))
	for q, p := range m.Pruned {
		if !p {
			idx = append(idx, q)
		}
	}
	return idx
}

// Prune removes parameter q: it is set to exactly 0 and masked.
func (m *MLP) Prune(q int) {
	m.Params[q] = 0
	m.Pruned[q] = true
}

// ApplyMask sets every pruned parameter to exactly 0 and zeroes the same
// entries of each vector in vs (gradients, steps).
func (m *MLP) ApplyMask(vs ...[]float64) {
	for q, p := range m.Pruned {
		if p {
			m.Params[q] = 0
			for _, v := range vs {
				v[q] = 0
			}
		}
	}
}

// ErrNotFinite is returned when parameters or results contain NaN or Inf.
var ErrNotFinite = errors.New("model: value is NaN or Inf")

// Check verifies the network's internal consistency: lengths agree with the
// spec, every parameter is finite, and every pruned parameter is exactly 0.
// Errors name the first offending parameter.
func (m *MLP) Check() error {
	if err := m.Spec.Validate(); err != nil {
		return err
	}
	n := m.Spec.NumParams()
	if len(m.Params) != n {
		return fmt.Errorf("model: architecture %s has %d parameters, got %d", m.Describe(), n, len(m.Params))
	}
	if len(m.Pruned) != n {
		return fmt.Errorf("model: mask has %d entries, want %d", len(m.Pruned), n)
	}
	for q, v := range m.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model: parameter %d (%s) is %v: %w", q, m.Name(q), v, ErrNotFinite)
		}
		if m.Pruned[q] && v != 0 {
			return fmt.Errorf("model: parameter %d (%s) is pruned but has value %v, not 0", q, m.Name(q), v)
		}
	}
	return nil
}

// Init draws every unpruned parameter from the Glorot uniform distribution
// U(-a, a), a = g sqrt(6/(fan_in + fan_out)) with g = 4 for sigmoid layers
// (Glorot & Bengio 2010) and 1 otherwise; biases start at 0. The draw
// depends only on rng. In a network given by its layers, a Conv2d's fans
// are Channels*Kernel^2 and OutChannels*Kernel^2 (Glorot & Bengio's for
// convolutions), and the gain is 4 for a layer followed by a sigmoid.
func (m *MLP) Init(rng *rand.Rand) {
	if m.Layered() {
		m.initLayered(rng)
		return
	}
	for l := 1; l < len(m.Sizes); l++ {
		in, out := m.Sizes[l-1], m.Sizes[l]
		act := m.Hidden
		if l == len(m.Sizes)-1 {
			act = m.Output
		}
		g := 1.0
		if act == Sigmoid {
			g = 4
		}
		a := g * math.Sqrt(6/float64(in+out))
		for j := 0; j < out; j++ {
			for i := 0; i <= in; i++ {
				q := m.Index(l, j, i)
				v := (2*rng.Float64() - 1) * a
				if i == in {
					v = 0
				}
				if m.Pruned[q] {
					v = 0
				}
				m.Params[q] = v
			}
		}
	}
}

func (m *MLP) initLayered(rng *rand.Rand) {
	for l := 1; l <= m.NumLayers(); l++ {
		rows, cols, bias := m.LayerShape(l)
		fanIn, fanOut := cols, rows
		if c, ok := m.WeightLayer(l).(Conv2d); ok {
			fanOut *= c.Kernel * c.Kernel
		}
		act := m.Output
		for _, ly := range m.layers[m.pidx[l-1]+1:] {
			if a, ok := ly.(Act); ok {
				act = a.Func
				break
			}
			if ly.NumParams() > 0 {
				break
			}
		}
		g := 1.0
		if act == Sigmoid {
			g = 4
		}
		a := g * math.Sqrt(6/float64(fanIn+fanOut))
		w := cols
		if bias {
			w++
		}
		for j := range rows {
			for i := range w {
				q := m.Index(l, j, i)
				v := (2*rng.Float64() - 1) * a
				if i == cols || m.Pruned[q] {
					v = 0
				}
				m.Params[q] = v
			}
		}
	}
}
