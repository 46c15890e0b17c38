package prune

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// Terms is the builder of hessian.New: the curvature of kind Curvature over the
// calibration patterns, the rank-1 kinds streamed term by term (the exact
// Hessian formed once). Options are the Monte-Carlo Fisher's.
type Terms struct {
	Curvature hessian.Kind
	Options   *hessian.Options
}

// Kind returns the curvature's kind.
func (b Terms) Kind() hessian.Kind { return b.Curvature }

// Build returns hessian.New(b.Curvature, net, calib.X, calib.T, b.Options)
// bound to ctx (hessian.WithContext).
func (b Terms) Build(ctx context.Context, net *model.MLP, calib Calibration) (hessian.Curvature, error) {
	c, err := hessian.New(b.Curvature, net, calib.X, calib.T, b.Options)
	if err != nil {
		return nil, err
	}
	return hessian.WithContext(ctx, c), nil
}

// SparseOneHot is the builder of hessian.NewSparse: a GGN or empirical
// Fisher whose first layer's products run over the non-zero inputs only
// (one-hot codings such as NETtalk's).
type SparseOneHot struct{ Curvature hessian.Kind }

// Kind returns the curvature's kind.
func (b SparseOneHot) Kind() hessian.Kind { return b.Curvature }

// Build returns hessian.NewSparse(b.Curvature, net, calib.X, calib.T)
// bound to ctx (hessian.WithContext).
func (b SparseOneHot) Build(ctx context.Context, net *model.MLP, calib Calibration) (hessian.Curvature, error) {
	c, err := hessian.NewSparse(b.Curvature, net, calib.X, calib.T)
	if err != nil {
		return nil, err
	}
	return hessian.WithContext(ctx, c), nil
}

// GGNDiagonal is the builder of the GGN's diagonal alone, by
// model.MLP.GGNDiagonal in batches (no n x n matrix and no rank-1 term
// stored): enough for OBD. Its curvature's Dense panics.
type GGNDiagonal struct{}

// Kind returns hessian.GGN.
func (GGNDiagonal) Kind() hessian.Kind { return hessian.GGN }

// Build computes the diagonal.
func (GGNDiagonal) Build(_ context.Context, net *model.MLP, calib Calibration) (hessian.Curvature, error) {
	if err := net.CheckData(calib.X, calib.T); err != nil {
		return nil, err
	}
	all := net.GGNDiagonal(calib.X, calib.T)
	free := net.Free()
	d := make([]float64, len(free))
	for r, q := range free {
		d[r] = all[q]
	}
	return &diagCurvature{free: free, d: d, p: len(calib.X), decay: net.Decay}, nil
}

// diagCurvature is a curvature known by its diagonal only.
type diagCurvature struct {
	free  []int
	d     []float64
	p     int
	decay float64
}

func (c *diagCurvature) Kind() hessian.Kind { return hessian.GGN }
func (c *diagCurvature) Dim() int           { return len(c.free) }
func (c *diagCurvature) Free() []int        { return c.free }
func (c *diagCurvature) Norm() int          { return c.p }
func (c *diagCurvature) Decay() float64     { return c.decay }
func (c *diagCurvature) Diag(dst []float64) {
	if len(dst) != len(c.d) {
		panic(fmt.Sprintf("prune: diagonal destination of length %d, want %d", len(dst), len(c.d)))
	}
	copy(dst, c.d)
}
func (c *diagCurvature) Dense(*mat.SymDense) {
	panic("prune: the GGNDiagonal builder's curvature has its diagonal only")
}
