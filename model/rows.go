package model

import (
	"runtime"
	"sync"
)

// minRowsWork is the number of elements below which forRows does not
// start goroutines: a goroutine costs about a microsecond, a few thousand
// element-wise operations.
const minRowsWork = 1 << 14

// forRows calls f(p0, p1) on disjoint ranges of rows that together cover
// 0..n-1, on up to GOMAXPROCS goroutines when the n rows of width elements
// are worth it (else once, f(0, n), on the caller's goroutine). f must
// write only its own rows' results and must not depend on the split, so
// that results are the same for every number of goroutines: the batched
// element-wise rules (activations, pools, im2col) use it.
func forRows(n, width int, f func(p0, p1 int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 || n*width < minRowsWork {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(k*n/w, (k+1)*n/w)
		}()
	}
	f(0, n/w)
	wg.Wait()
}
