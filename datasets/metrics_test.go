package datasets

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// line returns the network y = w x + b (one identity output, squared error).
func line(t *testing.T, w, b float64) *model.MLP {
	m, err := model.New(model.Spec{Sizes: []int{1, 1}, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	m.Params[m.Index(1, 0, 0)], m.Params[m.Index(1, 0, 1)] = w, b
	return m
}

func TestRegression(t *testing.T) {
	// y = 2x on x = 1, 2 with targets 2, 5: residuals 0, -1.
	// Independent reference by hand: RMSE = sqrt(1/2); SS_tot about the
	// mean 3.5 is 1.5^2 + 1.5^2 = 4.5, so R^2 = 1 - 1/4.5.
	X, T := [][]float64{{1}, {2}}, [][]float64{{2}, {5}}
	rmse, r2 := Regression(line(t, 2, 0), X, T)
	const tol = 1e-15 // a few roundings of numbers of order 1
	if math.Abs(rmse-math.Sqrt(0.5)) > tol || math.Abs(r2-(1-1/4.5)) > tol {
		t.Errorf("Regression = %v, %v; want %v, %v", rmse, r2, math.Sqrt(0.5), 1-1/4.5)
	}
	if IsClassification(T) || !IsClassification([][]float64{{0, 1}, {1, 0}}) {
		t.Error("IsClassification wrong")
	}
}

func TestPerClass(t *testing.T) {
	// A single output y = x read as class 1 when y >= 0.5: x = 0, 1, 1, 0
	// predicted 0, 1, 1, 0 against the classes 0, 1, 0, 0.
	X := [][]float64{{0}, {1}, {1}, {0}}
	T := [][]float64{{0}, {1}, {0}, {0}}
	rows := PerClass(line(t, 1, 0), X, T, []string{"no", "yes"})
	// Class "no": support 3, predicted 2, correct 2; "yes": 1, 2, 1.
	want := [][3]int{{3, 2, 2}, {1, 2, 1}}
	for k, r := range rows {
		if got := [3]int{r.Support, r.Predicted, r.Correct}; got != want[k] {
			t.Errorf("class %s: support, predicted, correct %v, want %v", r.Class, got, want[k])
		}
	}
	if *rows[0].Recall != 2.0/3 || *rows[1].Precision != 0.5 {
		t.Errorf("recall %v, precision %v", *rows[0].Recall, *rows[1].Precision)
	}
	if got := ClassNames(line(t, 1, 0), nil); got != nil {
		t.Errorf("ClassNames of a regression network = %q, want nil", got)
	}
	ce, _ := model.New(model.Spec{Sizes: []int{1, 3}, Loss: model.CrossEntropy})
	if got := ClassNames(ce, nil); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("ClassNames of an unnamed 3-class classifier = %q", got)
	}
}

// The per-class table as obs eval prints it.
func TestWritePerClass(t *testing.T) {
	half, one := 0.5, 1.0
	rows := []ClassRow{{Class: "a", Support: 2, Predicted: 1, Correct: 1, Recall: &half, Precision: &one}, {Class: "bb", Support: 0, Predicted: 1}}
	var b strings.Builder
	if err := WritePerClass(&b, "test", rows); err != nil {
		t.Fatal(err)
	}
	want := "\nper class on test:\n" +
		"  class         support  predicted  correct   recall  precision\n" +
		"  a                   2          1        1    50.0%     100.0%\n" +
		"  bb                  0          1        0        -          -\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}
