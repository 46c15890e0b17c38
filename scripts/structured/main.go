// Command structured runs the MNIST experiment of docs/structured.md: an
// MLP trained with Adam on a subset of MNIST, then pruned by hidden units
// (prune.Granularity ByUnit, per-layer allocation, one shot) to half and a
// quarter of its units by OBS (GGN and empirical Fisher, block-diagonal
// inverse), group OBD (the GGN diagonal) and L2-norm magnitude, compacted
// and measured (test accuracy, multiply–adds, inference time) before and
// after a short fine-tune; and pruned to 2:4 by OBS against magnitude 2:4.
// One CSV row per (seed, method, target) on stdout, progress on stderr.
//
//	go run ./scripts/structured -seeds 3 > docs/structured-runs.csv
//
// (-first S -seeds 1 runs seed S alone, so seeds can run as separate
// processes; the rows of the dense model are written with the others.)
//
// With -model FILE it prunes a model trained by obs train instead (seed
// -first as its label; calibration and fine-tuning from the first
// patterns of all 60,000 training images), and with -granularity filter
// it removes a CNN's filters (methods obs-ggn, obs-ef, obd, magnitude,
// each filter's weights and bias its group); scripts/structured.sh runs
// the tables of docs/structured.md this way.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/internal/resources"
	"github.com/obs-toolkit/obs/model"
	"github.com/obs-toolkit/obs/prune"
)

