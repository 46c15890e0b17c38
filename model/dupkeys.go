package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// checkKeys returns an error naming the first key that appears twice in
// one JSON object of data, at any depth. encoding/json keeps the last of
// two values silently, and matches struct fields without regard to case,
// so "params" and "Params" are the same key here too: a model file edited
// by hand or by another tool with a key given twice would otherwise load
// whichever came last without a word. data must be valid JSON (checked
// before by json.Unmarshal).
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are skipped, not converted
	return walkKeys(dec, "")
}

// walkKeys reads one JSON value from dec; path names it in errors.
func walkKeys(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	switch d {
	case '{':
		seen := map[string]string{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key := tok.(string)
			fold := strings.ToLower(key)
			if first, dup := seen[fold]; dup {
				if first == key {
					return fmt.Errorf("key %q appears twice in %s", key, where(path))
				}
				return fmt.Errorf("keys %q and %q (the same field) both appear in %s", first, key, where(path))
			}
			seen[fold] = key
			if err := walkKeys(dec, path+"."+key); err != nil {
				return err
			}
		}
	case '[':
		for i := 0; dec.More(); i++ {
			if err := walkKeys(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

func where(path string) string {
	if path == "" {
		return "the top-level object"
	}
	return strings.TrimPrefix(path, ".")
}
