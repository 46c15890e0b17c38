package study

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// Task is the kind of problem a Setting trains a student on.
type Task int

const (
	// TeacherStudent is regression (or, with Binary, 0/1 classification)
	// with squared error on the outputs of a fixed random teacher network
	// plus Gaussian noise.
	TeacherStudent Task = iota
	// SoftmaxTeacher is 3-class classification with softmax cross-entropy,
	// labels drawn from (or the argmax of) a fixed random softmax teacher.
	SoftmaxTeacher
)

// Setting is one condition of the study: a problem, a student and how it is
// trained. Every setting appears once in the study (no setting is counted
// under two factors). Every random draw comes from the seed given to Run
// (see Setting.data), so a setting with a seed is reproducible.
type Setting struct {
	// Factor groups the settings in the report ("noise", "loss", ...);
	// Label names the row, e.g. "σ = 0.1".
	Factor, Label string
	Task          Task

	// Teacher and Student are layer sizes. Teacher–student regression uses
	// tanh hidden units and an identity-output teacher; the student's
	// output is StudentOutput (identity: well specified). SoftmaxTeacher
	// uses the same sizes for teacher and student.
	Teacher, Student []int
	StudentOutput    model.Activation
	// Sigma is the standard deviation of the Gaussian noise added to the
	// teacher's outputs (TeacherStudent). With Hetero the noise of pattern
	// x is Sigma |x_0| instead: the same mean variance (E[x_0^2] = 1), but
	// residuals whose size follows an input, so they correlate with the
	// Jacobian.
	Sigma  float64
	Hetero bool
	// Binary turns the teacher's output into a 0/1 label, 1 when it is
	// positive (TeacherStudent; the OBS papers' sigmoid output with squared
	// error and 0/1 targets).
	Binary bool
	// P is the number of training patterns.
	P int
	// Argmax labels each pattern with the teacher's most probable class
	// instead of a class drawn from its probabilities (SoftmaxTeacher).
	Argmax bool
	// Smooth is the label smoothing epsilon: the target is (1 - eps) e_c +
	// eps/K (SoftmaxTeacher).
	Smooth float64
	// Flip replaces this fraction of the labels by a uniformly drawn other
	// class (SoftmaxTeacher): label noise.
	Flip float64

	// Decay is the student's weight decay lambda.
	Decay float64
	// FromTeacher trains the student from one start, the teacher's weights
	// plus N(0, startNoise^2) noise (the student must have the teacher's
	// sizes): the well-specified student is measured at the minimum in the
	// teacher's basin, not at a local minimum that an unlucky random start
	// finds.
	FromTeacher bool
	// Restarts is the number of random starts (Glorot initialisation,
	// model.MLP.Init) when not FromTeacher; the lowest final E is kept.
	Restarts int
}

// Sizes of the study, and of the quick version used by tests.
const (
	teacherHidden = 6
	inputs        = 4
	basePFull     = 128
	basePQuick    = 48
	// testPatterns is the size of every setting's held-out set.
	testPatterns  = 1024
	baseSigma     = 0.1
	restartsFull  = 3
	restartsQuick = 2
	classes       = 3
	softmaxHidden = 5
	// teacherScale is the standard deviation of the teachers' parameters
	// (biases included), drawn from N(0, teacherScale^2).
	teacherScale = 1.0
	// regressionDecay is the weight decay of the regression students: a
	// deleted weight can leave others without any effect on E (a hidden
	// unit's input weights once its output weight is gone), and the decay
	// gives those directions curvature, so that retraining reaches a
	// minimum instead of crawling along a flat valley.
	regressionDecay = 1e-4
	// overHidden and overDecay are the overparameterised student's hidden
	// units and weight decay.
	overHidden = 8
	overDecay  = 1e-6
	// startNoise is the standard deviation of the perturbation of the
	// teacher's weights that FromTeacher starts from.
	startNoise = 0.1
)

