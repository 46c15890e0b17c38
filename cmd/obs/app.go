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
	"sync/atomic"
	"syscall"
	"time"

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

// exitInterrupted is the exit code after SIGINT (128 + SIGINT) and
// exitTerminated after SIGTERM (128 + SIGTERM), the shells' convention.
const (
	exitInterrupted = 130
	exitTerminated  = 143
)

// signalExit returns the exit code of a run stopped by sig.
func signalExit(sig os.Signal) int {
	if sig == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// version is the release of obs, written into every model file and printed
// by --version; builds may set it with -ldflags "-X main.version=...".
var version = "0.2.0-dev"

// graceTime is how long the first Ctrl-C lets the command stop by itself
// (its loops poll the context between blocks) before obs exits anyway. The
// outputs are written only at the end, in one commit (atomicfile.Stage), so
// exiting at any earlier point leaves them untouched.
const graceTime = 500 * time.Millisecond

// run builds the application, runs it on args and returns the exit code.
// Errors are printed to stderr as one line "obs: ...".
func run(args []string, stdout, stderr io.Writer) int {
	// Every write to stdout is checked: a result that cannot be written is
	// a failure (exit 1), never a silent success.
	out := &checkedWriter{w: stdout, what: "stdout"}
	stdout = out
	if code, done := helpOnly(args, stdout, stderr); done {
		if err := out.Err(); err != nil && code == exitOK {
			fmt.Fprintf(stderr, "obs: %v\n", err)
			return exitFailure
		}
		return code
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	finished := make(chan struct{})
	defer close(finished)
	var stopSig atomic.Value // the first signal, for the exit code
	go func() {
		select {
		case sig := <-sigs:
			stopSig.Store(sig)
		case <-finished:
			return
		}
		cancel()
		t := time.NewTimer(graceTime)
		select {
		case <-sigs: // a second Ctrl-C: at once
		case <-t.C: // the command did not stop in time
		case <-finished:
			return
		}
		msg := "interrupted; no output was written"
		if atomicfile.Abandon() {
			msg = "interrupted after the outputs were written completely"
		}
		fmt.Fprintf(stderr, "obs: %s\n", msg)
		os.Exit(signalExit(stopSig.Load().(os.Signal)))
	}()
	app := newApp(stdout, stderr)
	notFound := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		notFound = true
		fmt.Fprintf(stderr, "obs: unknown command %q; run obs --help\n", name)
	}
	// Every file a command writes is held back and committed at the end as
	// one set, under a lock on the output directories.
	atomicfile.Stage()
	err := app.RunContext(ctx, args)
	if werr := out.Err(); werr != nil && (err == nil || !isUsage(err)) {
		// The outputs are committed only with the results printed; the
		// error a command returned from a failed print is this one.
		err = werr
	}
	if notFound {
		atomicfile.RemovePending()
		return exitUsage
	}
	if err == nil {
		// A signal that arrived after the work finished does not undo it:
		// every file is written completely.
		err = atomicfile.Commit()
	}
	atomicfile.RemovePending()
	if err == nil {
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
	if errors.Is(err, errInterrupted) {
		if sig, ok := stopSig.Load().(os.Signal); ok {
			return signalExit(sig)
		}
		return exitInterrupted
	}
	return exitFailure
}

// helpOnly handles the command lines that only ask for help, before
// anything runs: "--help" or "-h" anywhere (before a "--") prints the help
// of the command named, or of obs, on stdout and exits 0; plain "obs"
// prints the usage on stderr and exits 2.
func helpOnly(args []string, stdout, stderr io.Writer) (int, bool) {
	if len(args) <= 1 {
		app := newApp(stderr, stderr)
		app.Run([]string{"obs", "--help"})
		return exitUsage, true
	}
	asked := false
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		if a == "-h" || a == "--help" || a == "-help" {
			asked = true
			break
		}
	}
	if !asked {
		return 0, false
	}
	app := newApp(stdout, stderr)
	cmd := ""
	if a := args[1]; !strings.HasPrefix(a, "-") {
		cmd = a
	}
	switch {
	case cmd == "help" || cmd == "h":
		if len(args) > 2 && app.Command(args[2]) != nil {
			cmd = args[2]
		} else {
			cmd = ""
		}
	case cmd != "" && app.Command(cmd) == nil:
		fmt.Fprintf(stderr, "obs: unknown command %q; run obs --help\n", cmd)
		return exitUsage, true
	}
	if cmd == "" {
		app.Run([]string{"obs", "--help"})
	} else if sub := subcommand(app.Command(cmd), args[2:]); sub != "" {
		app.Run([]string{"obs", cmd, sub, "--help"})
	} else {
		app.Run([]string{"obs", "help", cmd})
	}
	return exitOK, true
}

// subcommand returns the name of cmd's subcommand that args start with
// (obs reproduce nettalk --help), or "".
func subcommand(cmd *cli.Command, args []string) string {
	if cmd == nil || len(args) == 0 {
		return ""
	}
	for _, s := range cmd.Subcommands {
		if s.HasName(args[0]) {
			return args[0]
		}
	}
	return ""
}

func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	if atomicfile.IsUnsafe(err) {
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
		Description: `obs trains a network (a multilayer perceptron, --arch, or a sequence of
layers with convolutions and pooling, --input and --layers) to a minimum of
its training error, builds second-order information about that error (exact
Hessian, Gauss–Newton, empirical Fisher, Monte-Carlo Fisher, K-FAC) and
removes weights, hidden units or N:M patterns with Optimal Brain Surgeon
(Hassibi & Stork 1993), Optimal Brain Damage or magnitude pruning.

Every command accepts --json (one JSON summary object on stdout) and --quiet
(no progress or log lines). Results go to stdout, progress and log lines to
stderr; a result that cannot be written (a full disk) is a failure. Exit
codes: 0 success, 1 failure (also a run refused or stopped for lack of
memory), 2 usage error, 130 interrupted by Ctrl-C (SIGINT), 143 by SIGTERM
(the run stops within a second; a second signal exits at once; the outputs
are then complete or untouched). --help or -h anywhere prints help and runs
nothing; "obs help CMD" does the same.

Built-in data: xor; monk1, monk2, monk3 (the UCI MONK's files, CC BY 4.0,
Thrun et al. 1991, built into obs; --monk-dir DIR reads another copy); mnist
(the MNIST training and test sets, LeCun, Cortes & Burges, built into obs;
--mnist-dir DIR reads another copy, such as Fashion-MNIST). nettalk needs
--nettalk-dir (the corpus is not shipped); any other --data is a CSV file.`,
		Version:   version,
		Writer:    stdout,
		ErrWriter: stderr,
		Commands:  commands(),
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
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress or log lines on stderr (results are still printed)"},
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

// emit prints the summary on stdout: as one JSON object with --json, and as
// "key  value" lines otherwise. --quiet does not silence results.
func emit(c *cli.Context, summary any) error {
	if c.Bool("json") {
		enc := json.NewEncoder(stdoutOf(c))
		enc.SetEscapeHTML(false)
		return enc.Encode(summary)
	}
	return writeHuman(stdoutOf(c), summary)
}

// marshal is json.Marshal without HTML escapes, so that names such as
// bias->out0 stay greppable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// writeHuman prints the top-level fields of a JSON-encodable summary as
// aligned "key  value" lines, in their declared order.
func writeHuman(w io.Writer, summary any) error {
	b, err := marshal(summary)
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
