package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// TestMNISTEmbeddedChecksums compares the md5 of each embedded file with
// the table in mnist/SOURCE.md (the published MNIST checksums).
func TestMNISTEmbeddedChecksums(t *testing.T) {
	src, err := os.ReadFile("mnist/SOURCE.md")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^\| ([a-z0-9-]+\.gz) \| [0-9,]+ \| ([0-9a-f]{32}) \|$`)
	rows := re.FindAllStringSubmatch(string(src), -1)
	if len(rows) != 4 {
		t.Fatalf("SOURCE.md lists %d checksums, want 4", len(rows))
	}
	for _, r := range rows {
		data, err := mnistFile(r[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := md5.Sum(data)
		if got := hex.EncodeToString(sum[:]); got != r[2] {
			t.Errorf("%s: md5 %s, SOURCE.md says %s", r[1], got, r[2])
		}
	}
}

func TestMNISTCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("decoding 70,000 MNIST images takes about a second; skipped with -short")
	}
	train, test, err := Load("mnist", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.NumInputs() != 784 || train.NumTargets() != 10 {
		t.Fatalf("MNIST: %d train, %d test, %d inputs, %d targets", train.Len(), test.Len(), train.NumInputs(), train.NumTargets())
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
	// The first training digits of MNIST are 5, 0, 4, 1, 9 and the first
	// test digits 7, 2, 1, 0, 4 (as every MNIST reader shows).
	lt, ls := train.Labels(), test.Labels()
	for i, want := range []int{5, 0, 4, 1, 9} {
		if lt[i] != want {
			t.Errorf("train label %d = %d, want %d", i, lt[i], want)
		}
	}
	for i, want := range []int{7, 2, 1, 0, 4} {
		if ls[i] != want {
			t.Errorf("test label %d = %d, want %d", i, ls[i], want)
		}
	}
	lo, hi := 1.0, 0.0
	for _, row := range train.Inputs {
		for _, v := range row {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo != 0 || hi != 1 {
		t.Errorf("inputs span [%v, %v], want [0, 1]", lo, hi)
	}
	var counts [10]int
	for _, l := range lt {
		counts[l]++
	}
	// Published class counts of the MNIST training set for 0 and 1.
	if counts[0] != 5923 || counts[1] != 6742 {
		t.Errorf("training class counts %v, want 5923 zeros and 6742 ones", counts)
	}
}

// idx builds an IDX file from a header and payload.
func idx(hdr []uint32, payload []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, hdr)
	b.Write(payload)
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestIDXRead(t *testing.T) {
	img := idx([]uint32{0x803, 2, 2, 3}, []byte{0, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	for _, data := range [][]byte{img, gz(img)} {
		got, err := ReadIDXImages(bytes.NewReader(data), "x")
		if err != nil || got.Count != 2 || got.Rows != 2 || got.Cols != 3 || got.Pixels[1] != 255 || got.Pixels[11] != 10 {
			t.Errorf("ReadIDXImages = %+v, %v", got, err)
		}
	}
	lab := idx([]uint32{0x801, 2}, []byte{3, 9})
	got, err := ReadIDXLabels(bytes.NewReader(gz(lab)), "y", 10)
	if err != nil || !bytes.Equal(got, []byte{3, 9}) {
		t.Errorf("ReadIDXLabels = %v, %v", got, err)
	}
	im, _ := ReadIDXImages(bytes.NewReader(img), "x")
	s, err := IDXSet("s", "src", im, []byte{3, 9}, 10)
	if err != nil || s.Inputs[0][1] != 1 || s.Inputs[1][0] != 5.0/255 || s.Targets[1][9] != 1 || s.Targets[0][3] != 1 || s.Validate() != nil {
		t.Errorf("IDXSet = %+v, %v", s, err)
	}
	if _, err := IDXSet("s", "src", im, []byte{1}, 10); err == nil || !strings.Contains(err.Error(), "2 images but 1 labels") {
		t.Errorf("IDXSet with too few labels: %v", err)
	}
}

func TestIDXMalformed(t *testing.T) {
	img := idx([]uint32{0x803, 2, 2, 3}, make([]byte, 12))
	corrupt := gz(img)
	corrupt[len(corrupt)-5] ^= 0xff // the CRC-32 trailer
	for _, tc := range []struct {
		name   string
		data   []byte
		labels bool
		want   string
	}{
		{"empty", nil, false, "header too short"},
		{"short header", []byte{0, 0, 8, 3, 0}, false, "header too short"},
		{"labels as images", idx([]uint32{0x801, 2, 2, 3}, make([]byte, 12)), false, "magic number 0x00000801"},
		{"images as labels", img, true, "magic number 0x00000803"},
		{"zero count", idx([]uint32{0x803, 0, 2, 3}, nil), false, "image count 0"},
		{"huge count", idx([]uint32{0x803, 1 << 30, 2, 3}, nil), false, "image count 1073741824"},
		{"zero rows", idx([]uint32{0x803, 1, 0, 3}, nil), false, "image size 0x3"},
		{"huge image", idx([]uint32{0x803, 1, 1 << 20, 1 << 20}, nil), false, "image size"},
		{"truncated", img[:len(img)-1], false, "data end after 11 of 12 bytes"},
		{"trailing", append(append([]byte{}, img...), 7), false, "unexpected data after the last item"},
		{"gzip truncated", gz(img)[:20], false, "x"},
		{"gzip checksum", corrupt, false, "checksum"},
		{"label out of range", idx([]uint32{0x801, 2}, []byte{1, 10}), true, "label 1 is 10"},
		{"labels truncated", idx([]uint32{0x801, 3}, []byte{1, 2}), true, "data end after 2"},
	} {
		var err error
		if tc.labels {
			_, err = ReadIDXLabels(bytes.NewReader(tc.data), "x", 10)
		} else {
			_, err = ReadIDXImages(bytes.NewReader(tc.data), "x")
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "datasets: x: ") {
			t.Errorf("%s: error %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadMNISTDir(t *testing.T) {
	img := idx([]uint32{0x803, 2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7})
	lab := idx([]uint32{0x801, 2}, []byte{0, 1})
	dir := t.TempDir()
	files := map[string][]byte{MNISTTrainImages: gz(img), MNISTTrainLabels: lab, MNISTTestImages: img, MNISTTestLabels: gz(lab)}
	for name, data := range files {
		os.WriteFile(filepath.Join(dir, name), data, 0o644)
	}
	train, test, err := LoadMNISTDir(dir)
	if err != nil || train.Len() != 2 || test.Len() != 2 || train.NumInputs() != 4 {
		t.Fatalf("LoadMNISTDir = %v, %v, %v", train, test, err)
	}
	os.Remove(filepath.Join(dir, MNISTTestLabels))
	if _, _, err := LoadMNISTDir(dir); err == nil || !strings.Contains(err.Error(), MNISTTestLabels) {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := LoadMNISTDir(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: %v", err)
	}
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: data}
	}
	fsys[MNISTTestImages] = &fstest.MapFile{Data: idx([]uint32{0x803, 2, 3, 3}, make([]byte, 18))}
	if _, _, err := LoadMNISTFS(fsys, "d", "n"); err == nil || !strings.Contains(err.Error(), "9 pixels but training images 4") {
		t.Errorf("mismatched sizes: %v", err)
	}
}
