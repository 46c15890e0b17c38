package prune

import (
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSegQueueChoosesAsTheHeap drives a segment queue and a binary heap
// (salHeap, the engine's queue before segQueue) through the same random
// pops and saliency changes, many of them ties, over several segments and
// a ragged last one, and checks that every choice is the same.
func TestSegQueueChoosesAsTheHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 5, segSize, 3*segSize + 17, 1000} {
		sal := make([]float64, n)
		in := make([]bool, n)
		h := &salHeap{sal: sal, at: make([]int, n)}
		for u := range sal {
			sal[u] = float64(rng.IntN(8)) // ties
			h.at[u] = -1
			if rng.IntN(5) > 0 {
				in[u] = true
				h.at[u] = len(h.idx)
				h.idx = append(h.idx, u)
			}
		}
		heap.Init(h)
		q := newSegQueue(sal, in)
		for h.Len() > 0 {
			if q.Len() != h.Len() {
				t.Fatalf("n %d: %d units queued, the heap has %d", n, q.Len(), h.Len())
			}
			if a, b := q.min(), h.idx[0]; a != b {
				t.Fatalf("n %d: min %d, the heap's %d", n, a, b)
			}
			if a, b := q.pop(), heap.Pop(h).(int); a != b {
				t.Fatalf("n %d: popped %d, the heap %d", n, a, b)
			}
			// Change a run of consecutive saliencies (a block's rows) and
			// a few scattered ones.
			u0 := rng.IntN(n)
			for u := u0; u < min(n, u0+rng.IntN(150)); u++ {
				sal[u] = float64(rng.IntN(8))
				q.fix(u)
				h.fix(u)
			}
			for range 3 {
				u := rng.IntN(n)
				sal[u] = rng.Float64() * 8
				q.fix(u)
				h.fix(u)
			}
		}
		if q.Len() != 0 {
			t.Errorf("n %d: %d units left in the queue", n, q.Len())
		}
	}
}

// TestSegQueueNaNLast checks that units whose saliency turned NaN are
// chosen after every number, in index order.
func TestSegQueueNaNLast(t *testing.T) {
	sal := []float64{3, 1, 2, 0.5, 4}
	in := []bool{true, true, true, true, true}
	q := newSegQueue(sal, in)
	sal[1], sal[3] = math.NaN(), math.NaN()
	q.fix(1)
	q.fix(3)
	var got []int
	for q.Len() > 0 {
		got = append(got, q.pop())
	}
	if want := []int{2, 0, 4, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
}