// Settings returns the settings of the study in report order; quick
// shrinks them for tests.
func Settings(quick bool) []Setting {
	P, restarts := basePFull, restartsFull
	if quick {
		P, restarts = basePQuick, restartsQuick
	}
	arch := []int{inputs, teacherHidden, 1}
	ts := func(factor, label string) Setting {
		return Setting{Factor: factor, Label: label, Task: TeacherStudent, Teacher: arch, Student: arch, StudentOutput: model.Identity,
			Sigma: baseSigma, P: P, FromTeacher: true, Decay: regressionDecay}
	}
	sm := []int{inputs, softmaxHidden, classes}
	cls := func(label string, decay float64) Setting {
		return Setting{Factor: "classification", Label: label, Task: SoftmaxTeacher, Teacher: sm, Student: sm, P: P, Decay: decay, FromTeacher: true}
	}
	base := ts("noise", fmt.Sprintf("σ = %g", baseSigma))
	exact := ts("noise", "σ = 0 (no noise: the decay's pull is the only residual)")
	exact.Sigma = 0
	het := ts("noise", fmt.Sprintf("heteroscedastic σ(x) = %g |x0|", baseSigma))
	het.Hetero = true
	small := ts("misspecification", fmt.Sprintf("student %s (smaller than the teacher)", model.Arch([]int{inputs, 2, 1})))
	small.Student, small.FromTeacher, small.Restarts = []int{inputs, 2, 1}, false, restarts
	sig := ts("sigmoid + squared error", "sigmoid output, squared error, 0/1 labels, λ = 1e-4")
	sig.StudentOutput, sig.Binary, sig.Sigma, sig.Decay = model.Sigmoid, true, 0, 1e-4
	sampled := cls("sampled labels (calibrated), λ = 1e-4", 1e-4)
	// The argmax setting has the sampled one's decay, so that the two
	// differ in the labels alone.
	argmax := cls("argmax labels (over-confident), λ = 1e-4", 1e-4)
	argmax.Argmax = true
	smooth := cls("argmax labels, label smoothing 0.1, λ = 1e-4", 1e-4)
	smooth.Argmax, smooth.Smooth = true, 0.1
	flip := cls("argmax labels, 20% flipped (label noise), λ = 1e-3", 1e-3)
	flip.Argmax, flip.Flip = true, 0.2
	// Overparameterised: a student wider than the teacher, from random
	// starts, with almost no decay (λ → 0): flat directions, the regime
	// where an unscaled ridge decides most.
	over := ts("overparameterisation", fmt.Sprintf("student %s (wider than the teacher), λ = %g", model.Arch([]int{inputs, overHidden, 1}), overDecay))
	over.Student, over.FromTeacher, over.Restarts, over.Decay = []int{inputs, overHidden, 1}, false, restarts, overDecay
	if quick {
		return []Setting{base, sampled}
	}
	return []Setting{base, exact, het, small, over, sig, sampled, argmax, smooth, flip}
}

// Stream numbers of the PCG generators drawn from a seed, one per purpose,
// so that e.g. the noise does not change when P does.
const (
	streamTeacher uint64 = 0x7465616368 + iota // "teach"
	streamInputs
	streamNoise
	streamLabels
	streamStudent
	streamTest
	streamBatches
)

// streamCalib draws the calibration patterns of the P_c factor (a constant
// of its own: streamBatches+1 draws the quick study's candidates).
const streamCalib uint64 = 0x63616c6962 // "calib"

// calibration returns PcMax patterns drawn from the setting's law with
// their targets, independent of the training set (the P_c factor takes the
// first P_c of them).
func (s *Setting) calibration(seed uint64, n int) *datasets.Set {
	r := newRand(seed, streamCalib)
	set := s.draw(n, r, r, r, s.teacher(seed))
	set.Source = fmt.Sprintf("teacher %s, seed %d, calibration", model.Arch(s.Teacher), seed)
	return set
}

