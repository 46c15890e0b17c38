package datasets

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/obs-toolkit/obs/model"
)

// IsCSVName reports whether data (obs's --data) names a CSV file rather
// than a built-in data set.
func IsCSVName(data string) bool {
	return strings.HasSuffix(strings.ToLower(data), ".csv")
}

// RecordTarget stores in spec the names of the target columns train was
// read with, when they were not given (--target's default, the CSV's last
// column), so that a model file always names its target: predict then
// finds the target in new rows by name, or knows that a file without that
// column has no target, instead of taking whatever column comes last.
func RecordTarget(spec *model.DataSpec, train *Set) {
	if len(spec.Target) > 0 || !IsCSVName(spec.Data) || len(train.TargetNames) == 0 {
		return
	}
	cols := train.TargetNames
	if cls := train.Classes; cls != nil {
		// A label column "y" became the one-hot targets "y=a", "y=b", ...
		// (or "y=b" alone for a binary sigmoid output).
		last := cls[0]
		if len(cols) == 1 && len(cls) == 2 {
			last = cls[1]
		}
		cols = []string{strings.TrimSuffix(cols[0], "="+last)}
	}
	spec.Target = append([]string(nil), cols...)
}

// Record records in the model file f the data its network was trained or
// pruned on, where f has none yet, so that later commands need no data
// flags: the class names of train, its input names when train was read
// whole from a CSV file (its Source a .csv path; data are then matched by
// column name), and spec, how to read the data again (nil: nothing to
// record), with the target columns train was read with (RecordTarget).
func Record(f *model.File, spec *model.DataSpec, train *Set) {
	if f.Classes == nil && train.Classes != nil {
		f.Classes = train.Classes
	}
	if f.InputNames == nil && IsCSVName(train.Source) {
		f.InputNames = append([]string(nil), train.InputNames...)
	}
	if f.Data == nil && spec != nil {
		RecordTarget(spec, train)
		f.Data = spec
	}
}

// RecordedPath returns where to read the data file path that the model
// file modelFile records, and where says how it was found: a relative
// path is read from the current directory, as when it was recorded
// ("relative to the current directory"), or, if it is not there but is
// beside the model file, from the model file's directory ("relative to
// the model file's directory"); an absolute path as it is ("an absolute
// path"). The name of a built-in data set is returned as it is, where "".
func RecordedPath(path, modelFile string) (chosen, where string) {
	if !IsCSVName(path) {
		return path, ""
	}
	if filepath.IsAbs(path) {
		return path, "an absolute path"
	}
	if _, err := os.Stat(path); err != nil {
		alt := filepath.Join(filepath.Dir(modelFile), path)
		if _, err := os.Stat(alt); err == nil {
			return alt, "relative to the model file's directory"
		}
	}
	return path, "relative to the current directory"
}
