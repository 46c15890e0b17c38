//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCheckRefusesWhatItMustNotReplace(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	os.WriteFile(in, []byte("{}"), 0o644)
	os.Link(in, filepath.Join(dir, "hard.json"))
	os.Symlink(in, filepath.Join(dir, "link.json"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	p := func(name string) string { return filepath.Join(dir, name) }
	inputs := []File{{"--model", in}}
	cases := []struct {
		name string
		outs []File
		want string // "" for no error
	}{
		{"new path", []File{{"--out", p("new.json")}}, ""},
		{"regular file", []File{{"--out", p("old.json")}}, ""},
		{"two new paths", []File{{"--out", p("a")}, {"--records", p("b")}}, ""},
		{"same new path twice", []File{{"--out", p("a")}, {"--records", p("./a")}}, "same file"},
		{"the input", []File{{"--out", in}}, "same file as the input"},
		{"a hard link of the input", []File{{"--out", p("hard.json")}}, "same file as the input"},
		{"symlink", []File{{"--out", p("link.json")}}, "symbolic link"},
		{"fifo", []File{{"--out", p("fifo")}}, "named pipe"},
		{"directory", []File{{"--out", p("sub")}}, "directory"},
		{"char device", []File{{"--out", "/dev/null"}}, "character device"},
	}
	os.WriteFile(p("old.json"), nil, 0o644)
	for _, c := range cases {
		err := Check(c.outs, inputs)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !IsUnsafe(err)):
			t.Errorf("%s: got %v, want an UnsafeError with %q", c.name, err, c.want)
		}
	}
	if err := Check([]File{{"--out", in}}, inputs, File{"--model", in}); err != nil {
		t.Errorf("in place: %v", err)
	}
	if err := Check([]File{{"--out", p("missing/x")}}, nil); err == nil || IsUnsafe(err) {
		t.Errorf("missing directory: %v", err)
	}
}

// After Stage, files appear only at Commit; Write never replaces a device.
func TestStageCommit(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	Stage()
	if err := WriteBytes(a, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(b, []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(a); err == nil {
		t.Fatal("a staged file appeared before Commit")
	}
	if err := Commit(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{a: "1", b: "2"} {
		if got, _ := os.ReadFile(path); string(got) != want {
			t.Errorf("%s holds %q, want %q", path, got, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left behind: %v", entries)
	}
	fifo := filepath.Join(dir, "fifo")
	syscall.Mkfifo(fifo, 0o644)
	if err := WriteBytes(fifo, []byte("x")); err == nil || !IsUnsafe(err) {
		t.Errorf("wrote over a FIFO: %v", err)
	}
}
