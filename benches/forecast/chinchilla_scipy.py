#!/usr/bin/env python3
"""Reference implementation of the Chinchilla Approach 3 fit with scipy, for the
rsp-forecast benchmark (see docs/forecast.md).

Same objective as `rsp_forecast::chinchilla`: summed Huber loss (delta = 1e-3) of
log L_hat - log L, with log L_hat = LSE(a - alpha ln N, b - beta ln D, e), on the
240 points left after dropping the 5 highest losses. Same grid of 4,500 starts,
scipy L-BFGS-B with an analytic gradient, then the same bootstrap protocol as the
Rust benchmark: each of R resamples is refitted from the full-data optimum and from
the small grid of starts described in docs/forecast.md, keeping the best.

Usage: python3 chinchilla_scipy.py [--starts-limit K] [--bootstrap R] [--data PATH]
Prints wall times and the optimum as JSON on the last line.
"""
import argparse
import itertools
import json
import os
import time

import numpy as np
from scipy.optimize import minimize

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "scaling",
                            "chinchilla_svg_extracted_data.csv")
DELTA = 1e-3


def load(path):
    import csv
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    n = np.array([float(r["Model Size"]) for r in rows])
    c = np.array([float(r["Training FLOP"]) for r in rows])
    loss = np.array([float(r["loss"]) for r in rows])
    d = c / (6.0 * n)
    keep = np.argsort(loss, kind="stable")[: len(loss) - 5]
    keep.sort()
    return np.log(n[keep]), np.log(d[keep]), np.log(loss[keep])


def objective(p, ln_n, ln_d, ln_l):
    a, b, e, alpha, beta = p
    t1 = a - alpha * ln_n
    t2 = b - beta * ln_d
    m = np.maximum(np.maximum(t1, t2), e)
    w1 = np.exp(t1 - m)
    w2 = np.exp(t2 - m)
    w3 = np.exp(e - m)
    s = w1 + w2 + w3
    pred = m + np.log(s)
    r = pred - ln_l
    ar = np.abs(r)
    quad = ar <= DELTA
    f = np.sum(np.where(quad, 0.5 * r * r, DELTA * (ar - 0.5 * DELTA)))
    psi = np.where(quad, r, DELTA * np.sign(r))
    g1 = psi * w1 / s
    g2 = psi * w2 / s
    g3 = psi * w3 / s
    grad = np.array([g1.sum(), g2.sum(), g3.sum(), -(g1 * ln_n).sum(), -(g2 * ln_d).sum()])
    return f, grad


def fit_from(starts, data):
    best = None
    for x0 in starts:
        res = minimize(objective, np.asarray(x0, float), args=data, jac=True, method="L-BFGS-B")
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    return best


def approach3_grid():
    alphas = [0.0, 0.5, 1.0, 1.5, 2.0]
    es = [-1.0, -0.5, 0.0, 0.5, 1.0]
    abs_ = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0]
    # order (a, b, e, alpha, beta)
    return [(a, b, e, al, be) for al, be, e, a, b in itertools.product(alphas, alphas, es, abs_, abs_)]


def bootstrap_starts(opt):
    # Must match rsp_forecast::ChinchillaOptions::bootstrap_starts: the optimum
    # plus a few perturbed starts.
    a, b, e, al, be = opt
    starts = [tuple(opt)]
    for da, db in [(-1.0, 1.0), (1.0, -1.0)]:
        starts.append((a + da, b + db, e, al + 0.1 * da, be + 0.1 * db))
    return starts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--starts-limit", type=int, default=None)
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    data = load(args.data)
    grid = approach3_grid()
    if args.starts_limit:
        grid = grid[: args.starts_limit]
    t0 = time.perf_counter()
    best = fit_from(grid, data)
    t_grid = time.perf_counter() - t0
    opt = best.x
    rng = np.random.default_rng(args.seed)
    n = len(data[0])
    t1 = time.perf_counter()
    reps = []
    for _ in range(args.bootstrap):
        idx = rng.integers(0, n, n)
        sub = tuple(arr[idx] for arr in data)
        r = fit_from(bootstrap_starts(opt), sub)
        reps.append(r.x)
    t_boot = time.perf_counter() - t1
    out = {
        "starts": len(grid),
        "grid_seconds": t_grid,
        "bootstrap": args.bootstrap,
        "bootstrap_seconds": t_boot,
        "total_seconds": t_grid + t_boot,
        "objective": float(best.fun),
        "a": opt[0], "b": opt[1], "e": opt[2], "alpha": opt[3], "beta": opt[4],
        "A": float(np.exp(opt[0])), "B": float(np.exp(opt[1])), "E": float(np.exp(opt[2])),
    }
    if reps:
        reps = np.array(reps)
        un = np.hstack([np.exp(reps[:, :3]), reps[:, 3:]])
        se = un.std(axis=0, ddof=1)
        out.update({"se_A": se[0], "se_B": se[1], "se_E": se[2], "se_alpha": se[3], "se_beta": se[4]})
    print(json.dumps({k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in out.items()}))


if __name__ == "__main__":
    main()
