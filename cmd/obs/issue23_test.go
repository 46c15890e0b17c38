package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// Tests of issue 23: no silent wrong answers.

// failWriter fails every write after the first n bytes.
type failWriter struct {
	n   int
	buf bytes.Buffer
}

func (f *failWriter) Write(p []byte) (int, error) {
	if f.buf.Len()+len(p) > f.n {
		return 0, errors.New("no space left on device")
	}
	return f.buf.Write(p)
}

// obsTo runs the binary in dir with stdout sent to the file out.
func obsTo(t *testing.T, dir string, out *os.File, args ...string) result {
	t.Helper()
	cmd := exec.Command(obsBin, args...)
	cmd.Dir = dir
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stderr: errb.String()}
}

// TestStdoutWriteChecked: a result that cannot be written to stdout is a
// failure, exit 1 with one line, for every way a command prints (a table,
// --json, help, the version, eval's per-class table) (class 2).
func TestStdoutWriteChecked(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	cases := [][]string{
		{"eval", "--model", "xor.json"},
		{"eval", "--model", "xor.json", "--json"},
		{"eval", "--model", "xor.json", "--quiet"},
		{"--version"},
		{"eval", "--help"},
	}
	if full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0); err == nil {
		defer full.Close()
		for _, args := range cases {
			r := obsTo(t, dir, full, args...)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if r.code != 1 || !strings.HasPrefix(lines[len(lines)-1], "obs: cannot write the results to stdout") {
				t.Errorf("obs %s > /dev/full: exit %d, stderr %q; want exit 1 and one line", strings.Join(args, " "), r.code, r.stderr)
			}
		}
	} else {
		t.Logf("no /dev/full (%v): checking with a failing writer only", err)
	}
	// The same in process, with a writer that fails part way, and a model
	// written only when its results were printed.
	for _, n := range []int{0, 10} {
		var errb bytes.Buffer
		out := filepath.Join(dir, "pruned.json")
		code := run([]string{"obs", "prune", "--model", filepath.Join(dir, "xor.json"), "--quiet", "--keep", "5", "--out", out}, &failWriter{n: n}, &errb)
		if code != 1 || strings.Count(errb.String(), "\n") != 1 || !strings.Contains(errb.String(), "cannot write the results to stdout: no space left") {
			t.Errorf("prune, stdout failing after %d bytes: exit %d, stderr %q", n, code, errb.String())
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("prune wrote %s although its results could not be printed", out)
		}
	}
}

// TestCalibEveryStructure: --calib builds the curvature of every structure
// and of OBD from the first N patterns (the summary says how many, and the
// pruned model differs from one calibrated on every pattern), and the flags
// of layer-wise OBS alone, or of another method or curvature, are usage
// errors where they have no meaning (class 3).
func TestCalibEveryStructure(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	base := []string{"prune", "--model", "xor.json", "--keep", "5", "--json", "--quiet"}
	for _, extra := range [][]string{
		{"--structure", "block:4"},
		{"--structure", "diag"},
		{"--structure", "dense"},
		{"--one-shot", "--structure", "block:4"},
		{"--method", "obd"},
	} {
		var got [2]string
		for i, calib := range []string{"2", "4"} {
			out := fmt.Sprintf("p%d.json", i)
			r := obs(t, dir, append(append(append([]string(nil), base...), extra...), "--calib", calib, "--out", out)...)
			if r.code != 0 {
				t.Fatalf("%v --calib %s: exit %d: %s", extra, calib, r.code, r.stderr)
			}
			if n := decodeJSON(t, r)["calibration_patterns"]; n != mustFloat(calib) {
				t.Errorf("%v --calib %s: calibration_patterns %v", extra, calib, n)
			}
			b, _ := os.ReadFile(filepath.Join(dir, out))
			var m map[string]any
			json.Unmarshal(b, &m)
			p, _ := json.Marshal(m["params"])
			got[i] = string(p)
			os.Remove(filepath.Join(dir, out))
		}
		// A diagonal or OBD curvature has no update: its choice can agree.
		if got[0] == got[1] && extra[0] != "--method" && extra[1] != "diag" {
			t.Errorf("%v: --calib 2 and --calib 4 give the same model", extra)
		}
	}
	for _, bad := range [][]string{
		{"--structure", "block:4", "--allocation", "global"},
		{"--structure", "block:4", "--damp", "0.1"},
		{"--method", "magnitude", "--calib", "2"},
		{"--method", "obd", "--alpha", "1e-3"},
		{"--method", "magnitude", "--inverse", "blocked"},
		{"--curvature", "ggn", "--samples", "3"},
		{"--structure", "block:4", "--calib", "0"},
		{"--structure", "block:4", "--trainer", "bfgs"},
		{"--data", "xor", "--target", "y"},
		{"--data", "xor", "--monk-dir", "."},
	} {
		r := obs(t, dir, append(append(append([]string(nil), base...), bad...), "--out", "bad.json")...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, strings.TrimPrefix(bad[len(bad)-2], "--")) {
			t.Errorf("%v: exit %d, stderr %q; want a one-line usage error naming the flag", bad, r.code, r.stderr)
		}
	}
}

