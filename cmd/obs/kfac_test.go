package main

import (
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/internal/mnist"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// --structure kfac: a one-shot run in groups reaches its sparsity and
// names its structure; with a kind other than ggn or mcfisher, or a bad
// E, it is a usage error (exit 2) naming the allowed ones.
func TestPruneKFAC(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	for _, st := range []string{"kfac", "kfac:3"} {
		r := obs(t, dir, "prune", "--model", "xor.json", "--data", "xor", "--structure", st, "--curvature", "mcfisher", "--alpha", "1e-4",
			"--sparsity", "0.5", "--group", "2", "--one-shot", "--out", "p.json", "--json", "--quiet")
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", st, r.code, r.stderr)
		}
		s := decodeJSON(t, r)
		if s["structure"] != st || s["curvature"] != "mcfisher" || s["params_after"].(float64) != 5 {
			t.Errorf("%s: summary %v", st, s)
		}
	}
	for _, args := range [][]string{
		{"--structure", "kfac", "--curvature", "ef", "--sparsity", "0.5"},
		{"--structure", "kfac", "--curvature", "exact", "--sparsity", "0.5"},
		{"--structure", "kfac:-2", "--sparsity", "0.5"},
	} {
		r := obs(t, dir, append([]string{"prune", "--model", "xor.json", "--data", "xor", "--out", "q.json"}, args...)...)
		if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if args[3] == "ef" && !strings.Contains(r.stderr, "ggn or mcfisher") {
			t.Errorf("%v: stderr %q does not name the allowed kinds", args, r.stderr)
		}
	}
	// compare's default methods include obs-ef and obs-exact.
	r := obs(t, dir, "compare", "--model", "xor.json", "--data", "xor", "--structure", "kfac", "--out-dir", "cmp")
	if r.code != 2 || !strings.Contains(r.stderr, "obs-ggn and obs-mcfisher") {
		t.Errorf("compare --structure kfac: exit %d, stderr %q", r.code, r.stderr)
	}
}

// The K-FAC estimate for LeNet-300-100 is its factors, the sum of the
// squared layer widths (a few MB), where block:128 needs 2 n 128 floats;
// without the factors both estimates are the same per-parameter vectors.
func TestKFACEstimate(t *testing.T) {
	sizes := []int{784, 300, 100, 10}
	n := resources.NumParams(sizes)
	net, err := model.New(model.Spec{Sizes: sizes, Hidden: model.ReLU, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	kf := prune.Config{Method: prune.OBS, Structure: prune.KFAC{}}
	e := resources.EstimatePrune(&kf, n, n, 10)
	base := e.Total()
	resources.AddKFAC(e, &kf, net)
	want := 0.0
	for l := 1; l < len(sizes); l++ {
		na, ng := float64(sizes[l-1]+1), float64(sizes[l])
		want += 5*(na*na+ng*ng) + 256*(na+ng)
	}
	if got := e.Total() - base; got != 8*want {
		t.Errorf("K-FAC adds %g bytes, want %g", got, 8*want)
	}
	// LeNet-5 (6-16-120-84): conv1's factors are 26^2 and 6^2, its
	// patches 784 x 25 per pattern; the whole estimate is 12 MB, where
	// block:128 needs 2 x 61,706 x 128 floats (126 MB).
	ls, err := model.ParseLayers("conv:6:5:p=2,relu,maxpool:2,conv:16:5,relu,maxpool:2,flatten,linear:120,relu,linear:84,relu,linear:10")
	if err != nil {
		t.Fatal(err)
	}
	lenet, err := model.New(model.Spec{Input: []int{1, 28, 28}, Layers: ls, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	el := &resources.Estimate{}
	resources.AddKFAC(el, &kf, lenet)
	wantL := 0.0
	for _, l := range [][3]float64{{26, 6, 784}, {151, 16, 100}, {401, 120, 0}, {121, 84, 0}, {85, 10, 0}} {
		na, ng, pos := l[0], l[1], l[2]
		wantL += 5*(na*na+ng*ng) + 256*(na+ng) + pos*(2*na+ng)
	}
	if got := el.Total(); got != 8*wantL || got > 16e6 {
		t.Errorf("LeNet-5: K-FAC adds %g bytes, want %g", got, 8*wantL)
	}
	blk := prune.Config{Method: prune.OBS, Structure: prune.Blocks{Size: 128}}
	eb := resources.EstimatePrune(&blk, n, n, 10)
	if d := eb.Total() - base; d != 8*2*n*128 {
		t.Errorf("block:128 adds %g bytes, want %g", d, 8*2*n*128)
	}
	t.Logf("LeNet-300-100: kfac %.1f MB, block:128 %.1f MB", 8*want/1e6, 8*2*n*128/1e6)
}

// reproduce mnist's method names: obs-KIND-kfac[E] for ggn and mcfisher.
func TestMNISTKFACNames(t *testing.T) {
	for name, want := range map[string]prune.Structure{
		"obs-ggn-kfac": prune.KFAC{}, "obs-mcfisher-kfac": prune.KFAC{}, "obs-ggn-kfac16": prune.KFAC{Exact: 16}, "obs-ef-b128": prune.Blocks{Size: 128},
	} {
		if _, st, ok := mnist.ParseOBS(name); !ok || st != want {
			t.Errorf("%s: %v %v", name, st, ok)
		}
	}
	for _, name := range []string{"obs-ef-kfac", "obs-exact-kfac", "obs-ggn-kfac0", "obs-ggn-kfacx", "obs-ggn-b0", "obs-ggn"} {
		if _, _, ok := mnist.ParseOBS(name); ok {
			t.Errorf("%s accepted", name)
		}
	}
	if _, err := mnist.ParseMethods("methods", "obs-ggn-kfac,obs-mcfisher-kfac"); err != nil {
		t.Error(err)
	}
}
