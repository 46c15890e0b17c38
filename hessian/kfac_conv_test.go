package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// convNet returns the network of input shape in and layers, with seeded
// N(0, 0.5^2) parameters, the given loss (identity output for squared
// error), weight decay 0.01 and the parameters pruned pruned.
func convNet(t testing.TB, in []int, layers string, loss model.Loss, pruned []int, seed uint64) *model.MLP {
	t.Helper()
	ls, err := model.ParseLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	spec := model.Spec{Input: in, Layers: ls, Loss: loss, Decay: 0.01}
	if loss == model.SquaredError {
		spec.Output = model.Identity
	}
	m, err := model.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	for q := range m.Params {
		m.Params[q] = 0.5 * rng.NormFloat64()
	}
	for _, q := range pruned {
		m.Prune(q)
	}
	return m
}

var convLosses = []model.Loss{model.SquaredError, model.BinaryCrossEntropy, model.CrossEntropy}

// KFC is exact where its assumptions cost nothing: one pattern, and conv
// layers with one output position (kernel = input size, no padding; the
// second a 1x1 conv without bias) followed by Linear layers. Every layer's
// block of K-FAC then equals the dense GGN's (and MC Fisher's, with the
// same samples) from New to 1e-12 relative, and the blocks between layers
// are 0, for every loss, with weight decay and pruned parameters.
func TestKFACConvOnePositionEqualsDenseBlocks(t *testing.T) {
	const layers = "conv:3:3,tanh,conv:2:1:nobias,sigmoid,flatten,linear:4,tanh,linear:3"
	for _, loss := range convLosses {
		for _, kind := range []Kind{GGN, MCFisher} {
			// Pruned: a conv1 weight and bias, a conv2 weight, a linear weight.
			m := convNet(t, []int{2, 3, 3}, layers, loss, []int{4, 18, 57, 63}, 5)
			X, T := randomData(m, 1, 4)
			opts := &Options{Samples: 3, Seed: 9}
			kf := mustKFAC(t, kind, m, X, T, opts)
			for l, L := range kf.Layers() {
				if L.Positions != 1 {
					t.Fatalf("layer %d has %d positions", l+1, L.Positions)
				}
			}
			ref := dense(mustNew(t, kind, m, X, T, opts))
			got := dense(kf)
			checkLayerBlocks(t, fmt.Sprintf("%v %v", loss, kind), m, kf, got, ref)
		}
	}
}

// outputF returns the Gauss–Newton output f of net at the input x, up to
// a constant added to every output for cross-entropy: the output itself
// for squared error (identity output), the logits log(a/(1-a)) for bce,
// log softmax for ce (the log-normaliser shifts every logit alike, and
// every column of ce's loss Hessian factor sums to 0, so J^T u is the
// logits').
func outputF(net *model.MLP, ws *model.Workspace, x []float64) []float64 {
	a := net.Forward(ws, x)
	f := make([]float64, len(a))
	for k, v := range a {
		switch net.Loss {
		case model.SquaredError:
			f[k] = v
		case model.BinaryCrossEntropy:
			f[k] = math.Log(v / (1 - v))
		case model.CrossEntropy:
			f[k] = math.Log(v)
		}
	}
	return f
}

// tailJacobian returns df/dz (K x len(z)) of the network tail at z, by
// fourth-order central differences with step h = 1e-3 (truncation
// O(h^4), rounding O(eps/h): both near 1e-13 here).
func tailJacobian(tail *model.MLP, z []float64) *mat.Dense {
	const h = 1e-3
	ws := tail.NewWorkspace()
	K := tail.NumOutputs()
	J := mat.NewDense(K, len(z), nil)
	zz := append([]float64(nil), z...)
	at := func(i int, d float64) []float64 {
		zz[i] = z[i] + d
		f := outputF(tail, ws, zz)
		zz[i] = z[i]
		return f
	}
	for i := range z {
		p2, p1, m1, m2 := at(i, 2*h), at(i, h), at(i, -h), at(i, -2*h)
		for k := range K {
			J.Set(k, i, (-p2[k]+8*p1[k]-8*m1[k]+m2[k])/(12*h))
		}
	}
	return J
}

