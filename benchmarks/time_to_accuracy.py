"""EM vs gradient EM vs gradient descent: iterations and seconds to reach the optimum to 1e-6
(benchmark item 1).

Models: the paper's SymMoLinE and SymMoLogE (:mod:`moe_lib.symmetric`), ``x ~ N(0, I_d)``:

- SymMoLinE with ``||w*|| = 1`` and ``||beta*||`` in {0.5, 1, 2} (low / medium / high SNR);
- SymMoLogE with ``||w*|| = 4`` and ``||beta*||`` in {1, 2, 4} (with ``||w*|| = 1`` SymMoLogE is
  nearly unidentifiable and EM crawls).

Accuracy: ``L(theta_t) - L* <= tol`` (default ``1e-6``) where ``L`` is ``symmetric.neg_loglik``,
the *mean* negative log-likelihood (so the total log-likelihood is within ``n * tol`` of its
maximum). ``L*`` is the optimum: EM run to convergence (change of ``L`` below 1e-15, at most
``--em-max`` iterations), then polished by BFGS on ``L`` with its exact gradient
(``symmetric.gradient``) to a gradient norm of 1e-12; ``L*`` is the smaller of the two values.

Methods, all from the same start ``symmetric.initial_point(w*, beta*)`` (relative errors 1):

- EM: ``symmetric.em_step`` (exact EM step);
- gradient EM: ``symmetric.gradient_em_step`` with per-block steps ``c / L_block``
  (``symmetric.curvature_bounds``), best multiplier ``c`` from GEM_GRID;
- GD: ``symmetric.gd_step`` with one fixed step ``eta = c / max(L_w, L_beta)``, best ``c`` from
  GD_GRID (a log grid; ``c = 1`` is the library's default step).

"Best" = fewest iterations to accuracy (the cost per iteration does not depend on the step);
steps whose iterates diverge are discarded. Iterations to accuracy ``T`` are found with a
monitored run (``L`` evaluated after every step); the seconds to accuracy are then the median
time of running exactly ``T`` steps without monitoring (``--repeats`` >= 5 runs, after a warm-up
of ``min(T, 20)`` steps). A method that does not reach the accuracy within ``--max-iter`` steps
is reported as "not reached in N iterations". The EM/GD and EM/gradient-EM ratios are measured
in the same run.

Usage::

    python benchmarks/time_to_accuracy.py [--quick] [--n 10000] [--d 10] [--instances 2]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import median_time, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

from moe_lib import symmetric as sym  # noqa: E402

GD_GRID = tuple(float(2.0 ** (k / 2)) for k in range(-2, 9))  # 0.5 ... 16, factor sqrt(2)
GEM_GRID = tuple(float(2.0 ** (k / 2)) for k in range(-2, 5))  # 0.5 ... 4
SETTINGS = [
    ("linear", 1.0, 0.5),
    ("linear", 1.0, 1.0),
    ("linear", 1.0, 2.0),
    ("logistic", 4.0, 1.0),
    ("logistic", 4.0, 2.0),
    ("logistic", 4.0, 4.0),
]


def step_fn(kind, X, y, algorithm, step_size):
    """One step ``(w, beta) -> (w, beta)`` of an algorithm."""
    if algorithm == "em":
        return lambda w, b: sym.em_step(kind, X, y, w, b)
    if algorithm == "gradient_em":
        return lambda w, b: sym.gradient_em_step(kind, X, y, w, b, step_size)
    return lambda w, b: sym.gd_step(kind, X, y, w, b, step_size)


def optimum(kind, X, y, w0, b0, em_max):
    """``L*``: EM to convergence, then BFGS polish; returns (L*, EM iterations used)."""
    f = step_fn(kind, X, y, "em", None)
    w, b = w0, b0
    last = sym.neg_loglik(kind, X, y, w, b)
    used = 0
    while used < em_max:
        w, b = f(w, b)
        used += 1
        cur = sym.neg_loglik(kind, X, y, w, b)
        done = abs(last - cur) <= 1e-15
        last = cur
        if done:
            break
    d = X.shape[1]

    def fun(v):
        gw, gb = sym.gradient(kind, X, y, v[:d], v[d:])
        return sym.neg_loglik(kind, X, y, v[:d], v[d:]), np.concatenate([gw, gb])

    res = optimize.minimize(
        fun,
        np.concatenate([w, b]),
        jac=True,
        method="BFGS",
        options={"gtol": 1e-12, "maxiter": 500},
    )
    return min(last, float(res.fun)), used


def iterations_to(kind, X, y, w0, b0, algorithm, step_size, target, max_iter):
    """First t with L(theta_t) <= target (None if not within max_iter), and the final L."""
    f = step_fn(kind, X, y, algorithm, step_size)
    w, b = w0, b0
    cur = np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for t in range(1, max_iter + 1):
            w, b = f(w, b)
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                return None, np.nan
            cur = sym.neg_loglik(kind, X, y, w, b)
            if not np.isfinite(cur):
                return None, np.nan
            if cur <= target:
                return t, cur
    return None, cur


def _grid_cell(T: float, final: float) -> str:
    if np.isfinite(T):
        return str(int(T))
    return "div" if not np.isfinite(final) else "-"


def time_steps(kind, X, y, w0, b0, algorithm, step_size, T, repeats):
    """Median seconds of T unmonitored steps (after a warm-up of min(T, 20) steps)."""
    f = step_fn(kind, X, y, algorithm, step_size)

    def go(k):
        w, b = w0, b0
        for _ in range(k):
            w, b = f(w, b)

    go(min(T, 20))
    return median_time(lambda: go(T), repeats=repeats, warmup=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="n=2000, d=5, 1 instance, 3000 iterations")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--tol", type=float, default=1e-6, help="accuracy on the mean NLL L")
    ap.add_argument("--max-iter", type=int, default=20_000)
    ap.add_argument("--em-max", type=int, default=20_000, help="EM iterations for the optimum")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.quick:
        args.n, args.d, args.instances, args.max_iter, args.em_max = 2000, 5, 1, 3000, 5000
    if args.repeats < 5:
        ap.error("--repeats must be >= 5")
    rows, ratio_rows = [], []
    for kind, w_norm, b_norm in SETTINGS:
        for inst in range(args.instances):
            rng = np.random.default_rng([inst, int(10 * b_norm), kind == "linear"])
            w_star, b_star = sym.random_instance(kind, args.d, b_norm, w_norm=w_norm, rng=rng)
            X, y, _ = sym.sample(kind, w_star, b_star, args.n, rng)
            w0, b0 = sym.initial_point(w_star, b_star, rng)
            l_star, em_used = optimum(kind, X, y, w0, b0, args.em_max)
            target = l_star + args.tol
            best = {}
            for algorithm, grid in (("em", (None,)), ("gradient_em", GEM_GRID), ("gd", GD_GRID)):
                scale = 1.0
                if algorithm == "gd":
                    scale = 1.0 / max(sym.curvature_bounds(kind, X))
                found = []
                for c in grid:
                    step_size = None if c is None else c * scale
                    if found and not np.isfinite(found[-1][3]):
                        # The previous (smaller) step diverged: so would this one; skip it.
                        found.append((np.inf, c, step_size, np.nan))
                        continue
                    T, final = iterations_to(
                        kind, X, y, w0, b0, algorithm, step_size, target, args.max_iter
                    )
                    found.append((T if T is not None else np.inf, c, step_size, final))
                T, c, step_size, final = min(found, key=lambda r: (r[0], r[1] or 0))
                if np.isfinite(T):
                    sec = time_steps(kind, X, y, w0, b0, algorithm, step_size, int(T), args.repeats)
                    best[algorithm] = (int(T), sec)
                    it_txt, sec_txt = int(T), sec
                else:
                    best[algorithm] = None
                    it_txt, sec_txt = f"not reached in {args.max_iter}", float("nan")
                tried = (
                    ", ".join(f"{g[1]:.3g}: {_grid_cell(g[0], g[3])}" for g in found)
                    if algorithm != "em"
                    else ""
                )
                rows.append(
                    [
                        kind,
                        w_norm,
                        b_norm,
                        inst,
                        algorithm,
                        "" if c is None else c,
                        it_txt,
                        sec_txt,
                        "" if not np.isfinite(final) else final - l_star,
                        tried,
                    ]
                )
                print(rows[-1], flush=True)
            em = best["em"]
            for other in ("gradient_em", "gd"):
                o = best[other]
                if em is None or o is None:
                    ratio_it = ratio_s = float("nan")
                    note = "a method did not reach the accuracy"
                else:
                    ratio_it, ratio_s = o[0] / em[0], o[1] / em[1]
                    note = ""
                ratio_rows.append(
                    [kind, w_norm, b_norm, inst, f"{other} / em", ratio_it, ratio_s, note]
                )
            print(f"L* = {l_star:.12f} (EM iterations to converge: {em_used})", flush=True)
    common = [
        f"n = {args.n}, d = {args.d}, x ~ N(0, I_d), {args.instances} instance(s) per setting; "
        f"accuracy L - L* <= {args.tol:g} on the mean negative log-likelihood L",
        "L* = EM to convergence (|dL| <= 1e-15) polished by BFGS (gtol 1e-12)",
        "GD: eta = c / max(L_w, L_beta), c = 2^(k/2) for k = -2..8 (0.5 to 16); gradient EM: "
        "steps c / L_block, c = 2^(k/2) for k = -2..4 (0.5 to 4); 'grid' lists iterations to "
        "accuracy per c ('-': not reached, 'div': "
        "diverged, or skipped because a smaller step diverged)",
        f"seconds: median of {args.repeats} unmonitored runs of exactly T steps after a warm-up",
    ]
    write_table(
        "time_to_accuracy",
        [
            "model",
            "w_norm",
            "beta_norm",
            "instance",
            "method",
            "best_c",
            "iterations",
            "seconds",
            "final_gap",
            "grid (c: iterations)",
        ],
        rows,
        title="Iterations and seconds to reach L* + tol",
        notes=common,
        quick=args.quick,
    )
    write_table(
        "time_to_accuracy_ratios",
        [
            "model",
            "w_norm",
            "beta_norm",
            "instance",
            "ratio",
            "iterations_ratio",
            "seconds_ratio",
            "note",
        ],
        ratio_rows,
        title="Other method / EM, to the same accuracy (same run)",
        notes=common,
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
