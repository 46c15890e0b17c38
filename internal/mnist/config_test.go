package mnist

import (
	"reflect"
	"testing"

	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// The quick check differs from the protocol only in the documented fields:
// the network, the image counts, the batch, the seeds, the epochs and the
// calibration patterns.
func TestDefaultConfig(t *testing.T) {
	full, quick := DefaultConfig(false), DefaultConfig(true)
	want := Config{Arch: "784-300-100-10", Hidden: "relu", Seeds: 3, Epochs: 15, Batch: model.DefaultBatchSize,
		LearningRate: model.DefaultAdamRate, LRDecay: 0.8, FTEpochs: 1, FTRate: 5e-4, Calib: 1000, Damp: prune.DefaultLayerDamp,
		Alpha: Alpha, MCSamples: 1}
	if !reflect.DeepEqual(full, want) {
		t.Errorf("DefaultConfig(false) = %+v\nwant %+v", full, want)
	}
	want.Arch, want.Train, want.Test, want.Batch, want.Seeds, want.Epochs, want.Calib, want.Quick = "784-16-8-10", 2000, 1000, 32, 1, 5, 200, true
	if !reflect.DeepEqual(quick, want) {
		t.Errorf("DefaultConfig(true) = %+v\nwant %+v", quick, want)
	}
}

// ParseSparsities reads ascending fractions in (0, 1) and refuses anything
// else, naming the flag and the list.
func TestParseSparsities(t *testing.T) {
	got, err := ParseSparsities("sparsities", "0.5, 0.9,0.95")
	if err != nil || !reflect.DeepEqual(got, []float64{0.5, 0.9, 0.95}) {
		t.Errorf("ParseSparsities = %v, %v", got, err)
	}
	for _, v := range []string{"0.9,0.5", "0.5,0.5", "0", "1", "0.5,", "x"} {
		if _, err := ParseSparsities("sparsities", v); err == nil || err.Error() != `--sparsities "`+v+`": want ascending fractions in (0, 1)` {
			t.Errorf("ParseSparsities(%q): %v", v, err)
		}
	}
}
