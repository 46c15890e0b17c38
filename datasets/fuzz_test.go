package datasets

import (
	"strings"
	"testing"
)

func FuzzParseMonk(f *testing.F) {
	for _, s := range []string{
		" 1 1 1 1 1 3 1 data_5\n",
		" 1 1 1 1 1 3 1 data_5\n 0 3 3 2 3 4 2 data_432\n\n",
		" 1 1 1 1 1 7 1 data_5\n",
		" 1 1 1 1 1 3 data_5\n",
		" 2 1 1 1 1 3 1 data_5\n",
		" 1 1 1 1 1 3 1 data_6\n",
		" 1 1 1 1 1 3 1 data_x\n",
		" 1 1 1 1 1 3 1 data_5\n\n 1 1 1 1 1 3 1 data_5",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		pats, err := ParseMonk(strings.NewReader(in), "fuzz")
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "datasets: ") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		if len(pats) == 0 {
			t.Fatal("no error and no patterns")
		}
		for _, p := range pats {
			if p.ID != monkID(p.A) {
				t.Fatalf("pattern %v: ID inconsistent", p)
			}
		}
		s := MonkSet(1, pats, "fuzz", "fuzz")
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range [][2]string{
		{"x1,x2,y\n0,1,1\n1,1,0\n", "y"},
		{"x1,x2,y\n0,1,1\n1,1,0\n", ""},
		{"a,b,c\n1,2,3\n", "a,b"},
		{"x,y\n1,2\n3\n", "y"},
		{"x,y\n1,abc\n", "y"},
		{"x,y\nNaN,1\n", "y"},
		{"x,y\n1,2\n", "z"},
		{"x,x\n1,2\n", "x"},
		{"x,y\n", "y"},
		{"x,\"y\n1,2\n", "y"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, in, targets string) {
		var tg []string
		if targets != "" {
			tg = strings.Split(targets, ",")
		}
		s, err := ParseCSV(strings.NewReader(in), "fuzz.csv", tg)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "datasets: ") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
