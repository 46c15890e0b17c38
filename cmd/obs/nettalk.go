package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/nettalk"
)

// reproduceNettalkCommand is `obs reproduce nettalk`.
func reproduceNettalkCommand() *cli.Command {
	d := nettalk.DefaultSettings()
	cmd := &cli.Command{
		Name:      "nettalk",
		Usage:     "the OBS paper's NETtalk experiment: 203-80-26 pruned by full OBS towards 1,560 parameters",
		ArgsUsage: " ",
		Description: `Trains a NETtalk network (Sejnowski & Rosenberg 1987: a 7-letter window of
one-hot letters, 203 inputs, 80 sigmoid hidden units, 26 sigmoid outputs coding
the phoneme's 21 articulatory and the stress's 5 features; 18,426 parameters)
on the letters of the 1,000 common words by L-BFGS with weight decay to a
minimum, ||grad E|| <= --grad-tol (batched gradients; with --polish a
Newton-CG polish on batched exact Hessian-vector products, CG preconditioned
by the Gauss-Newton diagonal; the default decay 3e-4 is the smallest tried
whose training reaches the tolerance within minutes, 1e-4 does not), then
prunes it without retraining with OBS on the full Gauss–Newton matrix
(obs-ggn), OBS on the empirical Fisher (obs-ef), OBD (ggn diagonal) and
magnitude, down to --keep parameters, and measures the best-guess phoneme and
stress accuracy (the code at the smallest angle to the output) on held-out
words. Paper (Hassibi & Stork, NIPS 5, 1993): "whereas Sejnowski and Rosenberg
used 18,000 weights in their NETtalk network, we used OBS to prune a network
to just 1560 weights, yielding better generalization."

The corpus is under a non-commercial licence and is never shipped: name its
directory with --nettalk-dir (nettalk.data, features.tsv, common1000.txt).

OBS builds the curvature from the sparse inputs, inverts C + alpha I in
place by a block sweep (memory: one n x n matrix, 2.7 GB at n = 18,426, plus
O(n k)) or, for the empirical Fisher of P = 5,603 training letters while
P < n makes it cheaper, through its P x P kernel (Woodbury; 1.1 GB more
while it is formed, half the work of the sweep at full size), removes --group parameters per step (group OBS with a rank-k
downdate of the inverse, compacted as rows go) and rebuilds the curvature at
the current weights whenever the parameters left have fallen by the fraction
--recompute since the last build. Outputs go to --out-dir (created if
missing): nettalk-report.md, nettalk-curves.csv, nettalk-curves.png and
nettalk-summary.json, all written at the end (Ctrl-C leaves none of them).

Example:
  obs reproduce nettalk --nettalk-dir ../shared/datasets/nettalk
  obs reproduce nettalk --nettalk-dir DIR --hidden 10 --window 3 --train-words 100 --test-words 100 --keep 100`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "nettalk-dir", Usage: "`DIR` with nettalk.data, features.tsv and common1000.txt (required)"},
			&cli.StringFlag{Name: "out-dir", Value: "reproduce-nettalk", Usage: "output `DIR`, created if missing"},
			&cli.IntFlag{Name: "window", Value: d.Window, Usage: "letters per input window (odd)"},
			&cli.IntFlag{Name: "hidden", Value: d.Hidden, Usage: "hidden units"},
			&cli.IntFlag{Name: "train-words", Value: d.TrainWords, Usage: "use only the first N common words for training (0: all)"},
			&cli.IntFlag{Name: "test-words", Value: d.TestWords, Usage: "test on an evenly spaced subset of N other words (0: all ~19,000, slow to evaluate)"},
			&cli.Float64Flag{Name: "decay", Value: d.Decay, Usage: "weight decay lambda of E = (1/P) sum l_p + (lambda/2)||w||^2"},
			&cli.Uint64Flag{Name: "seed", Value: d.Seed, Usage: "seed of the initial weights (the stream of obs train --seed)"},
			&cli.IntFlag{Name: "max-iter", Value: d.MaxIter, Usage: "training iteration cap (L-BFGS and polish together)"},
			&cli.IntFlag{Name: "polish", Value: d.Polish, Usage: "at most N of the iterations for the Newton-CG polish (0: none)"},
			&cli.Float64Flag{Name: "grad-tol", Value: d.GradTol, Usage: "stop training at ||grad E||_2 <= this"},
			&cli.Float64Flag{Name: "alpha", Value: d.Alpha, Usage: "OBS damping: OBS inverts C + alpha I"},
			&cli.StringFlag{Name: "damping", Value: d.Damping.String(), Usage: "how --alpha and --decay enter OBS's curvature: absolute (C_data + (decay + alpha) I, the paper's) or relative (C_data + (decay + alpha) s I, s = tr(C_data)/n at each build: the scale-matched control of docs/gn-vs-fisher.md); not used by obd-ggn and magnitude"},
			&cli.IntFlag{Name: "group", Value: d.Group, Usage: "parameters removed per step (group OBS; every method)"},
			&cli.Float64Flag{Name: "recompute", Value: d.Recompute, Usage: "rebuild the curvature when the parameters left fell by FRACTION since the last build (0: never)"},
			&cli.IntFlag{Name: "keep", Value: d.Keep, Usage: "prune down to N parameters"},
			&cli.IntFlag{Name: "points", Value: d.Points, Usage: "measure test accuracy at N evenly spaced sizes (and at 1,560)"},
			&cli.StringFlag{Name: "methods", Value: strings.Join(d.Methods, ","), Usage: "comma-separated methods: obs-ggn, obs-ef, obd-ggn, magnitude"},
		},
		Action: runReproduceNettalk,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
	// A subcommand is not in the app's command list, which adds these.
	cmd.Flags = append(cmd.Flags, commonFlags()...)
	return cmd
}

