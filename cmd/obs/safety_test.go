//go:build unix

package main

// Tests of issue 15 against the built binary: outputs that never destroy
// what they should not, bounded inputs, Ctrl-C, progress without a terminal,
// results on stdout and help that runs nothing.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// xorSetup trains xor.json and writes d.csv (a small CSV data set) in dir.
func xorSetup(t *testing.T, dir string) {
	t.Helper()
	xorTrained(t, dir)
	writeFile("d.csv", "a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")(t, dir)
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// A device, a FIFO, a symbolic link or a directory as an output is a usage
// error that names it, and the thing is left as it was.
func TestOutputOnlyRegularOrNew(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink("xor.json", filepath.Join(dir, "link.json"))
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	cases := []struct{ name, path, want string }{
		{"fifo", "fifo", "named pipe"},
		{"symlink", "link.json", "symbolic link"},
		{"directory", "sub", "directory"},
	}
	// A character device like /dev/null (1, 3): made in the test's own
	// directory where the test may (as root), else /dev/null itself, which
	// an unprivileged run cannot replace anyway.
	dev := filepath.Join(dir, "null")
	if err := syscall.Mknod(dev, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		dev = "/dev/null"
	}
	cases = append(cases, struct{ name, path, want string }{"char device", dev, "character device"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _ := os.Lstat(filepath.Join(dir, c.path))
			if filepath.IsAbs(c.path) {
				before, _ = os.Lstat(c.path)
			}
			for _, args := range [][]string{
				{"train", "--data", "xor", "--out", c.path},
				{"prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "p.json", "--records", c.path},
				{"saliency", "--model", "xor.json", "--data", "xor", "--csv", c.path},
			} {
				r := obs(t, dir, args...)
				if r.code != 2 || !strings.Contains(lastLine(r.stderr), c.want) || !strings.Contains(lastLine(r.stderr), c.path) {
					t.Errorf("%v: exit %d, stderr %q; want 2 and a line naming %s as %s", args, r.code, r.stderr, c.path, c.want)
				}
				p := c.path
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, p)
				}
				after, err := os.Lstat(p)
				if err != nil || after.Mode() != before.Mode() {
					t.Errorf("%v: %s changed from %v to %v (%v)", args, c.path, before.Mode(), after, err)
				}
			}
		})
	}
}

// No output may be the same file as an input or another output, whatever
// its name; replacing the model needs --in-place.
func TestOutputNeverAnInput(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	if err := os.Link(filepath.Join(dir, "xor.json"), filepath.Join(dir, "hard.json")); err != nil {
		t.Fatal(err)
	}
	model, _ := os.ReadFile(filepath.Join(dir, "xor.json"))
	data, _ := os.ReadFile(filepath.Join(dir, "d.csv"))
	// A weights file for import; refused before it is read, so empty will do.
	if err := os.WriteFile(filepath.Join(dir, "w.npz"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"train over its data", []string{"train", "--data", "d.csv", "--out", "d.csv"}},
		{"train over its data, other name", []string{"train", "--data", "d.csv", "--out", "./d.csv"}},
		{"records over the model", []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "p.json", "--records", "xor.json"}},
		{"out over the model", []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "xor.json"}},
		{"out over a hard link of the model", []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "hard.json"}},
		{"records and out the same", []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "p.json", "--records", "p.json"}},
		{"saliency csv over the data", []string{"saliency", "--model", "xor.json", "--data", "d.csv", "--csv", "d.csv"}},
		{"predictions over the model", []string{"predict", "--model", "xor.json", "--data", "xor", "--out", "xor.json"}},
		{"predictions over the data", []string{"predict", "--model", "xor.json", "--data", "d.csv", "--out", "d.csv"}},
		{"export over the model", []string{"export", "--model", "xor.json", "--format", "npz", "--out", "xor.json"}},
		{"import over its weights file", []string{"import", "--from", "w.npz", "--arch", "2-2-1", "--act", "sigmoid", "--loss", "mse", "--out", "w.npz"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := obs(t, dir, c.args...)
			if r.code != 2 || !strings.Contains(lastLine(r.stderr), "same file") {
				t.Errorf("exit %d, stderr %q; want 2 and \"same file\"", r.code, r.stderr)
			}
			// Only prune has --in-place, so only prune's --out over its
			// --model suggests it.
			if hint := c.args[0] == "prune" && strings.HasPrefix(c.name, "out over"); strings.Contains(r.stderr, "--in-place") != hint {
				t.Errorf("stderr %q: hint about --in-place %v, want %v", r.stderr, !hint, hint)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "xor.json")); !bytes.Equal(b, model) {
				t.Error("the model changed")
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "d.csv")); !bytes.Equal(b, data) {
				t.Error("the data changed")
			}
			if _, err := os.Stat(filepath.Join(dir, "p.json")); err == nil {
				t.Error("p.json was written")
			}
		})
	}
	// With --in-place the model is replaced on purpose.
	r := obs(t, dir, "prune", "--model", "xor.json", "--data", "xor", "--keep", "5", "--out", "xor.json", "--in-place", "--quiet")
	if r.code != 0 {
		t.Fatalf("--in-place: exit %d: %s", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "xor.json")); bytes.Equal(b, model) || !strings.Contains(string(b), `"history"`) {
		t.Error("--in-place did not replace the model by the pruned one")
	}
}

