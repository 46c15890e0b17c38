package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/internal/enum"
	"github.com/obs-toolkit/obs/internal/parallel"
)

// Optimizer is a mini-batch training algorithm (TrainMiniBatch).
type Optimizer int

const (
	// Adam is Kingma & Ba, "Adam: A method for stochastic optimization",
	// ICLR 2015, Algorithm 1, with bias correction.
	Adam Optimizer = iota
	// SGD is stochastic gradient descent with (heavy-ball) momentum:
	// v <- mu v - lr g, w <- w + v.
	SGD
)

var optimizerNames = [...]string{"adam", "sgd"}

// Schedule is how a mini-batch trainer's learning rate moves.
type Schedule int

const (
	// StepDecay (the zero value) keeps the rate constant within an epoch
	// and multiplies it by MiniBatchSettings.Decay after every epoch.
	StepDecay Schedule = iota
	// Cosine anneals the rate at every step t = 0, 1, ..., S-1 of all S
	// steps of the run to LearningRate * (1 + cos(pi t / S)) / 2, from
	// the full rate to near 0 at the last step (Loshchilov & Hutter,
	// "SGDR", ICLR 2017, without restarts; PyTorch's CosineAnnealingLR
	// with T_max = S, eta_min = 0, stepped after every batch).
	Cosine
)

var scheduleNames = [...]string{"step", "cosine"}

func (s Schedule) String() string { return enum.Name(scheduleNames[:], "Schedule", s) }

// ParseSchedule returns the learning-rate schedule with the given name:
// step or cosine.
func ParseSchedule(s string) (Schedule, error) {
	if v, ok := enum.Parse[Schedule](scheduleNames[:], s); ok {
		return v, nil
	}
	return 0, fmt.Errorf("model: unknown learning-rate schedule %q (want step or cosine)", s)
}

func (o Optimizer) String() string { return enum.Name(optimizerNames[:], "Optimizer", o) }

// ParseOptimizer returns the mini-batch optimizer with the given name: adam
// or sgd.
func ParseOptimizer(s string) (Optimizer, error) {
	if o, ok := enum.Parse[Optimizer](optimizerNames[:], s); ok {
		return o, nil
	}
	return 0, fmt.Errorf("model: unknown mini-batch optimizer %q (want %s)", s, enum.Or(optimizerNames[:]))
}

// Defaults of MiniBatchSettings.
const (
	DefaultEpochs    = 10
	DefaultBatchSize = 128
	DefaultAdamRate  = 1e-3
	DefaultSGDRate   = 0.05
	DefaultBeta1     = 0.9
	DefaultBeta2     = 0.999
	DefaultAdamEps   = 1e-8
)

// MiniBatchSettings configures TrainMiniBatch. The zero value means the
// documented defaults: Adam, 10 epochs, batches of 128, seed 0.
type MiniBatchSettings struct {
	// Optimizer is Adam (the zero value) or SGD.
	Optimizer Optimizer
	// Epochs is the number of passes over the training set (default 10),
	// BatchSize the patterns per step (default 128; the last batch of an
	// epoch holds the remainder).
	Epochs, BatchSize int
	// LearningRate is the step size (default 1e-3 for Adam, 0.05 for SGD).
	LearningRate float64
	// Momentum is SGD's mu: if zero, DefaultMomentum (0.9); must be in
	// [0, 1).
	Momentum float64
	// NoMomentum makes SGD plain stochastic gradient descent (mu = 0);
	// Momentum must then be zero.
	NoMomentum bool
	// Decay multiplies the learning rate after every epoch (exponential
	// decay: epoch e runs at LearningRate * Decay^(e-1)); zero means 1,
	// no decay. Must be in (0, 1].
	Decay float64
	// Schedule moves the learning rate: by Decay after every epoch (the
	// zero value) or by a cosine over all steps (Decay must then be 0 or
	// 1).
	Schedule Schedule
	// Beta1, Beta2 and Epsilon are Adam's (defaults 0.9, 0.999, 1e-8).
	Beta1, Beta2, Epsilon float64
	// Seed seeds the shuffling (math/rand/v2 PCG, stream ShuffleStream):
	// every epoch visits the patterns in a fresh random order drawn from
	// it. The same seed, network and data give bit-identical results.
	Seed uint64
	// Progress, if not nil, is called after every step.
	Progress func(MiniBatchProgress)
	// Stop, if not nil, is polled before every step; when it returns true
	// training ends with Status "stopped".
	Stop func() bool
	// GradNorm makes the evaluation of E and the accuracy after training
	// also give ||grad E|| on the whole training set
	// (MiniBatchResult.GradNorm), from the same pass (EvaluateGrad): a
	// backward pass more than the forward pass it costs otherwise.
	GradNorm bool
}

