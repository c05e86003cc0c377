"""Cost of one exact EM iteration against the dense products it cannot avoid (benchmark item 2).

For each configuration (expert family, n, d, K) a fresh subprocess

1. draws data from a random mixture of experts (``x ~ N(0, I_d)``, coefficients of scale
   ``1/sqrt(d)`` so that the gate's log-odds stay O(1)); both designs get an intercept column,
   so ``p = q = d + 1``;
2. warm-starts as inside a fit: 3 exact EM iterations from random responsibilities;
3. times one exact EM iteration as the driver ``moe_lib.fit.run`` does it: the M-step
   ``moe_lib.steps.m_step`` from the current responsibilities (warm-started at the current
   parameters), then the E-step ``moe_lib.model.e_step`` at the new parameters;
4. times the floor, in the same process: the K weighted Gram matrices ``X^T diag(r_k) X`` of the
   expert design plus one weighted Gram matrix of the gate design, each computed once with numpy
   as ``(X * r[:, None]).T @ X`` -- the dense work any exact M-step needs at least once -- and
   the same matrices with the library's cache-blocked ``moe_lib._linalg.weighted_gram`` (a stricter
   floor: ``ratio_blocked``);
5. measures memory: ``tracemalloc``'s peak above the live data during one EM iteration, and the
   subprocess's peak resident size (``resource.getrusage(...).ru_maxrss``), relative to the bytes
   of the expert design ``X``.

Every time is the median of ``--repeats`` (>= 5) runs after a warm-up; the ratio EM / floor is
measured in the same process. ``us_per_sample`` = EM time / n checks linearity in n. Configurations
whose estimated memory exceeds ``--mem-limit-gb`` are skipped and listed.

Usage::

    python benchmarks/cost_per_iteration.py [--quick] [--max-n 100000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import draw_moe_data, median_time, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

FULL = {
    "linear": [(n, d, K) for n in (10**3, 10**4, 10**5, 10**6) for d in (10, 100) for K in (2, 8)],
    "logistic": [(n, d, K) for n in (10**3, 10**4, 10**5, 10**6) for d in (10,) for K in (2, 8)],
}
QUICK = {
    "linear": [(n, d, K) for n in (10**3, 10**4) for d in (10,) for K in (2, 8)],
    "logistic": [(n, 10, 2) for n in (10**3, 10**4)],
}


def estimated_gb(n: int, d: int, K: int) -> float:
    """Rough peak in GB: raw X, both designs, two temporaries of X's size, (n, K) arrays."""
    x = n * (d + 1) * 8
    return (5 * x + 12 * n * K * 8) / 1e9


