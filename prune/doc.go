// Package prune removes parameters from a trained network with Optimal Brain
// Surgeon (Hassibi & Stork, "Second order derivatives for network pruning:
// Optimal Brain Surgeon", NIPS 5, 1993), Optimal Brain Damage (LeCun,
// Denker & Solla, NIPS 2, 1990), layer-wise OBS (Dong, Chen & Pan, NIPS
// 2017; Frantar & Alistarh, NeurIPS 2022) or magnitude pruning, and records
// for every step the increase of the training error it predicted and the
// increase that actually happened.
//
// With C the damped curvature (hessian.Curvature plus alpha I, over the
// unpruned parameters) and w the weights:
//
//	OBS saliency        L_q = w_q^2 / (2 [C^-1]_qq), the predicted increase
//	OBS update          dw = -(w_q / [C^-1]_qq) C^-1 e_q, which sets w_q to exactly 0
//	group OBS (set G)   dw = -C^-1 E_G ([C^-1]_GG)^-1 w_G, predicted 1/2 w_G^T ([C^-1]_GG)^-1 w_G
//	OBD saliency        1/2 C_qq w_q^2 (diagonal of the undamped curvature), no update
//	magnitude           |w_q| (a group: ||w_G||), no update, no prediction
//
// After a deletion the inverse either follows by the constrained downdate
// C^-1 <- C^-1 - C^-1 E_G ([C^-1]_GG)^-1 E_G^T C^-1 (exact for a quadratic
// error) or is rebuilt at the new weights over the survivors on a
// schedule; the classic implementations (SNNS, FCNN4R, NNSYSID) rebuild
// after every deletion, Every(1).
//
// # One loop, methods as values
//
// As gonum's optimize runs every optimize.Method in one Minimize, Prune is
// the one pruning loop and a method is a value behind the Pruner interface,
// one file each: MagnitudePruner (magnitude.go), OBDPruner (obd.go),
// OBSPruner (obs.go) and LayerOBSPruner (layerwise.go). A method's own
// settings are fields of its type (OBS's damping, structure, inverse form);
// Prepare builds its state at the current weights, a Scorer that scores a
// group of parameters, makes the step that removes a set (OBSStep for OBS)
// and follows the survivors (the downdate).
//
// Two further choices are values, independent of the method and of each
// other: how the curvature is built, a Builder from a Calibration set
// (Terms: hessian.New; SparseOneHot: hessian.NewSparse; GGNDiagonal: the
// diagonal alone), and how its inverse is stored, a Structure: Dense (the
// default), Blocks (WoodFisher's contiguous blocks), Layers (one block per
// layer), Diagonal or KFAC (Kronecker-factored Linear and conv layers,
// with its builder KFACFactors), one file each, all behind the InverseCurvature interface
// (Diag, Block, Columns, Downdate). The calibration set (FirstN,
// Sample) is what the curvature is built from; E, the accuracy and the
// stopping rules are measured on the data set given to Prune.
//
// The Plan holds the policies of the loop: the Target (sparsity or
// parameters kept, rounded down or to the nearest), the candidates (every
// parameter, a mask such as Weights, or Groups of parameters removed
// together, the unit of structured pruning), global or per-layer
// allocation, checkpoints passed on the way, the number of units per step,
// the rebuild Schedule (Every, Fraction), RankOnce (one-shot ranking for
// the methods without an update), per-step measurements with the stopping
// Rules, retraining (every n steps, above an error, at checkpoints, with
// model.Train or a function of one's own) and the removal of dead units.
// Cancellation is by the context given to Prune; it reaches the curvature's
// long loops through hessian.WithContext.
//
// # Structured pruning
//
// Plan.Granularity makes the unit of deletion a hidden unit (ByUnit: the
// groups of UnitGroups, a unit's incoming weights and bias or its outgoing
// weights), a convolution's filter (ByFilter: FilterGroups) or an N:M
// pattern (ByNM: N of every M consecutive input weights
// of a row, NMBlocks, removed in the method's order among the blocks that
// have fewer than N zeros, as OBC does). Every method scores a unit by its
// group form (OBS exact for the inverse's structure, the group solve of a
// block-diagonal inverse running block by block; OBD the sum; magnitude the
// L2 or L1 norm), LayerUnitOBSPruner is layer-wise OBS for units, and
// LayerOBSPruner with ByNM follows every row's greedy N:M path.
// Compact then returns the physically smaller network, and MultiplyAdds its
// cost per pattern.
//
// Run (step by step, every step measured) and OneShot (one build, every
// deletion by downdate, only the start and the end measured, the mode of
// large networks) are Prune with the plan a flat Config describes
// (Config.Plan), the form the command line fills in; Analyze measures every
// candidate deletion at the current weights with the same method values.
// OBSStep and Update are the OBS step for a loop of one's own.
//
// Data follow package model's convention: the training set is X, T
// [][]float64, P rows of inputs and P rows of targets (Prune, Run, OneShot,
// Analyze); an optional held-out set, on which they also measure the error
// and accuracy, goes in Plan.TestX, Plan.TestT (Config.TestX, Config.TestT;
// nil: none). Layer-wise OBS (LayerwiseOBS, NewLayerPaths) needs only the
// inputs X of its N calibration patterns.
//
// Library code never prints: progress goes through Plan.Progress.
package prune
