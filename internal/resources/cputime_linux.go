package resources

import (
	"syscall"
	"time"
)

// ProcessCPU returns the CPU time the process has used (user and system,
// every thread) and true, or false where it cannot be measured (not Linux).
func ProcessCPU() (time.Duration, bool) { return processCPU() }

// processCPU returns the CPU time the process has used (user and system,
// every thread: gonum's matrix product runs on several), and true.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// PeakRSSMiB returns the process's peak resident set size so far, in MiB,
// and true.
func PeakRSSMiB() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Maxrss) / 1024, true // Linux reports kilobytes
}
