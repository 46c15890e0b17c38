package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
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
--model FILE instead continues training a model file from its weights, for
instance a pruned model (fine-tuning): its network, loss, standardisation and
class and input names are kept, its pruned weights stay exactly 0, and the
data default to those it records; the file written records this training
and keeps the history (pruning steps included) of the one it came from.
--arch defaults to the OBS papers' networks: 2-2-1 for xor, 17-3-1 for monk1,
17-2-1 for monk2 and monk3.

CSV files: with --loss ce (or bce, two classes) the --target column holds class
labels as they come (setosa, 3, yes), one-hot encoded in numeric order when all
are numbers, else string order; --test FILE or --split F --split-seed S holds
out a test set; --standardize scales the inputs with the training set's mean
and deviation. The model file records all of it, so later commands need no
data flags.

--trainer adam or sgd trains by mini-batches instead (--epochs, --batch,
--lr, --momentum, --lr-decay or --lr-schedule cosine; patterns shuffled each
epoch from --seed), for large sets such as MNIST; it stops after --epochs,
not at a minimum, and --restarts does not apply.

--input CxHxW and --layers name the layers in order instead of --arch and
--act (the MLP shorthand; giving both is a usage error): linear:OUT,
conv:OUT:K (options :s=S stride, :p=P zero padding, :nobias), maxpool:K,
avgpool:K, flatten and the activations; the last layer's outputs go to the
loss's output activation (softmax for ce).

