package hessian

import (
	"errors"
	"fmt"
	"math"
)

var (
	// ErrNotPositiveDefinite is returned when a matrix that must be
	// positive definite is not (numerically). The wrapping error says which
	// damping was used and how to proceed.
	ErrNotPositiveDefinite = errors.New("hessian: matrix is not positive definite")
	// ErrBadDamping is returned for a damping alpha that is not a finite
	// number > 0.
	ErrBadDamping = errors.New("hessian: damping alpha must be a finite number > 0")
)

// checkAlpha returns an error unless alpha is finite and positive.
func checkAlpha(alpha float64) error {
	if !(alpha > 0) || math.IsInf(alpha, 1) {
		return fmt.Errorf("%w (got alpha = %v)", ErrBadDamping, alpha)
	}
	return nil
}

// notPD wraps ErrNotPositiveDefinite with what failed, the damping used
// and the advice.
func notPD(what string, alpha, decay float64, exact bool) error {
	advice := "raise alpha"
	if exact {
		advice = "raise alpha, or invert with InverseIndefinite and an explicit fix (shift, abs, clip or pinv)"
	}
	return fmt.Errorf("%w: %s (alpha = %g, weight decay %g); %s", ErrNotPositiveDefinite, what, alpha, decay, advice)
}