// ShuffleStream is the PCG stream of the shuffling generator.
const ShuffleStream = 0x6d62 // "mb"

// MiniBatchProgress reports one step.
type MiniBatchProgress struct {
	// Epoch counts from 1; Batch is the step within the epoch (1..Batches).
	Epoch, Batch, Batches int
	// Loss is the mean mini-batch E (with weight decay) over this epoch's
	// steps so far.
	Loss float64
}

// MiniBatchResult summarises TrainMiniBatch.
type MiniBatchResult struct {
	// Optimizer is "adam" or "sgd".
	Optimizer string
	// E and Accuracy are the training error (with weight decay) and the
	// accuracy (as MLP.Accuracy) on the whole training set at the final
	// parameters.
	E, Accuracy float64
	// Epochs counts completed epochs and Steps the parameter updates.
	Epochs, Steps int
	// EpochLoss holds each completed epoch's mean mini-batch E.
	EpochLoss []float64
	// Status says why training ended: "epochs done" or "stopped".
	Status string
	// Seconds is the wall time of the epochs alone: shuffling, batches
	// and updates, without the checks before and the evaluation of E
	// and Accuracy after.
	Seconds float64
	// GradNorm is ||grad E||_2 on the whole training set at the final
	// parameters (as BatchGrad computes it) when MiniBatchSettings.GradNorm
	// asked for it, else 0.
	GradNorm float64
}

func (s *MiniBatchSettings) resolve() error {
	if s.Optimizer < 0 || int(s.Optimizer) >= len(optimizerNames) {
		return fmt.Errorf("model: unknown mini-batch optimizer %v", s.Optimizer)
	}
	if s.Epochs < 0 || s.BatchSize < 0 {
		return fmt.Errorf("model: epochs %d and batch size %d must be >= 0 (0: default)", s.Epochs, s.BatchSize)
	}
	if s.Epochs == 0 {
		s.Epochs = DefaultEpochs
	}
	if s.BatchSize == 0 {
		s.BatchSize = DefaultBatchSize
	}
	if s.LearningRate == 0 {
		s.LearningRate = DefaultAdamRate
		if s.Optimizer == SGD {
			s.LearningRate = DefaultSGDRate
		}
	}
	if !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0) {
		return fmt.Errorf("model: learning rate %v must be a finite number > 0", s.LearningRate)
	}
	if s.Decay == 0 {
		s.Decay = 1
	}
	if !(s.Decay > 0 && s.Decay <= 1) {
		return fmt.Errorf("model: learning-rate decay %v must be in (0, 1]", s.Decay)
	}
	if s.Schedule < 0 || int(s.Schedule) >= len(scheduleNames) {
		return fmt.Errorf("model: unknown learning-rate schedule %v", s.Schedule)
	}
	if s.Schedule == Cosine && s.Decay != 1 {
		return fmt.Errorf("model: learning-rate decay %v with the cosine schedule (it sets the rate of every step)", s.Decay)
	}
	if err := resolveMomentum(&s.Momentum, s.NoMomentum); err != nil {
		return err
	}
	if s.Beta1 == 0 {
		s.Beta1 = DefaultBeta1
	}
	if s.Beta2 == 0 {
		s.Beta2 = DefaultBeta2
	}
	if s.Epsilon == 0 {
		s.Epsilon = DefaultAdamEps
	}
	if !(s.Beta1 > 0 && s.Beta1 < 1) || !(s.Beta2 > 0 && s.Beta2 < 1) || !(s.Epsilon > 0) {
		return fmt.Errorf("model: Adam needs 0 < beta1, beta2 < 1 and epsilon > 0, got %v, %v, %v", s.Beta1, s.Beta2, s.Epsilon)
	}
	return nil
}

