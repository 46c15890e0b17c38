// Command regime runs the cells of the MNIST regime map (issue 24,
// docs/mnist-regime.md): trained MNIST models pruned one-shot by OBS with
// blocks of 128 (weights only, biases kept, no retraining) to 90% and 95% of
// their weights, from calibration sets of M images (the first M of MNIST's
// training set), with each curvature kind:
//
//	ggn     the Gauss–Newton matrix G (absolute damping alpha)
//	ef      the empirical Fisher F (absolute alpha)
//	ef-rel  F/c*: F with relative damping, alpha a multiple of F's own
//	        scale s_F = tr(F)/n, so that it is on G's footing up to the
//	        factor c* = s_F/s_G (both reported)
//	mc1     the Monte-Carlo Fisher, one sampled label per image
//	mcS     the Monte-Carlo Fisher, S sampled labels per image (mc4: S = 4)
//
// One CSV row per (model, M, kind, alpha, sparsity) on stdout; progress on
// stderr. -eval val measures the last 10,000 training images (the
// validation split used to choose alpha; disjoint from every calibration
// set, M <= 50,000), -eval test the 10,000 test images. Every row states
// n_eff = (sum ||g_p||^2)^2 / sum ||g_p||^4 of the calibration gradients
// (hessian.EffectiveSamples, observed labels), nf, and the scales s_F and
// s_G of that calibration set (s_G only up to -scales-max).
//
//	go run -tags openblas ./scripts/regime -models mlp100:1:m1.json \
//	    -calib 1000 -kinds ggn,ef -alpha ggn=1e-5:1e-4,ef=1e-4 -eval val
//
// scripts/regime.sh runs the whole map.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

// valPatterns is the size of the validation split: the last images of
// MNIST's training set.
const valPatterns = 10000

