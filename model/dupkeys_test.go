package model

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A model file with a key given twice, at the top or inside an object, or
// twice in two spellings that encoding/json takes for one field, is
// refused with the key named; the file as written loads.
func TestParseFileDuplicateKeys(t *testing.T) {
	m := testNet(t)
	var buf bytes.Buffer
	if err := m.ToFile(Provenance{Data: "xor"}, nil).Encode(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, _, err := ParseFile([]byte(good), "good.json"); err != nil {
		t.Fatalf("the file as written: %v", err)
	}
	if !strings.HasPrefix(good, "{") || !strings.Contains(good, `"data": "xor"`) {
		t.Fatalf("unexpected encoding: %.200s", good)
	}
	for _, c := range []struct{ name, file, want string }{
		{"top level", strings.Replace(good, "{", `{"decay": 0.5, `, 1), `key "decay" appears twice in the top-level object`},
		{"other case", strings.Replace(good, "{", `{"Decay": 0.5, `, 1), `"Decay" and "decay"`},
		{"nested", strings.Replace(good, `"data": "xor"`, `"data": "xor", "data": "monk1"`, 1), `key "data" appears twice in provenance`},
	} {
		_, _, err := ParseFile([]byte(c.file), "m.json")
		if err == nil || !errors.Is(err, ErrModelFile) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.want)
		}
	}
}
