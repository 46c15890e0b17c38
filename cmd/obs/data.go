package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// dataFlags are the flags that say which data a command reads. required
// marks --data as required (obs train); commands that read a model file
// default to the data recorded in it.
func dataFlags(required bool) []cli.Flag {
	dataUsage := "training data: xor, monk1, monk2, monk3, mnist (built-in), nettalk (with --nettalk-dir) or PATH.csv"
	if !required {
		dataUsage += " (default: the data recorded in the model file)"
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "data", Required: required, Usage: dataUsage},
		&cli.StringFlag{Name: "monk-dir", Usage: "read the UCI files `DIR`/monks-N.train and monks-N.test instead of the copy built into obs"},
		&cli.StringFlag{Name: "target", Usage: "comma-separated target `COLS` of a CSV file (default: its last column); with --loss ce or bce one column of class labels"},
		&cli.StringFlag{Name: "test", Usage: "test set `FILE.csv`, read like --data (same columns)"},
		&cli.Float64Flag{Name: "split", Usage: "hold out the fraction `F` (0 < F < 1) of the --data rows as the test set, drawn with --split-seed; 0 holds out none (and switches off a split recorded in the model file)"},
		&cli.Uint64Flag{Name: "split-seed", Value: 1, Usage: "seed of the --split draw (the same seed gives the same split)"},
		&cli.StringFlag{Name: "nettalk-dir", Usage: "with --data nettalk: the `DIR` holding nettalk.data, features.tsv and common1000.txt (non-commercial corpus, not shipped; 7-letter window, train on the 1,000 common words, test on the rest)"},
		&cli.StringFlag{Name: "mnist-dir", Usage: "with --data mnist, read the four IDX files (train-images-idx3-ubyte.gz, ...; gzip or plain) from `DIR` instead of the embedded MNIST, e.g. Fashion-MNIST"},
	}
}

// dataCtx says how to read and encode the data for a model: its loss
// decides whether a CSV target column holds class labels; a model
// file supplies the class order, the standardisation and the recorded data.
type dataCtx struct {
	loss     model.Loss
	classes  []string
	std      *model.Standardization
	rec      *model.DataSpec
	inputs   []string // the model's input names: CSV columns are matched by them
	named    bool     // classes are the model file's own (not "0", "1", ... for want of names)
	noTarget bool     // the CSV may lack the target column (obs predict)
	noSplit  bool     // read every row of --data, ignoring a recorded split (obs predict)
}

// ctxOf returns the data context of a model file.
func ctxOf(m *model.MLP, f *model.File) dataCtx {
	dc := dataCtx{loss: m.Loss, classes: f.Classes, std: f.Standardize, rec: f.Data, inputs: f.InputNames, named: f.Classes != nil}
	if labels, _ := datasets.LabelsFor(m.Loss); labels && dc.classes == nil {
		// A classifier without class names (obs import without --classes):
		// its outputs are the classes "0", "1", ..., and labels in a CSV
		// must be those, never mapped to outputs in sorted order.
		dc.classes = datasets.ClassNames(m, nil)
	}
	return dc
}

