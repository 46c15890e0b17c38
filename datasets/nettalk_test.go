package datasets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A tiny synthetic NETtalk corpus of made-up words (none is in the real
// corpus, whose licence forbids committing any of it): a header, well-formed rows, a
// misaligned row, a row with a phoneme that has no code and a malformed row.
const tinyNettalkData = `NETtalk-like test corpus
(made up for the tests)

----------------------------
cag	k@g	>1<	0
thd	D-d	>>0	0
dox	dcx	>1<	0 
bak	b@	>1	0
oxx	a?s	1<<	0
hulf	h@	1
ga	g@	>1	0
`

const tinyNettalkFeatures = `# test code
phoneme	k	Ken	Back1,Stop
phoneme	@	bat	Low,Front2
phoneme	t	test	Central1,Stop
phoneme	D	this	Voiced,Front2,Fricative
phoneme	-	(continuation)	Silent,Elide
phoneme	x	about	Medium,Central2
phoneme	d	deb	Voiced,Central1,Stop
phoneme	c	bought	Medium,Back1
phoneme	g	guess	Voiced,Back1,Stop
phoneme	o	boat	Medium,Tensed,Back2
phoneme	G	sing	Voiced,Back1,Nasal
phoneme	J	gin	Voiced,Back1,Nasal
stress	>	onset	right
stress	<	coda	left
stress	0	unstressed	weak
stress	1	primary	strong,weak
`

func writeTinyNettalk(t *testing.T, common string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{
		"nettalk.data":   tinyNettalkData,
		"features.tsv":   tinyNettalkFeatures,
		"common1000.txt": common,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNettalkTiny(t *testing.T) {
	dir := writeTinyNettalk(t, "thd\ncag\nzebra\n")
	nt, err := ReadNettalk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(nt.Words) != 5 {
		t.Fatalf("%d usable rows, want 5 (cag thd dox oxx ga)", len(nt.Words))
	}
	if len(nt.Skipped) != 2 || !strings.Contains(nt.Skipped[0], "bak") || !strings.Contains(nt.Skipped[1], "hulf") {
		t.Fatalf("skipped %q, want the misaligned bak and the malformed hulf", nt.Skipped)
	}
	train, test, split, err := nt.Sets(NettalkOptions{Window: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(split.UnknownSymbols) != 1 || !strings.Contains(split.UnknownSymbols[0], "oxx") {
		t.Fatalf("unknown symbols %q, want oxx's '?'", split.UnknownSymbols)
	}
	if len(split.MissingCommon) != 1 || split.MissingCommon[0] != "zebra" {
		t.Fatalf("missing common words %q, want zebra", split.MissingCommon)
	}
	// train: cag, thd (6 letters); test: dox, ga (5 letters).
	if train.Len() != 6 || test.Len() != 5 || train.Words != 2 || test.Words != 2 {
		t.Fatalf("train %d patterns of %d words, test %d of %d; want 6 of 2 and 5 of 2", train.Len(), train.Words, test.Len(), test.Words)
	}
	if err := train.Validate(); err != nil {
		t.Fatal(err)
	}
	if train.NumInputs() != 3*29 || train.NumTargets() != 26 {
		t.Fatalf("%d inputs and %d targets, want 87 and 26", train.NumInputs(), train.NumTargets())
	}
	// The first pattern of the training set is 'c' of "cag" (dictionary
	// order): window "_ca", phoneme k, stress '>'.
	x, tg := train.Inputs[0], train.Targets[0]
	want := map[int]bool{0*29 + 26: true, 1*29 + 2: true, 2*29 + 0: true}
	for i, v := range x {
		if (v == 1) != want[i] || (v != 0 && v != 1) {
			t.Fatalf("input %d (%s) = %v", i, train.InputNames[i], v)
		}
	}
	ones := []string{}
	for k, v := range tg {
		if v == 1 {
			ones = append(ones, nettalkUnits[k])
		}
	}
	if got := strings.Join(ones, ","); got != "Back1,Stop,right" {
		t.Fatalf("target units %s, want Back1,Stop,right", got)
	}
	// Best guess of an exact code is that code; of a noisy one the nearest
	// angle.
	ph, st := nt.Code.BestGuess(tg)
	if nt.Code.Phonemes[ph] != 'k' || nt.Code.Stress[st] != '>' {
		t.Fatalf("best guess of k's code is %c %c", nt.Code.Phonemes[ph], nt.Code.Stress[st])
	}
	noisy := append([]float64(nil), tg...)
	noisy[6] = 0.6 // Stop weaker, Back1 still on: still k, not c (Medium,Back1) or g (Voiced too)
	noisy[15] = 0.2
	if ph, _ := nt.Code.BestGuess(noisy); nt.Code.Phonemes[ph] != 'k' {
		t.Fatalf("noisy k decoded as %c", nt.Code.Phonemes[ph])
	}
	// Accuracy: the targets themselves score 1 (G and J share a code and
	// count as one); a constant output scores below 1.
	pa, sa := train.Accuracy(nt.Code, train.Targets)
	if pa != 1 || sa != 1 {
		t.Fatalf("accuracy of the targets themselves %v %v, want 1 1", pa, sa)
	}
	flat := make([][]float64, train.Len())
	for i := range flat {
		flat[i] = make([]float64, 26)
		flat[i][6] = 1 // Stop: k, t, d or g
		flat[i][21] = 1
	}
	pa, sa = train.Accuracy(nt.Code, flat)
	if pa >= 1 || sa >= 1 || pa <= 0 || sa <= 0 {
		t.Fatalf("accuracy of a constant output %v %v, want in (0, 1)", pa, sa)
	}
	// A test subset of 1 word keeps the first of the rest.
	_, sub, _, err := nt.Sets(NettalkOptions{Window: 3, TestWords: 1})
	if err != nil || sub.Words != 1 || sub.Len() != 3 {
		t.Fatalf("test subset: %v, %+v", err, sub)
	}
}

func TestNettalkBadInput(t *testing.T) {
	if _, err := ReadNettalk(""); err == nil || !strings.Contains(err.Error(), "--nettalk-dir") {
		t.Fatalf("empty dir: %v", err)
	}
	if _, err := ReadNettalk(t.TempDir()); err == nil || !strings.Contains(err.Error(), "nettalk.data") {
		t.Fatalf("missing files: %v", err)
	}
	if _, err := ParseNettalkFeatures(strings.NewReader("phoneme\tk\tKen\tBack1,Wobbly\n"), "f"); err == nil || !strings.Contains(err.Error(), "Wobbly") {
		t.Fatalf("bad unit: %v", err)
	}
	dir := writeTinyNettalk(t, "thd\n")
	nt, err := ReadNettalk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := nt.Sets(NettalkOptions{Window: 4}); err == nil {
		t.Fatal("even window accepted")
	}
}

// sharedNettalk is the real corpus beside the worktree; tests that read it
// skip where it is absent (a user's clone has no ../shared).
const sharedNettalk = "../../shared/datasets/nettalk"

func TestNettalkShared(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedNettalk, "nettalk.data")); err != nil {
		t.Skipf("NETtalk corpus not found at %s (it is not shipped with obs): %v", sharedNettalk, err)
	}
	nt, err := ReadNettalk(sharedNettalk)
	if err != nil {
		t.Fatal(err)
	}
	// SOURCE.md: 20,008 rows, one malformed (gunpowder).
	if len(nt.Words)+len(nt.Skipped) != 20008 || len(nt.Skipped) != 1 || !strings.Contains(nt.Skipped[0], "gunpowder") {
		t.Fatalf("%d rows + %d skipped %q, want 20007 + gunpowder", len(nt.Words), len(nt.Skipped), nt.Skipped)
	}
	train, test, split, err := nt.Sets(NettalkOptions{TestWords: 500}) // a subset keeps the test fast
	if err != nil {
		t.Fatal(err)
	}
	if train.NumInputs() != 203 || train.NumTargets() != 26 {
		t.Fatalf("%d inputs, %d targets, want 203 and 26", train.NumInputs(), train.NumTargets())
	}
	if len(split.UnknownSymbols) != 0 {
		t.Fatalf("rows with symbols outside features.tsv: %q", split.UnknownSymbols)
	}
	t.Logf("train %d words %d letters, test pool %d words, subset %d words %d letters, %d common words missing",
		train.Words, train.Len(), split.RestWords, test.Words, test.Len(), len(split.MissingCommon))
	if train.Words < 900 || split.RestWords < 18000 || test.Words != 500 {
		t.Fatalf("train %d words, test pool %d, test %d: the split is wrong", train.Words, split.RestWords, test.Words)
	}
}
