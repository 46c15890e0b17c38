package datasets

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// NETtalk (T. J. Sejnowski and C. R. Rosenberg, "Parallel networks that learn
// to pronounce English text", Complex Systems 1, 145-168, 1987): a window of
// letters centred on one letter of a word is mapped to the articulatory and
// stress features of that letter's phoneme.
//
// The corpus is under a non-commercial research licence, so obs never ships
// it: ReadNettalk reads it from a directory the user names, holding
//
//	nettalk.data    the 20,008-word dictionary (UCI), tab-separated:
//	                word, phonemes, stress, flag; one symbol per letter
//	features.tsv    the output code: kind (phoneme|stress), symbol, example,
//	                comma-separated unit names (21 articulatory + 5 stress units)
//	common1000.txt  the 1,000 most common words, one per line (the training words)

// NettalkSymbols are the 29 symbols of one window position: the 26 letters,
// '_' for the word boundary (padding outside the word) and the punctuation
// '.' and ',' of the NETtalk text corpus (the dictionary has none, so their
// inputs are always 0 here).
const NettalkSymbols = "abcdefghijklmnopqrstuvwxyz_.,"

// NettalkBoundary is the symbol that pads a window beyond the word's ends.
const NettalkBoundary = '_'

// DefaultNettalkWindow is the window of the original network: 7 letters,
// 3 on each side of the centre (7 x 29 = 203 inputs).
const DefaultNettalkWindow = 7

// NettalkUnits returns the names of the 26 output units in order: 21
// articulatory features (0-20) and 5 stress/boundary features (21-25), as
// in Sejnowski and Rosenberg (1987), Appendix A (a new slice each call).
func NettalkUnits() []string { return slices.Clone(nettalkUnits) }

var nettalkUnits = []string{
	"Front1", "Front2", "Central1", "Central2", "Back1", "Back2", "Stop", "Nasal", "Fricative", "Affricative",
	"Glide", "Liquid", "Voiced", "Tensed", "High", "Medium", "Low", "Silent", "Elide", "Pause", "FullStop",
	"right", "left", "strong", "weak", "boundary",
}

// nettalkArticulatory is the number of articulatory units (the phoneme part
// of the code); the rest are stress units.
const nettalkArticulatory = 21

// NettalkWord is one row of nettalk.data.
type NettalkWord struct {
	Word     string // lower-case letters
	Phonemes string // one phoneme symbol per letter ('-' silent)
	Stress   string // one stress symbol per letter
	Flag     int    // 0, 1 or 2 (irregular or foreign words)
	Line     int    // 1-based line in the file
}

// NettalkCode is the output code: the 0/1 feature vector of every phoneme
// (21 articulatory units) and of every stress symbol (5 stress units).
type NettalkCode struct {
	Phonemes     []byte      // phoneme symbols, in file order
	PhonemeCodes [][]float64 // 21 values each
	Stress       []byte      // stress symbols, in file order
	StressCodes  [][]float64 // 5 values each
}

// ParseNettalkFeatures reads the output code (features.tsv). Lines starting
// with '#' and blank lines are skipped; every other line holds
// kind, symbol, example and the comma-separated unit names, tab-separated.
func ParseNettalkFeatures(r io.Reader, name string) (*NettalkCode, error) {
	unit := make(map[string]int, len(nettalkUnits))
	for i, u := range nettalkUnits {
		unit[u] = i
	}
	c := &NettalkCode{}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), " \r")
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Split(s, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("datasets: %s line %d: %d tab-separated fields, want 4 (kind, symbol, example, features)", name, line, len(f))
		}
		kind, sym := f[0], f[1]
		if len(sym) != 1 {
			return nil, fmt.Errorf("datasets: %s line %d: symbol %q is not one character", name, line, sym)
		}
		if seen[kind+sym] {
			return nil, fmt.Errorf("datasets: %s line %d: %s %q listed twice", name, line, kind, sym)
		}
		seen[kind+sym] = true
		lo, hi := 0, nettalkArticulatory
		if kind == "stress" {
			lo, hi = nettalkArticulatory, len(nettalkUnits)
		} else if kind != "phoneme" {
			return nil, fmt.Errorf("datasets: %s line %d: kind %q, want phoneme or stress", name, line, kind)
		}
		code := make([]float64, hi-lo)
		for _, u := range strings.Split(f[3], ",") {
			i, ok := unit[strings.TrimSpace(u)]
			if !ok || i < lo || i >= hi {
				return nil, fmt.Errorf("datasets: %s line %d: %q is not a %s unit", name, line, u, kind)
			}
			code[i-lo] = 1
		}
		if kind == "phoneme" {
			c.Phonemes = append(c.Phonemes, sym[0])
			c.PhonemeCodes = append(c.PhonemeCodes, code)
		} else {
			c.Stress = append(c.Stress, sym[0])
			c.StressCodes = append(c.StressCodes, code)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", name, err)
	}
	if len(c.Phonemes) == 0 || len(c.Stress) == 0 {
		return nil, fmt.Errorf("datasets: %s: no phoneme or no stress codes", name)
	}
	return c, nil
}

