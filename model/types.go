package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/internal/enum"
)

// Activation is a unit's nonlinearity. Every value is an activation: the
// zero Activation is Sigmoid, the OBS papers' unit and the default of a
// Spec's Hidden and Output (see Spec).
type Activation int

const (
	// Sigmoid is 1/(1 + e^-z), the zero Activation.
	Sigmoid Activation = iota
	Identity
	Tanh
	ReLU
	// Softmax is only valid as the output activation, with CrossEntropy.
	Softmax
	// LeakyReLU is max(z, 0) + LeakySlope min(z, 0) (PyTorch's
	// nn.LeakyReLU() with its default slope 0.01).
	LeakyReLU
	// GELU is z Phi(z), Phi the standard normal distribution function
	// (PyTorch's nn.GELU()).
	GELU
	// GELUTanh is GELU's tanh form,
	// 1/2 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) (PyTorch's
	// nn.GELU(approximate="tanh")).
	GELUTanh
	// SiLU is z sigmoid(z), also called swish (PyTorch's nn.SiLU()).
	SiLU

	numActivations
)

// DefaultHidden is the hidden activation of a Spec whose Hidden is zero:
// the zero Activation, Sigmoid.
const DefaultHidden = Sigmoid

// HiddenActivations lists the names of the activations a hidden layer may
// have (every element-wise one), for help texts and error messages.
const HiddenActivations = "identity, sigmoid, tanh, relu, leakyrelu, gelu, gelu-tanh or silu"

// activationNames are the names of the activations, indexed by value;
// activationList lists them in the order messages give them.
var (
	activationNames = [...]string{"sigmoid", "identity", "tanh", "relu", "softmax", "leakyrelu", "gelu", "gelu-tanh", "silu"}
	activationList  = []string{"identity", "sigmoid", "tanh", "relu", "softmax", "leakyrelu", "gelu", "gelu-tanh", "silu"}
)

func (a Activation) String() string { return enum.Name(activationNames[:], "Activation", a) }

// ParseActivation returns the activation with the given name: identity,
// sigmoid, tanh, relu, softmax, leakyrelu, gelu, gelu-tanh or silu.
func ParseActivation(s string) (Activation, error) {
	if a, ok := enum.Parse[Activation](activationNames[:], s); ok {
		return a, nil
	}
	return 0, fmt.Errorf("model: unknown activation %q (want %s)", s, enum.Or(activationList))
}

// Loss is the per-pattern loss l_p.
type Loss int

const (
	// SquaredError is l = 1/2 ||a_L - t||^2 (the OBS papers' error).
	SquaredError Loss = iota
	// BinaryCrossEntropy is l = -sum_k t_k log pi_k + (1-t_k) log(1-pi_k), pi = sigmoid(z).
	BinaryCrossEntropy
	// CrossEntropy is l = -sum_k t_k log pi_k, pi = softmax(z).
	CrossEntropy
)

var lossNames = [...]string{"mse", "bce", "ce"}

func (l Loss) String() string { return enum.Name(lossNames[:], "Loss", l) }

// ParseLoss returns the loss with the given name: mse, bce or ce.
func ParseLoss(s string) (Loss, error) {
	if l, ok := enum.Parse[Loss](lossNames[:], s); ok {
		return l, nil
	}
	return 0, fmt.Errorf("model: unknown loss %q (want %s)", s, enum.Or(lossNames[:]))
}

// DefaultOutput is the output activation that goes with a loss when none is
// given: sigmoid for mse and bce, softmax for ce.
func (l Loss) DefaultOutput() Activation {
	if l == CrossEntropy {
		return Softmax
	}
	return Sigmoid
}

// Spec describes a network: its layers, output activation, loss and
// weight decay. A network is given either by Sizes and Hidden, the MLP
// shorthand, or by Input and Layers, its layers named in order. Zero
// fields are defaults: Spec{Sizes: []int{2, 2, 1}} is a sigmoid network
// with a sigmoid output, squared error and no decay.
type Spec struct {
	// Sizes are the layer widths of an MLP, input first, output last; at
	// least two. The MLP of sizes n_0-...-n_L is the layer list
	// linear:n_1,Hidden,...,linear:n_L on input n_0, with the MLP's own
	// parameter names and file form. Empty when Layers is given.
	Sizes []int
	// Hidden is the activation of every hidden layer of an MLP; the zero
	// value is DefaultHidden (Sigmoid). Zero when Layers is given.
	Hidden Activation
	// Input is the shape of one pattern for a network given by Layers:
	// [C, H, W] for images in PyTorch's memory order, or [N].
	Input []int
	// Layers names the network's layers in order (see ParseLayers); the
	// last one's outputs go to the output activation and the loss.
	Layers []LayerSpec
	// Output is the output activation; it must suit Loss (see Validate).
	// The zero value, Sigmoid, is the default of every loss: itself for mse
	// and bce, and Loss.DefaultOutput() (softmax, the only output ce takes)
	// for ce. ValidateGiven takes it as sigmoid for every loss.
	Output Activation
	// Loss is the per-pattern loss. If zero, SquaredError.
	Loss Loss
	// Decay is the L2 weight-decay coefficient lambda in
	// E = (1/P) sum_p l_p + (lambda/2) ||w||^2, applied to every unmasked
	// parameter, biases included. Zero means none.
	Decay float64
}

