package datasets

import (
	"slices"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// CheckTargets refuses targets the output cannot reach and rows that are
// not class probabilities for ce, and accepts the rest.
func TestCheckTargets(t *testing.T) {
	set := func(rows ...[]float64) *Set {
		names := []string{"a", "b"}[:len(rows[0])]
		return &Set{Name: "s", Targets: rows, TargetNames: names}
	}
	for _, tc := range []struct {
		spec model.Spec
		s    *Set
		want string // "" for no error
	}{
		{model.Spec{Output: model.Sigmoid, Loss: model.SquaredError}, set([]float64{0.5}), ""},
		{model.Spec{Output: model.Sigmoid, Loss: model.SquaredError}, set([]float64{2}), "outside [0, 1]"},
		{model.Spec{Output: model.Tanh, Loss: model.SquaredError}, set([]float64{-1.5}), "outside [-1, 1]"},
		{model.Spec{Output: model.Softmax, Loss: model.CrossEntropy}, set([]float64{0.3, 0.7}), ""},
		{model.Spec{Output: model.Softmax, Loss: model.CrossEntropy}, set([]float64{0.3, 0.6}), "not class probabilities"},
		{model.Spec{Output: model.Softmax, Loss: model.CrossEntropy}, set([]float64{1}), "one output per class"},
	} {
		err := CheckTargets(tc.spec, tc.s)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v %v: got %v, want %q", tc.spec.Output, tc.s.Targets, err, tc.want)
		}
	}
	if got := DefaultArch("monk2", nil); !slices.Equal(got, []int{17, 2, 1}) {
		t.Errorf("DefaultArch(monk2) = %v", got)
	}
}
