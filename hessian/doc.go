// Package hessian builds the curvature matrices of a network's training
// error E and inverts them for Optimal Brain Surgeon pruning.
//
// # Curvatures
//
// Every curvature is taken at the network's weights when New is called, over
// its P training patterns X, T [][]float64 (P rows of inputs and P rows of
// targets, the convention of package model), and over the FREE (unpruned)
// parameters only: it is an nf x nf matrix, nf = len(net.Free()), whose row
// and column a belong to parameter Free()[a]. Each includes the weight decay of E
// (E = (1/P) sum_p l_p + (Decay/2) ||w||^2, see package model), so each is
// C = C_data + Decay I, and every data part carries the 1/P of E:
//
//	Exact            H     = (1/P) sum_p hess l_p                        + Decay I
//	GGN              G     = (1/P) sum_p J_p^T L_p J_p                   + Decay I
//	EmpiricalFisher  F_emp = (1/P) sum_p g_p g_p^T                       + Decay I
//	MCFisher         F_mc  = (1/(P S)) sum_p sum_s g~_ps g~_ps^T         + Decay I
//
// with J_p the Jacobian of the Gauss–Newton output f (model.OutputJacobian),
// L_p = hess_f l_p, g_p = grad l_p = J_p^T grad_f l_p, and g~_ps the gradient
// at a target sampled from the model's predictive distribution (see
// MCFisher). The notation is that of shared/MATH.md.
//
// GGN, EmpiricalFisher and MCFisher are sums of rank-1 terms (RankOne),
//
//	C = Decay I + (1/P) sum_m X_m X_m^T,
//
// streamed pattern by pattern, so that the inverse never needs the matrix
// itself: GGN has one term J_p^T u_k per column u_k of a factor U U^T = L_p
// (for squared error one per output per pattern, the OBS papers' "outer
// product of derivatives"), EmpiricalFisher one term g_p per pattern and
// MCFisher S terms g~_ps / sqrt(S) per pattern.
//
// # Inverses
//
// Damping is explicit: every inverse is of C + alpha I with alpha > 0 given
// by the caller, and nothing is ever added silently when a factorization
// fails. Damp with Relative makes the decay and alpha multiples of the
// curvature's scale s = tr(C_data)/nf (C_data + (Decay + alpha) s I), so
// that a curvature c times another (the empirical Fisher is about c* G in
// its data part) gets c times its ridge; Absolute, the default, adds them
// as they are. EffectiveSamples gives n_eff = (sum ||g_p||^2)^2 /
// sum ||g_p||^4, the effective number of per-pattern gradients. Three inverses of a RankOne curvature give the same matrix up to
// rounding:
//
//   - InverseRecursive, Hassibi & Stork's recursion, one rank-1 update per term;
//   - InverseBlocked, the Woodbury identity applied to b terms at a time with
//     matrix products (6.6x faster than the recursion at nf = 2000 and 11x
//     at nf = 4000 in the pure-Go build on 2 cores; see products.go);
//   - InverseDirect, a Cholesky factorization of the formed matrix.
//
// The exact Hessian can be indefinite; InverseIndefinite inverts it with an
// explicit, reported fix (Fix).
//
// Without an nf x nf matrix: InverseBlocks inverts the diagonal blocks of
// C + alpha I (contiguous rows, BlockStarts), streaming a RankOne
// curvature's terms once into every block (BlockAccumulator) and forming
// the exact Hessian's blocks from Hessian-vector products; InverseDiagonal
// inverts its diagonal. Memory is the blocks, nf B floats.
//
// # Linear algebra
//
// All matrix work goes through gonum: package mat, and blas64 and lapack64
// where a routine works on raw storage. The large products of
// InverseBlocked, of forming a rank-1 sum and of InverseIndefinite are cut
// into tiles run on GOMAXPROCS goroutines, each tile a sequence of gonum's
// matrix-vector calls (products.go), with results that do not depend on
// GOMAXPROCS. The build tag openblas routes blas64 and lapack64, for the
// whole program, to OpenBLAS and LAPACKE through cgo (Debian packages
// libopenblas-dev and liblapacke-dev), and each product becomes one call:
//
//	go test -tags openblas ./hessian
//
// References: B. Hassibi and D. G. Stork, "Second order derivatives for
// network pruning: Optimal Brain Surgeon", NIPS 5 (1993); B. Hassibi,
// D. G. Stork and G. J. Wolff, "Optimal Brain Surgeon and general network
// pruning", IEEE ICNN (1993); N. N. Schraudolph, "Fast curvature
// matrix-vector products for second-order gradient descent", Neural
// Computation 14 (2002) for the generalized Gauss–Newton matrix; F. Kunstner,
// L. Balles and P. Hennig, "Limitations of the empirical Fisher
// approximation for natural gradient descent", NeurIPS (2019) for the
// empirical and Monte-Carlo Fishers.
package hessian
