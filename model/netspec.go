package model

import (
	"fmt"
	"strconv"
	"strings"
)

// LayerKind is the kind of one item of a layer spec.
type LayerKind int

const (
	// KindLinear is a Linear layer of Out outputs.
	KindLinear LayerKind = iota
	// KindConv is a Conv2d of Out channels, a Kernel x Kernel kernel,
	// Stride and Padding.
	KindConv
	// KindBN is a BatchNorm (1d or 2d) in eval mode after a linear or
	// conv layer. It is no layer of a network: obs import folds it into
	// the layer before it (Spec.Folded), so a network's spec never holds
	// one.
	KindBN
	// KindMaxPool and KindAvgPool are MaxPool2d and AvgPool2d of Kernel.
	KindMaxPool
	KindAvgPool
	// KindFlatten is Flatten.
	KindFlatten
	// KindAct is the element-wise activation Act.
	KindAct
)

// LayerSpec is one item of a network's layer list (Spec.Layers). Fields a
// kind does not use are zero.
type LayerSpec struct {
	Kind LayerKind
	// Out is the outputs of a linear layer or the channels of a conv.
	Out int
	// Kernel is the kernel of a conv or a pool; Stride (0 means 1) and
	// Padding a conv's.
	Kernel, Stride, Padding int
	// NoBias drops a linear or conv layer's bias.
	NoBias bool
	// Act is the activation of KindAct.
	Act Activation
}

// HasParams reports whether the item is a layer with parameters (linear
// or conv).
func (s LayerSpec) HasParams() bool { return s.Kind == KindLinear || s.Kind == KindConv }

// String formats the item as ParseLayers reads it: "linear:10",
// "conv:6:5:p=2", "conv:16:5:s=2:nobias", "bn", "maxpool:2", "flatten",
// "relu".
func (s LayerSpec) String() string {
	var b strings.Builder
	switch s.Kind {
	case KindLinear:
		fmt.Fprintf(&b, "linear:%d", s.Out)
	case KindConv:
		fmt.Fprintf(&b, "conv:%d:%d", s.Out, s.Kernel)
		if s.Stride > 1 {
			fmt.Fprintf(&b, ":s=%d", s.Stride)
		}
		if s.Padding > 0 {
			fmt.Fprintf(&b, ":p=%d", s.Padding)
		}
	case KindBN:
		return "bn"
	case KindMaxPool:
		return fmt.Sprintf("maxpool:%d", s.Kernel)
	case KindAvgPool:
		return fmt.Sprintf("avgpool:%d", s.Kernel)
	case KindFlatten:
		return "flatten"
	case KindAct:
		return s.Act.String()
	}
	if s.NoBias {
		b.WriteString(":nobias")
	}
	return b.String()
}

// FormatLayers formats a layer list as ParseLayers reads it, items joined
// by commas.
func FormatLayers(ls []LayerSpec) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = l.String()
	}
	return strings.Join(parts, ",")
}

// LayerItems lists the items ParseLayers reads, for help texts and errors.
const LayerItems = "linear:OUT, conv:OUT:K (options :s=S, :p=P; :nobias on linear or conv), bn, maxpool:K, avgpool:K, flatten, or an activation (" + HiddenActivations + ")"

// ParseLayers parses a comma-separated layer list such as
// "conv:6:5:p=2,relu,maxpool:2,flatten,linear:10": linear:OUT,
// conv:OUT:K with options :s=S (stride), :p=P (zero padding) and :nobias
// (also on linear), bn, maxpool:K, avgpool:K, flatten and the element-wise
// activations by name (relu, tanh, sigmoid, identity, leakyrelu, gelu,
// gelu-tanh, silu). Each error names the item.
func ParseLayers(s string) ([]LayerSpec, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("model: empty layer list (want items such as %s)", LayerItems)
	}
	var out []LayerSpec
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		l, err := parseLayerItem(item)
		if err != nil {
			return nil, fmt.Errorf("model: layer %d %q: %v", i+1, item, err)
		}
		out = append(out, l)
	}
	return out, nil
}