// While another run holds the lock on the output directory, a run writes
// nothing; two runs writing the same outputs leave one run's complete set
// (the records and the model's history name the same method).
func TestConcurrentRunsLeaveOneSet(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	lock, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for _, method := range []string{"magnitude", "obs"} {
		cmd := exec.Command(obsBin, "prune", "--model", "xor.json", "--data", "xor", "--method", method, "--keep", "5",
			"--quiet", "--out", "out/p.json", "--records", "out/s.csv")
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	time.Sleep(1500 * time.Millisecond) // both runs are done computing
	for _, f := range []string{"p.json", "s.csv"} {
		if _, err := os.Stat(filepath.Join(out, f)); err == nil {
			t.Errorf("%s was written while another process held the lock on its directory", f)
		}
	}
	syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	lock.Close()
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := os.ReadFile(filepath.Join(out, "p.json"))
	s, _ := os.ReadFile(filepath.Join(out, "s.csv"))
	var m struct {
		History []struct {
			Summary struct {
				Method string `json:"method"`
			} `json:"summary"`
		} `json:"history"`
	}
	if err := json.Unmarshal(p, &m); err != nil || len(m.History) == 0 {
		t.Fatalf("p.json: %v", err)
	}
	method := m.History[len(m.History)-1].Summary.Method
	lines := strings.Split(strings.TrimSpace(string(s)), "\n")
	if len(lines) < 2 || !strings.Contains(lines[1], method) {
		t.Errorf("the model comes from %s but the records from another run:\n%s", method, s)
	}
}

// Inputs are read only as far as their format can need: /dev/zero and a
// 20 GB sparse file fail at once with a clear error, and a CSV error quotes
// a short prefix of the offending cell.
func TestInputsBounded(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"sparse.json", "sparse.csv"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(20 << 30); err != nil {
			t.Skipf("cannot make a sparse file: %v", err)
		}
		f.Close()
	}
	cell := strings.Repeat("x", 1<<20)
	writeFile("cell.csv", "a,b,y\n1,2,3\n4,"+cell+",6\n")(t, dir)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"model /dev/zero", []string{"eval", "--model", "/dev/zero", "--data", "xor"}, "not a JSON object"},
		{"model sparse 20 GB", []string{"eval", "--model", "sparse.json", "--data", "xor"}, "more than any model file can need"},
		{"csv sparse 20 GB", []string{"train", "--data", "sparse.csv", "--out", "o.json"}, "more than any CSV data set can need"},
		{"csv long cell", []string{"train", "--data", "cell.csv", "--out", "o.json"}, "not a finite number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			r := obs(t, dir, c.args...)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %v", took)
			}
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %.300q; want 1 and %q", r.code, r.stderr, c.want)
			}
			if len(r.stderr) > 400 {
				t.Errorf("stderr is %d bytes long: %.200q...", len(r.stderr), r.stderr)
			}
		})
	}
}

