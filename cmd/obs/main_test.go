package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// obsBin is the obs binary built once for the command-line tests, so they
// exercise exactly what a user runs: flag parsing, exit codes, stdout/stderr.
var obsBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "obs-cli-test-")
	if err != nil {
		panic(err)
	}
	obsBin = filepath.Join(dir, "obs")
	if runtime.GOOS == "windows" {
		obsBin += ".exe"
	}
	build := exec.Command("go", "build", "-o", obsBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building obs: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
}

// obs runs the binary in dir with args.
func obs(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(obsBin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// sharedMonkDir returns a directory of the UCI MONK's files for --monk-dir:
// the copy embedded in package datasets (datasets/monkdata), present in
// every clone, so the tests of --monk-dir never skip.
func sharedMonkDir(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../../datasets/monkdata")
	if _, err := os.Stat(filepath.Join(dir, "monks-1.train")); err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	return dir
}

// decodeJSON parses the single JSON object a --json run prints on stdout.
func decodeJSON(t *testing.T, r result) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\nstdout: %s\nstderr: %s", err, r.stdout, r.stderr)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value: %s", r.stdout)
	}
	return m
}

func TestTrainXORReachesMinimum(t *testing.T) {
	dir := t.TempDir()
	r := obs(t, dir, "train", "--data", "xor", "--arch", "2-2-1", "--seed", "1", "--json", "--out", "xor.json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	if s["train_accuracy"] != 1.0 {
		t.Errorf("train_accuracy = %v, want 1", s["train_accuracy"])
	}
	if g := s["grad_norm"].(float64); !(g < 1e-6) {
		t.Errorf("grad_norm = %v, want < 1e-6", g)
	}
	e := obs(t, dir, "eval", "--model", "xor.json", "--data", "xor", "--json")
	if e.code != 0 {
		t.Fatalf("eval exit %d: %s", e.code, e.stderr)
	}
	es := decodeJSON(t, e)
	if es["accuracy"] != 1.0 || es["error"].(float64) != s["train_error"].(float64) {
		t.Errorf("eval %v disagrees with train %v", es, s)
	}
}

// The must-show runs of the foundation issue on the UCI files.
func TestTrainMonksOnUCIFiles(t *testing.T) {
	monk := sharedMonkDir(t)
	cases := []struct {
		data, arch, decay string
		params            float64
		minTest           float64
	}{
		{"monk1", "17-3-1", "1e-4", 58, 1},
		{"monk2", "17-2-1", "1e-4", 39, 1},
		{"monk3", "17-2-1", "1e-3", 39, 0.93},
	}
	for _, c := range cases {
		t.Run(c.data, func(t *testing.T) {
			dir := t.TempDir()
			r := obs(t, dir, "train", "--data", c.data, "--monk-dir", monk, "--arch", c.arch, "--decay", c.decay,
				"--seed", "1", "--json", "--out", "m.json")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			s := decodeJSON(t, r)
			if s["params"] != c.params {
				t.Errorf("params = %v, want %v", s["params"], c.params)
			}
			if acc := s["test_accuracy"].(float64); acc < c.minTest {
				t.Errorf("test accuracy %v, want >= %v", acc, c.minTest)
			}
			if !strings.Contains(s["data_source"].(string), "UCI") {
				t.Errorf("data_source %q does not say UCI", s["data_source"])
			}
		})
	}
}

// badInput is one command that must fail with a one-line error naming the
// problem, the right exit code, and no output file.
type badInput struct {
	name  string
	setup func(t *testing.T, dir string) // writes input files into dir
	args  []string
	code  int
	want  string // substring of the error line
}

func writeFile(name, content string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// truncatedModel writes a valid XOR model file cut in half.
func truncatedModel(t *testing.T, dir string) {
	if r := obs(t, dir, "train", "--data", "xor", "--quiet", "--out", "good.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "good.json"))
	os.WriteFile(filepath.Join(dir, "trunc.json"), b[:len(b)/2], 0o644)
}

func badMonkDir(t *testing.T, dir string) {
	os.MkdirAll(filepath.Join(dir, "monk"), 0o755)
	os.WriteFile(filepath.Join(dir, "monk", "monks-1.train"), []byte(" 1 1 1 1 1 3 1 data_5\n 1 1 1 1 1 7 2 data_6\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "monk", "monks-1.test"), []byte(" 1 1 1 1 1 3 1 data_5\n"), 0o644)
}

func foundationBadInputs() []badInput {
	return []badInput{
		{"truncated model", truncatedModel, []string{"eval", "--model", "trunc.json", "--data", "xor"}, 1, "truncated"},
		{"monk value out of domain", badMonkDir, []string{"train", "--data", "monk1", "--monk-dir", "monk", "--out", "out.json"}, 1, "line 2"},
		{"arch input mismatch", nil, []string{"train", "--data", "xor", "--arch", "3-2-1", "--out", "out.json"}, 2, "inputs"},
		{"seed not a number", nil, []string{"train", "--data", "xor", "--seed", "abc", "--out", "out.json"}, 2, "seed"},
		{"unknown data", nil, []string{"train", "--data", "iris", "--out", "out.json"}, 1, "unknown data set"},
		{"missing out", nil, []string{"train", "--data", "xor"}, 2, "out"},
		{"bad arch", nil, []string{"train", "--data", "xor", "--arch", "2-x-1", "--out", "out.json"}, 2, "architecture"},
		{"lm with bce", nil, []string{"train", "--data", "xor", "--loss", "bce", "--trainer", "lm", "--out", "out.json"}, 2, "lm"},
		{"missing out dir", nil, []string{"train", "--data", "xor", "--out", "nodir/out.json"}, 1, "does not exist"},
	}
}

func runBadInputs(t *testing.T, cases []badInput) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.setup != nil {
				c.setup(t, dir)
			}
			before, _ := os.ReadDir(dir)
			r := obs(t, dir, c.args...)
			if r.code != c.code {
				t.Errorf("exit code %d, want %d; stderr: %s", r.code, c.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "obs: ") || !strings.Contains(strings.ToLower(last), strings.ToLower(c.want)) {
				t.Errorf("error line %q does not name %q", last, c.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on error: %q", r.stdout)
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("files written on error: before %v, after %v", before, after)
			}
		})
	}
}

func TestFoundationBadInputs(t *testing.T) { runBadInputs(t, foundationBadInputs()) }
