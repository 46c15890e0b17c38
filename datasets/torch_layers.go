package datasets

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/model"
)

// DefaultBNEps is BatchNorm's eps when none is given, PyTorch's default
// (nn.BatchNorm1d/2d(eps=1e-5)); a state dict does not hold it.
const DefaultBNEps = 1e-5

// ImportLayers builds the network of spec, given by its layers
// (Spec.Layers), from the tensors ts of a PyTorch state dict read from the
// file src (named in errors). The tensors of the items with tensors
// (linear, conv, bn) are read in the order of the list, under the
// prefixes names (one per such item) or, if names is nil, under each
// item's index in the list, as nn.Sequential numbers its modules when
// each item is one module; an ordering by name is never guessed. Each
// tensor's shape is checked against its layer and every tensor must be
// used: an error names the first that does not fit. BatchNorms are folded
// into the layer before them with eps (see importLayered); Folded counts
// them. Masks, and the input standardisation stored as input_mean and
// input_std (shape [C*H*W] or [N], as Export writes it unfolded), as
// ImportMLP's.
func ImportLayers(spec model.Spec, names []string, ts []Tensor, src string, eps float64) (*Imported, error) {
	if !(eps >= 0) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("BatchNorm eps %v must be a finite number >= 0", eps)
	}
	prefixes, err := layerPrefixes(spec, names)
	if err != nil {
		return nil, err
	}
	r := &tensorReader{from: src, byName: map[string]Tensor{}, used: map[string]bool{}}
	dtypes := map[string]bool{}
	for _, t := range ts {
		r.byName[t.Name] = t
		dtypes[t.Dtype] = true
	}
	m, weightNames, folded, err := importLayered(spec, prefixes, r, eps)
	if err != nil {
		return nil, err
	}
	std, err := readStandardization(r.byName, r.used, m.NumInputs(), src)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if !r.used[t.Name] {
			return nil, fmt.Errorf("tensor %q in %s is not used by the layers (their tensors are under the prefixes %q, in the order of the layer list)", t.Name, src, prefixes)
		}
	}
	if err := m.Check(); err != nil {
		return nil, err
	}
	imp := &Imported{Net: m, Layers: weightNames, Standardize: std, Folded: folded}
	for d := range dtypes {
		imp.Dtypes = append(imp.Dtypes, d)
	}
	slices.Sort(imp.Dtypes)
	return imp, nil
}

// layerPrefixes returns the tensor prefix of every item of spec's layer
// list that has tensors (linear, conv, bn), in order: names if given (one
// per such item), else the item's index in the list, as nn.Sequential
// numbers its modules when each item is one module. Ordering by name is
// never guessed.
func layerPrefixes(spec model.Spec, names []string) ([]string, error) {
	var want []int
	for i, l := range spec.Layers {
		if l.HasParams() || l.Kind == model.KindBN {
			want = append(want, i)
		}
	}
	if names != nil {
		if len(names) != len(want) {
			return nil, fmt.Errorf("%d layer names given but the layers have %d linear, conv and bn items", len(names), len(want))
		}
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] {
				return nil, fmt.Errorf("layer names %q: prefixes must be non-empty and distinct", strings.Join(names, ","))
			}
			seen[n] = true
		}
		return names, nil
	}
	out := make([]string, len(want))
	for k, i := range want {
		out[k] = strconv.Itoa(i)
	}
	return out, nil
}

// tensorReader hands out the tensors of a weight file by name, checking
// shapes and masks, and remembers which were used.
type tensorReader struct {
	from   string
	byName map[string]Tensor
	used   map[string]bool
}

// get returns the tensor name (or name_orig with name_mask, the
// convention of torch.nn.utils.prune) times its mask, and the mask. what
// names the layer in errors.
func (r *tensorReader) get(name, what string, shape []int) (vals []float64, pruned []bool, err error) {
	t, ok := r.byName[name]
	full := name
	if !ok {
		full = name + "_orig"
		if t, ok = r.byName[full]; !ok {
			return nil, nil, fmt.Errorf("%s has no tensor %q for layer %s", r.from, name, what)
		}
	}
	if !slices.Equal(t.Shape, shape) {
		return nil, nil, fmt.Errorf("tensor %q has shape %v but layer %s needs %v", full, t.Shape, what, shape)
	}
	r.used[full] = true
	vals = append([]float64(nil), t.Data...)
	pruned = make([]bool, len(vals))
	if mk, ok := r.byName[name+"_mask"]; ok {
		r.used[mk.Name] = true
		if err := applyMask(vals, pruned, mk, shape); err != nil {
			return nil, nil, err
		}
	} else if full != name {
		return nil, nil, fmt.Errorf("%s has %q but no %q", r.from, full, name+"_mask")
	}
	return vals, pruned, nil
}

