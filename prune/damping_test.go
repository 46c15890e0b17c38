package prune

import (
	"context"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
)

// OBS with relative damping inverts C_data + (Decay + alpha) s I,
// s = tr(C_data)/n, formed here from the dense data part by hand; and its
// name says so.
func TestOBSRelativeDamping(t *testing.T) {
	m, s := smallNet(t)
	const alpha = 1e-3
	for _, k := range []hessian.Kind{hessian.GGN, hessian.EmpiricalFisher} {
		for _, st := range []Structure{nil, Blocks{Size: 5}, Diagonal{}} {
			p := OBSPruner{Curvature: Terms{Curvature: k}, Alpha: alpha, DampingMode: hessian.Relative, Structure: st}
			sc, err := p.Prepare(context.Background(), m, Calibration{X: s.Inputs, T: s.Targets})
			if err != nil {
				t.Fatal(err)
			}
			curv, _ := hessian.New(k, m, s.Inputs, s.Targets, nil)
			var c mat.SymDense
			curv.Dense(&c)
			n := c.SymmetricDim()
			var tr float64
			for i := range n {
				tr += c.At(i, i) - m.Decay
			}
			scale := tr / float64(n)
			for i := range n {
				c.SetSym(i, i, c.At(i, i)-m.Decay+(m.Decay+alpha)*scale)
			}
			// The structure's part of the damped matrix.
			starts := []int{0}
			switch st := st.(type) {
			case Blocks:
				for b := st.Size; b < n; b += st.Size {
					starts = append(starts, b)
				}
			case Diagonal:
				for b := 1; b < n; b++ {
					starts = append(starts, b)
				}
			}
			starts = append(starts, n)
			for b := 0; b+1 < len(starts); b++ {
				blk := mat.NewSymDense(starts[b+1]-starts[b], nil)
				for i := starts[b]; i < starts[b+1]; i++ {
					for j := i; j < starts[b+1]; j++ {
						blk.SetSym(i-starts[b], j-starts[b], c.At(i, j))
					}
				}
				var inv mat.Dense
				if err := inv.Inverse(blk); err != nil {
					t.Fatal(err)
				}
				for i := starts[b]; i < starts[b+1]; i++ {
					w := m.Params[i]
					want := w * w / (2 * inv.At(i-starts[b], i-starts[b]))
					if got := sc.Saliency(m.Params, []int{i}); math.Abs(got-want) > 1e-8*want {
						t.Errorf("%v %v: saliency of %d is %v, want %v", k, st, i, got, want)
					}
				}
			}
			if name := p.String(); name[len(name)-len("-relative"):] != "-relative" {
				t.Errorf("name %q does not end in -relative", name)
			}
		}
	}
}
