// Package atomicfile writes files so that a reader, or a crash, never sees a
// half-written one: the content goes to a temporary file in the same
// directory, which is synced and then renamed over the destination.
//
// It also holds the rules every obs command follows for its outputs (see
// Check): only a regular file or a new path is ever written, never the same
// file as an input or as another output. After Stage, writes are held back
// and Commit renames them all at once under a lock on their directories, so
// that two runs writing the same outputs leave one run's complete set.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// pending holds the temporary files being written, so that an interrupt
// handler can remove them (see RemovePending).
var pending sync.Map

// Write creates path atomically with the content that write produces. If
// write or any file operation fails, the destination is left untouched and
// the temporary file is removed.
func Write(path string, write func(w io.Writer) error) (err error) {
	// Never replace a device, a pipe, a link or a directory (see Check).
	if err := checkKind(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("output directory %s does not exist", dir)
	} else if !st.IsDir() {
		return fmt.Errorf("output directory %s is not a directory", dir)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	tmp := f.Name()
	pending.Store(tmp, struct{}{})
	defer func() {
		if err != nil || !isStaged(tmp) {
			pending.Delete(tmp)
		}
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriter(f)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	if staging(tmp, path) {
		// Commit renames it; until then RemovePending may remove it.
		return nil
	}
	if err = checkKind(path); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("cannot write %s: %v", path, err)
	}
	return nil
}

// WriteBytes creates path atomically with the given content.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// RemovePending removes every temporary file still being written. An
// interrupt handler calls it before exiting, so that no partial file stays.
func RemovePending() {
	pending.Range(func(k, _ any) bool {
		os.Remove(k.(string))
		return true
	})
}
