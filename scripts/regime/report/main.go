// Command report writes docs/mnist-regime.md, docs/mnist-regime.csv and
// docs/mnist-regime.png from the outputs of scripts/regime.sh in DIR:
//
//	go run ./scripts/regime/report -dir DIR -out docs
//
// The opening bullets are generated: each sentence is chosen by a condition
// tested on the numbers (per cell: network x sparsity x calibration size M,
// the paired per-seed differences and their min-max over the seeds read),
// so a cell that contradicts a sentence changes it. Intervals are the
// min-max over the seeds (3 where all ran; the number read is printed with
// each), not confidence intervals.
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/figures"
	"github.com/obs-toolkit/obs/internal/stats"
)

// row is one line of a grid CSV.
type row struct {
	Net                  string
	Seed, Calib          int
	Kind, Damping        string
	Alpha, Sparsity, Acc float64
	NEff, NEffN          float64
	Nf                   int
	SF, SG, CStar        float64
	Secs                 float64
	raw                  []string
}

var kindOrder = []string{"ggn", "ef", "ef-rel", "mc1", "mc4"}

var kindLabel = map[string]string{
	"ggn": "G", "ef": "F", "ef-rel": "F/c* (relative damping)", "mc1": "MC-1", "mc4": "MC-4",
}

var netLabel = map[string]string{"mlp100": "784-100-10", "lenet300": "LeNet-300-100 (784-300-100-10)"}

func main() {
	dir := flag.String("dir", "", "scripts/regime.sh's output directory")
	out := flag.String("out", "docs", "where to write mnist-regime.{md,csv,png}")
	flag.Parse()
	if *dir == "" {
		log.Fatal("report: -dir is required")
	}
	header, rows := readGrid(*dir)
	if len(rows) == 0 {
		log.Fatalf("report: no grid-*.csv rows in %s", *dir)
	}
	if err := atomicfile.Write(filepath.Join(*out, "mnist-regime.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(header)
		for _, r := range rows {
			cw.Write(r.raw)
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		log.Fatal(err)
	}
	if err := figure(filepath.Join(*out, "mnist-regime.png"), rows); err != nil {
		log.Fatal(err)
	}
	var b strings.Builder
	document(&b, *dir, rows)
	if err := atomicfile.Write(filepath.Join(*out, "mnist-regime.md"), func(w io.Writer) error {
		_, err := io.WriteString(w, b.String())
		return err
	}); err != nil {
		log.Fatal(err)
	}
}

func readCSV(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatalf("report: %s: %v", path, err)
	}
	return rs
}

func num(s string) float64 {
	if s == "" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		log.Fatalf("report: %q: %v", s, err)
	}
	return v
}

// readGrid reads DIR/grid-*.csv (test-set rows), in file-name order.
func readGrid(dir string) ([]string, []row) {
	files, _ := filepath.Glob(filepath.Join(dir, "grid-*.csv"))
	sort.Strings(files)
	var header []string
	var rows []row
	for _, f := range files {
		rs := readCSV(f)
		if len(rs) == 0 {
			continue
		}
		header = rs[0]
		col := map[string]int{}
		for i, h := range rs[0] {
			col[h] = i
		}
		for _, r := range rs[1:] {
			if r[col["eval"]] != "test" {
				log.Fatalf("report: %s: a grid row measured on %s, not the test set", f, r[col["eval"]])
			}
			rows = append(rows, row{
				Net: r[col["net"]], Seed: int(num(r[col["seed"]])), Calib: int(num(r[col["calib"]])),
				Kind: r[col["kind"]], Damping: r[col["damping"]], Alpha: num(r[col["alpha"]]), Sparsity: num(r[col["sparsity"]]),
				Acc: num(r[col["accuracy"]]), NEff: num(r[col["n_eff"]]), NEffN: num(r[col["n_eff_over_nf"]]), Nf: int(num(r[col["nf"]])),
				SF: num(r[col["s_ef"]]), SG: num(r[col["s_ggn"]]), CStar: num(r[col["c_star"]]), Secs: num(r[col["seconds"]]), raw: r,
			})
		}
	}
	return header, rows
}

// cellKey is a cell of the map: network, sparsity, calibration size.
type cellKey struct {
	Net      string
	Sparsity float64
	Calib    int
}

// index maps cell and kind to seed -> row.
type index map[cellKey]map[string]map[int]row

func indexOf(rows []row) index {
	ix := index{}
	for _, r := range rows {
		k := cellKey{r.Net, r.Sparsity, r.Calib}
		if ix[k] == nil {
			ix[k] = map[string]map[int]row{}
		}
		if ix[k][r.Kind] == nil {
			ix[k][r.Kind] = map[int]row{}
		}
		ix[k][r.Kind][r.Seed] = r
	}
	return ix
}

// diff returns the paired per-seed differences a - b (test accuracy, in
// points) of two kinds, over the seeds both have, and those seeds.
func (ix index) diff(k cellKey, a string, kb cellKey, b string) ([]float64, []int) {
	var d []float64
	var seeds []int
	for s := range ix[k][a] {
		if _, ok := ix[kb][b][s]; ok {
			seeds = append(seeds, s)
		}
	}
	slices.Sort(seeds)
	for _, s := range seeds {
		d = append(d, 100*(ix[k][a][s].Acc-ix[kb][b][s].Acc))
	}
	return d, seeds
}

