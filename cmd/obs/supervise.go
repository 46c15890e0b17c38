//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"syscall"
)

// Under a limit of the address space (ulimit -v, RLIMIT_AS), an
// allocation the memory check did not foresee makes the Go runtime die
// with "fatal error: out of memory", a long trace and exit 2, the
// usage-error code; it cannot be caught in the process. (Without such a
// limit Linux's OOM killer ends the process instead, with no trace.) So,
// only when RLIMIT_AS is set, obs runs itself as a child and passes its
// stderr through: a runtime out-of-memory then ends in one line and exit 1
// like every other failure. The child gets stdin and stdout as they are,
// and SIGINT and SIGTERM are passed on to it.

// supervisedEnv marks the child, which does not supervise again.
const supervisedEnv = "OBS_SUPERVISED"

// rlimitAS reports whether the address space of the process is limited.
func rlimitAS() bool {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil {
		return false
	}
	return rl.Cur != ^uint64(0) && rl.Cur < 1<<62
}

// supervise runs obs with args as a child when the address space is
// limited, returning its exit code; ok is false where it did not (no
// limit, the child itself, or the child could not start).
func supervise(args []string) (code int, ok bool) {
	if os.Getenv(supervisedEnv) != "" || !rlimitAS() {
		return 0, false
	}
	exe, err := os.Executable()
	if err != nil {
		return 0, false
	}
	cmd := exec.Command(exe, args[1:]...)
	cmd.Stdin, cmd.Stdout = os.Stdin, os.Stdout
	cmd.Env = append(os.Environ(), supervisedEnv+"=1")
	if isTerminal(os.Stderr) {
		cmd.Env = append(cmd.Env, stderrTerminalEnv+"=1")
	}
	// Its own process group, so that a Ctrl-C on the terminal reaches it
	// once, through the supervisor, not twice (the second would stop it at
	// once).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return 0, false
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, false
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	oom := passStderr(os.Stderr, pipe)
	_ = cmd.Wait() // the exit status is read from ProcessState below
	code = cmd.ProcessState.ExitCode()
	if ws, isWS := cmd.ProcessState.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if oom != "" {
		fmt.Fprintf(os.Stderr, "obs: out of memory: %s, beyond what ulimit -v (RLIMIT_AS) allows this process; raise the limit, give a lower --max-memory so that the check before the run refuses it, or use a smaller setting (see the command's --help)\n", oom)
		return exitFailure, true
	}
	return code, true
}

var allocRE = regexp.MustCompile(`cannot allocate (\d+)-byte block`)

// passStderr copies the child's stderr r to w as it comes and returns
// what the Go runtime said about running out of memory ("" if nothing):
// from a line starting "runtime: out of memory" or "fatal error: ... out of
// memory" on, nothing more is copied (the runtime's trace).
func passStderr(w io.Writer, r io.Reader) (oom string) {
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
