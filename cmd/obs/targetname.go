package main

import (
	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
)

// resolveRecorded returns where to read a data file that the model file
// records (flag is the data flag it stands for, not given on the command
// line; datasets.RecordedPath) and says so on stderr.
func resolveRecorded(c *cli.Context, flag, path string) string {
	chosen, where := datasets.RecordedPath(path, c.String("model"))
	if where != "" {
		info(c, "%s %s recorded in %s (no %s given): reading %s, %s\n", flag, path, c.String("model"), flag, chosen, where)
	}
	return chosen
}
