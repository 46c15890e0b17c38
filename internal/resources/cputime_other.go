//go:build !linux

package resources

import "time"

// processCPU is not measured here: the rate probe falls back on wall time.
func processCPU() (time.Duration, bool) { return 0, false }
