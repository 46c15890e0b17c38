package reproduce

import (
	"math"
	"runtime"
	"sort"
	"sync"
)

// parallel calls fn(i) for i = 0..n-1 on up to workers goroutines and
// returns the error of the lowest i that failed (so the error, like every
// result, does not depend on scheduling). progress, if not nil, is called
// after each i, serialised. stop is polled before each i.
func parallel(n, workers int, stop func() bool, progress func(done, total int), fn func(i int) error) error {
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

// rangeOf returns the median, minimum and maximum of x, leaving out NaN.
func rangeOf(x []float64) Range {
	var v []float64
	for _, a := range x {
		if !math.IsNaN(a) {
			v = append(v, a)
		}
	}
	r := Range{Median: math.NaN(), Min: math.NaN(), Max: math.NaN(), N: len(v)}
	if len(v) == 0 {
		return r
	}
	sort.Float64s(v)
	r.Min, r.Max = v[0], v[len(v)-1]
	// The median: the middle value, or the mean of the two middle values
	// of an even count.
	n := len(v)
	if n%2 == 1 {
		r.Median = v[n/2]
	} else {
		r.Median = (v[n/2-1] + v[n/2]) / 2
	}
	return r
}

// median returns the median of x, leaving out NaN.
func median(x []float64) float64 { return rangeOf(x).Median }
