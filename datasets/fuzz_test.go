package datasets

import (
	"os"
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

func FuzzParseCSVLabels(f *testing.F) {
	for _, s := range []string{
		"x,c\n1,a\n2,b\n",
		"x,c\n1,a\n2,a\n",
		"x,c\n1,\"a\nb\"\n2,b\n",
		"x,c\n1,2\n2,10\n3,1\n",
		"x,c\n1, \n",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, binary bool) {
		s, err := ParseCSVWith(strings.NewReader(in), "fuzz.csv", CSVOptions{Labels: true, Binary: binary})
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "datasets: ") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		if len(s.Classes) < 2 || (binary && len(s.Classes) != 2) {
			t.Fatalf("classes %q", s.Classes)
		}
		for _, row := range s.Targets {
			sum := 0.0
			for _, v := range row {
				sum += v
			}
			if (!binary && sum != 1) || (binary && sum != 0 && sum != 1) {
				t.Fatalf("target row %v is not an encoding", row)
			}
		}
	})
}

func FuzzParseWeights(f *testing.F) {
	ts := []Tensor{{Name: "0.weight", Shape: []int{2, 1}, Data: []float64{1, 2}}, {Name: "0.bias", Shape: []int{2}, Data: []float64{0, 1}}}
	for _, format := range []string{FormatNPZ, FormatSafetensors} {
		path := f.TempDir() + "/w." + format
		if err := WriteWeights(path, format, ts, false, nil); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, format == FormatNPZ)
	}
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{}"), false)
	f.Fuzz(func(t *testing.T, b []byte, npz bool) {
		format := FormatSafetensors
		if npz {
			format = FormatNPZ
		}
		got, err := ParseWeights(b, format, "fuzz")
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || !strings.HasPrefix(msg, "datasets: ") {
				t.Fatalf("bad error message %q", msg)
			}
			return
		}
		for _, tn := range got {
			n := 1
			for _, d := range tn.Shape {
				n *= d
			}
			if n != len(tn.Data) {
				t.Fatalf("tensor %q: shape %v but %d values", tn.Name, tn.Shape, len(tn.Data))
			}
		}
	})
}
