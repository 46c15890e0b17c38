// Package study measures when the Gauss–Newton matrix G and the empirical
// Fisher F_emp agree (../shared/MATH.md, "When do G and F_emp agree?") and
// compares pruning methods on one trained network.
//
// Run trains small students in the settings of Settings (teacher–student
// regression with and without noise, heteroscedastic noise, a smaller and
// an overparameterised student, sigmoid output with squared error, softmax
// classification with sampled, argmax, smoothed and flipped labels) over 20
// seeds, and scores the OBS predictions of the exact Hessian, G, F_emp,
// F_emp/c* (the scale control), relative decay, the Monte-Carlo Fisher with
// 1 and 64 samples, the population empirical Fisher, the mini-batch
// empirical Fisher, OBD and magnitude against one shared ground truth: E
// after deleting each parameter and retraining the rest (truth.go); and
// again with curvatures on P_c independent calibration patterns (the
// calibration factor). Markdown renders the results, with bootstrap
// intervals, Bonferroni-corrected paired differences and opening sentences
// chosen by conditions on the numbers, as docs/gn-vs-fisher.md; SeedsCSV
// the per-seed results. Every curvature carries the 1/P of E.
//
// Diagnose answers, for one network and data set, "is the empirical Fisher
// usable here?" (obs hessian prints it): the best scale c* of F_emp against
// G, the distance left after scaling read against the distances of
// Monte-Carlo Fishers with one sample per pattern (a null of the same
// sample size), n_eff, an information-matrix-equality statistic with its
// finite-sample floor and the scale from G to H.
//
// Measure is the single-network measurement of the first study (c* and
// distance, saliency agreement, and each curvature's prediction scored
// against its own OBS step); the study no longer uses it, but its tests
// check the law of c* in closed form.
//
// Compare prunes copies of one network with several methods under the same
// rules (prune.Run) and summarises each run.
//
// The summaries obs prints and records in model files are built here too,
// from the library's results: TrainSummary (obs train), EvalSummary,
// PruneSummary, SaliencySummary, CompareSummary, RunSummary (obs study),
// and PruneLayerwise and PruneLayerUnits, which run layer-wise OBS and
// return its summaries; ParseMethods, ParseKinds and ParseSeeds read the
// commands' lists.
//
// Nothing here prints: progress goes through callbacks, results are returned.
package study
