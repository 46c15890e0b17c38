package hessian

import (
	"context"
	"errors"
)

// ErrInterrupted is returned by InverseBlocked and InverseRecursive when
// the curvature's context (WithContext) is cancelled.
var ErrInterrupted = errors.New("hessian: interrupted")

// WithContext returns a copy of c bound to ctx: once ctx is cancelled, its
// long loops stop at their next block of terms: InverseBlocked and
// InverseRecursive return ErrInterrupted, and Dense of a RankOne skips the
// remaining terms (its result is then incomplete: check ctx.Err()). The
// curvatures of New and NewSparse that are sums of rank-1 terms take a
// context; any other curvature is returned unchanged.
func WithContext(ctx context.Context, c Curvature) Curvature {
	switch v := c.(type) {
	case *rankOne:
		cp := *v
		cp.ctx = ctx
		return &cp
	case *sparse:
		cp := *v.rankOne
		cp.ctx = ctx
		return &sparse{&cp}
	}
	return c
}

// stopped reports whether the context of c, if any, is cancelled.
func stopped(c Curvature) bool {
	s, ok := c.(interface{ context() context.Context })
	if !ok {
		return false
	}
	ctx := s.context()
	return ctx != nil && ctx.Err() != nil
}

func (b *base) context() context.Context { return b.ctx }
