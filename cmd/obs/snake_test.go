package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var snake = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// notJSON are the struct types of package main that are never encoded.
var notJSON = map[string]bool{"setStats": true}

// Every exported field of every struct in package main and in
// internal/mnist (the JSON outputs of every command are built from them)
// has a snake_case json key: a field without a tag would be encoded under
// its Go name, as mnist's Mean, Min and Max were (issue 23, class 8). In
// the packages whose results are also encoded (study, reproduce, datasets,
// model, prune), every struct with a json tag has them on every field.
func TestJSONKeysSnakeCase(t *testing.T) {
	n := 0
	for _, d := range []struct {
		dir    string
		tagged bool // only the structs that have a json tag
	}{{".", false}, {"../../internal/mnist", false}, {"../../internal/study", true}, {"../../internal/reproduce", true}, {"../../datasets", true}, {"../../model", true}, {"../../prune", true}} {
		fset := token.NewFileSet()
		entries, err := os.ReadDir(d.dir)
		if err != nil {
			t.Fatal(err)
		}
		var files []*ast.File
		for _, e := range entries {
			if name := e.Name(); strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
				f, err := parser.ParseFile(fset, filepath.Join(d.dir, name), nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
		}
		for _, p := range files {
			ast.Inspect(p, func(node ast.Node) bool {
				ts, ok := node.(*ast.TypeSpec)
				if !ok || notJSON[ts.Name.Name] {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return true
				}
				if d.tagged {
					has := false
					for _, f := range st.Fields.List {
						if f.Tag != nil && strings.Contains(f.Tag.Value, "json:") {
							has = true
						}
					}
					if !has {
						return true
					}
				}
				for _, f := range st.Fields.List {
					tag := ""
					if f.Tag != nil {
						tag, _ = strconv.Unquote(f.Tag.Value)
					}
					key, _, _ := strings.Cut(reflect.StructTag(tag).Get("json"), ",")
					for _, name := range f.Names {
						if !name.IsExported() {
							continue
						}
						n++
						if key != "-" && !snake.MatchString(key) {
							t.Errorf("%s: %s.%s has the JSON key %q, not snake_case", fset.Position(name.Pos()), ts.Name.Name, name.Name, key)
						}
					}
				}
				return true
			})
		}
	}
	if n < 100 {
		t.Fatalf("checked only %d fields", n)
	}
}

// checkKeysSnake fails for every object key of v (decoded JSON) that is
// not snake_case.
func checkKeysSnake(t *testing.T, what string, v any, path string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !snake.MatchString(k) {
				t.Errorf("%s: key %q at %s is not snake_case", what, k, path)
			}
			checkKeysSnake(t, what, x, path+"."+k)
		}
	case []any:
		for i, x := range v {
			checkKeysSnake(t, what, x, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

// The same on the --json output of the commands, run.
func TestJSONOutputsSnakeCase(t *testing.T) {
	dir := t.TempDir()
	xorTrained(t, dir)
	for _, args := range [][]string{
		{"eval", "--model", "xor.json"},
		{"prune", "--model", "xor.json", "--keep", "5", "--out", "p.json"},
		{"prune", "--model", "xor.json", "--curvature", "exact", "--keep", "5", "--out", "p2.json"},
		{"prune", "--model", "xor.json", "--one-shot", "--structure", "block:4", "--keep", "5", "--out", "p3.json"},
		{"saliency", "--model", "xor.json"},
		{"hessian", "--model", "xor.json"},
		{"export", "--model", "xor.json", "--out", "x.npz"},
		{"predict", "--model", "xor.json", "--out", "pred.csv"},
	} {
		r := obs(t, dir, append(args, "--json", "--quiet")...)
		if r.code != 0 {
			t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
			continue
		}
		var v any
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		checkKeysSnake(t, strings.Join(args, " "), v, "")
	}
}