// TrainMiniBatch trains m in place by mini-batch SGD with momentum or Adam
// on E_B(w) = (1/|B|) sum_{p in B} l_p + (lambda/2) ||w||^2 over shuffled
// batches B. Pruned parameters stay exactly 0 (their gradient and update
// are zero), so it also fine-tunes a pruned network. Each step's forward
// and backward pass is batched: three matrix products per layer through
// gonum's BLAS (see BatchGrad). It returns an error for invalid settings,
// data that do not fit m and a NaN or Inf training loss (naming the epoch
// and step; m then holds the last finite parameters' successor and should
// be discarded).
func TrainMiniBatch(m *MLP, X, T [][]float64, s *MiniBatchSettings) (MiniBatchResult, error) {
	var set MiniBatchSettings
	if s != nil {
		set = *s
	}
	if err := set.resolve(); err != nil {
		return MiniBatchResult{}, err
	}
	if err := m.Check(); err != nil {
		return MiniBatchResult{}, err
	}
	if err := m.CheckData(X, T); err != nil {
		return MiniBatchResult{}, err
	}
	n, P := len(m.Params), len(X)
	bs := min(set.BatchSize, P)
	bw := m.newBatchWork(bs)
	grad := make([]float64, n)
	m1 := make([]float64, n) // SGD velocity or Adam's first moment
	var m2 []float64
	if set.Optimizer == Adam {
		m2 = make([]float64, n)
	}
	var pruned []int // fixed during training: maskZero's entries, listed once
	for q, p := range m.Pruned {
		if p {
			pruned = append(pruned, q)
		}
	}
	rng := rand.New(rand.NewPCG(set.Seed, ShuffleStream))
	order := make([]int, P)
	for i := range order {
		order[i] = i
	}
	batches := (P + bs - 1) / bs
	res := MiniBatchResult{Optimizer: set.Optimizer.String(), Status: "epochs done"}
	b1t, b2t := 1.0, 1.0
	bx, bt := make([][]float64, 0, bs), make([][]float64, 0, bs)
	rate := set.LearningRate
	start := time.Now()
train:
	for epoch := 1; epoch <= set.Epochs; epoch++ {
		if epoch > 1 {
			rate *= set.Decay
		}
		rng.Shuffle(P, func(i, j int) { order[i], order[j] = order[j], order[i] })
		sum := 0.0
		for b := range batches {
			if set.Stop != nil && set.Stop() {
				res.Status = "stopped"
				break train
			}
			idx := order[b*bs : min((b+1)*bs, P)]
			bx, bt = bx[:0], bt[:0]
			for _, p := range idx {
				bx, bt = append(bx, X[p]), append(bt, T[p])
			}
			e := m.batchGrad(bw, grad, bx, bt)
			if math.IsNaN(e) || math.IsInf(e, 0) {
				return res, fmt.Errorf("model: mini-batch E is %v at epoch %d step %d (learning rate %g too large?): %w", e, epoch, b+1, set.LearningRate, ErrNotFinite)
			}
			sum += e
			if set.Schedule == Cosine {
				rate = set.LearningRate * (1 + math.Cos(math.Pi*float64(res.Steps)/float64(set.Epochs*batches))) / 2
			}
			res.Steps++
			// The updates are element-wise: split over GOMAXPROCS
			// goroutines, each element computed as in one loop.
			switch set.Optimizer {
			case SGD:
				forRows(n, 1, func(q0, q1 int) {
					floats.Scale(set.Momentum, m1[q0:q1])
					floats.AddScaled(m1[q0:q1], -rate, grad[q0:q1])
					floats.Add(m.Params[q0:q1], m1[q0:q1])
				})
			case Adam:
				b1t *= set.Beta1
				b2t *= set.Beta2
				lr := rate * math.Sqrt(1-b2t) / (1 - b1t)
				// Kingma & Ba's efficient form (section 2), bias
				// corrections folded into lr; eps*sqrt(1-beta2^t) makes it
				// equal to m^/(sqrt(v^)+eps), PyTorch's form.
				eps := set.Epsilon * math.Sqrt(1-b2t)
				// The constants in locals: the loop then keeps them in
				// registers (a store through a slice could alias set's
				// fields); the same operations, the same values.
				b1, b2, c1, c2 := set.Beta1, set.Beta2, 1-set.Beta1, 1-set.Beta2
				forRows(n, 1, func(q0, q1 int) {
					p, a, v := m.Params[q0:q1], m1[q0:q1], m2[q0:q1]
					for q, g := range grad[q0:q1] {
						a[q] = b1*a[q] + c1*g
						v[q] = b2*v[q] + c2*g*g
						p[q] -= lr * a[q] / (math.Sqrt(v[q]) + eps)
					}
				})
			}
			for _, q := range pruned {
				m.Params[q] = 0
			}
			if set.Progress != nil {
				set.Progress(MiniBatchProgress{Epoch: epoch, Batch: b + 1, Batches: batches, Loss: sum / float64(b+1)})
			}
		}
		res.Epochs = epoch
		res.EpochLoss = append(res.EpochLoss, sum/float64(batches))
	}
	res.Seconds = time.Since(start).Seconds()
	if err := m.Check(); err != nil {
		return res, err
	}
	if set.GradNorm {
		res.E, res.Accuracy = m.EvaluateGrad(grad, X, T)
		res.GradNorm = floats.Norm(grad, 2)
	} else {
		res.E, res.Accuracy = m.Evaluate(X, T)
	}
	return res, nil
}

