package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
)

// Tolerances of the PyTorch round trip (see scripts/torch_roundtrip.py).
const (
	// tolTorch64: float64 weights, float64 arithmetic on both sides; only
	// the order of summation differs.
	tolTorch64 = 1e-12
	// tolTorch32: PyTorch's float32 forward pass against obs's float64
	// pass on the same float32 weights; float32 has 24 bits (6e-8).
	tolTorch32 = 1e-6
)

// torchDir holds the fixtures written by scripts/torch_roundtrip.py.
var torchDir, _ = filepath.Abs("testdata/torch")

// wineCSV is sklearn's wine data as a user has it (scripts/wine_csv.py).
var wineCSV, _ = filepath.Abs("testdata/wine.csv")

// readFloatCSV reads a CSV of numbers; skip drops leading columns and
// header drops the first row.
func readFloatCSV(t *testing.T, path string, header bool, skip, cols int) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if header {
		recs = recs[1:]
	}
	var out [][]float64
	for _, r := range recs {
		row := make([]float64, cols)
		for j := range cols {
			if row[j], err = strconv.ParseFloat(r[skip+j], 64); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, row)
	}
	return out
}

func maxAbsDiff(t *testing.T, a, b [][]float64) float64 {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%d rows against %d", len(a), len(b))
	}
	d := 0.0
	for i := range a {
		for j := range a[i] {
			d = math.Max(d, math.Abs(a[i][j]-b[i][j]))
		}
	}
	return d
}

