package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/model"
)

// out names an output file for checkOutputs.
func out(flag, path string) atomicfile.File { return atomicfile.File{Flag: flag, Path: path} }

// inputFiles are the files the command's flags read: --model, a CSV --data
// and the UCI files of --monk-dir.
func inputFiles(c *cli.Context) []atomicfile.File {
	var in []atomicfile.File
	for _, f := range []string{"model", "data", "test", "from"} {
		if c.IsSet(f) {
			in = append(in, atomicfile.File{Flag: "--" + f, Path: c.String(f)})
		}
	}
	if d := c.String("monk-dir"); d != "" {
		for p := 1; p <= 3; p++ {
			for _, k := range []string{"train", "test"} {
				in = append(in, atomicfile.File{Flag: "--monk-dir", Path: filepath.Join(d, fmt.Sprintf("monks-%d.%s", p, k))})
			}
		}
	}
	return in
}

// checkOutputs applies atomicfile.Check to the command's outputs and inputs
// before any work: only regular files or new paths, none the same file as
// an input or another output. With --in-place (prune), --out may be the
// --model file.
func checkOutputs(c *cli.Context, outputs ...atomicfile.File) error {
	var inPlace []atomicfile.File
	if c.Bool("in-place") {
		inPlace = append(inPlace, atomicfile.File{Flag: "--model", Path: c.String("model")})
	}
	for _, o := range outputs {
		if o.Path != "" && strings.TrimSpace(o.Path) == "" {
			return usagef("%s is blank", o.Flag)
		}
	}
	err := atomicfile.Check(outputs, inputFiles(c), inPlace...)
	var u *atomicfile.UnsafeError
	if errors.As(err, &u) && u.Output == "--out" && u.Input == "--model" && hasFlag(c, "in-place") {
		return fmt.Errorf("%w (pass --in-place to replace the model on purpose)", err)
	}
	return err
}

// hasFlag reports whether the running command defines the flag name.
func hasFlag(c *cli.Context, name string) bool {
	for _, f := range c.Command.Flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// ensureDir makes the output directory dir of flag, with its parents, if it
// is missing (as obs reproduce does); an existing path that is not a
// directory is a usage error.
func ensureDir(flag, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return usagef("%s %s is not a directory", flag, dir)
	case err == nil:
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s directory %s: %v", flag, dir, err)
	}
	return nil
}

// stamp records in f the obs release writing it (version).
func stamp(f *model.File) *model.File {
	f.ObsVersion = version
	return f
}

// savePruned writes net, pruned from the model file in, to out: in's
// provenance, history and data, the history extended by this command and
// its summary, and the data it was pruned on (withData).
func savePruned(c *cli.Context, out string, net *model.MLP, in *model.File, train *datasets.Set, summary any) error {
	hist, _ := marshal(struct {
		Command string `json:"command"`
		Summary any    `json:"summary"`
	}{"obs " + strings.Join(os.Args[1:], " "), summary})
	return withData(c, stamp(net.ToFile(in.Provenance, append(in.History, hist))).CarryData(in), train).Save(out)
}

// refuse returns a usage error naming the first of flags that was given,
// "--FLAG why" (a flag that does not apply is refused, never ignored), or
// nil.
func refuse(c *cli.Context, flags []string, why string) error {
	for _, f := range flags {
		if c.IsSet(f) {
			return usagef("--%s %s", f, why)
		}
	}
	return nil
}