// batchWork holds the values and cotangents of one batch: row p of val[k]
// is pattern p's value at point k of the network (val[0] the inputs,
// val[k+1] the output of layers[k]), of cot[k] its dl/dval[k], of out its
// a_L; run holds the layers' batched forms and their scratch.
type batchWork struct {
	rows     int
	val, cot []blas64.General
	out      blas64.General
	gradF    []float64
	run      []BatchLayer
	// losses, if not nil, receives each pattern's loss l_p of the last
	// batchGrad (row p of the batch).
	losses []float64
}

func (m *MLP) newBatchWork(rows int) *batchWork {
	w := m.widths()
	bw := &batchWork{rows: rows, val: make([]blas64.General, len(w)), cot: make([]blas64.General, len(w))}
	for k, s := range w {
		bw.val[k] = newBatch(rows, s)
		if k > 0 {
			bw.cot[k] = newBatch(rows, s)
		}
	}
	bw.out = newBatch(rows, m.NumOutputs())
	bw.gradF = make([]float64, m.NumOutputs())
	bw.run = m.batchLayers(rows, false)
	return bw
}

// batchLayers returns the batched forms of m's layers for up to rows
// patterns; with sparse the first layer, if it can, visits only the
// non-zero inputs.
func (m *MLP) batchLayers(rows int, sparse bool) []BatchLayer {
	run := make([]BatchLayer, len(m.layers))
	for k, ly := range m.layers {
		run[k] = ly.Batch(rows)
	}
	if s, ok := run[0].(sparseInput); ok && sparse {
		s.setSparseInput(true)
	}
	return run
}

// outputActivate sets a = a_L from z = z_L for rows of K outputs.
func (m *MLP) outputActivate(a, z []float64) {
	activatePieces(m.Output, a, z, m.NumOutputs())
}

// activatePieces sets a = phi(z) element by element (softmax: row by row,
// rows of width), long slices in pieces of whole rows on GOMAXPROCS
// goroutines (forRows): the same values as one activate call (the
// sigmoids of a NETtalk batch, 600,000 exponentials per L-BFGS iteration,
// were a third of its training time on one core).
func activatePieces(act Activation, a, z []float64, width int) {
	if act != Softmax {
		width = 1
	}
	if len(z) < minRowsWork {
		activateRows(act, a, z, width, 0, len(z)) // one pattern's pass allocates nothing
		return
	}
	forRows(len(z)/width, width, func(p0, p1 int) { activateRows(act, a, z, width, p0*width, p1*width) })
}

// activateRows is activatePieces's work on a[lo:hi], whole rows.
func activateRows(act Activation, a, z []float64, width, lo, hi int) {
	if act != Softmax {
		activate(act, a[lo:hi], z[lo:hi])
		return
	}
	for o := lo; o < hi; o += width {
		activate(Softmax, a[o:o+width], z[o:o+width])
	}
}