// NumOutputs returns the number of outputs of the spec's network; 0 for a
// layer list that does not build.
func (s Spec) NumOutputs() int {
	if len(s.Layers) == 0 {
		if len(s.Sizes) == 0 {
			return 0
		}
		return s.Sizes[len(s.Sizes)-1]
	}
	ls, err := buildLayers(s.Input, s.Layers)
	if err != nil {
		return 0
	}
	return ls[len(ls)-1].Out()
}

// Describe returns the architecture as the command line gives it:
// "784-300-100-10" for an MLP, "input 1x28x28, layers conv:6:5,..."
// otherwise.
func (s Spec) Describe() string {
	if len(s.Layers) == 0 {
		return Arch(s.Sizes)
	}
	return "input " + FormatInput(s.Input) + ", layers " + FormatLayers(s.Layers)
}

// ParseArch parses an architecture such as "17-3-1" into layer sizes.
func ParseArch(s string) ([]int, error) {
	parts := strings.Split(s, "-")
	if len(parts) < 2 {
		return nil, fmt.Errorf("model: architecture %q needs at least an input and an output size, like 17-3-1", s)
	}
	sizes := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 {
			return nil, fmt.Errorf("model: architecture %q: layer %d size %q is not a positive integer", s, i, p)
		}
		sizes[i] = v
	}
	return sizes, nil
}

// Arch formats layer sizes as "17-3-1".
func Arch(sizes []int) string {
	s := make([]string, len(sizes))
	for i, v := range sizes {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "-")
}

// WithDefaults returns s with a zero Output replaced by the loss's own
// output (see Spec): softmax for ce. The zero Hidden is already
// DefaultHidden.
func (s Spec) WithDefaults() Spec {
	var zero Activation
	if s.Output == zero {
		s.Output = s.Loss.DefaultOutput()
	}
	return s
}

// Validate reports whether the spec, with its defaults (WithDefaults),
// describes a network this package supports.
func (s Spec) Validate() error { return s.WithDefaults().ValidateGiven() }

// ValidateGiven is Validate without the defaults: every activation is taken
// as given, so that a sigmoid Output with CrossEntropy is an error. It
// checks a spec whose output was chosen by name (a model file, a flag).
func (s Spec) ValidateGiven() error {
	var k int
	if len(s.Layers) > 0 {
		var zero Activation
		if len(s.Sizes) > 0 || s.Hidden != zero {
			return fmt.Errorf("model: a network is given by its layers or by sizes and a hidden activation, not both")
		}
		ls, err := buildLayers(s.Input, s.Layers)
		if err != nil {
			return err
		}
		k = ls[len(ls)-1].Out()
	} else {
		if len(s.Input) > 0 {
			return fmt.Errorf("model: an input shape goes with a layer list, not with sizes")
		}
		if len(s.Sizes) < 2 {
			return fmt.Errorf("model: need at least an input and an output layer, got %d layer(s)", len(s.Sizes))
		}
		for i, v := range s.Sizes {
			if v < 1 {
				return fmt.Errorf("model: layer %d has size %d; sizes must be positive", i, v)
			}
		}
		if !elementwise(s.Hidden) {
			return fmt.Errorf("model: hidden activation %v is not allowed (want %s)", s.Hidden, HiddenActivations)
		}
		k = s.Sizes[len(s.Sizes)-1]
	}
	switch s.Loss {
	case SquaredError:
		if s.Output != Identity && s.Output != Sigmoid && s.Output != Tanh {
			return fmt.Errorf("model: loss mse needs an identity, sigmoid or tanh output, not %v", s.Output)
		}
	case BinaryCrossEntropy:
		if s.Output != Sigmoid {
			return fmt.Errorf("model: loss bce needs a sigmoid output, not %v", s.Output)
		}
	case CrossEntropy:
		if s.Output != Softmax {
			return fmt.Errorf("model: loss ce needs a softmax output, not %v", s.Output)
		}
		if k < 2 {
			return fmt.Errorf("model: loss ce needs at least 2 outputs, got %d (use bce for one output)", k)
		}
	default:
		return fmt.Errorf("model: unknown loss %v", s.Loss)
	}
	if !(s.Decay >= 0) || s.Decay > 1e300 {
		return fmt.Errorf("model: weight decay %v must be a finite number >= 0", s.Decay)
	}
	return nil
}

// NumParams returns the number of parameters (weights and biases) of the spec.
// For a layer list that does not build it is 0.
func (s Spec) NumParams() int {
	n := 0
	if len(s.Layers) > 0 {
		ls, err := buildLayers(s.Input, s.Layers)
		if err != nil {
			return 0
		}
		for _, l := range ls {
			n += l.NumParams()
		}
		return n
	}
	for l := 1; l < len(s.Sizes); l++ {
		n += s.Sizes[l] * (s.Sizes[l-1] + 1)
	}
	return n
}
