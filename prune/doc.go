// Package prune removes parameters from a trained network with Optimal Brain
// Surgeon (Hassibi & Stork, "Second order derivatives for network pruning:
// Optimal Brain Surgeon", NIPS 5, 1993), Optimal Brain Damage (LeCun,
// Denker & Solla, NIPS 2, 1990) or magnitude pruning, and records for every
// step the increase of the training error it predicted and the increase
// that actually happened.
//
// With C the damped curvature (hessian.Curvature plus alpha I, over the
// unpruned parameters) and w the weights:
//
//	OBS saliency        L_q = w_q^2 / (2 [C^-1]_qq), the predicted increase
//	OBS update          dw = -(w_q / [C^-1]_qq) C^-1 e_q, which sets w_q to exactly 0
//	group OBS (set Q)   dw = -C^-1 E_Q ([C^-1]_QQ)^-1 w_Q, predicted 1/2 w_Q^T ([C^-1]_QQ)^-1 w_Q
//	OBD saliency        1/2 C_qq w_q^2 (diagonal of the undamped curvature), no update
//	magnitude           |w_q|, no update, no prediction
//
// After a deletion the inverse either follows by the constrained downdate
// C^-1 <- C^-1 - C^-1 e_q e_q^T C^-1 / [C^-1]_qq (exact for a quadratic
// error) or is rebuilt at the new weights over the survivors every
// Config.Recompute deletions; the classic implementations (SNNS, FCNN4R,
// NNSYSID) rebuild after every deletion, Recompute = 1.
//
// How C^-1 is stored is Config.Structure, a choice beside the curvature's
// kind: Dense (the default), Blocks (WoodFisher's contiguous blocks),
// Layers (one block per layer) or Diagonal (OBD-like), one file each, all
// behind the InverseCurvature interface (Diag, Block, Columns, Downdate).
// OBSStep and Update are the OBS step for a loop of one's own; Run is the
// step-by-step loop with its measurements, OneShot the one-shot mode (one
// build, every deletion by downdate) for large networks.
//
// Data follow package model's convention: the training set is X, T
// [][]float64, P rows of inputs and P rows of targets (Run, OneShot,
// Analyze); an optional held-out set, on which Run and OneShot also measure
// the error and accuracy, goes in Config.TestX, Config.TestT (nil: none).
// Layer-wise OBS (LayerwiseOBS, NewLayerPaths) needs only the inputs X of
// its N calibration patterns.
//
// Library code never prints: progress goes through Config.Progress.
package prune