// forwardBatch computes a_L for the r = len(X) <= bw.rows patterns X
// through the batched layers run.
func (m *MLP) forwardBatch(bw *batchWork, run []BatchLayer, X [][]float64) {
	r := len(X)
	a0 := rowsOf(bw.val[0], r)
	for p, x := range X {
		copy(a0.Data[p*a0.Stride:p*a0.Stride+a0.Cols], x)
	}
	for k, ly := range run {
		ly.Forward(rowsOf(bw.val[k+1], r), rowsOf(bw.val[k], r), m.block(m.Params, k))
	}
	m.outputActivate(rowsOf(bw.out, r).Data, rowsOf(bw.val[len(run)], r).Data)
}

// backwardBatch propagates the cotangents of the r patterns in bw from
// cot[last] (already set) down the batched layers run, writing the
// parameter gradient into grad unless it is nil.
func (m *MLP) backwardBatch(bw *batchWork, run []BatchLayer, grad []float64, r int) {
	first := m.pidx[0]
	for k := len(m.layers) - 1; k >= first; k-- {
		var gx blas64.General
		if k > first {
			gx = rowsOf(bw.cot[k], r)
		}
		var gtheta []float64
		if grad != nil {
			gtheta = m.block(grad, k)
		}
		run[k].Backward(gx, gtheta, rowsOf(bw.cot[k+1], r), rowsOf(bw.val[k], r), rowsOf(bw.val[k+1], r), m.block(m.Params, k))
	}
}

// batchGrad writes the gradient of E_B = (1/|B|) sum_{p in B} l_p +
// (Decay/2)||w||^2 into grad (pruned entries 0) and returns E_B.
func (m *MLP) batchGrad(bw *batchWork, grad []float64, X, T [][]float64) float64 {
	r := len(X)
	m.forwardBatch(bw, bw.run, X)
	nl := len(m.layers)
	zL, aL, dL := rowsOf(bw.val[nl], r), rowsOf(bw.out, r), rowsOf(bw.cot[nl], r)
	K := m.NumOutputs()
	sum := 0.0
	for p := range r {
		o := p * K
		l := m.outputLoss(zL.Data[o:o+K], aL.Data[o:o+K], T[p], bw.gradF, dL.Data[o:o+K])
		sum += l
		if bw.losses != nil {
			bw.losses[p] = l
		}
	}
	floats.Scale(1/float64(r), dL.Data)
	m.backwardBatch(bw, bw.run, grad, r)
	if m.Decay != 0 {
		floats.AddScaled(grad, m.Decay, m.Params)
	}
	m.maskZero(grad)
	return sum/float64(r) + m.decayTerm()
}

// BatchGrad writes grad E(w) into grad (length n; pruned entries 0) and
// returns E(w), like Grad, but computes the forward and backward passes for
// evalChunk patterns at once, as matrix products through gonum's BLAS, and
// averages the chunks' gradients weighted by their sizes. It is the
// gradient TrainMiniBatch uses (checked against Grad in the tests); the sum
// over patterns runs in a different order, so results agree with Grad to
// rounding, not bit for bit.
func (m *MLP) BatchGrad(grad []float64, X, T [][]float64) float64 {
	return m.batchGradChunks(grad, X, T, false, nil, nil)
}

// EvaluateGrad writes into grad what BatchGrad writes and returns what
// Evaluate returns, E(w) and the accuracy on X, T, all bit for bit, from
// one batched forward and backward pass instead of Evaluate's forward
// pass and BatchGrad's two: E is summed pattern by pattern over the whole
// set, as Evaluate sums it, beside the chunks' means that the gradient's
// weighting uses.
func (m *MLP) EvaluateGrad(grad []float64, X, T [][]float64) (e, accuracy float64) {
	var right int
	m.batchGradChunks(grad, X, T, false, &right, &e)
	return e, float64(right) / float64(len(X))
}

// sparseInputDensity: inputs count as sparse for batchGradSparse when at
// most this fraction of them is non-zero (NETtalk's one-hot windows: 7 of
// 203); then skipping the zeros beats the dense products of layer 1.
const sparseInputDensity = 0.25