// bySeed returns the rows of a kind's cell in seed order, so that sums and
// the figure's drawing order do not follow Go's random map order (same
// data, same bytes).
func bySeed(m map[int]row) []row {
	out := make([]row, 0, len(m))
	for _, s := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[s])
	}
	return out
}

// interval is mean and min-max of xs.
type interval struct {
	Mean, Min, Max float64
	N              int
}

func intervalOf(xs []float64) interval {
	if len(xs) == 0 {
		return interval{math.NaN(), math.NaN(), math.NaN(), 0}
	}
	iv := interval{Min: math.Inf(1), Max: math.Inf(-1), N: len(xs)}
	for _, x := range xs {
		iv.Mean += x
		iv.Min, iv.Max = min(iv.Min, x), max(iv.Max, x)
	}
	iv.Mean /= float64(len(xs))
	return iv
}

func (iv interval) String() string {
	if iv.N == 0 {
		return "–"
	}
	if iv.N == 1 {
		return fmt.Sprintf("%+.2f (1 seed)", iv.Mean)
	}
	return fmt.Sprintf("%+.2f (%+.2f…%+.2f)", iv.Mean, iv.Min, iv.Max)
}

// excludes0 says whether every seed's difference has the same sign (the
// min-max interval excludes 0), with at least 2 seeds.
func (iv interval) excludes0() bool { return iv.N >= 2 && (iv.Min > 0 || iv.Max < 0) }

func (ix index) cells() []cellKey {
	var ks []cellKey
	for k := range ix {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.Net != b.Net {
			return netRank(a.Net) < netRank(b.Net)
		}
		if a.Sparsity != b.Sparsity {
			return a.Sparsity < b.Sparsity
		}
		return a.Calib < b.Calib
	})
	return ks
}

func netRank(n string) int {
	switch n {
	case "mlp100":
		return 0
	case "lenet300":
		return 1
	}
	return 2
}

func accCell(ix index, k cellKey, kind string) string {
	var xs []float64
	for _, r := range bySeed(ix[k][kind]) {
		xs = append(xs, 100*r.Acc)
	}
	if len(xs) == 0 {
		return "–"
	}
	iv := intervalOf(xs)
	if iv.N == 1 {
		return fmt.Sprintf("%.2f (1 seed)", iv.Mean)
	}
	return fmt.Sprintf("%.2f (%.2f–%.2f)", iv.Mean, iv.Min, iv.Max)
}

