package main

import (
	"crypto/sha256"
	"fmt"
	"github.com/obs-toolkit/obs/internal/atomicfile"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/model"
)

func init() {
	register(80, importCommand)
	register(81, exportCommand)
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "read the weights of a PyTorch or NumPy MLP into a model file",
		ArgsUsage: " ",
		Description: `Reads the weights of a multilayer perceptron saved from PyTorch or NumPy and
writes an obs model file:

  .npz          numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})
  .safetensors  safetensors.torch.save_file(model.state_dict(), path)

Tensors follow nn.Sequential naming: P.weight (out x in) and P.bias (out) for
each linear layer, the layers in the order of their prefixes P ("0", "2", ...
compared part by part, numbers as numbers). float32 and float64 are read;
obs computes in float64. Shapes must match --arch; every tensor must be used:
a name obs does not read is an error, not silently dropped. Masks in the
convention of torch.nn.utils.prune (P.weight_mask with P.weight_orig, or with
P.weight) mark pruned weights; input_mean and input_std (as obs export
--no-fold writes them) become the model's standardisation. The model file
records the file's path, format, element type and SHA-256.

Example:
  obs import --from mlp.safetensors --arch 4-16-3 --act tanh --loss ce --out mlp.json`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "from", Required: true, Usage: "weight `FILE` (.npz or .safetensors)"},
			&cli.StringFlag{Name: "arch", Required: true, Usage: "layer sizes, input first, like `4-16-3`"},
			&cli.StringFlag{Name: "act", Required: true, Usage: "hidden activation: " + model.HiddenActivations + " (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU(), nn.GELU(), nn.GELU(approximate=\"tanh\"), nn.SiLU)"},
			&cli.StringFlag{Name: "loss", Required: true, Usage: "loss: mse, bce (sigmoid + binary cross-entropy, BCEWithLogitsLoss) or ce (softmax + cross-entropy, CrossEntropyLoss)"},
			&cli.StringFlag{Name: "out-act", Usage: "output activation for mse: sigmoid, identity or tanh (default sigmoid)"},
			&cli.Float64Flag{Name: "decay", Usage: "L2 weight decay lambda of E (the weight_decay the network was trained with, if any)"},
			&cli.StringFlag{Name: "classes", Usage: "comma-separated class `NAMES` of a classifier, in output order"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "model `FILE` to write (JSON)"},
		},
		Action: runImport,
	}
}

type importSummary struct {
	From     string   `json:"from"`
	Format   string   `json:"format"`
	Dtype    string   `json:"dtype"`
	SHA256   string   `json:"sha256"`
	Out      string   `json:"out"`
	Arch     string   `json:"arch"`
	Loss     string   `json:"loss"`
	Params   int      `json:"params"`
	Pruned   int      `json:"pruned"`
	Layers   []string `json:"layers"`
	Standard bool     `json:"standardized"`
}

// splitName splits a tensor name into its layer prefix and its field
// ("weight", "bias", "weight_mask", ...).
func splitName(name string) (prefix, field string) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// comparePrefixes orders layer prefixes part by part, numbers as numbers.
func comparePrefixes(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, ex := strconv.Atoi(pa[i])
		y, ey := strconv.Atoi(pb[i])
		switch {
		case ex == nil && ey == nil && x != y:
			if x < y {
				return -1
			}
			return 1
		case ex != nil || ey != nil:
			if c := strings.Compare(pa[i], pb[i]); c != 0 {
				return c
			}
		}
	}
	return len(pa) - len(pb)
}

