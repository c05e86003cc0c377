"""Profile representative EM fits and time one EM iteration (benchmark item 4).

For linear-expert MoEs (n = 1e5, d = 10, K in {2, 8}) and a logistic-expert MoE (K = 2), run a
fixed number of exact EM iterations (``moe_lib.fit.run``, ``tol=0`` so that none stops
early) from a fixed start, report the median seconds per iteration (>= 5 repeats after a warm-up)
and the functions where cProfile finds the time (also written to
``results/profile_fit_cprofile.txt``). ``--save`` / ``--compare`` store and check the
fitted parameters, to show that a speed-up leaves the results unchanged (max relative difference).

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
from _common import RESULTS, draw_moe_data, median_time, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

import numpy as np  # noqa: E402

from moe_lib.experts import LinearExperts, LogisticExperts  # noqa: E402
from moe_lib.fit import random_resp, run  # noqa: E402


def make_problem(family, n: int, d: int, K: int, seed: int):
    """Data drawn from a random MoE, and a start: 3 EM iterations from random responsibilities."""
    rng = np.random.default_rng(seed)
    data = draw_moe_data(family, n, d, K, rng)
    start = run(family, data, init_resp=random_resp(n, K, rng), max_iter=3, tol=0.0).params
    return data, start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="n = 1e4 instead of 1e5")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--iters", type=int, default=10, help="EM iterations per timed fit")
    ap.add_argument("--save", type=Path, help="store the fitted parameters in this .npz")
    ap.add_argument("--compare", type=Path, help="compare the fitted parameters with this .npz")
    ap.add_argument("--top", type=int, default=8, help="profile lines shown per configuration")
    args = ap.parse_args()
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
