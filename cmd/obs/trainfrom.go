package main

import (
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/internal/study"
	"github.com/obs-toolkit/obs/model"
)

// runTrainFrom is obs train --model FILE: it continues training the
// network of a model file from its weights (fine-tuning a pruned model),
// with its architecture, loss, standardisation, class and input names,
// and its pruning mask (pruned weights stay exactly 0). The data default
// to those the file records. The written file holds the new weights, the
// provenance of this training and the input file's history extended by
// this command (with the provenance it replaced).
func runTrainFrom(c *cli.Context, mini *model.MiniBatchSettings, method model.Method) error {
	if err := refuse(c, []string{"arch", "act", "input", "layers", "out-act", "loss"}, "does not apply with --model (the network is the model file's)"); err != nil {
		return err
	}
	if err := refuse(c, []string{"standardize"}, "does not apply with --model (the model file's standardisation, if any, is applied)"); err != nil {
		return err
	}
	if err := refuse(c, []string{"restarts"}, "does not apply with --model (training starts once, from the model file's weights)"); err != nil {
		return err
	}
	if mini == nil {
		if err := refuse(c, []string{"seed"}, fmt.Sprintf("does not apply with --model and --trainer %s (no initial weights are drawn; with adam or sgd it seeds the shuffling)", method)); err != nil {
			return err
		}
	}
	m, file, train, test, err := loadModelData(c)
	if err != nil {
		return err
	}
	if c.IsSet("decay") {
		d := c.Float64("decay")
		if !(d >= 0) || math.IsInf(d, 0) {
			return usagef("--decay %v must be a finite number >= 0", d)
		}
		m.Decay = d
	}
	if mini == nil && method == model.LM && m.Loss != model.SquaredError {
		return usagef("--trainer lm needs --loss mse, not the model's %v", m.Loss)
	}
	if err := checkMemory(c, resources.EstimateTrain(m.Spec, method), resources.TrainAlternatives(method)); err != nil {
		return err
	}
	out := c.String("out")
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	pruned := len(m.Params) - m.NumFree()
	var s study.TrainSummary
	seed := c.Uint64("seed")
	if mini != nil {
		if _, s, err = trainMiniBatch(c, m, train, mini); err != nil {
			return err
		}
	} else {
		b := newBar(c, -1, "training")
		calls := 0
		res, err := model.Train(m, train.Inputs, train.Targets, &model.TrainSettings{
			Method: method, GradTol: c.Float64("grad-tol"), MaxIter: c.Int("max-iter"),
			Stop: func() bool { return interrupted(c) },
			Progress: func(p model.TrainProgress) {
				calls++
				b.Set(calls, "training: E %.3g  |grad E| %.3g", p.E, p.GradNorm)
			},
		})
		b.Done()
		if err != nil {
			return err
		}
		s = study.NewFullBatchSummary(model.RestartsResult{Best: res, Errors: []float64{res.E}}, 1)
	}
	if interrupted(c) {
		return errInterrupted
	}
	s.Out, s.From = out, c.String("model")
	s.Complete(m, m.Spec, train, test, seed, file.Standardize != nil)
	if mini == nil {
		s.Seed = nil // no weights drawn, no shuffling
	}
	hist, err := marshal(struct {
		Command  string           `json:"command"`
		From     string           `json:"from"`
		Replaced model.Provenance `json:"replaced_provenance"`
		Summary  any              `json:"summary"`
	}{"obs " + strings.Join(os.Args[1:], " "), c.String("model"), file.Provenance, s})
	if err != nil {
		return err
	}
	prov := s.Provenance("obs " + strings.Join(os.Args[1:], " "))
	f := stamp(m.ToFile(prov, append(file.History, hist))).CarryData(file)
	if err := withData(c, f, train).Save(out); err != nil {
		return err
	}
	acc := afterTraining(c, &s, mini == nil)
	info(c, "wrote %s (%s from %s, %d parameters, %d of them pruned and kept at 0, %s%s)\n", out, s.Arch, c.String("model"), len(m.Params), pruned, s.Trainer, acc)
	return emit(c, s)
}
