"""Profile representative EM fits and time one EM iteration (benchmark item 4); split a
symmetric-model EM iteration into its parts, each with its floor.

For linear-expert MoEs (n = 1e5, d = 10, K in {2, 8}) and a logistic-expert MoE (K = 2), run a
fixed number of exact EM iterations (``moe_lib.fit.run``, ``tol=0`` so that none stops
early) from a fixed start, report the median seconds per iteration (>= 5 repeats after a warm-up)
and the functions where cProfile finds the time (also written to
``results/profile_fit_cprofile.txt``). ``--save`` / ``--compare`` store and check the
fitted parameters, to show that a speed-up leaves the results unchanged (max relative difference).

Symmetric models (table ``profile_symmetric``): cProfile of ``symmetric.run(kind, ..., "em")`` to
L* + 1e-6 as in ``time_to_accuracy.py`` (n = 1e4, d = 10; ``--quick``: n = 2000, d = 5), split into
the E-step (``_fused.evaluate``), the M-step solves' evaluations
(``LogisticRegressions._evaluate``) and Hessians (``_neg_hessian``), the rest of the solves
(factorisations, chord steps, checks), the closed-form expert update and the driver; per part its
calls per iteration and the floor of one call timed alone with numpy: the E-step's product
``X @ [w, beta]`` and ``expit``, an evaluation's forward and backward products ``X @ B`` and
``X^T @ R``, a Hessian's weighted Gram matrices ``X^T (v * X)`` (one per column of soft labels), and
a lean GD step (two products, a few elementwise passes; ``time_to_accuracy.lean_gradient``).

Usage::

    python benchmarks/profile_fit.py [--quick] [--save FILE.npz | --compare FILE.npz]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    RESULTS,
    draw_moe_data,
    median_time,
    median_times,
    single_thread_blas,
    write_table,
)

single_thread_blas()

import numpy as np  # noqa: E402

from moe_lib import symmetric as sym  # noqa: E402
from moe_lib.experts import LinearExperts, LogisticExperts  # noqa: E402
from moe_lib.fit import random_resp, run  # noqa: E402
from moe_lib.regression import LogisticRegressions  # noqa: E402
from moe_lib.symmetric import _fused  # noqa: E402
from moe_lib.symmetric.steps import EMStepper  # noqa: E402


def make_problem(family, n: int, d: int, K: int, seed: int):
    """Data drawn from a random MoE, and a start: 3 EM iterations from random responsibilities."""
    rng = np.random.default_rng(seed)
    data = draw_moe_data(family, n, d, K, rng)
    start = run(family, data, init_resp=random_resp(n, K, rng), max_iter=3, tol=0.0).params
    return data, start


def _cum(stats, fn, i=3):
    code = fn.__code__
    v = stats.get((code.co_filename, code.co_firstlineno, code.co_name))
    return 0.0 if v is None else v[i]


def _symmetric_instance(kind, w_norm, b_norm, n, d, repeats):
    """The rows of profile_symmetric for one setting."""
    from scipy.special import expit
    from time_to_accuracy import lean_gradient, optimum

    rows = []
    rng = np.random.default_rng([0, int(10 * b_norm), kind == "linear"])
    w_star, b_star = sym.random_instance(kind, d, b_norm, w_norm=w_norm, rng=rng)
    X, y, _ = sym.sample(kind, w_star, b_star, n, rng)
    w0, b0 = sym.initial_point(w_star, b_star, rng)
    l_star, _ = optimum(kind, X, y, w0, b0, 20_000)
    full = sym.run(kind, X, y, w0, b0, "em", max_iter=20_000, tol=0.0)
    T = int(np.flatnonzero(-full.loglik_history / n <= l_star + 1e-6)[0]) + 1
    prof = cProfile.Profile()
    prof.runcall(sym.run, kind, X, y, w0, b0, "em", max_iter=T, tol=None)
    st = pstats.Stats(prof).stats
    total = sum(v[2] for v in st.values())
    parts = {
        "E-step": (_cum(st, _fused.evaluate), _cum(st, _fused.evaluate, 1)),
        "solve evaluations": (_cum(st, LogisticRegressions._evaluate),
                              _cum(st, LogisticRegressions._evaluate, 1)),
        "solve Hessians": (_cum(st, LogisticRegressions._neg_hessian),
                           _cum(st, LogisticRegressions._neg_hessian, 1)),
    }
    solve = _cum(st, EMStepper._solve)
    step = _cum(st, EMStepper.step)
    parts["solve rest (factorisations, chord steps, checks)"] = (
        solve - parts["solve evaluations"][0] - parts["solve Hessians"][0], 0)
    parts["closed-form expert update (linear)"] = (step - solve, 0)
    parts["driver"] = (total - step - parts["E-step"][0], 0)
    cols = 1 if kind == "linear" else 2
    B, R = np.ones((d, cols)), np.ones((n, cols))
    v = np.ones(n)
    floors = {
        "E-step": median_time(lambda: expit(X @ np.ones((d, 2))[:, 0]), repeats),
        "solve evaluations": median_time(lambda B=B, R=R: (X @ B, X.T @ R), repeats),
        "solve Hessians": cols * median_time(lambda: X.T @ (v[:, None] * X), repeats),
    }
    grad = lean_gradient(kind, X, y)
    lean, lean_cpu = median_times(lambda: [grad(w0, b0) for _ in range(20)], repeats)
    lean, lean_cpu = lean / 20, lean_cpu / 20
    em_iter, em_cpu = median_times(
        lambda: sym.run(kind, X, y, w0, b0, "em", max_iter=T, tol=None), repeats)
    em_iter, em_cpu = em_iter / T, em_cpu / T
    for part, (sec, calls) in parts.items():
        floor = floors.get(part, float("nan"))
        rows.append([kind, b_norm, T, part, sec / total, calls / T, floor, floor / lean,
                     calls / T * floor / lean if part in floors else float("nan")])
    rows.append([kind, b_norm, T, "EM iteration (unprofiled) / lean GD step, wall", 1.0, 1.0,
                 em_iter, em_iter / lean, float("nan")])
    rows.append([kind, b_norm, T, "EM iteration (unprofiled) / lean GD step, CPU", 1.0, 1.0,
                 em_cpu, em_cpu / lean_cpu, float("nan")])
    print(rows[-1], flush=True)
    return rows


def symmetric_profile(quick: bool, repeats: int) -> None:
    """The table profile_symmetric (see the module docstring)."""
    from time_to_accuracy import SETTINGS

    n, d = (2000, 5) if quick else (10_000, 10)
    rows = []
    for kind, w_norm, b_norm in SETTINGS:
        rows += _symmetric_instance(kind, w_norm, b_norm, n, d, repeats)
    write_table(
        "profile_symmetric",
        ["model", "beta_norm", "em_iters", "part", "share", "calls_per_iter", "floor_s_per_call",
         "floor_per_call/lean_step", "floor_per_iter/lean_step"],
        rows,
        title=f"Where a symmetric-model EM iteration's time goes (n = {n}, d = {d})",
        notes=[
            "share: cumulative cProfile time of the part / total (cProfile adds a per-call cost "
            "that inflates the many small Python calls); em_iters: EM iterations to L* + 1e-6",
            "floor_s_per_call: numpy alone (E-step: X @ theta and expit; evaluation: X @ B and "
            "X^T @ R; Hessian: one weighted Gram per column of soft labels); "
            "floor_per_iter/lean_step: calls per iteration x floor per call / lean GD step",
            f"medians of {repeats} runs; lean GD step: time_to_accuracy.lean_gradient (median of "
            f"{repeats} runs of 20 steps); the last two rows per model: symmetric.run(em) to "
            "L* + 1e-6 / its iterations, over the lean step, in wall and CPU time (same runs)",
        ],
        quick=quick,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="n = 1e4 instead of 1e5")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10, help="EM iterations per timed fit")
    ap.add_argument("--save", type=Path, help="store the fitted parameters in this .npz")
    ap.add_argument("--compare", type=Path, help="compare the fitted parameters with this .npz")
    ap.add_argument("--top", type=int, default=8, help="profile lines shown per configuration")
    ap.add_argument("--symmetric-only", action="store_true", help="only profile_symmetric")
    args = ap.parse_args()
    symmetric_profile(args.quick, args.repeats)
    if args.symmetric_only:
        return
    n = 10_000 if args.quick else 100_000
    configs = [
        ("linear", LinearExperts(), n, 10, 2),
        ("linear", LinearExperts(), n, 10, 8),
        ("logistic", LogisticExperts(), n, 10, 2),
    ]
    rows, fitted, profiles = [], {}, []
    for name, family, n_, d, K in configs:
        data, start = make_problem(family, n_, d, K, seed=K)

        def fit(family=family, data=data, start=start):
            return run(family, data, init_params=start, max_iter=args.iters, tol=0.0)

        sec = median_time(fit, repeats=args.repeats) / args.iters
        res = fit()
        key = f"{name}_n{n_}_d{d}_K{K}"
        fitted[key + "_gate"], fitted[key + "_coef"] = res.params.gate, res.params.coef
        fitted[key + "_ll"] = res.loglik_history
        if res.params.sigma is not None:
            fitted[key + "_sigma"] = res.params.sigma
        prof = cProfile.Profile()
        prof.runcall(fit)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(args.top)
        profiles.append(f"== {key} ==\n" + buf.getvalue().split("\n", 4)[-1])
        rows.append([name, n_, d, K, sec, res.loglik])
    for p in profiles:
        print(p)
    stem = "profile_fit_quick" if args.quick else "profile_fit"
    (RESULTS / f"{stem}_cprofile.txt").write_text("\n".join(profiles))
    notes = [
        f"seconds per exact EM iteration: median of {args.repeats} fits of {args.iters} "
        "iterations from the same start, after a warm-up, divided by the iteration count"
    ]
    if args.save:
        np.savez(args.save, **fitted)
        notes.append(f"fitted parameters saved to {args.save}")
    if args.compare:
        ref = np.load(args.compare)
        worst = 0.0
        for k, v in fitted.items():
            r = ref[k]
            worst = max(worst, float(np.max(np.abs(v - r)) / max(np.max(np.abs(r)), 1e-300)))
        notes.append(f"max relative difference to {args.compare}: {worst:.3e}")
        print(f"max relative difference of all fitted arrays to the reference: {worst:.3e}")
    write_table(
        "profile_fit",
        ["experts", "n", "d", "K", "sec_per_em_iter", "final_loglik"],
        rows,
        title="Seconds per exact EM iteration (representative fits)",
        notes=notes,
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
