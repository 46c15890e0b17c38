package resources

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// PassStderr passes every line through as it comes, however the reads
// split it, and stops at the runtime's out-of-memory.
func TestPassStderr(t *testing.T) {
	lines := "obs: progress: pruning (1 of 9)\nruntime stats are not these\n\rbar 50%\rbar 60%\nfatal error: concurrent map writes\nruntime: the rest\n"
	for _, oneByte := range []bool{false, true} {
		var r io.Reader = strings.NewReader(lines)
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		var w bytes.Buffer
		if oom := PassStderr(&w, r); oom != "" || w.String() != lines {
			t.Errorf("one byte %v: oom %q, passed %q", oneByte, oom, w.String())
		}
		r = strings.NewReader("obs: progress: building\nruntime: out of memory: cannot allocate 4096-byte block (123 in use)\nfatal error: out of memory\n\ngoroutine 1 [running]:\nmain.main()\n")
		if oneByte {
			r = iotest.OneByteReader(r)
		}
		w.Reset()
		if oom := PassStderr(&w, r); !strings.Contains(oom, "4096 bytes") || w.String() != "obs: progress: building\n" {
			t.Errorf("one byte %v: oom %q, passed %q", oneByte, oom, w.String())
		}
	}
}
