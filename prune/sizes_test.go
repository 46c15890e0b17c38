package prune

import (
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// The size figures count the hidden units and the multiply–adds of a
// 4-3-2-1 network by hand: 4·3 + 3·2 + 2·1 = 20 dense, less the pruned.
func TestSizeFiguresOf(t *testing.T) {
	net, err := model.New(model.Spec{Sizes: []int{4, 3, 2, 1}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	net.Pruned[net.Index(1, 0, 0)] = true
	net.Pruned[net.Index(3, 0, 1)] = true
	got := SizeFiguresOf(net)
	want := SizeFigures{Arch: "4-3-2-1", HiddenUnits: 5, MultiplyAdds: 20, NonzeroMultiplyAdds: 18}
	if got != want {
		t.Errorf("SizeFiguresOf = %+v, want %+v", got, want)
	}
	if us := InferenceTime(net, [][]float64{{1, 2, 3, 4}}, [][]float64{{0}}); !(us > 0) {
		t.Errorf("InferenceTime = %v µs, want > 0", us)
	}
}