func parseLayerItem(item string) (LayerSpec, error) {
	f := strings.Split(item, ":")
	num := func(what, v string) (int, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%s %q is not a positive integer", what, v)
		}
		return n, nil
	}
	var l LayerSpec
	var err error
	switch f[0] {
	case "linear", "conv":
		l.Kind = KindLinear
		want := 2
		if f[0] == "conv" {
			l.Kind, want = KindConv, 3
		}
		if len(f) < want {
			if want == 2 {
				return l, fmt.Errorf("want linear:OUT")
			}
			return l, fmt.Errorf("want conv:OUT:K")
		}
		if l.Out, err = num("output size", f[1]); err != nil {
			return l, err
		}
		if want == 3 {
			if l.Kernel, err = num("kernel", f[2]); err != nil {
				return l, err
			}
		}
		for _, o := range f[want:] {
			switch {
			case o == "nobias":
				l.NoBias = true
			case l.Kind == KindConv && strings.HasPrefix(o, "s="):
				if l.Stride, err = num("stride", o[2:]); err != nil {
					return l, err
				}
			case l.Kind == KindConv && strings.HasPrefix(o, "p="):
				n, err := strconv.Atoi(o[2:])
				if err != nil || n < 0 {
					return l, fmt.Errorf("padding %q is not an integer >= 0", o[2:])
				}
				l.Padding = n
			default:
				if l.Kind == KindConv {
					return l, fmt.Errorf("unknown option %q (want s=S, p=P or nobias)", o)
				}
				return l, fmt.Errorf("unknown option %q (want nobias)", o)
			}
		}
		if l.Stride == 1 {
			l.Stride = 0
		}
		return l, nil
	case "maxpool", "avgpool":
		l.Kind = KindMaxPool
		if f[0] == "avgpool" {
			l.Kind = KindAvgPool
		}
		if len(f) != 2 {
			return l, fmt.Errorf("want %s:K", f[0])
		}
		l.Kernel, err = num("kernel", f[1])
		return l, err
	case "bn", "flatten":
		if len(f) != 1 {
			return l, fmt.Errorf("%s takes no options", f[0])
		}
		l.Kind = KindBN
		if f[0] == "flatten" {
			l.Kind = KindFlatten
		}
		return l, nil
	}
	switch strings.ToLower(f[0]) {
	case "dropout":
		return l, fmt.Errorf("dropout is the identity in eval mode: leave Dropout out of the layers (with --names giving the other layers' tensor prefixes)")
	case "layernorm", "groupnorm", "instancenorm":
		return l, fmt.Errorf("%s is not supported (obs folds only BatchNorm in eval mode, item bn)", f[0])
	case "batchnorm", "batchnorm1d", "batchnorm2d":
		return l, fmt.Errorf("write a BatchNorm as bn")
	}
	a, err := ParseActivation(item)
	if err != nil || !elementwise(a) {
		return l, fmt.Errorf("unknown layer (want %s)", LayerItems)
	}
	return LayerSpec{Kind: KindAct, Act: a}, nil
}

// ParseInput parses an input shape: "CxHxW" for images (channels, rows,
// columns) or "N" for flat inputs.
func ParseInput(s string) ([]int, error) {
	parts := strings.Split(s, "x")
	if len(parts) != 1 && len(parts) != 3 {
		return nil, fmt.Errorf("model: input shape %q: want CxHxW (say 1x28x28) or N", s)
	}
	shape := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("model: input shape %q: %q is not a positive integer", s, p)
		}
		shape[i] = v
	}
	return shape, nil
}

// FormatInput formats an input shape as ParseInput reads it.
func FormatInput(shape []int) string {
	s := make([]string, len(shape))
	for i, v := range shape {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "x")
}

// Folded returns s with its bn items removed: the network obs holds once
// every BatchNorm is folded into the layer before it, which gets a bias
// (the fold's shift) if it had none. A bn that does not directly follow
// a linear or conv layer is an error.
func (s Spec) Folded() (Spec, error) {
	var ls []LayerSpec
	for i, l := range s.Layers {
		if l.Kind != KindBN {
			ls = append(ls, l)
			continue
		}
		if len(ls) == 0 || i == 0 || !s.Layers[i-1].HasParams() {
			return s, fmt.Errorf("model: layer %d bn: a BatchNorm is folded into the linear or conv layer right before it, and there is none", i+1)
		}
		ls[len(ls)-1].NoBias = false
	}
	s.Layers = ls
	return s, nil
}

// Bounds of a layer list, far above anything obs can train or prune, so
// that a model file cannot make the sizes overflow: the values of a point
// of the network, and one layer's parameters.
const (
	maxWidth  = 1 << 26
	maxParams = 1 << 32
)

