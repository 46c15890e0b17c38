package bounded

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLimits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	os.WriteFile(path, []byte("0123456789\nabc\n"), 0o644)
	if b, err := ReadAll(path, "test file", 15, 10); err != nil || len(b) != 15 {
		t.Errorf("at the limits: %d bytes, %v", len(b), err)
	}
	if _, err := ReadAll(path, "test file", 14, 0); err == nil || !strings.Contains(err.Error(), "more than any test file can need") {
		t.Errorf("over the size: %v", err)
	}
	if _, err := ReadAll(path, "test file", 100, 9); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("over the line length: %v", err)
	}
	// A device that never ends stops at the limit.
	r, err := Open("/dev/zero", "test file", 1<<20, 0)
	if err != nil {
		t.Skip(err)
	}
	defer r.Close()
	if _, err := io.ReadAll(r); err == nil || !strings.Contains(err.Error(), "longer than 1 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
}

func TestPrefix(t *testing.T) {
	if got := Prefix("short", 40); got != "short" {
		t.Errorf("Prefix(short) = %q", got)
	}
	long := strings.Repeat("é", 100) // 2 bytes each: a cut must not split one
	got := Prefix(long, 41)
	if !strings.HasSuffix(got, "... (200 bytes)") || !strings.HasPrefix(got, strings.Repeat("é", 20)+"...") {
		t.Errorf("Prefix(long) = %q", got)
	}
}