func runImport(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("import takes no arguments")
	}
	spec, err := specFromFlags(c, nil)
	if err != nil {
		return err
	}
	from, out := c.String("from"), c.String("out")
	format, err := datasets.WeightFormat(from)
	if err != nil {
		return usageError{err}
	}
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	raw, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("weight file %s: %v", from, err)
	}
	ts, err := datasets.ReadWeights(from)
	if err != nil {
		return err
	}
	m, err := model.New(spec)
	if err != nil {
		return usageError{err}
	}
	byName := map[string]datasets.Tensor{}
	used := map[string]bool{}
	prefixes := map[string]bool{}
	dtypes := map[string]bool{}
	for _, t := range ts {
		byName[t.Name] = t
		dtypes[t.Dtype] = true
		p, f := splitName(t.Name)
		if f == "weight" || f == "weight_orig" {
			prefixes[p] = true
		}
	}
	var layers []string
	for p := range prefixes {
		layers = append(layers, p)
	}
	slices.SortFunc(layers, comparePrefixes)
	L := len(spec.Sizes) - 1
	if len(layers) != L {
		return fmt.Errorf("%s holds %d linear layers %q but --arch %s has %d", from, len(layers), layers, model.Arch(spec.Sizes), L)
	}
	// get returns the tensor prefix.field (or prefix.field_orig) times its
	// mask, and the mask.
	get := func(prefix, field string, shape []int) (vals []float64, pruned []bool, err error) {
		name := prefix + "." + field
		t, ok := byName[name]
		if !ok {
			name += "_orig"
			if t, ok = byName[name]; !ok {
				return nil, nil, fmt.Errorf("%s has no tensor %q for layer %s", from, prefix+"."+field, prefix)
			}
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, nil, fmt.Errorf("tensor %q has shape %v but --arch %s needs %v", name, t.Shape, model.Arch(spec.Sizes), shape)
		}
		used[name] = true
		vals = append([]float64(nil), t.Data...)
		pruned = make([]bool, len(vals))
		if mk, ok := byName[prefix+"."+field+"_mask"]; ok {
			used[mk.Name] = true
			if !slices.Equal(mk.Shape, shape) {
				return nil, nil, fmt.Errorf("mask %q has shape %v, want %v", mk.Name, mk.Shape, shape)
			}
			for i, v := range mk.Data {
				switch v {
				case 0:
					vals[i], pruned[i] = 0, true
				case 1:
				default:
					return nil, nil, fmt.Errorf("mask %q element %d is %v, want 0 or 1", mk.Name, i, v)
				}
			}
		} else if strings.HasSuffix(name, "_orig") {
			return nil, nil, fmt.Errorf("%s has %q but no %q", from, name, prefix+"."+field+"_mask")
		}
		return vals, pruned, nil
	}
	for l := 1; l <= L; l++ {
		in, outN := spec.Sizes[l-1], spec.Sizes[l]
		w, wp, err := get(layers[l-1], "weight", []int{outN, in})
		if err != nil {
			return err
		}
		b, bp, err := get(layers[l-1], "bias", []int{outN})
		if err != nil {
			return err
		}
		for j := range outN {
			for i := range in {
				q := m.Index(l, j, i)
				m.Params[q], m.Pruned[q] = w[j*in+i], wp[j*in+i]
			}
			q := m.Index(l, j, in)
			m.Params[q], m.Pruned[q] = b[j], bp[j]
		}
	}
	var std *model.Standardization
	mean, hasMean := byName["input_mean"]
	sd, hasStd := byName["input_std"]
	if hasMean || hasStd {
		if !hasMean || !hasStd || !slices.Equal(mean.Shape, []int{spec.Sizes[0]}) || !slices.Equal(sd.Shape, []int{spec.Sizes[0]}) {
			return fmt.Errorf("%s: input_mean and input_std must both be present with shape [%d]", from, spec.Sizes[0])
		}
		used["input_mean"], used["input_std"] = true, true
		std = &model.Standardization{Mean: mean.Data, Std: sd.Data}
	}
	for _, t := range ts {
		if !used[t.Name] {
			return fmt.Errorf("tensor %q in %s is not used by a %s network (obs reads P.weight, P.bias, their _mask/_orig, input_mean, input_std for layers %q)",
				t.Name, from, model.Arch(spec.Sizes), layers)
		}
	}
	if err := m.Check(); err != nil {
		return err
	}
	var dts []string
	for d := range dtypes {
		dts = append(dts, d)
	}
	slices.Sort(dts)
	sum := fmt.Sprintf("%x", sha256.Sum256(raw))
	prov := model.Provenance{Command: "obs " + strings.Join(os.Args[1:], " "), ImportedFrom: from, ImportFormat: format,
		ImportDtype: strings.Join(dts, ","), ImportSHA256: sum}
	file := m.ToFile(prov, nil)
	file.LayerNames, file.Standardize = layers, std
	if cl := c.String("classes"); cl != "" {
		for _, s := range strings.Split(cl, ",") {
			file.Classes = append(file.Classes, strings.TrimSpace(s))
		}
	}
	// Validate the whole file as a later command will read it.
	var buf strings.Builder
	if err := file.Encode(&buf); err != nil {
		return err
	}
	if _, _, err := model.ParseFile([]byte(buf.String()), out); err != nil {
		return usageError{err}
	}
	if err := file.Save(out); err != nil {
		return err
	}
	info(c, "wrote %s (%s, %d parameters, %d pruned) from %s\n", out, model.Arch(spec.Sizes), len(m.Params), len(m.Params)-m.NumFree(), from)
	return emit(c, importSummary{From: from, Format: format, Dtype: strings.Join(dts, ","), SHA256: sum, Out: out,
		Arch: model.Arch(spec.Sizes), Loss: spec.Loss.String(), Params: len(m.Params), Pruned: len(m.Params) - m.NumFree(),
		Layers: layers, Standard: std != nil})
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a model's (pruned) weights for PyTorch or NumPy",
		ArgsUsage: " ",
		Description: `Writes the weights of a model file as .npz or .safetensors under
nn.Sequential names (P.weight, out x in, and P.bias; P as obs import read them,
else "0", "2", "4", ...), ready for model.load_state_dict, and, for a pruned
model, the masks P.weight_mask and P.bias_mask (1 kept, 0 pruned) in the
convention of torch.nn.utils.prune, so that the sparsity is kept while
fine-tuning: apply torch.nn.utils.prune.custom_from_mask with them (or load
them after prune.identity as P.weight_orig / P.weight_mask). Without masks in
the state dict, drop the *_mask entries or pass --masks=false.

A model trained with --standardize takes standardised inputs. By default the
standardisation is folded into the first layer (W' = W / std, b' = b - W' mean),
so the exported network takes raw inputs; --no-fold writes the weights
unchanged and stores the statistics as tensors input_mean and input_std
(remove them before load_state_dict). The summary says which was done.

Example:
  obs export --model pruned.json --format safetensors --out pruned.safetensors`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Required: true, Usage: "model `FILE`"},
			&cli.StringFlag{Name: "format", Usage: "npz or safetensors (default: from the --out extension)"},
			&cli.StringFlag{Name: "dtype", Value: "float64", Usage: "element type written: float64 or float32"},
			&cli.BoolFlag{Name: "masks", Value: true, Usage: "write P.weight_mask and P.bias_mask for a pruned model (--masks=false: never)"},
			&cli.BoolFlag{Name: "no-fold", Usage: "do not fold the model's standardisation into the first layer; store input_mean and input_std instead"},
			&cli.StringFlag{Name: "out", Required: true, Usage: "weight `FILE` to write"},
		},
		Action: runExport,
	}
}