// has reports whether the file holds name (or name_orig).
func (r *tensorReader) has(name string) bool {
	_, a := r.byName[name]
	_, b := r.byName[name+"_orig"]
	return a || b
}

// importLayered builds the network of spec (a layer list) from the tensors
// of a PyTorch state_dict: item i of the list with tensors reads them
// under prefixes[k] (see layerPrefixes): P.weight (out x in for linear,
// out x C x K x K for conv) and P.bias unless the item is nobias; a bn
// item P.running_mean, P.running_var, P.weight and P.bias (both absent
// for affine=False) and P.num_batches_tracked (read and ignored), folded
// into the layer before it (Ioffe & Szegedy 2015, eq. in Algorithm 2's
// inference form):
//
//	s = gamma / sqrt(running_var + eps),  W' = diag(s) W,  b' = s (b - running_mean) + beta.
//
// The network is spec.Folded(). weightNames are the prefixes of its
// weight layers when no BatchNorm was folded (export writes them back),
// else nil (export numbers the folded network's modules).
func importLayered(spec model.Spec, prefixes []string, r *tensorReader, eps float64) (m *model.MLP, weightNames []string, folded int, err error) {
	fspec, err := spec.Folded()
	if err != nil {
		return nil, nil, 0, err
	}
	if m, err = model.New(fspec); err != nil {
		return nil, nil, 0, err
	}
	k, l := 0, 0 // the prefix and the weight layer
	for i, it := range spec.Layers {
		if !it.HasParams() && it.Kind != model.KindBN {
			continue
		}
		p := prefixes[k]
		k++
		what := fmt.Sprintf("%d %q (tensors %s.*)", i+1, it, p)
		if it.Kind == model.KindBN {
			if err := foldBN(m, l, p, what, r, eps); err != nil {
				return nil, nil, 0, err
			}
			folded++
			continue
		}
		l++
		rows, cols, _ := m.LayerShape(l)
		var wshape []int
		switch ly := m.WeightLayer(l).(type) {
		case model.Conv2d:
			wshape = []int{ly.OutChannels, ly.Channels, ly.Kernel, ly.Kernel}
		case model.Linear:
			wshape = []int{ly.Outputs, ly.Inputs}
		}
		w, wp, err := r.get(p+".weight", what, wshape)
		if err != nil {
			return nil, nil, 0, err
		}
		for j := range rows {
			for c := range cols {
				q := m.Index(l, j, c)
				m.Params[q], m.Pruned[q] = w[j*cols+c], wp[j*cols+c]
			}
		}
		if it.NoBias {
			if r.has(p + ".bias") {
				return nil, nil, 0, fmt.Errorf("layer %s is nobias but %s holds %s.bias", what, r.from, p)
			}
			continue
		}
		b, bp, err := r.get(p+".bias", what, []int{rows})
		if err != nil {
			return nil, nil, 0, err
		}
		for j := range rows {
			q := m.Index(l, j, cols)
			m.Params[q], m.Pruned[q] = b[j], bp[j]
		}
	}
	if folded == 0 {
		for _, it := range spec.Layers {
			if it.HasParams() {
				weightNames = append(weightNames, prefixes[len(weightNames)])
			}
		}
	}
	return m, weightNames, folded, nil
}

