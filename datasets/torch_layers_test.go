package datasets

import (
	"reflect"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// A network given by its layers, exported with its standardisation
// stored as input_mean and input_std, imports back with the same weights
// and the same standardisation; a file with only one of the two tensors,
// or with the wrong length, is refused naming them.
func TestImportLayersReadsStandardization(t *testing.T) {
	ls, err := model.ParseLayers("conv:2:3:p=1,relu,maxpool:2,flatten,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	spec := model.Spec{Input: []int{1, 4, 4}, Layers: ls, Loss: model.CrossEntropy}
	net, err := model.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	for q := range net.Params {
		net.Params[q] = float64(q%11)/5 - 1
	}
	n := net.NumInputs()
	std := &model.Standardization{Mean: make([]float64, n), Std: make([]float64, n)}
	for i := range n {
		std.Mean[i], std.Std[i] = float64(i)/3, 1+float64(i)/8
	}
	ts, how, err := Export(net, nil, std, false, false)
	if err != nil || how != howStored {
		t.Fatalf("Export: %q, %v", how, err)
	}
	imp, err := ImportLayers(spec, nil, ts, "net.npz", DefaultBNEps)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(imp.Net.Params, net.Params) {
		t.Error("imported parameters differ from the exported ones")
	}
	if imp.Standardize == nil || !reflect.DeepEqual(*imp.Standardize, *std) {
		t.Errorf("standardisation %+v, want %+v", imp.Standardize, std)
	}

	plain, _, err := Export(net, nil, nil, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if imp, err := ImportLayers(spec, nil, plain, "net.npz", DefaultBNEps); err != nil || imp.Standardize != nil {
		t.Errorf("without input_mean and input_std: standardisation %+v, %v; want none", imp, err)
	}
	short := func(name string, k int) []Tensor {
		out := append([]Tensor(nil), plain...)
		for _, t := range ts {
			if t.Name == name {
				t.Shape, t.Data = []int{k}, t.Data[:k]
				out = append(out, t)
			}
		}
		return out
	}
	for name, bad := range map[string][]Tensor{
		"mean only": short("input_mean", n),
		"std only":  short("input_std", n),
		"too short": append(short("input_mean", n-1), short("input_std", n-1)[len(plain):]...),
	} {
		_, err := ImportLayers(spec, nil, bad, "net.npz", DefaultBNEps)
		if err == nil || !strings.Contains(err.Error(), "input_mean and input_std") {
			t.Errorf("%s: %v; want an error naming input_mean and input_std", name, err)
		}
	}
}