// loadDataWith reads the data flags, falling back on the data recorded in
// dc.rec for every flag not given, encodes class labels as dc says, splits
// and applies dc.std.
func loadDataWith(c *cli.Context, dc dataCtx) (train, test *datasets.Set, spec model.DataSpec, err error) {
	if c.IsSet("data") {
		spec.Data = c.String("data")
	}
	rec := dc.rec
	if rec != nil && (spec.Data == "" || spec.Data == rec.Data) {
		spec = *rec
		if !c.IsSet("data") {
			spec.Data = resolveRecorded(c, "--data", spec.Data)
		}
		if !c.IsSet("test") && !c.IsSet("split") && spec.Test != "" {
			spec.Test = resolveRecorded(c, "--test", spec.Test)
		}
	} else {
		if rec != nil && datasets.IsCSVName(spec.Data) && datasets.IsCSVName(rec.Data) {
			// Another CSV file: its target is found by the name the
			// model was trained with (--target overrides it below).
			spec.Target = rec.Target
		}
		rec = nil
	}
	if spec.Data == "" {
		return nil, nil, spec, usagef("--data is required: the model file records no data set")
	}
	if t := c.String("target"); c.IsSet("target") {
		spec.Target = nil
		for _, s := range strings.Split(t, ",") {
			spec.Target = append(spec.Target, strings.TrimSpace(s))
		}
	}
	if c.IsSet("test") {
		spec.Test = c.String("test")
	}
	if c.IsSet("split") {
		spec.Split = c.Float64("split")
		if spec.Split != 0 && !(spec.Split > 0 && spec.Split < 1) {
			return nil, nil, spec, usagef("--split %v must be strictly between 0 and 1 (the fraction of rows held out), or 0 for none", spec.Split)
		}
		if spec.Split != 0 {
			spec.Test = ""
			if c.IsSet("test") {
				return nil, nil, spec, usagef("give --test or --split, not both")
			}
		}
	} else if c.IsSet("test") {
		spec.Split = 0
	}
	if c.IsSet("split-seed") && spec.Split == 0 {
		return nil, nil, spec, usagef("--split-seed applies only with a --split (given, or recorded in the model file)")
	}
	if c.IsSet("split-seed") || rec == nil || rec.Split == 0 {
		spec.SplitSeed = c.Uint64("split-seed") // the flag's default where nothing is recorded
	}
	if spec.Split == 0 {
		spec.SplitSeed = 0
	}
	if dc.noSplit {
		spec.Split, spec.SplitSeed, spec.Test = 0, 0, ""
	}

	isCSV := strings.HasSuffix(strings.ToLower(spec.Data), ".csv")
	// Flags of another kind of data are usage errors, not ignored.
	if c.IsSet("target") && !isCSV {
		return nil, nil, spec, usagef("--target names columns of a CSV file; %s has its own targets", spec.Data)
	}
	if c.IsSet("monk-dir") && spec.Data != "monk1" && spec.Data != "monk2" && spec.Data != "monk3" {
		return nil, nil, spec, usagef("--monk-dir applies only to --data monk1, monk2 or monk3, not %q", spec.Data)
	}
	labels, binary := datasets.LabelsFor(dc.loss)
	if len(spec.Target) > 1 {
		labels = false // several target columns are numeric (one-hot already)
	}
	opts := datasets.CSVOptions{Targets: spec.Target, Labels: labels, Binary: binary, Classes: dc.classes, NoTargets: dc.noTarget,
		TargetHint: "for class labels use --loss ce (or bce for two classes)", Inputs: dc.inputs}
	if c.String("mnist-dir") != "" && spec.Data != "mnist" {
		return nil, nil, spec, usagef("--mnist-dir applies only to --data mnist, not %q", spec.Data)
	}
	if spec.Data == "nettalk" || c.String("nettalk-dir") != "" {
		if err := nettalkFlags(c, spec); err != nil {
			return nil, nil, spec, err
		}
	}
	dirs := datasets.Dirs{Monk: c.String("monk-dir"), MNIST: c.String("mnist-dir"), Nettalk: c.String("nettalk-dir")}
	train, test, err = datasets.LoadNamed(spec.Data, spec.Target, dirs, opts)
	if u := (*datasets.UnknownClassError)(nil); isCSV && errors.As(err, &u) && !dc.named {
		err = fmt.Errorf("%v; the model file names no classes, so its outputs are the classes %q: give the class names in output order with obs import --classes", err, dc.classes)
	}
	if err != nil {
		return nil, nil, spec, err
	}
	if test != nil && (spec.Test != "" || spec.Split != 0) {
		return nil, nil, spec, usagef("%s has its own test set; --test and --split apply to CSV files", spec.Data)
	}
	if spec.Test != "" && !strings.HasSuffix(strings.ToLower(spec.Test), ".csv") {
		return nil, nil, spec, usagef("--test %s: want a CSV file", spec.Test)
	}
	if train, test, err = datasets.PrepareSets(train, test, spec.Test, opts, spec.Split, spec.SplitSeed, dc.std); err != nil {
		return nil, nil, spec, err
	}
	return train, test, spec, nil
}

// loadDataFor reads the data for a model file, with its recorded data,
// class names and standardisation, and checks that the sets fit the model.
func loadDataFor(c *cli.Context, m *model.MLP, file *model.File) (train, test *datasets.Set, err error) {
	train, test, _, err = loadDataWith(c, ctxOf(m, file))
	if err != nil {
		return nil, nil, err
	}
	for _, s := range []*datasets.Set{train, test} {
		if s != nil {
			if err := datasets.CheckFits(m, s); err != nil {
				return nil, nil, err
			}
		}
	}
	return train, test, nil
}

// loadModelData reads --model and the data flags and checks that the
// training and test sets fit the model.
func loadModelData(c *cli.Context) (*model.MLP, *model.File, *datasets.Set, *datasets.Set, error) {
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	train, test, err := loadDataFor(c, m, file)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return m, file, train, test, nil
}

// withData records in f, a model file a command writes, the data it used
// and their class names where f has none (a model from obs import), so that
// later commands need no data flags.
func withData(c *cli.Context, f *model.File, train *datasets.Set) *model.File {
	var spec *model.DataSpec
	if f.Data == nil && c.IsSet("data") {
		spec = &model.DataSpec{Data: c.String("data")}
		if c.IsSet("target") {
			for _, s := range strings.Split(c.String("target"), ",") {
				spec.Target = append(spec.Target, strings.TrimSpace(s))
			}
		}
		spec.Test = c.String("test")
		if c.IsSet("split") {
			spec.Split, spec.SplitSeed = c.Float64("split"), c.Uint64("split-seed")
		}
	}
	datasets.Record(f, spec, train)
	return f
}

// nettalkFlags checks the flags of --data nettalk and --nettalk-dir.
func nettalkFlags(c *cli.Context, spec model.DataSpec) error {
	if spec.Data != "nettalk" {
		return usagef("--nettalk-dir given for data set %q; it applies only to --data nettalk", spec.Data)
	}
	if c.String("nettalk-dir") == "" {
		return usagef("--data nettalk needs --nettalk-dir DIR (the corpus is not shipped with obs)")
	}
	if c.String("monk-dir") != "" || len(spec.Target) > 0 {
		return fmt.Errorf("--monk-dir and --target do not apply to --data nettalk")
	}
	return nil
}