// document writes the report.
func document(b *strings.Builder, dir string, rows []row) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	ix := indexOf(rows)
	cells := ix.cells()
	nets := map[string]bool{}
	for _, r := range rows {
		nets[r.Net] = true
	}
	p("# The MNIST regime map: G, F, F/c*, MC-1 and MC-4 against calibration size\n\n")
	p("<!-- generated by go run ./scripts/regime/report -dir %s -out docs; do not edit -->\n\n", filepath.Base(dir))
	p("Issue 24 asks: once scale is matched, is the empirical Fisher's one-shot\n")
	p("pruning deficit anything but estimator variance? One-shot OBS with blocks of\n")
	p("128 (weights only, biases kept, no retraining) to 90%% and 95%% of the weights,\n")
	p("from the first M training images, with each curvature: G (Gauss–Newton),\n")
	p("F (empirical Fisher), F/c* (F with relative damping, so its ridge is a multiple\n")
	p("of its own scale s_F = tr(F)/n, as G's effective one is of s_G; c* = s_F/s_G),\n")
	p("MC-1 (Monte-Carlo Fisher, one sampled label per image: unbiased for G, as many\n")
	p("gradients as F) and MC-4 (four sampled labels per image: 4M gradients, as many\n")
	p("as F from 4M images, the next M of the grid). Test accuracy in %%; intervals\n")
	p("are min–max over the seeds read (3 where every seed ran), differences paired by\n")
	p("seed (same model, same calibration images).\n\n")

	p("**Models.** 784-100-10 trained as docs/mnist.md trains LeNet-300-100\n")
	p("(scripts/mnist.sh: Adam, 15 epochs, lr 1e-3 × 0.8 per epoch, batch 128, all 60,000\n")
	p("training images): `obs train --data mnist --arch 784-100-10 --act relu --loss ce\n")
	p("--trainer adam --epochs 15 --lr-decay 0.8 --seed S` (S = 1, 2, 3). LeNet-300-100 is\n")
	p("docs/structured.md's: `obs train --data mnist --arch 784-300-100-10 --act relu --loss ce\n")
	p("--trainer adam --epochs 2 --seed S`. No weight decay. Dense test accuracy:\n")
	for _, net := range []string{"mlp100", "lenet300"} {
		dense := map[int]float64{}
		for _, r := range rows {
			if r.Net == net {
				dense[r.Seed] = num(r.raw[13])
			}
		}
		var parts []string
		for s := 1; s <= 3; s++ {
			if v, ok := dense[s]; ok {
				parts = append(parts, fmt.Sprintf("seed %d %.2f%%", s, 100*v))
			}
		}
		if len(parts) > 0 {
			p("%s %s.\n", netLabel[net], strings.Join(parts, ", "))
		}
	}
	p("\n")

	// Generated findings.
	p("## Findings (generated from the numbers below)\n\n")
	bullets := findings(ix, cells, rows)
	if s := saliencyFinding(dir); s != "" {
		bullets = append(bullets[:len(bullets)-1], s, bullets[len(bullets)-1])
	}
	for _, s := range bullets {
		p("- %s\n", s)
	}
	p("\n![G − F gap against n_eff/n](mnist-regime.png)\n\n")
	p("*Figure: the paired gaps G − F, G − F/c* and G − MC-1 (points of test accuracy, one point per seed and M)\n")
	p("against n_eff/n of that calibration set, n = nf the free parameters; left 90%%, right 95%%.*\n\n")

	// Tables.
	for _, net := range []string{"mlp100", "lenet300"} {
		if !nets[net] {
			continue
		}
		p("## %s\n\n", netLabel[net])
		for _, sp := range []float64{0.9, 0.95} {
			p("### %g%% of the weights, one shot\n\n", 100*sp)
			p("| M | G | F | F/c* | MC-1 | MC-4 | G − F | G − F/c* | G − MC-1 | F/c* − MC-1 | MC-4(M) − F/c*(4M) | seeds |\n")
			p("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
			for _, k := range cells {
				if k.Net != net || k.Sparsity != sp {
					continue
				}
				gf, seeds := ix.diff(k, "ggn", k, "ef")
				gr, _ := ix.diff(k, "ggn", k, "ef-rel")
				gm, _ := ix.diff(k, "ggn", k, "mc1")
				rm, _ := ix.diff(k, "ef-rel", k, "mc1")
				k4 := cellKey{k.Net, k.Sparsity, 4 * k.Calib}
				m4, _ := ix.diff(k, "mc4", k4, "ef-rel")
				p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.Calib,
					accCell(ix, k, "ggn"), accCell(ix, k, "ef"), accCell(ix, k, "ef-rel"), accCell(ix, k, "mc1"), accCell(ix, k, "mc4"),
					intervalOf(gf), intervalOf(gr), intervalOf(gm), intervalOf(rm), intervalOf(m4), seedList(seeds))
			}
			p("\n")
		}
		p("n_eff = (Σ‖g_p‖²)²/Σ‖g_p‖⁴ of the calibration gradients (observed labels), the\n")
		p("scales and c* (mean over seeds; c* only where s_G was measured):\n\n")
		p("| M | n_eff | n_eff/M | n_eff/n | s_F | s_G | c* = s_F/s_G |\n|---|---|---|---|---|---|---|\n")
		for _, k := range cells {
			if k.Net != net || k.Sparsity != 0.9 {
				continue
			}
			var ne, sf, sg, cs []float64
			nf := 0
			for _, r := range bySeed(ix[k]["ggn"]) {
				ne = append(ne, r.NEff)
				sf = append(sf, r.SF)
				if !math.IsNaN(r.SG) {
					sg = append(sg, r.SG)
					cs = append(cs, r.CStar)
				}
				nf = r.Nf
			}
			n := intervalOf(ne)
			p("| %d | %.1f (%.1f–%.1f) | %.3f | %.2g | %.3g | %s | %s |\n", k.Calib, n.Mean, n.Min, n.Max, n.Mean/float64(k.Calib), n.Mean/float64(nf),
				intervalOf(sf).Mean, fmtOpt(sg, "%.3g"), fmtOpt(cs, "%.3f"))
		}
		p("\n")
	}

	alphaSection(b, dir, nets)
	saliencySection(b, dir)
	runSection(b, dir, rows)
}

func fmtOpt(xs []float64, f string) string {
	if len(xs) == 0 {
		return "–"
	}
	return fmt.Sprintf(f, intervalOf(xs).Mean)
}

func seedList(s []int) string {
	var t []string
	for _, x := range s {
		t = append(t, strconv.Itoa(x))
	}
	return strings.Join(t, ",")
}

