package model

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// convCases are the convolution-network layers under test (added to
// layerCases): convolutions with and without bias, padding and stride
// (one large enough to cross gemm's tiles), pools whose windows do and do
// not cover the input (floor of the output size), and Flatten.
func convCases() []Layer {
	return []Layer{
		Conv2d{Channels: 2, Height: 5, Width: 6, OutChannels: 3, Kernel: 3, Padding: 1},
		Conv2d{Channels: 2, Height: 7, Width: 6, OutChannels: 3, Kernel: 3, Stride: 2, NoBias: true},
		Conv2d{Channels: 1, Height: 6, Width: 6, OutChannels: 2, Kernel: 5, Stride: 1, Padding: 2},
		Conv2d{Channels: 3, Height: 9, Width: 8, OutChannels: 9, Kernel: 3, Stride: 1, Padding: 1},
		MaxPool2d{Channels: 2, Height: 4, Width: 6, Kernel: 2},
		MaxPool2d{Channels: 3, Height: 5, Width: 7, Kernel: 3},
		AvgPool2d{Channels: 2, Height: 4, Width: 6, Kernel: 2},
		AvgPool2d{Channels: 1, Height: 5, Width: 5, Kernel: 2},
		Flatten{Width: 7},
	}
}

// Conv2d's Forward against the definition summed term by term, and the
// pools' against their windows, on the convCases shapes.
func TestConvForwardMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	for _, ly := range convCases() {
		x, theta := randVec(rng, ly.In()), randVec(rng, ly.NumParams())
		got := make([]float64, ly.Out())
		ly.Forward(got, x, theta)
		want := make([]float64, ly.Out())
		switch l := ly.(type) {
		case Conv2d:
			s, kk := l.stride(), l.Channels*l.Kernel*l.Kernel
			rs := kk + 1
			if l.NoBias {
				rs = kk
			}
			oh, ow := l.OutHeight(), l.OutWidth()
			for o := range l.OutChannels {
				for i := range oh {
					for j := range ow {
						sum := 0.0
						if !l.NoBias {
							sum = theta[o*rs+kk]
						}
						for c := range l.Channels {
							for u := range l.Kernel {
								for v := range l.Kernel {
									ih, iw := i*s-l.Padding+u, j*s-l.Padding+v
									if ih >= 0 && ih < l.Height && iw >= 0 && iw < l.Width {
										sum += theta[o*rs+(c*l.Kernel+u)*l.Kernel+v] * x[(c*l.Height+ih)*l.Width+iw]
									}
								}
							}
						}
						want[(o*oh+i)*ow+j] = sum
					}
				}
			}
		case MaxPool2d, AvgPool2d:
			var c, h, w, k int
			isMax := false
			if m, ok := l.(MaxPool2d); ok {
				c, h, w, k, isMax = m.Channels, m.Height, m.Width, m.Kernel, true
			} else {
				a := l.(AvgPool2d)
				c, h, w, k = a.Channels, a.Height, a.Width, a.Kernel
			}
			oh, ow := h/k, w/k
			for ch := range c {
				for i := range oh {
					for j := range ow {
						var vals []float64
						for u := range k {
							for v := range k {
								vals = append(vals, x[(ch*h+i*k+u)*w+j*k+v])
							}
						}
						r := floats.Sum(vals) / float64(len(vals))
						if isMax {
							r = floats.Max(vals)
						}
						want[(ch*oh+i)*ow+j] = r
					}
				}
			}
		case Flatten:
			copy(want, x)
		}
		expectNear(t, layerName(ly), got, want, 1e-13)
	}
}

