package resources

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// addressSpace returns what the soft RLIMIT_AS (ulimit -v) leaves of the
// process's address space: the limit minus the address space it already
// maps (VmSize in /proc/self/status). ok is false without a limit. A Go
// process reserves address space ahead of its heap, so a run that fits in
// the machine's memory can still fail under ulimit -v; the memory check
// then refuses it before it starts instead of the runtime dying mid-run.
func addressSpace() (bytes float64, ok bool) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || rl.Cur == ^uint64(0) || rl.Cur >= 1<<62 {
		return 0, false
	}
	used := 0.0
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 2 && fields[0] == "VmSize:" {
				if v, err := strconv.ParseFloat(fields[1], 64); err == nil {
					used = v * 1024 // kB
				}
			}
		}
		f.Close()
	}
	free := float64(rl.Cur) - used
	if free < 0 {
		free = 0
	}
	return free, true
}
