//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive flock on the directory, waiting for other
// holders, and returns the function that releases it. The lock is advisory:
// it orders obs processes, not other programs.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
