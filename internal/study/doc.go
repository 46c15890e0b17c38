// Package study measures when the Gauss–Newton matrix G and the empirical
// Fisher F_emp agree (../shared/MATH.md, "When do G and F_emp agree?") and
// compares pruning methods on one trained network.
//
// Measure takes a network at some weights and its training set and reports,
// for the data parts of the curvatures (weight decay, which every curvature
// shares as Decay I, left out; every data part carries the 1/P of E):
//
//   - the best scale c* = <G, F_emp>_F / <G, G>_F (hessian.BestScale) and the
//     relative distance ||c* G - F_emp||_F / ||F_emp||_F left after it, with
//     the mean squared residual (hessian.MeanSquaredResidual), which c*
//     should match for squared error with noise-like residuals;
//   - how close a Monte-Carlo (true) Fisher with many samples is to G;
//   - the Spearman correlation of the OBS saliencies w_q^2 / (2 [(C+alpha I)^-1]_qq)
//     that F_emp and G give, and whether their first choices agree;
//   - for GGN, EF, MC Fisher and the exact Hessian (made definite by an
//     explicit fix, FixShift by default), how well OBS's predicted increase
//     of E ranks the actual increases over all candidates (prune.Analyze).
//
// Run repeats Measure over the settings of Settings (teacher–student
// regression with noise, training progress, misspecification, number of
// patterns, classification) and seeds, and Report renders the results as the
// markdown report docs/gn-vs-fisher.md and its figures.
//
// Compare prunes copies of one network with several methods under the same
// rules (prune.Run) and summarises each run.
//
// Nothing here prints: progress goes through callbacks, results are returned.
package study
