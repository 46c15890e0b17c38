package model

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/obs-toolkit/obs/internal/atomicfile"
	"github.com/obs-toolkit/obs/internal/bounded"
)

// FileFormat is the format tag written into every model file of an MLP
// (arch and hidden), LayeredFormat that of a network given by its layers
// (input and layers), which older releases cannot read.
const (
	FileFormat    = "obs-model/1"
	LayeredFormat = "obs-model/2"
)

// FormatOf returns the format tag of m's file.
func FormatOf(m *MLP) string {
	if m.Layered() {
		return LayeredFormat
	}
	return FileFormat
}

// Provenance records where a model's weights came from. Every field is
// optional; Seed is a pointer so that seed 0 and "no seed" differ.
type Provenance struct {
	Command       string   `json:"command,omitempty"`
	Data          string   `json:"data,omitempty"`
	DataSource    string   `json:"data_source,omitempty"`
	Seed          *uint64  `json:"seed,omitempty"`
	Trainer       string   `json:"trainer,omitempty"`
	TrainError    *float64 `json:"train_error,omitempty"`
	GradNorm      *float64 `json:"grad_norm,omitempty"`
	TrainAccuracy *float64 `json:"train_accuracy,omitempty"`
	TestAccuracy  *float64 `json:"test_accuracy,omitempty"`
	Iterations    int      `json:"iterations,omitempty"`
	Evaluations   int      `json:"evaluations,omitempty"`
	Status        string   `json:"status,omitempty"`
	// ImportedFrom, ImportFormat, ImportDtype and ImportSHA256 describe the
	// weight file a model was read from by obs import.
	ImportedFrom string `json:"imported_from,omitempty"`
	ImportFormat string `json:"import_format,omitempty"`
	ImportDtype  string `json:"import_dtype,omitempty"`
	ImportSHA256 string `json:"import_sha256,omitempty"`
}

// Standardization is the per-input affine map x' = (x - Mean) / Std applied
// to every input pattern before the network sees it. It is computed on the
// training set (population standard deviation, 1/P) and stored so that every
// later command applies the same map.
type Standardization struct {
	Mean []float64 `json:"mean"`
	Std  []float64 `json:"std"`
}

// DataSpec records how the training data of a model were read, so that later
// commands can read them again without data flags.
type DataSpec struct {
	Data      string   `json:"data"`
	Target    []string `json:"target,omitempty"`
	Test      string   `json:"test,omitempty"`
	Split     float64  `json:"split,omitempty"`
	SplitSeed uint64   `json:"split_seed,omitempty"`
}

// File is the JSON form of a model: architecture, activations, loss, weight
// decay, parameters in the documented order with their names, the mask, the
// provenance of the weights and the history of what was done to them
// (pruning runs append their summaries).
type File struct {
	Format     string            `json:"format"`
	ObsVersion string            `json:"obs_version,omitempty"` // the obs release that wrote the file (set by the writer; ToFile leaves it empty)
	Arch       []int             `json:"arch,omitempty"`        // an MLP's sizes (Spec.Sizes)
	Hidden     string            `json:"hidden,omitempty"`      // an MLP's hidden activation
	Input      []int             `json:"input,omitempty"`       // the input shape of a network given by its layers
	Layers     string            `json:"layers,omitempty"`      // its layers, as ParseLayers reads them
	Output     string            `json:"output"`
	Loss       string            `json:"loss"`
	Decay      float64           `json:"decay"`
	NumParams  int               `json:"num_params"`
	NumFree    int               `json:"num_free"`
	Params     []float64         `json:"params"`
	Pruned     []bool            `json:"pruned"`
	Names      []string          `json:"names"`
	Provenance Provenance        `json:"provenance"`
	History    []json.RawMessage `json:"history,omitempty"`

	// Standardize, if set, is applied to every input before the network.
	Standardize *Standardization `json:"standardize,omitempty"`
	// Classes names the classes of a classifier: one per output for
	// softmax outputs, or the negative and the positive class of a single
	// sigmoid output.
	Classes []string `json:"classes,omitempty"`
	// Data records the data set the model was trained on.
	Data *DataSpec `json:"data_spec,omitempty"`
	// LayerNames are the tensor name prefixes of the layers in a weight
	// file ("0", "2", ... in nn.Sequential naming), kept from obs import so
	// that obs export writes the same names.
	LayerNames []string `json:"layer_names,omitempty"`
	// InputNames name the inputs in the order the network takes them (the
	// columns of the CSV file it was trained on), so that data are matched
	// by name, not by position. Files written before it have none.
	InputNames []string `json:"input_names,omitempty"`
}