// targetLaw returns the law of the target of input x: atoms (weights w and
// targets t) plus, for regression, Gaussian noise of variance noiseVar
// around them; ok is false for argmax or 0/1 labels without flips, whose
// target is a function of x (the population Fisher is then the empirical
// one). Regression without noise (Sigma 0) has a point-mass law: ok is
// true and the population Fisher equals the empirical one.
func (s *Setting) targetLaw(t *model.MLP, ws *model.Workspace, x []float64) (w []float64, targets [][]float64, noiseVar float64, ok bool) {
	y := t.Forward(ws, x)
	K := len(y)
	if s.Task == TeacherStudent {
		if s.Binary {
			return nil, nil, 0, false
		}
		sigma := s.Sigma
		if s.Hetero {
			sigma *= math.Abs(x[0])
		}
		return []float64{1}, [][]float64{append([]float64(nil), y...)}, sigma * sigma, true
	}
	q := make([]float64, K)
	if s.Argmax {
		c := 0
		for k := range y {
			if y[k] > y[c] {
				c = k
			}
		}
		q[c] = 1
	} else {
		copy(q, y)
	}
	if s.Flip > 0 {
		f := make([]float64, K)
		for c := range f {
			f[c] = (1 - s.Flip) * q[c]
			for o := range q {
				if o != c {
					f[c] += s.Flip * q[o] / float64(K-1)
				}
			}
		}
		q = f
	}
	for c, v := range q {
		if v == 0 {
			continue
		}
		tgt := make([]float64, K)
		for k := range tgt {
			tgt[k] = s.Smooth / float64(K)
		}
		tgt[c] += 1 - s.Smooth
		w, targets = append(w, v), append(targets, tgt)
	}
	return w, targets, 0, len(w) > 1
}

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// teacher returns the teacher network of a setting for a seed: tanh hidden
// units, identity output (TeacherStudent) or softmax (SoftmaxTeacher),
// every parameter drawn from N(0, teacherScale^2).
func (s *Setting) teacher(seed uint64) *model.MLP {
	spec := model.Spec{Sizes: s.Teacher, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError}
	if s.Task == SoftmaxTeacher {
		spec.Output, spec.Loss = model.Softmax, model.CrossEntropy
	}
	t, err := model.New(spec)
	if err != nil {
		panic("study: teacher: " + err.Error())
	}
	rng := newRand(seed, streamTeacher)
	for i := range t.Params {
		t.Params[i] = teacherScale * rng.NormFloat64()
	}
	return t
}

// data returns the training set of a setting for a seed and a held-out set
// of testPatterns patterns drawn the same way from other streams. Inputs
// are drawn row by row from N(0, I), so a smaller P uses the first rows of
// a larger one.
func (s *Setting) data(seed uint64) (train, test *datasets.Set) {
	train = s.draw(s.P, newRand(seed, streamInputs), newRand(seed, streamNoise), newRand(seed, streamLabels), s.teacher(seed))
	tr := newRand(seed, streamTest)
	test = s.draw(testPatterns, tr, tr, tr, s.teacher(seed))
	train.Source = fmt.Sprintf("teacher %s, seed %d", model.Arch(s.Teacher), seed)
	test.Source = train.Source + ", held out"
	return train, test
}

func (s *Setting) draw(P int, in, noise, labels *rand.Rand, t *model.MLP) *datasets.Set {
	ws := t.NewWorkspace()
	set := &datasets.Set{Name: s.Label}
	K := s.Teacher[len(s.Teacher)-1]
	for p := 0; p < P; p++ {
		x := make([]float64, s.Teacher[0])
		for i := range x {
			x[i] = in.NormFloat64()
		}
		y := t.Forward(ws, x)
		tgt := make([]float64, K)
		switch {
		case s.Task == TeacherStudent:
			sigma := s.Sigma
			if s.Hetero {
				sigma *= math.Abs(x[0])
			}
			for k := range tgt {
				tgt[k] = y[k] + sigma*noise.NormFloat64()
				if s.Binary {
					tgt[k] = 0
					if y[k] > 0 {
						tgt[k] = 1
					}
				}
			}
		default:
			c := 0
			if s.Argmax {
				for k := range y {
					if y[k] > y[c] {
						c = k
					}
				}
			} else {
				u := labels.Float64()
				for c < K-1 && u >= y[c] {
					u -= y[c]
					c++
				}
			}
			if s.Flip > 0 && labels.Float64() < s.Flip {
				c = (c + 1 + labels.IntN(K-1)) % K
			}
			for k := range tgt {
				tgt[k] = s.Smooth / float64(K)
			}
			tgt[c] += 1 - s.Smooth
		}
		set.Inputs = append(set.Inputs, x)
		set.Targets = append(set.Targets, tgt)
	}
	for i := 0; i < s.Teacher[0]; i++ {
		set.InputNames = append(set.InputNames, fmt.Sprintf("x%d", i))
	}
	for k := 0; k < K; k++ {
		set.TargetNames = append(set.TargetNames, fmt.Sprintf("y%d", k))
	}
	return set
}

// studentSpec is the network the setting trains.
func (s *Setting) studentSpec() model.Spec {
	if s.Task == SoftmaxTeacher {
		return model.Spec{Sizes: s.Student, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: s.Decay}
	}
	return model.Spec{Sizes: s.Student, Hidden: model.Tanh, Output: s.StudentOutput, Loss: model.SquaredError, Decay: s.Decay}
}

// NumParams is the number of parameters of the student.
func (s Setting) NumParams() int { return model.Spec{Sizes: s.Student}.NumParams() }
