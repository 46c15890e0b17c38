// Package npy writes arrays of float64 in NumPy's .npy format, version 1.0,
// so that curvature matrices can be read with numpy.load.
//
// The format (NEP 1, numpy/lib/format.py): the magic string "\x93NUMPY",
// the version bytes 1 and 0, the header length as a little-endian uint16,
// then the header: the Python dict literal
//
//	{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
//
// padded with spaces and ended by '\n' so that magic, version, length and
// header together take a multiple of 64 bytes, and after it the raw data:
// little-endian IEEE 754 float64 values in C (row-major) order.
//
// The header is byte-for-byte the one numpy 1.24 and later write with
// numpy.save: keys in sorted order, 21 - len(repr(shape[0])) spare spaces
// after the dict (numpy's GROWTH_AXIS_MAX_DIGITS, room to grow the first
// axis in place), and 64 padding bytes, not 0, when the header would
// otherwise end exactly on a 64-byte boundary.
package npy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// Magic is the first six bytes of every .npy file.
const Magic = "\x93NUMPY"

// align is the multiple of bytes that magic, version, length and header
// take together (numpy's ARRAY_ALIGN).
const align = 64

// growthDigits is numpy's GROWTH_AXIS_MAX_DIGITS: the header leaves room
// for the first axis to grow to this many digits.
const growthDigits = 21

// Header returns the complete header of a C-order little-endian float64
// array of the given shape: magic, version 1.0, length and padded dict.
// It returns an error for a negative dimension or a header too long for
// version 1.0 (more than 65535 bytes).
func Header(shape []int) ([]byte, error) {
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("npy: negative dimension %d in shape %v", d, shape)
		}
		dims[i] = strconv.Itoa(d)
	}
	// Python's repr of a tuple: "()", "(3,)", "(2, 3)".
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := "{'descr': '<f8', 'fortran_order': False, 'shape': " + tuple + ", }"
	if len(shape) > 0 {
		dict += strings.Repeat(" ", max(0, growthDigits-len(dims[0])))
	}
	prefix := len(Magic) + 2 + 2 // magic, version, uint16 length
	hlen := len(dict) + 1        // with the final '\n'
	pad := align - (prefix+hlen)%align
	total := hlen + pad
	if total > math.MaxUint16 {
		return nil, fmt.Errorf("npy: header of shape %v is %d bytes, more than version 1.0 allows", shape, total)
	}
	h := make([]byte, 0, prefix+total)
	h = append(h, Magic...)
	h = append(h, 1, 0)
	h = binary.LittleEndian.AppendUint16(h, uint16(total))
	h = append(h, dict...)
	for range pad {
		h = append(h, ' ')
	}
	return append(h, '\n'), nil
}

// Write writes data as a .npy array of the given shape (C order: the last
// index varies fastest) to w. The product of shape must equal len(data);
// an empty shape is a scalar, one value.
func Write(w io.Writer, shape []int, data []float64) error {
	h, err := Header(shape)
	if err != nil {
		return err
	}
	size := 1
	for _, d := range shape {
		if d != 0 && size > math.MaxInt/d {
			return fmt.Errorf("npy: shape %v is too large", shape)
		}
		size *= d
	}
	if size != len(data) {
		return fmt.Errorf("npy: shape %v holds %d values, got %d", shape, size, len(data))
	}
	bw := bufio.NewWriter(w)
	bw.Write(h)
	var b [8]byte
	for _, v := range data {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// WriteFile writes data as a .npy array to path atomically (temporary file
// and rename, see internal/atomicfile): a reader never sees a partial file.
func WriteFile(path string, shape []int, data []float64) error {
	if path == "" {
		return errors.New("npy: empty path")
	}
	return atomicfile.Write(path, func(w io.Writer) error { return Write(w, shape, data) })
}