// cnnCases are tiny convolutional networks for the network-level
// derivative tests (appended to derivativeCases): padding, stride, both
// pools, a bias-free conv and linear layer, and each loss.
func cnnCases() []netCase {
	mustLayers := func(s string) []LayerSpec {
		ls, err := ParseLayers(s)
		if err != nil {
			panic(err)
		}
		return ls
	}
	return []netCase{
		{name: "cnn-maxpool/ce", spec: Spec{Input: []int{2, 5, 5}, Layers: mustLayers("conv:3:3:p=1,tanh,maxpool:2,conv:2:2:nobias,gelu,flatten,linear:3"), Loss: CrossEntropy, Decay: 0.01}, pruned: []int{1, 7, 20, 60}},
		{name: "cnn-avgpool/mse", spec: Spec{Input: []int{1, 6, 6}, Layers: mustLayers("conv:2:3:s=2,sigmoid,avgpool:2,flatten,linear:2:nobias,tanh,linear:2"), Output: Identity, Loss: SquaredError, Decay: 0.01}, pruned: []int{1, 7, 20}},
		{name: "cnn-relu/bce", spec: Spec{Input: []int{1, 5, 4}, Layers: mustLayers("conv:2:2,relu,conv:2:2:s=2:p=1,silu,flatten,linear:2"), Loss: BinaryCrossEntropy}, pruned: []int{3}},
	}
}