func main() {
	models := flag.String("models", "", "comma-separated NET:SEED:FILE (NET a label such as mlp100 or lenet300; SEED labels the model and seeds the Monte-Carlo labels)")
	calibList := flag.String("calib", "250,1000,4000,16000", "comma-separated calibration sizes M (the first M training images)")
	kindList := flag.String("kinds", "ggn,ef,ef-rel,mc1,mc4", "comma-separated kinds: ggn, ef, ef-rel, mc1, mcS")
	alphaList := flag.String("alpha", "", "per kind: KIND=A[:A...] comma-separated (every kind in -kinds needs one)")
	spList := flag.String("sparsity", "0.9,0.95", "comma-separated ascending weight sparsities (checkpoints of one run)")
	block := flag.Int("block", 128, "block size of OBS's block-diagonal inverse")
	eval := flag.String("eval", "test", "val (the last 10,000 training images) or test")
	scalesMax := flag.Int("scales-max", 1<<30, "measure s_G = tr(G_data)/n (one pass of output Jacobians) on the calibration sets of at most this size only; c* is left empty on the others")
	quickTrain := flag.Int("quick", 0, "if > 0: evaluate on the first N images of the -eval set only (the driver's --quick)")
	limitList := flag.String("limit", "", "comma-separated KIND=M: run KIND only on calibration sets of at most M images (e.g. mc4=4000: MC-4 at M matches F at 4M, which the grid has only up to M = 4000)")
	choose := flag.String("choose", "", "print the -alpha of -net chosen on this validation CSV (the highest mean accuracy over the sparsities; ties to the smaller alpha) and exit")
	netName := flag.String("net", "", "with -choose: the network label")
	flag.Parse()
	if *choose != "" {
		fmt.Println(chooseAlpha(*choose, *netName))
		return
	}
	if *models == "" {
		log.Fatal("regime: -models is required")
	}
	train, test, err := datasets.MNIST()
	if err != nil {
		log.Fatal(err)
	}
	var EX, ET [][]float64
	switch *eval {
	case "val":
		n := len(train.Inputs)
		EX, ET = train.Inputs[n-valPatterns:], train.Targets[n-valPatterns:]
	case "test":
		EX, ET = test.Inputs, test.Targets
	default:
		log.Fatalf("regime: -eval %q: want val or test", *eval)
	}
	if *quickTrain > 0 {
		EX, ET = EX[:*quickTrain], ET[:*quickTrain]
	}
	calibs := ints(*calibList)
	for _, M := range calibs {
		if M < 1 || M > len(train.Inputs)-valPatterns {
			log.Fatalf("regime: calibration size %d outside 1..%d (disjoint from the validation split)", M, len(train.Inputs)-valPatterns)
		}
	}
	sps := floatsOf(*spList, ",")
	alphas := map[string][]float64{}
	for _, kv := range strings.Split(*alphaList, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			log.Fatalf("regime: -alpha %q: want KIND=A[:A...]", kv)
		}
		alphas[k] = floatsOf(v, ":")
	}
	limit := map[string]int{}
	if *limitList != "" {
		for _, kv := range strings.Split(*limitList, ",") {
			k, v, ok := strings.Cut(kv, "=")
			n, err := strconv.Atoi(v)
			if !ok || err != nil {
				log.Fatalf("regime: -limit %q: want KIND=M", kv)
			}
			limit[k] = n
		}
	}
	kinds := strings.Split(*kindList, ",")
	for _, k := range kinds {
		if _, _, err := kindOf(k); err != nil {
			log.Fatal(err)
		}
		if len(alphas[k]) == 0 {
			log.Fatalf("regime: no -alpha for kind %s", k)
		}
	}
	w := csv.NewWriter(os.Stdout)
	w.Write([]string{"net", "seed", "calib", "kind", "curvature", "samples", "damping", "alpha", "sparsity", "eval", "eval_patterns",
		"accuracy", "error", "accuracy_dense", "n_eff", "nf", "n_eff_over_nf", "s_ef", "s_ggn", "c_star", "seconds"})
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, spec := range strings.Split(*models, ",") {
		parts := strings.SplitN(spec, ":", 3)
		if len(parts) != 3 {
			log.Fatalf("regime: -models entry %q: want NET:SEED:FILE", spec)
		}
		net0, seedS, file := parts[0], parts[1], parts[2]
		seed, err := strconv.ParseUint(seedS, 10, 64)
		if err != nil {
			log.Fatalf("regime: seed %q: %v", seedS, err)
		}
		m, _, err := model.Load(file)
		if err != nil {
			log.Fatal(err)
		}
		_, accDense := m.Evaluate(EX, ET)
		log.Printf("%s seed %d: %s, %s accuracy %.4f on %d images", net0, seed, model.Arch(m.Sizes), *eval, accDense, len(EX))
		for _, M := range calibs {
			cal := prune.FirstN(train.Inputs, train.Targets, M)
			nf := m.NumFree()
			neff, sF, sG := gradStats(m, cal, M <= *scalesMax)
			log.Printf("%s seed %d M %d: n_eff %.1f (n_eff/nf %.3g), s_F %.4g, s_G %.4g", net0, seed, M, neff, neff/float64(nf), sF, sG)
			for _, k := range kinds {
				if l, ok := limit[k]; ok && M > l {
					continue
				}
				kind, S, _ := kindOf(k)
				for _, a := range alphas[k] {
					net := m.Clone()
					mode := hessian.Absolute
					if k == "ef-rel" {
						mode = hessian.Relative
					}
					var opts *hessian.Options
					if kind == hessian.MCFisher {
						opts = &hessian.Options{Samples: S, Seed: seed}
					}
					plan := &prune.Plan{
						Method:     prune.OBSPruner{Curvature: prune.Terms{Curvature: kind, Options: opts}, Alpha: a, DampingMode: mode, Structure: prune.Blocks{Size: *block}},
						Calib:      cal,
						Candidates: prune.Weights(net),
						Round:      prune.Floor,
						Target:     prune.Target{Sparsity: sps[len(sps)-1]},
					}
					for _, s := range sps {
						plan.Checkpoints = append(plan.Checkpoints, prune.Target{Sparsity: s})
					}
					start := time.Now()
					plan.Checkpoint = func(i int) error {
						secs := time.Since(start).Seconds()
						e, acc := net.Evaluate(EX, ET)
						cs := ""
						if sG > 0 {
							cs = g(sF / sG)
						}
						sg := ""
						if sG > 0 {
							sg = g(sG)
						}
						w.Write([]string{net0, seedS, strconv.Itoa(M), k, kind.String(), strconv.Itoa(S), mode.String(), g(a), g(sps[i]), *eval, strconv.Itoa(len(EX)),
							g(acc), g(e), g(accDense), g(neff), strconv.Itoa(nf), g(neff / float64(nf)), g(sF), sg, cs, strconv.FormatFloat(secs, 'f', 1, 64)})
						w.Flush()
						if err := w.Error(); err != nil {
							return err
						}
						log.Printf("%s seed %d M %d %s alpha %g: %g -> %s accuracy %.4f (%.0f s)", net0, seed, M, k, a, sps[i], *eval, acc, secs)
						return nil
					}
					// E is measured at the start and the end on the
					// calibration set only (nothing depends on it).
					if _, err := prune.Prune(context.Background(), net, cal.X, cal.T, plan); err != nil {
						log.Fatalf("%s seed %d M %d %s alpha %g: %v", net0, seed, M, k, a, err)
					}
				}
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		log.Fatal(err)
	}
}

// kindOf returns the curvature kind of a kind name and its Monte-Carlo
// samples per image (0 unless mcfisher).
func kindOf(k string) (hessian.Kind, int, error) {
	switch k {
	case "ggn":
		return hessian.GGN, 0, nil
	case "ef", "ef-rel":
		return hessian.EmpiricalFisher, 0, nil
	}
	if s, ok := strings.CutPrefix(k, "mc"); ok {
		if S, err := strconv.Atoi(s); err == nil && S >= 1 {
			return hessian.MCFisher, S, nil
		}
	}
	return 0, 0, fmt.Errorf("regime: unknown kind %q (want ggn, ef, ef-rel or mcS, S >= 1)", k)
}

// gradStats returns, on the calibration set of a network with every
// parameter free, n_eff = (sum ||g_p||^2)^2 / sum ||g_p||^4 of the
// per-pattern gradients g_p (hessian.EffectiveSamples' definition),
// s_F = tr(F_data)/n = (1/P) sum ||g_p||^2 / n and, with ggn,
// s_G = tr(G_data)/n = (1/P) sum_p tr(U_p^T J_p J_p^T U_p) / n (J_p the
// output Jacobian, U_p U_p^T the output Hessian of the loss); 0 without.
// hessian.Scale gives the same numbers by streaming every term of the
// curvature into an nf x 128 buffer, which is 10 times slower here.
func gradStats(m *model.MLP, cal prune.Calibration, ggn bool) (neff, sF, sG float64) {
	n := len(m.Params)
	if m.NumFree() != n {
		log.Fatal("regime: the models must be dense (every parameter free)")
	}
	ws := m.NewWorkspace()
	g := make([]float64, n)
	sq := make([]float64, len(cal.X))
	var jac, u, gram, ju mat.Dense
	var jj mat.SymDense
	K := m.NumOutputs()
	for p := range cal.X {
		m.PatternGrad(ws, g, cal.X[p], cal.T[p])
		sq[p] = floats.Dot(g, g)
		sF += sq[p]
		if ggn {
			m.OutputJacobian(ws, &jac, cal.X[p])
			m.OutputHessianFactor(ws, &u, cal.X[p], floats.Sum(cal.T[p]))
			jj.Reset()
			jj.SymOuterK(1, &jac)
			gram.Reset()
			gram.CloneFrom(&jj)
			ju.Reset()
			ju.Mul(&gram, &u)
			for k := 0; k < K; k++ {
				sG += mat.Dot(u.ColView(k), ju.ColView(k))
			}
		}
	}
	P := float64(len(cal.X))
	return hessian.NEff(sq), sF / P / float64(n), sG / P / float64(n)
}

func ints(s string) []int {
	var r []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			log.Fatalf("regime: %q: %v", s, err)
		}
		r = append(r, v)
	}
	return r
}

