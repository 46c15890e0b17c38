package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/prune"
)

func init() { register(80, studyCommand) }

func studyCommand() *cli.Command {
	return &cli.Command{
		Name:      "study",
		Usage:     "measure when the Gauss–Newton matrix and the empirical Fisher agree, and write the report",
		ArgsUsage: " ",
		Description: `Trains students in controlled settings and measures, at the trained weights,
how the empirical Fisher F_emp compares with the Gauss–Newton matrix G: the best
scale c* (F_emp ~ c* G) against the mean squared residual, the distance left
after scaling, the agreement of their OBS saliencies and first choices, and how
well G, F_emp, the Monte-Carlo Fisher and the exact Hessian (made definite by
--fix) predict the actual loss increase of deleting each parameter. The
factors: noise level and residual size (teacher–student regression), training
progress, misspecification, number of patterns, and classification with
cross-entropy (MONK's problems, the built-in UCI files unless --monk-dir, and a
softmax teacher).

Writes DIR/gn-vs-fisher.md and its figures DIR/figures/gn-vs-fisher-*.png;
DIR must exist (figures/ is created). Deterministic: the same flags write the
same bytes, whatever --workers. Every curvature carries the 1/P normalisation;
the report states seeds, damping and fix. scripts/study.sh runs the full study
into docs/; --quick runs tiny sizes with one seed (for tests).

Example:
  obs study --out-dir docs`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out-dir", Required: true, Usage: "existing `DIR` for gn-vs-fisher.md and figures/"},
			&cli.BoolFlag{Name: "quick", Usage: "tiny sizes and one seed (seconds; for tests)"},
			&cli.StringFlag{Name: "seeds", Usage: "comma-separated seeds (default 1,2,3; 1 with --quick)"},
			&cli.StringFlag{Name: "monk-dir", Usage: "read the UCI MONK's files from `DIR` instead of the copy built into obs"},
			&cli.Float64Flag{Name: "alpha", Value: prune.DefaultAlpha, Usage: "damping of every OBS inverse (C + alpha I)^-1"},
			&cli.StringFlag{Name: "fix", Value: "shift", Usage: "how the exact Hessian is made definite: none (fail), shift, abs, clip or pinv"},
			&cli.IntFlag{Name: "workers", Usage: "settings measured at once (0: the number of CPUs); results do not depend on it"},
		},
		Action: runStudy,
	}
}

type studyRowJSON struct {
	Factor       string              `json:"factor"`
	Setting      string              `json:"setting"`
	Seeds        int                 `json:"seeds"`
	Converged    int                 `json:"converged"`
	E            *float64            `json:"train_error"`
	GradNorm     *float64            `json:"grad_norm"`
	MSR          *float64            `json:"mean_squared_residual"`
	CStar        *float64            `json:"c_star"`
	CStarOverMSR *float64            `json:"c_star_over_msr"`
	DistAfter    *float64            `json:"dist_after_scale"`
	SalSpearman  *float64            `json:"saliency_spearman"`
	SalMatched   *float64            `json:"saliency_spearman_matched_damping"`
	FirstAgree   int                 `json:"first_choice_agrees"`
	MCDist       *float64            `json:"mcfisher_dist_after_scale"`
	Predicted    map[string]*float64 `json:"prediction_spearman"`
}

type studySummary struct {
	Report        string         `json:"report"`
	Figures       []string       `json:"figures"`
	Quick         bool           `json:"quick"`
	Seeds         []uint64       `json:"seeds"`
	Alpha         float64        `json:"alpha"`
	Fix           string         `json:"fix"`
	MCSamples     int            `json:"mc_samples"`
	Normalisation string         `json:"normalisation"`
	MonkData      string         `json:"monk_data"`
	Rows          []studyRowJSON `json:"rows"`
}

func parseSeeds(s string) ([]uint64, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var seeds []uint64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			return nil, usagef("--seeds: %q is not a seed (a number >= 0)", f)
		}
		seeds = append(seeds, v)
	}
	return seeds, nil
}

