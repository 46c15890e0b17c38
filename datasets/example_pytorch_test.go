package datasets_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// Import a PyTorch classifier (Linear(4,6), Tanh, Linear(6,3) saved with
// numpy.savez from its state_dict by scripts/torch_roundtrip.py), prune
// half its weights with block OBS on a CSV file and export them with their
// masks for torch.nn.utils.prune. This is the README's "Use it from Go"
// (TestREADMESnippet keeps the two identical).
func Example_pyTorch() {
	dir := "../cmd/obs/testdata/torch/"
	tensors, err := datasets.ReadWeights(dir + "model64.npz")
	if err != nil {
		log.Fatal(err)
	}
	spec := model.Spec{Sizes: []int{4, 6, 3}, Hidden: model.Tanh, Loss: model.CrossEntropy}
	imp, err := datasets.ImportMLP(spec, tensors, nil) // nn.Sequential layers "0", "2"
	if err != nil {
		log.Fatal(err)
	}
	data, err := datasets.LoadCSVWith(dir+"data.csv", datasets.CSVOptions{
		Targets: []string{"class"}, Labels: true, Classes: []string{"a", "b", "c"}})
	if err != nil {
		log.Fatal(err)
	}
	net := imp.Net
	res, err := prune.Prune(context.Background(), net, data.Inputs, data.Targets, &prune.Plan{
		Method:     prune.OBSPruner{Structure: prune.Blocks{Size: 8}}, // GGN (the zero Curvature), damping 1e-6
		Candidates: prune.Weights(net),                                // weights only: the biases stay
		Target:     prune.Target{Sparsity: 0.5},
	})
	if err != nil {
		log.Fatal(err)
	}
	tensors, _ = datasets.ExportMLP(net, imp.Layers, nil, false, true) // with P.weight_mask, P.bias_mask
	out := filepath.Join(os.TempDir(), "pruned.npz")
	if err := datasets.WriteWeights(out, datasets.FormatNPZ, tensors, false, nil); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d -> %d parameters, accuracy %.2f -> %.2f, %d tensors written\n",
		res.Method, res.Start.Params, res.End.Params, res.Start.TrainAccuracy, res.End.TrainAccuracy, len(tensors))
	// Output: obs-ggn-block8: 51 -> 30 parameters, accuracy 1.00 -> 0.92, 8 tensors written
}