func mustRun(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := obs(t, dir, args...)
	if r.code != 0 {
		t.Fatalf("obs %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// The checks of scripts/torch_roundtrip.py on its committed fixtures: obs
// reproduces PyTorch's outputs and loss from both formats and both element
// types, and PyTorch's forward pass on obs's pruned, exported weights
// (torch_pruned_probs.csv) equals obs's own on the pruned model.
func TestTorchRoundTrip(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(torchDir, "data.csv")
	var ref struct {
		CE float64 `json:"cross_entropy_mean"`
	}
	b, _ := os.ReadFile(filepath.Join(torchDir, "torch_loss64.json"))
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tag string
		tol float64
	}{{"64", tolTorch64}, {"32", tolTorch32}} {
		want := readFloatCSV(t, filepath.Join(torchDir, "torch_probs"+tc.tag+".csv"), false, 0, 3)
		for _, ext := range []string{"npz", "safetensors"} {
			mj := "m" + tc.tag + ext + ".json"
			mustRun(t, dir, "import", "--from", filepath.Join(torchDir, "model"+tc.tag+"."+ext), "--arch", "4-6-3", "--act", "tanh",
				"--loss", "ce", "--classes", "a,b,c", "--quiet", "--out", mj)
			mustRun(t, dir, "predict", "--model", mj, "--data", data, "--target", "class", "--quiet", "--out", "p.csv")
			got := readFloatCSV(t, filepath.Join(dir, "p.csv"), true, 1, 3)
			if d := maxAbsDiff(t, got, want); !(d <= tc.tol) {
				t.Errorf("float%s .%s: outputs differ from PyTorch's by %g > %g", tc.tag, ext, d, tc.tol)
			}
			if tc.tag == "64" {
				var ev struct {
					Error float64 `json:"error"`
				}
				json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", mj, "--data", data, "--target", "class", "--json").stdout), &ev)
				if d := math.Abs(ev.Error - ref.CE); !(d <= tolTorch64) {
					t.Errorf(".%s: obs eval E = %.17g, PyTorch CrossEntropyLoss %.17g", ext, ev.Error, ref.CE)
				}
			}
		}
	}

	// An imported model pruned with --data records the data and the class
	// names, so eval needs no data flags afterwards. (Its labels a, b, c
	// are matched to the outputs by --classes: without it they would be
	// refused, not mapped in sorted order; see TestImportedClassesChecked.)
	mustRun(t, dir, "import", "--from", filepath.Join(torchDir, "model64.npz"), "--arch", "4-6-3", "--act", "tanh", "--loss", "ce", "--classes", "a,b,c", "--quiet", "--out", "imp.json")
	mustRun(t, dir, "prune", "--model", "imp.json", "--data", data, "--target", "class", "--keep", "30", "--quiet", "--out", "imp-p.json")
	var ev struct {
		Patterns int      `json:"patterns"`
		Classes  []string `json:"classes"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", "imp-p.json", "--json").stdout), &ev)
	if ev.Patterns != 60 || strings.Join(ev.Classes, ",") != "a,b,c" {
		t.Errorf("eval of a pruned imported model without data flags: %+v", ev)
	}

	// The pruned model: obs's outputs equal PyTorch's forward pass on the
	// exported weights, and export -> import gives back the same model.
	pruned := filepath.Join(torchDir, "pruned.json")
	mustRun(t, dir, "predict", "--model", pruned, "--data", data, "--quiet", "--out", "pp.csv")
	obsPruned := readFloatCSV(t, filepath.Join(dir, "pp.csv"), true, 1, 3)
	if d := maxAbsDiff(t, obsPruned, readFloatCSV(t, filepath.Join(torchDir, "torch_pruned_probs.csv"), false, 0, 3)); !(d <= tolTorch64) {
		t.Errorf("pruned model: obs and PyTorch outputs differ by %g", d)
	}
	var pm struct {
		NumParams int    `json:"num_params"`
		NumFree   int    `json:"num_free"`
		Pruned    []bool `json:"pruned"`
	}
	b, _ = os.ReadFile(pruned)
	json.Unmarshal(b, &pm)
	for _, ext := range []string{"npz", "safetensors"} {
		w := filepath.Join(dir, "pruned."+ext)
		mustRun(t, dir, "export", "--model", pruned, "--quiet", "--out", w)
		ts, err := datasets.ReadWeights(w)
		if err != nil {
			t.Fatal(err)
		}
		masked := 0
		names := map[string]bool{}
		for _, tn := range ts {
			names[tn.Name] = true
			if strings.HasSuffix(tn.Name, "_mask") {
				for _, v := range tn.Data {
					if v == 0 {
						masked++
					}
				}
			}
		}
		for _, n := range []string{"0.weight", "0.bias", "2.weight", "2.bias", "0.weight_mask", "0.bias_mask", "2.weight_mask", "2.bias_mask"} {
			if !names[n] {
				t.Errorf(".%s: no tensor %s", ext, n)
			}
		}
		if masked != pm.NumParams-pm.NumFree || len(ts) != 8 {
			t.Errorf(".%s: %d masked of %d tensors, model has %d pruned", ext, masked, len(ts), pm.NumParams-pm.NumFree)
		}
		mustRun(t, dir, "import", "--from", w, "--arch", "4-6-3", "--act", "tanh", "--loss", "ce", "--classes", "a,b,c", "--quiet", "--out", "back.json")
		mustRun(t, dir, "predict", "--model", "back.json", "--data", data, "--quiet", "--out", "pb.csv")
		if d := maxAbsDiff(t, readFloatCSV(t, filepath.Join(dir, "pb.csv"), true, 1, 3), obsPruned); d != 0 {
			t.Errorf(".%s: export -> import changed the outputs by %g", ext, d)
		}
		var back struct {
			Pruned []bool `json:"pruned"`
		}
		b, _ := os.ReadFile(filepath.Join(dir, "back.json"))
		json.Unmarshal(b, &back)
		if strconvBools(back.Pruned) != strconvBools(pm.Pruned) {
			t.Errorf(".%s: mask changed by export -> import", ext)
		}
	}
}

func strconvBools(b []bool) string {
	var s []string
	for _, v := range b {
		s = append(s, strconv.FormatBool(v))
	}
	return strings.Join(s, ",")
}

// sklearn's wine data as a user has it: one train command with labels 1/2/3,
// --standardize and a 30% hold-out; then prune, eval and predict read the
// data, split and standardisation from the model file alone, and export's
// folded weights take raw inputs.
func TestWineCLI(t *testing.T) {
	dir := t.TempDir()
	var tr struct {
		TestAccuracy *float64 `json:"test_accuracy"`
		TestPatterns int      `json:"test_patterns"`
		Classes      []string `json:"classes"`
	}
	r := mustRun(t, dir, "train", "--data", wineCSV, "--target", "class", "--loss", "ce", "--standardize", "--split", "0.3",
		"--arch", "13-8-3", "--quiet", "--json", "--out", "wine.json")
	json.Unmarshal([]byte(r.stdout), &tr)
	// A sensible test accuracy: linear models reach about 95% on wine.
	const minWineAccuracy = 0.9
	if tr.TestAccuracy == nil || *tr.TestAccuracy < minWineAccuracy || tr.TestPatterns != 53 || strings.Join(tr.Classes, ",") != "1,2,3" {
		t.Fatalf("train: test accuracy %v on %d patterns, classes %v", tr.TestAccuracy, tr.TestPatterns, tr.Classes)
	}
	mustRun(t, dir, "prune", "--model", "wine.json", "--sparsity", "0.5", "--quiet", "--out", "p.json")
	var ev struct {
		TestAccuracy *float64            `json:"test_accuracy"`
		PerClass     []datasets.ClassRow `json:"per_class"`
		FreeParams   int                 `json:"free_params"`
		Patterns     int                 `json:"patterns"`
		Standardized bool                `json:"standardized"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", "p.json", "--json").stdout), &ev)
	if ev.Patterns != 125 || ev.FreeParams != 70 || !ev.Standardized || len(ev.PerClass) != 3 || ev.PerClass[0].Class != "1" {
		t.Errorf("eval of the pruned model: %+v", ev)
	}
	support := 0
	for _, c := range ev.PerClass {
		support += c.Support
	}
	if support != 53 {
		t.Errorf("per-class table covers %d patterns, want the 53 test patterns", support)
	}
	// Predictions on every row, with the stored standardisation; the
	// folded export gives the same outputs on the raw inputs.
	mustRun(t, dir, "predict", "--model", "p.json", "--quiet", "--out", "p.csv")
	a := readFloatCSV(t, filepath.Join(dir, "p.csv"), true, 1, 3)
	if len(a) != 178 {
		t.Fatalf("predict wrote %d rows, want 178", len(a))
	}
	r = mustRun(t, dir, "export", "--model", "p.json", "--out", "p.safetensors", "--json")
	if !strings.Contains(r.stdout, "folded") {
		t.Errorf("export does not say the standardisation was folded: %s", r.stdout)
	}
	mustRun(t, dir, "import", "--from", "p.safetensors", "--arch", "13-8-3", "--act", "sigmoid", "--loss", "ce", "--classes", "1,2,3", "--quiet", "--out", "raw.json")
	mustRun(t, dir, "predict", "--model", "raw.json", "--data", wineCSV, "--target", "class", "--quiet", "--out", "raw.csv")
	// Folding changes the order of the arithmetic only.
	const tolFold = 1e-9
	if d := maxAbsDiff(t, readFloatCSV(t, filepath.Join(dir, "raw.csv"), true, 1, 3), a); !(d <= tolFold) {
		t.Errorf("folded export differs from the standardised model by %g", d)
	}
	// --no-fold stores the statistics, and import reads them back.
	mustRun(t, dir, "export", "--model", "p.json", "--no-fold", "--quiet", "--out", "nf.npz")
	mustRun(t, dir, "import", "--from", "nf.npz", "--arch", "13-8-3", "--act", "sigmoid", "--loss", "ce", "--classes", "1,2,3", "--quiet", "--out", "nf.json")
	mustRun(t, dir, "predict", "--model", "nf.json", "--data", wineCSV, "--target", "class", "--quiet", "--out", "nf.csv")
	if d := maxAbsDiff(t, readFloatCSV(t, filepath.Join(dir, "nf.csv"), true, 1, 3), a); d != 0 {
		t.Errorf("--no-fold export -> import differs by %g", d)
	}
}

// Regression: eval reports RMSE and R^2, checked against a direct
// computation from obs predict's outputs.
func TestEvalRegression(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	sb.WriteString("x,y\n")
	for i := range 20 {
		x := float64(i) / 10
		sb.WriteString(strconv.FormatFloat(x, 'g', -1, 64) + "," + strconv.FormatFloat(math.Sin(3*x), 'g', -1, 64) + "\n")
	}
	os.WriteFile(filepath.Join(dir, "r.csv"), []byte(sb.String()), 0o644)
	mustRun(t, dir, "train", "--data", "r.csv", "--arch", "1-3-1", "--out-act", "identity", "--max-iter", "200", "--quiet", "--out", "r.json")
	var ev struct {
		RMSE *float64 `json:"rmse"`
		R2   *float64 `json:"r2"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", "r.json", "--json").stdout), &ev)
	mustRun(t, dir, "predict", "--model", "r.json", "--quiet", "--out", "p.csv")
	y := readFloatCSV(t, filepath.Join(dir, "p.csv"), true, 1, 1)
	var sq, mean, tot float64
	for i := range 20 {
		mean += math.Sin(3*float64(i)/10) / 20
	}
	for i := range 20 {
		tgt := math.Sin(3 * float64(i) / 10)
		sq += (y[i][0] - tgt) * (y[i][0] - tgt)
		tot += (tgt - mean) * (tgt - mean)
	}
	const tol = 1e-12 // the same sums in a different order
	if ev.RMSE == nil || ev.R2 == nil || math.Abs(*ev.RMSE-math.Sqrt(sq/20)) > tol || math.Abs(*ev.R2-(1-sq/tot)) > tol {
		t.Errorf("rmse %v r2 %v, want %g %g", ev.RMSE, ev.R2, math.Sqrt(sq/20), 1-sq/tot)
	}
}

// writeWeights writes a weight file with datasets.WriteWeights.
func writeWeights(name string, ts ...datasets.Tensor) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		format, _ := datasets.WeightFormat(name)
		if err := datasets.WriteWeights(filepath.Join(dir, name), format, ts, false, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// layer returns the tensors of a 2-2-1... linear layer named prefix.
func layer(prefix string, out, in int, v float64) []datasets.Tensor {
	w := make([]float64, out*in)
	b := make([]float64, out)
	for i := range w {
		w[i] = v
	}
	return []datasets.Tensor{{Name: prefix + ".weight", Shape: []int{out, in}, Data: w}, {Name: prefix + ".bias", Shape: []int{out}, Data: b}}
}

func net221(extra ...datasets.Tensor) []datasets.Tensor {
	return append(append(layer("0", 2, 2, 0.5), layer("2", 1, 2, -1)...), extra...)
}

func TestDataBadInputs(t *testing.T) {
	oneClass := writeFile("one.csv", "a,b,class\n1,2,x\n3,4,x\n")
	labels012 := writeFile("l.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,2\n")
	good := writeFile("good.csv", "a,b,y\n1,2,a\n3,4,b\n5,6,a\n7,8,b\n")
	imp := func(file string, extra ...string) []string {
		return append([]string{"import", "--from", file, "--arch", "2-2-1", "--act", "tanh", "--loss", "bce", "--out", "m.json"}, extra...)
	}
	nan := layer("2", 1, 2, math.NaN())
	badMask := []datasets.Tensor{{Name: "0.weight_mask", Shape: []int{2, 2}, Data: []float64{1, 0.5, 1, 1}}}
	cases := []badInput{
		// Weight files.
		{"unknown tensor name", writeWeights("w.npz", net221(datasets.Tensor{Name: "extra.running_mean", Shape: []int{2}, Data: []float64{0, 0}})...), imp("w.npz"), 1, "extra.running_mean"},
		{"shape mismatch", writeWeights("w.safetensors", net221()...), []string{"import", "--from", "w.safetensors", "--arch", "2-3-1", "--act", "tanh", "--loss", "bce", "--out", "m.json"}, 1, "shape"},
		{"layer count mismatch", writeWeights("w.safetensors", net221()...), []string{"import", "--from", "w.safetensors", "--arch", "2-2-2-1", "--act", "tanh", "--loss", "bce", "--out", "m.json"}, 1, "layers"},
		{"NaN weight", writeWeights("w.safetensors", append(layer("0", 2, 2, 1), nan...)...), imp("w.safetensors"), 1, "NaN"},
		{"missing bias", writeWeights("w.npz", net221()[:3]...), imp("w.npz"), 1, "2.bias"},
		{"mask not 0/1", writeWeights("w.npz", net221(badMask...)...), imp("w.npz"), 1, "0 or 1"},
		{"weight file not npz", writeFile("w.npz", "not a zip"), imp("w.npz"), 1, "npz"},
		{"weight file truncated", writeFile("w.safetensors", "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\""), imp("w.safetensors"), 1, "safetensors"},
		{"weight file extension", nil, imp("w.pt"), 2, ".npz or .safetensors"},
		{"export format", xorTrained, []string{"export", "--model", "xor.json", "--format", "onnx", "--out", "x.onnx"}, 2, "onnx"},
		{"export dtype", xorTrained, []string{"export", "--model", "xor.json", "--dtype", "float16", "--out", "x.npz"}, 2, "float16"},
		// Labels and targets.
		{"label column with one class", oneClass, []string{"train", "--data", "one.csv", "--target", "class", "--loss", "ce", "--out", "o.json"}, 1, "one class"},
		{"labels 0/1/2 with bce", labels012, []string{"train", "--data", "l.csv", "--loss", "bce", "--out", "o.json"}, 1, "--loss ce"},
		{"labels 0/1/2 with sigmoid mse", labels012, []string{"train", "--data", "l.csv", "--out", "o.json"}, 2, "--loss ce"},
		{"text labels with mse", good, []string{"train", "--data", "good.csv", "--out", "o.json"}, 1, "--loss ce"},
		// Split and test sets.
		{"split negative", good, []string{"train", "--data", "good.csv", "--loss", "bce", "--split", "-0.2", "--out", "o.json"}, 2, "split"},
		{"split-seed without a split", good, []string{"train", "--data", "good.csv", "--loss", "bce", "--split-seed", "3", "--out", "o.json"}, 2, "split-seed"},
		{"split 1", good, []string{"train", "--data", "good.csv", "--loss", "bce", "--split", "1", "--out", "o.json"}, 2, "split"},
		{"split too small", good, []string{"train", "--data", "good.csv", "--loss", "bce", "--split", "0.01", "--out", "o.json"}, 1, "split"},
		{"split and test", good, []string{"train", "--data", "good.csv", "--loss", "bce", "--split", "0.5", "--test", "good.csv", "--out", "o.json"}, 2, "not both"},
		{"split of monk1", nil, []string{"train", "--data", "monk1", "--split", "0.3", "--out", "o.json"}, 2, "own test set"},
		{"test with a new class", func(t *testing.T, dir string) {
			good(t, dir)
			writeFile("t.csv", "a,b,y\n1,2,c\n")(t, dir)
		}, []string{"train", "--data", "good.csv", "--loss", "bce", "--test", "t.csv", "--out", "o.json"}, 1, `"c"`},
		{"no data recorded", xorImported, []string{"eval", "--model", "m.json"}, 2, "--data"},
		{"predict input count", func(t *testing.T, dir string) {
			xorTrained(t, dir)
			writeFile("three.csv", "a,b,c,y\n1,2,3,0\n")(t, dir)
		}, []string{"predict", "--model", "xor.json", "--data", "three.csv"}, 1, "3 input columns"},
	}
	runBadInputs(t, cases)
}

// xorImported writes m.json, a model without recorded data.
func xorImported(t *testing.T, dir string) {
	writeWeights("w.npz", net221()...)(t, dir)
	if r := obs(t, dir, "import", "--from", "w.npz", "--arch", "2-2-1", "--act", "tanh", "--loss", "bce", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
}

// --test FILE: the test file's labels are encoded in the training file's
// class order, the model records the file, and eval finds it again.
func TestTestFileRecorded(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tr.csv"), []byte("x,c\n0,lo\n0.1,lo\n0.9,hi\n1,hi\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "te.csv"), []byte("x,c\n0.95,hi\n0.05,lo\n0.8,hi\n"), 0o644)
	var tr struct {
		TestPatterns int      `json:"test_patterns"`
		Classes      []string `json:"classes"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "train", "--data", "tr.csv", "--test", "te.csv", "--loss", "ce", "--arch", "1-2-2", "--decay", "1e-3", "--json", "--out", "m.json").stdout), &tr)
	if tr.TestPatterns != 3 || strings.Join(tr.Classes, ",") != "hi,lo" {
		t.Errorf("train: %d test patterns, classes %v", tr.TestPatterns, tr.Classes)
	}
	var ev struct {
		TestAccuracy *float64            `json:"test_accuracy"`
		PerClass     []datasets.ClassRow `json:"per_class"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", "m.json", "--json").stdout), &ev)
	if ev.TestAccuracy == nil || *ev.TestAccuracy != 1 || len(ev.PerClass) != 2 || ev.PerClass[0].Class != "hi" || ev.PerClass[0].Support != 2 {
		t.Errorf("eval with the recorded test file: %+v", ev)
	}
}
