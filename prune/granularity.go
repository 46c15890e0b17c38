package prune

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// GranularityKind is what a plan removes as one unit: single weights,
// hidden units or an N:M pattern.
type GranularityKind int

const (
	// ByWeight removes single parameters (or the plan's own Groups): the
	// zero value, which changes nothing in a plan.
	ByWeight GranularityKind = iota
	// ByUnit removes hidden units, each a group of parameters (UnitGroups).
	ByUnit
	// ByNM zeroes N of every M consecutive input weights of every row
	// (NMBlocks), semi-structured sparsity such as 2:4.
	ByNM
	// ByFilter removes the filters (output channels) of a network's
	// convolutions, each a group of parameters (FilterGroups).
	ByFilter
)

// Granularity is the unit of deletion of a plan (Plan.Granularity,
// Config.Granularity). The zero value is ByWeight.
//
// ByUnit makes each hidden unit of a Linear layer one group (UnitGroups):
// its incoming weights and bias, or with Outgoing its outgoing weights (the
// column of the next layer). The plan's Sparsity is then the fraction of
// the hidden units removed, Keep the units left, PerLayer brings each
// hidden layer to the sparsity, and every method scores a unit by its group
// form (OBS: 1/2 w_G^T ([C^-1]_GG)^-1 w_G with the group update, exact for
// the inverse's structure; OBD: the sum of the diagonal saliencies;
// magnitude: the group's L2 or L1 norm). Compact then removes the units
// from the network. A filter of a convolution is a unit in the same sense:
// one more group generator.
//
// ByFilter makes each output channel of a Conv2d one group
// (FilterGroups): its weights and bias. Sparsity, Keep and PerLayer then
// count filters as ByUnit counts units, every method scores a filter by
// the same group forms, and Compact removes the filter with the matching
// input channel of the next convolution, or the matching columns (C*H*W
// order after Flatten) of the next Linear.
//
// ByNM zeroes N of every M consecutive input weights of every row (biases
// and a row's last len%M weights are not candidates), as OBC does for N:M
// (Frantar & Alistarh, NeurIPS 2022): weights are removed one at a time in
// the method's order, with its update, among the blocks that still have
// fewer than N zeros, until every block has N. The plan then sets its own
// target: Target, PerLayer, Checkpoints, Rules and Group must be zero.
// With LayerOBSPruner every row follows its own greedy N:M path of the
// layer-wise reconstruction error with OBS's update (LayerwiseSettings N
// and M), OBC's N:M.
type Granularity struct {
	Kind GranularityKind
	// Outgoing (ByUnit) makes a unit's group its outgoing weights instead
	// of its incoming weights and bias.
	Outgoing bool
	// N and M (ByNM): N of every M weights zero, 1 <= N < M.
	N, M int
}

func (g Granularity) String() string {
	switch g.Kind {
	case ByWeight:
		return "weight"
	case ByUnit:
		if g.Outgoing {
			return "unit:outgoing"
		}
		return "unit"
	case ByNM:
		return fmt.Sprintf("%d:%d", g.N, g.M)
	case ByFilter:
		return "filter"
	}
	return fmt.Sprintf("Granularity(%d)", g.Kind)
}

// ParseGranularity returns the granularity named weight, unit (incoming
// weights and bias), unit:outgoing, filter or N:M (such as 2:4).
func ParseGranularity(s string) (Granularity, error) {
	switch s = strings.TrimSpace(s); s {
	case "weight":
		return Granularity{}, nil
	case "unit", "unit:incoming":
		return Granularity{Kind: ByUnit}, nil
	case "unit:outgoing":
		return Granularity{Kind: ByUnit, Outgoing: true}, nil
	case "filter":
		return Granularity{Kind: ByFilter}, nil
	}
	if a, b, ok := strings.Cut(s, ":"); ok {
		n, err1 := strconv.Atoi(a)
		m, err2 := strconv.Atoi(b)
		if err1 == nil && err2 == nil {
			g := Granularity{Kind: ByNM, N: n, M: m}
			return g, g.check()
		}
	}
	return Granularity{}, fmt.Errorf("prune: unknown granularity %q (want weight, unit, unit:outgoing, filter or N:M such as 2:4)", s)
}

func (g Granularity) check() error {
	switch g.Kind {
	case ByWeight:
		if g.Outgoing || g.N != 0 || g.M != 0 {
			return errors.New("prune: weight granularity takes no N, M or Outgoing")
		}
	case ByUnit:
		if g.N != 0 || g.M != 0 {
			return errors.New("prune: unit granularity takes no N or M")
		}
	case ByFilter:
		if g.Outgoing || g.N != 0 || g.M != 0 {
			return errors.New("prune: filter granularity takes no N, M or Outgoing")
		}
	case ByNM:
		if g.Outgoing || !(g.N >= 1 && g.N < g.M) {
			return fmt.Errorf("prune: N:M granularity %d:%d needs 1 <= N < M", g.N, g.M)
		}
	default:
		return fmt.Errorf("prune: unknown granularity kind %d", g.Kind)
	}
	return nil
}