// LeNet-5 as the issue spells it: the layer list round-trips through
// FormatLayers, the shapes chain, the parameter count is the classic
// 61,706, names follow PyTorch's indices, and the file form reads back.
func TestLeNetSpecAndFile(t *testing.T) {
	const lenet = "conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10"
	ls, err := ParseLayers(lenet)
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatLayers(ls); got != lenet {
		t.Fatalf("FormatLayers = %q, want %q", got, lenet)
	}
	m, err := New(Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(m.Params); n != 61706 {
		t.Fatalf("LeNet-5 has %d parameters, want 61706", n)
	}
	if m.NumInputs() != 784 || m.NumOutputs() != 10 || m.NumLayers() != 5 {
		t.Fatalf("inputs %d, outputs %d, weight layers %d", m.NumInputs(), m.NumOutputs(), m.NumLayers())
	}
	for q, want := range map[int]string{0: "conv1.w[0,0,0,0]", 7: "conv1.w[0,0,1,2]", 25: "conv1.b[0]", 26: "conv1.w[1,0,0,0]", 156: "conv2.w[0,0,0,0]", 156 + 150: "conv2.b[0]", 2572: "linear1.w[0,0]", 2572 + 400: "linear1.b[0]", 61705: "linear3.b[9]"} {
		if got := m.Name(q); got != want {
			t.Errorf("Name(%d) = %q, want %q", q, got, want)
		}
	}
	if q := m.Index(2, 3, 150); !m.IsBias(q) || m.Name(q) != "conv2.b[3]" {
		t.Errorf("Index(2, 3, 150) = %d named %q", q, m.Name(q))
	}
	for q := range m.Params {
		l, j, i := m.Locate(q)
		if m.Index(l, j, i) != q {
			t.Fatalf("Index(Locate(%d)) = %d", q, m.Index(l, j, i))
		}
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	m.Prune(3)
	var buf bytes.Buffer
	if err := m.ToFile(Provenance{}, nil).Encode(&buf); err != nil {
		t.Fatal(err)
	}
	back, f, err := ParseFile(buf.Bytes(), "lenet")
	if err != nil {
		t.Fatal(err)
	}
	if f.Format != LayeredFormat || f.Layers != lenet || FormatInput(f.Input) != "1x28x28" || f.Arch != nil {
		t.Fatalf("file format %q, layers %q, input %v, arch %v", f.Format, f.Layers, f.Input, f.Arch)
	}
	expectNear(t, "params", back.Params, m.Params, 0)
	if !back.Pruned[3] || back.NumFree() != m.NumFree() {
		t.Fatal("mask not read back")
	}
}

func TestParseLayersErrors(t *testing.T) {
	for s, want := range map[string]string{
		"":                   "empty layer list",
		"linear:0":           `layer 1 "linear:0": output size "0"`,
		"conv:3":             "want conv:OUT:K",
		"conv:3:3:q=1":       `unknown option "q=1"`,
		"linear:3:p=1":       `unknown option "p=1" (want nobias)`,
		"relu,softmax":       `layer 2 "softmax": unknown layer`,
		"maxpool":            "want maxpool:K",
		"bn:2":               "bn takes no options",
		"linear:4,layernorm": `layer 2 "layernorm": layernorm is not supported`,
		"linear:4,dropout":   `dropout is the identity in eval mode`,
		"linear:4,tanhh":     `layer 2 "tanhh": unknown layer`,
	} {
		_, err := ParseLayers(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLayers(%q) = %v, want an error with %q", s, err, want)
		}
	}
	for _, c := range []struct{ in, layers, want string }{
		{"1x8x8", "linear:3", "needs a flat input"},
		{"12", "conv:3:3", "needs a CxHxW input"},
		{"1x4x4", "conv:2:5,flatten,linear:2", "does not fit"},
		{"1x4x4", "conv:2:3", "end with flatten"},
		{"1x4x4", "conv:2:3,bn,flatten,linear:2", "folds"},
		{"1x4x4", "maxpool:2,flatten", "no linear or conv"},
	} {
		in, _ := ParseInput(c.in)
		ls, err := ParseLayers(c.layers)
		if err != nil {
			t.Fatal(err)
		}
		_, err = New(Spec{Input: in, Layers: ls, Loss: CrossEntropy})
		if c.want == "no linear or conv" {
			_, err = New(Spec{Input: in, Layers: ls, Loss: SquaredError})
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s on %s: %v, want an error with %q", c.layers, c.in, err, c.want)
		}
	}
	if _, err := New(Spec{Sizes: []int{2, 2}, Input: []int{2}, Layers: []LayerSpec{{Kind: KindLinear, Out: 2}}}); err == nil {
		t.Error("sizes and layers together accepted")
	}
}

func TestFolded(t *testing.T) {
	ls, err := ParseLayers("conv:4:3:nobias,bn,relu,flatten,linear:5:nobias,bn,linear:2:nobias")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Spec{Input: []int{1, 5, 5}, Layers: ls}.Folded()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FormatLayers(f.Layers), "conv:4:3,relu,flatten,linear:5,linear:2:nobias"; got != want {
		t.Fatalf("Folded = %q, want %q", got, want)
	}
	for _, s := range []string{"bn,linear:2", "linear:3,relu,bn"} {
		ls, _ := ParseLayers(s)
		if _, err := (Spec{Input: []int{4}, Layers: ls}).Folded(); err == nil || !strings.Contains(err.Error(), "right before it") {
			t.Errorf("Folded(%q): %v", s, err)
		}
	}
}

// Patches times the weight rows plus the bias is Forward, position by
// position (the identity layer-wise OBS relies on).
func TestConvPatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, ly := range convCases() {
		c, ok := ly.(Conv2d)
		if !ok {
			continue
		}
		const n = 3
		X := mat.NewDense(n, c.In(), randVec(rng, n*c.In()))
		theta := randVec(rng, c.NumParams())
		A := c.Patches(X)
		S, kk := c.OutHeight()*c.OutWidth(), c.patch()
		for p := range n {
			y := make([]float64, c.Out())
			c.Forward(y, X.RawRowView(p), theta)
			for o := range c.OutChannels {
				for s := range S {
					got := floats.Dot(A.RawRowView(p*S+s), theta[o*c.rowStride():o*c.rowStride()+kk])
					if !c.NoBias {
						got += theta[o*c.rowStride()+kk]
					}
					if !near(got, y[o*S+s], 1e-13) {
						t.Fatalf("%s: pattern %d channel %d position %d: %v, Forward %v", layerName(c), p, o, s, got, y[o*S+s])
					}
				}
			}
		}
	}
}

// One mini-batch gradient of LeNet-5 (6-16-120-84) on 128 patterns, the
// step of `obs train --layers` on MNIST.
func BenchmarkBatchGradLeNet5(b *testing.B) {
	ls, _ := ParseLayers("conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10")
	m, err := New(Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: CrossEntropy})
	if err != nil {
		b.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 1)))
	X, T := randomData(m, 128, 2)
	bw := m.newBatchWork(128)
	g := make([]float64, len(m.Params))
	b.ResetTimer()
	for range b.N {
		m.batchGrad(bw, g, X, T)
	}
}

// im2col and col2im against their definitions entry by entry, over every
// small geometry (strides 1-3, every padding below the kernel, kernels as
// large as the padded input), on 40 patterns so that the pure-Go split
// over goroutines is exercised: im2col exactly, col2im bit for bit against
// the terms added in the documented order.
func TestIm2colMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for h := 1; h <= 5; h++ {
		for w := 1; w <= 5; w++ {
			for k := 1; k <= 4; k++ {
				for pad := 0; pad < k; pad++ {
					for s := 1; s <= 3; s++ {
						l := Conv2d{Channels: 2, Height: h, Width: w, OutChannels: 1, Kernel: k, Stride: s, Padding: pad}
						if l.Validate() != nil {
							continue
						}
						checkIm2col(t, l, 40, rng)
					}
				}
			}
		}
	}
}

