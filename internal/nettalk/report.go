package nettalk

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
)

// Files are the outputs of WriteDir, in order.
var Files = []string{"nettalk-report.md", "nettalk-curves.csv", "nettalk-curves.png", "nettalk-summary.json"}

// Conditions states everything a number depends on, for every output.
func (r *Result) Conditions() string {
	s := r.Settings
	return fmt.Sprintf("%s sigmoid network (%d parameters), squared error, weight decay %g, seed %d; "+
		"training: L-BFGS on batched gradients%s, to ||grad E|| <= %g or %d iterations in all (%s); "+
		"pruning without retraining; OBS damping alpha = %g, %s, curvature 1/P-normalised over %d training letters, "+
		"group of %d parameters per step (rank-%d downdate), curvature rebuilt whenever the parameters left fell by a fraction %g since the last build; "+
		"test set %s (%d letters)",
		r.Arch, r.Params, s.Decay, s.Seed, polishText(s.Polish), s.GradTol, s.MaxIter, r.Training.outcome(), s.Alpha, dampingText(s.Damping), r.TrainPatterns,
		s.Group, s.Group, s.Recompute, testLabel(s), r.TestPatterns)
}

// dampingText says how alpha and the decay enter OBS's curvature.
func dampingText(d hessian.Damping) string {
	if d == hessian.Relative {
		return "relative damping (C_data + (decay + alpha) s I, s = tr(C_data)/n at each build)"
	}
	return "absolute damping (C_data + (decay + alpha) I)"
}

func polishText(n int) string {
	if n == 0 {
		return " (no Newton-CG polish)"
	}
	return fmt.Sprintf(", then a Newton-CG polish of at most %d iterations (batched exact Hessian-vector products, CG preconditioned by the Gauss-Newton diagonal)", n)
}

// outcome says whether training reached the tolerance.
func (t Training) outcome() string {
	if t.Converged {
		return fmt.Sprintf("reached: ||grad E|| = %.2g after %d iterations", t.GradNorm, t.Iterations)
	}
	return fmt.Sprintf("NOT reached: ||grad E|| = %.2g after %d iterations, %s", t.GradNorm, t.Iterations, t.Status)
}

func testLabel(s Settings) string {
	if s.TestWords == 0 {
		return "every word not in the training list"
	}
	return fmt.Sprintf("an evenly spaced subset of %d words not in the training list", s.TestWords)
}

// summary is the JSON file.
type summary struct {
	Command     string  `json:"command"`
	Conditions  string  `json:"conditions"`
	PaperClaim  string  `json:"paper_claim"`
	PaperSource string  `json:"paper_source"`
	PaperParams int     `json:"paper_params"`
	Skipped     int     `json:"skipped_rows"`
	Missing     int     `json:"missing_common_words"`
	Unknown     int     `json:"rows_with_uncoded_symbols"`
	WallSeconds float64 `json:"wall_seconds"`
	*Result
}

// WriteDir writes Files into dir (which must exist), each with
// atomicfile.Write, so no file is ever half-written. The obs command stages
// them (atomicfile.Stage) and commits them as one set at the end, so an
// interrupted run leaves dir complete or untouched, as every obs command does.
func (r *Result) WriteDir(dir, command string, wall float64) error {
	write := func(name string, fn func(io.Writer) error) error {
		return atomicfile.Write(filepath.Join(dir, name), fn)
	}
	if err := write(Files[0], func(w io.Writer) error { return r.WriteMarkdown(w, command, wall) }); err != nil {
		return err
	}
	if err := write(Files[1], r.WriteCSV); err != nil {
		return err
	}
	if err := r.WriteFigure(filepath.Join(dir, Files[2])); err != nil {
		return err
	}
	sum := summary{Command: command, Conditions: r.Conditions(), PaperClaim: PaperClaim, PaperSource: PaperSource, PaperParams: PaperParams,
		Skipped: len(r.Split.SkippedRows), Missing: len(r.Split.MissingCommon), Unknown: len(r.Split.UnknownSymbols), WallSeconds: wall, Result: r}
	if err := write(Files[3], func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}); err != nil {
		return err
	}
	return nil
}

