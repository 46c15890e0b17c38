package mnist

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/internal/reproduce"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// saveNet writes a network with the given layers on 1x28x28 inputs,
// initialised from seed, to dir/name and returns the path.
func saveNet(t *testing.T, dir, name, layers string, seed uint64) string {
	t.Helper()
	ls, err := model.ParseLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(reproduce.NewRand(seed))
	path := filepath.Join(dir, name)
	if err := m.ToFile(model.Provenance{}, nil).Save(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// A small CNN runs through the reproduction as an MLP does: every method
// one-shot (K-FAC with KFC's factors for the conv layer too) and gradually,
// both allocations, each target's weight sparsity
// reached (biases not counted), and the report quotes LeNet-5's published
// figures; models of two architectures are refused.
func TestReproduceLayered(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of pruning; skipped with -short")
	}
	dir := t.TempDir()
	const layers = "conv:2:5:s=4,relu,maxpool:2,flatten,linear:10"
	cfg := DefaultConfig(false)
	cfg.Models = []string{saveNet(t, dir, "a.json", layers, 1), saveNet(t, dir, "b.json", layers, 2)}
	cfg.Seeds, cfg.Train, cfg.Test, cfg.Calib, cfg.FTPatterns = 2, 300, 200, 100, 100
	cfg.Sparsities = []float64{0.5, 0.8}
	cfg.Methods = []string{"magnitude", "obd", "lobs", "obs-ggn-b32", "obs-ef-b32", "obs-ggn-kfac", "obs-mcfisher-kfac"}
	cfg.Gradual = []string{"magnitude", "obs-ggn-b32"}
	cfg.Allocs = []prune.Allocation{prune.Global, prune.PerLayer}
	cfg.Allocations = []string{"global", "per-layer"}
	trained, err := LoadModels(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Layered || !strings.HasPrefix(cfg.Arch, "input 1x28x28, layers conv:2:5") {
		t.Fatalf("Layered %v, Arch %q", cfg.Layered, cfg.Arch)
	}
	runs, err := Reproduce(context.Background(), &cfg, trained, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Per seed: dense + (7 one-shot + 2 gradual) x 2 allocations x 2 targets.
	if want := 2 * (1 + 9*2*2); len(runs) != want {
		t.Fatalf("%d runs, want %d", len(runs), want)
	}
	for _, r := range runs {
		if r.Mode == "train" {
			continue
		}
		// 230 weights (conv 50, linear 180): rounding per layer moves
		// the sparsity by at most a weight.
		if r.Sparsity < r.Target-0.01 || r.Sparsity > r.Target+0.01 || !(r.TestAcc >= 0 && r.TestAcc <= 1) {
			t.Errorf("%+v: sparsity %v for target %v", r, r.Sparsity, r.Target)
		}
	}
	out := t.TempDir()
	if _, _, err := Write(out, cfg, runs); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "mnist-report.md"))
	if err != nil {
		t.Fatal(err)
	}
	rep := string(b)
	if !strings.Contains(rep, "## Published LeNet-5 results") || strings.Contains(rep, "LeNet-300-100") {
		t.Errorf("report of a CNN quotes the wrong published results:\n%s", rep)
	}

	if got, want := shortArch(cfg), "conv 2, linear 10"; got != want {
		t.Errorf("shortArch = %q, want %q", got, want)
	}
	if mlp := (Config{Arch: "784-300-100-10"}); shortArch(mlp) != mlp.Arch {
		t.Errorf("shortArch of an MLP = %q", shortArch(mlp))
	}

	mixed := cfg
	mixed.Models = []string{cfg.Models[0], saveNet(t, dir, "c.json", "conv:2:5:s=4,relu,flatten,linear:10", 3)}
	if _, err := LoadModels(&mixed); err == nil || !strings.Contains(err.Error(), "same architecture") {
		t.Errorf("models of two architectures: err %v", err)
	}
}

// A model that standardises its inputs or names its classes other than
// 0..9 is refused: the reproduction feeds pixel/255 and reads output k as
// digit k, so it would score such a model on the wrong inputs or labels.
func TestLoadModelsRefusesWhatItCannotApply(t *testing.T) {
	dir := t.TempDir()
	ls, err := model.ParseLayers("flatten,linear:10")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.New(model.Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	save := func(name string, edit func(*model.File)) string {
		f := m.ToFile(model.Provenance{}, nil)
		edit(f)
		path := filepath.Join(dir, name)
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		return path
	}
	mean, std := make([]float64, 784), make([]float64, 784)
	for i := range std {
		mean[i], std[i] = 0.1307, 0.3081
	}
	for _, c := range []struct {
		name string
		edit func(*model.File)
		want string
	}{
		{"standardised", func(f *model.File) { f.Standardize = &model.Standardization{Mean: mean, Std: std} }, "standardises its inputs"},
		{"classes out of order", func(f *model.File) { f.Classes = []string{"1", "0", "2", "3", "4", "5", "6", "7", "8", "9"} }, "reads output k as digit k"},
	} {
		cfg := DefaultConfig(false)
		cfg.Models = []string{save(c.name+".json", c.edit)}
		if _, err := LoadModels(&cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err %v, want one containing %q", c.name, err, c.want)
		}
	}
	cfg := DefaultConfig(false)
	cfg.Models = []string{save("digits.json", func(f *model.File) { f.Classes = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"} })}
	if _, err := LoadModels(&cfg); err != nil {
		t.Errorf("classes 0..9 in order: %v", err)
	}
}