// findings returns the generated bullets.
func findings(ix index, cells []cellKey, rows []row) []string {
	var out []string
	read := 0
	type res struct {
		k      cellKey
		gf, gr interval
		gm, rm interval
	}
	var rs []res
	for _, k := range cells {
		gf, _ := ix.diff(k, "ggn", k, "ef")
		gr, _ := ix.diff(k, "ggn", k, "ef-rel")
		gm, _ := ix.diff(k, "ggn", k, "mc1")
		rm, _ := ix.diff(k, "ef-rel", k, "mc1")
		rs = append(rs, res{k, intervalOf(gf), intervalOf(gr), intervalOf(gm), intervalOf(rm)})
	}
	name := func(k cellKey) string { return fmt.Sprintf("%s %g%% M=%d", k.Net, 100*k.Sparsity, k.Calib) }
	// 1. Does G beat F, and where?
	var gfPos, gfNeg, gfZero []string
	for _, r := range rs {
		if r.gf.N == 0 {
			continue
		}
		read++
		switch {
		case r.gf.excludes0() && r.gf.Min > 0:
			gfPos = append(gfPos, name(r.k))
		case r.gf.excludes0() && r.gf.Max < 0:
			gfNeg = append(gfNeg, name(r.k))
		default:
			gfZero = append(gfZero, name(r.k))
		}
	}
	out = append(out, fmt.Sprintf("**G against F.** G beats F on every seed in %d of %d cells, F beats G on every seed in %d, and in %d%s the seeds disagree in sign or only one was read.",
		len(gfPos), read, len(gfNeg), len(gfZero), listIf(" (%s)", gfZero, 6)))
	// 2. Does the gap shrink with M (per net and sparsity, smallest to largest M)?
	type ns struct {
		net string
		sp  float64
	}
	var shrink, grow, flat []string
	groups := map[ns][]res{}
	var order []ns
	for _, r := range rs {
		g := ns{r.k.Net, r.k.Sparsity}
		if _, ok := groups[g]; !ok {
			order = append(order, g)
		}
		groups[g] = append(groups[g], r)
	}
	for _, g := range order {
		var first, last *res
		for i := range groups[g] {
			r := &groups[g][i]
			if r.gf.N == 0 {
				continue
			}
			if first == nil {
				first = r
			}
			last = r
		}
		if first == nil || first == last {
			continue
		}
		s := fmt.Sprintf("%s %g%%: %s at M=%d to %s at M=%d", g.net, 100*g.sp, first.gf, first.k.Calib, last.gf, last.k.Calib)
		// A change within 0.1 points of the mean gap counts as none.
		switch {
		case last.gf.Mean < first.gf.Mean-0.1:
			shrink = append(shrink, s)
		case last.gf.Mean > first.gf.Mean+0.1:
			grow = append(grow, s)
		default:
			flat = append(flat, s)
		}
	}
	switch {
	case len(shrink) > 0 && len(grow)+len(flat) == 0:
		out = append(out, fmt.Sprintf("**The G − F gap shrinks as M grows** in every network and sparsity read (by more than 0.1 points from the smallest to the largest M): %s.", strings.Join(shrink, "; ")))
	case len(shrink) == 0 && len(grow)+len(flat) > 0:
		out = append(out, fmt.Sprintf("**The G − F gap does not shrink as M grows** (by more than 0.1 points): %s.", strings.Join(append(grow, flat...), "; ")))
	case len(shrink) > 0:
		s := fmt.Sprintf("**The G − F gap shrinks with M in some settings only** (by more than 0.1 points from the smallest to the largest M read): shrinks in %s", strings.Join(shrink, "; "))
		if len(flat) > 0 {
			s += fmt.Sprintf("; stays within 0.1 points in %s", strings.Join(flat, "; "))
		}
		if len(grow) > 0 {
			s += fmt.Sprintf("; grows in %s", strings.Join(grow, "; "))
		}
		out = append(out, s+".")
	}
	// 3. Scale: F/c* against F.
	var better, worse, same []string
	var scaleMean float64
	for _, k := range cells {
		d, _ := ix.diff(k, "ef-rel", k, "ef")
		iv := intervalOf(d)
		if iv.N > 0 {
			scaleMean += iv.Mean
		}
		switch {
		case iv.N == 0:
		case iv.excludes0() && iv.Min > 0:
			better = append(better, name(k))
		case iv.excludes0() && iv.Max < 0:
			worse = append(worse, name(k))
		default:
			same = append(same, name(k))
		}
	}
	tot := len(better) + len(worse) + len(same)
	if tot > 0 {
		s := fmt.Sprintf("**Scale (F/c* against F, each with its own alpha chosen on the validation split).** F/c* beats F on every seed in %d of %d cells%s, loses on every seed in %d%s, and in %d the seeds disagree in sign or only one was read.",
			len(better), tot, listIf(" (%s)", better, 6), len(worse), listIf(" (%s)", worse, 6), len(same))
		scaleMean /= float64(tot)
		switch {
		case 2*len(worse) > tot:
			s += fmt.Sprintf(" F/c* is behind F in most cells (mean %+.2f points): with each kind's alpha tuned on the validation split, putting F on G's scale does not help.", scaleMean)
		case 2*len(better) > tot:
			s += fmt.Sprintf(" Matching the scale helps F in most cells (mean %+.2f points) even with each kind's alpha tuned.", scaleMean)
		default:
			s += fmt.Sprintf(" No consistent effect of matching the scale (mean %+.2f points over the cells): with each kind's alpha tuned on the validation split, F and F/c* differ only in their chosen ridges (alpha against alpha·s_F).", scaleMean)
		}
		out = append(out, s)
	}
	// 4. Variance: F/c* against MC-1 (same number of gradients, MC-1 unbiased for G).
	var rmPos, rmNeg, rmZero []string
	var gmPos int
	nm := 0
	for _, r := range rs {
		if r.rm.N == 0 {
			continue
		}
		nm++
		switch {
		case r.rm.excludes0() && r.rm.Min > 0:
			rmPos = append(rmPos, name(r.k))
		case r.rm.excludes0() && r.rm.Max < 0:
			rmNeg = append(rmNeg, name(r.k))
		default:
			rmZero = append(rmZero, name(r.k))
		}
		if r.gm.excludes0() && r.gm.Min > 0 {
			gmPos++
		}
	}
	if nm > 0 {
		s := fmt.Sprintf("**Variance (F/c* against MC-1, the same number of gradients).** MC-1 beats F/c* on every seed in %d of %d cells%s, F/c* beats MC-1 on every seed in %d%s, in %d the seeds disagree in sign or only one was read; G beats MC-1 on every seed in %d of %d.",
			len(rmNeg), nm, listIf(" (%s)", rmNeg, 6), len(rmPos), listIf(" (%s)", rmPos, 6), len(rmZero), gmPos, nm)
		switch {
		case len(rmNeg) == 0 && len(rmPos) == 0:
			s += " Where MC-1, an unbiased estimate of G from as many gradients, is no better than the scale-matched F, F's remaining deficit reads as estimator variance, not as the bias of observed labels."
		case len(rmNeg) > len(rmPos):
			s += " Where MC-1 beats F/c* from as many gradients, the labels' bias costs accuracy beyond the variance."
		case len(rmPos) > len(rmNeg) && gmPos > 0:
			s += " An unbiased estimate of G from as many gradients loses more than the scale-matched F: F's deficit against G needs no bias of the observed labels to explain it, and is consistent with what a finite sample of gradients costs; the observed labels even cost less than one sampled label per image."
		case len(rmPos) > len(rmNeg):
			s += " F/c* is ahead of MC-1, and G is not ahead of MC-1 on every seed anywhere."
		default:
			s += " F/c* and MC-1 are each ahead in as many cells: no reading either way."
		}
		out = append(out, s)
	}
	// 5. Matched counts: MC-4 at M against F/c* at 4M.
	var mPos, mNeg, mZero int
	var mcells []string
	var mcellsMean []float64
	for _, k := range cells {
		k4 := cellKey{k.Net, k.Sparsity, 4 * k.Calib}
		d, _ := ix.diff(k, "mc4", k4, "ef-rel")
		iv := intervalOf(d)
		switch {
		case iv.N == 0:
			continue
		case iv.excludes0() && iv.Min > 0:
			mPos++
		case iv.excludes0() && iv.Max < 0:
			mNeg++
		default:
			mZero++
		}
		mcells = append(mcells, fmt.Sprintf("%s %s", name(k), iv))
		mcellsMean = append(mcellsMean, iv.Mean)
	}
	if n := mPos + mNeg + mZero; n > 0 {
		out = append(out, fmt.Sprintf("**Matched counts (MC-4 from M images against F/c* from 4M images, 4M gradients each).** MC-4 is ahead on every seed in %d of %d pairs, behind on every seed in %d, in %d the seeds disagree in sign or only one was read: %s.",
			mPos, n, mNeg, mZero, strings.Join(mcells, "; ")))
		mean := 0.0
		for _, c := range mcellsMean {
			mean += c
		}
		mean /= float64(len(mcellsMean))
		switch {
		case mNeg > mPos && mean < 0:
			out[len(out)-1] += fmt.Sprintf(" At the same number of gradients more images beat more sampled labels per image (mean %+.2f points): the variance that matters is that of the images, not only of the labels.", mean)
		case mPos > mNeg && mean > 0:
			out[len(out)-1] += fmt.Sprintf(" At the same number of gradients, sampled labels from fewer images beat observed labels from more (mean %+.2f points).", mean)
		}
	}
	// 6. n_eff: rank correlation of the mean gap with n_eff/n, per network and sparsity.
	var corr []string
	for _, g := range order {
		var x, y []float64
		for _, r := range groups[g] {
			for s, rg := range ix[r.k]["ggn"] {
				if rf, ok := ix[r.k]["ef"][s]; ok {
					x = append(x, rg.NEffN)
					y = append(y, 100*(rg.Acc-rf.Acc))
				}
			}
		}
		if len(x) < 4 {
			continue
		}
		rho := stats.Spearman(x, y)
		word := "falls"
		if rho >= 0 {
			word = "does not fall"
		}
		corr = append(corr, fmt.Sprintf("%s %g%%: Spearman %.2f over %d (seed, M) points, n_eff/n %.2g–%.2g (the gap %s as n_eff/n grows)",
			g.net, 100*g.sp, rho, len(x), slices.Min(x), slices.Max(x), word))
	}
	if len(corr) > 0 {
		maxFrac := 0.0
		for _, r := range rows {
			maxFrac = max(maxFrac, r.NEff/float64(r.Calib))
		}
		s := "**n_eff.** The paired G − F gap against n_eff/n: " + strings.Join(corr, "; ") + "."
		if maxFrac < 0.1 {
			s += fmt.Sprintf(" n_eff is at most %.1f%% of M in every build: a few images carry most of tr F at these trained networks.", 100*maxFrac)
		}
		out = append(out, s)
	}
	out = append(out, fmt.Sprintf("%d min–max intervals over 3 or fewer seeds were read for these sentences, with no correction for their number: with 3 seeds \"every seed agrees\" is the only claim made, and a sign on every seed happens by chance with probability 1/4 per interval when there is no effect.", read+tot+nm+mPos+mNeg+mZero))
	return out
}

