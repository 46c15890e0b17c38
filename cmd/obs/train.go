package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gonum.org/v1/gonum/floats"

	"github.com/obs-toolkit/obs/model"
)

// seedStream is the PCG stream used for every seed given on the command line.
const seedStream = 0x6f6273 // "obs"

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seedStream)) }

func init() { register(10, trainCommand) }

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:      "train",
		Usage:     "train a network to a minimum of its training error",
		ArgsUsage: " ",
		Description: `Trains a multilayer perceptron on the training set by full-batch minimisation
of E(w) = (1/P) sum_p l_p(w) + (decay/2) ||w||^2 until ||grad E|| <= --grad-tol
(OBS assumes the network sits at a minimum) or --max-iter iterations, and
writes the model file (JSON: architecture, parameters in their documented
order with names, mask, provenance).

The initial weights come from --seed only: the same seed gives the same file.
--arch defaults to the OBS papers' networks: 2-2-1 for xor, 17-3-1 for monk1,
17-2-1 for monk2 and monk3.

--trainer adam or sgd trains by mini-batches instead (--epochs, --batch,
--lr, --momentum; patterns shuffled each epoch from --seed), for large sets
such as MNIST; it stops after --epochs, not at a minimum, and --restarts
does not apply.

Example:
  obs train --data xor --arch 2-2-1 --seed 1 --out xor.json
  obs train --data mnist --act relu --loss ce --trainer adam --epochs 10 --seed 1 --out lenet.json
  obs train --data monk1 --monk-dir ../shared/datasets/monk --seed 1 --out monk1.json`,
		Flags: append(dataFlags(true),
			&cli.StringFlag{Name: "arch", Usage: "layer sizes, input first, like `17-3-1` (default: the data set's usual network)"},
			&cli.StringFlag{Name: "act", Value: "sigmoid", Usage: "hidden activation: sigmoid, tanh, relu or identity"},
			&cli.StringFlag{Name: "out-act", Usage: "output activation for mse: sigmoid, identity or tanh (default sigmoid; bce uses sigmoid, ce softmax)"},
			&cli.StringFlag{Name: "loss", Value: "mse", Usage: "loss: mse (squared error), bce (sigmoid + binary cross-entropy) or ce (softmax + cross-entropy)"},
			&cli.Float64Flag{Name: "decay", Value: 0, Usage: "L2 weight decay lambda in E = (1/P) sum l_p + (lambda/2)||w||^2"},
			&cli.StringFlag{Name: "trainer", Value: "lbfgs", Usage: "full batch: lbfgs, bfgs, lm (Levenberg–Marquardt, mse only) or gd (gradient descent with momentum); mini-batch: adam or sgd (with momentum)"},
			&cli.IntFlag{Name: "epochs", Value: model.DefaultEpochs, Usage: "adam, sgd: passes over the training set"},
			&cli.IntFlag{Name: "batch", Value: model.DefaultBatchSize, Usage: "adam, sgd: patterns per step"},
			&cli.Float64Flag{Name: "lr", Usage: "adam, sgd: learning rate (default 0.001 for adam, 0.05 for sgd)"},
			&cli.Float64Flag{Name: "momentum", Value: model.DefaultMomentum, Usage: "sgd: momentum (0: none)"},
			&cli.Float64Flag{Name: "lr-decay", Value: 1, Usage: "adam, sgd: multiply the learning rate by this after every epoch (1: constant)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the initial weights"},
			&cli.IntFlag{Name: "restarts", Value: 5, Usage: "train from N initial weights drawn in turn from --seed's stream and keep the lowest final E (small networks such as 2-2-1 on XOR have local minima)"},
			&cli.Float64Flag{Name: "grad-tol", Value: 1e-8, Usage: "stop when ||grad E||_2 falls to this"},
			&cli.IntFlag{Name: "max-iter", Value: 0, Usage: "iteration cap (0: the trainer's default, 10000; gd 200000)"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "model `FILE` to write (JSON)"},
		),
		Action: runTrain,
	}
}