// CarryData copies the data-related fields (standardisation, class names,
// data spec, layer names, input names) of from into f and returns f, so that a command
// that rewrites a model keeps them.
func (f *File) CarryData(from *File) *File {
	if from != nil {
		f.Standardize, f.Classes, f.Data, f.LayerNames = from.Standardize, from.Classes, from.Data, from.LayerNames
		f.InputNames = from.InputNames
	}
	return f
}

// checkData validates the data-related fields against the architecture.
func (f *File) checkData(m *MLP) error {
	n, k := m.NumInputs(), m.NumOutputs()
	if s := f.Standardize; s != nil {
		if len(s.Mean) != n || len(s.Std) != n {
			return fmt.Errorf("standardize has %d means and %d deviations, want %d (one per input)", len(s.Mean), len(s.Std), n)
		}
		for i := range s.Mean {
			if math.IsNaN(s.Mean[i]) || math.IsInf(s.Mean[i], 0) || !(s.Std[i] > 0) || math.IsInf(s.Std[i], 0) {
				return fmt.Errorf("standardize input %d: mean %v, std %v; want finite values and std > 0", i, s.Mean[i], s.Std[i])
			}
		}
	}
	if f.Classes != nil {
		want := k
		if k == 1 {
			want = 2
		}
		if len(f.Classes) != want {
			return fmt.Errorf("classes has %d names, want %d for %d output(s)", len(f.Classes), want, k)
		}
		seen := map[string]bool{}
		for _, c := range f.Classes {
			if c == "" || seen[c] {
				return fmt.Errorf("classes %q: names must be non-empty and distinct", f.Classes)
			}
			seen[c] = true
		}
	}
	if f.LayerNames != nil && len(f.LayerNames) != m.NumLayers() {
		return fmt.Errorf("layer_names has %d entries, want %d", len(f.LayerNames), m.NumLayers())
	}
	if f.InputNames != nil {
		if len(f.InputNames) != n {
			return fmt.Errorf("input_names has %d names, want %d (one per input)", len(f.InputNames), n)
		}
		seen := map[string]bool{}
		for _, c := range f.InputNames {
			if c == "" || seen[c] {
				return fmt.Errorf("input_names: names must be non-empty and distinct, got %q twice or empty", c)
			}
			seen[c] = true
		}
	}
	return nil
}

// ToFile returns the file form of m with the given provenance and history.
func (m *MLP) ToFile(prov Provenance, history []json.RawMessage) *File {
	var arch, input []int
	var hidden, layers string
	if m.Layered() {
		input, layers = append([]int(nil), m.Input...), FormatLayers(m.Spec.Layers)
	} else {
		arch, hidden = append([]int(nil), m.Sizes...), m.Hidden.String()
	}
	return &File{
		Format:     FormatOf(m),
		Arch:       arch,
		Hidden:     hidden,
		Input:      input,
		Layers:     layers,
		Output:     m.Output.String(),
		Loss:       m.Loss.String(),
		Decay:      m.Decay,
		NumParams:  len(m.Params),
		NumFree:    m.NumFree(),
		Params:     append([]float64(nil), m.Params...),
		Pruned:     append([]bool(nil), m.Pruned...),
		Names:      m.Names(),
		Provenance: prov,
		History:    history,
	}
}

