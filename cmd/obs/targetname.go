package main

import (
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
)

// resolveRecorded returns where to read a data file that the model file
// records (flag is the data flag it stands for, not given on the command
// line) and says so on stderr: a relative path is read from the current
// directory, as when it was recorded, or, if it is not there, from the
// model file's directory. Built-in data sets are returned as they are.
func resolveRecorded(c *cli.Context, flag, path string) string {
	if !datasets.IsCSVName(path) {
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
