package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// prune's time estimate: the model is resources.CostOf and
// resources.TimeEstimate; here are --max-time and the messages.

// defaultMaxTime is --max-time's default: a prune estimated to take longer
// is refused before it starts, with the settings that would be quicker.
const defaultMaxTime = 30 * time.Minute

// maxTimeFlag is prune's --max-time.
func maxTimeFlag() cli.Flag {
	return &cli.StringFlag{Name: "max-time", EnvVars: []string{"OBS_MAX_TIME"}, Value: defaultMaxTime.String(),
		Usage: "refuse, before starting, a run estimated to take longer than `DURATION` (like 90s, 2h; 0: no limit); the estimate is printed when it exceeds 10s"}
}

// parseMaxTime reads --max-time (0: no limit).
func parseMaxTime(c *cli.Context) (time.Duration, error) {
	s := strings.TrimSpace(c.String("max-time"))
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef("--max-time %q: want a duration like 90s or 2h, or 0 for no limit", s)
	}
	return d, nil
}

// calibLen returns the number of patterns the curvature is built from.
func calibLen(cfg *prune.Config, train *datasets.Set) int {
	if n := cfg.Calib.Len(); n > 0 {
		return n
	}
	return train.Len()
}

// estimatePruneTime estimates a prune before it starts: it refuses a run
// beyond --max-time (exit 1, one line with the quicker settings) and prints
// the estimate when it exceeds resources.EstimateAbove.
func estimatePruneTime(c *cli.Context, cfg *prune.Config, net *model.MLP, train, test *datasets.Set, free, target int) (*resources.TimeEstimate, error) {
	maxTime, err := parseMaxTime(c)
	if err != nil {
		return nil, err
	}
	pt := 0
	if test != nil {
		pt = test.Len()
	}
	oneShot := c.Bool("one-shot")
	cost := resources.CostOf(cfg, net, train.Len(), pt, calibLen(cfg, train), free, target, oneShot)
	est := resources.NewTimeEstimate(cost)
	total := est.Modelled()
	recompute := c.String("recompute")
	if maxTime > 0 && total > maxTime {
		msg := fmt.Sprintf("refused: %s, beyond --max-time %s", est.Describe(recompute), resources.FormatDuration(maxTime))
		q := resources.Quicker(c.IsSet, cfg, cost, oneShot, free, calibLen(cfg, train))
		if len(q) > 0 {
			msg += "; quicker: " + strings.Join(q, ", ")
		}
		if len(q) > 0 && strings.HasPrefix(q[0], "--one-shot") {
			one := resources.CostOf(cfg, net, train.Len(), pt, calibLen(cfg, train), free, target, true)
			msg += fmt.Sprintf(" (--one-shot: about %s: obs %s --one-shot)", resources.FormatDuration(resources.Seconds(one.Total(), est.Rate())), strings.Join(os.Args[1:], " "))
		}
		return nil, fmt.Errorf("%s; or --max-time 0 to run it anyway", msg)
	}
	if total >= resources.EstimateThreshold() {
		msg := est.Describe(recompute)
		if q := resources.Quicker(c.IsSet, cfg, cost, oneShot, free, calibLen(cfg, train)); len(q) > 0 {
			msg += "; quicker: " + strings.Join(q, ", ")
		}
		info(c, "%s\n", msg)
	}
	return est, nil
}
