package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// The staged writes of this process. obs runs one command per process, so
// one set is enough: a command calls Stage before its first write and Commit
// after its last.
var (
	stageMu   sync.Mutex
	staged    bool
	stagedTmp = map[string]string{} // temporary file -> destination
	order     []string              // temporary files in the order written

	// commitMu is held while Commit renames, so that Abandon (the hard
	// exit on a second interrupt) never cuts a commit in half.
	commitMu  sync.Mutex
	abandoned bool
	committed bool
)

// Stage makes every later Write leave its content in a complete temporary
// file beside the destination instead of renaming it at once; Commit renames
// them all. Files written before Stage are not affected.
func Stage() {
	stageMu.Lock()
	staged = true
	stageMu.Unlock()
}

// staging records tmp as the staged content of path if Stage was called. A
// second write to the same path replaces the first one's temporary file.
func staging(tmp, path string) bool {
	stageMu.Lock()
	defer stageMu.Unlock()
	if !staged {
		return false
	}
	for t, p := range stagedTmp {
		if p == path {
			os.Remove(t)
			pending.Delete(t)
			delete(stagedTmp, t)
		}
	}
	stagedTmp[tmp] = path
	order = append(order, tmp)
	return true
}

func isStaged(tmp string) bool {
	stageMu.Lock()
	defer stageMu.Unlock()
	_, ok := stagedTmp[tmp]
	return ok
}

// Commit renames every staged file over its destination, holding an
// exclusive lock (flock) on each destination directory meanwhile, and checks
// again under the lock that every destination is a regular file or absent.
// Two processes committing into the same directories therefore take turns:
// the files one run writes are never mixed with another's. It returns the
// first error; renames already done stay done (each file is complete).
func Commit() error {
	commitMu.Lock()
	defer commitMu.Unlock()
	if abandoned {
		return fmt.Errorf("interrupted before the outputs were written")
	}
	stageMu.Lock()
	var todo [][2]string
	for _, t := range order {
		if p, ok := stagedTmp[t]; ok {
			todo = append(todo, [2]string{t, p})
		}
	}
	stagedTmp, order, staged = map[string]string{}, nil, false
	stageMu.Unlock()

	dirs := map[string]bool{}
	for _, tp := range todo {
		dirs[filepath.Dir(tp[1])] = true
	}
	var sorted []string
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted) // one order for every process: no deadlock
	var unlock []func()
	defer func() {
		for i := len(unlock) - 1; i >= 0; i-- {
			unlock[i]()
		}
	}()
	for _, d := range sorted {
		u, err := lockDir(d)
		if err != nil {
			removeAll(todo)
			return fmt.Errorf("cannot lock output directory %s: %v", d, err)
		}
		unlock = append(unlock, u)
	}
	for _, tp := range todo {
		if err := checkKind(tp[1]); err != nil {
			removeAll(todo)
			return err
		}
	}
	for i, tp := range todo {
		if err := os.Rename(tp[0], tp[1]); err != nil {
			removeAll(todo[i:])
			return fmt.Errorf("cannot write %s: %v", tp[1], err)
		}
		pending.Delete(tp[0])
	}
	for _, d := range sorted {
		syncDir(d)
	}
	committed = len(todo) > 0
	return nil
}

func removeAll(todo [][2]string) {
	for _, tp := range todo {
		os.Remove(tp[0])
		pending.Delete(tp[0])
	}
}

// syncDir makes the renames durable; errors are ignored (some file systems
// cannot sync a directory).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Abandon waits for a commit in progress to finish, forbids any later one
// and removes every temporary file. It reports whether a commit had renamed
// files into place (then the outputs are complete, not untouched). An
// interrupt handler calls it just before exiting.
func Abandon() (committedOutputs bool) {
	commitMu.Lock()
	abandoned = true
	c := committed
	commitMu.Unlock()
	RemovePending()
	return c
}
