package resources

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
)

// A supervised obs (cmd/obs, under RLIMIT_AS) passes its child's stderr
// through PassStderr, which recognises the Go runtime's out-of-memory.

var allocRE = regexp.MustCompile(`cannot allocate (\d+)-byte block`)

// PassStderr copies a child obs's stderr r to w as it comes and returns
// what the Go runtime said about running out of memory ("" if nothing):
// from a line starting "runtime: out of memory" or "fatal error: ... out of
// memory" on, nothing more is copied (the runtime's trace).
func PassStderr(w io.Writer, r io.Reader) (oom string) {
	buf := make([]byte, 32<<10)
	var held []byte // the start of a line that may be the runtime's
	midLine := false
	for {
		n, err := r.Read(buf)
		chunk := buf[:n]
		for len(chunk) > 0 && oom == "" {
			part := chunk
			if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
				part = chunk[:i+1]
			}
			chunk = chunk[len(part):]
			complete := part[len(part)-1] == '\n'
			line := part
			switch {
			case held != nil:
				held = append(held, part...)
				line = held
			case midLine || !mayBeRuntime(part):
				w.Write(part)
				midLine = !complete
				continue
			}
			switch {
			case complete && isOOM(line):
				oom = "the Go runtime could not allocate memory"
				if m := allocRE.FindSubmatch(line); m != nil {
					oom = fmt.Sprintf("the Go runtime could not allocate a block of %s bytes", m[1])
				}
			case complete:
				w.Write(line)
				held, midLine = nil, false
			case mayBeRuntime(line):
				held = append(held[:0:0], line...) // wait for the rest of the line
			default:
				w.Write(line)
				held, midLine = nil, true
			}
		}
		if err != nil {
			if oom == "" && held != nil {
				w.Write(held)
			}
			return oom
		}
	}
}

var runtimePrefixes = [][]byte{[]byte("runtime: "), []byte("fatal error: ")}

// mayBeRuntime reports whether line starts (or may, when complete, start)
// like a message of the Go runtime.
func mayBeRuntime(line []byte) bool {
	for _, p := range runtimePrefixes {
		k := min(len(line), len(p))
		if bytes.Equal(line[:k], p[:k]) {
			return true
		}
	}
	return false
}

// isOOM reports whether a complete line is the runtime's out-of-memory.
func isOOM(line []byte) bool {
	return bytes.HasPrefix(line, []byte("runtime: out of memory")) ||
		(bytes.HasPrefix(line, []byte("fatal error: ")) && bytes.Contains(line, []byte("out of memory")))
}
