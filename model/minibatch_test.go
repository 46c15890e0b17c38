package model

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// batchTol: BatchGrad and Grad compute the same sums of O(P) terms of
// order 1 in a different order, so they agree to rounding (~1e-15
// relative); 1e-11 leaves room for cancellation while any wrong term
// (O(1e-2) or larger) fails.
const batchTol = 1e-11

func TestBatchGradMatchesGrad(t *testing.T) {
	cases := batchCases(ReLU)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := randomNet(t, c, 31)
			// More patterns than evalChunk: BatchGrad averages chunks.
			P := 37
			if c.name == "hidden=tanh/out=softmax/loss=ce" {
				P = evalChunk + 123
			}
			X, T := randomData(m, P, 32)
			ws := m.NewWorkspace()
			want := make([]float64, len(m.Params))
			eWant := m.Grad(ws, want, X, T)
			got := make([]float64, len(m.Params))
			eGot := m.BatchGrad(got, X, T)
			if !near(eGot, eWant, batchTol) {
				t.Errorf("BatchGrad E = %v, Grad E = %v", eGot, eWant)
			}
			for q := range want {
				if !near(got[q], want[q], batchTol) {
					t.Fatalf("grad[%d] (%s) = %v, want %v", q, m.Name(q), got[q], want[q])
				}
			}
			for _, q := range c.pruned {
				if got[q] != 0 {
					t.Errorf("pruned grad[%d] = %v", q, got[q])
				}
			}
			e, acc := m.Evaluate(X, T)
			if !near(e, m.Error(ws, X, T), batchTol) || acc != m.Accuracy(ws, X, T) {
				t.Errorf("Evaluate = %v, %v; Error %v, Accuracy %v", e, acc, m.Error(ws, X, T), m.Accuracy(ws, X, T))
			}
		})
	}
}

// teacher returns P patterns labelled by a random 2-layer teacher network
// over 3 classes (learnable by a student of the same shape).
func teacher(t *testing.T, P int) (*MLP, [][]float64, [][]float64) {
	spec := Spec{Sizes: []int{5, 8, 3}, Hidden: Tanh, Output: Softmax, Loss: CrossEntropy}
	tm := randomNet(t, netCase{spec: spec}, 41)
	X, _ := randomData(tm, P, 42)
	ws := tm.NewWorkspace()
	T := make([][]float64, P)
	for p := range X {
		T[p] = make([]float64, 3)
		T[p][floats.MaxIdx(tm.Forward(ws, X[p]))] = 1
	}
	m, _ := New(spec)
	m.Init(rand.New(rand.NewPCG(43, 1)))
	return m, X, T
}

func TestTrainMiniBatchLearns(t *testing.T) {
	for _, opt := range []Optimizer{Adam, SGD} {
		m, X, T := teacher(t, 300)
		e0, _ := m.Evaluate(X, T)
		m.Prune(3)
		calls := 0
		res, err := TrainMiniBatch(m, X, T, &MiniBatchSettings{Optimizer: opt, Epochs: 60, BatchSize: 32, LearningRate: map[Optimizer]float64{Adam: 0.01, SGD: 0.1}[opt], Seed: 5,
			Progress: func(p MiniBatchProgress) { calls++ }})
		if err != nil {
			t.Fatal(err)
		}
		// 300 patterns in batches of 32: 10 steps per epoch.
		if res.Epochs != 60 || res.Steps != 600 || calls != 600 || len(res.EpochLoss) != 60 || res.Status != "epochs done" || res.Optimizer != opt.String() {
			t.Errorf("%v: result %+v, %d progress calls", opt, res, calls)
		}
		if m.Params[3] != 0 || !m.Pruned[3] {
			t.Errorf("%v: pruned parameter moved to %v", opt, m.Params[3])
		}
		// A student of the teacher's shape fits its labels: the loss must
		// fall well below the start and most patterns be classified right.
		if !(res.E < e0/3) || res.Accuracy < 0.9 {
			t.Errorf("%v: E %v (start %v), accuracy %v", opt, res.E, e0, res.Accuracy)
		}
		e, acc := m.Evaluate(X, T)
		if e != res.E || acc != res.Accuracy {
			t.Errorf("%v: result E %v acc %v, Evaluate %v %v", opt, res.E, res.Accuracy, e, acc)
		}
	}
}

func TestTrainMiniBatchDeterministic(t *testing.T) {
	run := func(seed uint64) []float64 {
		m, X, T := teacher(t, 100)
		if _, err := TrainMiniBatch(m, X, T, &MiniBatchSettings{Epochs: 3, BatchSize: 7, Seed: seed}); err != nil {
			t.Fatal(err)
		}
		return m.Params
	}
	a, b, c := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Error("same seed, different parameters")
	}
	if slices.Equal(a, c) {
		t.Error("different shuffling seeds, same parameters")
	}
}

