package study

import (
	"fmt"
	"math/rand/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// Task is the kind of problem a Setting trains a student on.
type Task int

const (
	// TeacherStudent is regression with squared error on the outputs of a
	// fixed random teacher network plus Gaussian noise.
	TeacherStudent Task = iota
	// Monk is one of the MONK's problems with sigmoid output and binary
	// cross-entropy (the built-in UCI files, or another copy read from a
	// MONK's directory).
	Monk
	// SoftmaxTeacher is 3-class classification with softmax cross-entropy,
	// labels drawn from a fixed random softmax teacher.
	SoftmaxTeacher
)

// Factor is one of the conditions the study varies, with its settings.
type Factor struct {
	// Key is a short identifier ("noise", "progress", ...), Title a heading.
	Key, Title string
	Settings   []Setting
}

// Setting is one row of a factor's table: a problem, a student and how it
// is trained. Every random draw comes from the seed given to Run (see
// Setting.data), so a setting with a seed is reproducible.
type Setting struct {
	// Label names the row, e.g. "σ = 0.1".
	Label string
	Task  Task

	// Teacher and Student are layer sizes. Teacher–student regression uses
	// tanh hidden units and an identity-output teacher; the student's
	// output is StudentOutput (identity: well specified). SoftmaxTeacher
	// uses the same sizes for teacher and student.
	Teacher, Student []int
	StudentOutput    model.Activation
	// Sigma is the standard deviation of the Gaussian noise added to the
	// teacher's outputs (TeacherStudent).
	Sigma float64
	// P is the number of training patterns (TeacherStudent, SoftmaxTeacher).
	P int
	// Argmax labels each pattern with the teacher's most probable class
	// instead of a class drawn from its probabilities (SoftmaxTeacher).
	Argmax bool

	// Problem is the MONK's problem number, 1..3 (Monk).
	Problem int

	// Decay is the student's weight decay lambda.
	Decay float64
	// GradTol is the training tolerance on ||grad E||_2 (0: the model's
	// default, 1e-8).
	GradTol float64
	// FromTeacher trains the student from one start, the teacher's weights
	// plus N(0, startNoise^2) noise (the student must have the teacher's
	// architecture): the well-specified student is measured at the minimum
	// in the teacher's basin, not at a local minimum that an unlucky random
	// start finds (those have systematic residuals, a misspecification).
	FromTeacher bool
	// Path trains one start in stages, stopping at each tolerance of
	// ProgressTols down to GradTol, so that the settings of the progress
	// factor are points on one training path. The start is the best of
	// Restarts random starts (lowest E when trained to the default
	// tolerance), so the path ends at a good minimum.
	Path bool
	// Restarts is the number of random starts (Glorot initialisation,
	// model.MLP.Init); the lowest final E is kept.
	Restarts int
}

// ProgressTols are the gradient tolerances at which the progress factor
// stops the student on its way to the minimum.
var ProgressTols = []float64{1e-1, 1e-2, 1e-3, 1e-5, 1e-8}

// Sizes of the study, and of the quick version used by tests.
const (
	teacherHidden = 6
	inputs        = 4
	basePFull     = 512
	basePQuick    = 64
	baseSigma     = 0.1
	restartsFull  = 3
	restartsQuick = 2
	classes       = 3
	softmaxHidden = 5
	// teacherScale is the standard deviation of the teachers' parameters
	// (biases included), drawn from N(0, teacherScale^2).
	teacherScale = 1.0
	// softmaxScale is that of the softmax teacher.
	softmaxScale = 1.0
	// startNoise is the standard deviation of the perturbation of the
	// teacher's weights that FromTeacher starts from.
	startNoise = 0.1
)

// Settings returns the factors of the study; quick shrinks them for tests.
func Settings(quick bool) []Factor {
	P, restarts := basePFull, restartsFull
	sigmas := []float64{0, 0.01, 0.03, 0.1, 0.3}
	patterns := []int{8, 32, 128, 512, 2048}
	if quick {
		P, restarts = basePQuick, restartsQuick
		sigmas = []float64{0, 0.03, 0.1}
		patterns = []int{8, 64}
	}
	arch := []int{inputs, teacherHidden, 1}
	ts := func(label string) Setting {
		return Setting{Label: label, Task: TeacherStudent, Teacher: arch, Student: arch, StudentOutput: model.Identity,
			Sigma: baseSigma, P: P, FromTeacher: true}
	}
	var noise, progress, mis, pat, cls []Setting
	for _, s := range sigmas {
		st := ts(fmt.Sprintf("σ = %g", s))
		st.Sigma = s
		noise = append(noise, st)
	}
	tols := ProgressTols
	if quick {
		tols = []float64{1e-1, 1e-8}
	}
	for _, g := range tols {
		st := ts(fmt.Sprintf("‖∇E‖ ≤ %g", g))
		st.GradTol, st.Path, st.FromTeacher, st.Restarts = g, true, false, restarts
		progress = append(progress, st)
	}
	well := ts(fmt.Sprintf("student %s identity (well specified)", model.Arch(arch)))
	mis = append(mis, well)
	hidden := []int{3, 2, 1}
	if quick {
		hidden = []int{1}
	}
	for _, h := range hidden {
		st := ts(fmt.Sprintf("student %s identity (smaller)", model.Arch([]int{inputs, h, 1})))
		st.Student, st.FromTeacher, st.Restarts = []int{inputs, h, 1}, false, restarts
		mis = append(mis, st)
	}
	sig := ts(fmt.Sprintf("student %s sigmoid output", model.Arch(arch)))
	sig.StudentOutput, sig.FromTeacher, sig.Restarts = model.Sigmoid, false, restarts
	mis = append(mis, sig)
	for _, p := range patterns {
		st := ts(fmt.Sprintf("P = %d", p))
		st.P = p
		pat = append(pat, st)
	}
	problems := []int{1, 2, 3}
	if quick {
		problems = []int{1}
	}
	for _, pr := range problems {
		// The OBS papers' networks and the decays of the README's runs.
		sizes, decay := []int{17, 3, 1}, 1e-4
		if pr > 1 {
			sizes = []int{17, 2, 1}
		}
		if pr == 3 {
			decay = 1e-3
		}
		cls = append(cls, Setting{Label: fmt.Sprintf("MONK-%d, %s, bce, λ = %g", pr, model.Arch(sizes), decay), Task: Monk,
			Problem: pr, Student: sizes, Decay: decay, Restarts: restarts})
	}
	// The softmax student needs more patterns than the quick base: with 64
	// sampled labels the classes can be separable and the weights diverge.
	// The small decay removes the softmax's shift invariance (adding a
	// constant to every logit), a null space of G that stalls training.
	sm, smP := []int{inputs, softmaxHidden, classes}, max(P, 256)
	cls = append(cls,
		Setting{Label: fmt.Sprintf("softmax teacher %s, sampled labels, ce, λ = 1e-4", model.Arch(sm)), Task: SoftmaxTeacher,
			Teacher: sm, Student: sm, P: smP, Decay: 1e-4, FromTeacher: true},
		Setting{Label: fmt.Sprintf("softmax teacher %s, argmax labels, ce, λ = 1e-3", model.Arch(sm)), Task: SoftmaxTeacher,
			Teacher: sm, Student: sm, P: smP, Argmax: true, Decay: 1e-3, FromTeacher: true})
	return []Factor{
		{"noise", "Residual size and noise", noise},
		{"progress", "Training progress", progress},
		{"misspec", "Misspecification", mis},
		{"patterns", "Number of patterns", pat},
		{"classification", "Classification with cross-entropy", cls},
	}
}

// Stream numbers of the PCG generators drawn from a seed, one per purpose,
// so that e.g. the noise does not change when P does.
const (
	streamTeacher uint64 = 0x7465616368 + iota // "teach"
	streamInputs
	streamNoise
	streamLabels
	streamStudent
)

func newRand(seed, stream uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, stream)) }

