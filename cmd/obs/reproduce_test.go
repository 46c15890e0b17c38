package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readFile reads name in dir or fails the test.
func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Flags after the experiment's name work, the output directory is created,
// every file is written, and --json and summary.json parse.
func TestReproduceXORWritesEveryFile(t *testing.T) {
	dir := t.TempDir()
	r := obs(t, dir, "reproduce", "xor", "--seeds", "5", "--out-dir", "d", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	out := filepath.Join(dir, "d")
	for _, f := range []string{"report.md", "runs.csv", "xor.csv", "steps.csv", "summary.json"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s missing or empty: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "monk1-curves.png")); err == nil {
		t.Errorf("monk1-curves.png written for xor alone")
	}
	x, ok := s["xor"].(map[string]any)
	if !ok || s["monk"] != nil {
		t.Fatalf("summary has xor %v and monk %v; want xor only", s["xor"], s["monk"])
	}
	if x["networks"] != 5.0 || x["starts_per_seed"] != 1.0 {
		t.Errorf("networks %v, starts per seed %v", x["networks"], x["starts_per_seed"])
	}
	regimes := x["regimes"].([]any)
	if len(regimes) != 5 {
		t.Fatalf("%d regimes, want decay 1e-3, 1e-4, 1e-5, 0 and 0 stopped early", len(regimes))
	}
	// The four readings of "correct", per regime and method, under their
	// names, and a verdict per regime.
	for _, reg := range regimes {
		m := reg.(map[string]any)
		kept := m["kept"].(float64)
		if _, ok := m["verdict"].(map[string]any)["sentence"].(string); !ok {
			t.Errorf("regime %v: no verdict sentence", m["regime"])
		}
		for _, me := range m["methods"].([]any) {
			mm := me.(map[string]any)
			if mm["networks"] != kept {
				t.Errorf("%v %v: networks %v, kept %v", m["regime"], mm["method"], mm["networks"], kept)
			}
			for _, k := range []string{"solves_without_retraining", "solves_after_retraining", "least_e_after_step", "least_e_after_retraining"} {
				if v, ok := mm[k].(float64); !ok || v < 0 || v > kept {
					t.Errorf("%v %v: %s = %v of %v", m["regime"], mm["method"], k, mm[k], kept)
				}
			}
		}
	}
	// xor.csv: one row per dropped network and one per kept network and
	// method (7 methods), so 5 networks give 5..35 rows per regime.
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, out, "xor.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, reg := range regimes {
		m := reg.(map[string]any)
		kept, lm, nc := int(m["kept"].(float64)), int(m["local_minima"].(float64)), int(m["not_converged"].(float64))
		if kept+lm+nc != 5 {
			t.Errorf("decay %v: %d kept + %d local minima + %d not converged != 5", m["decay"], kept, lm, nc)
		}
		total += kept*7 + lm + nc
	}
	if len(rows)-1 != total {
		t.Errorf("xor.csv has %d rows, want %d", len(rows)-1, total)
	}
	var file map[string]any
	if err := json.Unmarshal(readFile(t, out, "summary.json"), &file); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if file["command"] != "obs reproduce xor --seeds 5" {
		t.Errorf("summary.json command %q", file["command"])
	}
	if !strings.Contains(string(readFile(t, out, "report.md")), "one start per seed") {
		t.Errorf("report.md does not say one start per seed")
	}
}

