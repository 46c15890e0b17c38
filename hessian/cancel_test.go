package hessian_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// A curvature bound to a live context gives the same inverse bit for bit;
// bound to a cancelled one, the inverses stop with ErrInterrupted and the
// original curvature is untouched.
func TestWithContext(t *testing.T) {
	net, _ := model.New(model.Spec{Sizes: []int{2, 3, 1}})
	net.Init(rand.New(rand.NewPCG(1, 2)))
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	T := [][]float64{{0}, {1}, {1}, {0}}
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.EmpiricalFisher} {
		for _, sparse := range []bool{false, true} {
			var c hessian.Curvature
			var err error
			if sparse {
				c, err = hessian.NewSparse(kind, net, X, T)
			} else {
				c, err = hessian.New(kind, net, X, T, nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			var want, got mat.SymDense
			if err := hessian.InverseBlocked(&want, c.(hessian.RankOne), 1e-4, 0); err != nil {
				t.Fatal(err)
			}
			live := hessian.WithContext(context.Background(), c)
			if err := hessian.InverseBlocked(&got, live.(hessian.RankOne), 1e-4, 0); err != nil {
				t.Fatal(err)
			}
			if !mat.Equal(&got, &want) {
				t.Errorf("%v sparse %v: the inverse changed under a live context", kind, sparse)
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			dead := hessian.WithContext(ctx, c).(hessian.RankOne)
			var inv mat.SymDense
			if err := hessian.InverseBlocked(&inv, dead, 1e-4, 0); !errors.Is(err, hessian.ErrInterrupted) {
				t.Errorf("%v sparse %v: blocked inverse under a cancelled context: %v", kind, sparse, err)
			}
			if err := hessian.InverseRecursive(&inv, dead, 1e-4); !errors.Is(err, hessian.ErrInterrupted) {
				t.Errorf("%v sparse %v: recursive inverse under a cancelled context: %v", kind, sparse, err)
			}
			if err := hessian.InverseBlocked(&inv, c.(hessian.RankOne), 1e-4, 0); err != nil {
				t.Errorf("%v sparse %v: the original curvature was cancelled too: %v", kind, sparse, err)
			}
		}
	}
}