type exportSummary struct {
	Model           string   `json:"model"`
	Out             string   `json:"out"`
	Format          string   `json:"format"`
	Dtype           string   `json:"dtype"`
	Tensors         []string `json:"tensors"`
	Masks           bool     `json:"masks"`
	Pruned          int      `json:"pruned"`
	Standardization string   `json:"standardization"`
}

func runExport(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("export takes no arguments")
	}
	out := c.String("out")
	format := c.String("format")
	if format == "" {
		f, err := datasets.WeightFormat(out)
		if err != nil {
			return usagef("--format not given and %v", strings.TrimPrefix(err.Error(), "datasets: "))
		}
		format = f
	}
	if format != datasets.FormatNPZ && format != datasets.FormatSafetensors {
		return usagef("--format %q, want npz or safetensors", format)
	}
	dtype := c.String("dtype")
	if dtype != "float64" && dtype != "float32" {
		return usagef("--dtype %q, want float64 or float32", dtype)
	}
	if err := checkOutputs(c, atomicfile.File{Flag: "--out", Path: out}); err != nil {
		return err
	}
	if f, _ := datasets.WeightFormat(out); f != format {
		// A file's name says its format: obs import, numpy and
		// safetensors read it by its extension.
		return usagef("--format %s but --out %s does not end in .%s", format, out, format)
	}
	m, file, err := model.Load(c.String("model"))
	if err != nil {
		return err
	}
	ts, how := exportTensors(m, file, !c.Bool("no-fold"), c.Bool("masks"))
	meta := map[string]string{"format": "pt", "obs_model": c.String("model"), "obs_standardization": how}
	if err := datasets.WriteWeights(out, format, ts, dtype == "float32", meta); err != nil {
		return err
	}
	s := exportSummary{Model: c.String("model"), Out: out, Format: format, Dtype: dtype, Pruned: len(m.Params) - m.NumFree(), Standardization: how}
	for _, t := range ts {
		s.Tensors = append(s.Tensors, t.Name)
		if strings.HasSuffix(t.Name, "_mask") {
			s.Masks = true
		}
	}
	info(c, "wrote %s (%s, %s, %d tensors); standardisation: %s\n", out, format, dtype, len(ts), how)
	return emit(c, s)
}

