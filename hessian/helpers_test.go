package hessian

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/model"
)

// fakeRankOne is a RankOne given by an explicit list of terms, for problems
// larger than any test network and for crafted cases. The terms are stored
// as the rows of an M x nf matrix, so that a single term is contiguous and
// handing it out costs no more than a real curvature's streaming would.
type fakeRankOne struct {
	kind  Kind
	rows  *mat.Dense // M x nf, row m is X_m
	norm  int
	decay float64
	free  []int
}

// newFake returns the fake whose terms are the columns of terms (nf x M).
func newFake(terms *mat.Dense, norm int, decay float64) *fakeRankOne {
	var rows mat.Dense
	rows.CloneFrom(terms.T())
	_, nf := rows.Dims()
	free := make([]int, nf)
	for i := range free {
		free[i] = i
	}
	return &fakeRankOne{kind: GGN, rows: &rows, norm: norm, decay: decay, free: free}
}

// randomFake returns a fake with M seeded Gaussian terms of length nf and
// normaliser P = M.
func randomFake(nf, M int, decay float64, seed uint64) *fakeRankOne {
	rng := rand.New(rand.NewPCG(seed, 3))
	data := make([]float64, M*nf)
	for i := range data {
		data[i] = rng.NormFloat64()
	}
	free := make([]int, nf)
	for i := range free {
		free[i] = i
	}
	return &fakeRankOne{kind: GGN, rows: mat.NewDense(M, nf, data), norm: M, decay: decay, free: free}
}

func (f *fakeRankOne) Kind() Kind     { return f.kind }
func (f *fakeRankOne) Dim() int       { _, c := f.rows.Dims(); return c }
func (f *fakeRankOne) Free() []int    { return f.free }
func (f *fakeRankOne) Norm() int      { return f.norm }
func (f *fakeRankOne) Decay() float64 { return f.decay }
func (f *fakeRankOne) NumTerms() int  { r, _ := f.rows.Dims(); return r }

// Dense is the reference: Decay I + (1/P) U U^T by a plain matrix product.
func (f *fakeRankOne) Dense(dst *mat.SymDense) {
	n := f.Dim()
	if dst.IsEmpty() {
		dst.ReuseAsSym(n)
	}
	var uut mat.Dense
	uut.Mul(f.rows.T(), f.rows)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := uut.At(i, j) / float64(f.norm)
			if i == j {
				v += f.decay
			}
			dst.SetSym(i, j, v)
		}
	}
}

func (f *fakeRankOne) Diag(dst []float64) {
	var d mat.SymDense
	f.Dense(&d)
	for i := range dst {
		dst[i] = d.At(i, i)
	}
}

// Terms copies the terms into a reused buffer and allocates nothing per
// call of fn.
func (f *fakeRankOne) Terms(b int, fn func(u *mat.Dense)) {
	M, n := f.rows.Dims()
	b = min(b, M)
	buf := mat.NewDense(n, b, nil)
	views := make([]*mat.Dense, b+1)
	for w := 1; w <= b; w++ {
		views[w] = buf.Slice(0, n, 0, w).(*mat.Dense)
	}
	src := f.rows.RawMatrix()
	dst := buf.RawMatrix()
	for m0 := 0; m0 < M; m0 += b {
		w := min(b, M-m0)
		for j := 0; j < w; j++ { // term m0+j, a row of f.rows, into column j
			row := blas64.Vector{N: n, Inc: 1, Data: src.Data[(m0+j)*src.Stride:]}
			blas64.Copy(row, blas64.Vector{N: n, Inc: dst.Stride, Data: dst.Data[j:]})
		}
		fn(views[w])
	}
}

// denseCurvature is a Curvature given by its matrix, for crafted
// (indefinite) cases.
type denseCurvature struct {
	kind  Kind
	a     *mat.SymDense
	decay float64
}

func (d *denseCurvature) Kind() Kind { return d.kind }
func (d *denseCurvature) Dim() int   { return d.a.SymmetricDim() }
func (d *denseCurvature) Free() []int {
	f := make([]int, d.Dim())
	for i := range f {
		f[i] = i
	}
	return f
}
func (d *denseCurvature) Norm() int      { return 1 }
func (d *denseCurvature) Decay() float64 { return d.decay }
func (d *denseCurvature) Dense(dst *mat.SymDense) {
	if dst.IsEmpty() {
		dst.ReuseAsSym(d.Dim())
	}
	dst.CopySym(d.a)
}
func (d *denseCurvature) Diag(dst []float64) {
	for i := range dst {
		dst[i] = d.a.At(i, i)
	}
}

