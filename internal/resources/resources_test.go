package resources

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

func TestParseSize(t *testing.T) {
	for s, want := range map[string]float64{
		"512": 512, "512M": 512 << 20, "4G": 4 << 30, "1.5GiB": 1.5 * (1 << 30), "2GB": 2e9, " 3 k ": 3 << 10, "1TB": 1e12,
	} {
		got, err := ParseSize(s)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "G", "-1G", "0", "lots", "NaN", "Inf"} {
		if _, err := ParseSize(s); err == nil {
			t.Errorf("ParseSize(%q) accepted", s)
		}
	}
}

func TestFormat(t *testing.T) {
	for b, want := range map[float64]string{100: "100 B", 2048: "2 KiB", 1.5 * (1 << 30): "1.5 GiB", 128 << 40: "128 TiB"} {
		if got := Format(b); got != want {
			t.Errorf("Format(%v) = %q, want %q", b, got, want)
		}
	}
}

// A 4,000,001-parameter network's dense Hessian is 128 TiB: Check refuses
// it under a 1 GiB limit with one line naming the part and the way out, and
// accepts a small estimate.
func TestCheck(t *testing.T) {
	var e Estimate
	e.Square("dense Hessian", 1, 4000001)
	e.Floats("vectors", 10*4000001)
	err := Check(&e, 1<<30, "use fewer restarts")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Check = %v, want ErrTooLarge", err)
	}
	for _, want := range []string{"116 TiB", "dense Hessian", "1 GiB is available (--max-memory)", "use fewer restarts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("%q is not one line", err)
	}
	var small Estimate
	small.Floats("vectors", 1000)
	if err := Check(&small, 1<<30, ""); err != nil {
		t.Error(err)
	}
}

func TestMemAvailable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(p, []byte("MemTotal:       32000000 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n"), 0o644)
	if v, ok := memAvailable(p); !ok || v != 2048*1024 {
		t.Errorf("memAvailable = %v, %v", v, ok)
	}
	if _, ok := memAvailable(filepath.Join(t.TempDir(), "none")); ok {
		t.Error("missing file read")
	}
}

// EstimatePruneOf counts a network's K-FAC factors (sum over its layers
// of the squared input and output widths, with the inverses) beside
// EstimatePrune's items, and nothing more for another structure.
func TestEstimatePruneOf(t *testing.T) {
	net, err := model.New(model.Spec{Sizes: []int{10, 6, 3}})
	if err != nil {
		t.Fatal(err)
	}
	net.Pruned[0] = true // 86 free of 87 parameters
	blk := &prune.Config{Method: prune.OBS, Structure: prune.Blocks{Size: 8}}
	want := EstimatePrune(blk, 86, 87, 3).Total()
	if got := EstimatePruneOf(blk, net).Total(); got != want {
		t.Errorf("block: %v, want EstimatePrune's %v", got, want)
	}
	kf := &prune.Config{Method: prune.OBS, Structure: prune.KFAC{}}
	extra := EstimatePruneOf(kf, net).Total() - EstimatePrune(kf, 86, 87, 3).Total()
	if f := (prune.KFAC{}).Floats(net); f <= 0 || extra != 8*f {
		t.Errorf("K-FAC adds %v bytes, want 8 x %v floats", extra, f)
	}
}
