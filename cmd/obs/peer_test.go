package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// lobsDir holds the fixtures of scripts/peer_lobs.py: L-OBS's released
// LeNet-300-100 (Dong, Chen & Pan 2017; github.com/csyhhu/L-OBS at commit
// 5647091, MIT licence) converted for obs import, their own pruned network
// at their validate script's setting (fc1, fc2, fc3 keeping 5%, 20%, 70%),
// and what PyTorch computes on them.
var lobsDir, _ = filepath.Abs("testdata/lobs")

// tolLOBS: obs and PyTorch both compute in float64 on the same float32
// weights and the same standardised pixels; only summation order differs
// (~1e-14 on probabilities); a wrong input scaling or layer moves them by
// more than 1e-3.
const tolLOBS = 1e-9

// The peer's checkpoint imported by name gives PyTorch's test accuracy
// (float32 as their validate script computes it, and float64) and its
// output probabilities on the first test images, from obs's embedded MNIST
// standardised by the input_mean/input_std the script stores (their
// Normalize(0.1307, 0.3081) on pixel/255); their pruned network imports
// with its masks (biases pruned too, as L-OBS does) and gives PyTorch's
// accuracy.
func TestPeerLOBSCheckpoint(t *testing.T) {
	var ref struct {
		Dense struct {
			Acc32  float64     `json:"accuracy_float32"`
			Acc64  float64     `json:"accuracy_float64"`
			Logits [][]float64 `json:"logits_float64"`
		} `json:"dense"`
		Pruned map[string]struct {
			Acc32     float64 `json:"accuracy_float32"`
			Acc64     float64 `json:"accuracy_float64"`
			Kept      int     `json:"kept_weights"`
			LayerKept map[string]struct {
				Weights int `json:"weights"`
				Biases  int `json:"biases"`
			} `json:"layer_kept"`
		} `json:"pruned"`
	}
	b, err := os.ReadFile(filepath.Join(lobsDir, "peer_lobs.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	_, test, err := datasets.MNIST()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	load := func(from string) (*model.MLP, *datasets.Set) {
		t.Helper()
		mustRun(t, dir, "import", "--from", filepath.Join(lobsDir, from), "--names", "fc1,fc2,fc3", "--arch", "784-300-100-10",
			"--act", "relu", "--loss", "ce", "--quiet", "--out", "m.json")
		m, f, err := model.Load(filepath.Join(dir, "m.json"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Standardize == nil || f.Standardize.Mean[0] != 0.1307 || f.Standardize.Std[783] != 0.3081 {
			t.Fatalf("%s: standardisation %v, want their Normalize(0.1307, 0.3081)", from, f.Standardize != nil)
		}
		return m, test.Standardized(f.Standardize.Mean, f.Standardize.Std)
	}

	m, ts := load("lenet300100.npz")
	acc := *datasets.Evaluate(m, ts.Inputs, ts.Targets).Accuracy
	if acc != ref.Dense.Acc32 || acc != ref.Dense.Acc64 {
		t.Errorf("dense: obs test accuracy %v, PyTorch %v (float32), %v (float64)", acc, ref.Dense.Acc32, ref.Dense.Acc64)
	}
	ws := m.NewWorkspace()
	if len(ref.Dense.Logits) == 0 {
		t.Fatal("no PyTorch logits in peer_lobs.json")
	}
	for p, z := range ref.Dense.Logits {
		got := m.Forward(ws, ts.Inputs[p])
		mx := math.Inf(-1)
		for _, v := range z {
			mx = math.Max(mx, v)
		}
		sum := 0.0
		for _, v := range z {
			sum += math.Exp(v - mx)
		}
		for k, v := range z {
			if want := math.Exp(v-mx) / sum; !(math.Abs(got[k]-want) <= tolLOBS) {
				t.Errorf("test image %d class %d: obs probability %v, PyTorch %v", p, k, got[k], want)
			}
		}
	}

	r, ok := ref.Pruned["5-20-70"]
	if !ok {
		t.Fatal("no 5-20-70 entry in peer_lobs.json")
	}
	m, ts = load("lobs-cr-5-20-70.npz")
	for l, name := range []string{"fc1", "fc2", "fc3"} {
		rows, din, _ := m.LayerShape(l + 1)
		w, bias := 0, 0
		for j := range rows {
			for i := range din + 1 {
				if m.Pruned[m.Index(l+1, j, i)] {
					continue
				}
				if i == din {
					bias++
				} else {
					w++
				}
			}
		}
		if k := r.LayerKept[name]; w != k.Weights || bias != k.Biases {
			t.Errorf("%s: obs keeps %d weights and %d biases, their masks %d and %d", name, w, bias, k.Weights, k.Biases)
		}
	}
	acc = *datasets.Evaluate(m, ts.Inputs, ts.Targets).Accuracy
	if acc != r.Acc32 || acc != r.Acc64 {
		t.Errorf("their CR 5-20-70: obs test accuracy %v, PyTorch %v (float32), %v (float64)", acc, r.Acc32, r.Acc64)
	}
}

// --layer-sparsity gives each layer of layer-wise OBS its own target,
// named by the layer names the model file records (obs import --names)
// or, where it records none, by 1, 2, ...; everything else is refused as a
// usage error naming the problem.
func TestLayerSparsityFlag(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(torchDir, "data.csv")
	mustRun(t, dir, "import", "--from", filepath.Join(torchDir, "model64.npz"), "--arch", "4-6-3", "--act", "tanh", "--loss", "ce",
		"--names", "0,2", "--classes", "a,b,c", "--quiet", "--out", "named.json")
	lw := []string{"prune", "--data", data, "--target", "class", "--method", "obs", "--structure", "layer", "--curvature", "layer-input", "--quiet"}
	run := func(modelFile string, args ...string) result {
		return obs(t, dir, append(append(append([]string{}, lw...), "--model", modelFile, "--out", "p.json"), args...)...)
	}
	var s struct {
		Targets  []float64 `json:"layer_targets"`
		Sparsity []float64 `json:"layer_sparsity"`
	}
	r := run("named.json", "--layer-sparsity", "2=0.5,0=0.75", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatal(err)
	}
	// layer 0: 18 of 24 weights; layer 2: 9 of 18.
	if len(s.Targets) != 2 || s.Targets[0] != 0.75 || s.Targets[1] != 0.5 || len(s.Sparsity) != 2 || s.Sparsity[0] != 0.75 || s.Sparsity[1] != 0.5 {
		t.Errorf("targets %v, layer sparsity %v; want [0.75 0.5] for both", s.Targets, s.Sparsity)
	}
	// A model file with no layer names: the layers are 1 and 2.
	var raw map[string]any
	b, err := os.ReadFile(filepath.Join(torchDir, "pruned.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "layer_names")
	if b, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	pruned := filepath.Join(dir, "unnamed.json")
	if err := os.WriteFile(pruned, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(pruned, "--layer-sparsity", "2=0.5,1=0.75"); r.code != 0 {
		t.Errorf("--layer-sparsity 2=0.5,1=0.75 on a model without layer names: exit %d: %s", r.code, r.stderr)
	}
	for _, tc := range []struct {
		model string
		args  []string
		want  string
	}{
		{"named.json", []string{"--layer-sparsity", "0=0.5,fc2=0.5"}, `no layer "fc2" (its layers: 0, 2)`},
		{"named.json", []string{"--layer-sparsity", "0=0.5"}, "no target for layer 2"},
		{"named.json", []string{"--layer-sparsity", "0=0.5,2=0.1,0=0.2"}, `layer "0" given twice`},
		{"named.json", []string{"--layer-sparsity", "0=1,2=0.5"}, `layer "0": "1" must be a number in [0, 1)`},
		{"named.json", []string{"--layer-sparsity", "0=-0.1,2=0.5"}, `"-0.1" must be a number in [0, 1)`},
		{"named.json", []string{"--layer-sparsity", "0=NaN,2=0.5"}, `"NaN" must be a number in [0, 1)`},
		{"named.json", []string{"--layer-sparsity", "0:0.5,2=0.5"}, `item "0:0.5": want NAME=F`},
		{pruned, []string{"--layer-sparsity", "0=0.5,2=0.5"}, `no layer "0" (its layers: 1, 2)`},
		{"named.json", []string{"--layer-sparsity", "0=0.5,2=0.5", "--sparsity", "0.5"}, "not both"},
		{"named.json", []string{"--layer-sparsity", "0=0.5,2=0.5", "--allocation", "global"}, "--allocation does not apply to --layer-sparsity"},
		{"named.json", []string{"--layer-sparsity", "0=0.5,2=0.5", "--sparsity", "0.5", "--granularity", "unit:outgoing"}, "--layer-sparsity does not apply to layer-wise unit OBS"},
	} {
		if err := os.Remove(filepath.Join(dir, "p.json")); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		r := run(tc.model, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
			t.Errorf("%v: refused but wrote p.json", tc.args)
		}
	}
	// Any other curvature or method refuses it.
	for _, args := range [][]string{
		{"--method", "obs", "--curvature", "ggn", "--sparsity", "0.5"},
		{"--method", "magnitude", "--sparsity", "0.5"},
	} {
		r := obs(t, dir, append([]string{"prune", "--model", "named.json", "--data", data, "--target", "class", "--out", "q.json",
			"--layer-sparsity", "0=0.5,2=0.5"}, args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, "--layer-sparsity applies only to --curvature layer-input") {
			t.Errorf("%v: exit %d, stderr %q; want a usage error", args, r.code, r.stderr)
		}
	}
}
