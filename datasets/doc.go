// Package datasets provides the supervised data sets used by obs: the XOR
// problem, the three MONK's problems of Thrun et al. (1991), whose UCI files
// are built in, and CSV files (numeric targets, or class labels encoded
// one-hot; Set.Split for a seeded hold-out, Set.Standardized for
// standardisation). It also reads and writes the weight files of obs import
// and export (.npz, .safetensors; ReadWeights, WriteWeights) and turns a
// PyTorch state dict into a network and back (ImportMLP, ExportMLP: masks
// of torch.nn.utils.prune, the standardisation folded or stored); see
// Example_pyTorch.
//
// A data set is a Set: P patterns, each with N inputs and K targets, held as
// dense row slices with column names. Every loader returns a Set that passes
// Set.Validate. Its Inputs and Targets are the X, T [][]float64 that the
// model, hessian and prune packages and this package's metrics (Evaluate,
// PerClass, Regression) take (P rows of inputs and P rows of targets), the
// one data convention of the library. CSV columns are
// read by name: CSVOptions.Targets names the targets and, for a trained
// network, CSVOptions.Inputs its inputs in the network's order, so a file
// with the same columns in another order reads the same.
//
// # MONK's problems
//
// The MONK's problems (S.B. Thrun et al., "The MONK's Problems: A Performance
// Comparison of Different Learning Algorithms", Technical Report CMU-CS-91-197,
// Carnegie Mellon University, 1991; UCI Machine Learning Repository, data set
// 70) describe robots by six attributes with domains
//
//	a1, a2, a4 in {1,2,3};  a3, a6 in {1,2};  a5 in {1,2,3,4}
//
// giving 3*3*2*3*4*2 = 432 attribute vectors. The UCI files name a vector
// data_k, k being its 1-based position in the lexicographic enumeration
// (MonkDomain). The target concepts are
//
//	MONK-1: (a1 = a2) or (a5 = 1)
//	MONK-2: exactly two of a1..a6 equal 1
//	MONK-3: (a5 = 3 and a4 = 1) or (a5 != 4 and a2 != 3)
//
// and the MONK-3 training file has 6 of its 122 labels flipped (noise).
// Inputs are one-hot encoded into 17 binary inputs (3+3+2+3+4+2) as in the
// Optimal Brain Surgeon papers (Hassibi, Stork and Wolff, 1993); see MonkEncode.
//
// The test files monks-N.test list all 432 vectors labelled by the true
// concept, so MonkTest reproduces them exactly. The original training samples
// cannot be rebuilt from the concepts; the six UCI files (CC BY 4.0) are built
// into the package and returned by MonkUCI. LoadMonk (or Load with a MONK
// directory) reads other copies.
//
// # Errors
//
// Malformed input is reported as a returned error of one line, prefixed
// "datasets: " and naming the file, line and problem. Calling a function with
// an invalid MONK problem number or an attribute vector outside the domain is a
// programming error and panics.
package datasets
