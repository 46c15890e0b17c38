// Package reproduce runs the experiments of the Optimal Brain Surgeon papers
// (B. Hassibi and D. G. Stork, "Second order derivatives for network
// pruning: Optimal Brain Surgeon", NIPS 5, 1993; B. Hassibi, D. G. Stork and
// G. J. Wolff, "Optimal Brain Surgeon and general network pruning", IEEE
// ICNN 1993) with the model, hessian and prune packages, and returns the
// measured results next to the published ones:
//
//   - XOR (RunXOR): 2-2-1 sigmoid networks with biases, one start per seed,
//     trained to a minimum. For every network that solves XOR, the first
//     parameter each method deletes is compared with the brute-force correct
//     one (the deletion that raises E least after retraining the rest), and
//     every method prunes the network down to the smallest one that still
//     solves XOR. The paper's claim is that only OBS deletes the correct
//     weight in every case.
//   - MONK-1, -2, -3 (RunMonk): the paper's 17-3-1 and 17-2-1 networks,
//     trained with weight decay and pruned with OBS (Gauss–Newton curvature,
//     the paper's "outer product" approximation), the empirical Fisher, the
//     exact Hessian, OBD and magnitude pruning under the same stopping rule;
//     published: 58 -> 14, 39 -> 15 and 39 -> 4 parameters at 100%, 100% and
//     97.2% test accuracy.
//
// Formulas and the experiments' facts are in ../shared/MATH.md. Every result
// records the damping alpha, the weight decay, the curvature, the fix of the
// exact Hessian and the seeds it depends on.
//
// Seeds: network s starts from model.(*MLP).Init with
// rand.New(rand.NewPCG(s, SeedStream)), the stream of `obs train --seed s`, so
// every network here can be rebuilt with obs train. Work is spread over
// goroutines, but every result is stored by its index, so the results do not
// depend on scheduling: the same settings give identical results.
//
// The package never prints; Settings.Progress reports progress.
package reproduce
