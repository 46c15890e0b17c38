package main

import (
	"fmt"
	"math"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/reproduce"
	"github.com/obs-toolkit/obs/prune"
)

// defaultFix is the one default of --fix in every command (prune,
// saliency, hessian, compare, reproduce): abs, |lambda| + alpha, the
// reproduction's choice, which turns negative curvature positive instead of
// failing (none) or moving every eigenvalue (shift). Every output states
// the fix it used.
var defaultFix = reproduce.DefaultFix

// fixFlag is --fix with the common default; what says what it fixes.
func fixFlag(what string) cli.Flag {
	return &cli.StringFlag{Name: "fix", Value: defaultFix.String(),
		Usage: what + ": none (fail if indefinite), shift, abs (|eigenvalue| + alpha), clip or pinv; the same default in every command"}
}

// dampingFlag is --damping, the same in every command that inverts a
// curvature.
func dampingFlag() cli.Flag {
	return &cli.StringFlag{Name: "damping", Value: hessian.Absolute.String(),
		Usage: "how --alpha and the weight decay enter C: absolute (C_data + (decay + alpha) I) or relative (as multiples of the curvature's scale s = tr(C_data)/n: C_data + (decay + alpha) s I, so that a curvature c times another gets c times its ridge); every output states it"}
}

// parseDamping reads --damping.
func parseDamping(c *cli.Context) (hessian.Damping, error) {
	d, err := hessian.ParseDamping(c.String("damping"))
	if err != nil {
		return d, usageError{err}
	}
	return d, nil
}

// curvatureFlags are the flags that choose and damp a curvature.
func curvatureFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "curvature", Usage: "curvature for obs (ggn, ef, mcfisher, exact) or obd (ggn, exact); default ggn; not with magnitude"},
		&cli.Float64Flag{Name: "alpha", Value: prune.DefaultAlpha, Usage: "damping: OBS inverts C + alpha I, the recursion starts at I/alpha"},
		dampingFlag(),
		fixFlag("how to invert an indefinite exact Hessian"),
		&cli.StringFlag{Name: "structure", Value: "dense", Usage: "how obs stores C^-1: dense, block:B (contiguous blocks of B free parameters, WoodFisher), layer (one block per layer), diag (OBD-like) or kfac[:E] (K-FAC, G ⊗ A per layer, ggn or mcfisher; E exact downdates per layer, default 0); the entries between blocks are taken as 0"},
		&cli.StringFlag{Name: "inverse", Value: "direct", Usage: "inverse form for ggn/ef/mcfisher: direct (Cholesky of the formed matrix; the fastest at every measured size, see README), blocked (Woodbury; half the memory) or recursive (Hassibi–Stork rank-1)"},
		&cli.IntFlag{Name: "samples", Value: 0, Usage: "Monte-Carlo Fisher samples per pattern (0: the library default)"},
		&cli.Float64Flag{Name: "sigma", Value: 0, Usage: "noise sigma of the Gaussian predictive distribution for the mse Monte-Carlo Fisher (0: the library default)"},
		&cli.Uint64Flag{Name: "curv-seed", Value: 1, Usage: "seed of the Monte-Carlo Fisher's sampled targets"},
	}
}

// methodConfig reads --method, --curvature and the curvature flags.
func methodConfig(c *cli.Context) (prune.Config, error) {
	var cfg prune.Config
	var err error
	if cfg.Method, err = prune.ParseMethod(c.String("method")); err != nil {
		return cfg, usageError{err}
	}
	if c.IsSet("curvature") {
		if cfg.Method == prune.Magnitude {
			return cfg, usagef("--curvature does not apply to --method magnitude")
		}
		if cfg.Curvature, err = hessian.ParseKind(c.String("curvature")); err != nil {
			return cfg, usageError{err}
		}
	} else {
		cfg.Curvature = hessian.GGN
	}
	if cfg.Method == prune.OBD && cfg.Curvature != hessian.GGN && cfg.Curvature != hessian.Exact {
		return cfg, usagef("--method obd uses the diagonal of ggn or exact, not %v", cfg.Curvature)
	}
	// A flag that has no meaning for the method or curvature chosen is a
	// usage error, never silently ignored (issue 23).
	if cfg.Method != prune.OBS {
		if err := refuse(c, []string{"alpha", "inverse"}, fmt.Sprintf("applies only to --method obs (%s uses no inverse)", cfg.Method)); err != nil {
			return cfg, err
		}
	}
	if cfg.Method == prune.Magnitude || cfg.Curvature != hessian.MCFisher {
		if err := refuse(c, []string{"samples", "sigma", "curv-seed"}, "applies only to --curvature mcfisher"); err != nil {
			return cfg, err
		}
	}
	if cfg.Alpha, err = finitePositive(c, "alpha"); err != nil {
		return cfg, err
	}
	if cfg.Damping, err = parseDamping(c); err != nil {
		return cfg, err
	}
	if c.IsSet("damping") && cfg.Method != prune.OBS {
		return cfg, usagef("--damping applies only to --method obs (%v has no damping)", cfg.Method)
	}
	if cfg.Fix, err = hessian.ParseFix(c.String("fix")); err != nil {
		return cfg, usageError{err}
	}
	if c.IsSet("fix") && cfg.Curvature != hessian.Exact {
		return cfg, usagef("--fix applies only to --curvature exact")
	}
	if cfg.Inverse, err = prune.ParseInverse(c.String("inverse")); err != nil {
		return cfg, usageError{err}
	}
	if c.IsSet("structure") {
		if cfg.Structure, err = prune.ParseStructure(c.String("structure")); err != nil {
			return cfg, usageError{err}
		}
		if _, dense := cfg.Structure.(prune.Dense); dense {
			cfg.Structure = nil
		} else if cfg.Method != prune.OBS {
			return cfg, usagef("--structure %v applies only to --method obs", cfg.Structure)
		} else if c.IsSet("inverse") {
			return cfg, usagef("--inverse applies only to --structure dense")
		} else {
			cfg.Inverse = prune.Blocked // the zero value: each block is inverted by its own Cholesky
		}
		if _, ok := cfg.Structure.(prune.KFAC); ok && cfg.Curvature != hessian.GGN && cfg.Curvature != hessian.MCFisher {
			return cfg, usagef("--structure %v needs --curvature ggn or mcfisher, not %v", cfg.Structure, cfg.Curvature)
		}
	}
	mc, err := mcOptions(c)
	if err != nil {
		return cfg, err
	}
	cfg.CurvatureOptions = &mc
	return cfg, nil
}

// finitePositive reads the float flag name, which must be a finite number
// > 0.
func finitePositive(c *cli.Context, name string) (float64, error) {
	v := c.Float64(name)
	if !(v > 0) || math.IsInf(v, 0) {
		return v, usagef("--%s %v must be a finite number > 0", name, v)
	}
	return v, nil
}

// mcOptions reads --samples, --sigma and --curv-seed, the Monte-Carlo
// Fisher's options.
func mcOptions(c *cli.Context) (hessian.Options, error) {
	if c.Int("samples") < 0 {
		return hessian.Options{}, usagef("--samples %d must be >= 0", c.Int("samples"))
	}
	if s := c.Float64("sigma"); !(s >= 0) || math.IsInf(s, 0) {
		return hessian.Options{}, usagef("--sigma %v must be a finite number >= 0", s)
	}
	return hessian.Options{Samples: c.Int("samples"), Sigma: c.Float64("sigma"), Seed: c.Uint64("curv-seed")}, nil
}
