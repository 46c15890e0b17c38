package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio"
	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
)

func init() { register(30, hessianCommand) }

// allKinds are the curvature kinds in the order obs hessian uses by default.
var allKinds = []hessian.Kind{hessian.Exact, hessian.GGN, hessian.EmpiricalFisher, hessian.MCFisher}

// topEigen is how many of the largest eigenvalues are reported per kind.
const topEigen = 5

func hessianCommand() *cli.Command {
	// The damping, fix and Monte-Carlo flags are those of curvatureFlags;
	// --curvature and --inverse do not apply here.
	var curv []cli.Flag
	for _, f := range curvatureFlags() {
		switch f.Names()[0] {
		case "alpha", "fix", "samples", "sigma", "curv-seed":
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
against the mean squared residual, the distance left after scaling, an
information-matrix-equality statistic ||F_emp - s H||/||s H|| (s = MSR for
squared error, 1 for cross-entropy; White 1982), the scale H ~ c G, and a
one-line verdict with its reason (thresholds from docs/gn-vs-fisher.md).

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

// hessianConfig is what the flags of obs hessian ask for.
type hessianConfig struct {
	kinds     []hessian.Kind
	alpha     float64
	fix       hessian.Fix
	opts      hessian.Options
	dump, plt string
}

// hessianFlags reads and checks the flags; nothing is loaded yet.
func hessianFlags(c *cli.Context) (hessianConfig, error) {
	var cfg hessianConfig
	valid := make([]string, len(allKinds))
	for i, k := range allKinds {
		valid[i] = k.String()
	}
	for _, s := range strings.Split(c.String("kinds"), ",") {
		s = strings.TrimSpace(s)
		k, err := hessian.ParseKind(s)
		if err != nil || s == "" {
			return cfg, usagef("unknown kind %q in --kinds; valid kinds: %s", s, strings.Join(valid, ", "))
		}
		if slices.Contains(cfg.kinds, k) {
			return cfg, usagef("kind %v is given twice in --kinds", k)
		}
		cfg.kinds = append(cfg.kinds, k)
	}
	cfg.alpha = c.Float64("alpha")
	if !(cfg.alpha > 0) || math.IsInf(cfg.alpha, 0) {
		return cfg, usagef("--alpha %v must be a finite number > 0", cfg.alpha)
	}
	var err error
	if cfg.fix, err = hessian.ParseFix(c.String("fix")); err != nil {
		return cfg, usagef("unknown --fix %q; valid: none, shift, abs, clip, pinv", c.String("fix"))
	}
	if c.IsSet("fix") && !slices.Contains(cfg.kinds, hessian.Exact) {
		return cfg, usagef("--fix applies only to the exact kind, which --kinds does not include")
	}
	if c.Int("samples") < 0 {
		return cfg, usagef("--samples %d must be >= 0", c.Int("samples"))
	}
	if s := c.Float64("sigma"); !(s >= 0) || math.IsInf(s, 0) {
		return cfg, usagef("--sigma %v must be a finite number >= 0", s)
	}
	if !slices.Contains(cfg.kinds, hessian.MCFisher) {
		for _, f := range []string{"samples", "sigma", "curv-seed"} {
			if c.IsSet(f) {
				return cfg, usagef("--%s applies only to the mcfisher kind, which --kinds does not include", f)
			}
		}
	}
	cfg.opts = hessian.Options{Samples: c.Int("samples"), Sigma: c.Float64("sigma"), Seed: c.Uint64("curv-seed")}
	if cfg.opts.Samples == 0 {
		cfg.opts.Samples = hessian.DefaultSamples
	}
	if cfg.opts.Sigma == 0 {
		cfg.opts.Sigma = hessian.DefaultSigma
	}
	cfg.dump, cfg.plt = c.String("dump"), c.String("plot")
	if c.IsSet("dump") {
		if err := ensureDir("--dump", cfg.dump); err != nil {
			return cfg, err
		}
	}
	if c.IsSet("plot") {
		if ext := strings.ToLower(filepath.Ext(cfg.plt)); ext != ".png" && ext != ".svg" {
			return cfg, usagef("--plot %q must end in .png or .svg", cfg.plt)
		}
	}
	outs := []atomicfile.File{out("--plot", cfg.plt)}
	if cfg.dump != "" {
		for _, k := range cfg.kinds {
			outs = append(outs, out("--dump", filepath.Join(cfg.dump, k.String()+".npy")), out("--dump", filepath.Join(cfg.dump, k.String()+"_inv.npy")))
		}
		outs = append(outs, out("--dump", filepath.Join(cfg.dump, "index.json")))
	}
	if err := checkOutputs(c, outs...); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// curvatureResult is one kind built at the model's weights.
type curvatureResult struct {
	kind      hessian.Kind
	c, inv    *mat.SymDense
	eig       []float64     // eigenvalues of C, descending
	lead      *mat.VecDense // unit eigenvector of the largest eigenvalue
	saliency  []float64
	inverse   string
	fixReport *hessian.FixReport
}

type paramJSON struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
}

type fixReportJSON struct {
	Fix       string   `json:"fix"`
	Alpha     float64  `json:"alpha"`
	Shift     float64  `json:"shift"`
	MinEigen  *float64 `json:"min_eigenvalue"`
	MaxEigen  *float64 `json:"max_eigenvalue"`
	Negative  int      `json:"negative"`
	Changed   int      `json:"changed"`
	Condition *float64 `json:"condition"`
}

type kindJSON struct {
	TopEigenvalues         []*float64     `json:"top_eigenvalues"`
	MinEigenvalue          *float64       `json:"min_eigenvalue"`
	Negative               int            `json:"negative"`
	NegativeBeyondRounding int            `json:"negative_beyond_rounding"`
	RoundingTolerance      *float64       `json:"rounding_tolerance"`
	Condition              *float64       `json:"condition_damped"`
	Trace                  *float64       `json:"trace"`
	Inverse                string         `json:"inverse"`
	FirstChoice            *paramJSON     `json:"first_choice"`
	FixReport              *fixReportJSON `json:"fix_report,omitempty"`
}

type pairJSON struct {
	A                  string   `json:"a"`
	B                  string   `json:"b"`
	RelFrobenius       *float64 `json:"rel_frobenius"`
	BestScale          *float64 `json:"best_scale"`
	RelFrobeniusScaled *float64 `json:"rel_frobenius_scaled"`
	LeadingCosine      *float64 `json:"leading_cosine"`
	Spearman           *float64 `json:"spearman"`
	Kendall            *float64 `json:"kendall"`
	SameFirst          bool     `json:"same_first"`
}

type seedsJSON struct {
	CurvSeed  uint64  `json:"curv_seed"`
	ModelSeed *uint64 `json:"model_seed,omitempty"`
}

// hessianGlobals are the fields printed as "key value" lines.
type hessianGlobals struct {
	Model               string    `json:"model"`
	Data                string    `json:"data"`
	Loss                string    `json:"loss"`
	Params              int       `json:"params"`
	Free                int       `json:"free"`
	Patterns            int       `json:"P"`
	Normalisation       string    `json:"normalisation"`
	Decay               float64   `json:"decay"`
	Alpha               float64   `json:"alpha"`
	Fix                 string    `json:"fix,omitempty"`
	Samples             int       `json:"samples,omitempty"`
	Sigma               float64   `json:"sigma,omitempty"`
	Seeds               seedsJSON `json:"seeds"`
	Error               *float64  `json:"error"`
	GradNorm            *float64  `json:"grad_norm"`
	MeanSquaredResidual *float64  `json:"mean_squared_residual"`
	Dump                string    `json:"dump,omitempty"`
	Plot                string    `json:"plot,omitempty"`
}

type hessianSummary struct {
	hessianGlobals
	Kinds      map[string]kindJSON `json:"kinds"`
	Pairs      []pairJSON          `json:"pairs"`
	Diagnostic efDiagnosticJSON    `json:"empirical_fisher_diagnostic"`
}

// efDiagnosticJSON answers "is the empirical Fisher usable here?"
// (study.Diagnose): data parts of the curvatures, weight decay left out.
type efDiagnosticJSON struct {
	Question       string   `json:"question"`
	MSR            *float64 `json:"mean_squared_residual"`
	CStar          *float64 `json:"c_star"`
	CStarOverMSR   *float64 `json:"c_star_over_msr"`
	DistAfterScale *float64 `json:"dist_after_scale"`
	TraceRatio     *float64 `json:"ef_over_ggn_trace"`
	IMStatistic    *float64 `json:"im_equality_statistic"`
	IMDefinition   string   `json:"im_equality_definition"`
	HOverGScale    *float64 `json:"h_over_g_scale"`
	HGDistAfter    *float64 `json:"h_g_dist_after_scale"`
	GradNorm       *float64 `json:"grad_norm"`
	Usable         bool     `json:"usable"`
	Verdict        string   `json:"verdict"`
	ThresholdsNote string   `json:"thresholds"`
}

func diagnosticJSON(d *study.Diagnosis) efDiagnosticJSON {
	return efDiagnosticJSON{Question: "is the empirical Fisher usable here (as c* G)?", MSR: num(d.MSR), CStar: num(d.CStar),
		CStarOverMSR: num(d.CStarOverMSR), DistAfterScale: num(d.DistAfter), TraceRatio: num(d.TraceRatio), IMStatistic: num(d.IMStat),
		IMDefinition: "||F_emp - s H||_F / ||s H||_F, s = MSR for squared error, 1 for cross-entropy (White 1982: 0 for a well-specified likelihood at its optimum)",
		HOverGScale:  num(d.HG), HGDistAfter: num(d.HGDist), GradNorm: num(d.GradNorm), Usable: d.Usable, Verdict: d.Verdict,
		ThresholdsNote: fmt.Sprintf("vanished below tr F/tr G = %g; direction differs above distance %g; IM equality fails above %g", study.VanishRatio, study.MaxDirection, study.MaxIMStat)}
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
	if err := checkFits(m, train); err != nil {
		return err
	}
	if err := checkMemory(c, resources.EstimateHessian(len(cfg.kinds), float64(m.NumFree())),
		"give --kinds fewer kinds, or prune with a block-diagonal curvature (obs prune --structure block:B)"); err != nil {
		return err
	}
	X, T := train.Inputs, train.Targets
	free := m.Free()
	w := make([]float64, len(free))
	for a, q := range free {
		w[a] = m.Params[q]
	}

	b := newBar(c, len(cfg.kinds), "curvatures")
	results := make([]*curvatureResult, len(cfg.kinds))
	for i, k := range cfg.kinds {
		b.Set(i, "curvature %v", k)
		if results[i], err = buildCurvature(k, m, X, T, &cfg, w); err != nil {
			b.Done()
			return err
		}
		if interrupted(c) {
			b.Done()
			return errInterrupted
		}
	}
	b.Done()

	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	e := m.Grad(ws, grad, X, T)
	s := hessianSummary{
		hessianGlobals: hessianGlobals{
			Model: c.String("model"), Data: train.Name, Loss: file.Loss, Params: len(m.Params), Free: len(free),
			Patterns: len(X), Normalisation: "1/P (P = training patterns)", Decay: m.Decay, Alpha: cfg.alpha,
			Seeds: seedsJSON{CurvSeed: cfg.opts.Seed, ModelSeed: file.Provenance.Seed},
			Error: num(e), GradNorm: num(norm2(grad)), MeanSquaredResidual: num(hessian.MeanSquaredResidual(m, X, T)),
			Dump: cfg.dump, Plot: cfg.plt,
		},
		Kinds: map[string]kindJSON{},
		Pairs: []pairJSON{},
	}
	if slices.Contains(cfg.kinds, hessian.Exact) {
		s.Fix = cfg.fix.String()
	}
	if slices.Contains(cfg.kinds, hessian.MCFisher) {
		s.Samples = cfg.opts.Samples
		if m.Loss == model.SquaredError { // other losses ignore sigma
			s.Sigma = cfg.opts.Sigma
		}
	}
	for _, r := range results {
		s.Kinds[r.kind.String()] = kindSummary(r, m, free, cfg.alpha)
	}
	for i := range results {
		for j := i + 1; j < len(results); j++ {
			s.Pairs = append(s.Pairs, comparePair(results[i], results[j]))
		}
	}

	d, err := study.Diagnose(m, train)
	if err != nil {
		return err
	}
	s.Diagnostic = diagnosticJSON(d)
	if interrupted(c) {
		return errInterrupted
	}
	if err := writeHessianOutputs(cfg, results, &s, m, free); err != nil {
		return err
	}
	if !c.Bool("json") {
		printHessian(stdoutOf(c), &s, cfg.kinds)
		dg := s.Diagnostic
		fmt.Fprintf(stdoutOf(c), "is the empirical Fisher usable here? c* %.3g (c*/MSR %.3g, MSR %.3g), distance after scaling %.3g, IM-equality statistic %.3g, H ≈ %.3g·G (distance %.3g)\n  verdict: %s\n",
			d.CStar, d.CStarOverMSR, d.MSR, d.DistAfter, d.IMStat, d.HG, d.HGDist, dg.Verdict)
		return writeHuman(stdoutOf(c), s.hessianGlobals)
	}
	return emit(c, s)
}

// buildCurvature forms one kind, its eigen-decomposition, its damped (or
// fixed) inverse and the OBS saliencies.
func buildCurvature(k hessian.Kind, m *model.MLP, X, T [][]float64, cfg *hessianConfig, w []float64) (*curvatureResult, error) {
	cv, err := hessian.New(k, m, X, T, &cfg.opts)
	if err != nil {
		return nil, err
	}
	r := &curvatureResult{kind: k, c: mat.NewSymDense(cv.Dim(), nil), inv: &mat.SymDense{}}
	cv.Dense(r.c)
	var eig mat.EigenSym
	if !eig.Factorize(r.c, true) {
		return nil, fmt.Errorf("eigendecomposition of the %v curvature did not converge", k)
	}
	asc := eig.Values(nil)
	n := len(asc)
	r.eig = make([]float64, n)
	for i, v := range asc {
		r.eig[n-1-i] = v
	}
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	r.lead = mat.VecDenseCopyOf(vecs.ColView(n - 1))

	if k == hessian.Exact {
		rep, err := hessian.InverseIndefinite(r.inv, cv, cfg.alpha, cfg.fix)
		if err != nil {
			if cfg.fix == hessian.FixNone && errors.Is(err, hessian.ErrNotPositiveDefinite) {
				return nil, fmt.Errorf("the exact Hessian + alpha I is not positive definite (smallest eigenvalue %.3g, %d negative, alpha %g): choose an explicit fix with --fix shift|abs|clip|pinv", rep.MinEigen, rep.Negative, cfg.alpha)
			}
			return nil, err
		}
		r.fixReport = &rep
		if cfg.fix == hessian.FixNone {
			r.inverse = "cholesky of C + alpha I (hessian.InverseIndefinite, fix none)"
		} else {
			r.inverse = fmt.Sprintf("eigendecomposition with fix %v (hessian.InverseIndefinite)", cfg.fix)
		}
	} else {
		if err := hessian.InverseDirect(r.inv, cv, cfg.alpha); err != nil {
			return nil, err
		}
		r.inverse = "cholesky of C + alpha I (hessian.InverseDirect)"
	}
	r.saliency = make([]float64, n)
	hessian.OBSSaliencies(r.saliency, w, r.inv)
	return r, nil
}

func kindSummary(r *curvatureResult, m *model.MLP, free []int, alpha float64) kindJSON {
	n := len(r.eig)
	top := make([]*float64, min(topEigen, n))
	for i := range top {
		top[i] = num(r.eig[i])
	}
	maxAbs := math.Max(math.Abs(r.eig[0]), math.Abs(r.eig[n-1]))
	tol := float64(n) * 0x1p-52 * maxAbs
	k := kindJSON{TopEigenvalues: top, MinEigenvalue: num(r.eig[n-1]), RoundingTolerance: num(tol),
		Trace: num(mat.Trace(r.c)), Inverse: r.inverse}
	lo, hi := math.Inf(1), 0.0
	for _, l := range r.eig {
		if l < 0 {
			k.Negative++
		}
		if l < -tol {
			k.NegativeBeyondRounding++
		}
		d := math.Abs(l + alpha)
		lo, hi = math.Min(lo, d), math.Max(hi, d)
	}
	k.Condition = num(hi / lo)
	if a := stats.ArgMin(r.saliency); a >= 0 {
		k.FirstChoice = &paramJSON{free[a], m.Name(free[a])}
	}
	if f := r.fixReport; f != nil {
		k.FixReport = &fixReportJSON{Fix: f.Fix, Alpha: f.Alpha, Shift: f.Shift, MinEigen: num(f.MinEigen), MaxEigen: num(f.MaxEigen),
			Negative: f.Negative, Changed: f.Clipped, Condition: num(f.Condition)}
	}
	return k
}

func comparePair(a, b *curvatureResult) pairJSON {
	scale, after := hessian.BestScale(a.c, b.c)
	fa, fb := stats.ArgMin(a.saliency), stats.ArgMin(b.saliency)
	return pairJSON{
		A: a.kind.String(), B: b.kind.String(),
		RelFrobenius: num(hessian.RelFrobenius(a.c, b.c)), BestScale: num(scale), RelFrobeniusScaled: num(after),
		LeadingCosine: num(math.Abs(mat.Dot(a.lead, b.lead))),
		Spearman:      num(stats.Spearman(a.saliency, b.saliency)), Kendall: num(stats.Kendall(a.saliency, b.saliency)),
		SameFirst: fa >= 0 && fa == fb,
	}
}

// dumpIndex is the index.json of --dump.
type dumpIndex struct {
	Format        string          `json:"format"`
	Kinds         []dumpKind      `json:"kinds"`
	Dtype         string          `json:"dtype"`
	Shape         []int           `json:"shape"`
	Order         string          `json:"order"`
	Alpha         float64         `json:"alpha"`
	Fix           string          `json:"fix,omitempty"`
	Samples       int             `json:"samples,omitempty"`
	Sigma         float64         `json:"sigma,omitempty"`
	Normalisation string          `json:"normalisation"`
	Patterns      int             `json:"P"`
	Decay         float64         `json:"decay"`
	Seeds         seedsJSON       `json:"seeds"`
	Parameters    []dumpParameter `json:"parameters"`
}

type dumpKind struct {
	Kind    string `json:"kind"`
	Matrix  string `json:"matrix"`
	Inverse string `json:"inverse"`
	Method  string `json:"inverse_method"`
}

type dumpParameter struct {
	Row   int    `json:"row"`
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// writeHessianOutputs writes --dump and --plot. The files are staged and
// committed together when the command succeeds (atomicfile.Stage), so an
// error leaves no output and the previous files untouched.
func writeHessianOutputs(cfg hessianConfig, results []*curvatureResult, s *hessianSummary, m *model.MLP, free []int) (err error) {
	if cfg.plt != "" && !slices.ContainsFunc(results, func(r *curvatureResult) bool { return r.eig[0] > 0 }) {
		return errors.New("--plot: no kind has a positive eigenvalue to draw on a log axis")
	}
	if cfg.dump != "" {
		nf := len(free)
		idx := dumpIndex{
			Format: "obs-hessian-dump/1", Dtype: "<f8", Shape: []int{nf, nf}, Order: "C",
			Alpha: s.Alpha, Fix: s.Fix, Samples: s.Samples, Sigma: s.Sigma,
			Normalisation: s.Normalisation, Patterns: s.Patterns, Decay: s.Decay, Seeds: s.Seeds,
		}
		for a, q := range free {
			idx.Parameters = append(idx.Parameters, dumpParameter{Row: a, Index: q, Name: m.Name(q)})
		}
		for _, r := range results {
			k := dumpKind{Kind: r.kind.String(), Matrix: r.kind.String() + ".npy", Inverse: r.kind.String() + "_inv.npy", Method: r.inverse}
			for _, f := range []struct {
				name string
				a    mat.Symmetric
			}{{k.Matrix, r.c}, {k.Inverse, r.inv}} {
				path := filepath.Join(cfg.dump, f.name)
				dense := mat.NewDense(nf, nf, denseRows(f.a))
				if err := atomicfile.Write(path, func(w io.Writer) error { return npyio.Write(w, dense) }); err != nil {
					return err
				}
			}
			idx.Kinds = append(idx.Kinds, k)
		}
		path := filepath.Join(cfg.dump, "index.json")
		if err := atomicfile.Write(path, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(idx)
		}); err != nil {
			return err
		}
	}
	if cfg.plt != "" {
		var series []figures.Series
		for _, r := range results {
			x := make([]float64, len(r.eig))
			for i := range x {
				x[i] = float64(i + 1)
			}
			series = append(series, figures.Series{Label: r.kind.String(), Key: r.kind.String(), X: x, Y: r.eig})
		}
		o := figures.Options{
			Title:  fmt.Sprintf("eigen-spectra on %s (1/P, P = %d, decay %g; alpha not added)", s.Data, s.Patterns, s.Decay),
			XLabel: "index i (eigenvalues in decreasing order)",
			YLabel: "eigenvalue lambda_i of C",
			LogY:   true,
			Width:  20, Height: 12,
		}
		if err := figures.Write(cfg.plt, series, o); err != nil {
			return err
		}
	}
	return nil
}

// denseRows returns the full n x n matrix of a in row-major order.
func denseRows(a mat.Symmetric) []float64 {
	n := a.SymmetricDim()
	out := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			out[i*n+j] = a.At(i, j)
		}
	}
	return out
}

// printHessian prints the per-kind spectra and the pairs as tables.
func printHessian(w io.Writer, s *hessianSummary, kinds []hessian.Kind) {
	g := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	fmt.Fprintf(w, "curvatures over P = %d patterns and %d free parameters (normalisation 1/P, decay %g; alpha %g added for inverses)\n",
		s.Patterns, s.Free, s.Decay, s.Alpha)
	fmt.Fprintf(w, "  %-9s %10s %10s %10s %10s %10s %10s %10s %5s %5s %10s  %s\n",
		"kind", "trace", "lambda_1", "lambda_2", "lambda_3", "lambda_4", "lambda_5", "lambda_min", "neg", "neg*", "cond", "first removed")
	for _, kd := range kinds {
		k := s.Kinds[kd.String()]
		top := make([]string, topEigen)
		for i := range top {
			top[i] = "-"
			if i < len(k.TopEigenvalues) {
				top[i] = g(k.TopEigenvalues[i])
			}
		}
		first := "-"
		if k.FirstChoice != nil {
			first = k.FirstChoice.Name
		}
		fmt.Fprintf(w, "  %-9s %10s %10s %10s %10s %10s %10s %10s %5d %5d %10s  %s\n",
			kd, g(k.Trace), top[0], top[1], top[2], top[3], top[4], g(k.MinEigenvalue), k.Negative, k.NegativeBeyondRounding, g(k.Condition), first)
	}
	fmt.Fprintf(w, "  (neg: eigenvalues < 0; neg*: eigenvalues < -nf*eps*max|lambda|, beyond rounding; cond: 2-norm condition number of C + alpha I)\n")
	for _, kd := range kinds {
		k := s.Kinds[kd.String()]
		fmt.Fprintf(w, "  %s inverse: %s\n", kd, k.Inverse)
		if f := k.FixReport; f != nil {
			fmt.Fprintf(w, "  %s fix %s: %d negative eigenvalues (%d beyond rounding), shift %.4g, %d eigenvalues changed, condition of what was inverted %s\n",
				kd, f.Fix, f.Negative, k.NegativeBeyondRounding, f.Shift, f.Changed, g(f.Condition))
		}
	}
	if len(s.Pairs) > 0 {
		fmt.Fprintf(w, "pairs (A, B): ||A-B||_F/||B||_F, best scale c = argmin ||cA - B||_F and the distance after it, |cos| of leading eigenvectors, rank correlations of OBS saliencies\n")
		fmt.Fprintf(w, "  %-9s %-9s %12s %10s %12s %8s %9s %9s  %s\n", "A", "B", "rel dist", "best c", "rel dist(c)", "|cos|", "spearman", "kendall", "same first")
		for _, p := range s.Pairs {
			fmt.Fprintf(w, "  %-9s %-9s %12s %10s %12s %8s %9s %9s  %v\n", p.A, p.B, g(p.RelFrobenius), g(p.BestScale),
				g(p.RelFrobeniusScaled), g(p.LeadingCosine), g(p.Spearman), g(p.Kendall), p.SameFirst)
		}
	}
}
