package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// checkKeys returns an error naming the first key that appears twice in
// one JSON object of data, at any depth. encoding/json keeps the last of
// two values silently, and matches struct fields without regard to case,
// so "params" and "Params" count as the same key here too: a model file
// edited by hand or by another tool with a key given twice would otherwise
// load whichever came last without a word. data must be valid JSON
// (json.Unmarshal checked it before); it is scanned once, byte by byte,
// since a model file holds hundreds of thousands of numbers and only a
// few objects (json.Decoder's tokens cost twice the Unmarshal).
func checkKeys(data []byte) error {
	type frame struct {
		object bool
		keys   map[string]string // folded key -> key as written
		key    string            // the current key (object)
		index  int               // the current element (array)
		want   bool              // a key comes next (object)
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack[:len(stack)-1] {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		if b.Len() == 0 {
			return "the top-level object"
		}
		return b.String()
	}
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{':
			stack = append(stack, &frame{object: true, keys: map[string]string{}, want: true})
		case '[':
			stack = append(stack, &frame{})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				top.want = top.object
				top.index++
			}
		case '"':
			j := i + 1
			escaped := false
			for ; j < len(data) && data[j] != '"'; j++ {
				if data[j] == '\\' {
					escaped = true
					j++
				}
			}
			if len(stack) == 0 || !stack[len(stack)-1].object || !stack[len(stack)-1].want {
				i = j
				continue
			}
			top := stack[len(stack)-1]
			key := string(data[i+1 : j])
			if escaped {
				if err := json.Unmarshal(data[i:j+1], &key); err != nil {
					return err
				}
			}
			fold := string(bytes.ToLower([]byte(key)))
			if first, dup := top.keys[fold]; dup {
				if first == key {
					return fmt.Errorf("key %q appears twice in %s", key, path())
				}
				return fmt.Errorf("keys %q and %q (the same field) both appear in %s", first, key, path())
			}
			top.keys[fold], top.key, top.want = key, key, false
			i = j
		}
	}
	return nil
}
