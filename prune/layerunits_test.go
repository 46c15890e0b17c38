package prune

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// Layer-wise unit OBS is the constrained minimum of the layer's quadratic
// reconstruction error: with H = (2/N) sum_p x~_p x~_p^T + lambda I formed
// here from the units' outputs, the saliency of removing inputs J of layer
// l from every row is sum_r min 1/2 d^T H d subject to d_J = -w_rJ (each a
// dense KKT solve), the step is the minimisers, and after Remove the next
// unit's saliency is the minimum with the removed inputs held at 0.
func TestLayerUnitOBSIsConstrainedMinimum(t *testing.T) {
	m, s := deepNet(t, 6)
	const damp = 0.01
	sc, err := LayerUnitOBSPruner{Damp: damp}.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
	if err != nil {
		t.Fatal(err)
	}
	hess := func(l int) *mat.SymDense { return refLayerHessian(m, s.Inputs, l, damp) }
	// kkt returns min 1/2 d^T H d subject to d_j = v_j for the (j, v)
	// pairs, and the minimiser.
	kkt := func(h *mat.SymDense, fix map[int]float64) (float64, []float64) {
		n := h.SymmetricDim()
		k := len(fix)
		a := mat.NewDense(n+k, n+k, nil)
		rhs := mat.NewVecDense(n+k, nil)
		for i := range n {
			for j := range n {
				a.Set(i, j, h.At(i, j))
			}
		}
		c := 0
		for j := range n {
			v, ok := fix[j]
			if !ok {
				continue
			}
			a.Set(j, n+c, 1)
			a.Set(n+c, j, 1)
			rhs.SetVec(n+c, v)
			c++
		}
		var sol mat.VecDense
		if err := sol.SolveVec(a, rhs); err != nil {
			t.Fatal(err)
		}
		d := mat.VecDenseCopyOf(sol.SliceVec(0, n))
		var hd mat.VecDense
		hd.MulVec(h, d)
		return 0.5 * mat.Dot(d, &hd), d.RawVector().Data
	}
	groups, units := UnitGroups(m, true)
	for u, G := range groups {
		l := units[u].Layer + 1
		j := units[u].Index
		h := hess(l)
		want, wantStep := 0.0, map[int]float64{}
		for r := range m.Sizes[l] {
			v, d := kkt(h, map[int]float64{j: -m.Params[m.Index(l, r, j)]})
			want += v
			for i, di := range d {
				wantStep[m.Index(l, r, i)] = di
			}
		}
		if got := sc.Saliency(m.Params, G); math.Abs(got-want) > 1e-9*want {
			t.Errorf("unit %v: saliency %v, constrained minimum %v", units[u], got, want)
		}
		up, err := sc.Step(m.Params, G)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(up.Predicted-want) > 1e-9*want || len(up.Rows) != len(wantStep) {
			t.Errorf("unit %v: step predicts %v over %d rows, want %v over %d", units[u], up.Predicted, len(up.Rows), want, len(wantStep))
		}
		for i, q := range up.Rows {
			if math.Abs(up.Delta[i]-wantStep[q]) > 1e-9 {
				t.Errorf("unit %v: update of %s %v, minimiser %v", units[u], m.Name(q), up.Delta[i], wantStep[q])
				break
			}
		}
	}
	// Remove unit 1 of layer 2 (layer 3's input 1), then unit 4's saliency
	// is the minimum with input 1 held at 0.
	net := m.Clone()
	G1, G2 := groups[8+1], groups[8+4]
	up, err := sc.Step(net.Params, G1)
	if err != nil {
		t.Fatal(err)
	}
	sc2, _ := LayerUnitOBSPruner{Damp: damp}.Prepare(context.Background(), net, Calibration{X: s.Inputs, T: s.Targets})
	up.Apply(net.Params)
	for _, q := range G1 {
		net.Prune(q)
	}
	if _, err := sc2.Remove(G1); err != nil {
		t.Fatal(err)
	}
	h := hess(3)
	want := 0.0
	for r := range net.Sizes[3] {
		v, _ := kkt(h, map[int]float64{1: 0, 4: -net.Params[net.Index(3, r, 4)]})
		want += v
	}
	if got := sc2.Saliency(net.Params, G2); math.Abs(got-want) > 1e-9*want {
		t.Errorf("after a removal: saliency %v, constrained minimum %v", got, want)
	}
	// Through Prune: half the units of every hidden layer, compacted.
	run := m.Clone()
	if _, err := Prune(context.Background(), run, s.Inputs, s.Targets, &Plan{Method: LayerUnitOBSPruner{}, Granularity: Granularity{Kind: ByUnit, Outgoing: true}, PerLayer: true, Target: Target{Sparsity: 0.5}}); err != nil {
		t.Fatal(err)
	}
	small, _ := Compact(run)
	if small.Sizes[1] != 4 || small.Sizes[2] != 3 {
		t.Errorf("compacted to %v", small.Sizes)
	}
	if _, err := Prune(context.Background(), m.Clone(), s.Inputs, s.Targets, &Plan{Method: LayerUnitOBSPruner{}, Granularity: Granularity{Kind: ByUnit}, PerLayer: true, Target: Target{Sparsity: 0.5}}); err == nil {
		t.Error("layer-wise unit OBS with incoming groups: no error")
	}
}

// refLayerHessian is the damped layer-wise Hessian of weight layer l,
// H = (2/N) sum_p x~_p x~_p^T + damp mean(diag) I, x~_p the layer's inputs
// (the units' outputs of layer l-1) and 1, formed entry by entry.
func refLayerHessian(m *model.MLP, X [][]float64, l int, damp float64) *mat.SymDense {
	ws := m.NewWorkspace()
	d := m.Sizes[l-1] + 1
	h := mat.NewSymDense(d, nil)
	for _, x := range X {
		a := make([]float64, d)
		for j := range d - 1 {
			a[j] = m.UnitOutput(ws, x, l-1, j)
		}
		a[d-1] = 1
		for i := range d {
			for j := i; j < d; j++ {
				h.SetSym(i, j, h.At(i, j)+2*a[i]*a[j]/float64(len(X)))
			}
		}
	}
	mean := 0.0
	for i := range d {
		mean += h.At(i, i) / float64(d)
	}
	for i := range d {
		h.SetSym(i, i, h.At(i, i)+damp*mean)
	}
	return h
}
