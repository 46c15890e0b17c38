package datasets

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"codeberg.org/sbinet/npyio/npz"
	"github.com/nlpodyssey/safetensors"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// Tensor is a named array of a weight file, held as float64 in C
// (row-major) order.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float64
	// Dtype is the element type in the file: "float32", "float64" or
	// "int64" (an integer buffer such as BatchNorm's num_batches_tracked).
	Dtype string
}

// Weight file formats.
const (
	FormatNPZ         = "npz"
	FormatSafetensors = "safetensors"
)

// WeightFormat returns the format of a weight file from its extension:
// .npz or .safetensors.
func WeightFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		return FormatNPZ, nil
	case ".safetensors":
		return FormatSafetensors, nil
	}
	return "", fmt.Errorf("datasets: weight file %s: unknown extension, want .npz or .safetensors", path)
}

// ReadWeights reads every tensor of a .npz file (numpy.savez, read with
// codeberg.org/sbinet/npyio) or a .safetensors file (read with
// github.com/nlpodyssey/safetensors). Only float32, float64 and int64
// tensors are accepted; values are converted to float64. Every value must be finite.
// Tensors are returned in name order.
func ReadWeights(path string) ([]Tensor, error) {
	format, err := WeightFormat(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	return ParseWeights(b, format, path)
}

// ParseWeights parses the bytes of a weight file in the given format as
// ReadWeights does; name is used in error messages.
func ParseWeights(b []byte, format, name string) (ts []Tensor, err error) {
	path := name
	defer func() {
		// The format libraries are not all hardened against malformed
		// input: a panic inside them is a malformed file.
		if r := recover(); r != nil {
			ts, err = nil, fmt.Errorf("datasets: weight file %s: malformed %s file (%v)", path, format, strings.ReplaceAll(fmt.Sprint(r), "\n", " "))
		}
	}()
	switch format {
	case FormatNPZ:
		ts, err = parseNPZ(b)
	case FormatSafetensors:
		ts, err = parseSafetensors(b)
	default:
		return nil, fmt.Errorf("datasets: unknown weight format %q, want npz or safetensors", format)
	}
	if err != nil {
		return nil, fmt.Errorf("datasets: weight file %s: %s", path, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("datasets: weight file %s holds no tensors", path)
	}
	for _, t := range ts {
		for i, v := range t.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("datasets: weight file %s: tensor %q element %d is %v; weights must be finite", path, t.Name, i, v)
			}
		}
	}
	slices.SortFunc(ts, func(a, b Tensor) int { return strings.Compare(a.Name, b.Name) })
	return ts, nil
}

// maxTensorBytes bounds the size an array header may claim before its
// values are allocated (1 GiB; obs's largest networks are far smaller), so
// that a malformed header cannot exhaust memory.
const maxTensorBytes = 1 << 30

