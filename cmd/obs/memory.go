package main

import (
	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/resources"
)

// Before any large allocation, train, prune, saliency, hessian and compare
// estimate what the run will allocate (resources.Estimate*) and refuse,
// with exit 1 and one line naming the estimate and what would need less,
// a run that needs more than --max-memory or, without it, the memory
// available (MemAvailable, lowered to a cgroup's limit). Exit 1, not 2:
// the flags are well formed, the machine is too small for them.

// memoryFlag is --max-memory of the commands that check their estimate.
func memoryFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-memory", EnvVars: []string{"OBS_MAX_MEMORY"},
		Usage: "refuse, before starting, a run estimated to need more than `SIZE` (like 512M, 4G, 2GB; default: the memory available, MemAvailable or the cgroup's limit)"}
}

// checkMemory checks e against --max-memory or the available memory.
func checkMemory(c *cli.Context, e *resources.Estimate, alternatives string) error {
	limit := 0.0
	if s := c.String("max-memory"); c.IsSet("max-memory") {
		var err error
		if limit, err = resources.ParseSize(s); err != nil {
			return usagef("--max-memory: %v", err)
		}
	}
	return resources.Check(e, limit, alternatives)
}
