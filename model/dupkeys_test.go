package model

import (
	"bytes"
	"encoding/json"
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

// refKeys is checkKeys by json.Decoder's tokens, the slow reference.
func refKeys(dec *json.Decoder) (dup bool, err error) {
	tok, err := dec.Token()
	if err != nil {
		return false, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return false, nil
	}
	seen := map[string]bool{}
	for dec.More() {
		if d == '{' {
			tok, err := dec.Token()
			if err != nil {
				return false, err
			}
			k := strings.ToLower(tok.(string))
			if seen[k] {
				return true, nil
			}
			seen[k] = true
		}
		if dup, err := refKeys(dec); dup || err != nil {
			return dup, err
		}
	}
	_, err = dec.Token()
	return false, err
}

// The byte scanner agrees with the token reference on strings holding
// quotes, braces, commas and escapes, on arrays of objects and on keys
// spelled with escapes.
func TestCheckKeysAgreesWithTokens(t *testing.T) {
	for _, s := range []string{
		`{"a":1,"b":{"a":2,"c":[{"a":1},{"a":2,"b":"x"}]}}`,
		`{"a":"}{\",\"a\":","b":1}`,
		`{"a":[1,2,{"x":1,"x":2}]}`,
		`{"a":1,"\u0061":2}`,
		`{"a\\":1,"a":2}`,
		`[{"a":1},{"a":1}]`,
		`{"names":["a","a"],"A":{}}`,
		`{"k":{"p":1},"K":1}`,
		`{"s":"a,\"b\":1","b":1}`,
	} {
		want, err := refKeys(json.NewDecoder(strings.NewReader(s)))
		if err != nil {
			t.Fatal(err)
		}
		if got := checkKeys([]byte(s)) != nil; got != want {
			t.Errorf("%s: duplicate %v, the reference says %v", s, got, want)
		}
	}
}
