package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// torchCNNDir holds the fixtures of scripts/torch_cnn_import.py: a PyTorch
// CNN with BatchNorm and bias-free convolutions, its data and its outputs
// in eval mode.
var torchCNNDir, _ = filepath.Abs("testdata/torch_cnn")

// tolTorchCNN: obs (BatchNorm folded into the weights) against PyTorch
// (BatchNorm applied after each layer), float64 on both sides; the fold
// reorders a few roundings per unit.
const tolTorchCNN = 1e-9

// obs import of the PyTorch CNN (the layers in the order of --layers, each
// BatchNorm folded into the layer before it, num_batches_tracked
// accepted) gives PyTorch's loss, accuracy and probabilities from both
// formats; export writes the folded network as an nn.Sequential state_dict
// with masks after pruning; a tensor that does not fit is named.
func TestTorchCNNImport(t *testing.T) {
	var ref struct {
		Layers   string  `json:"layers"`
		Loss     float64 `json:"loss"`
		Accuracy float64 `json:"accuracy"`
	}
	b, err := os.ReadFile(filepath.Join(torchCNNDir, "torch_eval.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data := filepath.Join(torchCNNDir, "data.csv")
	want := readFloatCSV(t, filepath.Join(torchCNNDir, "torch_probs.csv"), false, 0, 3)
	for _, ext := range []string{"npz", "safetensors"} {
		mustRun(t, dir, "import", "--from", filepath.Join(torchCNNDir, "model."+ext), "--input", "1x8x8", "--layers", ref.Layers,
			"--loss", "ce", "--classes", "c0,c1,c2", "--quiet", "--out", "m.json")
		var ev struct {
			Error    float64 `json:"error"`
			Accuracy float64 `json:"accuracy"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, dir, "eval", "--model", "m.json", "--data", data, "--target", "class", "--json", "--quiet").stdout), &ev); err != nil {
			t.Fatal(err)
		}
		if math.Abs(ev.Error-ref.Loss) > tolTorchCNN*ref.Loss || ev.Accuracy != ref.Accuracy {
			t.Errorf(".%s: obs eval E %.17g, accuracy %v; PyTorch %.17g, %v", ext, ev.Error, ev.Accuracy, ref.Loss, ref.Accuracy)
		}
		mustRun(t, dir, "predict", "--model", "m.json", "--data", data, "--target", "class", "--quiet", "--out", "p.csv")
		got := readFloatCSV(t, filepath.Join(dir, "p.csv"), true, 1, 3)
		if d := maxAbsDiff(t, got, want); !(d <= tolTorchCNN) {
			t.Errorf(".%s: probabilities differ from PyTorch's by %g", ext, d)
		}
	}

	// --names maps the prefixes explicitly: the defaults spelt out read the
	// same network; swapped, the first tensor that does not fit is named.
	mustRun(t, dir, "import", "--from", filepath.Join(torchCNNDir, "model.npz"), "--input", "1x8x8", "--layers", ref.Layers,
		"--names", "0,1,4,5,8,9,11", "--loss", "ce", "--classes", "c0,c1,c2", "--quiet", "--out", "n.json")
	params := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		_, after, _ := strings.Cut(string(b), `"params"`)
		p, _, _ := strings.Cut(after, "]")
		return p
	}
	if params("m.json") != params("n.json") {
		t.Error("--names with the default prefixes reads other parameters")
	}
	if r := obs(t, dir, "import", "--from", filepath.Join(torchCNNDir, "model.npz"), "--input", "1x8x8", "--layers", ref.Layers,
		"--names", "4,5,0,1,8,9,11", "--loss", "ce", "--out", "x.json"); r.code == 0 || !strings.Contains(r.stderr, `tensor "4.weight" has shape [6 4 3 3] but layer 1`) {
		t.Errorf("import with swapped --names: exit %d, %q", r.code, r.stderr)
	}

	// Pruned and exported: the folded network's tensors under its
	// nn.Sequential numbers, with masks.
	mustRun(t, dir, "prune", "--model", "m.json", "--data", data, "--target", "class", "--method", "magnitude", "--sparsity", "0.5", "--quiet", "--out", "p.json")
	var ex struct {
		Tensors []string `json:"tensors"`
	}
	json.Unmarshal([]byte(mustRun(t, dir, "export", "--model", "p.json", "--json", "--quiet", "--out", "p.npz").stdout), &ex)
	if got, want := strings.Join(ex.Tensors, ","), "0.weight,0.bias,0.weight_mask,0.bias_mask,3.weight,3.bias,3.weight_mask,3.bias_mask,6.weight,6.bias,6.weight_mask,6.bias_mask,8.weight,8.bias,8.weight_mask,8.bias_mask"; got != want {
		t.Errorf("export tensors %s, want %s", got, want)
	}

	// Errors name the tensor or the layer kind, on one line.
	for _, c := range []struct {
		layers, want string
	}{
		{strings.Replace(ref.Layers, "conv:6:3", "conv:5:3", 1), `tensor "4.weight" has shape [6 4 3 3] but layer 5 "conv:5:3:nobias"`},
		{strings.Replace(ref.Layers, "conv:4:3:p=1:nobias", "conv:4:3:p=1", 1), `has no tensor "0.bias"`},
		{strings.Replace(ref.Layers, ",relu,linear:3", ",dropout,linear:3", 1), "dropout is the identity in eval mode"},
		{strings.Replace(ref.Layers, "bn,relu,maxpool", "layernorm,relu,maxpool", 1), "layernorm is not supported"},
	} {
		r := obs(t, dir, "import", "--from", filepath.Join(torchCNNDir, "model.npz"), "--input", "1x8x8", "--layers", c.layers, "--loss", "ce", "--out", "x.json")
		if r.code == 0 || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("import --layers %s: exit %d, stderr %q; want one line with %q", c.layers, r.code, r.stderr, c.want)
		}
	}
}