// One full-batch step checks each update rule against the exact gradient:
// SGD without momentum moves by -lr grad E; Adam's first step by
// -lr g/(|g| + eps) (m^ = g, v^ = g^2).
func TestMiniBatchFirstStep(t *testing.T) {
	c := derivativeCases()[2]
	for _, opt := range []Optimizer{SGD, Adam} {
		m := randomNet(t, c, 51)
		X, T := randomData(m, 20, 52)
		g := make([]float64, len(m.Params))
		m.Grad(m.NewWorkspace(), g, X, T)
		w0 := append([]float64(nil), m.Params...)
		const lr = 0.01
		if _, err := TrainMiniBatch(m, X, T, &MiniBatchSettings{Optimizer: opt, Epochs: 1, BatchSize: 20, LearningRate: lr, NoMomentum: true}); err != nil {
			t.Fatal(err)
		}
		for q := range g {
			want := w0[q] - lr*g[q]
			if opt == Adam {
				want = w0[q] - lr*g[q]/(math.Abs(g[q])+DefaultAdamEps)
			}
			if m.Pruned[q] {
				want = 0
			}
			if !near(m.Params[q], want, batchTol) {
				t.Fatalf("%v: w[%d] = %v, want %v", opt, q, m.Params[q], want)
			}
		}
	}
}

func TestTrainMiniBatchStopAndErrors(t *testing.T) {
	m, X, T := teacher(t, 50)
	steps := 0
	res, err := TrainMiniBatch(m, X, T, &MiniBatchSettings{Epochs: 5, BatchSize: 10, Stop: func() bool { steps++; return steps > 7 }})
	if err != nil || res.Status != "stopped" || res.Steps != 7 || res.Epochs != 1 {
		t.Errorf("stop: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		s    MiniBatchSettings
		want string
	}{
		{MiniBatchSettings{Epochs: -1}, "epochs -1"},
		{MiniBatchSettings{LearningRate: -1}, "learning rate -1"},
		{MiniBatchSettings{Momentum: 1}, "momentum 1"},
		{MiniBatchSettings{Beta1: 1}, "beta1"},
		{MiniBatchSettings{Decay: 1.5}, "decay 1.5"},
		{MiniBatchSettings{Optimizer: 7}, "unknown mini-batch optimizer"},
		{MiniBatchSettings{Schedule: Cosine, Decay: 0.5}, "decay 0.5 with the cosine schedule"},
		{MiniBatchSettings{Schedule: 9}, "unknown learning-rate schedule"},
	} {
		if _, err := TrainMiniBatch(m, X, T, &tc.s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.s, err, tc.want)
		}
	}
	if _, err := TrainMiniBatch(m, X[:3], T, nil); err == nil {
		t.Error("mismatched data accepted")
	}
	// Identity hidden and output units with squared error: too large a
	// step makes the iteration diverge geometrically to Inf and NaN.
	lin := randomNet(t, netCase{spec: Spec{Sizes: []int{3, 4, 2}, Hidden: Identity, Output: Identity, Loss: SquaredError}}, 53)
	LX, LT := randomData(lin, 20, 54)
	_, err = TrainMiniBatch(lin, LX, LT, &MiniBatchSettings{Optimizer: SGD, Epochs: 1000, LearningRate: 100, NoMomentum: true})
	if !errors.Is(err, ErrNotFinite) {
		t.Errorf("diverging run: %v", err)
	}
	if o, err := ParseOptimizer("sgd"); o != SGD || err != nil {
		t.Errorf("ParseOptimizer(sgd) = %v, %v", o, err)
	}
	if _, err := ParseOptimizer("rmsprop"); err == nil {
		t.Error("ParseOptimizer(rmsprop) succeeded")
	}
}

