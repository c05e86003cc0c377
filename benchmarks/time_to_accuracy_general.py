"""General mixtures of experts: EM vs gradient EM vs GD to the best objective, and one EM iteration
through ``fit`` against the dense floor.

**Part 1, time to accuracy.** Linear and logistic experts, K in {2, 4}, n in {1e4, 1e5}
(``--quick``: n = 2000), d = 5 features (intercepts added: p = q = 6), data from a random MoE
(``_common.draw_moe_data``). Every method is run by the library's driver ``moe_lib.fit.run`` from
the same random responsibilities ``R0`` (its first iteration is the same exact M-step for every
method). Reference: EM run to ``tol=1e-14`` (at most ``--em-max`` iterations). Target: a mean
objective (penalised log-likelihood / n) within ``--tol`` (1e-6) of the best objective found by
any run. GD (fixed step ``c * eta0``, ``eta0`` the library's default step ``n / max curvature`` at
the first iterate) and gradient EM (multiplier ``c`` of its per-block steps) take their best ``c``
from a grid, searched from ``c = 1`` up while it helps, then down, each run capped at the best
iteration count so far; the grid's cost is reported separately. Seconds: median of runs of
exactly ``T`` iterations (``tol=None``); 5 runs, 3 when one run takes over 5 s. Passes over the
data, in the units of ``FitResult.evaluations`` (one pass each): EM 1 per iteration (E-step) plus
its inner evaluations; GD and gradient EM 2 per iteration (E-step, gradient); Hessians apart.

**Part 2, one EM iteration through fit vs the dense floor.** n in {2e5, 1e6} (``--quick``: 2e4),
p = 10 (9 features and an intercept), K = 2, linear and logistic experts, warm start (3 EM
iterations from random responsibilities). ``fit_iter_s``: the marginal cost of an EM iteration of
the estimator's ``fit`` (``init_params`` = the warm start, ``tol=0``), (time with ``m2``
iterations - time with ``m1``) / (m2 - m1); ``floor_s``: the K weighted Gram matrices
``X.T @ (r[:, k, None] * X)`` computed with numpy, median in the same run; ``ratio`` =
fit_iter_s / floor_s. cProfile of the m2-iteration fit splits an iteration's time into the E-step,
the gate's solve (its evaluations and Hessians), the experts' M-step and the rest (driver,
validation, standardisation), each listed with its floor (numpy products timed alone).

Usage::

    python benchmarks/time_to_accuracy_general.py [--quick] [--part 1|2|both]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import (  # noqa: E402
    draw_moe_data,
    median_time,
    median_times,
    single_thread_blas,
    write_table,
)

single_thread_blas()

import numpy as np  # noqa: E402

from moe_lib import (  # noqa: E402
    LinearExperts,
    LogisticExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
)
from moe_lib.fit import random_resp, run  # noqa: E402
from moe_lib.regression import SoftmaxRegression  # noqa: E402
from moe_lib.steps import objective_gradient  # noqa: E402

GD_GRID = tuple(float(2.0 ** (k / 2)) for k in range(-2, 9))  # 0.5 ... 16
GEM_GRID = tuple(float(2.0 ** (k / 2)) for k in range(-2, 5))  # 0.5 ... 4
FAMILIES = {"linear": (LinearExperts, MixtureOfLinearExperts),
            "logistic": (LogisticExperts, MixtureOfLogisticExperts)}


def first_hit(history, target):
    hits = np.flatnonzero(np.asarray(history) >= target)
    return int(hits[0]) + 1 if hits.size else None


def timed(fn, single_s, repeats):
    """Median seconds of fn(): ``repeats`` runs, 3 (no warm-up) when one run takes > 5 s."""
    if single_s > 5.0:
        return median_time(fn, repeats=3, warmup=0)
    return median_time(fn, repeats=repeats)


def grid_search(go, grid, target, cap0):
    """The pruned search of the module docstring; go(c, cap) -> FitResult."""
    order = [1.0] + [c for c in grid if c > 1.0] + sorted((c for c in grid if c < 1.0),
                                                         reverse=True)
    best, cells, steps, worse, last_div, top = None, {}, 0, 0, False, -np.inf
    t0 = time.perf_counter()
    for c in order:
        if c > 1.0 and (worse >= 2 or last_div):
            cells[c] = "skip"
            continue
        cap = cap0 if best is None else best[0]
        try:
            res = go(c, cap)
            hist, diverged = res.objective_history, bool(res.messages)
        except ValueError:  # no finite iterate at all
            hist, diverged = [], True
        steps += len(hist)
        top = max(top, float(np.max(hist, initial=-np.inf)))
        T = first_hit(hist, target)
        cells[c] = str(T) if T else ("div" if diverged else f">{cap}")
        if T and (best is None or T < best[0]):
            best, worse = (T, c), 0
        elif c > 1.0:
            worse += 1
        last_div = cells[c] == "div"
    text = ", ".join(f"{c:.3g}: {cells[c]}" for c in grid)
    return best, text, steps, time.perf_counter() - t0, top


def part1(args):
    sizes = (2_000,) if args.quick else tuple(args.sizes)
    Ks = (2,) if args.quick else tuple(args.Ks)
    rows = []
    # Smaller problems first; the table is rewritten after every configuration, so that a run
    # stopped early leaves the configurations it finished.
    plan = sorted(((fam, K, n) for fam in args.families for K in Ks for n in sizes),
                  key=lambda c: (c[2], c[0], c[1]))
    for fam, K, n in plan:
        rows += part1_config(fam, K, n, args)
        part1_table(rows, args)


def part1_table(rows, args):
    write_table(
        args.out,
        ["experts", "K", "n", "method", "best_c", "iterations", "seconds", "sec_per_iter",
         "passes", "hessians", "gap_per_sample", "grid (c: iterations)", "grid_steps", "grid_s"],
        rows, title="General MoE: iterations, seconds and passes to the best objective - tol",
        notes=[
            f"d = {args.d} (p = q = {args.d + 1}), data from a random MoE; every method from the "
            "same random responsibilities R0 through moe_lib.fit.run",
            f"target: mean objective >= best found - {args.tol:g}; gap_per_sample: (best found "
            "- the reference EM run's final objective) / n (0: EM found the best point)",
            "GD step c * eta0 (eta0 = the library default n / max curvature at the first "
            "iterate); gradient EM: multiplier c of its per-block steps; grid searched from c = 1 "
            "up while improving, then down, capped at the best T so far ('>T'); grid cost apart",
            f"seconds: median of {args.repeats} runs of exactly T iterations (3 when one takes "
            "> 5 s); passes: EM 1 per iteration + inner evaluations, gradient methods 2 per "
            "iteration; hessians: Hessians formed by EM's inner solves",
        ],
        quick=args.quick,
    )


def part1_config(fam, K, n, args):
    family_cls, _ = FAMILIES[fam]
    family = family_cls()
    rng = np.random.default_rng([K, n, fam == "linear"])
    data = draw_moe_data(family, n, args.d, K, rng)
    r0 = random_resp(n, K, rng)

    def go(algorithm, step_size, max_iter, tol=None):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return run(family, data, init_resp=r0, algorithm=algorithm, step_size=step_size,
                       max_iter=max_iter, tol=tol)

    t0 = time.perf_counter()
    ref = go("em", None, args.em_max, 1e-14)
    ref_s = time.perf_counter() - t0
    first = go("em", None, 1).params
    _, curv = objective_gradient(family, data, first)
    eta0 = n / float(np.max(curv))
    best_obj = float(np.max(ref.objective_history))
    target = best_obj - args.tol * n
    searches = {
        "gd": (GD_GRID, lambda c, cap: go("gd", c * eta0, cap)),
        "gradient_em": (GEM_GRID, lambda c, cap: go("gradient_em", c, cap)),
    }
    found = {name: grid_search(fn, grid, target, args.max_iter)
             for name, (grid, fn) in searches.items()}
    rows = []
    T_em = first_hit(ref.objective_history, target)
    per_s = ref_s / max(ref.n_iter, 1)
    s_em = timed(lambda: go("em", None, T_em), per_s * T_em, args.repeats)
    passes = T_em + int(ref.evaluations[:T_em].sum())
    # A method that found a better point than the reference EM run (by more than tol): say so.
    gap = (max(best_obj, *(f[4] for f in found.values())) - best_obj) / n
    rows.append([fam, K, n, "em", "", T_em, s_em, s_em / T_em, passes,
                 int(ref.hessians[:T_em].sum()), gap, "", 0, 0.0])
    for name, (best, text, steps, grid_s, _) in found.items():
        if best is None:
            rows.append([fam, K, n, name, "", f"not reached in {args.max_iter}", float("nan"),
                         float("nan"), "", 0, gap, text, steps, grid_s])
            continue
        T, c = best
        step = c * eta0 if name == "gd" else c
        one = grid_s / max(steps, 1) * T
        sec = timed(lambda name=name, step=step, T=T: go(name, step, T), one, args.repeats)
        rows.append([fam, K, n, name, c, T, sec, sec / T, 2 * T, 0, gap, text, steps, grid_s])
    for r in rows:
        print(r, flush=True)
    return rows


def floor_products(data, resp, params):
    """Numpy floors: K weighted Grams; E-step products; one evaluation; one gate Hessian Gram."""
    X, G = data.X, data.gate_X
    K = resp.shape[1]

    def grams():
        for k in range(K):
            X.T @ (resp[:, k, None] * X)

    def estep():
        return X @ params.coef.reshape(K, -1).T, G @ params.gate.T

    def evaluation():
        return G.T @ (G @ params.gate[1:].T)

    def gate_gram():
        return G.T @ (resp[:, 1, None] * G)

    return grams, estep, evaluation, gate_gram


def profile_split(fn):
    """cProfile of fn(): cumulative seconds of the E-step, gate solve parts, experts, total."""
    prof = cProfile.Profile()
    prof.runcall(fn)
    st = pstats.Stats(prof).stats
    total = sum(v[2] for v in st.values())

    def cum(file_end, name):
        return sum(v[3] for (f, _, nm), v in st.items() if f.endswith(file_end) and nm == name)

    def calls(file_end, name):
        return sum(v[1] for (f, _, nm), v in st.items() if f.endswith(file_end) and nm == name)

    def method(fn, i):  # the gate's solves are SoftmaxRegression (logistic experts' are not)
        code = fn.__code__
        key = (code.co_filename, code.co_firstlineno, code.co_name)
        return st[key][i] if key in st else 0.0

    return {
        "total": total,
        "estep": cum("moe_lib/model.py", "e_step"),
        "gate": cum("moe_lib/gate.py", "gate_m_step"),
        "gate_eval": method(SoftmaxRegression._evaluate, 3),
        "hessians": method(SoftmaxRegression._neg_hessian, 3),
        "experts": sum(cum(f"moe_lib/experts/{m}.py", "m_step") for m in ("linear", "logistic")),
        "n_eval": method(SoftmaxRegression._evaluate, 1),
        "n_hess": method(SoftmaxRegression._neg_hessian, 1),
        "n_estep": calls("moe_lib/model.py", "e_step"),
    }


def part2(args):
    sizes = (20_000,) if args.quick else tuple(args.floor_sizes)
    rows, prof_rows = [], []
    m1, m2 = 2, 10
    for fam in ("linear", "logistic"):
        for n in sizes:
            family_cls, est_cls = FAMILIES[fam]
            family, K = family_cls(), 2
            rng = np.random.default_rng([n, 7])
            data = draw_moe_data(family, n, 9, K, rng, scale=1.0 / 3.0)
            warm = run(family, data, init_resp=random_resp(n, K, rng), max_iter=3, tol=None)
            Xraw, y = data.X[:, 1:], data.y

            def fit(m, Xraw=Xraw, y=y, warm=warm, est_cls=est_cls):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    est_cls(n_experts=2, max_iter=m, tol=0.0).fit(Xraw, y, init_params=warm.params)

            grams, estep, evaluation, gate_gram = floor_products(data, warm.resp, warm.params)
            t1, c1 = median_times(lambda fit=fit: fit(m1), args.repeats)
            t2, c2 = median_times(lambda fit=fit: fit(m2), args.repeats)
            t_floor, c_floor = median_times(grams, args.repeats)
            t_e, t_ev, t_h = (median_time(f, args.repeats) for f in (estep, evaluation, gate_gram))
            per, per_c = (t2 - t1) / (m2 - m1), (c2 - c1) / (m2 - m1)
            rows.append([fam, n, 10, K, per, t2 / m2, t_floor, per / t_floor, t2 / m2 / t_floor,
                         per_c, c_floor, per_c / c_floor])
            p = profile_split(lambda fit=fit: fit(m2))
            other = p["total"] - p["estep"] - p["gate"] - p["experts"]
            gate_rest = p["gate"] - p["gate_eval"] - p["hessians"]
            for part, sec, count, floor in (
                ("E-step", p["estep"], p["n_estep"], t_e),
                ("gate evaluations", p["gate_eval"], p["n_eval"], t_ev),
                ("gate Hessians", p["hessians"], p["n_hess"], t_h),
                ("gate solve, rest (factorisations, line search)", gate_rest, 0, float("nan")),
                ("experts' M-step", p["experts"], m2, t_floor),
                ("driver, validation, standardisation", other, 0, float("nan")),
            ):
                prof_rows.append([fam, n, part, sec / p["total"], sec / m2, count / m2, floor])
            print(rows[-1], flush=True)
    write_table(
        "fit_iteration_vs_floor",
        ["experts", "n", "p", "K", "fit_iter_s", "fit_s_per_iter", "floor_s", "ratio",
         "ratio_incl_overhead", "fit_iter_cpu_s", "floor_cpu_s", "ratio_cpu"],
        rows, title="One EM iteration through the estimator's fit vs K weighted Gram matrices",
        notes=[
            f"fit_iter_s = (fit with {m2} iterations - fit with {m1}) / {m2 - m1}, init_params "
            "= a warm start (3 EM iterations), tol=0; fit_s_per_iter = fit with "
            f"{m2} iterations / {m2} (validation and standardisation included)",
            "floor_s: X.T @ (r[:, k, None] * X) for k < K with numpy; ratio = fit_iter_s / floor_s;"
            f" medians of {args.repeats} runs in the same process",
            "*_cpu_s, ratio_cpu: the same with CPU time (time.process_time) of the same runs, "
            "less sensitive to the other jobs on a shared machine",
        ],
        quick=args.quick,
    )
    write_table(
        "fit_iteration_profile",
        ["experts", "n", "part", "share", "s_per_iter", "calls_per_iter", "floor_s_per_call"],
        prof_rows, title=f"Where an EM iteration's time goes (cProfile of a {m2}-iteration fit)",
        notes=[
            "share: cumulative time of the part / total profiled time (cProfile adds overhead "
            "per Python call, so small parts are inflated); s_per_iter: part time / iterations",
            "floors (numpy, timed alone): E-step: X @ coef.T and G @ gate.T; gate evaluation: "
            "G.T @ (G @ gate.T) (one forward and one backward product); gate Hessian: one "
            "weighted Gram G.T @ (w * G); experts' M-step: the K weighted Grams (the floor of "
            "part 2's ratio; for logistic experts each Newton iteration needs them again)",
        ],
        quick=args.quick,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    ap.add_argument("--part", choices=("1", "2", "both"), default="both")
    ap.add_argument("--d", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-6, help="accuracy on the mean objective")
    ap.add_argument("--max-iter", type=int, default=5000, help="cap of GD / gradient EM runs")
    ap.add_argument("--em-max", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--floor-sizes", type=int, nargs="+", default=[200_000, 1_000_000])
    ap.add_argument("--families", nargs="+", default=["linear", "logistic"], help="part 1")
    ap.add_argument("--Ks", type=int, nargs="+", default=[2, 4], help="part 1")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="part 1")
    ap.add_argument("--out", default="time_to_accuracy_general", help="part 1's table name")
    args = ap.parse_args()
    if args.quick:
        args.max_iter, args.em_max = 2000, 2000
    if args.repeats < 5:
        ap.error("--repeats must be >= 5")
    if args.part in ("1", "both"):
        part1(args)
    if args.part in ("2", "both"):
        part2(args)


if __name__ == "__main__":
    main()