func parseNPZ(b []byte) ([]Tensor, error) {
	r, err := npz.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a .npz archive: %v", err)
	}
	defer r.Close()
	// The uncompressed size of every entry, to check the array headers
	// against before npyio allocates what they claim.
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, fmt.Errorf("not a .npz archive: %v", err)
	}
	sizes := map[string]uint64{}
	for _, f := range zr.File {
		sizes[f.Name] = f.UncompressedSize64
		if err := checkNpyHeader(f); err != nil {
			return nil, err
		}
	}
	var ts []Tensor
	for _, key := range r.Keys() {
		h := r.Header(key)
		if h == nil {
			return nil, fmt.Errorf("entry %q is not a .npy array", key)
		}
		t := Tensor{Name: strings.TrimSuffix(key, ".npy"), Shape: append([]int(nil), h.Descr.Shape...)}
		n := 1
		for _, d := range t.Shape {
			if d < 0 || (d > 0 && n > maxTensorBytes/8/d) {
				return nil, fmt.Errorf("array %q: shape %v is too large", t.Name, t.Shape)
			}
			n *= d
		}
		if uint64(n)*4 > sizes[key] {
			return nil, fmt.Errorf("array %q: shape %v needs more bytes than its entry holds (%d)", t.Name, t.Shape, sizes[key])
		}
		switch strings.Trim(h.Descr.Type, "'") {
		case "<f8":
			t.Dtype = "float64"
			if err := r.Read(key, &t.Data); err != nil {
				return nil, fmt.Errorf("array %q: %v", t.Name, err)
			}
		case "<f4":
			t.Dtype = "float32"
			var f []float32
			if err := r.Read(key, &f); err != nil {
				return nil, fmt.Errorf("array %q: %v", t.Name, err)
			}
			t.Data = make([]float64, len(f))
			for i, v := range f {
				t.Data[i] = float64(v)
			}
		case "<i8":
			// An integer buffer such as a BatchNorm's num_batches_tracked.
			t.Dtype = "int64"
			var v []int64
			if err := r.Read(key, &v); err != nil {
				return nil, fmt.Errorf("array %q: %v", t.Name, err)
			}
			t.Data = make([]float64, len(v))
			for i, x := range v {
				t.Data[i] = float64(x)
			}
		default:
			return nil, fmt.Errorf("array %q has dtype %s, want float32 (<f4), float64 (<f8) or int64 (<i8)", t.Name, h.Descr.Type)
		}
		if len(t.Data) != n {
			return nil, fmt.Errorf("array %q: %d values for shape %v", t.Name, len(t.Data), t.Shape)
		}
		if h.Descr.Fortran && len(t.Shape) == 2 {
			rows, cols := t.Shape[0], t.Shape[1]
			c := make([]float64, n)
			for i := range rows {
				for j := range cols {
					c[i*cols+j] = t.Data[j*rows+i]
				}
			}
			t.Data = c
		} else if h.Descr.Fortran && len(t.Shape) > 2 {
			return nil, fmt.Errorf("array %q is in Fortran order with %d dimensions; save it C-contiguous", t.Name, len(t.Shape))
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// checkNpyHeader checks the length field of a .npy entry's header against
// the entry's size before npyio allocates a buffer of that length.
func checkNpyHeader(f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("entry %q: %v", f.Name, err)
	}
	defer rc.Close()
	var pre [12]byte
	if _, err := io.ReadFull(rc, pre[:]); err != nil {
		return fmt.Errorf("entry %q is not a .npy array (%v)", f.Name, err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return fmt.Errorf("entry %q is not a .npy array (no magic string)", f.Name)
	}
	var hlen uint64
	switch pre[6] {
	case 1:
		hlen = uint64(binary.LittleEndian.Uint16(pre[8:10]))
	case 2, 3:
		hlen = uint64(binary.LittleEndian.Uint32(pre[8:12]))
	default:
		return fmt.Errorf("entry %q: .npy version %d.%d, want 1.0 or 2.0", f.Name, pre[6], pre[7])
	}
	if hlen > f.UncompressedSize64 || hlen > 1<<20 {
		return fmt.Errorf("entry %q: .npy header length %d exceeds the entry (%d bytes)", f.Name, hlen, f.UncompressedSize64)
	}
	return nil
}

func parseSafetensors(b []byte) ([]Tensor, error) {
	st, err := safetensors.Deserialize(b)
	if err != nil {
		return nil, fmt.Errorf("not a valid safetensors file: %v", err)
	}
	var ts []Tensor
	for _, nt := range st.Tensors() {
		tv := nt.TensorView
		t := Tensor{Name: nt.Name}
		for _, d := range tv.Shape() {
			t.Shape = append(t.Shape, int(d))
		}
		raw := tv.Data()
		switch tv.DType() {
		case safetensors.F64:
			t.Dtype = "float64"
			t.Data = make([]float64, len(raw)/8)
			for i := range t.Data {
				t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		case safetensors.F32:
			t.Dtype = "float32"
			t.Data = make([]float64, len(raw)/4)
			for i := range t.Data {
				t.Data[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			}
		case safetensors.I64:
			// An integer buffer such as a BatchNorm's num_batches_tracked.
			t.Dtype = "int64"
			t.Data = make([]float64, len(raw)/8)
			for i := range t.Data {
				t.Data[i] = float64(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			}
		default:
			return nil, fmt.Errorf("tensor %q has dtype %s, want F32, F64 or I64", t.Name, tv.DType())
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// WriteWeights writes tensors to path in the given format (FormatNPZ or
// FormatSafetensors) as float64, or as float32 if single is true,
// atomically (temporary file, then rename). metadata is stored in the
// safetensors header's __metadata__ (ignored for .npz).
func WriteWeights(path, format string, ts []Tensor, single bool, metadata map[string]string) error {
	switch format {
	case FormatNPZ:
		return atomicfile.Write(path, func(w io.Writer) error {
			zw := npz.NewWriter(w)
			for _, t := range ts {
				if err := zw.Write(t.Name+".npy", npyValue(t, single)); err != nil {
					return err
				}
			}
			return zw.Close()
		})
	case FormatSafetensors:
		views := make(map[string]safetensors.TensorView, len(ts))
		for _, t := range ts {
			shape := make([]uint64, len(t.Shape))
			for i, d := range t.Shape {
				shape[i] = uint64(d)
			}
			var raw []byte
			dt := safetensors.F64
			if single {
				dt = safetensors.F32
				raw = make([]byte, 0, 4*len(t.Data))
				for _, v := range t.Data {
					raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
				}
			} else {
				raw = make([]byte, 0, 8*len(t.Data))
				for _, v := range t.Data {
					raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
				}
			}
			tv, err := safetensors.NewTensorView(dt, shape, raw)
			if err != nil {
				return fmt.Errorf("datasets: tensor %q: %v", t.Name, err)
			}
			views[t.Name] = tv
		}
		return atomicfile.Write(path, func(w io.Writer) error {
			return safetensors.SerializeToWriter(views, metadata, w)
		})
	}
	return fmt.Errorf("datasets: unknown weight format %q, want npz or safetensors", format)
}

// npyValue returns t as a Go value that npyio writes with t's shape: a
// slice for 1-D tensors, nested slices (rows, or out x C x K x K for a
// convolution's weight) for the others.
func npyValue(t Tensor, single bool) any {
	var flat any = t.Data
	if single {
		f := make([]float32, len(t.Data))
		for i, x := range t.Data {
			f[i] = float32(x)
		}
		flat = f
	}
	if len(t.Shape) < 2 || slices.Contains(t.Shape, 0) {
		return flat
	}
	return nested(reflect.ValueOf(flat), t.Shape).Interface()
}

// nested returns the flat slice as nested slices of the given shape, row
// by row.
func nested(flat reflect.Value, shape []int) reflect.Value {
	if len(shape) == 1 {
		return flat
	}
	step := flat.Len() / shape[0]
	var out reflect.Value
	for i := range shape[0] {
		part := nested(flat.Slice(i*step, (i+1)*step), shape[1:])
		if i == 0 {
			out = reflect.MakeSlice(reflect.SliceOf(part.Type()), shape[0], shape[0])
		}
		out.Index(i).Set(part)
	}
	return out
}
