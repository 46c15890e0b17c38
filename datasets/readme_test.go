package datasets_test

import (
	"testing"

	"github.com/obs-toolkit/obs/internal/readmetest"
)

// TestREADMESnippet checks that the Go snippet of the README's "Use it from
// Go" is the body of Example_pyTorch (unindented once), so the README's
// code compiles and its output line is checked by go test.
func TestREADMESnippet(t *testing.T) {
	readmetest.Snippet(t, "../README.md", "## Use it from Go", "example_pytorch_test.go", "Example_pyTorch")
}