// longPruneSetup writes a 64-32-10 model (2410 parameters) and a 400-pattern
// data set: OBS with the Gauss–Newton matrix takes seconds per deletion.
func longPruneSetup(t *testing.T, dir string) []string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < 64; i++ {
		fmt.Fprintf(&b, "x%d,", i)
	}
	targets := make([]string, 10)
	for j := range targets {
		targets[j] = fmt.Sprintf("y%d", j)
	}
	b.WriteString(strings.Join(targets, ",") + "\n")
	state := uint64(1)
	rnd := func() float64 {
		state = state*6364136223846793005 + 1442695040888963407
		return float64(state>>11) / (1 << 53)
	}
	for p := 0; p < 400; p++ {
		for i := 0; i < 64; i++ {
			fmt.Fprintf(&b, "%.3f,", rnd())
		}
		k := p % 10
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			if j == k {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		b.WriteByte('\n')
	}
	writeFile("big.csv", b.String())(t, dir)
	target := strings.Join(targets, ",")
	if r := obs(t, dir, "train", "--data", "big.csv", "--target", target, "--arch", "64-32-10", "--loss", "ce",
		"--trainer", "gd", "--max-iter", "1", "--restarts", "1", "--quiet", "--out", "big.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	return []string{"prune", "--model", "big.json", "--data", "big.csv", "--target", target, "--keep", "500",
		"--out", "p.json", "--records", "s.csv"}
}

// Ctrl-C during a long prune: exit 130 within 2 s, nothing written; a
// second Ctrl-C exits at once.
func TestCtrlCLongPrune(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 2410-parameter model")
	}
	dir := t.TempDir()
	args := longPruneSetup(t, dir)
	for _, twice := range []bool{false, true} {
		cmd := exec.Command(obsBin, args...)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		start := time.Now()
		cmd.Process.Signal(syscall.SIGINT)
		if twice {
			time.Sleep(20 * time.Millisecond)
			cmd.Process.Signal(syscall.SIGINT)
		}
		err := cmd.Wait()
		took := time.Since(start)
		code := cmd.ProcessState.ExitCode()
		if code != 130 || took > 2*time.Second {
			t.Errorf("twice %v: exit %d (%v) after %v; want 130 within 2 s; stderr %q", twice, code, err, took, stderr.String())
		}
		if !strings.Contains(stderr.String(), "interrupted") {
			t.Errorf("stderr %q does not say interrupted", stderr.String())
		}
		for _, f := range []string{"p.json", "s.csv"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
				t.Errorf("%s written by an interrupted run", f)
			}
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	}
}

// Without a terminal, progress is a plain log line every few seconds
// (OBS_PROGRESS_EVERY shortens the period here); --quiet silences it but
// not the results.
func TestProgressWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	args := []string{"train", "--data", "monk1", "--decay", "1e-4", "--trainer", "gd", "--max-iter", "5000", "--restarts", "1", "--out", "m.json"}
	run := func(extra ...string) result {
		cmd := exec.Command(obsBin, append(args, extra...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OBS_PROGRESS_EVERY=50ms")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s", err, errb.String())
		}
		return result{0, out.String(), errb.String()}
	}
	r := run()
	if !strings.Contains(r.stderr, "obs: progress: ") {
		t.Errorf("no progress line on a non-terminal stderr: %q", r.stderr)
	}
	q := run("--quiet")
	if strings.Contains(q.stderr, "progress") {
		t.Errorf("--quiet still logs progress: %q", q.stderr)
	}
	if !strings.Contains(q.stdout, "train_error") {
		t.Errorf("--quiet silenced the results: stdout %q", q.stdout)
	}
}

