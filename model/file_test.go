package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

func testNet(t *testing.T) *MLP {
	t.Helper()
	m, err := New(Spec{Sizes: []int{3, 2, 1}, Hidden: Tanh, Output: Sigmoid, Loss: SquaredError, Decay: 1e-4})
	if err != nil {
		t.Fatal(err)
	}
	m.Init(rand.New(rand.NewPCG(1, 2)))
	m.Prune(3)
	return m
}

func TestFileRoundTrip(t *testing.T) {
	m := testNet(t)
	seed := uint64(5)
	e := 0.25
	path := filepath.Join(t.TempDir(), "m.json")
	hist := []json.RawMessage{json.RawMessage(`{"command":"prune"}`)}
	if err := m.ToFile(Provenance{Data: "xor", Seed: &seed, TrainError: &e}, hist).Save(path); err != nil {
		t.Fatal(err)
	}
	got, f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for q := range m.Params {
		// JSON holds the shortest decimal that round-trips, so equality is exact.
		if got.Params[q] != m.Params[q] || got.Pruned[q] != m.Pruned[q] {
			t.Fatalf("parameter %d: got %v/%v, want %v/%v", q, got.Params[q], got.Pruned[q], m.Params[q], m.Pruned[q])
		}
	}
	if got.Hidden != Tanh || got.Output != Sigmoid || got.Decay != 1e-4 || *f.Provenance.Seed != 5 || len(f.History) != 1 {
		t.Errorf("spec or provenance lost: %+v %+v", got.Spec, f.Provenance)
	}
}

func TestParseFileErrors(t *testing.T) {
	m := testNet(t)
	var buf bytes.Buffer
	if err := m.ToFile(Provenance{}, nil).Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	edit := func(f func(*File)) string {
		var file File
		if err := json.Unmarshal([]byte(good), &file); err != nil {
			t.Fatal(err)
		}
		f(&file)
		b, _ := json.Marshal(file)
		return string(b)
	}
	cases := []struct{ name, data, want string }{
		{"empty", "", "empty"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"garbage", "{not json", "not valid JSON"},
		{"format", edit(func(f *File) { f.Format = "other" }), "format"},
		{"param count", edit(func(f *File) { f.Params = f.Params[:3] }), "parameters"},
		{"mask length", edit(func(f *File) { f.Pruned = f.Pruned[:2] }), "mask"},
		{"mask disagrees", edit(func(f *File) { f.Params[3] = 0.5 }), "pruned but has value"},
		{"bad activation", edit(func(f *File) { f.Hidden = "swish" }), "activation"},
		{"bad loss", edit(func(f *File) { f.Loss = "hinge" }), "loss"},
		{"loss/output", edit(func(f *File) { f.Loss = "ce" }), "softmax"},
		{"names", edit(func(f *File) { f.Names[0], f.Names[1] = f.Names[1], f.Names[0] }), "named"},
		{"negative decay", edit(func(f *File) { f.Decay = -1 }), "decay"},
		{"arch", edit(func(f *File) { f.Arch = []int{3} }), "layer"},
		{"nan", strings.Replace(edit(func(f *File) { f.Params[0] = 12345.5 }), "12345.5", "NaN", 1), "not valid JSON"},
		{"huge", strings.Replace(edit(func(f *File) { f.Params[0] = 12345.5 }), "12345.5", "1e999", 1), "params"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseFile([]byte(c.data), "m.json")
			if err == nil {
				t.Fatalf("accepted a bad model file")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || !errors.Is(err, ErrModelFile) {
				t.Errorf("error %q: want one line mentioning %q", msg, c.want)
			}
		})
	}
}

func TestEncodeRefusesNaN(t *testing.T) {
	m := testNet(t)
	m.Params[0] = math.NaN()
	if err := m.ToFile(Provenance{}, nil).Encode(&bytes.Buffer{}); err == nil {
		t.Error("encoded a NaN parameter")
	}
}