// teacher returns the teacher network of a setting for a seed: tanh hidden
// units, identity output (TeacherStudent) or softmax (SoftmaxTeacher),
// every parameter drawn from N(0, scale^2).
func (s *Setting) teacher(seed uint64) *model.MLP {
	spec := model.Spec{Sizes: s.Teacher, Hidden: model.Tanh, Output: model.Identity, Loss: model.SquaredError}
	scale := teacherScale
	if s.Task == SoftmaxTeacher {
		spec.Output, spec.Loss, scale = model.Softmax, model.CrossEntropy, softmaxScale
	}
	t, err := model.New(spec)
	if err != nil {
		panic("study: teacher: " + err.Error())
	}
	rng := newRand(seed, streamTeacher)
	for i := range t.Params {
		t.Params[i] = scale * rng.NormFloat64()
	}
	return t
}

// data returns the training set of a setting for a seed and, for the
// MONK's problems, its test set. Inputs are drawn row by row from N(0, I),
// so a smaller P uses the first rows of a larger one; the noise of pattern
// p is the same for every sigma.
func (s *Setting) data(seed uint64, monkDir string) (train, test *datasets.Set, err error) {
	if s.Task == Monk {
		return datasets.Load(fmt.Sprintf("monk%d", s.Problem), monkDir, nil)
	}
	t := s.teacher(seed)
	ws := t.NewWorkspace()
	in, noise, labels := newRand(seed, streamInputs), newRand(seed, streamNoise), newRand(seed, streamLabels)
	set := &datasets.Set{Name: s.Label, Source: fmt.Sprintf("teacher %s, seed %d", model.Arch(s.Teacher), seed)}
	K := s.Teacher[len(s.Teacher)-1]
	for p := 0; p < s.P; p++ {
		x := make([]float64, s.Teacher[0])
		for i := range x {
			x[i] = in.NormFloat64()
		}
		y := t.Forward(ws, x)
		tgt := make([]float64, K)
		switch {
		case s.Task == TeacherStudent:
			for k := range tgt {
				tgt[k] = y[k] + s.Sigma*noise.NormFloat64()
			}
		case s.Argmax:
			best := 0
			for k := range y {
				if y[k] > y[best] {
					best = k
				}
			}
			tgt[best] = 1
		default:
			u, c := labels.Float64(), 0
			for c < K-1 && u >= y[c] {
				u -= y[c]
				c++
			}
			tgt[c] = 1
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
	return set, nil, nil
}

// studentSpec is the network the setting trains.
func (s *Setting) studentSpec() model.Spec {
	switch s.Task {
	case Monk:
		return model.Spec{Sizes: s.Student, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.BinaryCrossEntropy, Decay: s.Decay}
	case SoftmaxTeacher:
		return model.Spec{Sizes: s.Student, Hidden: model.Tanh, Output: model.Softmax, Loss: model.CrossEntropy, Decay: s.Decay}
	}
	return model.Spec{Sizes: s.Student, Hidden: model.Tanh, Output: s.StudentOutput, Loss: model.SquaredError, Decay: s.Decay}
}
