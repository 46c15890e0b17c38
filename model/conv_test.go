package model

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
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
