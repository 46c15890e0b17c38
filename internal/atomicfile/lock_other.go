//go:build !unix

package atomicfile

// lockDir does nothing where flock is missing: Commit still renames every
// file in one short pass, but two processes may interleave.
func lockDir(string) (func(), error) { return func() {}, nil }
