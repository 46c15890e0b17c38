package resources

import (
	"fmt"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The estimates of obs's runs. Before any large allocation, train, prune,
// saliency, hessian and compare estimate what the run will allocate
// (Estimate* below: dense n x n matrices and per-parameter vectors, n the
// free parameters) and Check refuses, with one line naming the estimate
// and what would need less, a run that needs more than the limit given or,
// without one, the memory available (MemAvailable, lowered to a cgroup's
// limit).

// Vectors of length n a training run holds, beyond the data: the model and
// the best restart's copy (2), a workspace (4), the trainer's packed
// iterate, gradient and caches (6), gonum's L-BFGS history of 15 pairs and
// its location (36), and the Newton–CG polish (9). A model file costs
// about ModelFileBytes per parameter while it is written (names and JSON).
const (
	TrainVectors   = 2 + 4 + 6 + 36 + 9
	ModelFileBytes = 100
)

// NumParams counts the parameters of layer sizes in float64, so that
// absurd architectures do not overflow.
func NumParams(sizes []int) float64 {
	n := 0.0
	for l := 1; l < len(sizes); l++ {
		n += float64(sizes[l]) * (float64(sizes[l-1]) + 1)
	}
	return n
}

// AddTraining adds one training run with method over n free parameters
// (restarts run one after another, so they add only the best's copy).
func AddTraining(e *Estimate, method model.Method, n float64, outputs int) {
	e.Floats(fmt.Sprintf("%d training vectors of %.0f parameters", TrainVectors, n), TrainVectors*n)
	switch method {
	case model.BFGS:
		e.Square("BFGS's dense inverse-Hessian approximation", 1, n)
	case model.LM:
		e.Square("Levenberg–Marquardt's dense J^T J and its Cholesky factor", 2, n)
		e.Floats("Levenberg–Marquardt's Jacobian rows", float64(64+outputs)*n)
	}
}

// TrainAlternatives is what would make a training run smaller.
func TrainAlternatives(method model.Method) string {
	s := "use a smaller --arch"
	if method == model.BFGS || method == model.LM {
		s += " or --trainer lbfgs (no n x n matrix)"
	}
	return s
}

// EstimateTrain is obs train's estimate.
func EstimateTrain(spec model.Spec, method model.Method) *Estimate {
	var e Estimate
	n := float64(spec.NumParams())
	AddTraining(&e, method, n, spec.NumOutputs())
	e.Add("the model file", ModelFileBytes*n)
	return &e
}

// AddCurvature adds what prune's curvature state for cfg holds at its peak:
// the inverse (OBS) or diagonal (OBD) and the work of building it.
func AddCurvature(e *Estimate, cfg *prune.Config, n float64) {
	if cfg.Method != prune.Magnitude {
		// Block and diagonal structures never form an n x n matrix: each
		// block's B x B inverse and accumulator, or two vectors. A layer
		// structure's blocks are as large as its layers, so it is estimated
		// as dense (an upper bound).
		switch st := cfg.Structure.(type) {
		case prune.Blocks:
			e.Floats(fmt.Sprintf("the block-diagonal curvature and inverses (B = %d)", st.Size), 2*n*float64(min(st.Size, int(n))))
			return
		case prune.Diagonal:
			e.Floats("the diagonal curvature", 2*n)
			return
		case prune.KFAC:
			return // its factors depend on the layer sizes: AddKFAC
		}
	}
	switch {
	case cfg.Method == prune.Magnitude:
	case cfg.Method == prune.OBD && cfg.Curvature == hessian.Exact:
		e.Square("the exact Hessian (for its diagonal)", 2, n)
	case cfg.Method == prune.OBD:
	case cfg.Curvature == hessian.Exact:
		// The full Hessian, its free-parameter copy, the matrix
		// decomposed, its eigenvectors and the inverse.
		e.Square("the exact Hessian, its eigendecomposition and inverse", 5, n)
	case cfg.Inverse == prune.Direct:
		e.Square("the dense curvature and its Cholesky inverse", 2, n)
	default:
		e.Square("the dense inverse curvature", 1, n)
	}
}

// AddKFAC adds the K-FAC structure's factors for the network net (nothing
// for another structure): O(sum of the squared layer widths), not O(n B).
func AddKFAC(e *Estimate, cfg *prune.Config, net *model.MLP) {
	if k, ok := cfg.Structure.(prune.KFAC); ok && cfg.Method == prune.OBS {
		e.Floats("the K-FAC factors and their inverses", k.Floats(net))
	}
}

// CurvatureAlternatives is what would make a curvature smaller.
func CurvatureAlternatives(cfg *prune.Config) string {
	s := "use a block-diagonal curvature (--structure block:B), --method obd or magnitude (no inverse)"
	if cfg.Curvature == hessian.Exact {
		s += ", or --curvature ggn (no eigendecomposition)"
	} else if cfg.Method == prune.OBS && cfg.Inverse == prune.Direct {
		s += ", or --inverse blocked (one n x n matrix instead of two)"
	}
	return s
}

// EstimatePrune is obs prune's (and saliency's) estimate for a model with
// n free of nParams parameters.
func EstimatePrune(cfg *prune.Config, n, nParams float64, outputs int) *Estimate {
	var e Estimate
	AddCurvature(&e, cfg, n)
	e.Floats("per-parameter vectors", 12*nParams)
	if cfg.Retrain > 0 || cfg.RetrainAbove > 0 {
		m := model.LBFGS
		if cfg.Train != nil {
			m = cfg.Train.Method
		}
		AddTraining(&e, m, n, outputs)
	}
	e.Add("the model file", ModelFileBytes*nParams)
	return &e
}

// EstimatePruneOf is obs prune's (and saliency's) estimate for pruning
// net with cfg: EstimatePrune for its free parameters with the K-FAC
// factors of AddKFAC.
func EstimatePruneOf(cfg *prune.Config, net *model.MLP) *Estimate {
	e := EstimatePrune(cfg, float64(net.NumFree()), float64(len(net.Params)), net.NumOutputs())
	AddKFAC(e, cfg, net)
	return e
}

// EstimateHessian is obs hessian's estimate for k kinds over n free
// parameters: each kind's matrix and inverse are kept for the pairwise
// comparisons, and building one (exact: the full Hessian and its copy;
// every kind: the eigendecomposition) and comparing two take about six
// more.
func EstimateHessian(kinds int, n float64) *Estimate {
	var e Estimate
	e.Square(fmt.Sprintf("%d curvatures and their inverses", kinds), 2*float64(kinds), n)
	e.Square("eigendecompositions and comparisons", 6, n)
	return &e
}
