//go:build !linux

package resources

// addressSpace reports no limit where RLIMIT_AS is not read.
func addressSpace() (float64, bool) { return 0, false }
