#!/usr/bin/python3
"""PyTorch autograd fixtures for the curvatures of a tiny CNN.

Builds the tiny convolutional network

  input 1x6x6, layers conv:2:3:p=1,tanh,maxpool:2,conv:3:2:nobias,relu,avgpool:1,flatten,linear:3

(a padded conv with bias, max pooling, a bias-free conv, average pooling,
a linear head; cross-entropy on a softmax output) with seeded random float64
weights and data, and writes, from PyTorch autograd alone (torch.nn.functional
layers, torch.autograd.functional.jacobian and hessian; nothing of obs):

  params     the weights in obs's parameter order (per layer, per output
             channel or unit: its weights in PyTorch's order, then its bias)
  x, t       the patterns (flat C*H*W, PyTorch's memory order) and one-hot targets
  loss       E = (1/P) sum_p l_p (CrossEntropyLoss, mean)
  grad       dE/dtheta
  jacobians  J_p = dz_p/dtheta, z the logits (P x K x n)
  ggn        (1/P) sum_p J_p^T (diag(pi_p) - pi_p pi_p^T) J_p
  ef         (1/P) sum_p g_p g_p^T, g_p = dl_p/dtheta
  hessian    d^2 E/dtheta^2

The Go test hessian/torch_cnn_test.go reads them, so the checks run without
Python:

  /usr/bin/python3 scripts/torch_cnn_fixtures.py hessian/testdata/torch_cnn.json

Debian's python3-torch and python3-numpy.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

INPUT = [1, 6, 6]
LAYERS = "conv:2:3:p=1,tanh,maxpool:2,conv:3:2:nobias,relu,avgpool:1,flatten,linear:3"
P = 5


def parse(layers):
    out = []
    for item in layers.split(","):
        f = item.split(":")
        d = {"kind": f[0]}
        if f[0] == "linear":
            d["out"] = int(f[1])
            d["bias"] = "nobias" not in f[2:]
        elif f[0] == "conv":
            d["out"], d["k"] = int(f[1]), int(f[2])
            d["s"], d["p"], d["bias"] = 1, 0, True
            for o in f[3:]:
                if o == "nobias":
                    d["bias"] = False
                elif o.startswith("s="):
                    d["s"] = int(o[2:])
                elif o.startswith("p="):
                    d["p"] = int(o[2:])
        elif f[0] in ("maxpool", "avgpool"):
            d["k"] = int(f[1])
        out.append(d)
    return out


def blocks(spec, shape):
    """The (offset, rows, cols, bias, weight shape) of each layer's block."""
    res, off = [], 0
    for d in spec:
        if d["kind"] == "conv":
            c, h, w = shape
            cols = c * d["k"] * d["k"]
            res.append((off, d["out"], cols, d["bias"], (d["out"], c, d["k"], d["k"])))
            off += d["out"] * (cols + d["bias"])
            oh = (h + 2 * d["p"] - d["k"]) // d["s"] + 1
            ow = (w + 2 * d["p"] - d["k"]) // d["s"] + 1
            shape = [d["out"], oh, ow]
        elif d["kind"] == "linear":
            cols = shape[0]
            res.append((off, d["out"], cols, d["bias"], (d["out"], cols)))
            off += d["out"] * (cols + d["bias"])
            shape = [d["out"]]
        else:
            res.append(None)
            if d["kind"] in ("maxpool", "avgpool"):
                shape = [shape[0], shape[1] // d["k"], shape[2] // d["k"]]
            elif d["kind"] == "flatten":
                n = 1
                for v in shape:
                    n *= v
                shape = [n]
    return res, off


def forward(spec, bl, theta, x):
    """Logits of the flat patterns x (N x C*H*W) at the flat weights theta."""
    h = x.view(x.shape[0], *INPUT)
    for d, b in zip(spec, bl):
        if b is not None:
            off, rows, cols, bias, wshape = b
            blk = theta[off:off + rows * (cols + bias)].view(rows, cols + bias)
            W = blk[:, :cols].reshape(wshape)
            bb = blk[:, cols] if bias else None
        k = d["kind"]
        if k == "conv":
            h = F.conv2d(h, W, bb, stride=d["s"], padding=d["p"])
        elif k == "linear":
            h = F.linear(h, W, bb)
        elif k == "maxpool":
            h = F.max_pool2d(h, d["k"])
        elif k == "avgpool":
            h = F.avg_pool2d(h, d["k"])
        elif k == "flatten":
            h = h.flatten(1)
        elif k == "relu":
            h = torch.relu(h)
        elif k == "tanh":
            h = torch.tanh(h)
        elif k == "sigmoid":
            h = torch.sigmoid(h)
        else:
            raise ValueError(k)
    return h


def main():
    path = sys.argv[1]
    torch.manual_seed(21)
    spec = parse(LAYERS)
    bl, n = blocks(spec, INPUT)
    theta = 0.7 * torch.randn(n)
    x = torch.randn(P, INPUT[0] * INPUT[1] * INPUT[2])
    cls = torch.randint(0, 3, (P,))
    t = F.one_hot(cls, 3).double()

    def E(th):
        return F.cross_entropy(forward(spec, bl, th, x), cls)

    loss = E(theta)
    th = theta.clone().requires_grad_()
    (grad,) = torch.autograd.grad(E(th), th)
    hess = torch.autograd.functional.hessian(E, theta)
    jac, ggn, ef = [], torch.zeros(n, n), torch.zeros(n, n)
    for p in range(P):
        xp = x[p:p + 1]
        J = torch.autograd.functional.jacobian(lambda th: forward(spec, bl, th, xp)[0], theta)
        pi = torch.softmax(forward(spec, bl, theta, xp)[0], 0)
        L = torch.diag(pi) - torch.outer(pi, pi)
        ggn += J.T @ L @ J / P
        th = theta.clone().requires_grad_()
        (g,) = torch.autograd.grad(F.cross_entropy(forward(spec, bl, th, xp), cls[p:p + 1]), th)
        ef += torch.outer(g, g) / P
        jac.append(J.tolist())
    out = {
        "input": INPUT, "layers": LAYERS, "loss": "ce",
        "params": theta.tolist(), "x": x.tolist(), "t": t.tolist(),
        "loss_value": loss.item(), "grad": grad.tolist(), "jacobians": jac,
        "ggn": ggn.tolist(), "ef": ef.tolist(), "hessian": hess.tolist(),
        "torch_version": torch.__version__,
    }
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"wrote {path}: {n} parameters, {P} patterns, E = {loss.item():.6f}", file=sys.stderr)


if __name__ == "__main__":
    main()
