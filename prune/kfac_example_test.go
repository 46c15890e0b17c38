package prune_test

import (
	"context"
	"fmt"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/prune"
)

// OBS with the Kronecker-factored curvature (K-FAC): the GGN's factors
// G ⊗ A per layer, built from the calibration set by KFACFactors and held
// by the KFAC structure as the two factors' inverses (π-damped). Every
// step removes two parameters with OBS's group formula, one shot to half
// of the parameters.
func ExampleKFAC() {
	net, X, T := xor()
	res, err := prune.Prune(context.Background(), net, X, T, &prune.Plan{
		Method: prune.OBSPruner{
			Curvature: prune.KFACFactors{Curvature: hessian.GGN},
			Structure: prune.KFAC{},
			Alpha:     1e-4,
		},
		Target: prune.Target{Sparsity: 0.5},
		Group:  2,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d -> %d parameters, E %.2g -> %.2g (predicted +%.2g)\n", res.Method, res.Start.Params, res.End.Params,
		res.Start.TrainError, res.End.TrainError, res.Predicted)
	for _, q := range res.Removed {
		fmt.Println(net.Name(q))
	}
	// Output:
	// obs-ggn-kfac: 9 -> 5 parameters, E 0.013 -> 0.18 (predicted +0.023)
	// bias->h1.0
	// bias->h1.1
	// in1->h1.0
	// in0->h1.1
}