// exportTensors returns the tensors of m in nn.Sequential naming and says
// what was done with the model's standardisation.
func exportTensors(m *model.MLP, file *model.File, fold, masks bool) ([]datasets.Tensor, string) {
	L := len(m.Sizes) - 1
	prefix := func(l int) string {
		if len(file.LayerNames) == L {
			return file.LayerNames[l-1]
		}
		return strconv.Itoa(2 * (l - 1))
	}
	pruned := m.NumFree() < len(m.Params)
	std := file.Standardize
	unpruned := 0 // pruned first-layer biases that folding makes non-zero
	how := "none (the model takes its inputs as they are)"
	var ts []datasets.Tensor
	for l := 1; l <= L; l++ {
		in, outN := m.Sizes[l-1], m.Sizes[l]
		w := make([]float64, outN*in)
		b := make([]float64, outN)
		wm := make([]float64, outN*in)
		bm := make([]float64, outN)
		for j := range outN {
			for i := range in {
				q := m.Index(l, j, i)
				w[j*in+i] = m.Params[q]
				if !m.Pruned[q] {
					wm[j*in+i] = 1
				}
			}
			q := m.Index(l, j, in)
			b[j] = m.Params[q]
			if !m.Pruned[q] {
				bm[j] = 1
			}
		}
		if l == 1 && std != nil && fold {
			// z = W (x - mean)/std + b = (W/std) x + (b - (W/std) mean).
			for j := range outN {
				for i := range in {
					w[j*in+i] /= std.Std[i]
					b[j] -= w[j*in+i] * std.Mean[i]
				}
				if bm[j] == 0 && b[j] != 0 {
					bm[j] = 1
					unpruned++
				}
			}
		}
		p := prefix(l)
		ts = append(ts, datasets.Tensor{Name: p + ".weight", Shape: []int{outN, in}, Data: w},
			datasets.Tensor{Name: p + ".bias", Shape: []int{outN}, Data: b})
		if pruned && masks {
			ts = append(ts, datasets.Tensor{Name: p + ".weight_mask", Shape: []int{outN, in}, Data: wm},
				datasets.Tensor{Name: p + ".bias_mask", Shape: []int{outN}, Data: bm})
		}
	}
	if std != nil {
		p := prefix(1)
		if fold {
			how = fmt.Sprintf("folded into %s.weight and %s.bias (the exported network takes raw inputs)", p, p)
			if unpruned > 0 {
				how += fmt.Sprintf("; %d pruned biases of the first layer become non-zero by folding and are kept", unpruned)
			}
		} else {
			how = "stored as input_mean and input_std, not folded (standardise inputs as (x - input_mean) / input_std)"
			n := m.Sizes[0]
			ts = append(ts, datasets.Tensor{Name: "input_mean", Shape: []int{n}, Data: std.Mean},
				datasets.Tensor{Name: "input_std", Shape: []int{n}, Data: std.Std})
		}
	}
	return ts, how
}
