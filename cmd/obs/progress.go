package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
)

// logEvery is how often progress is logged as a plain line when stderr is
// not a terminal (a log file, a pipe, CI). OBS_PROGRESS_EVERY (a Go
// duration such as 500ms) overrides it.
const logEvery = 5 * time.Second

// newBar returns progress for max steps (-1: unknown) on stderr: a bar on a
// terminal, otherwise a plain log line every logEvery; nil with --quiet. A
// nil *bar is valid and does nothing.
func newBar(c *cli.Context, max int, desc string) *bar {
	if c.Bool("quiet") {
		return nil
	}
	// Under a supervisor (supervise.go) stderr is a pipe to a terminal.
	if !isTerminal(c.App.ErrWriter) && (os.Getenv(stderrTerminalEnv) == "" || c.App.ErrWriter != os.Stderr) {
		every := logEvery
		if d, err := time.ParseDuration(os.Getenv("OBS_PROGRESS_EVERY")); err == nil && d > 0 {
			every = d
		}
		b := &bar{log: c.App.ErrWriter, max: max, desc: desc, start: time.Now(), done: make(chan struct{})}
		go b.ticker(every)
		return b

	}
	pb := progressbar.NewOptions(max,
		progressbar.OptionSetWriter(c.App.ErrWriter),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(max > 0),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
	)
	return &bar{pb: pb}
}

// bar is a progress bar (pb) or, without a terminal, a throttled logger.
type bar struct {
	pb *progressbar.ProgressBar

	mu    sync.Mutex
	log   io.Writer
	max   int
	step  int
	desc  string
	start time.Time
	done  chan struct{}
	once  sync.Once

	lastDue time.Time // Due's last true
}

// dueEvery is how often Due lets a caller update a bar it would otherwise
// update on every deletion: a one-shot run of a large network makes
// millions of steps, and describing each costs a format and a lock.
const dueEvery = 50 * time.Millisecond

// Due reports whether dueEvery has passed since it last reported true (or
// the bar is new): callers skip their Set otherwise. It is false for a
// nil bar (--quiet). A bar is updated from one goroutine.
func (b *bar) Due() bool {
	if b == nil {
		return false
	}
	now := time.Now()
	if now.Sub(b.lastDue) < dueEvery {
		return false
	}
	b.lastDue = now
	return true
}

// Set moves the bar to step and updates its description.
func (b *bar) Set(step int, format string, a ...any) {
	if b == nil {
		return
	}
	if b.pb == nil {
		b.logLine(step, format, a...)
		return
	}
	if format != "" {
		b.pb.Describe(fmt.Sprintf(format, a...))
	}
	b.pb.Set(step)
}

// logLine records the state the ticker prints.
func (b *bar) logLine(step int, format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if format != "" {
		b.desc = fmt.Sprintf(format, a...)
	}
	b.step = step
}

// ticker prints "obs: progress: DESC (N of M, 12s elapsed)" every period,
// even while one long step (a curvature build, an inverse) runs.
func (b *bar) ticker(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.done:
			return
		case now := <-t.C:
			b.mu.Lock()
			count := fmt.Sprintf("step %d", b.step)
			if b.max > 0 {
				count = fmt.Sprintf("%d of %d", b.step, b.max)
			}
			fmt.Fprintf(b.log, "obs: progress: %s (%s, %s elapsed)\n", b.desc, count, now.Sub(b.start).Round(time.Second))
			b.mu.Unlock()
		}
	}
}

// Done clears the bar.
func (b *bar) Done() {
	if b == nil {
		return
	}
	if b.pb == nil {
		b.once.Do(func() { close(b.done) })
		return
	}
	b.pb.Finish()
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
