package nettalk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/hessian"
)

// writeSyntheticCorpus writes a made-up corpus (the real one may not be
// committed): random words over a few letters, each letter pronounced by a
// fixed rule, so a network can learn it.
func writeSyntheticCorpus(t *testing.T, words int) string {
	t.Helper()
	dir := t.TempDir()
	letters := "catdoge"
	phon := map[byte]byte{'c': 'k', 'a': '@', 't': 't', 'd': 'd', 'o': 'o', 'g': 'g', 'e': '-'}
	rng := rand.New(rand.NewPCG(1, 1))
	var data, common strings.Builder
	data.WriteString("synthetic corpus\n\n")
	seen := map[string]bool{}
	for len(seen) < words {
		n := 2 + rng.IntN(5)
		var w, p, s []byte
		for i := 0; i < n; i++ {
			l := letters[rng.IntN(len(letters))]
			w, p = append(w, l), append(p, phon[l])
			if l == 'a' || l == 'o' {
				s = append(s, '1')
			} else {
				s = append(s, '>')
			}
		}
		if seen[string(w)] {
			continue
		}
		seen[string(w)] = true
		fmt.Fprintf(&data, "%s\t%s\t%s\t0\n", w, p, s)
		if len(seen) <= words/2 {
			fmt.Fprintf(&common, "%s\n", w)
		}
	}
	features := `phoneme	k	Ken	Back1,Stop
phoneme	@	bat	Low,Front2
phoneme	t	test	Central1,Stop
phoneme	d	deb	Voiced,Central1,Stop
phoneme	o	boat	Medium,Tensed,Back2
phoneme	g	guess	Voiced,Back1,Stop
phoneme	-	(continuation)	Silent,Elide
stress	>	onset	right
stress	1	primary	strong,weak
`
	for name, text := range map[string]string{"nettalk.data": data.String(), "features.tsv": features, "common1000.txt": common.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// small is a run of seconds: a 3-letter window and 3 hidden units.
func small(dir string) Settings {
	s := DefaultSettings()
	s.Dir, s.Window, s.Hidden, s.TestWords = dir, 3, 3, 0
	s.MaxIter, s.Group, s.Keep, s.Points = 200, 4, 60, 5
	s.Alpha = 1e-3
	return s
}

func TestSmallPipeline(t *testing.T) {
	dir := writeSyntheticCorpus(t, 60)
	s := small(dir)
	var calls int
	s.Progress = func(Progress) { calls++ }
	res, err := Run(s)
	if err != nil {
		t.Fatal(err)
	}
	n := res.Params // 87-3-26: 264 + 104 = 368
	if n != 3*29*3+3+26*4 {
		t.Fatalf("%d parameters, want 368", n)
	}
	if len(res.Curves) != len(Methods) || calls == 0 {
		t.Fatalf("%d curves, %d progress calls", len(res.Curves), calls)
	}
	for _, c := range res.Curves {
		first, last := c.Points[0], c.Points[len(c.Points)-1]
		if first.Params != n || last.Params != s.Keep {
			t.Fatalf("%s: curve from %d to %d parameters, want %d to %d", c.Method, first.Params, last.Params, n, s.Keep)
		}
		if first != res.Curves[0].Points[0] {
			t.Fatalf("%s starts from another network than %s", c.Method, res.Curves[0].Method)
		}
		for i := 1; i < len(c.Points); i++ {
			if c.Points[i].Params >= c.Points[i-1].Params {
				t.Fatalf("%s: parameters do not decrease: %+v", c.Method, c.Points)
			}
		}
		for _, p := range c.Points {
			for _, a := range []float64{p.TrainPhoneme, p.TrainStress, p.TestPhoneme, p.TestStress} {
				if !(a >= 0 && a <= 1) {
					t.Fatalf("%s: accuracy %v", c.Method, a)
				}
			}
		}
		if c.Method != Magnitude && c.Rebuilds < 2 {
			t.Fatalf("%s: %d curvature builds; recompute %g of %d deletions wants several", c.Method, c.Rebuilds, s.Recompute, n-s.Keep)
		}
	}
	// The rule is learnable: the trained network pronounces its training
	// letters far better than chance (7 phonemes).
	if a := res.Curves[0].Points[0].TrainPhoneme; a < 0.5 {
		t.Fatalf("trained network's training phoneme accuracy %v", a)
	}
	// Same settings, same bytes.
	again, err := Run(small(dir))
	if err != nil {
		t.Fatal(err)
	}
	var b1, b2 bytes.Buffer
	res.WriteCSV(&b1)
	again.WriteCSV(&b2)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("two runs with the same settings differ")
	}
	out := t.TempDir()
	if err := res.WriteDir(out, "obs reproduce nettalk (test)", 1); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != len(Files) {
		t.Fatalf("output dir holds %d entries, want the %d files", len(entries), len(Files))
	}
	var sum map[string]any
	data, _ := os.ReadFile(filepath.Join(out, "nettalk-summary.json"))
	if err := json.Unmarshal(data, &sum); err != nil || sum["paper_claim"] != PaperClaim {
		t.Fatalf("summary: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(out, "nettalk-report.md"))
	for _, want := range []string{"alpha", "retrain", PaperClaim} {
		if !strings.Contains(string(md), want) {
			t.Fatalf("report does not state %q", want)
		}
	}
}

func TestStop(t *testing.T) {
	s := small(writeSyntheticCorpus(t, 30))
	n := 0
	s.Stop = func() bool { n++; return n > 50 }
	if _, err := Run(s); err != ErrStopped {
		t.Fatalf("stopped run returned %v", err)
	}
}

func TestSharedCorpusSmall(t *testing.T) {
	const dir = "../../../shared/datasets/nettalk"
	if _, err := os.Stat(filepath.Join(dir, "nettalk.data")); err != nil {
		t.Skipf("NETtalk corpus not found at %s (it is not shipped with obs): %v", dir, err)
	}
	s := small(dir)
	s.TrainWords, s.TestWords, s.Methods = 40, 40, []string{OBSGGN, Magnitude}
	s.Keep = 200
	res, err := Run(s)
	if err != nil {
		t.Fatal(err)
	}
	if res.Params != 368 || len(res.Curves) != 2 {
		t.Fatalf("%d parameters, %d curves", res.Params, len(res.Curves))
	}
}

// With --polish the batched Newton-CG polish takes L-BFGS's iterate to the
// tolerance on the small network, and the conditions say so.
func TestSmallPolish(t *testing.T) {
	s := small(writeSyntheticCorpus(t, 60))
	s.MaxIter, s.Polish, s.GradTol = 100, 30, 1e-7
	s.Methods = []string{Magnitude}
	res, err := Run(s)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Training
	if !tr.Converged || tr.GradNorm > s.GradTol || !strings.Contains(tr.Status, "Newton-CG polish: gradient tolerance reached") {
		t.Fatalf("training: %+v", tr)
	}
	if c := res.Conditions(); !strings.Contains(c, "Newton-CG polish of at most 30 iterations (batched") || !strings.Contains(c, "reached") {
		t.Errorf("conditions: %s", c)
	}
}

// The empirical Fisher inverted through its kernel (fewer training letters
// than parameters here, as on the real corpus) prunes as the sweep of the
// formed matrix does: the same deletions, so the same accuracies, and
// training errors equal to rounding (relative difference 1e-9; a kernel
// inverse off by half its Z Z^T term fails it).
func TestKernelInverseSameCurve(t *testing.T) {
	dir := writeSyntheticCorpus(t, 60)
	run := func(kernel bool) Curve {
		t.Helper()
		defer func(k bool) { useKernel = k }(useKernel)
		useKernel = kernel
		s := small(dir)
		s.Methods = []string{OBSEF}
		// A ridge far below the empirical Fisher's data part, so that the
		// inverse is not about I/(decay + alpha) (magnitude pruning).
		s.Decay, s.Alpha = 1e-6, 1e-9
		res, err := Run(s)
		if err != nil {
			t.Fatal(err)
		}
		if res.TrainPatterns >= res.Params {
			t.Fatalf("%d training letters for %d parameters: the kernel path is not taken", res.TrainPatterns, res.Params)
		}
		return res.Curves[0]
	}
	k, d := run(true), run(false)
	if len(k.Points) != len(d.Points) {
		t.Fatalf("%d points against %d", len(k.Points), len(d.Points))
	}
	for i := range k.Points {
		pk, pd := k.Points[i], d.Points[i]
		if pk.Params != pd.Params || pk.TestPhoneme != pd.TestPhoneme || pk.TrainPhoneme != pd.TrainPhoneme || pk.TestStress != pd.TestStress {
			t.Fatalf("point %d: kernel %+v, sweep %+v", i, pk, pd)
		}
		if r := math.Abs(pk.TrainE-pd.TrainE) / pd.TrainE; r > 1e-9 {
			t.Fatalf("point %d: training error %v against %v", i, pk.TrainE, pd.TrainE)
		}
	}
}

// Relative damping reaches OBS (it changes the curves of obs-ggn and
// obs-ef, not OBD's or magnitude's) and every output states it.
func TestRelativeDamping(t *testing.T) {
	dir := writeSyntheticCorpus(t, 60)
	abs, err := Run(small(dir))
	if err != nil {
		t.Fatal(err)
	}
	s := small(dir)
	s.Damping = hessian.Relative
	rel, err := Run(s)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range rel.Curves {
		same := fmt.Sprint(c.Points) == fmt.Sprint(abs.Curves[i].Points)
		if obs := c.Method == OBSGGN || c.Method == OBSEF; obs == same {
			t.Errorf("%s: relative damping changed the curve: %v, want %v", c.Method, !same, obs)
		}
	}
	var csvOut bytes.Buffer
	if err := rel.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rel.Conditions(), "relative damping") || !strings.Contains(csvOut.String(), ",relative,") {
		t.Errorf("outputs do not state relative damping: %q", rel.Conditions())
	}
	if !strings.Contains(abs.Conditions(), "absolute damping") || rel.Settings.DampingName != "relative" {
		t.Errorf("absolute run's conditions %q; relative run's damping %q", abs.Conditions(), rel.Settings.DampingName)
	}
}
