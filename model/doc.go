// Package model implements a feed-forward network as a sequence of layers
// with exact first and second derivatives of its loss, the losses used by
// the Optimal Brain Surgeon literature, and full-batch and mini-batch
// trainers. A network is either the fully connected MLP of Spec.Sizes or a
// list of layers named in order (Spec.Input, Spec.Layers: linear, conv,
// pools, flatten, activations; see ParseLayers), such as LeNet-5.
//
// # Data
//
// A data set is two slices of rows, always X then T and under those names:
// X holds P rows of NumInputs inputs and T the P matching rows of NumOutputs
// targets (row p of each is pattern p). Every function of model, hessian and
// prune that reads a data set takes it as X, T [][]float64 (package datasets
// gives them as Set.Inputs and Set.Targets); CheckData says whether they fit
// a network.
//
// # Arguments and settings
//
// A method that writes its result into the caller's memory takes the
// scratch *Workspace first (from NewWorkspace, reused across calls) and the
// destination right after it: Grad(ws, grad, X, T), HessVec(ws, dst, v, X,
// T), PatternHessian(ws, hess, x, t). The layers' local rules take their
// outputs first: Backward(gx, gtheta, gy, x, y, theta). Settings are
// structs whose zero value is the documented default, with no pseudo-value:
// the zero Activation is Sigmoid, a zero Spec.Output is the loss's own
// output, a zero Momentum is DefaultMomentum (NoMomentum says none), and a
// nil *TrainSettings or *MiniBatchSettings is the zero value.
//
// # Parameters
//
// Every trainable parameter, weights and biases, lives in one flat vector
// MLP.Params of length n. Layer l (1-based, l = 1..L) maps the Sizes[l-1]
// units of layer l-1 to the Sizes[l] units of layer l; its block is a
// row-major matrix with Sizes[l] rows and Sizes[l-1]+1 columns, the last
// column holding the biases:
//
//	index(l, j, i) = Offset(l) + j*(Sizes[l-1]+1) + i   weight from unit i of layer l-1 to unit j of layer l
//	index(l, j, bias) = Offset(l) + j*(Sizes[l-1]+1) + Sizes[l-1]
//
// Blocks are stored in layer order. Names() gives every index a name such
// as "in3->h1.0" (weight from input 3 to unit 0 of hidden layer 1),
// "h1.0->out0" or "bias->out0".
//
// In a network given by its layers, the weight layers l = 1..L are its
// Linear and Conv2d layers in order, each block a matrix of rows (a
// Linear's outputs, a Conv2d's output channels) of cols weights (a
// Linear's inputs, a Conv2d's Channels*Kernel*Kernel in PyTorch's order
// c, u, v), each row followed by its bias unless the layer has none
// (LayerShape); Index(l, j, i) and Locate address them as above with
// i == cols for the bias, and the names are "conv1.w[o,c,u,v]",
// "conv1.b[o]", "linear2.w[j,i]", "linear2.b[j]".
//
// # Layers
//
// A network is a sequence of layers (MLP.Layers), each a value behind the
// Layer interface that owns one block of the flat parameter vector, the
// blocks in the order of the layers. The MLP of sizes n_0-n_1-...-n_L is
//
//	Linear(n_0 -> n_1), Act(Hidden), Linear(n_1 -> n_2), Act(Hidden), ..., Linear(n_{L-1} -> n_L)
//
// whose blocks are exactly the layer blocks above (Act has no parameters);
// the output activation is not a layer but part of the loss (it maps the
// last layer's output z_L to a_L, see below), so that softmax stays tied
// to cross-entropy and the Gauss–Newton output f can be z_L. A Linear
// with NoBias (PyTorch's bias=False) has no bias column: row j of its
// block holds only its Sizes[l-1] weights.
//
// Each layer implements four local rules, in a single-pattern and a
// batched form (rows of patterns, through BLAS level 3): Forward, the
// vector–Jacobian product Backward (backprop), the Jacobian–vector product
// Tangent (forward mode, Pearlmutter's R{.} of the values) and
// BackwardTangent, the R-operator of Backward (the R-operator is a JVP of
// the backward pass). Every pass over the network is one loop over the
// layers composing these rules: the prediction, the per-pattern gradient,
// the output and unit Jacobians, the exact Hessian–vector products (single
// and batched), the batched gradient, the GGN diagonal (with the rule
// SquaredGrad) and the sparse one-hot first layer (a Linear whose batched
// products visit only the non-zero inputs). A new kind of layer is one type
// with its own finite-difference test: Conv2d (by im2col and gemm),
// MaxPool2d, AvgPool2d and Flatten came that way, on patterns that are flat
// C*H*W vectors in PyTorch's memory order.
//
// The element-wise activations are identity, sigmoid, tanh, relu,
// leakyrelu (slope LeakySlope = 0.01 below 0, PyTorch's default), gelu
// (z Phi(z), the erf form), gelu-tanh (its tanh approximation) and silu
// (z sigmoid(z)); at the kink of relu and leakyrelu the derivative is the
// left one, as in PyTorch.
//
// A mask marks pruned parameters. A pruned parameter is exactly 0, and every
// derivative this package returns is 0 at its index, so nothing (training
// included) moves it.
//
// # Losses and the Gauss–Newton split
//
// With P patterns (x_p, t_p) and per-pattern loss l_p, the training error is
//
//	E(w) = (1/P) sum_p l_p(w) + (Decay/2) sum_{q unmasked} w_q^2.
//
// The supported output/loss pairs and the network output f that the
// Gauss–Newton matrix and the output Jacobian refer to (see ../shared/MATH.md):
//
//	SquaredError, identity/sigmoid/tanh output: l = 1/2 ||a_L - t||^2,        f = a_L (post-activation), L_p = I
//	BinaryCrossEntropy, sigmoid output:         l = sum_k softplus(z_k) - t_k z_k, f = z_L (logits), L_p = diag(pi(1-pi))
//	CrossEntropy, softmax output:               l = s logsumexp(z) - t.z, s = sum_k t_k, f = z_L, L_p = s (diag(pi) - pi pi^T)
//
// so that the per-pattern gradient is g_p = J_p^T grad_f l_p and the
// Gauss–Newton matrix is (1/P) sum_p J_p^T L_p J_p.
//
// # Exact second derivatives
//
// Hessian-vector products are exact, by Pearlmutter's R-operator ("Fast
// exact multiplication by the Hessian", Neural Computation 6, 1994). The full
// per-pattern Hessian is formed from n such products; no finite differences
// are used anywhere except in tests, as the independent reference.
package model
