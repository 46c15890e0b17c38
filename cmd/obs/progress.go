package main

import (
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
)

// newBar returns a progress bar on stderr for max steps (-1: unknown), or
// nil when --quiet is set or stderr is not a terminal. A nil *bar is valid
// and does nothing.
func newBar(c *cli.Context, max int, desc string) *bar {
	if c.Bool("quiet") || !isTerminal(c.App.ErrWriter) {
		return nil
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

type bar struct{ pb *progressbar.ProgressBar }

// Set moves the bar to step and updates its description.
func (b *bar) Set(step int, format string, a ...any) {
	if b == nil {
		return
	}
	if format != "" {
		b.pb.Describe(fmt.Sprintf(format, a...))
	}
	b.pb.Set(step)
}

// Done clears the bar.
func (b *bar) Done() {
	if b == nil {
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
