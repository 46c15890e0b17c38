package datasets

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/internal/bounded"
)

// Bounds on a CSV data set, so that a wrong file (/dev/zero, a huge log)
// fails at once. The whole set is held as float64 (8 bytes a cell, at least
// twice its text), so 4 GiB of text is already 16 GiB or more in memory; a
// line of 64 MiB is over a million numeric cells.
const (
	MaxCSVBytes = 4 << 30
	MaxCSVLine  = 16 << 20
	// maxQuoted is how much of a cell an error message quotes.
	maxQuoted = 40
)

// ParseCSV reads a numeric data set in CSV format (RFC 4180, as read by
// encoding/csv). The first row is a header naming the columns; every other
// row is a pattern whose cells are all finite numbers in a form accepted by
// strconv.ParseFloat (surrounding spaces are ignored; NaN and ±Inf are
// rejected). Empty lines are skipped.
//
// targets names the target columns; they must exist in the header, without
// duplicates, and leave at least one input column. If targets is empty, the
// last column is the target. Inputs keep the header's order; targets are in
// the order given. Header names must be non-empty and distinct.
//
// name identifies the input in error messages and becomes the Set's Name and
// Source. Errors are one line naming the line, column and cell at fault.
func ParseCSV(r io.Reader, name string, targets []string) (*Set, error) {
	return ParseCSVWith(r, name, CSVOptions{Targets: targets})
}

// CSVOptions say how ParseCSVWith reads a CSV file.
type CSVOptions struct {
	// Targets names the target columns (if empty, the last column, or with
	// Inputs the last column that is not an input).
	Targets []string

	// Labels reads the single target column as class labels (any
	// non-empty strings, such as "setosa", "3" or "yes") and encodes them
	// one-hot, one target per class, in the order of Classes. The set's
	// Classes field names them.
	Labels bool

	// Binary, with Labels, encodes exactly two classes as one target: 1
	// for the second class, 0 for the first (for sigmoid outputs).
	Binary bool

	// Classes fixes the classes and their order (for a test set or a
	// trained model). If empty, the classes are the distinct labels in
	// numeric order when every label is a number, else in string order.
	Classes []string

	// TargetHint is appended to the error for a target cell that is not a
	// number (for example the flag that reads labels).
	TargetHint string

	// NoTargets allows the target columns to be missing from the header:
	// every column is then an input and the set has no targets (for
	// predictions on new data).
	NoTargets bool

	// Inputs, if not nil, names the input columns in the order the
	// network takes them (a model file's input names): columns are matched
	// by name, whatever their order in the file, and a name missing from
	// the header, or a column that is neither an input nor a target, is an
	// error naming both sides. nil: every column that is not a target is
	// an input, in file order.
	Inputs []string
}

