package npy

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The expected bytes below are written out from the format description
// (NEP 1 and numpy/lib/format.py), not produced by this package, and were
// checked once against numpy 1.24.2's numpy.save.

func TestWriteBytes2x3(t *testing.T) {
	data := []float64{1.5, -2, 0.1, 0, math.Inf(1), math.Copysign(0, -1)}
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 3}, data); err != nil {
		t.Fatal(err)
	}
	// dict: 59 bytes; 20 growth spaces (21 - len("2")) are part of the 58
	// spaces that bring 10 + 59 + 58 + 1 to 128 = 2*64; header length 118 = 0x76.
	var want []byte
	want = append(want, 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0x76, 0x00)
	want = append(want, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }"...)
	want = append(want, strings.Repeat(" ", 58)...)
	want = append(want, '\n')
	for _, hex := range []string{
		"000000000000f83f", // 1.5
		"00000000000000c0", // -2
		"9a9999999999b93f", // 0.1
		"0000000000000000", // 0
		"000000000000f07f", // +Inf
		"0000000000000080", // -0
	} {
		for i := 0; i < 16; i += 2 {
			b, err := strconv.ParseUint(hex[i:i+2], 16, 8)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, byte(b))
		}
	}
	if got := buf.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("bytes differ:\n got %q\nwant %q", got, want)
	}
}

func TestHeaderShapes(t *testing.T) {
	cases := []struct {
		shape []int
		dict  string
		hlen  int // header length field: dict + padding + '\n'
	}{
		{nil, "{'descr': '<f8', 'fortran_order': False, 'shape': (), }", 118},
		{[]int{3}, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }" + strings.Repeat(" ", 20), 118},
		{[]int{0}, "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }" + strings.Repeat(" ", 20), 118},
		{[]int{12345}, "{'descr': '<f8', 'fortran_order': False, 'shape': (12345,), }" + strings.Repeat(" ", 16), 118},
		{[]int{1, 2, 3}, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }" + strings.Repeat(" ", 20), 118},
		// 10 + 117 + 1 = 128 lands exactly on a boundary: numpy then pads
		// a full 64 bytes (its padlen = 64 - 0), so hlen = 118 + 64 = 182.
		{[]int{0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 100},
			"{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 100), }" + strings.Repeat(" ", 20), 182},
	}
	for _, c := range cases {
		h, err := Header(c.shape)
		if err != nil {
			t.Fatal(err)
		}
		if string(h[:8]) != "\x93NUMPY\x01\x00" {
			t.Errorf("%v: magic/version %q", c.shape, h[:8])
		}
		if got := int(binary.LittleEndian.Uint16(h[8:10])); got != c.hlen {
			t.Errorf("%v: header length %d, want %d", c.shape, got, c.hlen)
		}
		if len(h) != 10+c.hlen || len(h)%64 != 0 {
			t.Errorf("%v: total header %d bytes, want %d (a multiple of 64)", c.shape, len(h), 10+c.hlen)
		}
		body := string(h[10:])
		if !strings.HasPrefix(body, c.dict) {
			t.Errorf("%v: header %q does not start with %q", c.shape, body, c.dict)
		}
		rest := body[len(c.dict):]
		if !strings.HasSuffix(rest, "\n") || strings.Trim(rest[:len(rest)-1], " ") != "" {
			t.Errorf("%v: padding %q is not spaces then newline", c.shape, rest)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, []int{2, 2}, []float64{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "holds 4 values") {
		t.Errorf("size mismatch: err = %v", err)
	}
	if err := Write(&buf, []int{-1}, nil); err == nil {
		t.Error("negative dimension accepted")
	}
	if buf.Len() != 0 {
		t.Errorf("%d bytes written on error", buf.Len())
	}
	// A header over 65535 bytes needs format version 2.0.
	if _, err := Header(make([]int, 30000)); err == nil {
		t.Error("header too long for version 1.0 accepted")
	}
	dir := t.TempDir()
	if err := WriteFile(filepath.Join(dir, "nodir", "x.npy"), []int{1}, []float64{1}); err == nil {
		t.Error("WriteFile into a missing directory succeeded")
	}
	if err := WriteFile(filepath.Join(dir, "bad.npy"), []int{2}, []float64{1}); err == nil {
		t.Error("WriteFile with a size mismatch succeeded")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left after failed writes: %v", ents)
	}
}

// TestNumpyLoads reads a file written by WriteFile with numpy itself and
// compares every value exactly (float64 round-trips through the raw bytes),
// and, with numpy 1.24 or later (which has GROWTH_AXIS_MAX_DIGITS), compares
// the whole file with what numpy.save writes for the same array.
func TestNumpyLoads(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Skipf("%s with numpy is not available (Debian package python3-numpy): %v", py, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "a.npy")
	data := make([]float64, 3*4)
	for i := range data {
		data[i] = math.Sqrt(float64(i)) - 1.0/3
	}
	data[5] = math.Copysign(0, -1)
	if err := WriteFile(path, []int{3, 4}, data); err != nil {
		t.Fatal(err)
	}
	want := make([]string, len(data))
	for i, v := range data {
		want[i] = strconv.FormatFloat(v, 'x', -1, 64)
	}
	script := `
import sys, io, numpy as np, numpy.lib.format as f
a = np.load(sys.argv[1])
assert a.dtype == np.dtype('<f8'), a.dtype
assert a.shape == (3, 4), a.shape
assert a.flags['C_CONTIGUOUS']
want = np.array([float.fromhex(s) for s in sys.argv[2].split(',')]).reshape(3, 4)
assert np.array_equal(a, want), (a, want)
assert all(np.signbit(a.ravel()) == np.signbit(want.ravel()))
if hasattr(f, 'GROWTH_AXIS_MAX_DIGITS'):
    b = io.BytesIO(); np.save(b, want)
    assert open(sys.argv[1], 'rb').read() == b.getvalue(), 'bytes differ from numpy.save'
    print('bytes identical to numpy.save', np.__version__)
else:
    print('values identical; numpy', np.__version__, 'is older than the growth-padding header, bytes not compared')
`
	out, err := exec.Command(py, "-c", script, path, strings.Join(want, ",")).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy check failed: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
}
