"""The same fits with two copies of ``moe_lib`` (before/after a change), interleaved.

Each measurement runs in a fresh subprocess whose ``PYTHONPATH`` puts one copy of the package
first; the two copies alternate (old, new, old, new, ...) so that changes in machine load affect
both alike. The data are drawn once, by this process, and handed to both copies in a file, so
both fit exactly the same arrays.

Each copy is driven with its own names: the worker imports the driver from ``moe_lib.fit`` (the
current layout) or, if that module does not exist, from ``moe_lib.algorithms`` (the layout before
the redesign of issue 12, e.g. commit ``e2ab29b``); the estimators, expert families and data
helpers are imported from the top-level package, whose names did not change.

Fits, in the style of the test suite:

- ``est_*``: the scikit-learn estimators' ``fit`` from a seeded random start (tone data;
  synthetic linear and logistic data), ``max_iter=20, tol=0`` so that both copies take the same
  number of EM iterations (the stopping rule changed: the current one scales ``tol`` by n);
- ``default_*``: the same with the estimators' default ``tol`` and ``max_iter`` (differences
  there include the stopping rule's);
- ``run_*``: ``--iters`` exact EM iterations of the driver ``run`` from the same random
  responsibilities, ``tol=0`` so that no copy stops early (n = 1e5; ``--quick``: 1e4).

Reported per fit: median wall time (``perf_counter``) and CPU time (``process_time``) of the fit
in each copy, the ratios new/old, the iterations each copy took, and the largest absolute
difference between the two copies' fitted parameters (gate, coefficients, sigmas) and of the
final log-likelihood per sample.

Usage::

    git worktree add /tmp/old-e2ab29b e2ab29b      # or: git archive e2ab29b moe_lib | tar -x -C D
    python benchmarks/compare_versions.py --old /tmp/old-e2ab29b [--quick] [--rounds 5]
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

# name: (how, family, n (None: the tone data), d, K); "est": estimator fit, "run": EM iterations.
CONFIGS = {
    "est_tone_linear_K2": ("est", "linear", None, 1, 2),
    "est_linear_K3": ("est", "linear", 2_000, 3, 3),
    "est_logistic_K2": ("est", "logistic", 2_000, 3, 2),
    "default_tone_linear_K2": ("default", "linear", None, 1, 2),
    "default_linear_K3": ("default", "linear", 2_000, 3, 3),
    "run_linear_K2": ("run", "linear", 100_000, 10, 2),
    "run_linear_K8": ("run", "linear", 100_000, 10, 8),
    "run_logistic_K2": ("run", "logistic", 100_000, 10, 2),
    "run_logistic_K4": ("run", "logistic", 100_000, 10, 4),
}


def make_inputs(config: str, quick: bool, path: str) -> None:
    """Draw the data of a configuration (current copy) and save raw X, y and the start."""
    import numpy as np

    from moe_lib import LinearExperts, LogisticExperts, load_tonedata

    how, fam, n, d, K = CONFIGS[config]
    rng = np.random.default_rng(K + 10 * d)
    if n is None:
        X, y = load_tonedata(return_X_y=True)
    else:
        if quick and how == "run":
            n = 10_000
        family = LinearExperts() if fam == "linear" else LogisticExperts()
        data = draw_moe_data(family, n, d, K, rng)
        X, y = data.X[:, 1:], data.y
    r0 = rng.dirichlet(np.ones(K), size=X.shape[0])
    np.savez(path, X=X, y=y, r0=r0)


def worker(config: str, inputs: str, iters: int, out: str) -> None:
    """Fit once (after a warm-up), time it, save the fitted arrays (runs in a subprocess)."""
    import warnings

    import numpy as np

    import moe_lib
    from moe_lib import (
        LinearExperts,
        LogisticExperts,
        MixtureOfLinearExperts,
        MixtureOfLogisticExperts,
        make_data,
    )

    try:  # the current layout
        from moe_lib.fit import run
    except ImportError:  # before issue 12 (e.g. e2ab29b)
        from moe_lib.algorithms import run

    how, fam, _, _, K = CONFIGS[config]
    arrays = dict(np.load(inputs))
    X, y, r0 = arrays["X"], arrays["y"], arrays["r0"]
    if how in ("est", "default"):
        cls = MixtureOfLinearExperts if fam == "linear" else MixtureOfLogisticExperts
        kwargs = {"max_iter": 20, "tol": 0.0} if how == "est" else {}

        def fit():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = cls(n_experts=K, random_state=0, **kwargs).fit(X, y)
            return est.params_, est.loglik_history_, est.n_iter_

    else:
        family = LinearExperts() if fam == "linear" else LogisticExperts()
        data = make_data(X, y)

        def fit():
            res = run(family, data, init_resp=r0, max_iter=iters, tol=0.0)
            return res.params, res.loglik_history, res.n_iter

    fit()  # warm-up
    w0, c0 = time.perf_counter(), time.process_time()
    params, ll, n_iter = fit()
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    saved = {"gate": params.gate, "coef": params.coef, "ll": ll[-1:] / X.shape[0]}
    if params.sigma is not None:
        saved["sigma"] = params.sigma
    np.savez(out, wall=wall, cpu=cpu, n_iter=n_iter, where=moe_lib.__file__, **saved)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--old", type=Path, help="directory holding the old moe_lib package")
    ap.add_argument("--new", type=Path, default=HERE.parent, help="directory of the new package")
    ap.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated subset")
    ap.add_argument("--rounds", type=int, default=5, help="timed runs of each copy (>= 5)")
    ap.add_argument("--iters", type=int, default=10, help="EM iterations of the run_* fits")
    ap.add_argument("--quick", action="store_true", help="run_* fits at n = 1e4; 3 rounds")
    ap.add_argument("--tag", default="", help="suffix of the result files")
    ap.add_argument(
        "--worker", nargs=4, metavar=("CONFIG", "INPUTS", "ITERS", "OUT"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.worker:
        c, inputs, it, out = args.worker
        worker(c, inputs, int(it), out)
        return
    if args.old is None:
        ap.error("--old is required")
    import numpy as np

    rounds = 3 if args.quick else args.rounds
    rows = []
    env0 = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env0.setdefault(var, "1")
    with tempfile.TemporaryDirectory() as tmp:
        for config in args.configs.split(","):
            inputs = f"{tmp}/{config}_inputs.npz"
            make_inputs(config, args.quick, inputs)
            times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
            fitted: dict[str, dict] = {}
            for r in range(rounds):
                for which, root in (("old", args.old), ("new", args.new)):
                    out = f"{tmp}/{config}_{which}_{r}.npz"
                    env = dict(env0, PYTHONPATH=str(Path(root).resolve()))
                    cmd = [sys.executable, __file__, "--worker", config, inputs, str(args.iters),
                           out]
                    subprocess.run(cmd, check=True, env=env, cwd=tmp)
                    res = dict(np.load(out))
                    times[which].append((float(res.pop("wall")), float(res.pop("cpu"))))
                    where = str(res.pop("where"))
                    if not where.startswith(str(Path(root).resolve())):
                        raise RuntimeError(f"the {which} worker imported {where}, not {root}")
                    fitted[which] = res
            old, new = fitted["old"], fitted["new"]
            par_diff = max(
                float(np.max(np.abs(new[k] - old[k]))) for k in ("gate", "coef", "sigma")
                if k in old
            )
            ll_diff = float(np.max(np.abs(new["ll"] - old["ll"])))
            med = {
                w: (statistics.median(t[0] for t in ts), statistics.median(t[1] for t in ts))
                for w, ts in times.items()
            }
            how, fam, n, d, K = CONFIGS[config]
            n_rows = int(np.load(inputs)["X"].shape[0])
            rows.append([
                config, fam, n_rows, d, K, int(old["n_iter"]), int(new["n_iter"]),
                med["old"][0], med["new"][0], med["new"][0] / med["old"][0],
                med["old"][1], med["new"][1], med["new"][1] / med["old"][1],
                par_diff, ll_diff, "yes" if par_diff <= 1e-8 else "NO",
            ])
            print(json.dumps({"config": config, "old": times["old"], "new": times["new"]}),
                  flush=True)
    write_table(
        "compare_versions" + (f"_{args.tag}" if args.tag else ""),
        ["fit", "experts", "n", "d", "K", "old_iters", "new_iters", "old_wall_s", "new_wall_s",
         "wall_ratio", "old_cpu_s", "new_cpu_s", "cpu_ratio", "max_abs_param_diff",
         "abs_ll_per_sample_diff", "params_within_1e-8"],
        rows,
        title=f"moe_lib {args.new} vs {args.old}: the same fits",
        notes=[
            f"median of {rounds} interleaved runs per copy, each in a fresh process after a "
            "warm-up fit; both copies fit the same arrays (drawn once, by the new copy)",
            "est_*: estimator fit(X, y), random_state=0, max_iter=20, tol=0; default_*: the "
            "same with the default tol and max_iter; run_*: "
            f"{args.iters} exact EM iterations of run(init_resp=R0, tol=0)",
            "ratio = new / old (below 1: the new copy is faster)",
            "max_abs_param_diff: largest |new - old| over the fitted gate, coefficients and "
            "sigmas; abs_ll_per_sample_diff: |new - old| final log-likelihood / n",
        ],
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