// sparseInputs reports whether at most sparseInputDensity of X's entries
// are non-zero.
func sparseInputs(X [][]float64) bool {
	nnz, all := 0, 0
	for _, x := range X {
		all += len(x)
		for _, v := range x {
			if v != 0 {
				nnz++
			}
		}
	}
	return float64(nnz) <= sparseInputDensity*float64(all)
}

// batchGradSparse is BatchGrad with layer 1 computed over the non-zero
// inputs only (x_pi W_1[:, i] sums forward, x_pi D[p, :] sums for the
// gradient) instead of dense products: for one-hot inputs it does 7 of 203
// columns' work. Equal to BatchGrad and Grad to rounding (tested). Train
// uses it for TrainSettings.Batched when sparseInputs(X); BatchGrad itself
// keeps the dense products (and TrainMiniBatch's results).
func (m *MLP) batchGradSparse(grad []float64, X, T [][]float64) float64 {
	return m.batchGradChunks(grad, X, T, true, nil, nil)
}

// batchGradChunks is BatchGrad (batchGradSparse with sparse); with right
// not nil it also counts into *right the patterns Accuracy counts as
// right, and with eval not nil it sets *eval to E(w) summed as evaluate
// sums it (pattern by pattern over all of X), from the same forward
// passes.
func (m *MLP) batchGradChunks(grad []float64, X, T [][]float64, sparse bool, right *int, eval *float64) float64 {
	m.checkSet(X, T)
	m.checkParamLen("gradient", grad)
	bw := m.newBatchWork(min(evalChunk, len(X)))
	bw.run = m.batchLayers(bw.rows, sparse)
	evalSum := 0.0
	if eval != nil {
		bw.losses = make([]float64, bw.rows)
		defer func() { *eval = evalSum/float64(len(X)) + m.decayTerm() }()
	}
	addLosses := func(r int) {
		if eval != nil {
			for _, l := range bw.losses[:r] {
				evalSum += l
			}
		}
	}
	if len(X) <= evalChunk {
		e := m.batchGrad(bw, grad, X, T)
		addLosses(len(X))
		if right != nil {
			*right += countRight(bw.out, T)
		}
		return e
	}
	for q := range grad {
		grad[q] = 0
	}
	chunk := make([]float64, len(grad))
	e, P := 0.0, float64(len(X))
	for p0 := 0; p0 < len(X); p0 += evalChunk {
		p1 := min(p0+evalChunk, len(X))
		w := float64(p1-p0) / P
		e += w * m.batchGrad(bw, chunk, X[p0:p1], T[p0:p1])
		addLosses(p1 - p0)
		if right != nil {
			*right += countRight(bw.out, T[p0:p1])
		}
		floats.AddScaled(grad, w, chunk)
	}
	return e
}

// evalChunk is the number of patterns per batched pass of Evaluate.
const evalChunk = 1000

// Evaluate returns E(w) (with weight decay, as Error) and the accuracy (as
// Accuracy) on X, T, computed by batched forward passes of evalChunk
// patterns: much faster than Error and Accuracy on large sets.
func (m *MLP) Evaluate(X, T [][]float64) (e, accuracy float64) {
	e, right := m.evaluate(X, T)
	return e, float64(right) / float64(len(X))
}

// evaluate is Evaluate with the number of patterns counted right.
func (m *MLP) evaluate(X, T [][]float64) (e float64, right int) {
	m.checkSet(X, T)
	bw := m.newBatchWork(min(evalChunk, len(X)))
	nl := len(m.layers)
	K := m.NumOutputs()
	d := make([]float64, K)
	sum := 0.0
	for p0 := 0; p0 < len(X); p0 += evalChunk {
		p1 := min(p0+evalChunk, len(X))
		m.forwardBatch(bw, bw.run, X[p0:p1])
		for p := p0; p < p1; p++ {
			o := (p - p0) * K
			y := bw.out.Data[o : o+K]
			sum += m.outputLoss(bw.val[nl].Data[o:o+K], y, T[p], bw.gradF, d)
		}
		right += countRight(bw.out, T[p0:p1])
	}
	return sum/float64(len(X)) + m.decayTerm(), right
}

// countRight counts the rows of out (a batch's output activations, one
// row per pattern of T) that Accuracy counts as right (correct).
func countRight(out blas64.General, T [][]float64) (right int) {
	for p, t := range T {
		o := p * out.Stride
		if correct(out.Data[o:o+out.Cols], t) {
			right++
		}
	}
	return right
}

