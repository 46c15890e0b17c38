// Package readmetest checks that a Go block of the README is the body of a
// tested example, so the README's code compiles and its output is checked
// by go test.
package readmetest

import (
	"os"
	"strings"
	"testing"
)

// Snippet fails t unless the first Go block after the line heading (such
// as "## Use it from Go") of the file readme is the body of func fn in the
// file src, unindented once.
func Snippet(t testing.TB, readme, heading, src, fn string) {
	t.Helper()
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(text), heading+"\n\n```go\n")
	if !ok {
		t.Fatalf("%s has no %q section opening with a Go block", readme, heading)
	}
	snippet, _, ok := strings.Cut(after, "```\n")
	if !ok {
		t.Fatalf("%s: the Go block of %q is not closed", readme, heading)
	}
	code, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok = strings.Cut(string(code), "\nfunc "+fn+"() {\n")
	if !ok {
		t.Fatalf("%s has no func %s", src, fn)
	}
	body, _, ok := strings.Cut(after, "\n}\n")
	if !ok {
		t.Fatalf("%s: func %s is not closed", src, fn)
	}
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	if want := strings.Join(lines, "\n") + "\n"; snippet != want {
		t.Errorf("%s's %q snippet differs from the body of %s in %s:\nREADME:\n%s\nExample:\n%s", readme, heading, fn, src, snippet, want)
	}
}