func listIf(format string, xs []string, maxN int) string {
	if len(xs) == 0 || len(xs) > maxN {
		return ""
	}
	return fmt.Sprintf(format, strings.Join(xs, ", "))
}

// figure draws the paired G − F gap against n_eff/n, one panel per
// sparsity, one series per network.
func figure(path string, rows []row) error {
	ix := indexOf(rows)
	var panels []*plot.Plot
	for _, sp := range []float64{0.9, 0.95} {
		var series []figures.Series
		for _, net := range []string{"mlp100", "lenet300"} {
			for _, cmp := range []struct{ b, label string }{{"ef", "G − F"}, {"ef-rel", "G − F/c*"}, {"mc1", "G − MC-1"}} {
				s := figures.Series{Label: fmt.Sprintf("%s %s", net, cmp.label), Key: net + cmp.b}
				for _, k := range ix.cells() {
					if k.Net != net || k.Sparsity != sp {
						continue
					}
					for _, rg := range bySeed(ix[k]["ggn"]) {
						if rf, ok := ix[k][cmp.b][rg.Seed]; ok {
							s.X = append(s.X, rg.NEffN)
							s.Y = append(s.Y, 100*(rg.Acc-rf.Acc))
						}
					}
				}
				if len(s.X) > 0 {
					series = append(series, s)
				}
			}
		}
		pl, err := figures.New(series, figures.Options{Title: fmt.Sprintf("one-shot %g%%", 100*sp), XLabel: "n_eff / n", YLabel: "paired gap (points of test accuracy)", LogX: true, Points: true})
		if err != nil {
			return err
		}
		panels = append(panels, pl)
	}
	return figures.SaveRow(path, panels, 24*vg.Centimeter, 10*vg.Centimeter)
}

