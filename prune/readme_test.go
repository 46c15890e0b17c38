package prune_test

import (
	"os"
	"strings"
	"testing"
)

// TestREADMESnippet checks that the Go snippet of the README's "Train and
// prune from scratch" is the body of Example (unindented once), so the
// README's code compiles and its output line is checked by go test.
func TestREADMESnippet(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const head = "### Train and prune from scratch\n\n```go\n"
	_, after, ok := strings.Cut(string(readme), head)
	if !ok {
		t.Fatalf("README.md has no %q section opening with a Go block", "Train and prune from scratch")
	}
	snippet, _, ok := strings.Cut(after, "```\n")
	if !ok {
		t.Fatal("README.md: the Go block of \"Train and prune from scratch\" is not closed")
	}

	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok = strings.Cut(string(src), "\nfunc Example() {\n")
	if !ok {
		t.Fatal("example_test.go has no func Example")
	}
	body, _, ok := strings.Cut(after, "\n}\n")
	if !ok {
		t.Fatal("example_test.go: func Example is not closed")
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	if want := strings.Join(lines, "\n") + "\n"; snippet != want {
		t.Errorf("README.md's \"Train and prune from scratch\" snippet differs from the body of Example in prune/example_test.go:\nREADME:\n%s\nExample:\n%s", snippet, want)
	}
}