// WriteCSV writes every point of every curve, with the conditions in a
// leading comment line.
func (r *Result) WriteCSV(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "# %s\n", r.Conditions()); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.Write([]string{"method", "params", "train_e", "train_phoneme_acc", "train_stress_acc", "test_phoneme_acc", "test_stress_acc", "alpha", "damping", "group", "recompute", "retrain"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, c := range r.Curves {
		for _, p := range c.Points {
			cw.Write([]string{c.Method, strconv.Itoa(p.Params), f(p.TrainE), f(p.TrainPhoneme), f(p.TrainStress), f(p.TestPhoneme), f(p.TestStress),
				f(r.Settings.Alpha), r.Settings.Damping.String(), strconv.Itoa(r.Settings.Group), f(r.Settings.Recompute), "none"})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteFigure draws test phoneme accuracy against parameters left.
func (r *Result) WriteFigure(path string) error {
	var series []figures.Series
	for _, c := range r.Curves {
		s := figures.Series{Label: c.Method}
		for _, p := range c.Points {
			s.X = append(s.X, float64(p.Params))
			s.Y = append(s.Y, 100*p.TestPhoneme)
		}
		series = append(series, s)
	}
	return figures.Write(path, series, figures.Options{
		Title:  fmt.Sprintf("NETtalk %s: test best-guess phoneme accuracy (alpha %g %s, group %d, no retraining)", r.Arch, r.Settings.Alpha, r.Settings.Damping, r.Settings.Group),
		XLabel: "parameters left", YLabel: "test phoneme accuracy (%)", LogX: true,
	})
}

// WriteMarkdown writes the report: the table of methods x parameters left
// x test accuracy, the best point per method and the paper's claim.
func (r *Result) WriteMarkdown(w io.Writer, command string, wall float64) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# NETtalk: pruning %s\n\n", r.Arch)
	fmt.Fprintf(&b, "Command: `%s` (%.0f s wall)\n\n", command, wall)
	fmt.Fprintf(&b, "Paper (%s): \"%s\"\n\n", PaperSource, PaperClaim)
	fmt.Fprintf(&b, "Conditions: %s.\n\n", r.Conditions())
	sp := r.Split
	fmt.Fprintf(&b, "Data: %d training letters (%d dictionary rows of the common-word list), %d test letters (%d rows; pool %d rows). "+
		"Skipped: %d malformed rows, %d rows with a symbol outside features.tsv; %d common words not in the dictionary. "+
		"Best guess: the phoneme and stress codes (features.tsv) at the smallest angle to the output; phonemes the table codes identically count as one.\n\n",
		r.TrainPatterns, sp.TrainWords, r.TestPatterns, sp.TestWords, sp.RestWords, len(sp.SkippedRows), len(sp.UnknownSymbols), len(sp.MissingCommon))
	t := r.Training
	fmt.Fprintf(&b, "Training: %s after %d iterations, E = %.6g, ||grad E|| = %.3g (converged: %v), %.0f s.\n\n", t.Status, t.Iterations, t.E, t.GradNorm, t.Converged, t.Seconds)
	fmt.Fprintf(&b, "Memory: one %d x %d inverse (%.2f GB), reused by every build, plus O(n k) and, during a build, the sparse build's per-pattern factors (at most 512 MB)", r.Params, r.Params, float64(r.MemoryBytes)/1e9)
	if r.KernelBytes > 0 {
		fmt.Fprintf(&b, "; where it is cheaper the empirical Fisher is inverted through its %d x %d kernel (hessian.InverseKernel: %.2f GB more at full size while it is formed)", r.TrainPatterns, r.TrainPatterns, float64(r.KernelBytes)/1e9)
	}
	b.WriteString(".\n\n")
	b.WriteString("## Best test phoneme accuracy per method\n\n| method | parameters left | test phoneme | test stress | at 1560: phoneme | stress | curvature builds | seconds (curvature; to 1560) |\n|---|---|---|---|---|---|---|---|\n")
	for _, c := range r.Curves {
		ap, as := "-", "-"
		if c.AtPaper != nil {
			ap, as = pct(c.AtPaper.TestPhoneme), pct(c.AtPaper.TestStress)
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s | %d | %.0f (%.0f; %.0f) |\n", c.Method, c.Best.Params, pct(c.Best.TestPhoneme), pct(c.Best.TestStress), ap, as, c.Rebuilds, c.Seconds, c.CurvatureSeconds, c.AtPaperSeconds)
	}
	b.WriteString("\n## Test accuracy (phoneme / stress, %) against parameters left\n\n| parameters |")
	for _, c := range r.Curves {
		fmt.Fprintf(&b, " %s |", c.Method)
	}
	b.WriteString("\n|---|")
	for range r.Curves {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	if len(r.Curves) > 0 {
		for i, p := range r.Curves[0].Points {
			fmt.Fprintf(&b, "| %d |", p.Params)
			for _, c := range r.Curves {
				if i < len(c.Points) {
					fmt.Fprintf(&b, " %.1f / %.1f |", 100*c.Points[i].TestPhoneme, 100*c.Points[i].TestStress)
				} else {
					b.WriteString(" - |")
				}
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\nThe accuracies are measured on held-out words against the dictionary's own pronunciations (a shared ground truth), for one trained network (one seed).\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }
