package datasets

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/model"
)

// A PyTorch state dict of a multilayer perceptron (nn.Sequential of
// nn.Linear and element-wise activations) read as an obs network, and an
// obs network written back as one.

// Imported is a network read from a state dict by ImportMLP.
type Imported struct {
	// Net is the network, its pruned parameters those a mask marks.
	Net *model.MLP
	// Layers are the module prefixes of the linear layers, in order
	// ("0", "2", ... in an nn.Sequential).
	Layers []string
	// Standardize is the input standardisation stored as input_mean and
	// input_std, or nil.
	Standardize *model.Standardization
	// Dtypes are the element types of the tensors, sorted.
	Dtypes []string
	// Folded counts the BatchNorms folded into the layers before them
	// (ImportLayers).
	Folded int
}

// File returns imp as a model file: its network, layer names,
// standardisation and the class names classes (nil: none), with the
// provenance of an import by command of the weight file path, whose bytes
// are raw: the path, the format (by its extension), the element types and
// the SHA-256 of raw.
func (imp *Imported) File(command, path string, raw []byte, classes []string) *model.File {
	format, _ := WeightFormat(path)
	prov := model.Provenance{Command: command, ImportedFrom: path, ImportFormat: format,
		ImportDtype: strings.Join(imp.Dtypes, ","), ImportSHA256: fmt.Sprintf("%x", sha256.Sum256(raw))}
	f := imp.Net.ToFile(prov, nil)
	f.LayerNames, f.Standardize, f.Classes = imp.Layers, imp.Standardize, classes
	return f
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

// sequentialIndex returns the index of an nn.Sequential module prefix: its
// last part when that is a non-negative integer ("2", "net.4"), with the
// rest of the path.
func sequentialIndex(prefix string) (path string, index int, ok bool) {
	path, last := "", prefix
	if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
		path, last = prefix[:i], prefix[i+1:]
	}
	n, err := strconv.Atoi(last)
	if err != nil || n < 0 || strconv.Itoa(n) != last {
		return "", 0, false
	}
	return path, n, true
}

// ImportOptions are the settings of ImportMLP. A nil *ImportOptions is
// the zero value.
type ImportOptions struct {
	// Layers are the module prefixes of the linear layers, input side
	// first (P of P.weight). If nil, every prefix must be an index of one
	// nn.Sequential ("0", "2", ... or "net.0", "net.2", ...), and the
	// layers are taken in the order of their indices, which is the order
	// of the network; named modules ("hidden", "classifier") need Layers,
	// since a state dict's names do not say their order.
	Layers []string
	// Source names the weight file in errors.
	Source string
}

// layerOrder returns the linear layers' prefixes in the network's order.
func (o *ImportOptions) layerOrder(prefixes map[string]bool, L int, arch string) ([]string, error) {
	var found []string
	for p := range prefixes {
		found = append(found, p)
	}
	slices.Sort(found)
	if o.Layers != nil {
		for _, p := range o.Layers {
			if !prefixes[p] {
				return nil, fmt.Errorf("%s has no linear layer %q (no %q): its linear layers are %q", o.Source, p, p+".weight", found)
			}
		}
		for _, p := range found {
			if !slices.Contains(o.Layers, p) {
				return nil, fmt.Errorf("tensor %q in %s is a linear layer not among the layers given %q", p+".weight", o.Source, o.Layers)
			}
		}
		if len(o.Layers) != L {
			return nil, fmt.Errorf("%d layers given %q but --arch %s has %d", len(o.Layers), o.Layers, arch, L)
		}
		return append([]string(nil), o.Layers...), nil
	}
	var path string
	for i, p := range found {
		pp, _, ok := sequentialIndex(p)
		if !ok || (i > 0 && pp != path) {
			return nil, fmt.Errorf("%s: the linear layers %q are not the numbered modules of one nn.Sequential, so their order is not in their names: give it with --names (the prefixes, input side first)", o.Source, found)
		}
		path = pp
	}
	slices.SortFunc(found, func(a, b string) int {
		_, x, _ := sequentialIndex(a)
		_, y, _ := sequentialIndex(b)
		return x - y
	})
	if len(found) != L {
		return nil, fmt.Errorf("%s holds %d linear layers %q but --arch %s has %d", o.Source, len(found), found, arch, L)
	}
	return found, nil
}

