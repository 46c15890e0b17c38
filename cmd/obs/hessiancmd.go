package main

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
)

func init() { register(30, hessianCommand) }

func hessianCommand() *cli.Command {
	// The damping, fix and Monte-Carlo flags are those of curvatureFlags;
	// --curvature and --inverse do not apply here.
	var curv []cli.Flag
	for _, f := range curvatureFlags() {
		switch f.Names()[0] {
		case "alpha", "damping", "fix", "samples", "sigma", "curv-seed":
			curv = append(curv, f)
		}
	}
	return &cli.Command{
		Name:      "hessian",
		Usage:     "build every curvature at a model's weights and compare them",
		ArgsUsage: " ",
		Description: `Builds each curvature kind (exact Hessian, Gauss–Newton "ggn", empirical Fisher
"ef", Monte-Carlo Fisher "mcfisher") of the training error E at the model's
weights over the training set, over the free (unpruned) parameters only. Each
is C = (1/P) sum_p ... + decay I, normalised by 1/P like E; --alpha is added
only where an inverse is taken.

Per kind: the 5 largest eigenvalues, the smallest, the number of negative
eigenvalues (below 0, and below -nf*eps*max|lambda| to discount rounding; the
exact Hessian can be indefinite), the 2-norm condition number of C + alpha I
from its eigenvalues, the trace, and the weight OBS would remove first.

Per pair (A, B), A listed before B in --kinds: ||A-B||_F/||B||_F, the best
scale c = <A,B>_F/<A,A>_F (argmin ||cA - B||_F) and the relative distance after
scaling, |cos| between the leading eigenvectors, Spearman and Kendall (tau-b)
correlations of the OBS saliencies w_q^2/(2 [(C + alpha I)^-1]_qq), and whether
both remove the same weight first. For squared error the GGN-vs-EF best scale
is about the mean squared residual sigma^2 when residuals behave like noise
(shared/MATH.md, "When do G and F_emp agree?"), which is reported too.

"Is the empirical Fisher usable here?" (always, whatever --kinds): from the
data parts (decay left out) of H, G and F_emp, the best scale c* (F_emp ~ c* G)
against the mean squared residual, the distance left after scaling, and the
same distance for 19 Monte-Carlo Fishers with one sampled target per pattern
(MC-1, unbiased for G and built from as many single-sample gradients: the
null of the same sample size), the p-value of F_emp's distance under it,
n_eff = (sum ||g_p||^2)^2 / sum ||g_p||^4 against nf, an
information-matrix-equality statistic ||F_emp - s H||/||s H|| (s = MSR for
squared error, 1 for cross-entropy; White 1982) with its MC-1 floor, the
scale H ~ c G, and a one-line verdict from those: vanished, biased (beyond
the null), too few samples (the null itself far from G), or usable up to c*.

--damping relative adds the decay and --alpha as multiples of each kind's
scale s = tr(C_data)/n (reported per kind); n_eff is printed with every run.

Inverses: ggn, ef and mcfisher by Cholesky of the formed C + alpha I
(hessian.InverseDirect; nf is small here). The exact Hessian by
hessian.InverseIndefinite with --fix: abs (the default of every command)
inverts |lambda| + alpha; none fails if H + alpha I is not positive definite;
shift, clip and pinv are the others.

--dump DIR (created if missing) writes each curvature and its inverse as
NumPy .npy files (KIND.npy, KIND_inv.npy: float64, shape (nf, nf), C order) and
index.json naming the files, the settings and, row by row, the parameter's
flat index and name. --plot FILE.png|.svg draws the eigen-spectra (log y
axis; non-positive eigenvalues are left out and counted in the title).

Example:
  obs hessian --model monk1.json --data monk1 --kinds exact,ggn,ef,mcfisher \
      --fix shift --dump curv/ --plot spectra.png`,
		Flags: append(append(dataFlags(false),
			&cli.StringFlag{Name: "model", Required: true, Usage: "trained model `FILE`"},
			&cli.StringFlag{Name: "kinds", Value: "exact,ggn,ef,mcfisher", Usage: "comma-separated curvature `KINDS` to build and compare: exact, ggn, ef, mcfisher"},
			&cli.StringFlag{Name: "dump", Usage: "write each curvature and its inverse as .npy, and index.json, into the existing directory `DIR`"},
			memoryFlag(),
			&cli.StringFlag{Name: "plot", Usage: "draw the eigen-spectra into `FILE` (.png or .svg)"},
		), curv...),
		Action: runHessian,
	}
}