// TestSignalExitCodes: a run stopped by SIGTERM exits 143 and by SIGINT
// 130 (128 + the signal), saying it was interrupted (class 7).
func TestSignalExitCodes(t *testing.T) {
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		dir := t.TempDir()
		cmd := exec.Command(obsBin, "reproduce", "xor", "--seeds", "100000", "--out-dir", "r")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OBS_PROGRESS_EVERY=20ms")
		pipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// The first progress line shows that the run, and its handler, started.
		sc := bufio.NewScanner(pipe)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if strings.Contains(sc.Text(), "progress") {
				break
			}
		}
		cmd.Process.Signal(c.sig)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		cmd.Wait()
		if got := cmd.ProcessState.ExitCode(); got != c.code || !strings.Contains(lines[len(lines)-1], "interrupted") {
			t.Errorf("%v: exit %d, last line %q; want %d and interrupted", c.sig, got, lines[len(lines)-1], c.code)
		}
	}
}

// TestFormatsAndConventions (class 7): an export whose --format and --out
// extension disagree is refused; a model file with a key given twice is
// refused; predict finds (or misses) the target column by the name stored
// at training, so rows without it need no --target; a data path recorded
// in the model says where it is read from; --split 0 switches off a
// recorded split; --grad-tol says it is absolute.
func TestFormatsAndConventions(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	for _, args := range [][]string{
		{"export", "--model", "xor.json", "--format", "npz", "--out", "x.safetensors"},
		{"export", "--model", "xor.json", "--format", "safetensors", "--out", "x.npz"},
		{"export", "--model", "xor.json", "--format", "npz", "--out", "x.bin"},
	} {
		r := obs(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "does not end in") {
			t.Errorf("%v: exit %d, %q", args, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, args[len(args)-1])); err == nil {
			t.Errorf("%v wrote its output", args)
		}
	}
	if r := obs(t, dir, "export", "--model", "xor.json", "--out", "x.npz", "--quiet"); r.code != 0 {
		t.Errorf("export by extension: %s", r.stderr)
	}

	b, _ := os.ReadFile(filepath.Join(dir, "xor.json"))
	dup := strings.Replace(string(b), "{", `{"decay": 0.5, `, 1)
	os.WriteFile(filepath.Join(dir, "dup.json"), []byte(dup), 0o644)
	if r := obs(t, dir, "eval", "--model", "dup.json"); r.code != 1 || !strings.Contains(r.stderr, `"decay" appears twice`) {
		t.Errorf("duplicated key: exit %d, %q", r.code, r.stderr)
	}

	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	writeFile("sub/d.csv", "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")(t, dir)
	writeFile("new.csv", "b,a\n0,0\n0,1\n")(t, dir)
	if r := obs(t, sub, "train", "--data", "d.csv", "--arch", "2-2-1", "--split", "0.5", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	// The model records its target, y; new rows without it predict.
	r := obs(t, dir, "predict", "--model", "sub/m.json", "--data", "new.csv")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "row,") || strings.Count(r.stdout, "\n") != 3 {
		t.Errorf("predict without the target column: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// The recorded d.csv is not in dir: read from the model's directory, and said so.
	r = obs(t, dir, "eval", "--model", "sub/m.json", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "relative to the model file's directory") {
		t.Errorf("recorded data: exit %d, stderr %q", r.code, r.stderr)
	}
	if m := decodeJSON(t, r); m["test_patterns"] != 4.0 {
		t.Errorf("recorded split: test_patterns %v, want 4", m["test_patterns"])
	}
	r = obs(t, dir, "eval", "--model", "sub/m.json", "--split", "0", "--json", "--quiet")
	if m := decodeJSON(t, r); r.code != 0 || m["patterns"] != 8.0 || m["test_patterns"] != nil {
		t.Errorf("--split 0: exit %d, patterns %v, test_patterns %v; stderr %q", r.code, m["patterns"], m["test_patterns"], r.stderr)
	}
	if r := obs(t, dir, "train", "--help"); !strings.Contains(r.stdout, "absolute") {
		t.Error("train --help does not say that --grad-tol is absolute")
	}
}

// TestWordsRight (class 8): the help names every built-in data set and
// the test sets eval uses; prune's summary states only the rebuild
// schedule it used: no "recompute 0" beside the 5% rule, and none at all
// for a one-shot run, which builds once.
func TestWordsRight(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	if r := obs(t, dir, "--help"); !strings.Contains(r.stdout, "mnist") || !strings.Contains(r.stdout, "143") {
		t.Errorf("obs --help does not name mnist or exit 143:\n%s", r.stdout)
	}
	if r := obs(t, dir, "eval", "--help"); !strings.Contains(r.stdout, "--split F") || !strings.Contains(r.stdout, "mnist") {
		t.Errorf("eval --help does not say which test sets exist:\n%s", r.stdout)
	}
	r := obs(t, dir, "prune", "--model", "xor.json", "--keep", "5", "--out", "p.json")
	if r.code != 0 || !strings.Contains(r.stdout, "recompute_schedule") || regexp.MustCompile(`(?m)^\s*recompute\s`).MatchString(r.stdout) {
		t.Errorf("prune with the default 5%% schedule: exit %d, summary:\n%s", r.code, r.stdout)
	}
	r = obs(t, dir, "prune", "--model", "xor.json", "--keep", "5", "--recompute", "3", "--json", "--out", "p2.json")
	if s := decodeJSON(t, r); s["recompute"] != 3.0 || s["recompute_schedule"] != "every 3 deletions" {
		t.Errorf("--recompute 3: recompute %v, schedule %v", s["recompute"], s["recompute_schedule"])
	}
	r = obs(t, dir, "prune", "--model", "xor.json", "--keep", "5", "--one-shot", "--out", "p3.json")
	if r.code != 0 || strings.Contains(r.stdout, "recompute") || strings.Contains(r.stdout, "retrain") {
		t.Errorf("one-shot prune states a schedule it never used: exit %d, summary:\n%s", r.code, r.stdout)
	}
}

// TestEstimateBeforeStart (class 4): prune estimates its time from what it
// will do before the first build (OBS_ESTIMATE_ABOVE=0 prints it for any
// run), suggests nothing the run already uses, prints no NaN in progress
// lines (one-shot steps have no E), and refuses a run beyond --max-time
// with one line naming --one-shot and its estimate.
func TestEstimateBeforeStart(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--decay", "1e-4", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, args := range [][]string{
		{"--one-shot", "--structure", "block:16"},
		{"--structure", "block:16"},
		{"--method", "obd"},
	} {
		cmd := exec.Command(obsBin, append([]string{"prune", "--model", "m.json", "--keep", "10", "--out", "p.json"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OBS_ESTIMATE_ABOVE=0", "OBS_PROGRESS_EVERY=1ms")
		var errb bytes.Buffer
		cmd.Stderr = &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if !strings.HasPrefix(lines[0], "estimated time about ") || !strings.Contains(lines[0], "GFLOP/s") {
			t.Errorf("%v: the first line is not the estimate: %q", args, lines[0])
		}
		if strings.Contains(errb.String(), "NaN") || strings.Contains(errb.String(), "--structure block") {
			t.Errorf("%v: NaN or a suggestion of what the run uses:\n%s", args, errb.String())
		}
	}
	r := obs(t, dir, "prune", "--model", "m.json", "--keep", "10", "--max-time", "1us", "--out", "p2.json")
	if r.code != 1 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "beyond --max-time") ||
		!strings.Contains(r.stderr, "(--one-shot: about ") || !strings.Contains(r.stderr, "obs prune --model m.json --keep 10 --max-time 1us --out p2.json --one-shot)") {
		t.Errorf("--max-time 1us: exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "p2.json")); err == nil {
		t.Error("a refused run wrote its output")
	}
	// With a rule --one-shot does not take, it is not suggested.
	r = obs(t, dir, "prune", "--model", "m.json", "--keep", "10", "--recompute", "1", "--max-time", "1us", "--out", "p2.json")
	if r.code != 1 || strings.Contains(r.stderr, "--one-shot") {
		t.Errorf("--recompute 1 --max-time 1us: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := obs(t, dir, "prune", "--model", "m.json", "--keep", "10", "--max-time", "soon", "--out", "p3.json"); r.code != 2 {
		t.Errorf("--max-time soon: exit %d, want 2", r.code)
	}
}

// TestFlagsAuditOtherCommands (class 3): the same rule in other commands.
func TestFlagsAuditOtherCommands(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	for _, args := range [][]string{
		{"saliency", "--model", "xor.json", "--top", "3", "--json"},
		{"saliency", "--model", "xor.json", "--trainer", "bfgs"},
		{"saliency", "--model", "xor.json", "--method", "magnitude", "--alpha", "1e-3"},
		{"eval", "--model", "xor.json", "--monk-dir", "."},
		{"train", "--data", "xor", "--target", "y", "--out", "t.json"},
		{"train", "--data", "xor", "--split-seed", "3", "--out", "t.json"},
		{"predict", "--model", "xor.json", "--data", "xor", "--split-seed", "2"},
		{"compare", "--model", "xor.json", "--out-dir", "c", "--methods", "magnitude", "--alpha", "1e-3"},
		{"compare", "--model", "xor.json", "--out-dir", "c", "--methods", "magnitude,obs-ggn", "--fix", "abs"},
		{"compare", "--model", "xor.json", "--out-dir", "c", "--methods", "obs-ggn", "--samples", "4"},
	} {
		r := obs(t, dir, args...)
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want a one-line usage error", args, r.code, r.stderr)
		}
	}
}
