package enum

import "testing"

type color int

var colorNames = []string{"red", "green", "blue"}

func TestNameParseOr(t *testing.T) {
	for i, n := range colorNames {
		if got := Name(colorNames, "color", color(i)); got != n {
			t.Errorf("Name(%d) = %q, want %q", i, got, n)
		}
		if v, ok := Parse[color](colorNames, n); !ok || v != color(i) {
			t.Errorf("Parse(%q) = %d, %v", n, v, ok)
		}
	}
	if got := Name(colorNames, "color", color(3)); got != "color(3)" {
		t.Errorf("Name(3) = %q, want color(3)", got)
	}
	if got := Name(colorNames, "color", color(-1)); got != "color(-1)" {
		t.Errorf("Name(-1) = %q, want color(-1)", got)
	}
	if v, ok := Parse[color](colorNames, "BLUE"); !ok || v != 2 {
		t.Errorf("Parse(BLUE) = %d, %v; case must be ignored", v, ok)
	}
	for _, s := range []string{"", "gree", " red", "purple"} {
		if _, ok := Parse[color](colorNames, s); ok {
			t.Errorf("Parse(%q) found a value", s)
		}
	}
	for names, want := range map[string]string{"": "", "a": "a", "a b": "a or b", "a b c": "a, b or c"} {
		var list []string
		for _, r := range names {
			if r != ' ' {
				list = append(list, string(r))
			}
		}
		if got := Or(list); got != want {
			t.Errorf("Or(%q) = %q, want %q", list, got, want)
		}
	}
}