func floatsOf(s, sep string) []float64 {
	var r []float64
	for _, f := range strings.Split(s, sep) {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			log.Fatalf("regime: %q: %v", s, err)
		}
		r = append(r, v)
	}
	return r
}

// chooseAlpha reads a CSV of -eval val rows and returns, for the network
// net, "KIND=ALPHA,..." with each kind's alpha of the highest mean
// validation accuracy over the sparsities (ties: the smaller alpha), in
// the order the kinds first appear.
func chooseAlpha(path, net string) string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	type key struct {
		kind  string
		alpha float64
	}
	sum, cnt := map[key]float64{}, map[key]int{}
	var kinds []string
	alphas := map[string][]float64{}
	for _, r := range rows[1:] {
		if r[col["net"]] != net {
			continue
		}
		if r[col["eval"]] != "val" {
			log.Fatalf("regime: %s has %s rows: alpha is chosen on the validation split only", path, r[col["eval"]])
		}
		a, err1 := strconv.ParseFloat(r[col["alpha"]], 64)
		acc, err2 := strconv.ParseFloat(r[col["accuracy"]], 64)
		if err1 != nil || err2 != nil {
			log.Fatalf("regime: %s: bad row %v", path, r)
		}
		k := key{r[col["kind"]], a}
		if _, ok := alphas[k.kind]; !ok {
			kinds = append(kinds, k.kind)
		}
		if cnt[k] == 0 {
			alphas[k.kind] = append(alphas[k.kind], a)
		}
		sum[k] += acc
		cnt[k]++
	}
	if len(kinds) == 0 {
		log.Fatalf("regime: %s has no rows of %s", path, net)
	}
	var out []string
	for _, kd := range kinds {
		as := alphas[kd]
		slices.Sort(as)
		best := as[0]
		for _, a := range as[1:] {
			if sum[key{kd, a}]/float64(cnt[key{kd, a}]) > sum[key{kd, best}]/float64(cnt[key{kd, best}]) {
				best = a
			}
		}
		out = append(out, kd+"="+strconv.FormatFloat(best, 'g', -1, 64))
	}
	return strings.Join(out, ",")
}
