package hessian_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/obs-toolkit/obs/hessian"
	"github.com/obs-toolkit/obs/model"
)

// The Gauss–Newton matrix of a small network, inverted by Hassibi and
// Stork's recursion and by blocked Woodbury updates, with explicit damping.
func Example() {
	net, _ := model.New(model.Spec{Sizes: []int{2, 2, 1}, Hidden: model.Sigmoid, Output: model.Sigmoid, Loss: model.SquaredError})
	net.Init(rand.New(rand.NewPCG(1, 2)))
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	T := [][]float64{{0}, {1}, {1}, {0}}

	c, err := hessian.New(hessian.GGN, net, X, T, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	g := c.(hessian.RankOne)
	fmt.Printf("%v: %d free parameters, %d rank-1 terms, 1/P with P = %d\n", c.Kind(), c.Dim(), g.NumTerms(), c.Norm())

	const alpha = 1e-4
	var rec, blk mat.SymDense
	if err := hessian.InverseRecursive(&rec, g, alpha); err != nil {
		fmt.Println(err)
		return
	}
	if err := hessian.InverseBlocked(&blk, g, alpha, 0); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("recursive and blocked agree:", hessian.RelFrobenius(&blk, &rec) < 1e-9)

	var bad mat.SymDense
	fmt.Println(hessian.InverseDirect(&bad, g, 0))
	// Output:
	// ggn: 9 free parameters, 4 rank-1 terms, 1/P with P = 4
	// recursive and blocked agree: true
	// hessian: damping alpha must be a finite number > 0 (got alpha = 0)
}

func ExampleParseKind() {
	for _, s := range []string{"ggn", "EF", "hessian"} {
		k, err := hessian.ParseKind(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(k)
	}
	var zero hessian.Kind
	fmt.Println("zero value:", zero)
	// Output:
	// ggn
	// ef
	// hessian: unknown curvature "hessian" (want ggn, ef, mcfisher, exact)
	// zero value: ggn
}

// The inverses of the diagonal blocks of the Gauss–Newton matrix, blocks of
// 4 free parameters (the last one shorter), from one pass over the terms;
// the exact Hessian's blocks come from Hessian-vector products.
func ExampleInverseBlocks() {
	net, _ := model.New(model.Spec{Sizes: []int{2, 2, 1}})
	net.Init(rand.New(rand.NewPCG(1, 2)))
	X := [][]float64{{0, 0}, {0, 1}, {1, 0}, {1, 1}}
	T := [][]float64{{0}, {1}, {1}, {0}}
	for _, kind := range []hessian.Kind{hessian.GGN, hessian.Exact} {
		c, err := hessian.New(kind, net, X, T, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		starts := hessian.BlockStarts(c.Dim(), 4)
		blocks, rep, err := hessian.InverseBlocks(c, starts, 1e-2, hessian.FixAbs)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%v: blocks start at %v, sizes %d %d %d; negative eigenvalues %d\n", kind, starts[:len(starts)-1],
			blocks[0].SymmetricDim(), blocks[1].SymmetricDim(), blocks[2].SymmetricDim(), rep.Negative)
	}
	// Output:
	// ggn: blocks start at [0 4 8], sizes 4 4 1; negative eigenvalues 0
	// exact: blocks start at [0 4 8], sizes 4 4 1; negative eigenvalues 5
}