// On the UCI files: the OBS-GGN count and test accuracy are reported, the
// seed-1 run agrees with obs train + obs prune run by hand, and a second run
// writes byte-identical files.
func TestReproduceMonk1UCI(t *testing.T) {
	monk := sharedMonkDir(t)
	dir := t.TempDir()
	r := obs(t, dir, "reproduce", "monk1", "--monk-dir", monk, "--seeds", "2", "--out-dir", "a", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s := decodeJSON(t, r)
	m := s["monk"].(map[string]any)
	if !strings.HasPrefix(m["data_source"].(string), "UCI files") {
		t.Errorf("data_source %q", m["data_source"])
	}
	p := m["problems"].([]any)[0].(map[string]any)
	obsRow := p["methods"].([]any)[0].(map[string]any)
	if obsRow["method"] != "obs-ggn" {
		t.Fatalf("first method %v, want obs-ggn", obsRow["method"])
	}
	left := obsRow["params_left"].(map[string]any)
	acc := obsRow["test_accuracy"].(map[string]any)
	med := left["median"].(float64)
	if med < 4 || med > 58 || acc["median"] != 1.0 {
		t.Errorf("obs-ggn leaves %v parameters at test accuracy %v; want a pruned network at 100%%", left, acc)
	}
	t.Logf("MONK-1 (UCI) obs-ggn: %v parameters left, test accuracy %v", left, acc)

	// The seed-1 obs-ggn row of runs.csv equals obs train + obs prune.
	tr := obs(t, dir, "train", "--data", "monk1", "--monk-dir", monk, "--decay", "1e-4", "--seed", "1", "--out", "m.json", "--quiet")
	if tr.code != 0 {
		t.Fatal(tr.stderr)
	}
	pr := obs(t, dir, "prune", "--model", "m.json", "--data", "monk1", "--monk-dir", monk, "--method", "obs", "--curvature", "ggn",
		"--recompute", "1", "--min-accuracy", "1", "--out", "p.json", "--json")
	if pr.code != 0 {
		t.Fatal(pr.stderr)
	}
	ps := decodeJSON(t, pr)
	rows, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, "a"), "runs.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	found := false
	for _, row := range rows[1:] {
		if row[col["seed"]] == "1" && row[col["method"]] == "obs-ggn" {
			found = true
			after, _ := strconv.Atoi(row[col["params_after"]])
			if float64(after) != ps["params_after"].(float64) {
				t.Errorf("reproduce: seed 1 obs-ggn leaves %d parameters; obs train + obs prune leave %v", after, ps["params_after"])
			}
		}
	}
	if !found {
		t.Fatal("runs.csv has no seed-1 obs-ggn row")
	}

	r2 := obs(t, dir, "reproduce", "monk1", "--monk-dir", monk, "--seeds", "2", "--out-dir", "b", "--quiet")
	if r2.code != 0 {
		t.Fatalf("rerun exit %d: %s", r2.code, r2.stderr)
	}
	for _, f := range []string{"report.md", "runs.csv", "steps.csv", "summary.json", "monk1-curves.png"} {
		if !bytes.Equal(readFile(t, filepath.Join(dir, "a"), f), readFile(t, filepath.Join(dir, "b"), f)) {
			t.Errorf("%s differs between two identical runs", f)
		}
	}
}

func TestReproduceBadInputs(t *testing.T) {
	runBadInputs(t, []badInput{
		{"no experiment", nil, []string{"reproduce", "--out-dir", "d"}, 2, "xor, monk1"},
		{"unknown experiment", nil, []string{"reproduce", "iris", "--out-dir", "d"}, 2, "unknown experiment"},
		{"monk-dir with xor only", nil, []string{"reproduce", "xor", "--monk-dir", "m", "--out-dir", "d"}, 2, "monk-dir"},
		{"negative seeds", nil, []string{"reproduce", "xor", "--seeds", "-1", "--out-dir", "d"}, 2, "seeds"},
		{"bad alpha", nil, []string{"reproduce", "xor", "--alpha", "-1", "--out-dir", "d"}, 2, "alpha"},
		{"bad fix", nil, []string{"reproduce", "xor", "--fix", "magic", "--out-dir", "d"}, 2, "fix"},
		{"unknown flag after the name", nil, []string{"reproduce", "xor", "--sedes", "3"}, 2, "not defined"},
		{"missing monk dir", nil, []string{"reproduce", "monk1", "--monk-dir", "nowhere", "--out-dir", "d"}, 1, "nowhere"},
	})
}