// phoneme and stress return the index of a symbol in the code, or -1.
func (c *NettalkCode) phoneme(s byte) int { return strings.IndexByte(string(c.Phonemes), s) }
func (c *NettalkCode) stress(s byte) int  { return strings.IndexByte(string(c.Stress), s) }

// ParseNettalkData reads the dictionary rows of nettalk.data: the text
// header (every line before the first row of 4 tab-separated fields) is
// skipped, trailing white space is removed, and rows that are not
// word, phonemes, stress, flag with equally long strings are returned in
// skipped (with their line and reason) rather than failing the read.
func ParseNettalkData(r io.Reader, name string) (words []NettalkWord, skipped []string, err error) {
	sc := bufio.NewScanner(r)
	line := 0
	header := true
	for sc.Scan() {
		line++
		s := strings.TrimRight(sc.Text(), " \t\r")
		f := strings.Split(s, "\t")
		if header {
			if len(f) != 4 {
				continue
			}
			header = false
		}
		if s == "" {
			continue
		}
		bad := func(why string) { skipped = append(skipped, fmt.Sprintf("line %d %q: %s", line, f[0], why)) }
		if len(f) != 4 {
			bad(fmt.Sprintf("%d fields, want 4", len(f)))
			continue
		}
		flag, err := strconv.Atoi(f[3])
		if err != nil {
			bad(fmt.Sprintf("flag %q is not a number", f[3]))
			continue
		}
		w := NettalkWord{Word: f[0], Phonemes: f[1], Stress: f[2], Flag: flag, Line: line}
		if len(w.Word) == 0 || len(w.Phonemes) != len(w.Word) || len(w.Stress) != len(w.Word) {
			bad(fmt.Sprintf("word, phonemes and stress have lengths %d, %d, %d; they must align letter by letter", len(w.Word), len(w.Phonemes), len(w.Stress)))
			continue
		}
		words = append(words, w)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("datasets: %s: %w", name, err)
	}
	if len(words) == 0 {
		return nil, nil, fmt.Errorf("datasets: %s: no dictionary rows (word, phonemes, stress, flag)", name)
	}
	return words, skipped, nil
}

// Nettalk is the corpus read from a directory.
type Nettalk struct {
	Dir     string
	Words   []NettalkWord
	Code    *NettalkCode
	Common  []string // the training words, in file order
	Skipped []string // rows of nettalk.data that could not be used, with the reason
}

// ReadNettalk reads nettalk.data, features.tsv and common1000.txt from dir.
func ReadNettalk(dir string) (*Nettalk, error) {
	if dir == "" {
		return nil, errors.New("datasets: no NETtalk directory given (--nettalk-dir); the corpus is not shipped with obs")
	}
	open := func(file string) (*os.File, error) {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			return nil, fmt.Errorf("datasets: NETtalk: %w", err)
		}
		return f, nil
	}
	nt := &Nettalk{Dir: dir}
	f, err := open("nettalk.data")
	if err != nil {
		return nil, err
	}
	nt.Words, nt.Skipped, err = ParseNettalkData(f, "nettalk.data")
	f.Close()
	if err != nil {
		return nil, err
	}
	if f, err = open("features.tsv"); err != nil {
		return nil, err
	}
	nt.Code, err = ParseNettalkFeatures(f, "features.tsv")
	f.Close()
	if err != nil {
		return nil, err
	}
	if f, err = open("common1000.txt"); err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			nt.Common = append(nt.Common, strings.ToLower(w))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("datasets: common1000.txt: %w", err)
	}
	if len(nt.Common) == 0 {
		return nil, errors.New("datasets: common1000.txt lists no words")
	}
	return nt, nil
}

