package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Before any large allocation, train, prune, saliency, hessian and compare
// estimate what the run will allocate (estimate* below: dense n x n
// matrices and per-parameter vectors, n the free parameters) and refuse,
// with exit 1 and one line naming the estimate and what would need less,
// a run that needs more than --max-memory or, without it, the memory
// available (MemAvailable, lowered to a cgroup's limit). Exit 1, not 2:
// the flags are well formed, the machine is too small for them.

// Vectors of length n a training run holds, beyond the data: the model and
// the best restart's copy (2), a workspace (4), the trainer's packed
// iterate, gradient and caches (6), gonum's L-BFGS history of 15 pairs and
// its location (36), and the Newton–CG polish (9). A model file costs
// about modelFileBytes per parameter while it is written (names and JSON).
const (
	trainVectors   = 2 + 4 + 6 + 36 + 9
	modelFileBytes = 100
)

// memoryFlag is --max-memory of the commands that check their estimate.
func memoryFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-memory", EnvVars: []string{"OBS_MAX_MEMORY"},
		Usage: "refuse, before starting, a run estimated to need more than `SIZE` (like 512M, 4G, 2GB; default: the memory available, MemAvailable or the cgroup's limit)"}
}

// checkMemory checks e against --max-memory or the available memory.
func checkMemory(c *cli.Context, e *resources.Estimate, alternatives string) error {
	limit := 0.0
	if s := c.String("max-memory"); c.IsSet("max-memory") {
		var err error
		if limit, err = resources.ParseSize(s); err != nil {
			return usagef("--max-memory: %v", err)
		}
	}
	return resources.Check(e, limit, alternatives)
}

// numParams counts the parameters of layer sizes in float64, so that
// absurd architectures do not overflow.
func numParams(sizes []int) float64 {
	n := 0.0
	for l := 1; l < len(sizes); l++ {
		n += float64(sizes[l]) * (float64(sizes[l-1]) + 1)
	}
	return n
}

// addTraining adds one training run with method over n free parameters
// (restarts run one after another, so they add only the best's copy).
func addTraining(e *resources.Estimate, method model.Method, n float64, outputs int) {
	e.Floats(fmt.Sprintf("%d training vectors of %.0f parameters", trainVectors, n), trainVectors*n)
	switch method {
	case model.BFGS:
		e.Square("BFGS's dense inverse-Hessian approximation", 1, n)
	case model.LM:
		e.Square("Levenberg–Marquardt's dense J^T J and its Cholesky factor", 2, n)
		e.Floats("Levenberg–Marquardt's Jacobian rows", float64(64+outputs)*n)
	}
}

// trainAlternatives is what would make a training run smaller.
func trainAlternatives(method model.Method) string {
	s := "use a smaller --arch"
	if method == model.BFGS || method == model.LM {
		s += " or --trainer lbfgs (no n x n matrix)"
	}
	return s
}

// estimateTrain is obs train's estimate.
func estimateTrain(spec model.Spec, method model.Method) *resources.Estimate {
	var e resources.Estimate
	n := float64(spec.NumParams())
	addTraining(&e, method, n, spec.NumOutputs())
	e.Add("the model file", modelFileBytes*n)
	return &e
}

// addCurvature adds what prune's curvature state for cfg holds at its peak:
// the inverse (OBS) or diagonal (OBD) and the work of building it.
func addCurvature(e *resources.Estimate, cfg *prune.Config, n float64) {
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

// curvatureAlternatives is what would make a curvature smaller.
func curvatureAlternatives(cfg *prune.Config) string {
	s := "use a block-diagonal curvature (--structure block:B), --method obd or magnitude (no inverse)"
	if cfg.Curvature == hessian.Exact {
		s += ", or --curvature ggn (no eigendecomposition)"
	} else if cfg.Method == prune.OBS && cfg.Inverse == prune.Direct {
		s += ", or --inverse blocked (one n x n matrix instead of two)"
	}
	return s
}

// estimatePrune is obs prune's (and saliency's) estimate for a model with
// n free of nParams parameters.
func estimatePrune(cfg *prune.Config, n, nParams float64, outputs int) *resources.Estimate {
	var e resources.Estimate
	addCurvature(&e, cfg, n)
	e.Floats("per-parameter vectors", 12*nParams)
	if cfg.Retrain > 0 || cfg.RetrainAbove > 0 {
		m := model.LBFGS
		if cfg.Train != nil {
			m = cfg.Train.Method
		}
		addTraining(&e, m, n, outputs)
	}
	e.Add("the model file", modelFileBytes*nParams)
	return &e
}

// estimateHessian is obs hessian's estimate for k kinds over n free
// parameters: each kind's matrix and inverse are kept for the pairwise
// comparisons, and building one (exact: the full Hessian and its copy;
// every kind: the eigendecomposition) and comparing two take about six
// more.
func estimateHessian(kinds int, n float64) *resources.Estimate {
	var e resources.Estimate
	e.Square(fmt.Sprintf("%d curvatures and their inverses", kinds), 2*float64(kinds), n)
	e.Square("eigendecompositions and comparisons", 6, n)
	return &e
}
