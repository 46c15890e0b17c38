package study

import (
	"math/rand/v2"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Zero Monte-Carlo options are hessian's defaults, and the summary states
// the values used, not the zeros: the same summary as with the defaults
// given, and the same curvature.
func TestCurvatureZeroOptionsAreDefaults(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Output: model.Identity})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	train := datasets.XOR()
	run := func(o hessian.Options) (*CurvatureSummary, []*CurvatureResult) {
		cfg := &CurvatureConfig{Kinds: []hessian.Kind{hessian.MCFisher}, Alpha: 1e-4, Options: o}
		res, err := BuildCurvatures(m, train.Inputs, train.Targets, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := SummarizeCurvatures(m, train, cfg, res, CurvatureGlobals{})
		if err != nil {
			t.Fatal(err)
		}
		return s, res
	}
	zero, rz := run(hessian.Options{Seed: 3})
	given, rg := run(hessian.Options{Seed: 3, Samples: hessian.DefaultSamples, Sigma: hessian.DefaultSigma})
	if zero.Samples != hessian.DefaultSamples || zero.Sigma != hessian.DefaultSigma {
		t.Errorf("zero options: summary states samples %d, sigma %v; want %d, %v", zero.Samples, zero.Sigma, hessian.DefaultSamples, hessian.DefaultSigma)
	}
	if zero.Samples != given.Samples || zero.Sigma != given.Sigma {
		t.Errorf("zero options %d, %v; given defaults %d, %v", zero.Samples, zero.Sigma, given.Samples, given.Sigma)
	}
	if !equalSym(rz[0].c.RawSymmetric().Data, rg[0].c.RawSymmetric().Data) {
		t.Error("the zero options built another Monte-Carlo Fisher than the defaults given")
	}
}

func equalSym(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
