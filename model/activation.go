package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// The element-wise activations phi, their first and second derivatives,
// and softmax (the output of cross-entropy, which is not element-wise and
// belongs to the loss; see MLP's output head).

// LeakySlope is LeakyReLU's slope for negative inputs, PyTorch's default
// (torch.nn.LeakyReLU(negative_slope=0.01)).
const LeakySlope = 0.01

// Constants of the GELU forms (Hendrycks & Gimpel, "Gaussian error linear
// units (GELUs)", 2016, section 2; PyTorch's torch.nn.GELU with
// approximate="none" and "tanh").
const (
	invSqrt2    = 0.70710678118654752440084436210484903928483593768847 // 1/sqrt(2)
	invSqrt2Pi  = 0.39894228040143267793994605993438186847585863116493 // 1/sqrt(2 pi)
	sqrt2OverPi = 0.79788456080286535587989211986876373695171726232987 // sqrt(2/pi)
	geluCubic   = 0.044715
)

// activate sets a = phi(z) for an element-wise activation or softmax.
func activate(act Activation, a, z []float64) {
	switch act {
	case Identity:
		copy(a, z)
	case Sigmoid:
		for i, v := range z {
			a[i] = sigmoid(v)
		}
	case Tanh:
		for i, v := range z {
			a[i] = math.Tanh(v)
		}
	case ReLU:
		// math.Max(v, 0) without its call: v for v > 0 and NaN, +0
		// for the rest (-0 included).
		for i, v := range z {
			if v > 0 || v != v {
				a[i] = v
			} else {
				a[i] = 0
			}
		}
	case LeakyReLU:
		for i, v := range z {
			a[i] = leakyReLU(v)
		}
	case GELU:
		for i, v := range z {
			a[i] = gelu(v)
		}
	case GELUTanh:
		for i, v := range z {
			a[i] = geluTanh(v)
		}
	case SiLU:
		for i, v := range z {
			a[i] = v * sigmoid(v)
		}
	case Softmax:
		lse := floats.LogSumExp(z)
		for i, v := range z {
			a[i] = math.Exp(v - lse)
		}
	default:
		panic(fmt.Sprintf("model: unknown activation %v", act))
	}
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus returns log(1 + e^z) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

func leakyReLU(z float64) float64 {
	if z > 0 {
		return z
	}
	return LeakySlope * z
}

// gelu is z Phi(z), Phi the standard normal distribution function.
func gelu(z float64) float64 { return 0.5 * z * (1 + math.Erf(z*invSqrt2)) }

// geluTanh is the tanh form 1/2 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))).
func geluTanh(z float64) float64 {
	return 0.5 * z * (1 + math.Tanh(sqrt2OverPi*(z+geluCubic*z*z*z)))
}

// d1 and d2 return the first and second derivatives of an activation an
// output may have (identity, sigmoid, tanh) or of relu, given z and
// a = phi(z). They are small enough to be inlined in the loops over units
// (the hot loops of the batched passes); d1Any and d2Any cover every
// element-wise activation.
func d1(act Activation, z, a float64) float64 {
	switch act {
	case Sigmoid:
		return a * (1 - a)
	case Tanh:
		return 1 - a*a
	case ReLU:
		if z > 0 {
			return 1
		}
		return 0
	case Identity:
		return 1
	}
	panic("model: d1 of an activation it does not inline")
}

func d2(act Activation, z, a float64) float64 {
	switch act {
	case Sigmoid:
		return a * (1 - a) * (1 - 2*a)
	case Tanh:
		return -2 * a * (1 - a*a)
	case ReLU, Identity:
		return 0
	}
	panic("model: d2 of an activation it does not inline")
}

// inlined reports whether d1 and d2 serve act.
func inlined(act Activation) bool {
	return act == Identity || act == Sigmoid || act == Tanh || act == ReLU
}

// d1Any and d2Any return the first and second derivatives of any
// element-wise activation, given z and a = phi(z). At the kink of relu
// and leakyrelu (z = 0) they take the left derivative, as PyTorch does.
func d1Any(act Activation, z, a float64) float64 {
	switch act {
	case LeakyReLU:
		if z > 0 {
			return 1
		}
		return LeakySlope
	case GELU:
		// Phi(z) + z phi(z).
		return 0.5*(1+math.Erf(z*invSqrt2)) + z*invSqrt2Pi*math.Exp(-0.5*z*z)
	case GELUTanh:
		// With u = sqrt(2/pi)(z + c z^3), t = tanh(u):
		// 1/2 (1 + t) + 1/2 z (1 - t^2) u'.
		t := math.Tanh(sqrt2OverPi * (z + geluCubic*z*z*z))
		du := sqrt2OverPi * (1 + 3*geluCubic*z*z)
		return 0.5*(1+t) + 0.5*z*(1-t*t)*du
	case SiLU:
		// s (1 + z (1 - s)), s = sigmoid(z).
		s := sigmoid(z)
		return s * (1 + z*(1-s))
	}
	if !inlined(act) {
		panic(fmt.Sprintf("model: %v is not an element-wise activation", act))
	}
	return d1(act, z, a)
}

func d2Any(act Activation, z, a float64) float64 {
	switch act {
	case LeakyReLU:
		return 0
	case GELU:
		// phi(z) (2 - z^2).
		return invSqrt2Pi * math.Exp(-0.5*z*z) * (2 - z*z)
	case GELUTanh:
		// (1 - t^2) (u' + 1/2 z (u'' - 2 t u'^2)).
		t := math.Tanh(sqrt2OverPi * (z + geluCubic*z*z*z))
		du := sqrt2OverPi * (1 + 3*geluCubic*z*z)
		ddu := sqrt2OverPi * 6 * geluCubic * z
		return (1 - t*t) * (du + 0.5*z*(ddu-2*t*du*du))
	case SiLU:
		// s (1 - s) (2 + z (1 - 2 s)).
		s := sigmoid(z)
		return s * (1 - s) * (2 + z*(1-2*s))
	}
	if !inlined(act) {
		panic(fmt.Sprintf("model: %v is not an element-wise activation", act))
	}
	return d2(act, z, a)
}

// elementwise reports whether act is an element-wise activation (every
// activation but Softmax).
func elementwise(act Activation) bool {
	return act >= 0 && act < numActivations && act != Softmax
}
