package datasets_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMESnippet checks that the Go snippet of the README's "Use it from
// Go" is the body of Example_pyTorch (unindented once), so the README's
// code compiles and its output line is checked by go test.
func TestREADMESnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const head = "## Use it from Go\n\n```go\n"
	_, after, ok := strings.Cut(string(readme), head)
	if !ok {
		t.Fatalf("README.md has no %q section opening with a Go block", "Use it from Go")
	}
	snippet, _, ok := strings.Cut(after, "```\n")
	if !ok {
		t.Fatal("README.md: the Go block of \"Use it from Go\" is not closed")
	}
	src, err := os.ReadFile("example_pytorch_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok = strings.Cut(string(src), "\nfunc Example_pyTorch() {\n")
	if !ok {
		t.Fatal("example_pytorch_test.go has no func Example_pyTorch")
	}
	body, _, ok := strings.Cut(after, "\n}\n")
	if !ok {
		t.Fatal("example_pytorch_test.go: func Example_pyTorch is not closed")
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	if want := strings.Join(lines, "\n") + "\n"; snippet != want {
		t.Errorf("README.md's \"Use it from Go\" snippet differs from the body of Example_pyTorch in datasets/example_pytorch_test.go:\nREADME:\n%s\nExample:\n%s", snippet, want)
	}
}