func checkIm2col(t *testing.T, l Conv2d, r int, rng *rand.Rand) {
	t.Helper()
	oh, ow, S, kk := l.OutHeight(), l.OutWidth(), l.OutHeight()*l.OutWidth(), l.patch()
	x := newBatch(r, l.In())
	for i := range x.Data {
		x.Data[i] = rng.NormFloat64()
	}
	b := &convBatch{l: l}
	col := b.im2col(&b.col, x)
	g := blas64.General{Rows: kk, Cols: r * S, Stride: r * S, Data: make([]float64, kk*r*S)}
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	gx := newBatch(r, l.In())
	for i := range gx.Data {
		gx.Data[i] = 99 // col2im must overwrite
	}
	b.col2im(gx, g)
	want := make([]float64, r*l.In())
	for p := range r {
		for c := range l.Channels {
			for u := range l.Kernel {
				for v := range l.Kernel {
					row := (c*l.Kernel+u)*l.Kernel + v
					for i := range oh {
						for j := range ow {
							ih, iw := i*l.stride()-l.Padding+u, j*l.stride()-l.Padding+v
							got := col.Data[row*col.Stride+p*S+i*ow+j]
							inside := ih >= 0 && ih < l.Height && iw >= 0 && iw < l.Width
							ref := 0.0
							if inside {
								q := (c*l.Height+ih)*l.Width + iw
								ref = x.Data[p*x.Stride+q]
								want[p*l.In()+q] += g.Data[row*g.Stride+p*S+i*ow+j]
							}
							if got != ref {
								t.Fatalf("%+v: im2col pattern %d row %d position (%d,%d): %v, want %v", l, p, row, i, j, got, ref)
							}
						}
					}
				}
			}
		}
	}
	for i, v := range want {
		if gx.Data[i] != v {
			t.Fatalf("%+v: col2im entry %d: %v, want %v", l, i, gx.Data[i], v)
		}
	}
}

// The batched max pool (unrolled 2x2 windows, selection kept from
// Forward) selects as the single-pattern rule does where windows hold
// equal maxima, with ±0 and NaN among them.
func TestMaxPoolBatchTies(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	vals := []float64{0, math.Copysign(0, -1), 1, 1, 2, -1, math.NaN()}
	for _, m := range []MaxPool2d{{Channels: 2, Height: 4, Width: 6, Kernel: 2}, {Channels: 2, Height: 5, Width: 7, Kernel: 2}, {Channels: 1, Height: 6, Width: 6, Kernel: 3}} {
		r := 30
		x, gy := newBatch(r, m.In()), newBatch(r, m.Out())
		for i := range x.Data {
			x.Data[i] = vals[rng.IntN(len(vals))]
		}
		for i := range gy.Data {
			gy.Data[i] = rng.NormFloat64()
		}
		y, gx := newBatch(r, m.Out()), newBatch(r, m.In())
		b := m.Batch(r)
		b.Forward(y, x, nil)
		b.Backward(gx, nil, gy, x, y, nil)
		for p := range r {
			wy, wgx := make([]float64, m.Out()), make([]float64, m.In())
			m.Forward(wy, rowOf(x, p), nil)
			m.Backward(wgx, nil, rowOf(gy, p), rowOf(x, p), wy, nil)
			for o, v := range wy {
				if got := y.Data[p*m.Out()+o]; math.Float64bits(got) != math.Float64bits(v) && !(math.IsNaN(got) && math.IsNaN(v)) {
					t.Fatalf("%+v row %d output %d: %v, want %v", m, p, o, got, v)
				}
			}
			for i, v := range wgx {
				if got := gx.Data[p*m.In()+i]; math.Float64bits(got) != math.Float64bits(v) {
					t.Fatalf("%+v row %d input %d: gradient %v, want %v", m, p, i, got, v)
				}
			}
		}
	}
}
