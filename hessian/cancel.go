package hessian

import (
	"errors"
	"sync/atomic"
)

// ErrInterrupted is returned by the inverses after Interrupt.
var ErrInterrupted = errors.New("hessian: interrupted")

var interrupted atomic.Bool

// Interrupt makes the long loops of this package stop at their next block
// of terms: InverseBlocked and InverseRecursive return ErrInterrupted, and
// Dense of a RankOne curvature skips the remaining terms (its result is then
// incomplete). It is for a process about to exit (obs calls it on Ctrl-C)
// and cannot be undone.
func Interrupt() { interrupted.Store(true) }
