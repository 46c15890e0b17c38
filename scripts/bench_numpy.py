#!/usr/bin/python3
"""Time NumPy on the problems of hessian/bench_test.go, for comparison.

Problems: nf = n free parameters, M = 4n Gaussian rank-1 terms (the columns
of U), normaliser P = M, weight decay 1e-4, damping alpha = 1e-3, so
C + alpha I = U U^T / P + (1e-4 + 1e-3) I. The Go benchmarks draw their
terms with Go's PCG; these are NumPy's, of the same distribution and size,
so only the timings are comparable, not the matrices.

  direct-inv   form C, then np.linalg.inv (LU)
  direct-chol  form C, then np.linalg.cholesky, inv(L), L^-T L^-1
  blocked      the Woodbury loop of hessian.InverseBlocked with b terms at a time
  recursive    the Hassibi-Stork rank-1 recursion (only with --recursive; slow)

Usage (Debian: apt-get install python3-numpy; NumPy then uses the system
BLAS, OpenBLAS when libopenblas is installed):

  /usr/bin/python3 scripts/bench_numpy.py [--sizes 1000,2000] [--block 256] [--recursive]
"""

import argparse
import time

import numpy as np

DECAY = 1e-4
ALPHA = 1e-3


def problem(n, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 4 * n))


def formed(U):
    n, M = U.shape
    C = U @ U.T / M
    C[np.diag_indices(n)] += DECAY + ALPHA
    return C


def direct_inv(U):
    return np.linalg.inv(formed(U))


def direct_chol(U):
    L = np.linalg.cholesky(formed(U))
    Li = np.linalg.inv(L)  # LAPACK has dtrtri, NumPy does not expose it
    return Li.T @ Li


def blocked(U, b):
    n, M = U.shape
    P = float(M)
    H = np.eye(n) / (DECAY + ALPHA)
    for m0 in range(0, M, b):
        Ub = U[:, m0:m0 + b]
        W = H @ Ub
        S = Ub.T @ W
        S[np.diag_indices(S.shape[0])] += P
        L = np.linalg.cholesky(S)      # S = L L^T
        Z = np.linalg.solve(L, W.T).T  # Z = W L^-T, so Z Z^T = W S^-1 W^T
        H -= Z @ Z.T
    return H


def recursive(U):
    n, M = U.shape
    P = float(M)
    H = np.eye(n) / (DECAY + ALPHA)
    for m in range(M):
        x = U[:, m]
        v = H @ x
        H -= np.outer(v, v) / (P + x @ v)
    return H


def timed(f, *args):
    t = time.perf_counter()
    r = f(*args)
    return time.perf_counter() - t, r


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,2000", help="comma-separated n (default 1000,2000)")
    ap.add_argument("--block", type=int, default=256, help="terms per Woodbury block (default 256, as hessian.DefaultBlock)")
    ap.add_argument("--recursive", action="store_true", help="also time the rank-1 recursion (slow)")
    args = ap.parse_args()
    print(f"numpy {np.__version__}")
    print(f"{'n':>6} {'M':>6} {'method':>12} {'seconds':>9} {'us/term':>9} {'rel. diff':>10}")
    for n in [int(s) for s in args.sizes.split(",")]:
        U = problem(n, n)
        M = U.shape[1]
        t, ref = timed(direct_chol, U)
        print(f"{n:6d} {M:6d} {'direct-chol':>12} {t:9.3f} {1e6 * t / M:9.1f} {'(ref)':>10}")
        t, r = timed(direct_inv, U)
        print(f"{n:6d} {M:6d} {'direct-inv':>12} {t:9.3f} {1e6 * t / M:9.1f} {rel(r, ref):10.1e}")
        t, r = timed(blocked, U, args.block)
        print(f"{n:6d} {M:6d} {'blocked':>12} {t:9.3f} {1e6 * t / M:9.1f} {rel(r, ref):10.1e}")
        if args.recursive:
            t, r = timed(recursive, U)
            print(f"{n:6d} {M:6d} {'recursive':>12} {t:9.3f} {1e6 * t / M:9.1f} {rel(r, ref):10.1e}")


if __name__ == "__main__":
    main()
