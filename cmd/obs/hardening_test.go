package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/obs-toolkit/obs/model"
)

// xorTrained trains the XOR model every case below starts from.
func xorTrained(t *testing.T, dir string) {
	t.Helper()
	if r := obs(t, dir, "train", "--data", "xor", "--quiet", "--out", "xor.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
}

// editModel writes xor.json changed by f as name.
func editModel(name string, f func(m map[string]any)) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		xorTrained(t, dir)
		b, _ := os.ReadFile(filepath.Join(dir, "xor.json"))
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		out, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(dir, name), out, 0o644)
	}
}

// replaceInModel writes xor.json with one textual replacement as name (for
// values JSON cannot express, such as NaN).
func replaceInModel(name, old, new string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		xorTrained(t, dir)
		b, _ := os.ReadFile(filepath.Join(dir, "xor.json"))
		var m map[string]any
		json.Unmarshal(b, &m)
		params := m["params"].([]any)
		params[0] = 12345.25
		out, _ := json.Marshal(m)
		os.WriteFile(filepath.Join(dir, name), bytes.Replace(out, []byte("12345.25"), []byte(new), 1), 0o644)
	}
}

func TestBadInputs(t *testing.T) {
	csvRagged := writeFile("ragged.csv", "a,b,y\n1,2,3\n4,5\n")
	csvText := writeFile("text.csv", "a,b,y\n1,2,3\n4,five,6\n")
	csvEmpty := writeFile("empty.csv", "a,b,y\n")
	csvGood := writeFile("good.csv", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n")
	cases := []badInput{
		// Model files.
		{"model missing", nil, []string{"eval", "--model", "none.json", "--data", "xor"}, 1, "none.json"},
		{"model empty", writeFile("e.json", ""), []string{"eval", "--model", "e.json", "--data", "xor"}, 1, "empty"},
		{"model not json", writeFile("g.json", "{oops"), []string{"eval", "--model", "g.json", "--data", "xor"}, 1, "not valid JSON"},
		{"model wrong count", editModel("w.json", func(m map[string]any) { m["params"] = m["params"].([]any)[:5] }), []string{"eval", "--model", "w.json", "--data", "xor"}, 1, "parameters"},
		{"model NaN", replaceInModel("n.json", "12345.25", "NaN"), []string{"eval", "--model", "n.json", "--data", "xor"}, 1, "not valid JSON"},
		{"model Inf", replaceInModel("i.json", "12345.25", "1e999"), []string{"eval", "--model", "i.json", "--data", "xor"}, 1, "params"},
		{"mask disagrees", editModel("k.json", func(m map[string]any) {
			p := m["pruned"].([]any)
			p[2] = true
		}), []string{"prune", "--model", "k.json", "--data", "xor", "--keep", "3", "--out", "o.json"}, 1, "pruned but has value"},
		{"model/data mismatch", xorTrained, []string{"eval", "--model", "xor.json", "--data", "monk1"}, 1, "inputs"},
		// CSV data.
		{"csv ragged", csvRagged, []string{"train", "--data", "ragged.csv", "--out", "o.json"}, 1, "ragged.csv"},
		{"csv non-numeric", csvText, []string{"train", "--data", "text.csv", "--out", "o.json"}, 1, "five"},
		{"csv no rows", csvEmpty, []string{"train", "--data", "empty.csv", "--out", "o.json"}, 1, "no data rows"},
		{"csv unknown target", csvGood, []string{"train", "--data", "good.csv", "--target", "z", "--out", "o.json"}, 1, "\"z\""},
		// Flags of train.
		{"decay negative", nil, []string{"train", "--data", "xor", "--decay", "-1", "--out", "o.json"}, 2, "decay"},
		{"unknown loss", nil, []string{"train", "--data", "xor", "--loss", "hinge", "--out", "o.json"}, 2, "hinge"},
		{"unknown activation", nil, []string{"train", "--data", "xor", "--act", "swish", "--out", "o.json"}, 2, "swish"},
		{"unknown trainer", nil, []string{"train", "--data", "xor", "--trainer", "rmsprop", "--out", "o.json"}, 2, "rmsprop"},
		{"restarts zero", nil, []string{"train", "--data", "xor", "--restarts", "0", "--out", "o.json"}, 2, "restarts"},
		{"grad-tol negative", nil, []string{"train", "--data", "xor", "--grad-tol", "-1", "--out", "o.json"}, 2, "grad-tol"},
		// Flags of prune.
		{"keep above count", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "10", "--out", "o.json"}, 2, "keep"},
		{"keep negative", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "-1", "--out", "o.json"}, 2, "keep"},
		{"curvature with magnitude", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--method", "magnitude", "--curvature", "ggn", "--keep", "3", "--out", "o.json"}, 2, "magnitude"},
		{"unknown method", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--method", "snip", "--keep", "3", "--out", "o.json"}, 2, "snip"},
		{"unknown curvature", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--curvature", "kfac", "--keep", "3", "--out", "o.json"}, 2, "kfac"},
		{"alpha zero", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--alpha", "0", "--keep", "3", "--out", "o.json"}, 2, "alpha"},
		{"alpha NaN", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--alpha", "NaN", "--keep", "3", "--out", "o.json"}, 2, "alpha"},
		{"no stopping rule", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--out", "o.json"}, 2, "stopping rule"},
		{"group zero", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--group", "0", "--keep", "3", "--out", "o.json"}, 2, "group"},
		{"min-accuracy above 1", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--min-accuracy", "2", "--out", "o.json"}, 2, "min-accuracy"},
		{"prune out dir missing", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "3", "--out", "no/o.json"}, 1, "does not exist"},
		{"records dir missing", xorTrained, []string{"prune", "--model", "xor.json", "--data", "xor", "--keep", "3", "--out", "o.json", "--records", "no/s.csv"}, 1, "does not exist"},
		{"exact indefinite without fix", indefiniteModel, []string{"prune", "--model", "r.json", "--data", "xor", "--curvature", "exact", "--fix", "none", "--keep", "3", "--out", "o.json"}, 1, "fix"},
		// Flags of saliency.
		{"saliency no-update with obd", xorTrained, []string{"saliency", "--model", "xor.json", "--data", "xor", "--method", "obd", "--no-update"}, 2, "no-update"},
		{"saliency csv dir missing", xorTrained, []string{"saliency", "--model", "xor.json", "--data", "xor", "--csv", "no/c.csv"}, 1, "does not exist"},
		// Data flags.
		{"monk-dir with xor", nil, []string{"train", "--data", "xor", "--monk-dir", ".", "--out", "o.json"}, 2, "monk"},
		{"monk-dir missing files", nil, []string{"train", "--data", "monk2", "--monk-dir", ".", "--out", "o.json"}, 1, "monks-2.train"},
		{"unknown command", nil, []string{"frobnicate"}, 2, "frobnicate"},
	}
	runBadInputs(t, cases)
}

// Same command, same seed: byte-identical files and JSON, whatever the
// number of threads.
func TestDeterministicOutputs(t *testing.T) {
	var ref map[string][]byte
	for _, procs := range []string{"1", "2", "2"} {
		dir := t.TempDir()
		run := func(args ...string) []byte {
			cmd := exec.Command(obsBin, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+procs)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", args, err)
			}
			return out
		}
		got := map[string][]byte{}
		got["train.json"] = run("train", "--data", "monk2", "--seed", "7", "--quiet", "--json", "--out", "m.json")
		got["prune.json"] = run("prune", "--model", "m.json", "--data", "monk2", "--curvature", "mcfisher", "--samples", "3", "--keep", "20", "--retrain", "5", "--quiet", "--json", "--out", "p.json", "--records", "s.csv")
		got["saliency.json"] = run("saliency", "--model", "p.json", "--data", "monk2", "--curvature", "ef", "--quiet", "--json", "--csv", "c.csv")
		for _, f := range []string{"m.json", "p.json", "s.csv", "c.csv"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			got[f] = b
		}
		if ref == nil {
			ref = got
			continue
		}
		for k, v := range got {
			if !bytes.Equal(v, ref[k]) {
				t.Errorf("GOMAXPROCS=%s: %s differs from the first run", procs, k)
			}
		}
	}
}

// An interrupted run leaves either no output or a complete, valid one,
// never a partial file, and exits non-zero when it wrote nothing.
func TestInterruptLeavesNoPartialFile(t *testing.T) {
	dir := t.TempDir()
	if r := obs(t, dir, "train", "--data", "monk1", "--decay", "1e-4", "--quiet", "--out", "m.json"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	for _, delay := range []time.Duration{20, 80, 200, 500, 1500} {
		out := filepath.Join(dir, "p.json")
		os.Remove(out)
		cmd := exec.Command(obsBin, "prune", "--model", "m.json", "--data", "monk1", "--method", "magnitude",
			"--retrain", "1", "--keep", "1", "--quiet", "--out", "p.json", "--records", "s.csv")
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		_, statErr := os.Stat(out)
		switch {
		case err == nil: // finished before the signal or ignored it after finishing: complete output
			if _, _, lerr := model.Load(out); lerr != nil {
				t.Errorf("after %v: exit 0 but %v", delay, lerr)
			}
		case signalled(err) && statErr != nil:
			// The signal came before obs installed its handler: killed by
			// the default action, with nothing written.
		case statErr == nil:
			t.Errorf("after %v: exit %v but %s exists", delay, err, out)
		case !strings.Contains(stderr.String(), "interrupted"):
			t.Errorf("after %v: stderr %q does not say interrupted", delay, stderr.String())
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("after %v: temporary file %s left behind", delay, e.Name())
			}
		}
	}
}

// signalled reports whether a command ended because a signal killed it.
func signalled(err error) bool {
	ee, ok := err.(*exec.ExitError)
	if !ok {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// The same for obs reproduce, which writes a set of files: after an
// interrupt the output directory holds all of them or none.
func TestInterruptReproduce(t *testing.T) {
	for _, delay := range []time.Duration{50, 300, 1000} {
		dir := t.TempDir()
		cmd := exec.Command(obsBin, "reproduce", "xor", "--seeds", "20", "--quiet", "--out-dir", "r")
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		entries, _ := os.ReadDir(filepath.Join(dir, "r"))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if err != nil && len(names) != 0 {
			t.Errorf("after %v: exit %v but the output directory holds %v", delay, err, names)
		}
		if err == nil {
			b, rerr := os.ReadFile(filepath.Join(dir, "r", "summary.json"))
			if rerr != nil || !json.Valid(b) {
				t.Errorf("after %v: exit 0 but summary.json is missing or invalid (%v)", delay, rerr)
			}
		}
	}
}