// ParseCSVWith reads a CSV file as ParseCSV does, with the options opts.
func ParseCSVWith(r io.Reader, name string, opts CSVOptions) (*Set, error) {
	targets := opts.Targets
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // ragged rows are reported below, with the header's width

	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("datasets: %s: empty CSV file, want a header row", name)
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	cols := make(map[string]int, len(header))
	for j, h := range header {
		h = strings.TrimSpace(h)
		if j == 0 {
			h = strings.TrimPrefix(h, "\ufeff") // a UTF-8 byte order mark
		}
		header[j] = h
		if h == "" {
			return nil, fmt.Errorf("datasets: %s line 1: column %d has an empty name", name, j+1)
		}
		if prev, dup := cols[h]; dup {
			return nil, fmt.Errorf("datasets: %s line 1: columns %d and %d are both named %q", name, prev+1, j+1, h)
		}
		cols[h] = j
	}
	if len(targets) == 0 {
		targets = header[len(header)-1:]
		if opts.Inputs != nil {
			// The last column that is not an input, or none.
			targets = nil
			for j := len(header) - 1; j >= 0 && targets == nil; j-- {
				if !slices.Contains(opts.Inputs, header[j]) {
					targets = header[j : j+1]
				}
			}
			if targets == nil && !opts.NoTargets {
				return nil, fmt.Errorf("datasets: %s: every column %s is an input of the model, want a target column too", name, quoteList(first(header, 10)))
			}
		}
	}
	if opts.NoTargets {
		present := false
		for _, t := range targets {
			if _, ok := cols[t]; ok {
				present = true
			}
		}
		if !present {
			targets = nil
		}
	}
	if opts.Labels && len(targets) > 1 {
		return nil, fmt.Errorf("datasets: %s: class labels need one target column, got %s", name, quoteList(targets))
	}
	isTarget := make([]bool, len(header))
	tcol := make([]int, len(targets))
	for i, t := range targets {
		j, ok := cols[t]
		if !ok {
			return nil, fmt.Errorf("datasets: %s: target column %q not in header %s", name, t, quoteList(header))
		}
		if isTarget[j] {
			return nil, fmt.Errorf("datasets: %s: target column %q given twice", name, t)
		}
		isTarget[j] = true
		tcol[i] = j
	}
	var icol []int
	for j := range header {
		if !isTarget[j] {
			icol = append(icol, j)
		}
	}
	if opts.Inputs != nil {
		if icol, err = matchInputs(name, header, cols, isTarget, opts.Inputs); err != nil {
			return nil, err
		}
	}
	if len(icol) == 0 {
		return nil, fmt.Errorf("datasets: %s: every column is a target, want at least one input column", name)
	}

	s := &Set{
		Name:        name,
		Source:      name,
		InputNames:  make([]string, len(icol)),
		TargetNames: make([]string, len(tcol)),
	}
	for i, j := range icol {
		s.InputNames[i] = header[j]
	}
	for i, j := range tcol {
		s.TargetNames[i] = header[j]
	}

	row := make([]float64, len(header))
	var labels []string
	isLabel := make([]bool, len(header))
	if opts.Labels && len(tcol) == 1 {
		isLabel[tcol[0]] = true
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvError(name, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("datasets: %s line %d: %d fields, want %d as in the header", name, line, len(rec), len(header))
		}
		for j, cell := range rec {
			if isLabel[j] {
				l := strings.TrimSpace(cell)
				if l == "" {
					return nil, fmt.Errorf("datasets: %s line %d column %d (%q): empty class label", name, line, j+1, header[j])
				}
				labels = append(labels, l)
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				hint := ""
				if isTarget[j] && opts.TargetHint != "" {
					hint = "; " + opts.TargetHint
				}
				return nil, fmt.Errorf("datasets: %s line %d column %d (%q): %q is not a finite number%s", name, line, j+1, bounded.Prefix(header[j], maxQuoted), bounded.Prefix(cell, maxQuoted), hint)
			}
			row[j] = v
		}
		in := make([]float64, len(icol))
		for i, j := range icol {
			in[i] = row[j]
		}
		out := make([]float64, len(tcol))
		for i, j := range tcol {
			out[i] = row[j]
		}
		s.Inputs = append(s.Inputs, in)
		s.Targets = append(s.Targets, out)
	}
	if len(s.Inputs) == 0 {
		return nil, fmt.Errorf("datasets: %s: no data rows after the header", name)
	}
	if labels != nil {
		if err := s.encodeLabels(labels, opts); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// csvError wraps an error of encoding/csv, whose messages carry the line.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("datasets: %s line %d column %d: %w", name, pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("datasets: %s: %w", name, err)
}

// quoteList formats names as a bracketed list of quoted strings.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(bounded.Prefix(n, maxQuoted))
	}
	return "[" + strings.Join(q, " ") + "]"
}

// LoadCSV reads the CSV file at path with ParseCSV. The set is named by the
// file's base name without its extension, and its Source is path.
func LoadCSV(path string, targets []string) (*Set, error) {
	return LoadCSVWith(path, CSVOptions{Targets: targets})
}

// LoadCSVWith reads the CSV file at path with ParseCSVWith, naming the set
// as LoadCSV does.
func LoadCSVWith(path string, opts CSVOptions) (*Set, error) {
	f, err := bounded.Open(path, "CSV data set", MaxCSVBytes, MaxCSVLine)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer f.Close()
	s, err := ParseCSVWith(f, path, opts)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(path)
	s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	return s, nil
}

// matchInputs returns the header positions of the input columns named
// inputs, in that order, or an error naming the column of one side that the
// other lacks.
func matchInputs(name string, header []string, cols map[string]int, isTarget []bool, inputs []string) ([]int, error) {
	icol := make([]int, len(inputs))
	isInput := make([]bool, len(header))
	for i, in := range inputs {
		j, ok := cols[in]
		switch {
		case !ok:
			return nil, fmt.Errorf("datasets: %s: no column %q, an input of the model (the model's inputs %s; the file's columns %s)",
				name, in, quoteList(first(inputs, 10)), quoteList(first(header, 10)))
		case isTarget[j]:
			return nil, fmt.Errorf("datasets: %s: column %q is read as a target but is an input of the model (inputs %s)", name, in, quoteList(first(inputs, 10)))
		}
		icol[i], isInput[j] = j, true
	}
	for j, h := range header {
		if !isInput[j] && !isTarget[j] {
			return nil, fmt.Errorf("datasets: %s: column %q is not an input of the model (the model's inputs %s; the file's columns %s)",
				name, h, quoteList(first(inputs, 10)), quoteList(first(header, 10)))
		}
	}
	return icol, nil
}