func main() {
	arch := flag.String("arch", "784-100-50-10", "network")
	nTrain := flag.Int("train", 10000, "training images (the first N of MNIST's training set)")
	epochs := flag.Int("epochs", 8, "Adam epochs (lr 1e-3, batch 128)")
	seeds := flag.Int("seeds", 3, "number of seeds (initial weights and shuffling)")
	first := flag.Int("first", 1, "first seed")
	calib := flag.Int("calib", 500, "calibration patterns of the curvature (the first N of the training subset)")
	block := flag.Int("block", 128, "block size of OBS's block-diagonal inverse")
	alpha := flag.Float64("alpha", 1e-4, "OBS damping")
	ftEpochs := flag.Int("ft-epochs", 1, "fine-tuning epochs after pruning (Adam, lr 5e-4) on -ft-patterns")
	only := flag.String("methods", "", "comma-separated methods to run (default all): obs-ggn, obs-ef, obd, magnitude, the same with -out (a unit's outgoing weights as its group), lobs-unit, nm (2:4 by obs-ggn and magnitude), nm-obs, nm-magnitude, nm-lobs (layer-wise 2:4)")
	ftPatterns := flag.Int("ft-patterns", 5000, "fine-tuning patterns (the first N of the training subset)")
	targetList := flag.String("targets", "0.5,0.75", "comma-separated fractions of the units of every hidden layer to remove, ascending")
	timeArchs := flag.String("time-archs", "", "only time the forward pass of networks of these comma-separated shapes (random weights) and exit")
	modelFile := flag.String("model", "", "prune this model file (obs train's) instead of training one; -first labels its seed; -train, -epochs and -seeds do not apply")
	granularity := flag.String("granularity", "unit", "unit, or filter (a CNN's filters, with -model)")
	ftLR := flag.Float64("ft-lr", 5e-4, "fine-tuning learning rate (Adam, batch 128)")
	saveDir := flag.String("save", "", "write every compacted network (one shot) to this directory as SEED-METHOD-TARGET.json, for obs eval and scripts/bench_infer.py")
	flag.Parse()
	filters := *granularity == "filter"
	if *granularity != "unit" && (!filters || *modelFile == "") {
		log.Fatalf("-granularity %q: want unit, or filter with -model", *granularity)
	}
	want := func(name string) bool {
		if *only == "" {
			return true
		}
		return slices.Contains(strings.Split(*only, ","), name)
	}
	var sizes []int
	var loaded *model.MLP
	var err error
	if *modelFile != "" {
		if loaded, _, err = model.Load(*modelFile); err != nil {
			log.Fatal(err)
		}
		*seeds, *nTrain = 1, 60000
	} else if sizes, err = model.ParseArch(*arch); err != nil {
		log.Fatal(err)
	}
	train, test, err := datasets.MNIST()
	if err != nil {
		log.Fatal(err)
	}
	if *timeArchs != "" {
		timeOnly(*timeArchs, test.Inputs[:1000], test.Targets[:1000])
		return
	}
	X, T := train.Inputs[:*nTrain], train.Targets[:*nTrain]
	w := csv.NewWriter(os.Stdout)
	w.Write([]string{"seed", "method", "granularity", "target", "arch", "multiply_adds", "nonzero_multiply_adds", "params", "test_accuracy", "test_accuracy_ft", "infer_us_per_pattern", "prune_seconds", "calib", "alpha", "allocation"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	row := func(seed int, method, gran, target string, m *model.MLP, acc, accFT, secs float64, alloc, alpha string) {
		d, nz := prune.MultiplyAdds(m)
		arch := m.Describe()
		if !m.Layered() {
			arch = model.Arch(m.Sizes)
		}
		w.Write([]string{strconv.Itoa(seed), method, gran, target, arch, strconv.Itoa(d), strconv.Itoa(nz), strconv.Itoa(m.NumFree()),
			f(acc), f(accFT), f(inferMicros(m, test.Inputs[:1000], test.Targets[:1000])), f(secs), strconv.Itoa(*calib), alpha, alloc})
		w.Flush()
	}
	finetune := func(m *model.MLP, seed int) float64 {
		c := m.Clone()
		n := min(*ftPatterns, len(X))
		if _, err := model.TrainMiniBatch(c, X[:n], T[:n], &model.MiniBatchSettings{Epochs: *ftEpochs, LearningRate: *ftLR, Seed: uint64(seed)}); err != nil {
			log.Fatal(err)
		}
		_, acc := c.Evaluate(test.Inputs, test.Targets)
		return acc
	}
	cal := prune.FirstN(X, T, *calib)
	for seed := *first; seed < *first+*seeds; seed++ {
		m := loaded
		if m == nil {
			if m, err = model.New(model.Spec{Sizes: sizes, Hidden: model.ReLU, Loss: model.CrossEntropy}); err != nil {
				log.Fatal(err)
			}
			m.Init(rand.New(rand.NewPCG(uint64(seed), 0x6f6273)))
			start := time.Now()
			if _, err := model.TrainMiniBatch(m, X, T, &model.MiniBatchSettings{Epochs: *epochs, Seed: uint64(seed)}); err != nil {
				log.Fatal(err)
			}
			log.Printf("seed %d: trained %s in %s", seed, *arch, time.Since(start).Round(time.Second))
		}
		_, acc := m.Evaluate(test.Inputs, test.Targets)
		log.Printf("seed %d: %s, test accuracy %.4f", seed, m.Describe(), acc)
		row(seed, "dense", "-", "-", m, acc, acc, 0, "-", "-")
		obs := func(k hessian.Kind) prune.Pruner {
			return prune.OBSPruner{Curvature: prune.Terms{Curvature: k}, Alpha: *alpha, Structure: prune.Blocks{Size: *block}}
		}
		methods := []struct {
			key, name string
			p         prune.Pruner
		}{
			// Cheapest first, so that a run cut short has the most rows.
			{"magnitude-out", "magnitude-l2 (outgoing)", prune.MagnitudePruner{}},
			{"magnitude", "magnitude-l2", prune.MagnitudePruner{}},
			{"obd-out", "obd-ggn (group sum, outgoing)", prune.OBDPruner{Curvature: prune.GGNDiagonal{}}},
			{"obd", "obd-ggn (group sum)", prune.OBDPruner{Curvature: prune.GGNDiagonal{}}},
			{"lobs-unit", "lobs-unit (layer-wise, outgoing)", prune.LayerUnitOBSPruner{}},
			{"obs-ef-out", fmt.Sprintf("obs-ef-block%d (outgoing)", *block), obs(hessian.EmpiricalFisher)},
			{"obs-ef", fmt.Sprintf("obs-ef-block%d", *block), obs(hessian.EmpiricalFisher)},
			{"obs-ggn-out", fmt.Sprintf("obs-ggn-block%d (outgoing)", *block), obs(hessian.GGN)},
			{"obs-ggn", fmt.Sprintf("obs-ggn-block%d", *block), obs(hessian.GGN)},
		}
		alphaOf := func(key string) string {
			switch {
			case strings.HasPrefix(key, "obs"):
				return f(*alpha)
			case strings.HasPrefix(key, "lobs"):
				return fmt.Sprintf("%g relative", prune.DefaultLayerDamp)
			}
			return "-"
		}
		var targets []float64
		for _, t := range strings.Split(*targetList, ",") {
			v, err := strconv.ParseFloat(t, 64)
			if err != nil {
				log.Fatal(err)
			}
			targets = append(targets, v)
		}
		for _, mt := range methods {
			if !want(mt.key) || *targetList == "" {
				continue
			}
			if filters && (mt.key == "lobs-unit" || strings.HasSuffix(mt.key, "-out")) {
				log.Fatalf("-granularity filter: %s does not apply (a filter's group is its weights and bias)", mt.key)
			}
			net := m.Clone()
			start := time.Now()
			g, gname, what := prune.Granularity{Kind: prune.ByUnit, Outgoing: mt.key == "lobs-unit" || strings.HasSuffix(mt.key, "-out")}, "unit", "units"
			if filters {
				g, gname, what = prune.Granularity{Kind: prune.ByFilter}, "filter", "filters"
			}
			plan := &prune.Plan{Method: mt.p, Calib: cal, Granularity: g, PerLayer: true,
				Target: prune.Target{Sparsity: targets[len(targets)-1]}}
			for _, s := range targets {
				plan.Checkpoints = append(plan.Checkpoints, prune.Target{Sparsity: s})
			}
			plan.Checkpoint = func(i int) error {
				secs := time.Since(start).Seconds()
				small, _ := prune.Compact(net)
				if *saveDir != "" {
					name := fmt.Sprintf("%d-%s-%g.json", seed, strings.NewReplacer(" ", "", "(", "", ")", "", ",", "").Replace(mt.name), targets[i])
					if err := small.ToFile(model.Provenance{}, nil).Save(filepath.Join(*saveDir, name)); err != nil {
						log.Fatal(err)
					}
				}
				_, acc := small.Evaluate(test.Inputs, test.Targets)
				row(seed, mt.name, gname, fmt.Sprintf("%g of the %s", targets[i], what), small, acc, finetune(small, seed), secs, "per-layer", alphaOf(mt.key))
				log.Printf("seed %d %s: %g of the %s -> %s, test accuracy %.4f (%.0f s)", seed, mt.name, targets[i], what, small.Describe(), acc, secs)
				return nil
			}
			if _, err := prune.Prune(context.Background(), net, cal.X, cal.T, plan); err != nil {
				log.Fatalf("seed %d %s: %v", seed, mt.name, err)
			}
		}
		nm := []struct {
			key, name string
			p         prune.Pruner
		}{
			{"nm-magnitude", "magnitude-l2", prune.MagnitudePruner{}},
			{"nm-lobs", "lobs (layer-wise)", prune.LayerOBSPruner{}},
			{"nm-obs", fmt.Sprintf("obs-ggn-block%d", *block), obs(hessian.GGN)},
		}
		for _, mt := range nm {
			// nm runs nm-magnitude and nm-obs.
			if !want(mt.key) && (!want("nm") || mt.key == "nm-lobs") {
				continue
			}
			net := m.Clone()
			start := time.Now()
			if _, err := prune.Prune(context.Background(), net, cal.X, cal.T, &prune.Plan{Method: mt.p, Calib: cal, Granularity: prune.Granularity{Kind: prune.ByNM, N: 2, M: 4}}); err != nil {
				log.Fatalf("seed %d %s 2:4: %v", seed, mt.name, err)
			}
			secs := time.Since(start).Seconds()
			_, acc := net.Evaluate(test.Inputs, test.Targets)
			alpha := "-"
			if mt.key == "nm-lobs" {
				alpha = alphaOf("lobs")
			} else if strings.HasPrefix(mt.name, "obs") {
				alpha = alphaOf("obs")
			}
			row(seed, mt.name, "2:4", "2 of every 4", net, acc, finetune(net, seed), secs, "-", alpha)
			log.Printf("seed %d %s 2:4: test accuracy %.4f (%.0f s)", seed, mt.name, acc, secs)
		}
	}
}

// inferMicros is the best of 3 batched forward passes over X, in
// microseconds per pattern.
func inferMicros(m *model.MLP, X, T [][]float64) float64 {
	best := time.Hour
	for range 3 {
		t0 := time.Now()
		m.Evaluate(X, T)
		best = min(best, time.Since(t0))
	}
	return best.Seconds() * 1e6 / float64(len(X))
}

// timeOnly prints the wall and process CPU time per pattern of a batched
// forward pass (model.MLP.Evaluate) of networks of the given shapes with
// random weights, the best of 20 passes over X; the speed-up is of the CPU
// time, which a loaded machine distorts less than the wall time.
func timeOnly(archs string, X, T [][]float64) {
	cpu := func() time.Duration {
		d, _ := resources.ProcessCPU() // 0 where it cannot be measured
		return d
	}
	var first float64
	fmt.Printf("%-16s %10s %12s %12s %9s\n", "arch", "mult-adds", "wall us/pat", "cpu us/pat", "speed-up")
	for _, a := range strings.Split(archs, ",") {
		sizes, err := model.ParseArch(a)
		if err != nil {
			log.Fatal(err)
		}
		m, err := model.New(model.Spec{Sizes: sizes, Hidden: model.ReLU, Loss: model.CrossEntropy})
		if err != nil {
			log.Fatal(err)
		}
		m.Init(rand.New(rand.NewPCG(1, 2)))
		wall, c := time.Hour, time.Hour
		for range 20 {
			t0, c0 := time.Now(), cpu()
			m.Evaluate(X, T)
			wall, c = min(wall, time.Since(t0)), min(c, cpu()-c0)
		}
		us := c.Seconds() * 1e6 / float64(len(X))
		if first == 0 {
			first = us
		}
		d, _ := prune.MultiplyAdds(m)
		fmt.Printf("%-16s %10d %12.3f %12.3f %8.2fx\n", a, d, wall.Seconds()*1e6/float64(len(X)), us, first/us)
	}
}
