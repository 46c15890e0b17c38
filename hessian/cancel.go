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

// contextOf returns the context of c (WithContext), or nil.
func contextOf(c Curvature) context.Context {
	if s, ok := c.(interface{ context() context.Context }); ok {
		return s.context()
	}
	return nil
}

// cancelled reports whether ctx, which may be nil, is cancelled.
func cancelled(ctx context.Context) bool { return ctx != nil && ctx.Err() != nil }

func (b *base) context() context.Context { return b.ctx }
