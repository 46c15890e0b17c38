// Package enum holds the two operations shared by the small enumerations of
// obs (activations, losses, training and pruning methods, curvature kinds,
// fixes, inverse forms): an int type whose values index a list of names.
package enum

import (
	"fmt"
	"strings"
)

// Name returns names[v], or "typ(v)" for a value outside the list.
func Name[T ~int](names []string, typ string, v T) string {
	if v < 0 || int(v) >= len(names) {
		return fmt.Sprintf("%s(%d)", typ, int(v))
	}
	return names[v]
}

// Parse returns the value whose name equals s up to case, and whether
// there is one.
func Parse[T ~int](names []string, s string) (T, bool) {
	for i, n := range names {
		if strings.EqualFold(s, n) {
			return T(i), true
		}
	}
	return 0, false
}

// Or lists names as "a, b or c", for error messages.
func Or(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
