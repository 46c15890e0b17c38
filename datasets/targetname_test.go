package datasets

import (
	"slices"
	"testing"

	"github.com/obs-toolkit/obs/model"
)

// RecordTarget names the label column a CSV's one-hot targets came from,
// keeps a given --target, and records nothing for a built-in data set.
func TestRecordTarget(t *testing.T) {
	for _, tc := range []struct {
		spec  model.DataSpec
		train *Set
		want  []string
	}{
		{model.DataSpec{Data: "d.CSV"}, &Set{TargetNames: []string{"y=a", "y=b", "y=c"}, Classes: []string{"a", "b", "c"}}, []string{"y"}},
		{model.DataSpec{Data: "d.csv"}, &Set{TargetNames: []string{"y=yes"}, Classes: []string{"no", "yes"}}, []string{"y"}},
		{model.DataSpec{Data: "d.csv"}, &Set{TargetNames: []string{"r1", "r2"}}, []string{"r1", "r2"}},
		{model.DataSpec{Data: "d.csv", Target: []string{"z"}}, &Set{TargetNames: []string{"y"}}, []string{"z"}},
		{model.DataSpec{Data: "monk1"}, &Set{TargetNames: []string{"class"}}, nil},
	} {
		spec := tc.spec
		RecordTarget(&spec, tc.train)
		if !slices.Equal(spec.Target, tc.want) {
			t.Errorf("%v, %v: recorded %q, want %q", tc.spec, tc.train.TargetNames, spec.Target, tc.want)
		}
	}
}
