package study

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Zero Monte-Carlo options are hessian's defaults, and the summary states
// the values used, not the zeros: the same summary as with the defaults
// given, and the same curvature.
func TestCurvatureZeroOptionsAreDefaults(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Output: model.Identity})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	train := datasets.XOR()
	run := func(o hessian.Options) (*CurvatureSummary, []*CurvatureResult) {
		cfg := &CurvatureConfig{Kinds: []hessian.Kind{hessian.MCFisher}, Alpha: 1e-4, Options: o}
		res, err := BuildCurvatures(m, train.Inputs, train.Targets, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, _, err := SummarizeCurvatures(m, train, cfg, res, CurvatureGlobals{})
		if err != nil {
			t.Fatal(err)
		}
		return s, res
	}
	zero, rz := run(hessian.Options{Seed: 3})
	given, rg := run(hessian.Options{Seed: 3, Samples: hessian.DefaultSamples, Sigma: hessian.DefaultSigma})
	if zero.Samples != hessian.DefaultSamples || zero.Sigma != hessian.DefaultSigma {
		t.Errorf("zero options: summary states samples %d, sigma %v; want %d, %v", zero.Samples, zero.Sigma, hessian.DefaultSamples, hessian.DefaultSigma)
	}
	if zero.Samples != given.Samples || zero.Sigma != given.Sigma {
		t.Errorf("zero options %d, %v; given defaults %d, %v", zero.Samples, zero.Sigma, given.Samples, given.Sigma)
	}
	if !equalSym(rz[0].c.RawSymmetric().Data, rg[0].c.RawSymmetric().Data) {
		t.Error("the zero options built another Monte-Carlo Fisher than the defaults given")
	}
}

func equalSym(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The tables of obs hessian name every kind in the order asked, with its
// trace and first removed parameter from the summary, every pair, the
// relative damping's scales when it is relative, and the verdict.
func TestWriteCurvatureTables(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Output: model.Identity})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	train := datasets.XOR()
	for _, damping := range []hessian.Damping{hessian.Absolute, hessian.Relative} {
		kinds := []hessian.Kind{hessian.EmpiricalFisher, hessian.GGN}
		cfg := &CurvatureConfig{Kinds: kinds, Alpha: 1e-4, Damping: damping}
		res, err := BuildCurvatures(m, train.Inputs, train.Targets, cfg, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		s, d, err := SummarizeCurvatures(m, train, cfg, res, CurvatureGlobals{Damping: DampingNote(damping)})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := WriteCurvatureTables(&b, s, d, kinds); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		ef, ggn := s.Kinds["ef"], s.Kinds["ggn"]
		for _, want := range []string{
			fmt.Sprintf("  ef        %10.4g", *ef.Trace),
			fmt.Sprintf("  ggn       %10.4g", *ggn.Trace),
			"  ef        ggn      ",
			"  verdict: " + s.Diagnostic.Verdict + "\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%v damping: no %q in\n%s", damping, want, out)
			}
		}
		if strings.Index(out, "\n  ef ") > strings.Index(out, "\n  ggn ") {
			t.Errorf("kinds not in the order given:\n%s", out)
		}
		if got := strings.Contains(out, "scale s = tr(C_data)/n"); got != (damping == hessian.Relative) {
			t.Errorf("%v damping: scale lines %v", damping, got)
		}
	}
}

// The table of obs compare: a heading and one line per method, in order,
// with the parameters left at twice the starting E (from the summary) and
// the brute-force checks.
func TestWriteCompareTable(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{2, 2, 1}, Decay: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(7, 1)))
	train := datasets.XOR()
	if _, err := model.Train(m, train.Inputs, train.Targets, nil); err != nil {
		t.Fatal(err)
	}
	cfg := CompareConfig{Methods: []string{"obs-ggn", "magnitude"}, Recompute: 1, Keep: 3, BruteForceEvery: 2}
	cmp, err := Compare(m, train, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := NewCompareSummary(cmp, cfg, train, nil, "m.json", nil, "dir")
	var b strings.Builder
	if err := WriteCompareTable(&b, cmp, &s); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "  method ") {
		t.Fatalf("want a heading and 2 lines:\n%s", b.String())
	}
	for i, r := range cmp.Runs {
		left := "-"
		for _, bd := range s.Methods[i].Bounds {
			if bd.Factor == 2 {
				left = fmt.Sprint(bd.Left)
			}
		}
		f := strings.Fields(lines[i+1])
		if f[0] != r.Name || f[1] != left || !strings.HasSuffix(lines[i+1], fmt.Sprintf("%d of %d", r.Matches, len(r.Checks))) {
			t.Errorf("line %q for %s: want left %s and %d of %d checks", lines[i+1], r.Name, left, r.Matches, len(r.Checks))
		}
	}
}

// ParseKinds keeps the kinds in order and refuses unknown, empty and
// repeated ones naming the flag; DumpFiles lists what the dump writes.
func TestParseKindsAndDumpFiles(t *testing.T) {
	kinds, err := ParseKinds("kinds", " ggn,exact")
	if err != nil || len(kinds) != 2 || kinds[0] != hessian.GGN || kinds[1] != hessian.Exact {
		t.Fatalf("ParseKinds = %v, %v", kinds, err)
	}
	for v, want := range map[string]string{
		"ggn,foo":  `unknown kind "foo" in --kinds; valid kinds: exact, ggn, ef, mcfisher`,
		"":         `unknown kind "" in --kinds; valid kinds: exact, ggn, ef, mcfisher`,
		"ef,EF":    "kind ef is given twice in --kinds",
		"ggn,,ggn": `unknown kind "" in --kinds; valid kinds: exact, ggn, ef, mcfisher`,
	} {
		if _, err := ParseKinds("kinds", v); err == nil || err.Error() != want {
			t.Errorf("ParseKinds(%q): %v, want %q", v, err, want)
		}
	}
	cfg := CurvatureConfig{Kinds: kinds}
	if f := cfg.DumpFiles(); f != nil {
		t.Errorf("no dump: %v", f)
	}
	cfg.Dump = "d"
	if f := strings.Join(cfg.DumpFiles(), " "); f != "d/ggn.npy d/ggn_inv.npy d/exact.npy d/exact_inv.npy d/index.json" {
		t.Errorf("dump files %s", f)
	}
}
