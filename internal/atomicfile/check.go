package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// File is one file a command reads or writes, with the flag that names it
// (for error messages), like {"--out", "m.json"}.
type File struct {
	Flag, Path string
}

// UnsafeError is the error of Check for an output that would destroy
// something it should not (a device, a pipe, a link, a directory, an input,
// another output). Commands report it as a usage error.
type UnsafeError struct {
	msg string
	// Output and Input are the flags of an output that is the same file as
	// an input (else empty), so that a command can add what would allow it.
	Output, Input string
}

func (e *UnsafeError) Error() string { return e.msg }

func unsafef(format string, a ...any) error { return &UnsafeError{msg: fmt.Sprintf(format, a...)} }

// IsUnsafe reports whether err comes from Check's rules on outputs.
func IsUnsafe(err error) bool {
	var u *UnsafeError
	return errors.As(err, &u)
}

// checkKind returns an UnsafeError unless path is absent or a regular file.
// Symbolic links are refused, not followed: writing through one would
// replace the link, not its target, and either surprise is worse than an
// error.
func checkKind(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if st.Mode().IsRegular() {
		return nil
	}
	what := "not a regular file"
	switch m := st.Mode(); {
	case m&os.ModeSymlink != 0:
		what = "a symbolic link"
	case m.IsDir():
		what = "a directory"
	case m&os.ModeCharDevice != 0:
		what = "a character device"
	case m&os.ModeDevice != 0:
		what = "a device"
	case m&os.ModeNamedPipe != 0:
		what = "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		what = "a socket"
	}
	return unsafef("%s is %s; obs writes only to a regular file or a new path", path, what)
}

// identity says which file a path is or would be: the file itself if it
// exists, else its directory and base name.
type identity struct {
	st   os.FileInfo // the file, or nil
	dir  os.FileInfo // its directory when st is nil
	base string
}

func identify(path string, follow bool) (identity, bool) {
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	if st, err := stat(path); err == nil {
		return identity{st: st}, true
	}
	d, err := os.Stat(filepath.Dir(path))
	if err != nil {
		return identity{}, false
	}
	return identity{dir: d, base: filepath.Base(path)}, true
}

func (a identity) same(b identity) bool {
	if a.st != nil && b.st != nil {
		return os.SameFile(a.st, b.st)
	}
	if a.st == nil && b.st == nil && a.dir != nil && b.dir != nil {
		return a.base == b.base && os.SameFile(a.dir, b.dir)
	}
	return false
}

// Check verifies, before any work, that every output can be written without
// destroying what it should not:
//   - an output is a regular file or a new path in an existing, writable
//     directory (a device, a FIFO, a symbolic link or a directory is an
//     UnsafeError naming it; a missing directory a plain error);
//   - no output is the same file as an input or as another output (compared
//     with os.SameFile, so other names, links and hard links are caught).
//
// Outputs with an empty Path are skipped; inputs that do not exist are
// skipped (reading them fails on its own). An input listed in inPlace may be
// the same file as an output: the caller asked for it explicitly.
func Check(outputs, inputs []File, inPlace ...File) error {
	var outs []File
	var ids []identity
	for _, o := range outputs {
		if o.Path == "" {
			continue
		}
		if err := checkKind(o.Path); err != nil {
			return err
		}
		if err := checkDir(o.Path); err != nil {
			return err
		}
		id, _ := identify(o.Path, false)
		for i, prev := range ids {
			if id.same(prev) {
				return unsafef("%s %s and %s %s are the same file; give each output its own file", outs[i].Flag, outs[i].Path, o.Flag, o.Path)
			}
		}
		outs, ids = append(outs, o), append(ids, id)
	}
	for _, in := range inputs {
		if in.Path == "" {
			continue
		}
		st, err := os.Stat(in.Path)
		if err != nil {
			continue
		}
		allowed := false
		for _, ip := range inPlace {
			if ip == in {
				allowed = true
			}
		}
		for i, id := range ids {
			if id.st != nil && os.SameFile(id.st, st) && !(allowed && outs[i].Flag == "--out") {
				return &UnsafeError{
					msg:    fmt.Sprintf("%s %s is the same file as the input %s %s; it would be overwritten", outs[i].Flag, outs[i].Path, in.Flag, in.Path),
					Output: outs[i].Flag, Input: in.Flag,
				}
			}
		}
	}
	return nil
}

// checkDir fails unless the directory of path exists and is writable.
func checkDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("output directory %s does not exist", dir)
	}
	f, err := os.CreateTemp(dir, ".obs-probe-*")
	if err != nil {
		return fmt.Errorf("output directory %s is not writable", dir)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}