// NettalkOptions choose the window and the sets. The zero value is the
// original experiment: a 7-letter window, every common word for training,
// the whole rest of the dictionary for testing.
type NettalkOptions struct {
	// Window is the number of letters in the input window (odd). If zero,
	// DefaultNettalkWindow.
	Window int
	// TrainWords, if > 0, keeps only the first TrainWords common words
	// (for small runs).
	TrainWords int
	// TestWords, if > 0, keeps an evenly spaced subset of that many of the
	// remaining words (every ceil(rest/TestWords)-th word in dictionary order).
	TestWords int
}

// NettalkSet is a NETtalk data set with the true phoneme and stress (as
// indices into the code) of every pattern, for the best-guess accuracy.
type NettalkSet struct {
	*Set
	Phoneme []int
	Stress  []int
	Words   int // words the patterns come from
}

// NettalkSplit says how the sets were made.
type NettalkSplit struct {
	Window         int
	TrainWords     int      // dictionary rows used for training
	TestWords      int      // dictionary rows used for testing
	RestWords      int      // dictionary rows not in the training list (the full test pool)
	MissingCommon  []string // common words not in the dictionary
	SkippedRows    []string // rows of nettalk.data that were malformed
	UnknownSymbols []string // rows skipped because a phoneme or stress symbol has no code
}

// Sets returns the training set (the letters of the common words found in
// the dictionary, every pronunciation of each) and the test set (the letters
// of the other words, or a subset, see NettalkOptions).
func (nt *Nettalk) Sets(o NettalkOptions) (train, test *NettalkSet, split NettalkSplit, err error) {
	win := o.Window
	if win == 0 {
		win = DefaultNettalkWindow
	}
	if win < 1 || win%2 == 0 {
		return nil, nil, split, fmt.Errorf("datasets: NETtalk window %d must be odd and >= 1", win)
	}
	if o.TrainWords < 0 || o.TestWords < 0 {
		return nil, nil, split, fmt.Errorf("datasets: NETtalk word counts must be >= 0")
	}
	split = NettalkSplit{Window: win, SkippedRows: nt.Skipped}
	common, anyCommon := map[string]bool{}, map[string]bool{}
	for _, w := range nt.Common {
		anyCommon[w] = true
	}
	list := nt.Common
	if o.TrainWords > 0 && o.TrainWords < len(list) {
		list = list[:o.TrainWords]
	}
	inDict := map[string]bool{}
	var usable []NettalkWord
	for _, w := range nt.Words {
		if why := nt.Code.check(w); why != "" {
			split.UnknownSymbols = append(split.UnknownSymbols, fmt.Sprintf("line %d %q: %s", w.Line, w.Word, why))
			continue
		}
		usable = append(usable, w)
		inDict[w.Word] = true
	}
	for _, w := range list {
		if common[w] {
			continue
		}
		common[w] = true
		if !inDict[w] {
			split.MissingCommon = append(split.MissingCommon, w)
		}
	}
	var trainW, rest []NettalkWord
	for _, w := range usable {
		if common[w.Word] {
			trainW = append(trainW, w)
		} else if !anyCommon[w.Word] {
			// With a shortened training list the other common words stay
			// out of the test set, which remains "not a common word".
			rest = append(rest, w)
		}
	}
	split.RestWords = len(rest)
	testW := rest
	if o.TestWords > 0 && o.TestWords < len(rest) {
		step := (len(rest) + o.TestWords - 1) / o.TestWords
		testW = nil
		for i := 0; i < len(rest); i += step {
			testW = append(testW, rest[i])
		}
	}
	if len(trainW) == 0 || len(testW) == 0 {
		return nil, nil, split, fmt.Errorf("datasets: NETtalk: %d training and %d test words; both must be > 0", len(trainW), len(testW))
	}
	split.TrainWords, split.TestWords = len(trainW), len(testW)
	return nt.Code.encode("nettalk-train", nt.Dir, trainW, win), nt.Code.encode("nettalk-test", nt.Dir, testW, win), split, nil
}

// check returns why a word cannot be encoded, or "".
func (c *NettalkCode) check(w NettalkWord) string {
	for i := 0; i < len(w.Word); i++ {
		if strings.IndexByte(NettalkSymbols[:26], w.Word[i]) < 0 {
			return fmt.Sprintf("letter %q is not a-z", w.Word[i])
		}
		if c.phoneme(w.Phonemes[i]) < 0 {
			return fmt.Sprintf("phoneme %q has no code", w.Phonemes[i])
		}
		if c.stress(w.Stress[i]) < 0 {
			return fmt.Sprintf("stress %q has no code", w.Stress[i])
		}
	}
	return ""
}