// Tiles of gemm's output: gemmTileRows rows per job, and as many columns
// as keep the job's panel of op(B) within gemmPanel elements.
// On 2 shared cores the step of BenchmarkBatchGrad ran 5-8x faster tiled
// than as one Dgemm call per product (1.3 GFLOP/s); between 16 and 64 rows
// and panels of 16K to 64K elements the differences were within the noise
// of the shared machine.
const (
	gemmTileRows = 16
	gemmPanel    = 32768
)

// gemm sets c = op(A) op(B) + beta c (blas64.Gemm with alpha 1). In the
// pure-Go build (gemmTiled) the output is cut into tiles handed out to
// GOMAXPROCS goroutines, and each row of a tile is one serial blas64.Gemv
// of the tile's columns of op(B) (a panel that stays in cache) with that
// row of op(A), as hessian/products.go does: gonum's matrix-vector kernels
// beat its Dgemm (see the benchmark BenchmarkBatchGrad). Every output
// element is written by one call over a fixed tile, so results do not
// depend on the number of goroutines.
func gemm(tA, tB blas.Transpose, a, b blas64.General, beta float64, c blas64.General) {
	if !gemmTiled {
		blas64.Gemm(tA, tB, 1, a, b, beta, c)
		return
	}
	inner := b.Rows // the length of op(B)'s columns
	if tB == blas.Trans {
		inner = b.Cols
	}
	tc := max(8, gemmPanel/inner)
	panels := (c.Rows + gemmTileRows - 1) / gemmTileRows
	colTiles := (c.Cols + tc - 1) / tc
	_ = parallel.For(panels*colTiles, 0, nil, nil, func(k int) error {
		i0 := (k / colTiles) * gemmTileRows
		j0 := (k % colTiles) * tc
		i1, j1 := min(i0+gemmTileRows, c.Rows), min(j0+tc, c.Cols)
		// op(B)[:, j0:j1] as the matrix of a Gemv with transpose tv.
		var bm blas64.General
		tv := blas.Trans
		if tB == blas.Trans {
			bm = blas64.General{Rows: j1 - j0, Cols: b.Cols, Stride: b.Stride, Data: b.Data[j0*b.Stride:]}
			tv = blas.NoTrans
		} else {
			bm = blas64.General{Rows: b.Rows, Cols: j1 - j0, Stride: b.Stride, Data: b.Data[j0:]}
		}
		for i := i0; i < i1; i++ {
			var x blas64.Vector
			if tA == blas.NoTrans {
				x = blas64.Vector{N: a.Cols, Inc: 1, Data: a.Data[i*a.Stride:]}
			} else {
				x = blas64.Vector{N: a.Rows, Inc: a.Stride, Data: a.Data[i:]}
			}
			blas64.Gemv(tv, 1, bm, x, beta, blas64.Vector{N: j1 - j0, Inc: 1, Data: c.Data[i*c.Stride+j0:]})
		}
		return nil
	})
}

// LayerInputs returns, for each layer l = 1..L, the inputs a_{l-1} of that
// layer for the patterns X: element l-1 is a P x Sizes[l-1] matrix whose
// row p is pattern p's activations of layer l-1 (X itself for l = 1),
// computed by batched forward passes.
func (m *MLP) LayerInputs(X [][]float64) []*mat.Dense {
	if len(X) == 0 {
		panic("model: empty data set")
	}
	L := m.NumLayers()
	out := make([]*mat.Dense, L)
	for l := range L {
		out[l] = mat.NewDense(len(X), m.layers[m.pidx[l]].In(), nil)
	}
	bw := m.newBatchWork(min(evalChunk, len(X)))
	for p0 := 0; p0 < len(X); p0 += evalChunk {
		p1 := min(p0+evalChunk, len(X))
		m.forwardBatch(bw, bw.run, X[p0:p1])
		for l := range L {
			a := bw.val[m.pidx[l]]
			n := a.Cols
			for p := p0; p < p1; p++ {
				copy(out[l].RawRowView(p), a.Data[(p-p0)*a.Stride:(p-p0)*a.Stride+n])
			}
		}
	}
	return out
}
