package datasets

import (
	"fmt"
	"strings"

	"github.com/obs-toolkit/obs/model"
)

// specs lists the built-in data set names accepted by Load.
var specs = []string{"xor", "monk1", "monk2", "monk3", "mnist"}

// Load resolves a data set specification, such as the value of a command-line
// flag, and returns its training set and its test set, or nil when it has
// none. spec is one of
//
//	xor                  XOR (no test set)
//	monk1, monk2, monk3  MONK's problem 1, 2 or 3 with its 432-pattern test set
//	mnist                the embedded MNIST (60,000 training, 10,000 test; see MNIST)
//	PATH.csv             a CSV file read by LoadCSV (no test set)
//
// For MONK's problems, if monkDir is not empty the UCI files
// monkDir/monks-N.train and monkDir/monks-N.test are read with LoadMonk;
// otherwise the sets are MonkUCI(N), the UCI files built into the package. targets names the target
// columns of a CSV file (the last column if empty).
//
// monkDir is an error for anything but a MONK's problem, and targets for
// anything but a CSV file, rather than being ignored silently.
func Load(spec, monkDir string, targets []string) (train, test *Set, err error) {
	isCSV := strings.HasSuffix(strings.ToLower(spec), ".csv")
	var problem int
	switch spec {
	case "monk1":
		problem = 1
	case "monk2":
		problem = 2
	case "monk3":
		problem = 3
	}
	if len(targets) != 0 && !isCSV {
		return nil, nil, fmt.Errorf("datasets: targets %s given for data set %q; targets apply only to CSV files", quoteList(targets), spec)
	}
	if monkDir != "" && problem == 0 {
		return nil, nil, fmt.Errorf("datasets: MONK directory %q given for data set %q; it applies only to monk1, monk2 and monk3", monkDir, spec)
	}
	switch {
	case spec == "xor":
		return XOR(), nil, nil
	case spec == "mnist":
		return MNIST()
	case problem != 0 && monkDir != "":
		return LoadMonk(monkDir, problem)
	case problem != 0:
		train, test := MonkUCI(problem)
		return train, test, nil
	case isCSV:
		train, err := LoadCSV(spec, targets)
		return train, nil, err
	}
	return nil, nil, fmt.Errorf("datasets: unknown data set %q, want one of %s or a path ending in .csv", spec, strings.Join(specs, ", "))
}

// PrepareSets completes the sets of a loaded training set train (and test,
// its own test set or nil): it reads the test set from the CSV file
// testCSV when not empty (with opts and train's classes; its inputs must
// be train's), holds out the fraction split of train as the test set when
// split is not 0 (Set.Split with seed), and standardises both sets with
// std when not nil.
func PrepareSets(train, test *Set, testCSV string, opts CSVOptions, split float64, seed uint64, std *model.Standardization) (*Set, *Set, error) {
	var err error
	if testCSV != "" {
		opts.Classes = train.Classes
		if test, err = LoadCSVWith(testCSV, opts); err != nil {
			return nil, nil, err
		}
		if strings.Join(test.InputNames, ",") != strings.Join(train.InputNames, ",") {
			return nil, nil, fmt.Errorf("test file %s has inputs %q, training file %q", testCSV, test.InputNames, train.InputNames)
		}
	}
	if split != 0 {
		if train, test, err = train.Split(split, seed); err != nil {
			return nil, nil, err
		}
	}
	if std != nil {
		if len(std.Mean) != train.NumInputs() {
			return nil, nil, fmt.Errorf("%s has %d inputs but the model's standardisation has %d", train.Name, train.NumInputs(), len(std.Mean))
		}
		train = train.Standardized(std.Mean, std.Std)
		if test != nil {
			test = test.Standardized(std.Mean, std.Std)
		}
	}
	return train, test, nil
}