// Unit names a hidden unit: output Index of weight layer Layer, 1 <= Layer
// < L; a convolution's filter is one too (Index its output channel).
type Unit struct{ Layer, Index int }

// UnitGroups returns one group per hidden unit of net, layer by layer, and
// the units in the same order: unit j of layer l is the parameters
// net.Index(l, j, i) for every input i and the bias, or with outgoing
// net.Index(l+1, k, j) for every unit k of the next layer. Parameters
// already pruned are included (a group is scored by its survivors).
func UnitGroups(net *model.MLP, outgoing bool) ([][]int, []Unit) {
	var groups [][]int
	var units []Unit
	for l := 1; l < net.NumLayers(); l++ {
		for j := range net.Sizes[l] {
			var g []int
			if outgoing {
				for k := range net.Sizes[l+1] {
					g = append(g, net.Index(l+1, k, j))
				}
			} else {
				for i := 0; i <= net.Sizes[l-1]; i++ {
					g = append(g, net.Index(l, j, i))
				}
			}
			groups = append(groups, g)
			units = append(units, Unit{Layer: l, Index: j})
		}
	}
	return groups, units
}

// FilterGroups returns one group per filter of net's convolutions, layer
// by layer, and the filters as Units (Layer the weight layer, Index the
// output channel): filter o of conv layer l is the parameters
// net.Index(l, o, i) for every weight i of its Channels*Kernel^2 and the
// bias (if the layer has one). Parameters already pruned are included.
// A network with no Conv2d (an MLP among them) has no filter.
func FilterGroups(net *model.MLP) ([][]int, []Unit) {
	var groups [][]int
	var units []Unit
	if !net.Layered() {
		return nil, nil
	}
	for l := 1; l <= net.NumLayers(); l++ {
		if _, ok := net.WeightLayer(l).(model.Conv2d); !ok {
			continue
		}
		rows, cols, bias := net.LayerShape(l)
		if bias {
			cols++
		}
		for o := range rows {
			g := make([]int, cols)
			for i := range g {
				g[i] = net.Index(l, o, i)
			}
			groups = append(groups, g)
			units = append(units, Unit{Layer: l, Index: o})
		}
	}
	return groups, units
}

// Groups returns the groups g removes from net as units: one per hidden
// unit (ByUnit, UnitGroups, of an MLP) or per filter (ByFilter,
// FilterGroups); nil for weights, N:M patterns and units of a network
// given by its layers.
func (g Granularity) Groups(net *model.MLP) [][]int {
	var groups [][]int
	switch g.Kind {
	case ByUnit:
		if !net.Layered() {
			groups, _ = UnitGroups(net, g.Outgoing)
		}
	case ByFilter:
		groups, _ = FilterGroups(net)
	}
	return groups
}

// GroupsLeft returns how many of groups still have an unpruned parameter
// in net.
func GroupsLeft(net *model.MLP, groups [][]int) int {
	n := 0
	for _, g := range groups {
		for _, q := range g {
			if !net.Pruned[q] {
				n++
				break
			}
		}
	}
	return n
}

// NMBlocks returns the blocks of m consecutive input weights of every row
// of every layer of net, in parameter order: row j of layer l gives
// net.Index(l, j, b*m .. b*m+m-1) for b < Sizes[l-1]/m. Biases and the
// last Sizes[l-1]%m weights of a row are in no block.
func NMBlocks(net *model.MLP, m int) [][]int {
	if m < 1 {
		panic("prune: NMBlocks needs m >= 1")
	}
	var blocks [][]int
	for l := 1; l <= net.NumLayers(); l++ {
		rows, cols, _ := net.LayerShape(l)
		for j := range rows {
			for b := 0; b+m <= cols; b += m {
				blk := make([]int, m)
				for i := range blk {
					blk[i] = net.Index(l, j, b+i)
				}
				blocks = append(blocks, blk)
			}
		}
	}
	return blocks
}