def worker(family_name: str, n: int, d: int, K: int, repeats: int) -> dict:
    """Measure one configuration (runs in its own subprocess)."""
    import resource
    import tracemalloc

    import numpy as np

    from moe_lib._linalg import weighted_gram
    from moe_lib.experts import LinearExperts, LogisticExperts
    from moe_lib.fit import random_resp, run
    from moe_lib.gate import gate_m_step
    from moe_lib.model import e_step
    from moe_lib.steps import m_step

    family = LinearExperts() if family_name == "linear" else LogisticExperts()
    rng = np.random.default_rng(1000 * K + d)
    data = draw_moe_data(family, n, d, K, rng, scale=1.0 / np.sqrt(d))
    start = run(family, data, init_resp=random_resp(n, K, rng), max_iter=3, tol=0.0)
    params, resp = start.params, start.resp

    def em_iteration():
        new, _ = m_step(family, data, resp, params)
        return e_step(family, data, new)

    def floor():
        for k in range(K):
            (data.X * resp[:, k, None]).T @ data.X
        w = resp[:, 1]
        return (data.gate_X * w[:, None]).T @ data.gate_X

    def floor_blocked():
        # The same K + 1 Gram matrices with the library's cache-blocked kernel.
        for k in range(K):
            weighted_gram(data.X, resp[:, k])
        return weighted_gram(data.gate_X, resp[:, 1])

    def experts_m_step():
        return family.m_step(data, resp, params, 0.0)

    t_em = median_time(em_iteration, repeats=repeats)
    t_floor = median_time(floor, repeats=repeats)
    t_floor_blocked = median_time(floor_blocked, repeats=repeats)
    t_e = median_time(lambda: e_step(family, data, params), repeats=repeats)
    t_gate = median_time(lambda: gate_m_step(data, resp, params.gate), repeats=repeats)
    t_exp = median_time(experts_m_step, repeats=repeats)
    _, info = m_step(family, data, resp, params)
    gate_iters = info.gate.n_iter
    expert_iters = sum(i.n_iter for i in info.experts)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    em_iteration()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux
    x_bytes = data.X.nbytes
    return {
        "t_em": t_em,
        "t_floor": t_floor,
        "t_floor_blocked": t_floor_blocked,
        "t_estep": t_e,
        "t_gate": t_gate,
        "t_experts": t_exp,
        "gate_newton_iters": gate_iters,
        "expert_newton_iters": expert_iters,
        "peak_extra": peak,
        "maxrss": maxrss,
        "x_bytes": x_bytes,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="n <= 1e4, d = 10 (a smoke run)")
    ap.add_argument("--max-n", type=int, default=None, help="skip configurations with larger n")
    ap.add_argument("--min-n", type=int, default=None, help="skip configurations with smaller n")
    ap.add_argument("--out", default="cost_per_iteration", help="stem of the result files")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--mem-limit-gb", type=float, default=8.0)
    ap.add_argument("--families", default="linear,logistic")
    ap.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fam, n, d, K, rep = args.worker
        print(json.dumps(worker(fam, int(n), int(d), int(K), int(rep))))
        return
    if args.repeats < 5:
        ap.error("--repeats must be >= 5")
    plan = QUICK if args.quick else FULL
    rows, skipped = [], []
    for fam in args.families.split(","):
        for n, d, K in plan[fam]:
            if args.max_n is not None and n > args.max_n:
                skipped.append(f"{fam} n={n} d={d} K={K} (n > --max-n)")
                continue
            if args.min_n is not None and n < args.min_n:
                continue
            gb = estimated_gb(n, d, K)
            if gb > args.mem_limit_gb:
                skipped.append(f"{fam} n={n} d={d} K={K} (needs ~{gb:.1f} GB)")
                continue
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    fam,
                    str(n),
                    str(d),
                    str(K),
                    str(args.repeats),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            row = [
                fam,
                n,
                d,
                K,
                r["t_em"],
                r["t_floor"],
                r["t_em"] / r["t_floor"],
                r["t_em"] / r["t_floor_blocked"],
                r["t_estep"] / r["t_em"],
                r["t_gate"] / r["t_em"],
                r["t_experts"] / r["t_em"],
                r["gate_newton_iters"],
                r["expert_newton_iters"],
                1e6 * r["t_em"] / n,
                r["x_bytes"] / 1e6,
                r["peak_extra"] / r["x_bytes"],
                r["maxrss"] / r["x_bytes"],
            ]
            rows.append(row)
            print(" ".join(str(v) for v in row), flush=True)
    notes = [
        "em_s: one exact EM iteration (M-step from the current responsibilities, warm-started, "
        "then the E-step), median of "
        f"{args.repeats} runs after a warm-up; floor_s: K weighted expert Gram matrices + 1 gate "
        "Gram matrix, (X * r[:, None]).T @ X, median in the same process; ratio = em_s / floor_s; "
        "ratio_blocked = em_s / (the same K + 1 Gram matrices with moe_lib._linalg.weighted_gram, "
        "the cache-blocked kernel the library uses: a stricter floor)",
        "estep/gate/experts_share: time of the E-step, the gate M-step and the experts' M-steps "
        "(each timed alone, median) / em_s; gate_newton, expert_newton: Newton iterations of the "
        "gate's solve and of the logistic experts' joint solve in the timed iteration, chord "
        "steps included (the linear experts' M-step is a direct solve)",
        "us_per_sample: em_s / n in microseconds (constant when the cost is linear in n)",
        "peak_extra/X: tracemalloc peak above the live data during one EM iteration, in units of "
        "the expert design's bytes (X_MB); maxrss/X: the subprocess's peak resident size "
        "(includes the interpreter, the data generation and both designs) in the same units",
        "absolute times are noisy on a shared machine; the ratios are measured in one process, "
        "one right after the other",
    ]
    if skipped:
        notes.append("skipped: " + "; ".join(skipped))
    write_table(
        args.out,
        [
            "experts",
            "n",
            "d",
            "K",
            "em_s",
            "floor_s",
            "ratio",
            "ratio_blocked",
            "estep_share",
            "gate_share",
            "experts_share",
            "gate_newton",
            "expert_newton",
            "us_per_sample",
            "X_MB",
            "peak_extra/X",
            "maxrss/X",
        ],
        rows,
        title="One exact EM iteration vs the weighted Gram matrices it needs",
        notes=notes,
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
