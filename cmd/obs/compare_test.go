package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/internal/study"
)

// checkPNG decodes a PNG and requires a figure-sized image.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("%s is %d x %d pixels, too small for a figure", path, b.Dx(), b.Dy())
	}
}

func TestCompareMonk1(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--decay", "1e-4", "--seed", "1", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
	r := obs(t, dir, "compare", "--model", "m.json", "--data", "monk1", "--out-dir", "out", "--json")
	if r.code != 0 {
		t.Fatalf("compare exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	for _, f := range study.CompareOutputs {
		st, err := os.Stat(filepath.Join(dir, "out", f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	checkPNG(t, filepath.Join(dir, "out", "curves.png"))
	checkPNG(t, filepath.Join(dir, "out", "prediction.png"))
	if svg, _ := os.ReadFile(filepath.Join(dir, "out", "curves.svg")); !bytes.Contains(svg, []byte("<svg")) {
		t.Error("curves.svg is not SVG")
	}

	var sum study.CompareSummary
	b, _ := os.ReadFile(filepath.Join(dir, "out", "summary.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	want := strings.Split("magnitude,obd,obs-ggn,obs-ef,obs-mcfisher,obs-exact", ",")
	if len(sum.Methods) != len(want) {
		t.Fatalf("summary.json has %d methods, want %d", len(sum.Methods), len(want))
	}
	steps := 0
	for i, m := range sum.Methods {
		if m.Method != want[i] {
			t.Errorf("method %d is %q, want %q", i, m.Method, want[i])
		}
		// 58 parameters pruned to the default --keep 1, every step checked.
		if m.Steps != 57 || m.BruteForceChecked != 57 || m.EndParams != 1 {
			t.Errorf("%s: %d steps, %d checked, %d left", m.Method, m.Steps, m.BruteForceChecked, m.EndParams)
		}
		if (m.Method == "magnitude") != (m.Spearman == nil) {
			t.Errorf("%s: spearman %v (only magnitude has no prediction)", m.Method, m.Spearman)
		}
		steps += m.Steps
	}
	set := sum.Settings
	if set.Alpha != 1e-6 || set.Recompute != 1 || set.Fix != "abs" || set.ModelSeed == nil || *set.ModelSeed != 1 ||
		!strings.Contains(set.Normalisation, "1/P") {
		t.Errorf("settings not stated: %+v", set)
	}
	if s["methods"] == nil || len(s["methods"].([]any)) != len(want) {
		t.Errorf("stdout JSON lacks the methods: %v", s)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "out", "summary.md"))
	for _, w := range append(want, "α = 1e-06", "after every deletion", "fix `abs`", "1/P", "Pearson (log10)", "scale (log axes)", "checked before every step") {
		if !bytes.Contains(md, []byte(w)) {
			t.Errorf("summary.md does not mention %q", w)
		}
	}
	// Plain wording, and log-scale statistics where the increases span
	// decades: a positive scale, a clear correlation for OBS-GGN.
	for _, w := range []string{"every 1 deletions", "-th step", "every 0 "} {
		if bytes.Contains(md, []byte(w)) {
			t.Errorf("summary.md says %q", w)
		}
	}
	var raw struct {
		Methods []struct {
			Method     string   `json:"method"`
			PearsonLog *float64 `json:"pearson_log10_predicted_actual"`
			Scale      *float64 `json:"scale_geometric_mean"`
			Decades    *float64 `json:"decades_spanned"`
		} `json:"methods"`
	}
	sj, _ := os.ReadFile(filepath.Join(dir, "out", "summary.json"))
	json.Unmarshal(sj, &raw)
	for _, m := range raw.Methods {
		if m.Method != "obs-ggn" {
			continue
		}
		if m.PearsonLog == nil || *m.PearsonLog < 0.5 || m.Scale == nil || *m.Scale <= 0 || m.Decades == nil || *m.Decades < 2 {
			t.Errorf("obs-ggn: log-scale Pearson %v, scale %v, decades %v; want a clear positive correlation over decades", m.PearsonLog, m.Scale, m.Decades)
		}
	}
	f, _ := os.Open(filepath.Join(dir, "out", "steps.csv"))
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != steps+1 || recs[0][0] != "run" || recs[1][0] != "magnitude" || recs[len(recs)-1][0] != "obs-exact" {
		t.Errorf("steps.csv: %d rows (want %d), first %v, last %v", len(recs), steps+1, recs[0], recs[len(recs)-1])
	}

	// Same inputs, same bytes.
	os.Mkdir(filepath.Join(dir, "again"), 0o755)
	if r := obs(t, dir, "compare", "--model", "m.json", "--data", "monk1", "--out-dir", "again", "--quiet"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, f := range study.CompareOutputs {
		a, _ := os.ReadFile(filepath.Join(dir, "out", f))
		b, _ := os.ReadFile(filepath.Join(dir, "again", f))
		if f == "summary.json" { // it names the output directory
			b = bytes.ReplaceAll(b, []byte(`"again`), []byte(`"out`))
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two identical runs", f)
		}
	}
}

func TestStudyQuick(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	r := obs(t, dir, "study", "--quick", "--out-dir", "d", "--json")
	if r.code != 0 {
		t.Fatalf("study exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	report, err := os.ReadFile(filepath.Join(dir, "d", "gn-vs-fisher.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"shared ground truth", "Quick run", "seeds 1..3"} {
		if !bytes.Contains(report, []byte(w)) {
			t.Errorf("report lacks %q", w)
		}
	}
	rows := s["rows"].([]any)
	if len(rows) == 0 {
		t.Fatal("no rows in the JSON summary")
	}
	preds := rows[0].(map[string]any)["predictors"].(map[string]any)
	for _, k := range []string{"exact", "ggn", "ef", "mcfisher", "obd"} {
		if _, ok := preds[k].(map[string]any)["spearman_vs_truth"]; !ok {
			t.Errorf("no spearman_vs_truth for %s", k)
		}
	}
}

// compareXORModel writes a small trained model m.json for the bad-input cases.
func compareXORModel(t *testing.T, dir string) {
	if r := obs(t, dir, "train", "--data", "xor", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	os.Mkdir(filepath.Join(dir, "out"), 0o755)
}

func TestCompareStudyBadInputs(t *testing.T) {
	cmp := func(extra ...string) []string {
		return append([]string{"compare", "--model", "m.json", "--data", "xor"}, extra...)
	}
	runBadInputs(t, []badInput{
		{"unknown method", compareXORModel, cmp("--out-dir", "out", "--methods", "obs-ggn,obs-hessian"), 2, "unknown method"},
		{"missing out-dir", compareXORModel, cmp(), 2, "out-dir"},
		{"out-dir is a file", compareXORModel, cmp("--out-dir", "m.json"), 2, "not a directory"},
		{"alpha zero", compareXORModel, cmp("--out-dir", "out", "--alpha", "0"), 2, "alpha"},
		{"alpha negative", compareXORModel, cmp("--out-dir", "out", "--alpha", "-1e-6"), 2, "alpha"},
		{"keep too large", compareXORModel, cmp("--out-dir", "out", "--keep", "10"), 2, "keep"},
		{"bad fix", compareXORModel, cmp("--out-dir", "out", "--fix", "magic"), 2, "fix"},
		{"study missing out-dir", nil, []string{"study", "--quick"}, 2, "out-dir"},
		{"study out-dir is a file", compareXORModel, []string{"study", "--quick", "--out-dir", "m.json"}, 2, "not a directory"},
		{"study bad seeds", nil, []string{"study", "--quick", "--out-dir", ".", "--seeds", "1,x"}, 2, "seeds"},
	})
}