// randomOrthogonal returns a seeded random n x n orthogonal matrix (Q of a
// QR factorization of a Gaussian matrix).
func randomOrthogonal(n int, seed uint64) *mat.Dense {
	rng := rand.New(rand.NewPCG(seed, 5))
	a := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

// withEigen returns Q diag(lambda) Q^T.
func withEigen(q *mat.Dense, lambda []float64) *mat.SymDense {
	n := len(lambda)
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := 0.0
			for k, l := range lambda {
				v += q.At(i, k) * l * q.At(j, k)
			}
			s.SetSym(i, j, v)
		}
	}
	return s
}

// netCase is a network configuration for the curvature tests.
type netCase struct {
	name   string
	spec   model.Spec
	pruned []int
}

// lossCases covers every loss, each with a tanh hidden layer, weight decay
// and three pruned parameters (one weight of each layer and a bias).
func lossCases() []netCase {
	return []netCase{
		{"mse/identity", model.Spec{Sizes: []int{3, 4, 2}, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError, Decay: 0.01}, []int{1, 7, 18}},
		{"mse/sigmoid", model.Spec{Sizes: []int{3, 4, 2}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError, Decay: 0.01}, []int{0, 3, 20}},
		{"bce", model.Spec{Sizes: []int{3, 4, 2}, Hidden: model.Tanh, Output: model.Sigmoid, Loss: model.BinaryCrossEntropy, Decay: 0.01}, []int{2, 9, 17}},
		{"ce", model.Spec{Sizes: []int{3, 4, 3}, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: 0.01}, []int{5, 11, 22}},
	}
}

// randomNet returns a network with seeded N(0,1) parameters and c.pruned pruned.
func randomNet(t testing.TB, c netCase, seed uint64) *model.MLP {
	t.Helper()
	m, err := model.New(c.spec)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for q := range m.Params {
		m.Params[q] = rng.NormFloat64()
	}
	for _, q := range c.pruned {
		m.Prune(q)
	}
	return m
}

// randomData returns P seeded patterns with targets suited to the loss:
// Bernoulli draws for bce, one-hot classes for ce, Gaussians for squared
// error.
func randomData(m *model.MLP, P int, seed uint64) (X, T [][]float64) {
	rng := rand.New(rand.NewPCG(seed, 11))
	X = make([][]float64, P)
	T = make([][]float64, P)
	K := m.NumOutputs()
	for p := range X {
		X[p] = make([]float64, m.NumInputs())
		for i := range X[p] {
			X[p][i] = rng.NormFloat64()
		}
		T[p] = make([]float64, K)
		switch m.Loss {
		case model.BinaryCrossEntropy:
			for k := range T[p] {
				if rng.Float64() < 0.5 {
					T[p][k] = 1
				}
			}
		case model.CrossEntropy:
			T[p][rng.IntN(K)] = 1
		default:
			for k := range T[p] {
				T[p][k] = rng.NormFloat64()
			}
		}
	}
	return X, T
}

func mustNew(t testing.TB, kind Kind, m *model.MLP, X, T [][]float64, opts *Options) Curvature {
	t.Helper()
	c, err := New(kind, m, X, T, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func dense(c Curvature) *mat.SymDense {
	var d mat.SymDense
	c.Dense(&d)
	return &d
}

// maxAbsDiff returns max |a_ij - b_ij|.
func maxAbsDiff(a, b mat.Matrix) float64 {
	r, c := a.Dims()
	d := 0.0
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			d = math.Max(d, math.Abs(a.At(i, j)-b.At(i, j)))
		}
	}
	return d
}

// condition returns the 2-norm condition number of a symmetric positive
// definite matrix from its eigenvalues.
func condition(t testing.TB, a mat.Symmetric) float64 {
	t.Helper()
	var eig mat.EigenSym
	if !eig.Factorize(a, false) {
		t.Fatal("eigendecomposition failed")
	}
	v := eig.Values(nil)
	return v[len(v)-1] / v[0]
}

func name(format string, a ...any) string { return fmt.Sprintf(format, a...) }
