package datasets

import (
	"crypto/sha256"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// Export is ExportMLP for an MLP and ExportLayers for a layer list, whose
// standardisation is stored as input_mean and input_std, never folded.
func TestExport(t *testing.T) {
	std := &model.Standardization{Mean: []float64{1, 2}, Std: []float64{0.5, 4}}
	mlp, err := model.New(model.Spec{Sizes: []int{2, 3, 1}})
	if err != nil {
		t.Fatal(err)
	}
	for q := range mlp.Params {
		mlp.Params[q] = float64(q) / 7
	}
	for _, fold := range []bool{false, true} {
		ts, how, err := Export(mlp, nil, std, fold, true)
		wts, whow := ExportMLP(mlp, nil, std, fold, true)
		if err != nil || how != whow || !reflect.DeepEqual(ts, wts) {
			t.Errorf("MLP, fold %v: %q, %v; want ExportMLP's %q", fold, how, err, whow)
		}
	}

	ls, err := model.ParseLayers("linear:3,tanh,linear:1")
	if err != nil {
		t.Fatal(err)
	}
	net, err := model.New(model.Spec{Input: []int{2}, Layers: ls})
	if err != nil {
		t.Fatal(err)
	}
	ts, how, err := Export(net, nil, std, false, true)
	if err != nil {
		t.Fatal(err)
	}
	want := append(ExportLayers(net, nil, true), Tensor{Name: "input_mean", Shape: []int{2}, Data: std.Mean}, Tensor{Name: "input_std", Shape: []int{2}, Data: std.Std})
	if !reflect.DeepEqual(ts, want) || !strings.HasPrefix(how, "stored as input_mean and input_std") {
		t.Errorf("layers with a standardisation: %q,\n%v\nwant\n%v", how, ts, want)
	}
	if ts, how, err := Export(net, nil, nil, true, true); err != nil || how != howNone || !reflect.DeepEqual(ts, ExportLayers(net, nil, true)) {
		t.Errorf("layers without a standardisation: %q, %v", how, err)
	}
	if _, _, err := Export(net, nil, std, true, true); err == nil || !strings.Contains(err.Error(), "does not fold") {
		t.Errorf("layers, folding a standardisation: %v", err)
	}
	if _, _, err := Export(net, nil, &model.Standardization{Mean: []float64{0}, Std: []float64{1}}, false, true); err == nil {
		t.Error("a standardisation of 1 input for a network of 2: no error")
	}
}

// Imported.File records the import's provenance (path, format by the
// extension, element types, SHA-256 of the bytes read) beside the layer
// names, standardisation and classes, and the file reads back as the same
// network.
func TestImportedFile(t *testing.T) {
	const path = "../cmd/obs/testdata/torch/model64.npz"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := ParseWeights(raw, FormatNPZ, path)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := ImportMLP(model.Spec{Sizes: []int{4, 6, 3}, Hidden: model.Tanh, Loss: model.CrossEntropy}, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := imp.File("obs import", path, raw, []string{"a", "b", "c"})
	p := f.Provenance
	if p.Command != "obs import" || p.ImportedFrom != path || p.ImportFormat != "npz" || p.ImportDtype != "float64" ||
		p.ImportSHA256 != fmt.Sprintf("%x", sha256.Sum256(raw)) || len(p.ImportSHA256) != 64 {
		t.Errorf("provenance %+v", p)
	}
	if !reflect.DeepEqual(f.LayerNames, []string{"0", "2"}) || !reflect.DeepEqual(f.Classes, []string{"a", "b", "c"}) || f.Standardize != nil {
		t.Errorf("file: layers %v, classes %v, standardisation %v", f.LayerNames, f.Classes, f.Standardize)
	}
	var b strings.Builder
	if err := f.Encode(&b); err != nil {
		t.Fatal(err)
	}
	back, _, err := model.ParseFile([]byte(b.String()), "imported.json")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Params, imp.Net.Params) {
		t.Error("the file does not read back as the imported network")
	}
}
