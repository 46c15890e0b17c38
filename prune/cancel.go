package prune

import (
	"context"
	"time"
)

// stopContext returns a context whose Err is context.Canceled once stop
// returns true: the bridge from Config.Stop, polled, to Prune's context.
// Its Done channel never closes; Prune polls Err between steps.
func stopContext(stop func() bool) context.Context {
	if stop == nil {
		return context.Background()
	}
	return pollContext{stop: stop}
}

type pollContext struct{ stop func() bool }

func (pollContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (pollContext) Done() <-chan struct{}       { return nil }
func (pollContext) Value(any) any               { return nil }
func (c pollContext) Err() error {
	if c.stop() {
		return context.Canceled
	}
	return nil
}