// hessianFlags reads and checks the flags; nothing is loaded yet.
func hessianFlags(c *cli.Context) (study.CurvatureConfig, error) {
	var cfg study.CurvatureConfig
	var err error
	if cfg.Kinds, err = study.ParseKinds("kinds", c.String("kinds")); err != nil {
		return cfg, usageError{err}
	}
	if cfg.Alpha, err = finitePositive(c, "alpha"); err != nil {
		return cfg, err
	}
	if cfg.Damping, err = parseDamping(c); err != nil {
		return cfg, err
	}
	if cfg.Fix, err = hessian.ParseFix(c.String("fix")); err != nil {
		return cfg, usagef("unknown --fix %q; valid: none, shift, abs, clip, pinv", c.String("fix"))
	}
	if c.IsSet("fix") && !slices.Contains(cfg.Kinds, hessian.Exact) {
		return cfg, usagef("--fix applies only to the exact kind, which --kinds does not include")
	}
	if cfg.Options, err = mcOptions(c); err != nil {
		return cfg, err
	}
	if !slices.Contains(cfg.Kinds, hessian.MCFisher) {
		if err := refuse(c, []string{"samples", "sigma", "curv-seed"}, "applies only to the mcfisher kind, which --kinds does not include"); err != nil {
			return cfg, err
		}
	}
	cfg.Dump, cfg.Plot = c.String("dump"), c.String("plot")
	if c.IsSet("dump") {
		if err := ensureDir("--dump", cfg.Dump); err != nil {
			return cfg, err
		}
	}
	if c.IsSet("plot") {
		if ext := strings.ToLower(filepath.Ext(cfg.Plot)); ext != ".png" && ext != ".svg" {
			return cfg, usagef("--plot %q must end in .png or .svg", cfg.Plot)
		}
	}
	outs := []atomicfile.File{out("--plot", cfg.Plot)}
	for _, f := range cfg.DumpFiles() {
		outs = append(outs, out("--dump", f))
	}
	if err := checkOutputs(c, outs...); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func runHessian(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("hessian takes no arguments")
	}
	cfg, err := hessianFlags(c)
	if err != nil {
		return err
	}
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return err
	}
	train, _, err := loadDataFor(c, m, file)
	if err != nil {
		return err
	}
	if err := datasets.CheckFits(m, train); err != nil {
		return err
	}
	if err := checkMemory(c, resources.EstimateHessian(len(cfg.Kinds), float64(m.NumFree())),
		"give --kinds fewer kinds, or prune with a block-diagonal curvature (obs prune --structure block:B)"); err != nil {
		return err
	}
	b := newBar(c, len(cfg.Kinds), "curvatures")
	results, err := study.BuildCurvatures(m, train.Inputs, train.Targets, &cfg, func() bool { return interrupted(c) },
		func(i int, k hessian.Kind) { b.Set(i, "curvature %v", k) })
	b.Done()
	if errors.Is(err, study.ErrStopped) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	s, d, err := study.SummarizeCurvatures(m, train, &cfg, results, study.CurvatureGlobals{
		Model: c.String("model"), Loss: file.Loss, Damping: study.DampingNote(cfg.Damping),
		Seeds: study.SeedsJSON{ModelSeed: file.Provenance.Seed},
	})
	if err != nil {
		return err
	}
	if interrupted(c) {
		return errInterrupted
	}
	if err := study.WriteCurvatureOutputs(cfg, results, s, m, m.Free()); err != nil {
		return err
	}
	if !c.Bool("json") {
		if err := study.WriteCurvatureTables(stdoutOf(c), s, d, cfg.Kinds); err != nil {
			return err
		}
		return writeHuman(stdoutOf(c), s.CurvatureGlobals)
	}
	return emit(c, s)
}