// Results go to stdout, with or without --quiet; help goes to stdout; plain
// obs prints the usage and exits 2; --version; obs help CMD.
func TestResultsAndHelpOnStdout(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	for _, extra := range [][]string{nil, {"--quiet"}} {
		r := obs(t, dir, append([]string{"eval", "--model", "xor.json", "--data", "xor"}, extra...)...)
		if r.code != 0 || !strings.Contains(r.stdout, "accuracy") {
			t.Errorf("eval %v: exit %d, stdout %q", extra, r.code, r.stdout)
		}
	}
	if r := obs(t, dir, "saliency", "--model", "xor.json", "--data", "xor", "--quiet"); !strings.Contains(r.stdout, "saliency") {
		t.Errorf("saliency --quiet: stdout %q lacks the table", r.stdout)
	}
	if r := obs(t, dir, "--help"); r.code != 0 || !strings.Contains(r.stdout, "USAGE") || !strings.Contains(r.stdout, "prune") {
		t.Errorf("obs --help: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := obs(t, dir); r.code != 2 || !strings.Contains(r.stdout+r.stderr, "USAGE") {
		t.Errorf("plain obs: exit %d, output %q", r.code, r.stdout+r.stderr)
	}
	if r := obs(t, dir, "--version"); r.code != 0 || !strings.Contains(r.stdout, "obs version ") {
		t.Errorf("obs --version: exit %d, stdout %q", r.code, r.stdout)
	}
	if r := obs(t, dir, "help", "prune"); r.code != 0 || !strings.Contains(r.stdout, "obs prune") || !strings.Contains(r.stdout, "--in-place") {
		t.Errorf("obs help prune: exit %d, stdout %.200q", r.code, r.stdout)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "xor.json"))
	var f map[string]any
	json.Unmarshal(b, &f)
	if v, _ := f["obs_version"].(string); v == "" {
		t.Errorf("the model file records no obs_version")
	}
}

// --help or -h anywhere on any command line prints help and exits 0
// without writing or reading a file.
func TestHelpAnywhereRunsNothing(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	lines := [][]string{
		{"train", "--data", "xor", "--out", "new.json", "--help"},
		{"train", "--data", "xor", "-h", "--out", "new.json"},
		{"eval", "--model", "xor.json", "--data", "xor", "--help"},
		{"hessian", "--model", "xor.json", "--data", "xor", "--plot", "new.png", "--help"},
		{"prune", "--model", "xor.json", "--data", "xor", "--keep", "3", "--out", "new.json", "-h"},
		{"saliency", "--model", "xor.json", "--data", "xor", "--csv", "new.csv", "--help"},
		{"compare", "--model", "xor.json", "--data", "xor", "--out-dir", ".", "--help"},
		{"reproduce", "xor", "--help"},
		{"reproduce", "xor", "--out-dir", "new", "-h"},
		{"reproduce", "nettalk", "--nettalk-dir", ".", "--out-dir", "new", "--help"},
		{"study", "--quick", "--out-dir", ".", "--help"},
		{"predict", "--model", "xor.json", "--data", "xor", "--out", "new.csv", "--help"},
		{"import", "--from", "w.npz", "--arch", "2-2-1", "--out", "new.json", "-h"},
		{"export", "--model", "xor.json", "--format", "npz", "--out", "new.npz", "--help"},
		{"help", "train"},
		{"--help"},
	}
	covered := map[string]bool{}
	for _, args := range lines {
		covered[args[0]] = true
		before, _ := os.ReadDir(dir)
		start := time.Now()
		r := obs(t, dir, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "USAGE") {
			t.Errorf("%v: exit %d, stdout %.100q, stderr %.200q", args, r.code, r.stdout, r.stderr)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%v took %v: it ran something", args, took)
		}
		after, _ := os.ReadDir(dir)
		if len(after) != len(before) {
			t.Errorf("%v wrote files: %v", args, after)
		}
	}
	for _, cmd := range commands() {
		if !covered[cmd.Name] {
			t.Errorf("command %s has no --help case here", cmd.Name)
		}
	}
}

// Names print as bias->out0, never as bias-\u003eout0, in the model file,
// the JSON summaries and the human output.
func TestNoJSONEscapes(t *testing.T) {
	dir := t.TempDir()
	xorSetup(t, dir)
	r := obs(t, dir, "prune", "--model", "xor.json", "--data", "xor", "--keep", "3", "--json", "--quiet", "--out", "p.json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	s := obs(t, dir, "saliency", "--model", "xor.json", "--data", "xor", "--json")
	for name, text := range map[string]string{"prune --json": r.stdout, "saliency --json": s.stdout,
		"xor.json": readString(t, dir, "xor.json"), "p.json": readString(t, dir, "p.json")} {
		if strings.Contains(text, `\u003e`) {
			t.Errorf("%s holds a JSON escape \\u003e", name)
		}
		if name != "prune --json" && !strings.Contains(text, "->") {
			t.Errorf("%s names no parameter like bias->h1.0", name)
		}
	}
}

func readString(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
