package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

// isCSVName reports whether --data names a CSV file.
func isCSVName(data string) bool {
	return strings.HasSuffix(strings.ToLower(data), ".csv")
}

// recordTarget stores in spec the names of the target columns train was
// read with, when they were not given (--target's default, the CSV's last
// column), so that a model file always names its target: predict then
// finds the target in new rows by name, or knows that a file without that
// column has no target, instead of taking whatever column comes last.
func recordTarget(spec *model.DataSpec, train *datasets.Set) {
	if len(spec.Target) > 0 || !isCSVName(spec.Data) || len(train.TargetNames) == 0 {
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

// resolveRecorded returns where to read a data file that the model file
// records (flag is the data flag it stands for, not given on the command
// line) and says so on stderr: a relative path is read from the current
// directory, as when it was recorded, or, if it is not there, from the
// model file's directory. Built-in data sets are returned as they are.
func resolveRecorded(c *cli.Context, flag, path string) string {
	if !isCSVName(path) {
		return path
	}
	where := "an absolute path"
	chosen := path
	if !filepath.IsAbs(path) {
		where = "relative to the current directory"
		if _, err := os.Stat(path); err != nil {
			alt := filepath.Join(filepath.Dir(c.String("model")), path)
			if _, err := os.Stat(alt); err == nil {
				chosen, where = alt, "relative to the model file's directory"
			}
		}
	}
	info(c, "%s %s recorded in %s (no %s given): reading %s, %s\n", flag, path, c.String("model"), flag, chosen, where)
	return chosen
}