func runReproduceNettalk(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usagef("obs reproduce nettalk takes no arguments, got %q", c.Args().Slice())
	}
	s := nettalk.DefaultSettings()
	s.Dir = c.String("nettalk-dir")
	if s.Dir == "" {
		return usagef("--nettalk-dir is required: the corpus is not shipped with obs (see obs reproduce nettalk --help)")
	}
	s.Window, s.Hidden, s.TrainWords, s.TestWords = c.Int("window"), c.Int("hidden"), c.Int("train-words"), c.Int("test-words")
	s.Decay, s.Seed, s.MaxIter, s.GradTol, s.Polish = c.Float64("decay"), c.Uint64("seed"), c.Int("max-iter"), c.Float64("grad-tol"), c.Int("polish")
	s.Alpha, s.Group, s.Recompute, s.Keep, s.Points = c.Float64("alpha"), c.Int("group"), c.Float64("recompute"), c.Int("keep"), c.Int("points")
	var err error
	if s.Damping, err = hessian.ParseDamping(c.String("damping")); err != nil {
		return usagef("--damping: %v", err)
	}
	s.Methods = nil
	for _, m := range strings.Split(c.String("methods"), ",") {
		if m = strings.TrimSpace(m); m != "" {
			s.Methods = append(s.Methods, m)
		}
	}
	if c.IsSet("damping") && !slices.ContainsFunc(s.Methods, func(m string) bool { return m == nettalk.OBSGGN || m == nettalk.OBSEF }) {
		return usagef("--damping applies to obs-ggn and obs-ef only, and --methods %s has neither", c.String("methods"))
	}
	if s.Window < 1 || s.Window%2 == 0 {
		return usagef("--window %d must be odd and >= 1", s.Window)
	}
	if s.TrainWords < 0 || s.TestWords < 0 {
		return usagef("--train-words and --test-words must be >= 0")
	}
	out := c.String("out-dir")
	if out == "" {
		return usagef("--out-dir is empty")
	}
	s.Stop = func() bool { return interrupted(c) }
	// One bar per stage (training, then each method); without a terminal
	// the bar logs a plain line every few seconds (newBar).
	var b *bar
	stage := ""
	s.Progress = func(p nettalk.Progress) {
		if p.Stage != stage {
			b.Done()
			stage = p.Stage
			b = newBar(c, p.Total, p.Stage)
		}
		switch {
		case p.Stage == "training":
			b.Set(p.Done, "training: E %.5g", p.E)
		case p.Building:
			b.Set(p.Done, "%s: %d parameters left, building the curvature", p.Stage, p.Left)
		default:
			b.Set(p.Done, "%s: %d parameters left, E %.5g", p.Stage, p.Left, p.E)
		}
	}
	// Settings errors and an unreadable corpus fail before any work.
	start := time.Now()
	res, err := nettalk.Run(s)
	b.Done()
	if err != nil {
		if err == nettalk.ErrStopped || interrupted(c) {
			return errInterrupted
		}
		return err
	}
	if interrupted(c) {
		return errInterrupted
	}
	wall := time.Since(start).Seconds()
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("cannot create output directory %s: %v", out, err)
	}
	if err := res.WriteDir(out, nettalkCommandLine(c), wall); err != nil {
		return err
	}
	if c.Bool("json") {
		return emit(c, struct {
			OutDir string   `json:"out_dir"`
			Files  []string `json:"files"`
			*nettalk.Result
		}{out, nettalk.Files, res})
	}
	info(c, "NETtalk %s, %d parameters; %s\n", res.Arch, res.Params, res.Conditions())
	info(c, "paper: %q\n", nettalk.PaperClaim)
	for _, cv := range res.Curves {
		info(c, "  %-10s best test phoneme %.1f%% (stress %.1f%%) at %d parameters\n", cv.Method, 100*cv.Best.TestPhoneme, 100*cv.Best.TestStress, cv.Best.Params)
	}
	info(c, "took %.0f s; wrote %s in %s\n", wall, strings.Join(nettalk.Files, ", "), filepath.Clean(out))
	return nil
}

// nettalkCommandLine rebuilds the command, leaving out --out-dir and the
// output flags.
func nettalkCommandLine(c *cli.Context) string {
	return strings.Join(append([]string{"obs reproduce nettalk"}, givenFlags(c, "nettalk-dir", "window", "hidden", "train-words", "test-words", "decay", "seed", "max-iter", "polish", "grad-tol", "alpha", "group", "recompute", "keep", "points", "methods")...), " ")
}