// NettalkInputs returns the number of inputs of a window: 29 per letter.
func NettalkInputs(window int) int { return window * len(NettalkSymbols) }

// encode makes one pattern per letter of the words: input position
// pos*29 + symbol is 1 for the symbol at offset pos - window/2 from the
// letter (the boundary symbol outside the word); the target is the
// phoneme's 21 articulatory features followed by the stress's 5.
func (c *NettalkCode) encode(name, source string, words []NettalkWord, win int) *NettalkSet {
	ns := len(NettalkSymbols)
	in := make([]string, win*ns)
	for p := 0; p < win; p++ {
		for s := 0; s < ns; s++ {
			in[p*ns+s] = fmt.Sprintf("p%+d=%c", p-win/2, NettalkSymbols[s])
		}
	}
	set := &NettalkSet{Set: &Set{Name: name, Source: source + " (NETtalk, non-commercial research licence)", InputNames: in, TargetNames: append([]string(nil), nettalkUnits...)}, Words: len(words)}
	half := win / 2
	for _, w := range words {
		for i := 0; i < len(w.Word); i++ {
			x := make([]float64, win*ns)
			for p := 0; p < win; p++ {
				j := i + p - half
				sym := byte(NettalkBoundary)
				if j >= 0 && j < len(w.Word) {
					sym = w.Word[j]
				}
				x[p*ns+strings.IndexByte(NettalkSymbols, sym)] = 1
			}
			ph, st := c.phoneme(w.Phonemes[i]), c.stress(w.Stress[i])
			t := append(append(make([]float64, 0, len(nettalkUnits)), c.PhonemeCodes[ph]...), c.StressCodes[st]...)
			set.Inputs = append(set.Inputs, x)
			set.Targets = append(set.Targets, t)
			set.Phoneme = append(set.Phoneme, ph)
			set.Stress = append(set.Stress, st)
		}
	}
	return set
}

// BestGuess returns the phoneme and the stress whose codes make the
// smallest angle with the output vector out (26 values): the largest
// cosine between out's articulatory part and each phoneme code, and between
// its stress part and each stress code, as NETtalk's "best guess". Ties go
// to the first symbol in the code's order.
func (c *NettalkCode) BestGuess(out []float64) (phoneme, stress int) {
	return bestAngle(out[:nettalkArticulatory], c.PhonemeCodes), bestAngle(out[nettalkArticulatory:], c.StressCodes)
}

func bestAngle(v []float64, codes [][]float64) int {
	best, bestCos := 0, math.Inf(-1)
	nv := 0.0
	for _, x := range v {
		nv += x * x
	}
	nv = math.Sqrt(nv)
	for i, code := range codes {
		dot, nc := 0.0, 0.0
		for j, x := range code {
			dot += x * v[j]
			nc += x * x
		}
		cos := dot / (math.Sqrt(nc) * nv)
		if nv == 0 || nc == 0 {
			cos = 0
		}
		if cos > bestCos {
			best, bestCos = i, cos
		}
	}
	return best
}

// sameCode reports whether two codes are equal (e.g. two phonemes the table
// codes identically).
func sameCode(a, b []float64) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Accuracy returns the fraction of patterns whose best-guess phoneme and
// best-guess stress are right, given the network outputs (one row per
// pattern). A guess is right when its code equals the true symbol's code,
// so phonemes that the table codes identically count as one.
func (s *NettalkSet) Accuracy(c *NettalkCode, outputs [][]float64) (phoneme, stress float64) {
	if len(outputs) != len(s.Phoneme) {
		panic(fmt.Sprintf("datasets: %d outputs for %d NETtalk patterns", len(outputs), len(s.Phoneme)))
	}
	var np, ns int
	for p, out := range outputs {
		ph, st := c.BestGuess(out)
		if sameCode(c.PhonemeCodes[ph], c.PhonemeCodes[s.Phoneme[p]]) {
			np++
		}
		if sameCode(c.StressCodes[st], c.StressCodes[s.Stress[p]]) {
			ns++
		}
	}
	P := float64(len(outputs))
	return float64(np) / P, float64(ns) / P
}