// Dirs are the directories LoadNamed reads data sets from: another copy of
// the MONK's files or of MNIST (empty: the copy built into the package),
// and the NETtalk corpus, which is never shipped.
type Dirs struct {
	// Monk holds the UCI files monks-N.train and monks-N.test (LoadMonk).
	Monk string
	// MNIST holds the four IDX files of LoadMNISTDir (Fashion-MNIST, say).
	MNIST string
	// Nettalk holds nettalk.data, features.tsv and common1000.txt
	// (ReadNettalk); the data set nettalk needs it.
	Nettalk string
}

// LoadNamed returns the training and test sets (nil where it has none) of
// the data set name: the built-in sets and CSV files of Load, read from
// the directories of dirs, and nettalk (ReadNettalk(dirs.Nettalk) with the
// default NettalkOptions: the letters of the common words for training,
// those of the other words for testing). A CSV file is read by
// LoadCSVWith(name, opts), targets by the built-in sets' Load. A directory
// of dirs that name does not read is an error, as in Load.
func LoadNamed(name string, targets []string, dirs Dirs, opts CSVOptions) (train, test *Set, err error) {
	if dirs.MNIST != "" && name != "mnist" {
		return nil, nil, fmt.Errorf("datasets: MNIST directory %q given for data set %q; it applies only to mnist", dirs.MNIST, name)
	}
	if (dirs.Nettalk != "") != (name == "nettalk") {
		if dirs.Nettalk == "" {
			return nil, nil, fmt.Errorf("datasets: data set nettalk needs its directory (the corpus is not shipped)")
		}
		return nil, nil, fmt.Errorf("datasets: NETtalk directory %q given for data set %q; it applies only to nettalk", dirs.Nettalk, name)
	}
	switch {
	case dirs.MNIST != "":
		return LoadMNISTDir(dirs.MNIST)
	case name == "nettalk":
		if dirs.Monk != "" || len(targets) > 0 {
			return nil, nil, fmt.Errorf("datasets: a MONK directory and targets do not apply to nettalk")
		}
		nt, err := ReadNettalk(dirs.Nettalk)
		if err != nil {
			return nil, nil, err
		}
		tr, te, _, err := nt.Sets(NettalkOptions{})
		if err != nil {
			return nil, nil, err
		}
		return tr.Set, te.Set, nil
	case IsCSVName(name) && dirs.Monk == "":
		train, err := LoadCSVWith(name, opts)
		return train, nil, err
	}
	return Load(name, dirs.Monk, targets)
}

// LoadFor reads the data that the model file f of the network m records
// (f.Data, as obs train writes it): the training set and the test set (the
// data set's own, the CSV file Test, or the rows Split holds out with
// SplitSeed), with the file's class order and input names, standardised
// as f says, and checked to fit m. Recorded paths are read as they are
// (relative to the current directory). A classifier whose file names no
// classes (an import without class names) has the classes "0", "1", ....
func LoadFor(m *model.MLP, f *model.File, dirs Dirs) (train, test *Set, err error) {
	spec := f.Data
	if spec == nil {
		return nil, nil, fmt.Errorf("datasets: the model file records no data set")
	}
	labels, binary := LabelsFor(m.Loss)
	if len(spec.Target) > 1 {
		labels = false // several target columns are numeric (one-hot already)
	}
	classes := f.Classes
	if labels && classes == nil {
		classes = ClassNames(m, nil)
	}
	opts := CSVOptions{Targets: spec.Target, Labels: labels, Binary: binary, Classes: classes, Inputs: f.InputNames}
	if train, test, err = LoadNamed(spec.Data, spec.Target, dirs, opts); err != nil {
		return nil, nil, err
	}
	if test != nil && (spec.Test != "" || spec.Split != 0) {
		return nil, nil, fmt.Errorf("datasets: %s has its own test set; a test file and a split apply to CSV files", spec.Data)
	}
	if train, test, err = PrepareSets(train, test, spec.Test, opts, spec.Split, spec.SplitSeed, f.Standardize); err != nil {
		return nil, nil, err
	}
	for _, s := range []*Set{train, test} {
		if s != nil {
			if err := CheckFits(m, s); err != nil {
				return nil, nil, err
			}
		}
	}
	return train, test, nil
}
