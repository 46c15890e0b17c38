package reproduce

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/obs-toolkit/obs/internal/atomicfile"
)

// summaryFile is summary.json: the summary and the files, without the
// output directory, so that identical runs write identical files.
type summaryFile struct {
	Command string   `json:"command"`
	Files   []string `json:"files"`
	Summary
}

// Outputs are the names of every file Write may write (which of them
// depends on the experiments run).
var Outputs = []string{"report.md", "runs.csv", "xor.csv", "steps.csv", "monk1-curves.png", "monk2-curves.png", "monk3-curves.png", "summary.json"}

// ParseExperiments reads the experiments named by args (obs reproduce's
// arguments, case aside): xor, monk1, monk2, monk3 or all (every one of
// them). It returns whether XOR is run and the MONK's problems, ascending
// and each once.
func ParseExperiments(args []string) (xor bool, problems []int, err error) {
	seen := map[int]bool{}
	for _, a := range args {
		switch strings.ToLower(a) {
		case "xor":
			xor = true
		case "monk1", "monk2", "monk3":
			seen[int(a[4]-'0')] = true
		case "all":
			xor = true
			seen[1], seen[2], seen[3] = true, true, true
		default:
			return false, nil, fmt.Errorf("unknown experiment %q; want xor, monk1, monk2, monk3 or all", a)
		}
	}
	problems = []int{}
	for p := 1; p <= 3; p++ {
		if seen[p] {
			problems = append(problems, p)
		}
	}
	return xor, problems, nil
}

// Write writes every output file of rep into dir (report.md, runs.csv,
// xor.csv, steps.csv, the MONK's curves and summary.json) and returns their
// names.
func Write(dir string, rep *Report) ([]string, error) {
	var files []string
	write := func(name string, fn func(io.Writer) error) error {
		files = append(files, name)
		return atomicfile.Write(filepath.Join(dir, name), fn)
	}
	if err := write("report.md", rep.WriteMarkdown); err != nil {
		return nil, err
	}
	if err := write("runs.csv", rep.WriteRunsCSV); err != nil {
		return nil, err
	}
	if rep.XOR != nil {
		if err := write("xor.csv", rep.WriteXORCSV); err != nil {
			return nil, err
		}
	}
	if err := write("steps.csv", rep.WriteStepsCSV); err != nil {
		return nil, err
	}
	if rep.Monk != nil {
		for i := range rep.Monk.Problems {
			p := &rep.Monk.Problems[i]
			name := p.Name + "-curves.png"
			files = append(files, name)
			if err := WriteCurves(filepath.Join(dir, name), p); err != nil {
				return nil, err
			}
		}
	}
	files = append(files, "summary.json")
	sum := summaryFile{Command: rep.Command, Files: files, Summary: rep.Summary()}
	if err := atomicfile.Write(filepath.Join(dir, "summary.json"), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}); err != nil {
		return nil, err
	}
	return files, nil
}