// alphaSection reports the validation grid and the alpha chosen.
func alphaSection(b *strings.Builder, dir string, nets map[string]bool) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## Damping, chosen on the validation split\n\n")
	p("alpha per kind from a small grid (the values tried are those in each table), on\n")
	p("the last 10,000 training images (never a\n")
	p("calibration image, never the test set; the models were trained on all 60,000,\n")
	p("so this is a split of the training set, not held-out data), at M = 1000 on\n")
	p("seed 1 only, the highest mean validation accuracy over 90%% and 95%% (ties to the\n")
	p("smaller alpha), then fixed for every M and seed. ef-rel's alpha is relative\n")
	p("(a multiple of s_F); the others' absolute.\n\n")
	for _, net := range []string{"mlp100", "lenet300"} {
		path := filepath.Join(dir, "val-"+net+".csv")
		if _, err := os.Stat(path); err != nil {
			continue
		}
		rs := readCSV(path)
		col := map[string]int{}
		for i, h := range rs[0] {
			col[h] = i
		}
		chosen, _ := os.ReadFile(filepath.Join(dir, "alpha-"+net+".txt"))
		p("%s: chosen `%s`.\n\n| kind | alpha | val 90%% | val 95%% |\n|---|---|---|---|\n", netLabel[net], strings.TrimSpace(string(chosen)))
		type key struct{ k, a string }
		acc := map[key][2]string{}
		var keys []key
		for _, r := range rs[1:] {
			k := key{r[col["kind"]], r[col["alpha"]]}
			v, ok := acc[k]
			if !ok {
				keys = append(keys, k)
			}
			i := 0
			if num(r[col["sparsity"]]) > 0.92 {
				i = 1
			}
			v[i] = fmt.Sprintf("%.2f", 100*num(r[col["accuracy"]]))
			acc[k] = v
		}
		for _, k := range keys {
			p("| %s | %s | %s | %s |\n", k.k, k.a, acc[k][0], acc[k][1])
		}
		// A choice at the end of its grid may lie beyond it.
		var edge []string
		for _, kv := range strings.Split(strings.TrimSpace(string(chosen)), ",") {
			kd, a, _ := strings.Cut(kv, "=")
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, k := range keys {
				if k.k == kd {
					lo, hi = min(lo, num(k.a)), max(hi, num(k.a))
				}
			}
			if v := num(a); lo < hi && (v == lo || v == hi) {
				edge = append(edge, kd)
			}
		}
		if len(edge) > 0 {
			p("\nChosen at an end of its grid (the best alpha may lie beyond it): %s.\n", strings.Join(edge, ", "))
		}
		p("\n")
	}
}