// BenchmarkBatchGrad times one step of LeNet-300-100 (784-300-100-10,
// ReLU, softmax cross-entropy) on a batch of 128 random patterns:
//
//	go test -run='^$' -bench=BatchGrad ./model
func BenchmarkBatchGrad(b *testing.B) {
	m, _ := New(Spec{Sizes: []int{784, 300, 100, 10}, Hidden: ReLU, Output: Softmax, Loss: CrossEntropy})
	m.Init(rand.New(rand.NewPCG(1, 1)))
	X, T := randomData(m, 128, 2)
	bw := m.newBatchWork(128)
	g := make([]float64, len(m.Params))
	b.ResetTimer()
	for range b.N {
		m.batchGrad(bw, g, X, T)
	}
	flops := 128 * 2.0 * (3*float64(len(m.Params)) - 784*300)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func TestLayerInputs(t *testing.T) {
	c := derivativeCases()[5]
	m := randomNet(t, c, 61)
	X, _ := randomData(m, evalChunk+5, 62)
	in := m.LayerInputs(X)
	ws := m.NewWorkspace()
	for _, p := range []int{0, 17, evalChunk + 4} {
		m.Forward(ws, X[p])
		for l := range in {
			for i, v := range ws.a[l] {
				if !near(in[l].At(p, i), v, batchTol) {
					t.Fatalf("pattern %d layer %d input %d = %v, Forward %v", p, l+1, i, in[l].At(p, i), v)
				}
			}
		}
	}
}

// GGNDiagonal against the dense formula sum_p J_p^T U_p U_p^T J_p from
// OutputJacobian and OutputHessianFactor.
func TestGGNDiagonal(t *testing.T) {
	for _, c := range derivativeCases() {
		m := randomNet(t, c, 71)
		X, T := randomData(m, 23, 72)
		got := m.GGNDiagonal(X, T)
		ws := m.NewWorkspace()
		want := make([]float64, len(m.Params))
		var jac, u, ju mat.Dense
		for p := range X {
			m.OutputJacobian(ws, &jac, X[p])
			m.OutputHessianFactor(ws, &u, X[p], floats.Sum(T[p]))
			ju.Mul(jac.T(), &u)
			for q := range want {
				for k := range m.NumOutputs() {
					want[q] += ju.At(q, k) * ju.At(q, k) / float64(len(X))
				}
			}
		}
		for q := range want {
			if !m.Pruned[q] {
				want[q] += m.Decay
			}
			if !near(got[q], want[q], batchTol) {
				t.Fatalf("%s: diag[%d] = %v, want %v", c.name, q, got[q], want[q])
			}
		}
	}
}

// Full-batch SGD without momentum moves by -lr f_t grad E at step t: with
// decay d, f_t = d^(e-1) in epoch e (two epochs: 1, 1/2); with the cosine
// schedule over S steps, f_t = (1 + cos(pi t/S))/2 (three epochs: 1, 3/4,
// 1/4). Each run equals the hand-made steps.
func TestMiniBatchSchedules(t *testing.T) {
	const lr = 0.01
	for _, tc := range []struct {
		name    string
		set     MiniBatchSettings
		seed    uint64
		factors []float64
	}{
		{"decay", MiniBatchSettings{Epochs: 2, Decay: 0.5}, 81, []float64{1, 0.5}},
		{"cosine", MiniBatchSettings{Epochs: 3, Schedule: Cosine}, 83, []float64{1, 0.75, 0.25}},
	} {
		c := derivativeCases()[2]
		m := randomNet(t, c, tc.seed)
		X, T := randomData(m, 10, tc.seed+1)
		want := m.Clone()
		g := make([]float64, len(m.Params))
		for _, f := range tc.factors {
			want.Grad(want.NewWorkspace(), g, X, T)
			floats.AddScaled(want.Params, -lr*f, g)
		}
		set := tc.set
		set.Optimizer, set.BatchSize, set.LearningRate, set.NoMomentum = SGD, 10, lr, true
		if _, err := TrainMiniBatch(m, X, T, &set); err != nil {
			t.Fatal(err)
		}
		for q := range g {
			if !near(m.Params[q], want.Params[q], batchTol) {
				t.Fatalf("%s: w[%d] = %v, want %v", tc.name, q, m.Params[q], want.Params[q])
			}
		}
	}
	for _, name := range []string{"step", "cosine"} {
		if s, err := ParseSchedule(name); err != nil || s.String() != name {
			t.Errorf("ParseSchedule(%q) = %v, %v", name, s, err)
		}
	}
	if _, err := ParseSchedule("linear"); err == nil {
		t.Error("ParseSchedule accepted linear")
	}
}

// batchGradSparse (layer 1 over the non-zero inputs) equals Grad to
// rounding, on one-hot windows (more than evalChunk of them) and on dense
// inputs, with pruned weights in layer 1; sparseInputs tells them apart.
func TestBatchGradSparseMatchesGrad(t *testing.T) {
	for _, c := range derivativeCases()[:3] {
		t.Run(c.name, func(t *testing.T) {
			spec := c.spec
			spec.Sizes = append([]int{3 * 29}, spec.Sizes[1:]...)
			m, err := New(spec)
			if err != nil {
				t.Fatal(err)
			}
			m.Init(rand.New(rand.NewPCG(7, 7)))
			m.Prune(0)
			m.Prune(3*29 + 5)
			_, T := randomData(m, evalChunk+50, 33)
			rng := rand.New(rand.NewPCG(8, 8))
			oneHot := make([][]float64, len(T))
			for p := range oneHot {
				oneHot[p] = make([]float64, 3*29)
				for w := 0; w < 3; w++ {
					oneHot[p][w*29+rng.IntN(29)] = 1
				}
			}
			dense, _ := randomData(m, len(T), 34)
			for _, X := range [][][]float64{oneHot, dense} {
				ws := m.NewWorkspace()
				want := make([]float64, len(m.Params))
				eWant := m.Grad(ws, want, X, T)
				got := make([]float64, len(m.Params))
				if eGot := m.batchGradSparse(got, X, T); !near(eGot, eWant, batchTol) {
					t.Errorf("batchGradSparse E = %v, Grad E = %v", eGot, eWant)
				}
				for q := range want {
					if !near(got[q], want[q], batchTol) {
						t.Fatalf("grad[%d] (%s) = %v, want %v", q, m.Name(q), got[q], want[q])
					}
				}
			}
			if !sparseInputs(oneHot) || sparseInputs(dense) {
				t.Fatal("sparseInputs does not tell one-hot from dense inputs")
			}
		})
	}
}

// batchCases are derivativeCases and a wider network with the given hidden
// activation, which crosses gemm's tile boundaries (16 rows, 256 columns):
// the cases of the batched products.
func batchCases(hidden Activation) []netCase {
	return append(derivativeCases(), netCase{name: "wide", spec: Spec{Sizes: []int{270, 33, 17, 10}, Hidden: hidden, Output: Softmax, Loss: CrossEntropy, Decay: 1e-3}, pruned: []int{0, 300, 9000}})
}

// EvaluateGrad gives Evaluate's E and accuracy and BatchGrad's gradient
// bit for bit, on one chunk and on several (P > evalChunk), with decay,
// pruned weights and a convolutional network.
func TestEvaluateGradBitForBit(t *testing.T) {
	cases := batchCases(Tanh)
	ls, err := ParseLayers("conv:2:3:p=1,relu,maxpool:2,flatten,linear:3")
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, netCase{name: "conv", spec: Spec{Input: []int{1, 6, 6}, Layers: ls, Loss: CrossEntropy, Decay: 1e-3}, pruned: []int{1, 20}})
	for _, c := range cases {
		for _, P := range []int{5, evalChunk + 321} {
			m := randomNet(t, c, 41)
			X, T := randomData(m, P, 43)
			wantE, wantA := m.Evaluate(X, T)
			want := make([]float64, len(m.Params))
			m.BatchGrad(want, X, T)
			got := make([]float64, len(m.Params))
			e, a := m.EvaluateGrad(got, X, T)
			if math.Float64bits(e) != math.Float64bits(wantE) || a != wantA {
				t.Errorf("%s, P %d: E %v, accuracy %v; want Evaluate's %v, %v", c.name, P, e, a, wantE, wantA)
			}
			for q := range got {
				if math.Float64bits(got[q]) != math.Float64bits(want[q]) {
					t.Errorf("%s, P %d: gradient %d is %v, BatchGrad's %v", c.name, P, q, got[q], want[q])
					break
				}
			}
		}
	}
}

