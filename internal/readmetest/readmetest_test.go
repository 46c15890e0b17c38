package readmetest

import (
	"os"
	"path/filepath"
	"testing"
)

// fakeT records failures instead of stopping the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic(f) }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic(f) }
func run(f *fakeT, fn func(testing.TB)) {
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	fn(f)
}

// A snippet equal to the example's body passes; one that differs, a
// missing heading or a missing function fails.
func TestSnippet(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	src := write("ex_test.go", "package x\n\nfunc Example() {\n\ta := 1\n\t_ = a\n}\n")
	good := write("good.md", "# T\n\n## Use\n\n```go\na := 1\n_ = a\n```\n")
	bad := write("bad.md", "# T\n\n## Use\n\n```go\na := 2\n_ = a\n```\n")
	for _, c := range []struct {
		readme, heading, fn string
		fail                bool
	}{
		{good, "## Use", "Example", false},
		{bad, "## Use", "Example", true},
		{good, "## Other", "Example", true},
		{good, "## Use", "Example_x", true},
	} {
		f := &fakeT{TB: t}
		run(f, func(tb testing.TB) { Snippet(tb, c.readme, c.heading, src, c.fn) })
		if f.failed != c.fail {
			t.Errorf("%s %q %s: failed %v, want %v", filepath.Base(c.readme), c.heading, c.fn, f.failed, c.fail)
		}
	}
}
