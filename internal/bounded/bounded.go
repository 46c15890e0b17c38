// Package bounded reads input files no larger than their format can need,
// so that /dev/zero, a runaway pipe or a huge sparse file given by mistake
// ends in a one-line error at once instead of exhausting memory.
package bounded

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// Open opens path for reading at most limit bytes in total and at most
// maxLine bytes between two newlines (0: no line limit). A regular file
// larger than limit fails at once, from its size; any other file (a device,
// a pipe) fails when the limit is reached. what names the format in errors,
// like "model file".
func Open(path, what string, limit, maxLine int64) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory", path)
	}
	if st.Mode().IsRegular() && st.Size() > limit {
		f.Close()
		return nil, fmt.Errorf("%s is %s, more than any %s can need (at most %s)", path, Size(st.Size()), what, Size(limit))
	}
	return &reader{f: f, path: path, what: what, left: limit, limit: limit, maxLine: maxLine}, nil
}

// ReadAll reads the whole of path within the limits of Open.
func ReadAll(path, what string, limit, maxLine int64) ([]byte, error) {
	r, err := Open(path, what, limit, maxLine)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

type reader struct {
	f             *os.File
	path, what    string
	left, limit   int64
	maxLine, line int64
	lineNo        int64
}

func (r *reader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		// One more byte tells a file of exactly limit bytes from a longer one.
		var one [1]byte
		if n, _ := r.f.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%s is longer than %s, more than any %s can need", r.path, Size(r.limit), r.what)
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.f.Read(p)
	r.left -= int64(n)
	if r.maxLine > 0 {
		b := p[:n]
		for len(b) > 0 {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				r.line += int64(len(b))
				break
			}
			r.line += int64(i)
			if r.line > r.maxLine {
				break
			}
			r.line, r.lineNo, b = 0, r.lineNo+1, b[i+1:]
		}
		if r.line > r.maxLine {
			return 0, fmt.Errorf("%s line %d is longer than %s, more than any %s can need", r.path, r.lineNo+1, Size(r.maxLine), r.what)
		}
	}
	return n, err
}

func (r *reader) Close() error { return r.f.Close() }

// Size formats a byte count as B, KiB, MiB, GiB or TiB.
func Size(n int64) string {
	v, units := float64(n), []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.3g %s", v, units[i])
}

// Prefix returns s cut to at most n bytes (at a rune boundary) with "..."
// and the full length when cut, for quoting user data in error messages.
func Prefix(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:cut], len(s))
}