// With GradNorm, TrainMiniBatch's result carries the norm of BatchGrad's
// gradient at the final weights, and the same E, accuracy and weights as
// without.
func TestTrainMiniBatchGradNorm(t *testing.T) {
	c := batchCases(ReLU)[len(batchCases(ReLU))-1]
	var res [2]MiniBatchResult
	var params [2][]float64
	for k, gn := range []bool{false, true} {
		m := randomNet(t, c, 5)
		X, T := randomData(m, 300, 6)
		var err error
		res[k], err = TrainMiniBatch(m, X, T, &MiniBatchSettings{Epochs: 2, BatchSize: 32, Seed: 3, GradNorm: gn})
		if err != nil {
			t.Fatal(err)
		}
		params[k] = m.Params
		if gn {
			g := make([]float64, len(m.Params))
			m.BatchGrad(g, X, T)
			if want := floats.Norm(g, 2); res[k].GradNorm != want || want == 0 {
				t.Errorf("GradNorm %v, want %v", res[k].GradNorm, want)
			}
		} else if res[k].GradNorm != 0 {
			t.Errorf("GradNorm %v without asking for it", res[k].GradNorm)
		}
	}
	if res[0].E != res[1].E || res[0].Accuracy != res[1].Accuracy || !slices.Equal(params[0], params[1]) {
		t.Errorf("GradNorm changed the training: E %v/%v, accuracy %v/%v", res[0].E, res[1].E, res[0].Accuracy, res[1].Accuracy)
	}
}