// trainSummary is the JSON summary of obs train.
type trainSummary struct {
	Out           string    `json:"out"`
	Data          string    `json:"data"`
	DataSource    string    `json:"data_source"`
	Arch          string    `json:"arch"`
	Loss          string    `json:"loss"`
	Decay         float64   `json:"decay"`
	Seed          uint64    `json:"seed"`
	Trainer       string    `json:"trainer"`
	Params        int       `json:"params"`
	TrainError    float64   `json:"train_error"`
	TrainAccuracy *float64  `json:"train_accuracy,omitempty"`
	TestError     *float64  `json:"test_error,omitempty"`
	TestAccuracy  *float64  `json:"test_accuracy,omitempty"`
	GradNorm      float64   `json:"grad_norm"`
	Converged     bool      `json:"converged"`
	Restarts      int       `json:"restarts"`
	RestartErrors []float64 `json:"restart_errors"`
	Iterations    int       `json:"iterations"`
	Evaluations   int       `json:"evaluations"`
	Status        string    `json:"status"`
	Epochs        int       `json:"epochs,omitempty"`
	BatchSize     int       `json:"batch_size,omitempty"`
	LearningRate  float64   `json:"learning_rate,omitempty"`
	LRDecay       float64   `json:"lr_decay,omitempty"`
	EpochLoss     []float64 `json:"epoch_loss,omitempty"`
	// TrainSeconds is the wall time of the mini-batch training loop alone
	// (no data loading or evaluation); it is the one field that differs
	// between identical runs.
	TrainSeconds float64 `json:"train_seconds,omitempty"`
}

// specFromFlags builds the network spec from --arch, --act, --out-act,
// --loss and --decay.
func specFromFlags(c *cli.Context, defArch []int) (model.Spec, error) {
	var spec model.Spec
	var err error
	spec.Sizes = defArch
	if a := c.String("arch"); a != "" {
		if spec.Sizes, err = model.ParseArch(a); err != nil {
			return spec, usageError{err}
		}
	}
	if spec.Hidden, err = model.ParseActivation(c.String("act")); err != nil {
		return spec, usageError{err}
	}
	if spec.Loss, err = model.ParseLoss(c.String("loss")); err != nil {
		return spec, usageError{err}
	}
	spec.Output = spec.Loss.DefaultOutput()
	if o := c.String("out-act"); o != "" {
		if spec.Output, err = model.ParseActivation(o); err != nil {
			return spec, usageError{err}
		}
	}
	spec.Decay = c.Float64("decay")
	if err := spec.Validate(); err != nil {
		return spec, usageError{err}
	}
	return spec, nil
}

