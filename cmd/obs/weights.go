package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/obs-toolkit/obs/datasets"
	"github.com/obs-toolkit/obs/internal/atomicfile"
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

Tensors follow PyTorch's naming: P.weight (out x in) and P.bias (out) for
each linear layer P. The layers of an nn.Sequential ("0", "2", ... or
"net.0", "net.2", ...) are taken in the order of their indices; named
modules (self.hidden, self.classifier) need --names, their order. float32 and float64 are read;
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
			&cli.StringFlag{Name: "arch", Usage: "an MLP's layer sizes, input first, like `4-16-3` (with --act; or --input and --layers)"},
			inputFlag(), layersFlag(),
			&cli.StringFlag{Name: "names", Usage: "the tensor `PREFIXES` of the parameterised layers in order, comma-separated: with --arch the linear layers input side first (like hidden,classifier; needed unless they are numbered nn.Sequential modules), with --layers its linear, conv and bn items (like features.0,features.1,classifier; default: each item's index in the list, nn.Sequential numbering)"},
			&cli.Float64Flag{Name: "bn-eps", Value: datasets.DefaultBNEps, Usage: "with --layers: the eps of every BatchNorm (a state_dict does not hold it)"},
			&cli.StringFlag{Name: "act", Usage: "hidden activation: " + model.HiddenActivations + " (nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU(), nn.GELU(), nn.GELU(approximate=\"tanh\"), nn.SiLU)"},
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
	Folded   int      `json:"batchnorms_folded,omitempty"`
}

func runImport(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef("import takes no arguments")
	}
	layered := c.IsSet("layers") || c.IsSet("input")
	if !layered && (!c.IsSet("arch") || !c.IsSet("act")) {
		return usagef("give the network by --arch and --act (an MLP) or by --input and --layers")
	}
	if layered && !c.IsSet("input") {
		return usagef("--layers needs --input (CxHxW or N): the weight file does not say the input's shape")
	}
	if !layered {
		if err := refuse(c, []string{"bn-eps"}, "applies to --layers, not to --arch"); err != nil {
			return err
		}
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
	var names []string
	if c.IsSet("names") {
		for _, n := range strings.Split(c.String("names"), ",") {
			names = append(names, strings.TrimSpace(n))
		}
	}
	var imp *datasets.Imported
	if layered {
		if imp, err = datasets.ImportLayers(spec, names, ts, from, c.Float64("bn-eps")); err != nil {
			return err
		}
		if imp.Folded > 0 {
			info(c, "folded %d BatchNorm layers (eval mode, eps %g) into the layers before them\n", imp.Folded, c.Float64("bn-eps"))
		}
		spec = imp.Net.Spec
	} else {
		if err := spec.Validate(); err != nil {
			return usageError{err}
		}
		if imp, err = datasets.ImportMLP(spec, ts, &datasets.ImportOptions{Source: from, Layers: names}); err != nil {
			return err
		}
	}
	var classes []string
	if cl := c.String("classes"); cl != "" {
		for _, s := range strings.Split(cl, ",") {
			classes = append(classes, strings.TrimSpace(s))
		}
	}
	m, file := imp.Net, stamp(imp.File("obs "+strings.Join(os.Args[1:], " "), from, raw, classes))
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
	info(c, "wrote %s (%s, %d parameters, %d pruned) from %s\n", out, spec.Describe(), len(m.Params), len(m.Params)-m.NumFree(), from)
	return emit(c, importSummary{From: from, Format: format, Dtype: file.Provenance.ImportDtype, SHA256: file.Provenance.ImportSHA256, Out: out,
		Arch: spec.Describe(), Folded: imp.Folded, Loss: spec.Loss.String(), Params: len(m.Params), Pruned: len(m.Params) - m.NumFree(),
		Layers: imp.Layers, Standard: imp.Standardize != nil})
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
	if m.Layered() && file.Standardize != nil && !c.Bool("no-fold") {
		return usagef("model %s is standardised and given by its layers: a per-input standardisation does not fold into a conv layer; use --no-fold", c.String("model"))
	}
	ts, how, err := datasets.Export(m, file.LayerNames, file.Standardize, !c.Bool("no-fold"), c.Bool("masks"))
	if err != nil {
		return err
	}
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