func runStudy(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("study takes no arguments")
	}
	seeds, err := parseSeeds(c.String("seeds"))
	if err != nil {
		return err
	}
	alpha := c.Float64("alpha")
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		return usagef("--alpha %v must be a finite number > 0", alpha)
	}
	fix, err := hessian.ParseFix(c.String("fix"))
	if err != nil {
		return usageError{err}
	}
	if c.Int("workers") < 0 {
		return usagef("--workers %d must be >= 0", c.Int("workers"))
	}
	dir := c.String("out-dir")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist", dir)
	}
	if err := checkOutputs(c, out("--out-dir", filepath.Join(dir, study.ReportName))); err != nil {
		return err
	}
	if md := c.String("monk-dir"); md != "" {
		if st, err := os.Stat(md); err != nil || !st.IsDir() {
			return fmt.Errorf("--monk-dir %s is not a directory", md)
		}
	}
	b := newBar(c, -1, "study")
	cfg := study.RunConfig{Quick: c.Bool("quick"), Seeds: seeds, MonkDir: c.String("monk-dir"),
		Measure: study.MeasureConfig{Alpha: alpha, Fix: fix}, Workers: c.Int("workers"),
		Progress: func(done, total int) { b.Set(done, "study: %d of %d settings and seeds", done, total) },
		Stop:     func() bool { return interrupted(c) }}
	res, err := study.Run(cfg)
	b.Done()
	if errors.Is(err, study.ErrStopped) || interrupted(c) {
		return errInterrupted
	}
	if err != nil {
		return err
	}
	figDir := filepath.Join(dir, study.FigureDir)
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %v", figDir, err)
	}
	s := studySummary{Report: filepath.Join(dir, study.ReportName), Quick: res.Quick, Seeds: res.Seeds, Alpha: res.Alpha,
		Fix: res.Fix, MCSamples: res.MCSamples, Normalisation: "1/P (P = training patterns)", MonkData: "UCI files, built in"}
	if res.MonkDir != "" {
		s.MonkData = "UCI files in " + res.MonkDir
	}
	for _, f := range res.Figures() {
		path := filepath.Join(figDir, f.Name)
		if err := checkOutputs(c, out("--out-dir", path), out("--out-dir", s.Report)); err != nil {
			return err
		}
		p, err := figures.New(f.Series, f.Options)
		if err != nil {
			return err
		}
		if f.YMax > 0 {
			p.Y.Min, p.Y.Max = math.Min(p.Y.Min, 0), f.YMax
		}
		p.Legend.Left = f.LegendLeft
		if err := figures.Save(p, path, f.Options); err != nil {
			return err
		}
		s.Figures = append(s.Figures, path)
	}
	if err := atomicfile.WriteBytes(s.Report, res.Markdown()); err != nil {
		return err
	}
	for _, r := range res.Summary() {
		row := studyRowJSON{Factor: r.Factor, Setting: r.Label, Seeds: r.Seeds, Converged: r.Converged, E: num(r.E),
			GradNorm: num(r.GradNorm), MSR: num(r.MSR), CStar: num(r.CStar), CStarOverMSR: num(r.CStarOverMSR),
			DistAfter: num(r.DistAfter), SalSpearman: num(r.SalSpearman), SalMatched: num(r.SalMatched),
			FirstAgree: r.FirstAgree, MCDist: num(r.MCDist), Predicted: map[string]*float64{}}
		for _, p := range r.Predictions {
			row.Predicted[p.Curvature] = num(p.Spearman)
		}
		s.Rows = append(s.Rows, row)
	}
	if c.Bool("json") {
		return emit(c, s)
	}
	info(c, "wrote %s and %d figures in %s (seeds %v, alpha %g, fix %s, 1/P)\n", s.Report, len(s.Figures), figDir, res.Seeds, res.Alpha, res.Fix)
	return nil
}
