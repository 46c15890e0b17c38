package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// obs train --model continues training a model file from its weights: a
// pruned model keeps its mask (pruned weights stay exactly 0), its data
// come from the file, full-batch training lowers E from where the file
// left it, the history gains this command, and a standardised model is
// trained on its own standardisation.
func TestTrainFromModelKeepsMask(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		r := obs(t, dir, append(args, "--json", "--quiet")...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
		return decodeJSON(t, r)
	}
	run("train", "--data", "monk1", "--seed", "2", "--out", "m.json")
	run("prune", "--model", "m.json", "--method", "magnitude", "--keep", "30", "--out", "p.json")
	before := run("eval", "--model", "p.json")
	for _, tc := range []struct {
		out  string
		args []string
	}{
		{"lbfgs.json", nil},
		{"adam.json", []string{"--trainer", "adam", "--epochs", "3", "--batch", "16", "--seed", "4"}},
	} {
		s := run(append([]string{"train", "--model", "p.json", "--out", tc.out}, tc.args...)...)
		if s["from"] != "p.json" || s["data"] != "monk1-train" {
			t.Errorf("%s: from %v, data %v; want p.json and the data the file records", tc.out, s["from"], s["data"])
		}
		var in, out struct {
			Params  []float64         `json:"params"`
			Pruned  []bool            `json:"pruned"`
			History []json.RawMessage `json:"history"`
		}
		for _, f := range []struct {
			name string
			into any
		}{{"p.json", &in}, {tc.out, &out}} {
			b, err := os.ReadFile(filepath.Join(dir, f.name))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, f.into); err != nil {
				t.Fatal(err)
			}
		}
		moved, pruned := 0, 0
		for q, p := range out.Pruned {
			if p != in.Pruned[q] {
				t.Fatalf("%s: the mask changed at parameter %d", tc.out, q)
			}
			if p {
				pruned++
				if out.Params[q] != 0 {
					t.Errorf("%s: pruned parameter %d is %v", tc.out, q, out.Params[q])
				}
			} else if out.Params[q] != in.Params[q] {
				moved++
			}
		}
		if pruned != len(in.Params)-30 || moved == 0 {
			t.Errorf("%s: %d pruned (want %d), %d weights moved", tc.out, pruned, len(in.Params)-30, moved)
		}
		var last struct {
			From    string         `json:"from"`
			Summary map[string]any `json:"summary"`
		}
		if len(out.History) != len(in.History)+1 || json.Unmarshal(out.History[len(out.History)-1], &last) != nil || last.From != "p.json" || last.Summary["trainer"] == nil {
			t.Errorf("%s: history of %d entries (input %d), last %s", tc.out, len(out.History), len(in.History), out.History[len(out.History)-1])
		}
		if tc.args == nil {
			if e0, e1 := fieldF(t, before, "error"), fieldF(t, s, "train_error"); !(e1 < e0) {
				t.Errorf("L-BFGS from the pruned weights: E %v, was %v", e1, e0)
			}
			if _, ok := s["seed"]; ok {
				t.Error("a full-batch run from a model file reports a seed")
			}
		} else if fieldF(t, s, "seed") != 4 {
			t.Errorf("adam: seed %v, want the shuffling seed 4", s["seed"])
		}
	}

	// A standardised model trains on its own standardisation.
	rows := "a,b,y\n"
	for i := range 40 {
		rows += fmt.Sprintf("%d,%d,%d\n", i*100, i%7-3, i%2)
	}
	if err := os.WriteFile(filepath.Join(dir, "s.csv"), []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	run("train", "--data", "s.csv", "--arch", "2-3-1", "--standardize", "--max-iter", "5", "--restarts", "1", "--out", "s.json")
	e0 := fieldF(t, run("eval", "--model", "s.json"), "error")
	s := run("train", "--model", "s.json", "--out", "s2.json")
	if s["standardized"] != true || !(fieldF(t, s, "train_error") < e0) {
		t.Errorf("standardised model: standardized %v, E %v (was %v)", s["standardized"], s["train_error"], e0)
	}

	for _, bad := range [][]string{
		{"--arch", "17-4-1"}, {"--loss", "ce"}, {"--standardize"}, {"--restarts", "2"}, {"--seed", "3"},
		{"--act", "tanh"}, {"--out", "p.json"},
	} {
		args := append([]string{"train", "--model", "p.json", "--out", "bad.json"}, bad...)
		if r := obs(t, dir, args...); r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
			t.Errorf("%v: exit %d, %q; want a one-line usage error", bad, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("a refused run wrote its output")
	}
}
