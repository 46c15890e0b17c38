//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/obs-toolkit/obs/internal/resources"
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
	oom := resources.PassStderr(os.Stderr, pipe)
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
