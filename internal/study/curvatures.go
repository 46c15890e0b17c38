package study

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
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/stats"
	"github.com/obs-toolkit/obs/model"
)

// AllKinds are the curvature kinds in the order obs hessian uses by default.
var AllKinds = []hessian.Kind{hessian.Exact, hessian.GGN, hessian.EmpiricalFisher, hessian.MCFisher}

// ParseKinds parses the comma-separated curvature kinds given as the flag
// --flag (obs hessian's --kinds), in order, each once; an error names the
// flag and the valid kinds.
func ParseKinds(flag, v string) ([]hessian.Kind, error) {
	var kinds []hessian.Kind
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		k, err := hessian.ParseKind(s)
		if err != nil || s == "" {
			valid := make([]string, len(AllKinds))
			for i, k := range AllKinds {
				valid[i] = k.String()
			}
			return nil, fmt.Errorf("unknown kind %q in --%s; valid kinds: %s", s, flag, strings.Join(valid, ", "))
		}
		if slices.Contains(kinds, k) {
			return nil, fmt.Errorf("kind %v is given twice in --%s", k, flag)
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

// TopEigen is how many of the largest eigenvalues are reported per kind.
const TopEigen = 5

// CurvatureConfig is what obs hessian builds: the kinds, the damping
// Alpha of the inverses and how it is added (Damping), the Fix of an
// indefinite exact Hessian, the Monte-Carlo options, and where to Dump the
// matrices (a directory) and Plot the spectra (a .png or .svg file);
// empty: not written.
type CurvatureConfig struct {
	// Kinds are the curvatures to build, in the order of the pairs.
	Kinds []hessian.Kind
	// Alpha is the damping added where an inverse is taken, as Damping
	// says (absolute or relative).
	Alpha   float64
	Damping hessian.Damping
	// Fix is how the exact Hessian is made invertible.
	Fix hessian.Fix
	// Options configure the Monte-Carlo Fisher; zero fields are hessian's
	// defaults (DefaultSamples, DefaultSigma), which the summary states.
	Options hessian.Options
	// Dump and Plot name the .npy directory and the spectra figure
	// (WriteCurvatureOutputs); empty: none.
	Dump, Plot string
}

// CurvatureResult is one kind built at the model's weights.
type CurvatureResult struct {
	Kind      hessian.Kind
	alpha     float64 // the damping added: --alpha, times scale if relative
	scale     float64 // tr(C_data)/n (relative damping), else 1
	c, inv    *mat.SymDense
	eig       []float64     // eigenvalues of C, descending
	lead      *mat.VecDense // unit eigenvector of the largest eigenvalue
	saliency  []float64
	inverse   string
	fixReport *hessian.FixReport
}

// ParamJSON names a parameter by its index and name.
type ParamJSON struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
}

// FixReportJSON is how an indefinite exact Hessian was made definite
// (hessian.FixReport).
type FixReportJSON struct {
	Fix       string   `json:"fix"`
	Alpha     float64  `json:"alpha"`
	Shift     float64  `json:"shift"`
	MinEigen  *float64 `json:"min_eigenvalue"`
	MaxEigen  *float64 `json:"max_eigenvalue"`
	Negative  int      `json:"negative"`
	Changed   int      `json:"changed"`
	Condition *float64 `json:"condition"`
}

// KindJSON is one curvature kind's spectrum, inverse and first choice.
type KindJSON struct {
	TopEigenvalues         []*float64     `json:"top_eigenvalues"`
	MinEigenvalue          *float64       `json:"min_eigenvalue"`
	Negative               int            `json:"negative"`
	NegativeBeyondRounding int            `json:"negative_beyond_rounding"`
	RoundingTolerance      *float64       `json:"rounding_tolerance"`
	Condition              *float64       `json:"condition_damped"`
	Scale                  *float64       `json:"damping_scale,omitempty"`
	AlphaAdded             *float64       `json:"alpha_added,omitempty"`
	Trace                  *float64       `json:"trace"`
	Inverse                string         `json:"inverse"`
	FirstChoice            *ParamJSON     `json:"first_choice"`
	FixReport              *FixReportJSON `json:"fix_report,omitempty"`
}

// PairJSON compares two kinds: distances, best scale, leading
// eigenvectors and the rank correlations of their OBS saliencies.
type PairJSON struct {
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

// SeedsJSON are the seeds of the curvatures and of the model.
type SeedsJSON struct {
	CurvSeed  uint64  `json:"curv_seed"`
	ModelSeed *uint64 `json:"model_seed,omitempty"`
}

// CurvatureGlobals are the fields printed as "key value" lines.
type CurvatureGlobals struct {
	Model               string    `json:"model"`
	Data                string    `json:"data"`
	Loss                string    `json:"loss"`
	Params              int       `json:"params"`
	Free                int       `json:"free"`
	Patterns            int       `json:"patterns"`
	Normalisation       string    `json:"normalisation"`
	Decay               float64   `json:"decay"`
	Alpha               float64   `json:"alpha"`
	Damping             string    `json:"damping"`
	Fix                 string    `json:"fix,omitempty"`
	Samples             int       `json:"samples,omitempty"`
	Sigma               float64   `json:"sigma,omitempty"`
	Seeds               SeedsJSON `json:"seeds"`
	Error               *float64  `json:"error"`
	GradNorm            *float64  `json:"grad_norm"`
	MeanSquaredResidual *float64  `json:"mean_squared_residual"`
	NEff                *float64  `json:"n_eff"`
	NEffNote            string    `json:"n_eff_definition"`
	Dump                string    `json:"dump,omitempty"`
	Plot                string    `json:"plot,omitempty"`
}

// CurvatureSummary is obs hessian's result.
type CurvatureSummary struct {
	CurvatureGlobals
	Kinds      map[string]KindJSON `json:"kinds"`
	Pairs      []PairJSON          `json:"pairs"`
	Diagnostic EFDiagnosticJSON    `json:"empirical_fisher_diagnostic"`
}

// EFDiagnosticJSON answers "is the empirical Fisher usable here?"
// (Diagnose): data parts of the curvatures, weight decay left out.
type EFDiagnosticJSON struct {
	Question       string   `json:"question"`
	MSR            *float64 `json:"mean_squared_residual"`
	CStar          *float64 `json:"c_star"`
	CStarOverMSR   *float64 `json:"c_star_over_msr"`
	DistAfterScale *float64 `json:"dist_after_scale"`
	TraceRatio     *float64 `json:"ef_over_ggn_trace"`
	NEff           *float64 `json:"n_eff"`
	NullDraws      int      `json:"null_draws"`
	NullMedian     *float64 `json:"mc1_dist_median"`
	NullMax        *float64 `json:"mc1_dist_max"`
	PValue         *float64 `json:"p_value"`
	NullNote       string   `json:"null_definition"`
	IMStatistic    *float64 `json:"im_equality_statistic"`
	IMNull         *float64 `json:"im_equality_mc1_floor"`
	IMDefinition   string   `json:"im_equality_definition"`
	HOverGScale    *float64 `json:"h_over_g_scale"`
	HGDistAfter    *float64 `json:"h_g_dist_after_scale"`
	GradNorm       *float64 `json:"grad_norm"`
	Biased         bool     `json:"biased"`
	Usable         bool     `json:"usable"`
	Verdict        string   `json:"verdict"`
	ThresholdsNote string   `json:"thresholds"`
}

// EFDiagnostic is the JSON form of a Diagnosis.
func EFDiagnostic(d *Diagnosis) EFDiagnosticJSON {
	return EFDiagnosticJSON{Question: "is the empirical Fisher usable here (as c* G)?", MSR: num(d.MSR), CStar: num(d.CStar),
		CStarOverMSR: num(d.CStarOverMSR), DistAfterScale: num(d.DistAfter), TraceRatio: num(d.TraceRatio), IMStatistic: num(d.IMStat),
		NEff: num(d.NEff), NullDraws: d.Draws, NullMedian: num(d.NullMedian), NullMax: num(d.NullMax), PValue: num(d.PValue),
		NullNote:     "distances after the best scale from G of Monte-Carlo Fishers with one sampled target per pattern (MC-1: unbiased for G, as many single-sample gradients as F_emp), seeds curv-seed, curv-seed+1, ...; p = (1 + #{MC-1 distance >= F_emp's}) / (draws + 1)",
		IMNull:       num(d.IMNull),
		IMDefinition: "||F_emp - s H||_F / ||s H||_F, s = MSR for squared error, 1 for cross-entropy (White 1982: tends to 0 for a well-specified likelihood at its optimum as P grows; its finite-P floor is estimated by the median ||M - H||_F / ||H||_F over the MC-1 draws M)",
		HOverGScale:  num(d.HG), HGDistAfter: num(d.HGDist), GradNorm: num(d.GradNorm), Biased: d.Biased, Usable: d.Usable, Verdict: d.Verdict,
		ThresholdsNote: fmt.Sprintf("vanished below tr F/tr G = %g; biased when p <= %g; too few samples when the MC-1 median distance exceeds %g", VanishRatio, NullLevel, MaxNullDistance)}
}

// BuildCurvature forms one kind, its eigen-decomposition, its damped (or
// fixed) inverse and the OBS saliencies.
func BuildCurvature(k hessian.Kind, m *model.MLP, X, T [][]float64, cfg *CurvatureConfig, w []float64) (*CurvatureResult, error) {
	cv, err := hessian.New(k, m, X, T, &cfg.Options)
	if err != nil {
		return nil, err
	}
	r := &CurvatureResult{Kind: k, c: mat.NewSymDense(cv.Dim(), nil), inv: &mat.SymDense{}}
	// With relative damping C carries the decay times the scale, and
	// alpha is added times the scale.
	if cv, r.alpha, r.scale, err = hessian.Damp(cfg.Damping, cv, cfg.Alpha); err != nil {
		return nil, err
	}
	alpha := r.alpha
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
		rep, err := hessian.InverseIndefinite(r.inv, cv, alpha, cfg.Fix)
		if err != nil {
			if cfg.Fix == hessian.FixNone && errors.Is(err, hessian.ErrNotPositiveDefinite) {
				return nil, fmt.Errorf("the exact Hessian + alpha I is not positive definite (smallest eigenvalue %.3g, %d negative, alpha %g): choose an explicit fix with --fix shift|abs|clip|pinv", rep.MinEigen, rep.Negative, alpha)
			}
			return nil, err
		}
		r.fixReport = &rep
		if cfg.Fix == hessian.FixNone {
			r.inverse = "cholesky of C + alpha I (hessian.InverseIndefinite, fix none)"
		} else {
			r.inverse = fmt.Sprintf("eigendecomposition with fix %v (hessian.InverseIndefinite)", cfg.Fix)
		}
	} else {
		if err := hessian.InverseDirect(r.inv, cv, alpha); err != nil {
			return nil, err
		}
		r.inverse = "cholesky of C + alpha I (hessian.InverseDirect)"
	}
	r.saliency = make([]float64, n)
	hessian.OBSSaliencies(r.saliency, w, r.inv)
	return r, nil
}

// KindSummary summarises one kind built with the damping mode damping.
func KindSummary(r *CurvatureResult, m *model.MLP, free []int, damping hessian.Damping) KindJSON {
	alpha := r.alpha
	n := len(r.eig)
	top := make([]*float64, min(TopEigen, n))
	for i := range top {
		top[i] = num(r.eig[i])
	}
	maxAbs := math.Max(math.Abs(r.eig[0]), math.Abs(r.eig[n-1]))
	tol := float64(n) * 0x1p-52 * maxAbs
	k := KindJSON{TopEigenvalues: top, MinEigenvalue: num(r.eig[n-1]), RoundingTolerance: num(tol),
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
	if damping == hessian.Relative {
		k.Scale, k.AlphaAdded = num(r.scale), num(r.alpha)
	}
	if a := stats.ArgMin(r.saliency); a >= 0 {
		k.FirstChoice = &ParamJSON{free[a], m.Name(free[a])}
	}
	if f := r.fixReport; f != nil {
		k.FixReport = &FixReportJSON{Fix: f.Fix, Alpha: f.Alpha, Shift: f.Shift, MinEigen: num(f.MinEigen), MaxEigen: num(f.MaxEigen),
			Negative: f.Negative, Changed: f.Clipped, Condition: num(f.Condition)}
	}
	return k
}

// ComparePair compares the kinds a and b.
func ComparePair(a, b *CurvatureResult) PairJSON {
	scale, after := hessian.BestScale(a.c, b.c)
	fa, fb := stats.ArgMin(a.saliency), stats.ArgMin(b.saliency)
	return PairJSON{
		A: a.Kind.String(), B: b.Kind.String(),
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
	Damping       string          `json:"damping"`
	Fix           string          `json:"fix,omitempty"`
	Samples       int             `json:"samples,omitempty"`
	Sigma         float64         `json:"sigma,omitempty"`
	Normalisation string          `json:"normalisation"`
	Patterns      int             `json:"patterns"`
	Decay         float64         `json:"decay"`
	Seeds         SeedsJSON       `json:"seeds"`
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

// dumpNames returns the names of kind k's matrix and inverse in the dump
// directory.
func dumpNames(k hessian.Kind) (matrix, inverse string) {
	return k.String() + ".npy", k.String() + "_inv.npy"
}

// DumpFiles returns the paths WriteCurvatureOutputs writes into cfg.Dump,
// none without it: each kind's matrix and inverse (KIND.npy, KIND_inv.npy)
// and index.json.
func (cfg CurvatureConfig) DumpFiles() []string {
	if cfg.Dump == "" {
		return nil
	}
	var files []string
	for _, k := range cfg.Kinds {
		matrix, inverse := dumpNames(k)
		files = append(files, filepath.Join(cfg.Dump, matrix), filepath.Join(cfg.Dump, inverse))
	}
	return append(files, filepath.Join(cfg.Dump, "index.json"))
}

// WriteCurvatureOutputs writes --dump and --plot. The files are staged and
// committed together when the command succeeds (atomicfile.Stage), so an
// error leaves no output and the previous files untouched.
func WriteCurvatureOutputs(cfg CurvatureConfig, results []*CurvatureResult, s *CurvatureSummary, m *model.MLP, free []int) (err error) {
	if cfg.Plot != "" && !slices.ContainsFunc(results, func(r *CurvatureResult) bool { return r.eig[0] > 0 }) {
		return errors.New("--plot: no kind has a positive eigenvalue to draw on a log axis")
	}
	if cfg.Dump != "" {
		nf := len(free)
		idx := dumpIndex{
			Format: "obs-hessian-dump/1", Dtype: "<f8", Shape: []int{nf, nf}, Order: "C",
			Alpha: s.Alpha, Damping: s.Damping, Fix: s.Fix, Samples: s.Samples, Sigma: s.Sigma,
			Normalisation: s.Normalisation, Patterns: s.Patterns, Decay: s.Decay, Seeds: s.Seeds,
		}
		for a, q := range free {
			idx.Parameters = append(idx.Parameters, dumpParameter{Row: a, Index: q, Name: m.Name(q)})
		}
		for _, r := range results {
			k := dumpKind{Kind: r.Kind.String(), Method: r.inverse}
			k.Matrix, k.Inverse = dumpNames(r.Kind)
			for _, f := range []struct {
				name string
				a    mat.Symmetric
			}{{k.Matrix, r.c}, {k.Inverse, r.inv}} {
				path := filepath.Join(cfg.Dump, f.name)
				dense := mat.NewDense(nf, nf, denseRows(f.a))
				if err := atomicfile.Write(path, func(w io.Writer) error { return npyio.Write(w, dense) }); err != nil {
					return err
				}
			}
			idx.Kinds = append(idx.Kinds, k)
		}
		path := filepath.Join(cfg.Dump, "index.json")
		if err := atomicfile.Write(path, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			return enc.Encode(idx)
		}); err != nil {
			return err
		}
	}
	if cfg.Plot != "" {
		var series []figures.Series
		for _, r := range results {
			x := make([]float64, len(r.eig))
			for i := range x {
				x[i] = float64(i + 1)
			}
			series = append(series, figures.Series{Label: r.Kind.String(), Key: r.Kind.String(), X: x, Y: r.eig})
		}
		o := figures.Options{
			Title:  fmt.Sprintf("eigen-spectra on %s (1/P, P = %d, decay %g; alpha not added)", s.Data, s.Patterns, s.Decay),
			XLabel: "index i (eigenvalues in decreasing order)",
			YLabel: "eigenvalue lambda_i of C",
			LogY:   true,
			Width:  20, Height: 12,
		}
		if err := figures.Write(cfg.Plot, series, o); err != nil {
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

// BuildCurvatures builds the curvatures of cfg.Kinds for m on the patterns
// X, T at m's free parameters, in order: obs hessian's builds. progress, if
// not nil, is called before build i; stop, if not nil, is polled after
// each build and ends the builds with ErrStopped.
func BuildCurvatures(m *model.MLP, X, T [][]float64, cfg *CurvatureConfig, stop func() bool, progress func(i int, k hessian.Kind)) ([]*CurvatureResult, error) {
	free := m.Free()
	w := make([]float64, len(free))
	for a, q := range free {
		w[a] = m.Params[q]
	}
	results := make([]*CurvatureResult, len(cfg.Kinds))
	for i, k := range cfg.Kinds {
		if progress != nil {
			progress(i, k)
		}
		var err error
		if results[i], err = BuildCurvature(k, m, X, T, cfg, w); err != nil {
			return nil, err
		}
		if stop != nil && stop() {
			return nil, ErrStopped
		}
	}
	return results, nil
}

// SummarizeCurvatures returns obs hessian's summary of the curvatures
// results built by BuildCurvatures for m on train: the error, gradient
// norm, mean squared residual and effective sample count at m, each kind's
// spectrum, every pair's comparison and the empirical Fisher diagnostic.
// g carries what the caller knows (the model's name, loss and seed, and
// the damping's description); the rest of the globals are filled in.
func SummarizeCurvatures(m *model.MLP, train *datasets.Set, cfg *CurvatureConfig, results []*CurvatureResult, g CurvatureGlobals) (*CurvatureSummary, *Diagnosis, error) {
	X, T := train.Inputs, train.Targets
	free := m.Free()
	ws := m.NewWorkspace()
	grad := make([]float64, len(m.Params))
	e := m.Grad(ws, grad, X, T)
	g.Data, g.Params, g.Free, g.Patterns = train.Name, len(m.Params), len(free), len(X)
	g.Normalisation, g.Decay, g.Alpha = "1/P (P = training patterns)", m.Decay, cfg.Alpha
	g.Seeds.CurvSeed = cfg.Options.Seed
	g.Error, g.GradNorm, g.MeanSquaredResidual = num(e), num(floats.Norm(grad, 2)), num(hessian.MeanSquaredResidual(m, X, T))
	g.Dump, g.Plot = cfg.Dump, cfg.Plot
	s := &CurvatureSummary{CurvatureGlobals: g, Kinds: map[string]KindJSON{}, Pairs: []PairJSON{}}
	if slices.Contains(cfg.Kinds, hessian.Exact) {
		s.Fix = cfg.Fix.String()
	}
	neff, err := hessian.EffectiveSamples(m, X, T)
	if err != nil {
		return nil, nil, err
	}
	s.NEff = num(neff)
	s.NEffNote = fmt.Sprintf("(sum_p ||g_p||^2)^2 / sum_p ||g_p||^4 over the per-pattern gradients (free parameters): P = %d for equal norms, 1 for one non-zero gradient; compare with nf = %d", len(X), len(free))
	if slices.Contains(cfg.Kinds, hessian.MCFisher) {
		s.Samples, s.Sigma = cfg.Options.Samples, cfg.Options.Sigma
		if s.Samples == 0 {
			s.Samples = hessian.DefaultSamples // the zero value's meaning in hessian
		}
		if s.Sigma == 0 {
			s.Sigma = hessian.DefaultSigma
		}
		if m.Loss != model.SquaredError { // other losses ignore sigma
			s.Sigma = 0
		}
	}
	for _, r := range results {
		s.Kinds[r.Kind.String()] = KindSummary(r, m, free, cfg.Damping)
	}
	for i := range results {
		for j := i + 1; j < len(results); j++ {
			s.Pairs = append(s.Pairs, ComparePair(results[i], results[j]))
		}
	}
	d, err := Diagnose(m, train, DiagnoseConfig{Seed: cfg.Options.Seed})
	if err != nil {
		return nil, nil, err
	}
	s.Diagnostic = EFDiagnostic(d)
	return s, d, nil
}