// saliencySection reports obs saliency --sample's predicted against actual.
func saliencySection(b *strings.Builder, dir string) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	runs := readSaliency(dir)
	if len(runs) == 0 {
		p("## Predicted against actual single deletions\n\nNot run.\n\n")
		return
	}
	sort.Slice(runs, func(i, j int) bool { return salOrder(runs[i].file) < salOrder(runs[j].file) })
	p("## Predicted against actual single deletions\n\n")
	p("`obs saliency --sample N --sample-seed 1 --calib 1000 --eval-patterns E --structure block:128`\n")
	p("on seed 1: N parameters drawn uniformly from all the free ones; for each, OBS's\n")
	p("predicted increase (curvature from the first 1,000 training images, the kind's\n")
	p("chosen alpha) and the actual increase of E after deleting it with OBS's update\n")
	p("(no retraining), E measured on a fixed evaluation subset (the whole training\n")
	p("set would take one forward pass of 60,000 images per candidate): the last E\n")
	p("training images (`--eval-patterns E`), or the 1,000 calibration images the\n")
	p("curvature was built from (`--eval-calib`). Calibration: median\n")
	p("|log10(pred/actual)| over the candidates where both are positive (how many\n")
	p("beside it).\n\n")
	p("| network | kind | candidates | E measured on | Spearman | Pearson | median abs log10(pred/actual) | pairs both > 0 |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		on := fmt.Sprintf("last %d training images", r.evalPatterns)
		if r.evalSet == "calibration" {
			on = fmt.Sprintf("the %d calibration images", r.evalPatterns)
		}
		p("| %s | %s | %d | %s | %s | %s | %.2f | %d |\n", netLabel[r.net], kindLabel[r.kind], r.candidates, on, fptr(r.spearman), fptr(r.pearson), r.medLog, r.bothPos)
	}
	p("\n")
}

// salRun is one obs saliency run of DIR as its files hold it: the JSON
// summary (saliency-NET-KIND.json or saliencycal-NET-KIND.json) and, from
// its CSV of candidates, the median |log10(pred/actual)| over the pairs
// both positive (bothPos of them) and the fraction of negative actual
// increases.
type salRun struct {
	file, net, kind          string
	candidates, evalPatterns int
	spearman, pearson        *float64
	evalSet                  string
	medLog, negFrac          float64
	bothPos                  int
}

// readSaliency reads DIR's saliency runs, in the order of the file names.
func readSaliency(dir string) []salRun {
	files, _ := filepath.Glob(filepath.Join(dir, "saliency-*.json"))
	cal, _ := filepath.Glob(filepath.Join(dir, "saliencycal-*.json"))
	var out []salRun
	for _, f := range append(files, cal...) {
		var s struct {
			Candidates   int      `json:"candidates"`
			Spearman     *float64 `json:"spearman"`
			Pearson      *float64 `json:"pearson"`
			EvalPatterns int      `json:"eval_patterns"`
			EvalSet      string   `json:"eval_set"`
			CSV          string   `json:"csv"`
		}
		data, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(data, &s); err != nil {
			log.Fatalf("report: %s: %v", f, err)
		}
		rs := readCSV(filepath.Join(dir, s.CSV))
		var pred, act []float64
		neg := 0
		for _, r := range rs[1:] {
			pred = append(pred, num(r[4]))
			act = append(act, num(r[5]))
			if act[len(act)-1] < 0 {
				neg++
			}
		}
		med, n := stats.MedianAbsLog10Ratio(pred, act)
		m := regexp.MustCompile(`saliency(?:cal)?-([a-z0-9]+)-(.+)\.json$`).FindStringSubmatch(f)
		out = append(out, salRun{file: f, net: m[1], kind: m[2], candidates: s.Candidates, evalPatterns: s.EvalPatterns,
			spearman: s.Spearman, pearson: s.Pearson, evalSet: s.EvalSet, medLog: med, bothPos: n, negFrac: float64(neg) / float64(len(act))})
	}
	return out
}

func salOrder(f string) string {
	m := regexp.MustCompile(`saliency(cal)?-([a-z0-9]+)-(.+)\.json$`).FindStringSubmatch(f)
	if m == nil {
		return f
	}
	return fmt.Sprintf("%d-%s-%d", netRank(m[2]), m[1], slices.Index(kindOrder, m[3]))
}

func fptr(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmt.Sprintf("%.3f", *v)
}

