//go:build !linux

package resources

import "time"

// processCPU is not measured here: the rate probe falls back on wall time.
func processCPU() (time.Duration, bool) { return 0, false }

// PeakRSSMiB is not measured here.
func PeakRSSMiB() (float64, bool) { return 0, false }

// ProcessCPU is not measured here.
func ProcessCPU() (time.Duration, bool) { return 0, false }