func runTrain(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("train takes no arguments, got %q", strings.Join(c.Args().Slice(), " "))
	}
	if _, err := model.ParseOptimizer(c.String("trainer")); err == nil {
		return runTrainMiniBatch(c)
	}
	method, err := model.ParseMethod(c.String("trainer"))
	if err != nil {
		return usagef("unknown --trainer %q (want lbfgs, bfgs, lm, gd, adam or sgd)", c.String("trainer"))
	}
	for _, f := range []string{"epochs", "batch", "lr", "momentum", "lr-decay"} {
		if c.IsSet(f) {
			return usagef("--%s applies to the mini-batch trainers adam and sgd, not --trainer %s", f, method)
		}
	}
	gradTol := c.Float64("grad-tol")
	if !(gradTol >= 0) || math.IsInf(gradTol, 0) {
		return usagef("--grad-tol %v must be a finite number >= 0", gradTol)
	}
	if c.Int("max-iter") < 0 {
		return usagef("--max-iter %d must be >= 0", c.Int("max-iter"))
	}
	train, test, err := loadData(c)
	if err != nil {
		return err
	}
	spec, err := specFromFlags(c, defaultArch(c.String("data"), train))
	if err != nil {
		return err
	}
	if method == model.LM && spec.Loss != model.SquaredError {
		return usagef("--trainer lm needs --loss mse, not %v", spec.Loss)
	}
	out := c.String("out")
	if err := checkOutputPath(out); err != nil {
		return err
	}
	m, err := model.New(spec)
	if err != nil {
		return usageError{err}
	}
	if err := checkFits(m, train); err != nil {
		return usageError{err}
	}
	seed := c.Uint64("seed")
	restarts := c.Int("restarts")
	if restarts < 1 {
		return usagef("--restarts %d must be >= 1", restarts)
	}
	b := newBar(c, -1, "training")
	calls := 0
	settings := &model.TrainSettings{
		Method:  method,
		GradTol: gradTol,
		MaxIter: c.Int("max-iter"),
		Stop:    func() bool { return interrupted(c) },
		Progress: func(p model.TrainProgress) {
			calls++
			b.Set(calls, "training (%d starts): E %.3g  |grad E| %.3g", restarts, p.E, p.GradNorm)
		},
	}
	m, rr, err := model.TrainRestarts(m, train.Inputs, train.Targets, settings, newRand(seed), restarts)
	b.Done()
	res, finals := rr.Best, rr.Errors
	if err != nil {
		return err
	}
	if interrupted(c) {
		return errInterrupted
	}

	s := trainSummary{
		Out: out, Data: train.Name, DataSource: train.Source, Arch: model.Arch(spec.Sizes),
		Loss: spec.Loss.String(), Decay: spec.Decay, Seed: seed, Trainer: res.Method,
		Params: len(m.Params), GradNorm: res.GradNorm, Converged: res.Converged,
		Iterations: res.Iterations, Evaluations: res.Evaluations, Status: res.Status,
		Restarts: restarts, RestartErrors: finals,
	}
	tr := evalSet(m, train)
	s.TrainError, s.TrainAccuracy = tr.Error, tr.Accuracy
	if test != nil {
		te := evalSet(m, test)
		s.TestError, s.TestAccuracy = &te.Error, te.Accuracy
	}
	prov := model.Provenance{
		Command: "obs " + strings.Join(os.Args[1:], " "), Data: train.Name, DataSource: train.Source,
		Seed: &seed, Trainer: res.Method, TrainError: &s.TrainError, GradNorm: &s.GradNorm,
		TrainAccuracy: s.TrainAccuracy, TestAccuracy: s.TestAccuracy,
		Iterations: res.Iterations, Evaluations: res.Evaluations, Status: res.Status,
	}
	if err := m.ToFile(prov, nil).Save(out); err != nil {
		return err
	}
	if !res.Converged {
		info(c, "warning: training stopped before ||grad E|| <= %g (%s); OBS assumes a minimum\n", gradTol, res.Status)
	}
	info(c, "wrote %s (%s, %d parameters, seed %d)\n", out, model.Arch(spec.Sizes), len(m.Params), seed)
	return emit(c, s)
}

// checkOutputPath fails early, before any work, if path cannot be written.
func checkOutputPath(path string) error {
	if path == "" {
		return usagef("output path is empty")
	}
	dir := "."
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir = path[:i]
		if dir == "" {
			dir = "/"
		}
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist", dir)
	}
	f, err := os.CreateTemp(dir, ".obs-probe-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable", dir)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// runTrainMiniBatch is obs train with --trainer adam or sgd.
