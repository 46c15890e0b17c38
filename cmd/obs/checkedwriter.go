package main

import (
	"fmt"
	"io"
	"sync"
)

// checkedWriter passes writes to w and records the first error, so that a
// result that could not be written (stdout redirected to a full disk or to
// /dev/full) ends the command with exit 1 however it was printed: every
// write to stdout is checked in one place, after the command, instead of at
// every Fprintf. After the first error it writes nothing more.
type checkedWriter struct {
	w    io.Writer
	mu   sync.Mutex
	err  error
	what string // "stdout", named in the error
}

func (cw *checkedWriter) Write(p []byte) (int, error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err != nil {
		return 0, cw.err
	}
	n, err := cw.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		cw.err = err
	}
	return n, err
}

// Err returns the first write error as "cannot write the results to
// stdout: ...", or nil.
func (cw *checkedWriter) Err() error {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.err == nil {
		return nil
	}
	return fmt.Errorf("cannot write the results to %s: %v", cw.what, cw.err)
}
