"""Time the same EM fits with two copies of ``moe_lib`` (before/after a speed-up), interleaved.

Each measurement runs in a fresh subprocess whose ``PYTHONPATH`` puts one copy of the package
first; the two copies alternate (old, new, old, new, ...) so that changes in machine load affect
both alike. For every configuration the script reports the median wall time (``perf_counter``)
and CPU time (``process_time``; less sensitive to other processes on a shared machine) of a fit
of ``--iters`` exact EM iterations from the same start, the new/old ratios, and the largest
relative difference between the two copies' fitted parameters and log-likelihood traces.

Usage::

    git archive <old-commit> moe_lib | tar -x -C /tmp/old      # a copy of the old package
    python benchmarks/compare_versions.py --old /tmp/old [--new .] [--quick] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import draw_moe_data, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

CONFIGS = {
    # name: (family, n, d, K)
    "linear_K2": ("linear", 100_000, 10, 2),
    "linear_K8": ("linear", 100_000, 10, 8),
    "logistic_K2": ("logistic", 100_000, 10, 2),
    "logistic_K4": ("logistic", 100_000, 10, 4),
    "logistic_K8": ("logistic", 100_000, 10, 8),
}


def worker(config: str, n: int, iters: int, out: str) -> None:
    """Build the problem, warm up, time one fit, save the fitted arrays (runs in a subprocess)."""
    import numpy as np

    from moe_lib.algorithms import random_resp, run
    from moe_lib.experts import LinearExperts, LogisticExperts

    fam_name, _, d, K = CONFIGS[config]
    family = LinearExperts() if fam_name == "linear" else LogisticExperts()
    rng = np.random.default_rng(K)
    data = draw_moe_data(family, n, d, K, rng)
    r0 = random_resp(n, K, rng)
    run(family, data, init_resp=r0, max_iter=2, tol=0.0)  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    res = run(family, data, init_resp=r0, max_iter=iters, tol=0.0)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    arrays = {"gate": res.params.gate, "coef": res.params.coef, "ll": res.loglik_history}
    if res.params.sigma is not None:
        arrays["sigma"] = res.params.sigma
    np.savez(out, wall=wall, cpu=cpu, **arrays)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", type=Path, help="directory holding the old moe_lib package")
    ap.add_argument("--new", type=Path, default=HERE.parent, help="directory of the new package")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each copy (>= 5)")
    ap.add_argument("--iters", type=int, default=10, help="EM iterations per fit")
    ap.add_argument("--quick", action="store_true", help="n = 1e4 and 3 rounds")
    ap.add_argument("--tag", default="", help="suffix of the result files")
    ap.add_argument(
        "--worker", nargs=4, metavar=("CONFIG", "N", "ITERS", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.worker:
        c, n, it, out = args.worker
        worker(c, int(n), int(it), out)
        return
    if args.old is None:
        ap.error("--old is required")
    import numpy as np

    n = 10_000 if args.quick else 100_000
    rounds = 3 if args.quick else args.rounds
    rows = []
    env0 = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env0.setdefault(var, "1")
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs.split(","):
            times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
            fitted: dict[str, dict] = {}
            for r in range(rounds):
                for which, root in (("old", args.old), ("new", args.new)):
                    out = f"{tmp}/{config}_{which}_{r}.npz"
                    env = dict(env0, PYTHONPATH=str(Path(root).resolve()))
                    subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            config,
                            str(n),
                            str(args.iters),
                            out,
                        ],
                        check=True,
                        env=env,
                        cwd=tmp,
                    )
                    res = dict(np.load(out))
                    times[which].append((float(res.pop("wall")), float(res.pop("cpu"))))
                    fitted[which] = res
            diff = max(
                float(np.max(np.abs(fitted["new"][k] - v)) / max(np.max(np.abs(v)), 1e-300))
                for k, v in fitted["old"].items()
            )
            med = {
                w: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
                for w, ts in times.items()
            }
            fam, _, d, K = CONFIGS[config]
            rows.append(
                [
                    fam,
                    n,
                    d,
                    K,
                    args.iters,
                    med["old"][0],
                    med["new"][0],
                    med["new"][0] / med["old"][0],
                    med["old"][1],
                    med["new"][1],
                    med["new"][1] / med["old"][1],
                    diff,
                ]
            )
            print(json.dumps({"config": config, "old": times["old"], "new": times["new"]}))
    write_table(
        "compare_versions" + (f"_{args.tag}" if args.tag else ""),
        [
            "experts",
            "n",
            "d",
            "K",
            "em_iters",
            "old_wall_s",
            "new_wall_s",
            "wall_ratio",
            "old_cpu_s",
            "new_cpu_s",
            "cpu_ratio",
            "max_rel_diff",
        ],
        rows,
        title=f"moe_lib {args.new} vs {args.old}: {args.iters} exact EM iterations",
        notes=[
            f"median of {rounds} interleaved runs per copy, each in a fresh process after a "
            "warm-up fit",
            "ratio = new / old (below 1: the new copy is faster)",
            "max_rel_diff: largest |new - old| / max|old| over the fitted gate, coefficients, "
            "sigmas and log-likelihood trace",
        ],
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
