package prune

import (
	"container/heap"
	"math"
)

// unitQueue holds the units of one pool that are still candidates and
// gives the one of smallest saliency: the engine's choice of the next step.
// Both implementations order units by less, the order of salHeap.Less2.
type unitQueue interface {
	Len() int
	// min returns the unit of smallest saliency (Len() > 0).
	min() int
	// pop removes and returns it.
	pop() int
	// fix says that u's saliency changed (u absent: nothing).
	fix(u int)
	// less orders units a and b.
	less(a, b int) bool
}

func (h *salHeap) min() int           { return h.idx[0] }
func (h *salHeap) pop() int           { return heap.Pop(h).(int) }
func (h *salHeap) less(a, b int) bool { return h.Less2(a, b) }

// segSize is the number of consecutive units of a segment of segQueue.
const segSize = 64

// segQueue is a unitQueue for units ordered by saliency, ties to the lower
// unit (no TieRank): the units are cut into segments of segSize consecutive
// units, each segment keeps its smallest unit, and a winner tree over the
// segments keeps the smallest of those. A change of saliency marks its
// segment, which is scanned again (segSize units) and replayed up the tree
// (log of the segments) before the next choice. After an OBS step on a
// block-diagonal inverse the B changed units are B consecutive ones, in
// B/segSize + 2 segments, so the step costs O(B) instead of a heap's
// O(B log n) (with a cache miss at each level of a heap of millions); after
// a dense step every unit changed, and the queue is rebuilt in O(n).
//
// Its choice is the binary heap's whenever less is a strict total order:
// always, unless a saliency is NaN (Prune queues none, but a group's
// saliency turns NaN after a downdate if its [C^-1]_GG is no longer
// positive definite). A NaN unit is then chosen after every number (NaN
// units by index), where the heap's choice depended on its history.
type segQueue struct {
	sal   []float64
	in    []bool  // in[u]: u is queued
	count int     // units queued
	best  []int32 // best[s]: the smallest unit queued in segment s, -1 if none
	dirty []int32 // segments whose best is stale
	stale []bool  // stale[s]: s is in dirty
	leaf  int     // the first leaf of tree, a power of 2 >= the segments
	tree  []int32 // winner tree: tree[leaf+s] = s, tree[i] the winner of its children, -1: none
}

// newSegQueue returns the queue of the units u with in[u], n units in all,
// ordered by sal (shared with the caller, who calls fix after a change). It
// keeps in.
func newSegQueue(sal []float64, in []bool) *segQueue {
	nseg := (len(in) + segSize - 1) / segSize
	q := &segQueue{sal: sal, in: in, best: make([]int32, nseg), stale: make([]bool, nseg), leaf: 1}
	for q.leaf < nseg {
		q.leaf *= 2
	}
	q.tree = make([]int32, 2*q.leaf)
	for i := range q.tree {
		q.tree[i] = -1
	}
	for _, ok := range in {
		if ok {
			q.count++
		}
	}
	for s := range q.best {
		q.scan(s)
		q.tree[q.leaf+s] = int32(s)
	}
	for i := q.leaf - 1; i >= 1; i-- {
		q.tree[i] = q.winner(q.tree[2*i], q.tree[2*i+1])
	}
	return q
}

func (q *segQueue) Len() int { return q.count }

// less is salHeap.Less2 without ranks: by saliency, ties to the lower
// unit; a NaN saliency comes after every number.
func (q *segQueue) less(a, b int) bool {
	sa, sb := q.sal[a], q.sal[b]
	if sa != sb {
		switch {
		case math.IsNaN(sa):
			return false
		case math.IsNaN(sb):
			return true
		}
		return sa < sb
	}
	return a < b
}

// scan sets best[s].
func (q *segQueue) scan(s int) {
	b := -1
	for u := s * segSize; u < min((s+1)*segSize, len(q.in)); u++ {
		if q.in[u] && (b < 0 || q.less(u, b)) {
			b = u
		}
	}
	q.best[s] = int32(b)
}

// winner returns the segment (of a and b, -1: none) with the smaller best.
func (q *segQueue) winner(a, b int32) int32 {
	switch {
	case a < 0 || q.best[a] < 0:
		if b >= 0 && q.best[b] >= 0 {
			return b
		}
		return -1
	case b < 0 || q.best[b] < 0:
		return a
	case q.less(int(q.best[b]), int(q.best[a])):
		return b
	}
	return a
}

// flush brings the stale segments and their paths in the tree up to date.
func (q *segQueue) flush() {
	for _, s := range q.dirty {
		q.stale[s] = false
		q.scan(int(s))
		for i := (q.leaf + int(s)) / 2; i >= 1; i /= 2 {
			q.tree[i] = q.winner(q.tree[2*i], q.tree[2*i+1])
		}
	}
	q.dirty = q.dirty[:0]
}

func (q *segQueue) mark(u int) {
	if s := u / segSize; !q.stale[s] {
		q.stale[s] = true
		q.dirty = append(q.dirty, int32(s))
	}
}

func (q *segQueue) min() int {
	q.flush()
	return int(q.best[q.tree[1]])
}

func (q *segQueue) pop() int {
	u := q.min()
	q.in[u] = false
	q.count--
	q.mark(u)
	return u
}

func (q *segQueue) fix(u int) {
	if q.in[u] {
		q.mark(u)
	}
}

// newQueues returns the queue of every pool (poolOf[u] is u's pool) holding
// the units whose saliency sal[u] is not NaN: segment queues without ranks,
// binary heaps with them (rank[u] breaks ties between equal saliencies, and
// units of equal rank and saliency come out in the heap's order).
func newQueues(sal []float64, poolOf []int, pools int, rank []int) []unitQueue {
	qs := make([]unitQueue, pools)
	if rank == nil {
		in := make([][]bool, pools)
		for g := range in {
			in[g] = make([]bool, len(sal))
		}
		for u, s := range sal {
			if !math.IsNaN(s) {
				in[poolOf[u]][u] = true
			}
		}
		for g := range qs {
			qs[g] = newSegQueue(sal, in[g])
		}
		return qs
	}
	heaps := make([]*salHeap, pools)
	for g := range heaps {
		heaps[g] = &salHeap{sal: sal, rank: rank}
	}
	at := make([]int, len(sal))
	for u := range at {
		at[u] = -1
	}
	for g := range heaps {
		heaps[g].at = at
	}
	for u, s := range sal {
		if !math.IsNaN(s) {
			h := heaps[poolOf[u]]
			at[u] = len(h.idx)
			h.idx = append(h.idx, u)
		}
	}
	for g, h := range heaps {
		heap.Init(h)
		qs[g] = h
	}
	return qs
}