// foldBN folds the BatchNorm under prefix p into weight layer l of m (see
// importLayered).
func foldBN(m *model.MLP, l int, p, what string, r *tensorReader, eps float64) error {
	rows, cols, _ := m.LayerShape(l)
	shape := []int{rows}
	read := func(field string) ([]float64, error) {
		name := p + "." + field
		t, ok := r.byName[name]
		if !ok {
			return nil, fmt.Errorf("%s has no tensor %q for layer %s", r.from, name, what)
		}
		if !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("tensor %q has shape %v but layer %s needs %v", name, t.Shape, what, shape)
		}
		r.used[name] = true
		return t.Data, nil
	}
	mean, err := read("running_mean")
	if err != nil {
		return err
	}
	variance, err := read("running_var")
	if err != nil {
		return err
	}
	gamma, beta := make([]float64, rows), make([]float64, rows)
	for j := range gamma {
		gamma[j] = 1
	}
	_, hasW := r.byName[p+".weight"]
	_, hasB := r.byName[p+".bias"]
	if hasW || hasB {
		if gamma, err = read("weight"); err != nil {
			return err
		}
		if beta, err = read("bias"); err != nil {
			return err
		}
	}
	if t, ok := r.byName[p+".num_batches_tracked"]; ok {
		if len(t.Data) != 1 {
			return fmt.Errorf("tensor %q has shape %v, want a scalar", t.Name, t.Shape)
		}
		r.used[t.Name] = true
	}
	for j := range rows {
		if !(variance[j] >= 0) || math.IsInf(variance[j], 0) {
			return fmt.Errorf("tensor %q element %d is %v, want a finite variance >= 0", p+".running_var", j, variance[j])
		}
		s := gamma[j] / math.Sqrt(variance[j]+eps)
		for c := range cols {
			m.Params[m.Index(l, j, c)] *= s
		}
		q := m.Index(l, j, cols)
		m.Params[q] = s*(m.Params[q]-mean[j]) + beta[j]
		m.Pruned[q] = false
	}
	return nil
}

// exportPrefixes returns the tensor prefix of each weight layer of a
// network given by its layers: the imported names when the file keeps
// them, else the layer's index in the list (nn.Sequential numbering of the
// network as obs holds it, BatchNorm folded).
func exportPrefixes(m *model.MLP, names []string) []string {
	if len(names) == m.NumLayers() {
		return names
	}
	var out []string
	for i, it := range m.Spec.Layers {
		if it.HasParams() {
			out = append(out, strconv.Itoa(i))
		}
	}
	return out
}

// ExportLayers returns the tensors of a network given by its layers (the
// network as obs holds it, BatchNorms folded) as the state dict of an
// nn.Sequential of its items: P.weight (out x in, or out x C x K x K) and
// P.bias unless the layer has none, P the weight layer's name in names if
// there is one per weight layer (as ImportLayers read them), else its
// index in the layer list; with P.weight_mask and P.bias_mask for a pruned
// model when masks is set.
func ExportLayers(m *model.MLP, names []string, masks bool) []Tensor {
	prefixes := exportPrefixes(m, names)
	pruned := m.NumFree() < len(m.Params)
	var ts []Tensor
	for l := 1; l <= m.NumLayers(); l++ {
		rows, cols, bias := m.LayerShape(l)
		var wshape []int
		switch ly := m.WeightLayer(l).(type) {
		case model.Conv2d:
			wshape = []int{ly.OutChannels, ly.Channels, ly.Kernel, ly.Kernel}
		case model.Linear:
			wshape = []int{ly.Outputs, ly.Inputs}
		}
		w, wm := make([]float64, rows*cols), make([]float64, rows*cols)
		b, bm := make([]float64, rows), make([]float64, rows)
		for j := range rows {
			for c := range cols {
				q := m.Index(l, j, c)
				w[j*cols+c] = m.Params[q]
				if !m.Pruned[q] {
					wm[j*cols+c] = 1
				}
			}
			if bias {
				q := m.Index(l, j, cols)
				b[j] = m.Params[q]
				if !m.Pruned[q] {
					bm[j] = 1
				}
			}
		}
		p := prefixes[l-1]
		ts = append(ts, Tensor{Name: p + ".weight", Shape: wshape, Data: w})
		if bias {
			ts = append(ts, Tensor{Name: p + ".bias", Shape: []int{rows}, Data: b})
		}
		if pruned && masks {
			ts = append(ts, Tensor{Name: p + ".weight_mask", Shape: wshape, Data: wm})
			if bias {
				ts = append(ts, Tensor{Name: p + ".bias_mask", Shape: []int{rows}, Data: bm})
			}
		}
	}
	return ts
}
