package study

import (
	"math"
	"strings"
	"testing"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// newStudent trains the student of s for seed on train.
func newStudent(t *testing.T, s *Setting, seed uint64, train *datasets.Set) (*model.MLP, model.TrainResult) {
	t.Helper()
	net, err := model.New(s.studentSpec())
	if err != nil {
		t.Fatal(err)
	}
	net, tr, err := trainStudent(net, s, seed, train.Inputs, train.Targets, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	return net, tr
}

// The diagnostic on cases whose answer is known, small P included: a
// well-specified regression student at P = 64 and a calibrated softmax
// student at P = 128 are no false alarms (their F_emp is an average of
// single-sample gradients like the MC-1 null); without noise (the decay's
// pull is the only residual) and with heteroscedastic noise (residuals
// that follow an input) F_emp is biased, which P = 512 detects.
func TestDiagnoseKnownCases(t *testing.T) {
	all := Settings(false)
	byLabel := func(prefix string) Setting {
		for _, s := range all {
			if len(s.Label) >= len(prefix) && s.Label[:len(prefix)] == prefix {
				return s
			}
		}
		t.Fatalf("no setting %q", prefix)
		return Setting{}
	}
	for _, c := range []struct {
		setting string
		P       int
		biased  bool
	}{
		{"σ = 0.1", 64, false},
		{"sampled labels", 128, false},
		{"σ = 0 ", 512, true},
		{"heteroscedastic", 512, true},
	} {
		for _, seed := range []uint64{1, 2, 3} {
			s := byLabel(c.setting)
			s.P = c.P
			train, _ := s.data(seed)
			net, _ := newStudent(t, &s, seed, train)
			d, err := Diagnose(net, train, DiagnoseConfig{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Biased != c.biased {
				t.Errorf("%s, P = %d, seed %d: biased %v, want %v (%s)", c.setting, c.P, seed, d.Biased, c.biased, d.Verdict)
			}
			if !(d.NEff >= 1 && d.NEff <= float64(c.P)) || d.Draws != DefaultNullDraws {
				t.Errorf("%s: n_eff %v, draws %d", c.setting, d.NEff, d.Draws)
			}
		}
	}
}

// The verdict follows the numbers: each branch's condition, fed numbers
// that meet or break it.
func TestVerdictFollowsNumbers(t *testing.T) {
	base := Diagnosis{TraceRatio: 0.01, DistAfter: 0.2, NullMedian: 0.25, NullMax: 0.4, PValue: 0.6, Draws: 19, NEff: 100, P: 512, N: 37, CStar: 0.01}
	for _, c := range []struct {
		change func(d *Diagnosis)
		usable bool
		prefix string
	}{
		{func(*Diagnosis) {}, true, "yes"},
		{func(d *Diagnosis) { d.TraceRatio = 1e-9 }, false, "no: F_emp has vanished"},
		{func(d *Diagnosis) { d.Biased, d.PValue = true, 0.05 }, false, "no: F_emp is farther"},
		{func(d *Diagnosis) { d.NullMedian = 0.7 }, false, "too few samples"},
	} {
		d := base
		c.change(&d)
		u, v := verdict(&d)
		if u != c.usable || len(v) < len(c.prefix) || v[:len(c.prefix)] != c.prefix {
			t.Errorf("%+v: verdict %v %q, want %v %q...", d, u, v, c.usable, c.prefix)
		}
	}
}

// The population Fisher in closed form: at the teacher's own weights the
// mean residual is 0, so for regression with noise σ it is σ² G, and for
// labels drawn from the softmax it is sum_c π_c (π − e_c)(π − e_c)ᵀ =
// diag(π) − ππᵀ = L, i.e. G. Argmax labels have no noise to integrate.
func TestPopFisherClosedForm(t *testing.T) {
	for _, c := range []struct {
		label string
		scale float64
	}{{"σ = 0.1", 0.01}, {"sampled labels", 1}, {"argmax labels (over", math.NaN()}} {
		var s Setting
		for _, x := range Settings(false) {
			if strings.HasPrefix(x.Label, c.label) {
				s = x
			}
		}
		train, _ := s.data(3)
		net := s.teacher(3)
		net.Decay = 0
		got := popFisher(&s, net, train, 3)
		if math.IsNaN(c.scale) {
			if got != nil {
				t.Errorf("%s: a population Fisher for deterministic labels", c.label)
			}
			continue
		}
		g, err := hessian.New(hessian.GGN, net, train.Inputs, train.Targets, nil)
		if err != nil {
			t.Fatal(err)
		}
		G := dataPart(g)
		G.ScaleSym(c.scale, G)
		if d := hessian.RelFrobenius(got, G); d > 1e-12 {
			t.Errorf("%s: population Fisher differs from %g G by %g", c.label, c.scale, d)
		}
	}
}