// buildLayers returns the layers of a layer list on inputs of the given
// shape, each item's input shape following from the items before it. It
// fails on an item that does not fit the shape it gets (a conv or pool
// after the shape became flat, a kernel larger than the input), on bn
// (which a network never holds, see KindBN), and on a list that does not
// end flat.
func buildLayers(input []int, specs []LayerSpec) ([]Layer, error) {
	if len(input) != 1 && len(input) != 3 {
		return nil, fmt.Errorf("model: input shape %v: want [C H W] or [N]", input)
	}
	for _, v := range input {
		if v < 1 || v > 1<<24 {
			return nil, fmt.Errorf("model: input shape %s: sizes must be in [1, 2^24]", FormatInput(input))
		}
	}
	if input[0] > maxWidth/max(1, input[len(input)-1]) || (len(input) == 3 && input[0]*input[2] > maxWidth/input[1]) {
		return nil, fmt.Errorf("model: input shape %s has more than %d values", FormatInput(input), maxWidth)
	}
	shape := append([]int(nil), input...)
	width := func() int {
		w := 1
		for _, v := range shape {
			w *= v
		}
		return w
	}
	var ls []Layer
	for i, sp := range specs {
		fail := func(format string, a ...any) ([]Layer, error) {
			return nil, fmt.Errorf("model: layer %d %q on input %s: %s", i+1, sp, FormatInput(shape), fmt.Sprintf(format, a...))
		}
		if sp.Out > maxWidth || sp.Kernel > maxWidth || sp.Stride > maxWidth || sp.Padding > maxWidth {
			return fail("sizes above %d", maxWidth)
		}
		var ly Layer
		switch sp.Kind {
		case KindLinear:
			if len(shape) != 1 {
				return fail("a linear layer needs a flat input (put flatten before it)")
			}
			ly = Linear{Inputs: shape[0], Outputs: sp.Out, NoBias: sp.NoBias}
			shape = []int{sp.Out}
		case KindConv:
			if len(shape) != 3 {
				return fail("a conv layer needs a CxHxW input")
			}
			if sp.Kernel > 1<<13 || shape[0]*sp.Kernel*sp.Kernel > maxWidth {
				return fail("a kernel of %d x %d x %d weights: too large", shape[0], sp.Kernel, sp.Kernel)
			}
			c := Conv2d{Channels: shape[0], Height: shape[1], Width: shape[2], OutChannels: sp.Out, Kernel: sp.Kernel, Stride: sp.Stride, Padding: sp.Padding, NoBias: sp.NoBias}
			if err := c.Validate(); err != nil {
				return fail("%v", strings.TrimPrefix(err.Error(), "model: "))
			}
			ly = c
			shape = []int{sp.Out, c.OutHeight(), c.OutWidth()}
		case KindMaxPool, KindAvgPool:
			if len(shape) != 3 {
				return fail("a pool needs a CxHxW input")
			}
			p := pool{shape[0], shape[1], shape[2], sp.Kernel}
			if err := p.validate(sp.String()); err != nil {
				return fail("%v", strings.TrimPrefix(err.Error(), "model: "))
			}
			if sp.Kind == KindMaxPool {
				ly = MaxPool2d{Channels: p.c, Height: p.h, Width: p.w, Kernel: p.k}
			} else {
				ly = AvgPool2d{Channels: p.c, Height: p.h, Width: p.w, Kernel: p.k}
			}
			shape = []int{p.c, p.oh(), p.ow()}
		case KindFlatten:
			ly = Flatten{Width: width()}
			shape = []int{width()}
		case KindAct:
			if !elementwise(sp.Act) {
				return fail("%v is not an element-wise activation", sp.Act)
			}
			ly = Act{Func: sp.Act, Width: width()}
		case KindBN:
			return fail("bn stands for a BatchNorm that obs import folds into the layer before it; a network holds none (train without bn)")
		default:
			return fail("unknown layer kind %d", sp.Kind)
		}
		if ly.Out() > maxWidth || ly.NumParams() > maxParams || ly.Out() < 1 {
			return fail("%d outputs and %d parameters: too large (at most %d and %d)", ly.Out(), ly.NumParams(), maxWidth, maxParams)
		}
		ls = append(ls, ly)
	}
	if len(shape) != 1 {
		return nil, fmt.Errorf("model: the layers end on a %s output; end with flatten and a linear layer", FormatInput(shape))
	}
	first := -1
	for k, ly := range ls {
		if ly.NumParams() > 0 {
			first = k
			break
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("model: layers %q have no linear or conv layer", FormatLayers(specs))
	}
	return ls, nil
}
