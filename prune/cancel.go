package prune

import (
	"context"
	"time"
)

// PollContext returns a context whose Err is context.Canceled once stop
// returns true: the bridge from a polled stop function (Config.Stop,
// model.TrainSettings.Stop) to Prune's context. Its Done channel never
// closes, so it serves code that polls Err, as Prune does between steps;
// a nil stop gives context.Background().
func PollContext(stop func() bool) context.Context {
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