// lossFactor returns U with U U^T the loss Hessian with respect to f at
// the output activations a (targets summing to 1), written from the
// loss's closed form: I (squared error, identity output), diag
// sqrt(a(1-a)) (bce), columns sqrt(a_k) (e_k - a) (ce).
func lossFactor(loss model.Loss, a []float64) *mat.Dense {
	K := len(a)
	U := mat.NewDense(K, K, nil)
	for k := range K {
		switch loss {
		case model.SquaredError:
			U.Set(k, k, 1)
		case model.BinaryCrossEntropy:
			U.Set(k, k, math.Sqrt(a[k]*(1-a[k])))
		case model.CrossEntropy:
			for i := range K {
				e := 0.0
				if i == k {
					e = 1
				}
				U.Set(i, k, math.Sqrt(a[k])*(e-a[i]))
			}
		}
	}
	return U
}

// convFactorCase is a network split after one of its conv layers: the
// full network's layers are head + conv + tail, the conv the weight
// layer numbered layer (1-based).
type convFactorCase struct {
	head, conv, tail string
	layer            int
}

// The factors of conv layers with several output positions, stride,
// padding, with and without bias, equal A and G formed here from their
// definitions to 1e-10 relative: A from the layer's input (the data, or
// the previous layers' outputs) cut into patches by index arithmetic, G
// from the output-side vectors J_t^T u_k at every position t, with J the
// Jacobian of f with respect to the conv's output by finite differences
// of the rest of the network (a network of its own, fed the conv's
// output) and U the loss's closed-form factor; for ce also the MC Fisher
// with its samples replayed from the same PCG stream.
func TestKFACConvFactorsFromDefinitions(t *testing.T) {
	in := []int{2, 5, 5}
	cases := []convFactorCase{
		// conv1: 5+2-3 = 4, stride 2: 3x3 positions; conv2 2x2, no bias.
		{"", "conv:3:3:s=2:p=1", "tanh,conv:2:2:nobias,sigmoid,flatten,linear:3", 1},
		{"conv:3:3:s=2:p=1,tanh", "conv:2:2:nobias", "sigmoid,flatten,linear:3", 2},
		// conv2 with bias and padding: 3+2-2+1 = 4x4 positions.
		{"conv:3:3:s=2:p=1,tanh", "conv:2:2:p=1", "sigmoid,avgpool:2,flatten,linear:3", 2},
	}
	for _, c := range cases {
		full := strings.TrimPrefix(c.head+","+c.conv+","+c.tail, ",")
		for _, loss := range convLosses {
			m := convNet(t, in, full, loss, []int{1, 30, 33}, 7)
			X, T := randomData(m, 3, 8)
			cl := m.WeightLayer(c.layer).(model.Conv2d)
			ls, err := model.ParseLayers(c.tail)
			if err != nil {
				t.Fatal(err)
			}
			tailSpec := m.Spec
			tailSpec.Input = []int{cl.OutChannels, cl.OutHeight(), cl.OutWidth()}
			tailSpec.Layers = ls
			tail, err := model.New(tailSpec)
			if err != nil {
				t.Fatal(err)
			}
			convEnd := m.Offset(c.layer) + cl.NumParams()
			copy(tail.Params, m.Params[convEnd:])

			ins := m.LayerInputs(X)[c.layer-1]
			S := cl.OutHeight() * cl.OutWidth()
			na := cl.Channels*cl.Kernel*cl.Kernel + 1
			if cl.NoBias {
				na--
			}
			wantA := mat.NewSymDense(na, nil)
			wantG := mat.NewSymDense(cl.OutChannels, nil)
			wantMC := mat.NewSymDense(cl.OutChannels, nil)
			const samples, seed = 4, 5
			rng := rand.New(rand.NewPCG(seed, mcStream))
			ws := m.NewWorkspace()
			z := make([]float64, cl.Out())
			abar := mat.NewVecDense(na, nil)
			g := mat.NewVecDense(cl.OutChannels, nil)
			s := 1
			if cl.Stride > 0 {
				s = cl.Stride
			}
			for p := range X {
				x := ins.RawRowView(p)
				// The conv's output, from the patches and the weights.
				for t0 := range S {
					i, j := t0/cl.OutWidth(), t0%cl.OutWidth()
					for ch := range cl.Channels {
						for u := range cl.Kernel {
							for v := range cl.Kernel {
								r, col := i*s-cl.Padding+u, j*s-cl.Padding+v
								val := 0.0
								if r >= 0 && r < cl.Height && col >= 0 && col < cl.Width {
									val = x[(ch*cl.Height+r)*cl.Width+col]
								}
								abar.SetVec((ch*cl.Kernel+u)*cl.Kernel+v, val)
							}
						}
					}
					if !cl.NoBias {
						abar.SetVec(na-1, 1)
					}
					wantA.SymRankOne(wantA, 1/float64(len(X)), abar)
					for o := range cl.OutChannels {
						w := m.Params[m.Offset(c.layer)+o*na:][:na]
						zo := 0.0
						for i := range na {
							zo += w[i] * abar.AtVec(i)
						}
						z[o*S+t0] = zo
					}
				}
				J := tailJacobian(tail, z)
				a := append([]float64(nil), m.Forward(ws, X[p])...)
				U := lossFactor(loss, a)
				var JU mat.Dense // column k: J^T u_k, Outputs*S long
				JU.Mul(J.T(), U)
				for t0 := range S {
					for k := range m.NumOutputs() {
						for o := range cl.OutChannels {
							g.SetVec(o, JU.At(o*S+t0, k))
						}
						wantG.SymRankOne(wantG, 1/float64(len(X)*S), g)
					}
				}
				if loss != model.CrossEntropy {
					continue
				}
				for range samples {
					u, cls, cum := rng.Float64(), len(a)-1, 0.0
					for j, pj := range a {
						if cum += pj; u < cum {
							cls = j
							break
						}
					}
					v := mat.NewVecDense(len(a), append([]float64(nil), a...))
					v.SetVec(cls, v.AtVec(cls)-1)
					var jv mat.VecDense
					jv.MulVec(J.T(), v)
					for t0 := range S {
						for o := range cl.OutChannels {
							g.SetVec(o, jv.AtVec(o*S+t0))
						}
						wantMC.SymRankOne(wantMC, 1/float64(len(X)*S*samples), g)
					}
				}
			}
			what := name("%v, layer %d (%s)", loss, c.layer, c.conv)
			kinds := []Kind{GGN}
			if loss == model.CrossEntropy {
				kinds = append(kinds, MCFisher)
			}
			for _, kind := range kinds {
				kf := mustKFAC(t, kind, m, X, T, &Options{Samples: samples, Seed: seed})
				L := kf.Layers()[c.layer-1]
				if L.Positions != S || L.Offset != m.Offset(c.layer) || L.Stride() != na || L.Outputs != cl.OutChannels || L.Bias == cl.NoBias {
					t.Fatalf("%s: layer %+v", what, L)
				}
				want := wantG
				if kind == MCFisher {
					want = wantMC
				}
				expectSymRel(t, name("%s %v: A", what, kind), L.A, wantA, 1e-10)
				expectSymRel(t, name("%s %v: G", what, kind), L.G, want, 1e-10)
			}
		}
	}
}

// expectSymRel fails unless max |got - want| <= tol max |want|.
func expectSymRel(t *testing.T, what string, got, want *mat.SymDense, tol float64) {
	t.Helper()
	if got.SymmetricDim() != want.SymmetricDim() {
		t.Fatalf("%s: size %d, want %d", what, got.SymmetricDim(), want.SymmetricDim())
	}
	scale := mat.Norm(want, math.Inf(1))
	if d := maxAbsDiff(got, want); !(d <= tol*scale) {
		t.Errorf("%s: differs from the definition by %.3g (%.3g relative)", what, d, d/scale)
	}
}