Example:
  obs train --data xor --arch 2-2-1 --seed 1 --out xor.json
  obs train --data wine.csv --target class --loss ce --standardize --split 0.3 --arch 13-8-3 --out wine.json
  obs train --data mnist --act relu --loss ce --trainer adam --epochs 10 --seed 1 --out lenet.json
  obs train --data mnist --input 1x28x28 --layers "` + lenet5 + `" \
    --loss ce --trainer adam --epochs 1 --seed 1 --out lenet5.json
  obs train --data monk1 --monk-dir ../shared/datasets/monk --seed 1 --out monk1.json
  obs train --model lenet-90.json --trainer adam --epochs 1 --lr 1e-4 --out lenet-90-ft.json`,
		Flags: append(dataFlags(false),
			&cli.StringFlag{Name: "model", Usage: "continue training the model `FILE` from its weights (fine-tuning after pruning): its network, loss, standardisation and names are kept, pruned weights stay 0, and the data default to those it records; --seed then seeds only adam's and sgd's shuffling"},
			&cli.StringFlag{Name: "arch", Usage: "layer sizes, input first, like `17-3-1` (default: the data set's usual network)"},
			&cli.StringFlag{Name: "act", Value: "sigmoid", Usage: "hidden activation: " + model.HiddenActivations},
			inputFlag(), layersFlag(),
			&cli.StringFlag{Name: "out-act", Usage: "output activation for mse: sigmoid, identity or tanh (default sigmoid; bce uses sigmoid, ce softmax)"},
			&cli.StringFlag{Name: "loss", Value: "mse", Usage: "loss: mse (squared error), bce (sigmoid + binary cross-entropy) or ce (softmax + cross-entropy)"},
			&cli.Float64Flag{Name: "decay", Value: 0, Usage: "L2 weight decay lambda in E = (1/P) sum l_p + (lambda/2)||w||^2"},
			&cli.StringFlag{Name: "trainer", Value: "lbfgs", Usage: "full batch: lbfgs, bfgs, lm (Levenberg–Marquardt, mse only) or gd (gradient descent with momentum); mini-batch: adam or sgd (with momentum)"},
			&cli.IntFlag{Name: "epochs", Value: model.DefaultEpochs, Usage: "adam, sgd: passes over the training set"},
			&cli.IntFlag{Name: "batch", Value: model.DefaultBatchSize, Usage: "adam, sgd: patterns per step"},
			&cli.Float64Flag{Name: "lr", Usage: "adam, sgd: learning rate (default 0.001 for adam, 0.05 for sgd)"},
			&cli.Float64Flag{Name: "momentum", Value: model.DefaultMomentum, Usage: "sgd: momentum (0: none)"},
			&cli.Float64Flag{Name: "lr-decay", Value: 1, Usage: "adam, sgd: multiply the learning rate by this after every epoch (1: constant)"},
			&cli.StringFlag{Name: "lr-schedule", Value: "step", Usage: "adam, sgd: step (the rate of --lr-decay, constant within an epoch) or cosine (every step's rate --lr (1 + cos(pi t/S))/2 over all S steps, to near 0 at the end; not with --lr-decay)"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the initial weights and of adam's and sgd's shuffling (with --model: of the shuffling only)"},
			&cli.IntFlag{Name: "restarts", Value: 5, Usage: "train from N initial weights drawn in turn from --seed's stream and keep the lowest final E (small networks such as 2-2-1 on XOR have local minima)"},
			&cli.Float64Flag{Name: "grad-tol", Value: model.DefaultGradTol, Usage: "stop when ||grad E||_2 falls to this (> 0); absolute, in the units of E: with regression targets of scale s, E and its gradient grow like s^2, so scale it with them (there is no relative tolerance)"},
			&cli.IntFlag{Name: "max-iter", Value: 0, Usage: "cap on the iterations of every stage together, the Newton-CG polish included (0: the trainer's default, 10000; gd 200000)"},
			&cli.BoolFlag{Name: "standardize", Usage: "scale every input to mean 0, standard deviation 1 on the training set; the statistics are stored in the model file and applied by every later command"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "model `FILE` to write (JSON)"},
			memoryFlag(),
		),
		Action: runTrain,
	}
}

// specFromFlags builds the network spec from --arch, --act, --out-act,
// --loss and --decay.
func specFromFlags(c *cli.Context, defArch []int) (model.Spec, error) {
	var spec model.Spec
	var err error
	if c.IsSet("layers") || c.IsSet("input") {
		inputs := 0
		if len(defArch) > 0 {
			inputs = defArch[0]
		}
		if spec.Input, spec.Layers, err = layersFromFlags(c, inputs); err != nil {
			return spec, err
		}
	} else {
		spec.Sizes = defArch
		if a := c.String("arch"); a != "" {
			if spec.Sizes, err = model.ParseArch(a); err != nil {
				return spec, usageError{err}
			}
		}
		if spec.Hidden, err = model.ParseActivation(c.String("act")); err != nil {
			return spec, usageError{err}
		}
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
	check := spec
	if len(spec.Layers) > 0 {
		// A layer list is checked as the network it makes, bn folded
		// (obs import folds it; obs train refuses it in model.New).
		if check, err = spec.Folded(); err != nil {
			return spec, usageError{err}
		}
	}
	// Every activation was named (or is the loss's default): a sigmoid
	// output with ce is an error, not the zero Output standing for softmax.
	if err := check.ValidateGiven(); err != nil {
		return spec, usageError{err}
	}
	return spec, nil
}

func runTrain(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("train takes no arguments, got %q", strings.Join(c.Args().Slice(), " "))
	}
	// The trainer decides which flags apply: the full-batch ones train to a
	// minimum, the mini-batch ones (adam, sgd) for a number of epochs.
	var (
		method model.Method
		mini   *model.MiniBatchSettings
	)
	if opt, err := model.ParseOptimizer(c.String("trainer")); err == nil {
		if mini, err = miniBatchSettings(c, opt); err != nil {
			return err
		}
		method = model.GD // what the memory estimate counts: vectors only
	} else {
		if method, err = model.ParseMethod(c.String("trainer")); err != nil {
			return usagef("unknown --trainer %q (want lbfgs, bfgs, lm, gd, adam or sgd)", c.String("trainer"))
		}
		if err := refuse(c, []string{"epochs", "batch", "lr", "momentum", "lr-decay", "lr-schedule"}, fmt.Sprintf("applies to the mini-batch trainers adam and sgd, not --trainer %s", method)); err != nil {
			return err
		}
		gradTol := c.Float64("grad-tol")
		if !(gradTol > 0) || math.IsInf(gradTol, 0) {
			return usagef("--grad-tol %v must be a finite number > 0 (0 can never be reached in floating point; the default is %g)", gradTol, model.DefaultGradTol)
		}
		if c.Int("max-iter") < 0 {
			return usagef("--max-iter %d must be >= 0", c.Int("max-iter"))
		}
		if c.Int("restarts") < 1 {
			return usagef("--restarts %d must be >= 1", c.Int("restarts"))
		}
	}
	if c.IsSet("model") {
		return runTrainFrom(c, mini, method)
	}
	if !c.IsSet("data") {
		return usagef("--data is required (or --model FILE, to continue training a model file on the data it records)")
	}
	loss, err := model.ParseLoss(c.String("loss"))
	if err != nil {
		return usageError{err}
	}
	train, test, dspec, err := loadDataWith(c, dataCtx{loss: loss})
	if err != nil {
		return err
	}
	var std *model.Standardization
	if c.Bool("standardize") {
		if std, err = train.Standardization(); err != nil {
			return err
		}
		train = train.Standardized(std.Mean, std.Std)
		if test != nil {
			test = test.Standardized(std.Mean, std.Std)
		}
	}
	spec, err := specFromFlags(c, datasets.DefaultArch(c.String("data"), train))
	if err != nil {
		return err
	}
	if mini == nil && method == model.LM && spec.Loss != model.SquaredError {
		return usagef("--trainer lm needs --loss mse, not %v", spec.Loss)
	}
	if err := checkMemory(c, resources.EstimateTrain(spec, method), resources.TrainAlternatives(method)); err != nil {
		return err
	}
	out := c.String("out")
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	m, err := model.New(spec)
	if err != nil {
		return usageError{err}
	}
	for _, s := range []*datasets.Set{train, test} {
		if s == nil {
			continue
		}
		if err := datasets.CheckFits(m, s); err != nil {
			return usageError{err}
		}
		if err := datasets.CheckTargets(spec, s); err != nil {
			return usageError{err}
		}
	}
	seed := c.Uint64("seed")
	var s study.TrainSummary
	if mini != nil {
		m.Init(newRand(seed))
		m, s, err = trainMiniBatch(c, m, train, mini)
	} else {
		m, s, err = trainFullBatch(c, m, train, method, seed)
	}
	if err != nil {
		return err
	}
	if interrupted(c) {
		return errInterrupted
	}
	s.Out = out
	s.Complete(m, spec, train, test, seed, std != nil)
	prov := s.Provenance("obs " + strings.Join(os.Args[1:], " "))
	file := stamp(m.ToFile(prov, nil))
	file.Standardize = std
	datasets.Record(file, &dspec, train)
	if err := file.Save(out); err != nil {
		return err
	}
	acc := afterTraining(c, &s, mini == nil)
	info(c, "wrote %s (%s, %d parameters, %s, seed %d%s)\n", out, s.Arch, len(m.Params), s.Trainer, seed, acc)
	return emit(c, s)
}

// afterTraining says (stderr) when full-batch training s stopped short of
// --grad-tol (OBS assumes a minimum) and returns the test accuracy for the
// closing log line ("" without a test set).
func afterTraining(c *cli.Context, s *study.TrainSummary, fullBatch bool) (acc string) {
	if s.TestAccuracy != nil {
		acc = fmt.Sprintf(", test accuracy %.2f%%", 100**s.TestAccuracy)
	}
	if fullBatch && !s.Converged {
		info(c, "warning: training stopped before ||grad E|| <= %g (%s), at ||grad E|| %.3g with E %.3g; OBS assumes a minimum. --grad-tol is absolute, in the units of E: targets of scale s make E and its gradient about s^2 larger, so scale --grad-tol (or the targets) with them\n", c.Float64("grad-tol"), s.Status, s.GradNorm, s.TrainError)
	}
	return acc
}

// trainFullBatch trains m to a minimum from --restarts starts and returns
// the best network with the training part of the summary.
func trainFullBatch(c *cli.Context, m *model.MLP, train *datasets.Set, method model.Method, seed uint64) (*model.MLP, study.TrainSummary, error) {
	restarts := c.Int("restarts")
	b := newBar(c, -1, "training")
	calls := 0
	settings := &model.TrainSettings{
		Method:  method,
		GradTol: c.Float64("grad-tol"),
		MaxIter: c.Int("max-iter"),
		Stop:    func() bool { return interrupted(c) },
		Progress: func(p model.TrainProgress) {
			calls++
			b.Set(calls, "training (%d starts): E %.3g  |grad E| %.3g", restarts, p.E, p.GradNorm)
		},
	}
	m, rr, err := model.TrainRestarts(m, train.Inputs, train.Targets, settings, newRand(seed), restarts)
	b.Done()
	if err != nil {
		return nil, study.TrainSummary{}, err
	}
	return m, study.NewFullBatchSummary(rr, restarts), nil
}

// miniBatchSettings reads the flags of --trainer adam or sgd.
func miniBatchSettings(c *cli.Context, opt model.Optimizer) (*model.MiniBatchSettings, error) {
	if err := refuse(c, []string{"restarts", "grad-tol", "max-iter"}, fmt.Sprintf("applies to the full-batch trainers, not --trainer %s", opt)); err != nil {
		return nil, err
	}
	if c.IsSet("momentum") && opt != model.SGD {
		return nil, usagef("--momentum applies to --trainer sgd, not %s", opt)
	}
	set := &model.MiniBatchSettings{Optimizer: opt, Epochs: c.Int("epochs"), BatchSize: c.Int("batch"), LearningRate: c.Float64("lr"), Momentum: c.Float64("momentum"), Decay: c.Float64("lr-decay"), Seed: c.Uint64("seed")}
	switch {
	case set.Epochs < 1:
		return nil, usagef("--epochs %d must be >= 1", set.Epochs)
	case set.BatchSize < 1:
		return nil, usagef("--batch %d must be >= 1", set.BatchSize)
	case c.IsSet("lr") && !(set.LearningRate > 0 && !math.IsInf(set.LearningRate, 0)):
		return nil, usagef("--lr %v must be a finite number > 0", set.LearningRate)
	case !(set.Decay > 0 && set.Decay <= 1):
		return nil, usagef("--lr-decay %v must be in (0, 1]", set.Decay)
	case !(set.Momentum >= 0 && set.Momentum < 1):
		return nil, usagef("--momentum %v must be in [0, 1)", set.Momentum)
	}
	set.NoMomentum = set.Momentum == 0 // --momentum 0: none (a zero Momentum is the default)
	var err error
	if set.Schedule, err = model.ParseSchedule(c.String("lr-schedule")); err != nil {
		return nil, usagef("--lr-schedule %q: want step or cosine", c.String("lr-schedule"))
	}
	if set.Schedule == model.Cosine && c.IsSet("lr-decay") {
		return nil, usagef("--lr-decay does not apply with --lr-schedule cosine (the cosine sets every step's rate)")
	}
	return set, nil
}

// trainMiniBatch trains m for set.Epochs from its weights and returns it
// with the training part of the summary.
func trainMiniBatch(c *cli.Context, m *model.MLP, train *datasets.Set, set *model.MiniBatchSettings) (*model.MLP, study.TrainSummary, error) {
	per := min(set.BatchSize, train.Len())
	b := newBar(c, set.Epochs*((train.Len()+per-1)/per), "training")
	done := 0
	set.Stop = func() bool { return interrupted(c) }
	set.GradNorm = true // the summary's ||grad E||, from the pass that evaluates E
	set.Progress = func(p model.MiniBatchProgress) {
		done++
		b.Set(done, "epoch %d/%d: E %.4g", p.Epoch, set.Epochs, p.Loss)
	}
	res, err := model.TrainMiniBatch(m, train.Inputs, train.Targets, set)
	b.Done()
	if err != nil {
		return nil, study.TrainSummary{}, err
	}
	return m, study.NewMiniBatchSummary(m, train, set, res, c.Float64("lr")), nil
}
