package datasets

import (
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// PrepareSets splits as Set.Split does with the same seed, standardises
// both sets, and refuses a standardisation of another width.
func TestPrepareSets(t *testing.T) {
	s := &Set{Name: "s", InputNames: []string{"a"}, TargetNames: []string{"y"}}
	for p := range 10 {
		s.Inputs = append(s.Inputs, []float64{float64(p)})
		s.Targets = append(s.Targets, []float64{float64(p % 2)})
	}
	std := &model.Standardization{Mean: []float64{1}, Std: []float64{2}}
	tr, te, err := PrepareSets(s, nil, "", CSVOptions{}, 0.3, 7, std)
	if err != nil {
		t.Fatal(err)
	}
	wtr, wte, err := s.Split(0.3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != wtr.Len() || te.Len() != wte.Len() {
		t.Fatalf("sizes %d, %d; want %d, %d", tr.Len(), te.Len(), wtr.Len(), wte.Len())
	}
	for p := range te.Inputs {
		if got, want := te.Inputs[p][0], (wte.Inputs[p][0]-1)/2; got != want {
			t.Errorf("test pattern %d: %v, want %v", p, got, want)
		}
	}
	if _, _, err := PrepareSets(s, nil, "", CSVOptions{}, 0, 0, &model.Standardization{Mean: []float64{0, 0}, Std: []float64{1, 1}}); err == nil {
		t.Error("a standardisation of 2 inputs for 1 accepted")
	}
}
