package prune

import (
	"fmt"
	"strings"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Structure is how the inverse curvature of OBS is stored: a second choice
// beside the curvature's kind (Config.Curvature), so that every kind works
// with every structure. A Structure that is not dense inverts only the
// diagonal blocks of C + alpha I (the entries between blocks taken as 0):
// its OBS update changes only the blocks of the deleted parameters.
//
// Each structure is one file: Dense (dense.go), Blocks (block.go), Layers
// (layer.go), Diagonal (diag.go), KFAC (kfac.go, with its builder). Its name, as ParseStructure reads and
// String writes, is used in flags and labels.
type Structure interface {
	String() string
	// Inverse returns (C + alpha I)^-1 of curv, built at net's weights, in
	// this structure, with cfg's damping, fix and inverse form, and the
	// report of the fix when curv is the exact Hessian (else nil).
	Inverse(net *model.MLP, curv hessian.Curvature, cfg *Config) (InverseCurvature, *hessian.FixReport, error)
}

// structureParsers maps a structure's name (before any ":") to its parser,
// which gets the text after ":" ("" if none). Each structure's file adds
// itself.
var structureParsers = map[string]func(arg string) (Structure, error){}

// ParseStructure returns the structure named dense, block:B (contiguous
// blocks of B free parameters), layer or diag. Case is ignored.
func ParseStructure(s string) (Structure, error) {
	name, arg, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), ":")
	if p, ok := structureParsers[name]; ok {
		return p(arg)
	}
	return nil, fmt.Errorf("prune: unknown structure %q (want dense, block:B, layer, diag, kfac or kfac:E)", s)
}

// noArg is a parser for a structure that takes no ":" argument.
func noArg(name string, s Structure) func(string) (Structure, error) {
	return func(arg string) (Structure, error) {
		if arg != "" {
			return nil, fmt.Errorf("prune: structure %s takes no argument, got %q", name, name+":"+arg)
		}
		return s, nil
	}
}

// structure returns cfg.Structure, Dense{} if nil.
func (c *Config) structure() Structure {
	if c.Structure == nil {
		return Dense{}
	}
	return c.Structure
}

// dense reports whether the structure is the dense one.
func (c *Config) dense() bool {
	_, ok := c.structure().(Dense)
	return ok
}
