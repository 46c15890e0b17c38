package prune_test

import (
	"testing"

	"github.com/obs-toolkit/obs/internal/readmetest"
)

// TestREADMESnippet checks that the Go snippet of the README's "Train and
// prune from scratch" is the body of Example (unindented once), so the
// README's code compiles and its output line is checked by go test.
func TestREADMESnippet(t *testing.T) {
	readmetest.Snippet(t, "../README.md", "### Train and prune from scratch", "example_test.go", "Example")
}