func runTrainMiniBatch(c *cli.Context) error {
	opt, _ := model.ParseOptimizer(c.String("trainer"))
	for _, f := range []string{"restarts", "grad-tol", "max-iter"} {
		if c.IsSet(f) {
			return usagef("--%s applies to the full-batch trainers, not --trainer %s", f, opt)
		}
	}
	if c.IsSet("momentum") && opt != model.SGD {
		return usagef("--momentum applies to --trainer sgd, not %s", opt)
	}
	set := &model.MiniBatchSettings{Optimizer: opt, Epochs: c.Int("epochs"), BatchSize: c.Int("batch"), LearningRate: c.Float64("lr"), Momentum: c.Float64("momentum"), Decay: c.Float64("lr-decay"), Seed: c.Uint64("seed")}
	switch {
	case set.Epochs < 1:
		return usagef("--epochs %d must be >= 1", set.Epochs)
	case set.BatchSize < 1:
		return usagef("--batch %d must be >= 1", set.BatchSize)
	case c.IsSet("lr") && !(set.LearningRate > 0 && !math.IsInf(set.LearningRate, 0)):
		return usagef("--lr %v must be a finite number > 0", set.LearningRate)
	case !(set.Decay > 0 && set.Decay <= 1):
		return usagef("--lr-decay %v must be in (0, 1]", set.Decay)
	case !(set.Momentum >= 0 && set.Momentum < 1):
		return usagef("--momentum %v must be in [0, 1)", set.Momentum)
	}
	if set.Momentum == 0 {
		set.Momentum = -1 // none (zero selects the default in model)
	}
	train, test, err := loadData(c)
	if err != nil {
		return err
	}
	spec, err := specFromFlags(c, defaultArch(c.String("data"), train))
	if err != nil {
		return err
	}
	out := c.String("out")
	if err := checkOutputPath(out); err != nil {
		return err
	}
	m, err := model.New(spec)
	if err != nil {
		return usageError{err}
	}
	if err := checkFits(m, train); err != nil {
		return usageError{err}
	}
	seed := c.Uint64("seed")
	m.Init(newRand(seed))
	steps := set.Epochs * ((train.Len() + min(set.BatchSize, train.Len()) - 1) / min(set.BatchSize, train.Len()))
	b := newBar(c, steps, "training")
	done := 0
	set.Stop = func() bool { return interrupted(c) }
	set.Progress = func(p model.MiniBatchProgress) {
		done++
		b.Set(done, "epoch %d/%d: E %.4g", p.Epoch, set.Epochs, p.Loss)
	}
	start := time.Now()
	res, err := model.TrainMiniBatch(m, train.Inputs, train.Targets, set)
	elapsed := time.Since(start).Seconds()
	b.Done()
	if err != nil {
		return err
	}
	if interrupted(c) {
		return errInterrupted
	}
	grad := make([]float64, len(m.Params))
	m.BatchGrad(grad, train.Inputs, train.Targets)
	s := trainSummary{
		Out: out, Data: train.Name, DataSource: train.Source, Arch: model.Arch(spec.Sizes),
		Loss: spec.Loss.String(), Decay: spec.Decay, Seed: seed, Trainer: res.Optimizer,
		Params: len(m.Params), GradNorm: floats.Norm(grad, 2), Restarts: 1, RestartErrors: []float64{res.E},
		Iterations: res.Steps, Evaluations: res.Epochs, Status: res.Status,
		Epochs: res.Epochs, BatchSize: set.BatchSize, LearningRate: c.Float64("lr"), LRDecay: set.Decay, EpochLoss: res.EpochLoss,
		TrainSeconds: elapsed,
	}
	tr := evalSet(m, train)
	s.TrainError, s.TrainAccuracy = tr.Error, tr.Accuracy
	if test != nil {
		te := evalSet(m, test)
		s.TestError, s.TestAccuracy = &te.Error, te.Accuracy
	}
	prov := model.Provenance{
		Command: "obs " + strings.Join(os.Args[1:], " "), Data: train.Name, DataSource: train.Source,
		Seed: &seed, Trainer: res.Optimizer, TrainError: &s.TrainError, GradNorm: &s.GradNorm,
		TrainAccuracy: s.TrainAccuracy, TestAccuracy: s.TestAccuracy,
		Iterations: res.Steps, Evaluations: res.Epochs, Status: res.Status,
	}
	if err := m.ToFile(prov, nil).Save(out); err != nil {
		return err
	}
	acc := ""
	if s.TestAccuracy != nil {
		acc = fmt.Sprintf(", test accuracy %.2f%%", 100**s.TestAccuracy)
	}
	info(c, "wrote %s (%s, %d parameters, %s, %d epochs, seed %d%s)\n", out, model.Arch(spec.Sizes), len(m.Params), res.Optimizer, res.Epochs, seed, acc)
	return emit(c, s)
}