// Encode writes f as indented JSON. It fails on NaN or Inf parameters, which
// JSON cannot hold and which are never a valid model.
func (f *File) Encode(w io.Writer) error {
	for q, v := range f.Params {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model: parameter %d is %v; refusing to write a model with non-finite parameters", q, v)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // names such as bias->out0 stay greppable
	return enc.Encode(f)
}

// Save writes f to path atomically (temporary file, then rename).
func (f *File) Save(path string) error {
	return atomicfile.Write(path, f.Encode)
}

// ErrModelFile wraps every problem found while reading a model file.
var ErrModelFile = errors.New("invalid model file")

// ParseFile decodes and validates a model file and returns the network with
// the file. name is used in error messages. Every error is one line naming
// the problem.
func ParseFile(data []byte, name string) (*MLP, *File, error) {
	fail := func(format string, a ...any) (*MLP, *File, error) {
		return nil, nil, fmt.Errorf("model file %s: %s: %w", name, fmt.Sprintf(format, a...), ErrModelFile)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail("empty")
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		var se *json.SyntaxError
		switch {
		case strings.Contains(err.Error(), "unexpected end of JSON input"),
			errors.As(err, &se) && se.Offset >= int64(len(data)): // cut inside a literal
			return fail("truncated JSON (unexpected end of input)")
		case errors.As(err, &se):
			return fail("not valid JSON at byte %d: %v", se.Offset, err)
		}
		return fail("%v", err)
	}
	if err := checkKeys(data); err != nil {
		return fail("%v", err)
	}
	if f.Format != FileFormat && f.Format != LayeredFormat {
		return fail("format %q, want %q or %q", f.Format, FileFormat, LayeredFormat)
	}
	if (f.Format == LayeredFormat) != (f.Layers != "") {
		return fail("format %q goes with %s", f.Format, map[bool]string{true: "a layer list (layers)", false: "sizes (arch), not a layer list"}[f.Format == LayeredFormat])
	}
	var spec Spec
	if f.Layers != "" {
		if f.Arch != nil || f.Hidden != "" {
			return fail("a network given by its layers has no arch or hidden activation")
		}
		ls, err := ParseLayers(f.Layers)
		if err != nil {
			return fail("%v", err)
		}
		spec.Input, spec.Layers = f.Input, ls
	} else {
		hidden, err := ParseActivation(f.Hidden)
		if err != nil {
			return fail("hidden activation: %v", err)
		}
		spec.Sizes, spec.Hidden = f.Arch, hidden
		for _, s := range f.Arch {
			if s > 1<<20 {
				return fail("layer size %d is too large", s)
			}
		}
	}
	output, err := ParseActivation(f.Output)
	if err != nil {
		return fail("output activation: %v", err)
	}
	loss, err := ParseLoss(f.Loss)
	if err != nil {
		return fail("%v", err)
	}
	spec.Output, spec.Loss, spec.Decay = output, loss, f.Decay
	// The output was named in the file: a sigmoid with ce is an error, not
	// the zero Output that stands for softmax.
	if err := spec.ValidateGiven(); err != nil {
		return fail("%v", err)
	}
	// Compare the parameter count before allocating anything of that size:
	// the file's own list bounds it.
	n := spec.NumParams()
	if len(f.Params) != n {
		return fail("architecture %s has %d parameters but the file lists %d", spec.Describe(), n, len(f.Params))
	}
	m, err := New(spec)
	if err != nil {
		return fail("%v", err)
	}
	if f.NumParams != 0 && f.NumParams != n {
		return fail("num_params is %d but architecture %s has %d", f.NumParams, spec.Describe(), n)
	}
	if f.Pruned == nil {
		f.Pruned = make([]bool, n)
	}
	if len(f.Pruned) != n {
		return fail("mask has %d entries, want %d", len(f.Pruned), n)
	}
	copy(m.Params, f.Params)
	copy(m.Pruned, f.Pruned)
	if f.Names != nil {
		if len(f.Names) != n {
			return fail("names has %d entries, want %d", len(f.Names), n)
		}
		for q, want := range m.Names() {
			if f.Names[q] != want {
				return fail("parameter %d is named %q, want %q (parameters out of order?)", q, f.Names[q], want)
			}
		}
	}
	if err := m.Check(); err != nil {
		return fail("%v", err)
	}
	if f.NumFree != 0 && f.NumFree != m.NumFree() {
		return fail("num_free is %d but the mask leaves %d", f.NumFree, m.NumFree())
	}
	if err := f.checkData(m); err != nil {
		return fail("%v", err)
	}
	return m, &f, nil
}

// MaxFileBytes bounds what Load reads. A model file takes about 70 bytes per
// parameter (value, name, mask entry, indentation) plus its history, so 1 GiB
// holds over ten million parameters, more than the dense curvatures obs
// builds could ever use; anything longer is not a model file.
const MaxFileBytes = 1 << 30

// Load reads and validates the model file at path. It reads at most
// MaxFileBytes and stops at once when the file does not start like a JSON
// object (say /dev/zero given by mistake).
func Load(path string) (*MLP, *File, error) {
	r, err := bounded.Open(path, "model file", MaxFileBytes, 0)
	if err != nil {
		if u := errors.Unwrap(err); u != nil {
			err = u
		}
		return nil, nil, fmt.Errorf("model file %s: %v", path, err)
	}
	defer r.Close()
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadByte()
		if err != nil {
			break // empty or unreadable: ParseFile and ReadAll say which
		}
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' {
			continue
		}
		if b != '{' {
			return nil, nil, fmt.Errorf("model file %s: not a JSON object (starts with byte 0x%02x): %w", path, b, ErrModelFile)
		}
		br.UnreadByte()
		break
	}
	data, err := io.ReadAll(br)
	if err != nil {
		return nil, nil, fmt.Errorf("model file %s: %v", path, err)
	}
	return ParseFile(data, path)
}
