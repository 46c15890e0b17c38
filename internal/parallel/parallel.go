// Package parallel runs independent jobs of an experiment on several
// goroutines so that every result, and the error reported, is the same
// whatever the scheduling: results are stored by job index and the error
// of the lowest failing index wins.
package parallel

import (
	"errors"
	"runtime"
	"sync"
)

// ErrStopped is returned by For when stop asked it to end early.
var ErrStopped = errors.New("stopped")

// For calls fn(i) for i = 0..n-1 on up to workers goroutines and
// returns the error of the lowest i that failed (ErrStopped for jobs skipped after stop returned true) (so the error, like every
// result, does not depend on scheduling). progress, if not nil, is called
// after each i, serialised. stop is polled before each i.
func For(n, workers int, stop func() bool, progress func(done, total int), fn func(i int) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, n)
	errs := make([]error, n)
	var mu sync.Mutex
	next, done := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				if stop != nil && stop() {
					errs[i] = ErrStopped
					continue
				}
				errs[i] = fn(i)
				mu.Lock()
				done++
				if progress != nil {
					progress(done, n)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
