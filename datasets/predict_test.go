package datasets

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// The predictions of networks without hidden units, whose outputs are known
// in closed form: softmax(w x + b), sigmoid(w x + b) and w x + b.
func TestWritePredictions(t *testing.T) {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	set := &Set{Inputs: [][]float64{{1}, {-2}}, Targets: [][]float64{{0, 1}, {0, 1}}, TargetNames: []string{"y=a", "y=b"}}

	// Two softmax outputs: z = (2x, -x + 1).
	ce, err := model.New(model.Spec{Sizes: []int{1, 2}, Loss: model.CrossEntropy})
	if err != nil {
		t.Fatal(err)
	}
	ce.Params[ce.Index(1, 0, 0)], ce.Params[ce.Index(1, 1, 0)], ce.Params[ce.Index(1, 1, 1)] = 2, -1, 1
	var b strings.Builder
	right, err := WritePredictions(&b, ce, set, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	p := func(z0, z1 float64) (float64, float64) {
		e0, e1 := math.Exp(z0), math.Exp(z1)
		return e0 / (e0 + e1), e1 / (e0 + e1)
	}
	a1, b1 := p(2, 0)  // x = 1: predicted a, true b
	a2, b2 := p(-4, 3) // x = -2: predicted b, true b
	want := "row,p(a),p(b),predicted,true\n1," + g(a1) + "," + g(b1) + ",a,b\n2," + g(a2) + "," + g(b2) + ",b,b\n"
	if got := b.String(); !closeCSV(got, want) || right != 1 {
		t.Errorf("softmax: %d right,\n%s\nwant 1 right,\n%s", right, got, want)
	}

	// One sigmoid output with two classes: p of the second; no targets.
	bce, _ := model.New(model.Spec{Sizes: []int{1, 1}, Loss: model.BinaryCrossEntropy})
	bce.Params[bce.Index(1, 0, 0)] = 3
	b.Reset()
	right, err = WritePredictions(&b, bce, &Set{Inputs: set.Inputs}, []string{"no", "yes"})
	want = "row,p(yes),predicted\n1," + g(sig(3)) + ",yes\n2," + g(sig(-6)) + ",no\n"
	if got := b.String(); err != nil || !closeCSV(got, want) || right != 0 {
		t.Errorf("sigmoid: %v, %d right,\n%s\nwant\n%s", err, right, got, want)
	}

	// A regression: the outputs under the target names, out1 where the
	// set names fewer.
	reg, _ := model.New(model.Spec{Sizes: []int{1, 2}, Output: model.Identity})
	reg.Params[reg.Index(1, 0, 0)], reg.Params[reg.Index(1, 1, 1)] = 0.5, -1
	b.Reset()
	_, err = WritePredictions(&b, reg, &Set{Inputs: set.Inputs, Targets: [][]float64{{0, 0}, {0, 0}}, TargetNames: []string{"u"}}, nil)
	want = "row,u,out1\n1,0.5,-1\n2,-1,-1\n"
	if got := b.String(); err != nil || got != want {
		t.Errorf("regression: %v,\n%s\nwant\n%s", err, got, want)
	}
}

// closeCSV compares two CSV texts, numbers within 1e-15 relative (the
// network's exp and the test's may round differently in the last bit).
func closeCSV(got, want string) bool {
	g, w := strings.FieldsFunc(got, split), strings.FieldsFunc(want, split)
	if len(g) != len(w) || strings.Count(got, "\n") != strings.Count(want, "\n") {
		return false
	}
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		a, err1 := strconv.ParseFloat(g[i], 64)
		b, err2 := strconv.ParseFloat(w[i], 64)
		if err1 != nil || err2 != nil || math.Abs(a-b) > 1e-15*math.Max(math.Abs(a), math.Abs(b)) {
			return false
		}
	}
	return true
}

func split(r rune) bool { return r == ',' || r == '\n' }
