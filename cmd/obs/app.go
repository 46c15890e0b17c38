package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// Exit codes, the same for every command.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError marks an error in how obs was called (a bad flag value, a
// missing flag, flags that contradict each other). It exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usage error with a formatted message.
func usagef(format string, a ...any) error {
	return usageError{fmt.Errorf(format, a...)}
}

// errInterrupted is returned by commands stopped by SIGINT or SIGTERM.
var errInterrupted = errors.New("interrupted; no output was written")

// run builds the application, runs it on args and returns the exit code.
// Errors are printed to stderr as one line "obs: ...".
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first signal, a second one ends obs at once (the
		// default behaviour); final files are never partial either way.
		<-ctx.Done()
		stop()
	}()
	app := newApp(stdout, stderr)
	notFound := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		notFound = true
		fmt.Fprintf(stderr, "obs: unknown command %q; run obs --help\n", name)
	}
	err := app.RunContext(ctx, args)
	if notFound {
		return exitUsage
	}
	atomicfile.RemovePending()
	if err == nil {
		// A signal that arrived after the work finished does not undo it:
		// every file was written completely.
		return exitOK
	}
	if ctx.Err() != nil && !isUsage(err) {
		err = errInterrupted
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(stderr, "obs: %s\n", msg)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	// Errors that urfave/cli returns without calling OnUsageError.
	s := err.Error()
	for _, p := range []string{"Required flag", "flag provided but not defined", "invalid value", "No help topic"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "obs",
		Usage: "prune neural networks with Optimal Brain Surgeon and compare curvature approximations",
		Description: `obs trains a multilayer perceptron to a minimum of its training error, builds
second-order information about that error (exact Hessian, Gauss–Newton,
empirical Fisher, Monte-Carlo Fisher) and removes weights with Optimal Brain
Surgeon (Hassibi & Stork 1993), Optimal Brain Damage or magnitude pruning.

Every command accepts --json (one JSON summary object on stdout) and --quiet
(no progress bars). Human-readable text goes to stderr. Exit codes: 0 success,
1 failure, 2 usage error.

Built-in data: xor, monk1, monk2, monk3 (the UCI MONK's files, CC BY 4.0,
Thrun et al. 1991, built into obs; --monk-dir DIR reads another copy).`,
		Writer:          stderr,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Commands:        commands(),
		// Return errors to run instead of exiting inside the library.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
	}
	app.Metadata = map[string]any{"stdout": stdout}
	for _, cmd := range app.Commands {
		cmd.OnUsageError = func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		}
		cmd.Flags = append(cmd.Flags, commonFlags()...)
		requireFlags(cmd)
	}
	return app
}

// registry holds the commands; each command's file registers itself in an
// init function, so commands can be added without editing this file.
var registry []registered

type registered struct {
	order int
	make  func() *cli.Command
}

// register adds a command; order places it in the help listing.
func register(order int, make func() *cli.Command) {
	registry = append(registry, registered{order, make})
}

// requireFlags replaces urfave/cli's required-flag check, which prints the
// whole help text, by a one-line usage error: flags marked Required are
// checked before the command runs.
func requireFlags(cmd *cli.Command) {
	var required []string
	for _, f := range cmd.Flags {
		if sf, ok := f.(*cli.StringFlag); ok && sf.Required {
			sf.Required = false
			sf.Usage += " (required)"
			required = append(required, sf.Name)
		}
	}
	if len(required) == 0 {
		return
	}
	cmd.Before = func(c *cli.Context) error {
		for _, name := range required {
			if !c.IsSet(name) {
				return usagef("--%s is required (see obs %s --help)", name, cmd.Name)
			}
		}
		return nil
	}
}

// commands builds every registered command, in help order.
func commands() []*cli.Command {
	r := append([]registered(nil), registry...)
	sort.SliceStable(r, func(i, j int) bool { return r[i].order < r[j].order })
	cmds := make([]*cli.Command, len(r))
	for i, c := range r {
		cmds[i] = c.make()
	}
	return cmds
}

func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Usage: "print one JSON summary object on stdout"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bars or informational text on stderr"},
	}
}

// stdoutOf returns the writer for machine-readable output.
func stdoutOf(c *cli.Context) io.Writer {
	return c.App.Metadata["stdout"].(io.Writer)
}

// info prints human-readable text to stderr unless --quiet.
func info(c *cli.Context, format string, a ...any) {
	if c.Bool("quiet") {
		return
	}
	fmt.Fprintf(c.App.ErrWriter, format, a...)
}

// emit prints the summary: as one JSON object on stdout with --json, and as
// "key: value" lines on stderr otherwise (unless --quiet).
func emit(c *cli.Context, summary any) error {
	if c.Bool("json") {
		enc := json.NewEncoder(stdoutOf(c))
		enc.SetEscapeHTML(false)
		return enc.Encode(summary)
	}
	if c.Bool("quiet") {
		return nil
	}
	return writeHuman(c.App.ErrWriter, summary)
}

// writeHuman prints the top-level fields of a JSON-encodable summary as
// aligned "key  value" lines, in their declared order.
func writeHuman(w io.Writer, summary any) error {
	b, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		s := string(v)
		if len(s) > 1 && s[0] == '"' {
			var str string
			json.Unmarshal(v, &str)
			s = str
		}
		fmt.Fprintf(w, "  %-22s %s\n", key, s)
	}
	return nil
}

// interrupted reports whether SIGINT or SIGTERM arrived.
func interrupted(c *cli.Context) bool { return c.Context.Err() != nil }