// ImportMLP builds a network of spec from the tensors ts of a state dict.
// Tensors follow PyTorch's naming: P.weight (out x in) and P.bias (out) for
// each linear layer P, the layers in the order opts says. Each tensor's
// shape must be that of its layer in spec.Sizes, and every tensor must be
// used: a name obs does not read is an error naming it, not silently
// dropped. Masks in the convention of torch.nn.utils.prune (P.weight_mask
// with P.weight_orig, or with P.weight) mark pruned weights; input_mean and
// input_std become the standardisation.
func ImportMLP(spec model.Spec, ts []Tensor, opts *ImportOptions) (*Imported, error) {
	if opts == nil {
		opts = &ImportOptions{}
	}
	src := opts.Source
	if src == "" {
		src = "the state dict"
	}
	m, err := model.New(spec)
	if err != nil {
		return nil, err
	}
	byName := map[string]Tensor{}
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
	L := len(spec.Sizes) - 1
	o := *opts
	o.Source = src
	layers, err := o.layerOrder(prefixes, L, model.Arch(spec.Sizes))
	if err != nil {
		return nil, err
	}
	// get returns the tensor prefix.field (or prefix.field_orig) times its
	// mask, and the mask.
	get := func(prefix, field string, shape []int) (vals []float64, pruned []bool, err error) {
		name := prefix + "." + field
		t, ok := byName[name]
		if !ok {
			name += "_orig"
			if t, ok = byName[name]; !ok {
				return nil, nil, fmt.Errorf("%s has no tensor %q for layer %s", src, prefix+"."+field, prefix)
			}
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, nil, fmt.Errorf("tensor %q has shape %v but layer %q, linear layer %d of --arch %s, needs %v", name, t.Shape, prefix, slices.Index(layers, prefix)+1, model.Arch(spec.Sizes), shape)
		}
		used[name] = true
		vals = append([]float64(nil), t.Data...)
		pruned = make([]bool, len(vals))
		if mk, ok := byName[prefix+"."+field+"_mask"]; ok {
			used[mk.Name] = true
			if err := applyMask(vals, pruned, mk, shape); err != nil {
				return nil, nil, err
			}
		} else if strings.HasSuffix(name, "_orig") {
			return nil, nil, fmt.Errorf("%s has %q but no %q", src, name, prefix+"."+field+"_mask")
		}
		return vals, pruned, nil
	}
	for l := 1; l <= L; l++ {
		in, outN := spec.Sizes[l-1], spec.Sizes[l]
		w, wp, err := get(layers[l-1], "weight", []int{outN, in})
		if err != nil {
			return nil, err
		}
		b, bp, err := get(layers[l-1], "bias", []int{outN})
		if err != nil {
			return nil, err
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
	std, err := readStandardization(byName, used, spec.Sizes[0], src)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if !used[t.Name] {
			return nil, fmt.Errorf("tensor %q in %s is not used by a %s network (obs reads P.weight, P.bias, their _mask/_orig, input_mean, input_std for layers %q)",
				t.Name, src, model.Arch(spec.Sizes), layers)
		}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	var dts []string
	for d := range dtypes {
		dts = append(dts, d)
	}
	slices.Sort(dts)
	return &Imported{Net: m, Layers: layers, Standardize: std, Dtypes: dts}, nil
}

// readStandardization returns the input standardisation stored as the
// tensors input_mean and input_std of byName (both of shape [n], the
// network's inputs), marking them used, or nil when neither is present.
// src names the file in errors.
func readStandardization(byName map[string]Tensor, used map[string]bool, n int, src string) (*model.Standardization, error) {
	mean, hasMean := byName["input_mean"]
	sd, hasStd := byName["input_std"]
	if !hasMean && !hasStd {
		return nil, nil
	}
	if !hasMean || !hasStd || !slices.Equal(mean.Shape, []int{n}) || !slices.Equal(sd.Shape, []int{n}) {
		return nil, fmt.Errorf("%s: input_mean and input_std must both be present with shape [%d]", src, n)
	}
	used["input_mean"], used["input_std"] = true, true
	return &model.Standardization{Mean: mean.Data, Std: sd.Data}, nil
}

// What Export and ExportMLP say of a standardisation they do not fold.
const (
	howNone   = "none (the model takes its inputs as they are)"
	howStored = "stored as input_mean and input_std, not folded (standardise inputs as (x - input_mean) / input_std)"
)

// stdTensors are the tensors input_mean and input_std of std, as obs
// import reads them back.
func stdTensors(std *model.Standardization) []Tensor {
	n := len(std.Mean)
	return []Tensor{{Name: "input_mean", Shape: []int{n}, Data: std.Mean}, {Name: "input_std", Shape: []int{n}, Data: std.Std}}
}

// Export returns the tensors of m, an MLP (ExportMLP) or a network given
// by its layers (ExportLayers), under the module prefixes layers, with the
// masks of a pruned network when masks is set, and says what was done
// with the standardisation std (nil: none), as ExportMLP does. A layer
// list's standardisation is stored as input_mean and input_std: a
// per-input scaling does not fold into a convolution, so fold with a
// standardisation is an error there.
func Export(m *model.MLP, layers []string, std *model.Standardization, fold, masks bool) ([]Tensor, string, error) {
	if !m.Layered() {
		ts, how := ExportMLP(m, layers, std, fold, masks)
		return ts, how, nil
	}
	if std != nil && fold {
		return nil, "", fmt.Errorf("datasets: a per-input standardisation does not fold into the layers of %s; store it as input_mean and input_std (fold false)", m.Describe())
	}
	ts := ExportLayers(m, layers, masks)
	if std == nil {
		return ts, howNone, nil
	}
	if n := m.NumInputs(); len(std.Mean) != n || len(std.Std) != n {
		return nil, "", fmt.Errorf("datasets: standardisation of %d means and %d deviations for a network of %d inputs", len(std.Mean), len(std.Std), n)
	}
	return append(ts, stdTensors(std)...), howStored, nil
}

// ExportMLP returns the tensors of m in nn.Sequential naming, under the
// module prefixes layers (one per linear layer; nil: "0", "2", "4", ...),
// with the masks P.weight_mask and P.bias_mask (1 kept, 0 pruned) of a
// pruned network when masks is set, and says what was done with the
// standardisation std (nil: none). With fold the standardisation is folded
// into the first layer (W' = W / std, b' = b - W' mean), so the exported
// network takes raw inputs; otherwise it is stored as input_mean and
// input_std.
func ExportMLP(m *model.MLP, layers []string, std *model.Standardization, fold, masks bool) ([]Tensor, string) {
	L := len(m.Sizes) - 1
	prefix := func(l int) string {
		if len(layers) == L {
			return layers[l-1]
		}
		return strconv.Itoa(2 * (l - 1))
	}
	pruned := m.NumFree() < len(m.Params)
	unpruned := 0 // pruned first-layer biases that folding makes non-zero
	how := howNone
	var ts []Tensor
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
		ts = append(ts, Tensor{Name: p + ".weight", Shape: []int{outN, in}, Data: w},
			Tensor{Name: p + ".bias", Shape: []int{outN}, Data: b})
		if pruned && masks {
			ts = append(ts, Tensor{Name: p + ".weight_mask", Shape: []int{outN, in}, Data: wm},
				Tensor{Name: p + ".bias_mask", Shape: []int{outN}, Data: bm})
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
			how, ts = howStored, append(ts, stdTensors(std)...)
		}
	}
	return ts, how
}

// applyMask applies a torch.nn.utils.prune mask of the given shape to the
// values of its tensor: where it is 0 the value becomes 0 and pruned; it
// must hold only 0 and 1.
func applyMask(vals []float64, pruned []bool, mk Tensor, shape []int) error {
	if !slices.Equal(mk.Shape, shape) {
		return fmt.Errorf("mask %q has shape %v, want %v", mk.Name, mk.Shape, shape)
	}
	for i, v := range mk.Data {
		switch v {
		case 0:
			vals[i], pruned[i] = 0, true
		case 1:
		default:
			return fmt.Errorf("mask %q element %d is %v, want 0 or 1", mk.Name, i, v)
		}
	}
	return nil
}
