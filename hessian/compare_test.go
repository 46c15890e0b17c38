package hessian

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

func TestRelFrobeniusAndBestScale(t *testing.T) {
	a := mat.NewSymDense(2, []float64{1, 2, 2, 3})
	b := mat.NewSymDense(2, nil)
	b.ScaleSym(2.5, a)
	if d := RelFrobenius(a, a); d != 0 {
		t.Errorf("RelFrobenius(A, A) = %v", d)
	}
	// ||A - 2.5A|| / ||2.5A|| = 1.5/2.5.
	if d := RelFrobenius(a, b); math.Abs(d-0.6) > 1e-15 {
		t.Errorf("RelFrobenius(A, 2.5A) = %v, want 0.6", d)
	}
	if c, d := BestScale(a, b); math.Abs(c-2.5) > 1e-15 || d > 1e-7 {
		t.Errorf("BestScale(A, 2.5A) = %v, %v; want 2.5, 0", c, d)
	}
	// B = A + E with E orthogonal to A in the Frobenius inner product:
	// c* = 1 and the distance after scaling is ||E|| / ||B||.
	e := mat.NewSymDense(2, []float64{1, 0, 0, -1.0 / 3}) // <A,E> = 1 - 1 = 0
	var sum mat.SymDense
	sum.AddSym(a, e)
	c, d := BestScale(a, &sum)
	ne := math.Sqrt(1 + 1.0/9)
	nb := mat.Norm(&sum, 2) // Frobenius for a matrix
	if math.Abs(c-1) > 1e-14 || math.Abs(d-ne/nb) > 1e-14 {
		t.Errorf("BestScale(A, A+E) = %v, %v; want 1, %v", c, d, ne/nb)
	}
	zero := mat.NewSymDense(2, nil)
	if c, d := BestScale(zero, a); c != 0 || d != 1 {
		t.Errorf("BestScale(0, A) = %v, %v; want 0, 1", c, d)
	}
	if d := RelFrobenius(a, zero); !math.IsInf(d, 1) {
		t.Errorf("RelFrobenius(A, 0) = %v, want +Inf", d)
	}
}

func TestTopEigen(t *testing.T) {
	lambda := []float64{-4, 1, 3, 7}
	q := randomOrthogonal(4, 9)
	a := withEigen(q, lambda)
	vals, vecs := TopEigen(a, 2)
	if len(vals) != 2 || math.Abs(vals[0]-7) > 1e-13 || math.Abs(vals[1]-3) > 1e-13 {
		t.Fatalf("TopEigen values %v, want [7 3]", vals)
	}
	for j, k := range []int{3, 2} {
		// Eigenvectors up to sign: |cos| = 1.
		cos := math.Abs(floats.Dot(mat.Col(nil, j, vecs), mat.Col(nil, k, q)))
		if math.Abs(cos-1) > 1e-12 {
			t.Errorf("eigenvector %d: |cos| with the true one = %v", j, cos)
		}
	}
	if vals, _ := TopEigen(a, 10); len(vals) != 4 || vals[3] > -3.999 {
		t.Errorf("TopEigen(a, 10) = %v, want all 4 in decreasing order", vals)
	}
}

func TestOBSSaliencies(t *testing.T) {
	inv := mat.NewSymDense(3, []float64{2, 1, 0, 1, 4, 0, 0, 0, 0.5})
	w := []float64{1, -2, 3}
	got := make([]float64, 3)
	OBSSaliencies(got, w, inv)
	want := []float64{1.0 / 4, 4.0 / 8, 9.0 / 1}
	if !floats.EqualApprox(got, want, 1e-15) {
		t.Errorf("saliencies %v, want %v", got, want)
	}
}

func TestMeanSquaredResidual(t *testing.T) {
	m, err := model.New(model.Spec{Sizes: []int{1, 2}, Hidden: model.Identity, Output: model.Identity, Loss: model.SquaredError})
	if err != nil {
		t.Fatal(err)
	}
	// f(x) = (x, 2x) with zero biases.
	m.Params[m.Index(1, 0, 0)] = 1
	m.Params[m.Index(1, 1, 0)] = 2
	X := [][]float64{{1}, {2}}
	T := [][]float64{{0, 0}, {2, 5}}
	// Residuals (1, 2) and (0, -1): (1 + 4 + 0 + 1) / 4.
	if got := MeanSquaredResidual(m, X, T); math.Abs(got-1.5) > 1e-15 {
		t.Errorf("MeanSquaredResidual = %v, want 1.5", got)
	}
}