// resolve returns the plan p's granularity turns into, for net: p itself
// for ByWeight, else a copy with the groups (ByUnit) or the candidates,
// target and capped method (ByNM).
func (g Granularity) resolve(net *model.MLP, p *Plan) (*Plan, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if g.Kind == ByWeight {
		return p, nil
	}
	if p.Groups != nil || p.Candidates != nil {
		return nil, fmt.Errorf("prune: granularity %v sets the groups or candidates itself", g)
	}
	switch p.Method.(type) {
	case LayerOBSPruner:
		if g.Kind != ByNM {
			return nil, fmt.Errorf("prune: granularity %v is not available with layer-wise OBS of weights; use LayerUnitOBSPruner (units) or obs with a curvature of E", g)
		}
	case LayerUnitOBSPruner:
		if g.Kind == ByFilter {
			return nil, errors.New("prune: layer-wise unit OBS removes an MLP's hidden units by their outgoing weights; a filter's group is its weights and bias (use OBS with a curvature of E, OBD or magnitude)")
		}
		if g.Kind != ByUnit || !g.Outgoing {
			return nil, fmt.Errorf("prune: layer-wise unit OBS removes a unit's outgoing weights (unit:outgoing), not %v", g)
		}
	}
	q := *p
	q.Granularity = Granularity{}
	switch g.Kind {
	case ByUnit:
		if net.Layered() {
			return nil, fmt.Errorf("prune: granularity %v removes an MLP's hidden units; a network given by its layers (%s) is not supported", g, net.Describe())
		}
		if net.NumLayers() < 2 {
			return nil, fmt.Errorf("prune: granularity %v needs a hidden layer; %s has none", g, model.Arch(net.Sizes))
		}
		q.Groups, _ = UnitGroups(net, g.Outgoing)
	case ByFilter:
		q.Groups, _ = FilterGroups(net)
		if len(q.Groups) == 0 {
			return nil, fmt.Errorf("prune: granularity filter removes the filters of convolutions; %s has none", net.Describe())
		}
	case ByNM:
		if p.Target != (Target{}) || p.PerLayer || len(p.Checkpoints) > 0 || !p.Rules.zero() || p.Group > 1 {
			return nil, fmt.Errorf("prune: granularity %v sets its own target: no sparsity, keep, per-layer allocation, checkpoints, stopping rules or groups", g)
		}
		blocks := NMBlocks(net, g.M)
		if len(blocks) == 0 {
			return nil, fmt.Errorf("prune: %s has no row of %d or more inputs for %v", net.Describe(), g.M, g)
		}
		blockOf := make([]int, len(net.Params))
		for i := range blockOf {
			blockOf[i] = -1
		}
		q.Candidates = make([]bool, len(net.Params))
		left := 0
		for b, blk := range blocks {
			zero := 0
			for _, w := range blk {
				blockOf[w] = b
				q.Candidates[w] = true
				if net.Pruned[w] {
					zero++
				}
			}
			left += len(blk) - max(g.N, zero)
		}
		q.Target = Target{Keep: left}
		if lobs, ok := p.Method.(LayerOBSPruner); ok {
			// Every row's N:M path is computed at once; the plan takes
			// the paths whole (the other weights' saliency is +Inf).
			q.Method = layerNMPruner{LayerOBSPruner: lobs, n: g.N, m: g.M}
			q.RankOnce = true
			break
		}
		q.Method = nmPruner{Pruner: p.Method, n: g.N, m: g.M, blockOf: blockOf, blocks: blocks}
		// The cap changes saliencies after every deletion: the scorer
		// must see every removal.
		q.RankOnce = false
	}
	return &q, nil
}

// nmPruner is a method whose candidates are capped at n removals per block
// of m weights: a weight of a block with n zeros has saliency +Inf, which
// the target (every block at n) never reaches.
type nmPruner struct {
	Pruner
	n, m    int
	blockOf []int
	blocks  [][]int
}

func (p nmPruner) String() string { return p.Pruner.String() }

// Damping is the inner method's damping (0 if it has none).
func (p nmPruner) Damping() float64 {
	if d, ok := p.Pruner.(interface{ Damping() float64 }); ok {
		return d.Damping()
	}
	return 0
}

func (p nmPruner) check() error {
	if c, ok := p.Pruner.(interface{ check() error }); ok {
		return c.check()
	}
	return nil
}

func (p nmPruner) Prepare(ctx context.Context, net *model.MLP, calib Calibration) (Scorer, error) {
	sc, err := p.Pruner.Prepare(ctx, net, calib)
	if sc == nil {
		return nil, err
	}
	return &nmScorer{Scorer: sc, p: p, net: net}, err
}

type nmScorer struct {
	Scorer
	p   nmPruner
	net *model.MLP
}

// full reports whether the block of parameter q has n zeros.
func (s *nmScorer) full(q int) bool {
	b := s.p.blockOf[q]
	zero := 0
	for _, w := range s.p.blocks[b] {
		if s.net.Pruned[w] {
			zero++
		}
	}
	return zero >= s.p.n
}

func (s *nmScorer) Saliency(w []float64, G []int) float64 {
	for _, q := range G {
		if s.full(q) {
			return math.Inf(1)
		}
	}
	return s.Scorer.Saliency(w, G)
}

// Remove adds the survivors of a block that became full to the changed
// parameters, so that the loop rescores them (to +Inf).
func (s *nmScorer) Remove(Q []int) ([]int, error) {
	changed, err := s.Scorer.Remove(Q)
	if err != nil {
		return nil, err
	}
	for _, q := range Q {
		if s.p.blockOf[q] >= 0 && s.full(q) {
			for _, w := range s.p.blocks[s.p.blockOf[q]] {
				if !s.net.Pruned[w] {
					changed = append(changed, w)
				}
			}
		}
	}
	return changed, nil
}

// The optional methods of the inner scorer.

func (s *nmScorer) TieRank(q int) int {
	if r, ok := s.Scorer.(interface{ TieRank(q int) int }); ok {
		return r.TieRank(q)
	}
	return q
}

func (s *nmScorer) FixReport() *hessian.FixReport {
	if f, ok := s.Scorer.(interface{ FixReport() *hessian.FixReport }); ok {
		return f.FixReport()
	}
	return nil
}

func (s *nmScorer) compact() {
	if c, ok := s.Scorer.(interface{ compact() }); ok {
		c.compact()
	}
}
