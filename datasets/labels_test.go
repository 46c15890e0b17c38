package datasets

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCSVLabels(t *testing.T) {
	in := "x,species\n1,setosa\n2,virginica\n3,versicolor\n4,setosa\n"
	s, err := ParseCSVWith(strings.NewReader(in), "iris.csv", CSVOptions{Labels: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	wantClasses := []string{"setosa", "versicolor", "virginica"} // string order
	if !slices.Equal(s.Classes, wantClasses) || !slices.Equal(s.TargetNames, []string{"species=setosa", "species=versicolor", "species=virginica"}) {
		t.Errorf("classes %v, target names %v", s.Classes, s.TargetNames)
	}
	want := [][]float64{{1, 0, 0}, {0, 0, 1}, {0, 1, 0}, {1, 0, 0}}
	if !slices.EqualFunc(s.Targets, want, slices.Equal) {
		t.Errorf("one-hot targets %v, want %v", s.Targets, want)
	}

	// Numeric labels sort as numbers, not strings.
	s, err = ParseCSVWith(strings.NewReader("x,c\n1,10\n2,2\n3,1\n"), "n.csv", CSVOptions{Labels: true})
	if err != nil || !slices.Equal(s.Classes, []string{"1", "2", "10"}) {
		t.Errorf("numeric label order %v, %v", s.Classes, err)
	}

	// Binary: one 0/1 target, 1 for the second class.
	s, err = ParseCSVWith(strings.NewReader("x,y\n1,yes\n2,no\n"), "b.csv", CSVOptions{Labels: true, Binary: true})
	if err != nil || !slices.Equal(s.Classes, []string{"no", "yes"}) || !slices.EqualFunc(s.Targets, [][]float64{{1}, {0}}, slices.Equal) || s.TargetNames[0] != "y=yes" {
		t.Errorf("binary: %v %v %v %v", s.Classes, s.Targets, s.TargetNames, err)
	}

	// Fixed classes (a test set read with the training set's order).
	s, err = ParseCSVWith(strings.NewReader("x,c\n1,b\n"), "t.csv", CSVOptions{Labels: true, Classes: []string{"b", "a"}})
	if err != nil || !slices.Equal(s.Targets[0], []float64{1, 0}) {
		t.Errorf("fixed classes: %v %v", s.Targets, err)
	}

	// Predictions on data without the target column.
	s, err = ParseCSVWith(strings.NewReader("x,z\n1,2\n"), "p.csv", CSVOptions{Targets: []string{"c"}, Labels: true, NoTargets: true})
	if err != nil || !slices.Equal(s.InputNames, []string{"x", "z"}) || len(s.Targets[0]) != 0 {
		t.Errorf("no targets: %v %v %v", s.InputNames, s.Targets, err)
	}

	for _, tc := range []struct {
		name, in string
		opts     CSVOptions
		want     []string
	}{
		{"one class", "x,c\n1,a\n2,a\n", CSVOptions{Labels: true}, []string{"one class", `"a"`}},
		{"bce three classes", "x,c\n1,0\n2,1\n3,2\n", CSVOptions{Labels: true, Binary: true}, []string{"3 classes", "--loss ce"}},
		{"unknown class", "x,c\n1,z\n", CSVOptions{Labels: true, Classes: []string{"a", "b"}}, []string{`"z"`, "not one of"}},
		{"empty label", "x,c\n1, \n", CSVOptions{Labels: true}, []string{"empty class label"}},
		{"two label columns", "x,c,d\n1,a,b\n", CSVOptions{Labels: true, Targets: []string{"c", "d"}}, []string{"one target column"}},
		{"label under mse", "x,c\n1,setosa\n", CSVOptions{TargetHint: "use --loss ce"}, []string{"not a finite number", "--loss ce"}},
	} {
		_, err := ParseCSVWith(strings.NewReader(tc.in), tc.name, tc.opts)
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		checkErr(t, tc.name, err, tc.want...)
	}
}

func TestSplit(t *testing.T) {
	s := &Set{Name: "d", Source: "d.csv", InputNames: []string{"x"}, TargetNames: []string{"y"}}
	for p := range 10 {
		s.Inputs = append(s.Inputs, []float64{float64(p)})
		s.Targets = append(s.Targets, []float64{float64(p % 2)})
	}
	tr, te, err := s.Split(0.3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 7 || te.Len() != 3 {
		t.Fatalf("split 0.3 of 10: %d + %d", tr.Len(), te.Len())
	}
	var all []float64
	for _, x := range append(append([][]float64(nil), tr.Inputs...), te.Inputs...) {
		all = append(all, x[0])
	}
	slices.Sort(all)
	for p, v := range all {
		if v != float64(p) {
			t.Fatalf("split is not a partition: %v", all)
		}
	}
	tr2, te2, _ := s.Split(0.3, 7)
	if !slices.EqualFunc(te.Inputs, te2.Inputs, slices.Equal) || !slices.EqualFunc(tr.Inputs, tr2.Inputs, slices.Equal) {
		t.Error("same seed, different split")
	}
	_, te3, _ := s.Split(0.3, 8)
	if slices.EqualFunc(te.Inputs, te3.Inputs, slices.Equal) {
		t.Log("seeds 7 and 8 happen to give the same split") // possible, but unlikely: C(10,3) = 120
	}
	for _, f := range []float64{0, 1, -0.5, 1.5, math.NaN(), 0.01, 0.99} {
		if _, _, err := s.Split(f, 1); err == nil {
			t.Errorf("Split(%v): no error", f)
		} else {
			checkErr(t, "split", err, "split")
		}
	}
}

func TestStandardized(t *testing.T) {
	s := &Set{Name: "d", InputNames: []string{"a", "b"}, TargetNames: []string{"y"},
		Inputs:  [][]float64{{1, 5}, {2, 5}, {6, 5}},
		Targets: [][]float64{{0}, {1}, {0}}}
	mean, std := s.InputStats()
	// Independent reference: mean 3, population variance ((−2)²+(−1)²+3²)/3 = 14/3.
	const tol = 1e-15 // a few roundings of numbers of order 1
	if math.Abs(mean[0]-3) > tol || math.Abs(std[0]-math.Sqrt(14.0/3)) > tol || mean[1] != 5 || std[1] != 0 {
		t.Errorf("InputStats = %v, %v", mean, std)
	}
	z := s.Standardized(mean, std)
	if math.Abs(z.Inputs[2][0]-3/math.Sqrt(14.0/3)) > tol || z.Inputs[0][1] != 0 || s.Inputs[0][0] != 1 {
		t.Errorf("Standardized = %v (original %v)", z.Inputs, s.Inputs)
	}
}

func TestWeightsRoundTrip(t *testing.T) {
	ts := []Tensor{
		{Name: "0.bias", Shape: []int{2}, Data: []float64{0.1, -1e-300}},
		{Name: "0.weight", Shape: []int{2, 3}, Data: []float64{1, 2, 3, 4, 5, math.Pi}},
	}
	for _, format := range []string{FormatNPZ, FormatSafetensors} {
		for _, single := range []bool{false, true} {
			path := filepath.Join(t.TempDir(), "w."+format)
			if err := WriteWeights(path, format, ts, single, map[string]string{"k": "v"}); err != nil {
				t.Fatal(err)
			}
			got, err := ReadWeights(path)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("%s: %d tensors", format, len(got))
			}
			for i, g := range got {
				w := ts[i]
				if g.Name != w.Name || !slices.Equal(g.Shape, w.Shape) {
					t.Errorf("%s single=%v: %s %v, want %s %v", format, single, g.Name, g.Shape, w.Name, w.Shape)
				}
				for j := range g.Data {
					want := w.Data[j]
					if single {
						want = float64(float32(want))
					}
					if g.Data[j] != want {
						t.Errorf("%s single=%v: %s[%d] = %v, want %v", format, single, g.Name, j, g.Data[j], want)
					}
				}
				if wantType := map[bool]string{false: "float64", true: "float32"}[single]; g.Dtype != wantType {
					t.Errorf("dtype %s, want %s", g.Dtype, wantType)
				}
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "nan.safetensors")
	if err := WriteWeights(bad, FormatSafetensors, []Tensor{{Name: "0.bias", Shape: []int{1}, Data: []float64{math.NaN()}}}, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadWeights(bad); err == nil {
		t.Error("NaN weight read without error")
	} else {
		checkErr(t, "nan", err, "0.bias", "NaN", "finite")
	}
	if _, err := ReadWeights("w.pt"); err == nil {
		t.Error(".pt accepted")
	}
}