// runSection states what was run, the commands and the cost.
func runSection(b *strings.Builder, dir string, rows []row) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("## What was run\n\n")
	type ns struct {
		net  string
		seed int
	}
	seen := map[ns]map[int]bool{}
	for _, r := range rows {
		k := ns{r.Net, r.Seed}
		if seen[k] == nil {
			seen[k] = map[int]bool{}
		}
		seen[k][r.Calib] = true
	}
	var keys []ns
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].net != keys[j].net {
			return netRank(keys[i].net) < netRank(keys[j].net)
		}
		return keys[i].seed < keys[j].seed
	})
	for _, k := range keys {
		var ms []int
		for m := range seen[k] {
			ms = append(ms, m)
		}
		slices.Sort(ms)
		p("- %s seed %d: M = %s\n", netLabel[k.net], k.seed, seedList(ms))
	}
	// What the map asks for and is not here.
	var missing []string
	have := map[string]bool{}
	for _, r := range rows {
		have[fmt.Sprintf("%s/%d/%d/%s", r.Net, r.Seed, r.Calib, r.Kind)] = true
	}
	for _, net := range []string{"mlp100", "lenet300"} {
		for seed := 1; seed <= 3; seed++ {
			for _, M := range []int{250, 1000, 4000, 16000} {
				var ks []string
				for _, k := range kindOrder {
					if k == "mc4" && M > 4000 {
						continue // MC-4 at M is compared with F/c* at 4M
					}
					if !have[fmt.Sprintf("%s/%d/%d/%s", net, seed, M, k)] {
						ks = append(ks, kindLabel[k])
					}
				}
				if len(ks) > 0 {
					missing = append(missing, fmt.Sprintf("%s seed %d M=%d: %s", netLabel[net], seed, M, strings.Join(ks, ", ")))
				}
			}
		}
	}
	p("\nNot run (of networks x seeds 1–3 x M x kinds; MC-4 only up to M = 4000, where F from 4M images is in the grid): ")
	if len(missing) == 0 {
		p("nothing.\n")
	} else {
		p("\n\n")
		for _, m := range missing {
			p("- %s\n", m)
		}
	}
	p("\nTimings (from /usr/bin/time -v; the machine was shared with other jobs, its load\n")
	p("average between 2.5 and 13 on two cores while these ran, so the wall times are\n")
	p("inflated; one lane, GOMAXPROCS=1, OPENBLAS_NUM_THREADS=1, the openblas build):\n\n| step | wall | CPU (user+sys) | peak RSS |\n|---|---|---|---|\n")
	files, _ := filepath.Glob(filepath.Join(dir, "time-*.txt"))
	sort.Strings(files)
	for _, f := range files {
		wall, cpu, rss := timeOf(f)
		if wall == "" {
			continue // still running when the report was made
		}
		p("| %s | %s | %.0f s | %.0f MB |\n", strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "time-"), ".txt"), wall, cpu, rss/1024)
	}
	if cmds, err := os.ReadFile(filepath.Join(dir, "commands.txt")); err == nil {
		p("\nThe commands as run (in this order, one lane at a time):\n\n```sh\n%s```\n", cmds)
	}
	p("\nRerun: `scripts/regime.sh DIR` (see its header; its defaults are the whole map),\nthen `go run ./scripts/regime/report -dir DIR -out docs`.\n")
}

func timeOf(path string) (wall string, cpu, rssKB float64) {
	data, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			continue
		}
		switch {
		case strings.HasPrefix(k, "User time"), strings.HasPrefix(k, "System time"):
			cpu += num(v)
		case strings.HasPrefix(k, "Elapsed"):
			wall = v
		case strings.HasPrefix(k, "Maximum resident"):
			rssKB = num(v)
		}
	}
	return wall, cpu, rssKB
}

// salResult is one obs saliency run: network, kind, evaluation set and
// the scores.
type salResult struct {
	net, kind, on     string
	spearman, calibLo float64
	candidates        int
	pearson, negFrac  float64
}

// saliencyResults reads DIR's saliency runs.
func saliencyResults(dir string) []salResult {
	var out []salResult
	for _, r := range readSaliency(dir) {
		if r.spearman == nil {
			continue
		}
		pe := math.NaN()
		if r.pearson != nil {
			pe = *r.pearson
		}
		on := "held-apart training images"
		if r.evalSet == "calibration" {
			on = "the calibration images"
		}
		out = append(out, salResult{r.net, r.kind, on, *r.spearman, r.medLog, r.candidates, pe, r.negFrac})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.net != b.net {
			return netRank(a.net) < netRank(b.net)
		}
		if a.on != b.on {
			return a.on > b.on
		}
		return slices.Index(kindOrder, a.kind) < slices.Index(kindOrder, b.kind)
	})
	return out
}

// saliencyFinding is the bullet on predicted against actual: per network
// and evaluation set, the best-ranking kind, and whether any kind ranks
// the single deletions at all (Spearman >= 0.3).
func saliencyFinding(dir string) string {
	rs := saliencyResults(dir)
	if len(rs) == 0 {
		return ""
	}
	type grp struct{ net, on string }
	var order []grp
	by := map[grp][]salResult{}
	for _, r := range rs {
		g := grp{r.net, r.on}
		if _, ok := by[g]; !ok {
			order = append(order, g)
		}
		by[g] = append(by[g], r)
	}
	var parts []string
	negMax := 0.0
	for _, g := range order {
		best := by[g][0]
		var all []string
		for _, r := range by[g] {
			if r.spearman > best.spearman {
				best = r
			}
			all = append(all, fmt.Sprintf("%s %.2f (Pearson %.2f)", kindLabel[r.kind], r.spearman, r.pearson))
			negMax = max(negMax, r.negFrac)
		}
		verdict := fmt.Sprintf("%s ranks best", kindLabel[best.kind])
		if best.spearman < 0.3 {
			verdict = "no kind ranks them (every Spearman below 0.3)"
		}
		parts = append(parts, fmt.Sprintf("%s, %d deletions, E on %s: %s (%s)", g.net, best.candidates, g.on, verdict, strings.Join(all, ", ")))
	}
	s := "**Predicted against actual single deletions** (sampled uniformly, seed 1, M = 1000, Spearman of predicted against actual): " + strings.Join(parts, "; ") + "."
	if negMax > 0.1 {
		s += fmt.Sprintf(" Up to %.0f%% of the actual increases are negative, which a quadratic model about a minimum cannot give: at these weights (trained by Adam, not to a minimum of E on these images) the first-order term decides many single deletions (every negative one), and the ranks measure it as much as the curvature.", 100*negMax)
	}
	return s
}
