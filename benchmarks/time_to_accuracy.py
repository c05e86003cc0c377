"""EM vs gradient EM vs gradient descent on the symmetric models: iterations, seconds and passes
over the data to reach the optimum to 1e-6, and the cost of one EM iteration in lean GD steps.

Models: the paper's SymMoLinE and SymMoLogE (:mod:`moe_lib.symmetric`), ``x ~ N(0, I_d)``,
n = 10 000, d = 10 (``--quick``: n = 2000, d = 5):

- SymMoLinE with ``||w*|| = 1`` and ``||beta*||`` in {0.5, 1, 2} (low / medium / high SNR);
- SymMoLogE with ``||w*|| = 4`` and ``||beta*||`` in {1, 2, 4}.

Accuracy: ``L(theta_t) - L* <= tol`` (default 1e-6) on ``L = symmetric.neg_loglik``, the *mean*
negative log-likelihood. ``L*``: ``symmetric.run(..., "em", tol=1e-15)`` then a BFGS polish on
``L`` with its exact gradient (``symmetric.gradient``); the smaller value is kept.

Methods, all from the same start ``symmetric.initial_point(w*, beta*)`` (relative errors 1):

- EM: the library's driver ``symmetric.run(kind, X, y, w0, beta0, "em")`` (an ``EMStepper``:
  the factorised Hessian of one M-step's solve is reused by the next), which computes ``L`` at
  every iterate for its history; and *lean EM* (``lean_em``), the same iterates (checked to
  1e-8) without that monitoring, as the lean GD step has none: the E-step's posterior
  (``symmetric.posterior``) and ``EMStepper.step``;
- GD: the *lean GD step* written here (two matrix products ``X @ [w, beta]`` and
  ``X^T @ R`` and a few elementwise passes), fixed step ``eta = c / max(L_w, L_beta)``
  (``symmetric.curvature_bounds``), best ``c`` from GD_GRID; the library's ``symmetric.gd_step``
  and ``symmetric.run(..., "gd")`` are timed against it;
- gradient EM: the same lean gradient with per-block steps ``c / L_block``, best ``c`` from
  GEM_GRID.

Grid search (GD and gradient EM): ``c = 1`` first, then larger values while they help, then the
smaller ones; every monitored run stops at the accuracy, at the best iteration count found so far
(it cannot win: '>T' in the table), or when ``L`` exceeds its start by 1 or turns non-finite
('div'). The grid's cost (steps taken and monitored seconds) is reported separately and is *not*
part of the method's time to accuracy.

Seconds to accuracy: the median of ``--repeats`` (>= 5) runs of exactly ``T`` steps.
Passes over the data as the library counts them (``FitResult.passes``; one pass = one product of
the n-row design with one vector): a GD or gradient EM step takes 4, an EM iteration 2 for its
E-step plus its inner solves' evaluations and Hessians (a weighted Gram matrix counts (d + 1) / 2);
the number of Hessians is also listed. ``em_iter / lean_step`` is (EM seconds to accuracy / its
iterations) / (the median lean step), both measured in the same run.

Usage::

    python benchmarks/time_to_accuracy.py [--quick] [--n 10000] [--d 10] [--instances 2]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import median_time, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402
from scipy.special import expit  # noqa: E402

from moe_lib import symmetric as sym  # noqa: E402
from moe_lib.symmetric.steps import E_STEP_PASSES, GRADIENT_STEP_PASSES, EMStepper  # noqa: E402

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


def lean_gradient(kind, X, y):
    """``(w, beta) -> (grad_w L, grad_beta L)``: two matrix products, a few elementwise passes."""
    n, d = X.shape
    c = 2.0 * y if kind == "linear" else 2.0 * y - 1.0
    base = None if kind == "linear" else 1.0 - y
    theta = np.empty((d, 2))
    resid = np.empty((n, 2))

    def grad(w, b):
        theta[:, 0], theta[:, 1] = w, b
        s = X @ theta
        u, a = s[:, 0], s[:, 1]
        p = expit(u + c * a)
        resid[:, 0] = expit(u) - p
        if base is None:
            resid[:, 1] = a - (2.0 * p - 1.0) * y
        else:
            resid[:, 1] = expit(a) - (base + c * p)
        g = X.T @ resid
        g /= n
        return g[:, 0], g[:, 1]

    return grad


def gradient_stepper(kind, X, y, steps):
    """A lean gradient step with steps ``(eta_w, eta_beta)`` (GD: equal; gradient EM: per block)."""
    grad = lean_gradient(kind, X, y)
    e_w, e_b = steps

    def step(w, b):
        g_w, g_b = grad(w, b)
        return w - e_w * g_w, b - e_b * g_b

    return step


def optimum(kind, X, y, w0, b0, em_max):
    """``L*``: EM to convergence (symmetric.run), then a BFGS polish; (L*, EM iterations)."""
    res = sym.run(kind, X, y, w0, b0, "em", max_iter=em_max, tol=1e-15)
    d = X.shape[1]
    v0 = res.path[-1]
    l_em = sym.neg_loglik(kind, X, y, v0[:d], v0[d:])

    def fun(v):
        gw, gb = sym.gradient(kind, X, y, v[:d], v[d:])
        return sym.neg_loglik(kind, X, y, v[:d], v[d:]), np.concatenate([gw, gb])

    pol = optimize.minimize(fun, v0, jac=True, method="BFGS",
                            options={"gtol": 1e-12, "maxiter": 500})
    return min(l_em, float(pol.fun)), res.n_iter


def monitored(step, kind, X, y, w0, b0, target, cap):
    """Steps until ``L <= target``: (T or None, why it stopped, steps taken)."""
    w, b = w0, b0
    l0 = sym.neg_loglik(kind, X, y, w0, b0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for t in range(1, cap + 1):
            w, b = step(w, b)
            cur = sym.neg_loglik(kind, X, y, w, b) if np.all(np.isfinite(w)) else np.nan
            if not np.isfinite(cur) or cur > l0 + 1.0:
                return None, "div", t
            if cur <= target:
                return t, str(t), t
    return None, f">{cap}", cap


def grid_search(kind, X, y, w0, b0, target, max_iter, grid, steps_of):
    """Best multiplier by the pruned search described in the module docstring."""
    order = [1.0] + [c for c in grid if c > 1.0] + sorted((c for c in grid if c < 1.0),
                                                         reverse=True)
    best_T, best_c, cells, total, t0 = None, None, {}, 0, time.perf_counter()
    worse_in_a_row, last_div = 0, False
    for c in order:
        if c > 1.0 and (worse_in_a_row >= 2 or last_div):
            cells[c] = "skip"
            continue
        cap = max_iter if best_T is None else best_T
        T, cell, used = monitored(gradient_stepper(kind, X, y, steps_of(c)), kind, X, y, w0, b0,
                                  target, cap)
        total += used
        cells[c] = cell
        if T is not None and (best_T is None or T < best_T):
            best_T, best_c, worse_in_a_row = T, c, 0
        elif c > 1.0:
            worse_in_a_row += 1
        last_div = cell == "div"
    grid_text = ", ".join(f"{c:.3g}: {cells[c]}" for c in grid)
    return best_T, best_c, grid_text, total, time.perf_counter() - t0


def em_counts(kind, X, y, w0, b0, target, max_iter):
    """EM iterations to ``target`` (None if not reached in ``max_iter``), their passes over the
    data and their Hessians (EMStepper, as symmetric.run; the passes are the sum of
    ``symmetric.run(...).passes`` over the same iterations: ``E_STEP_PASSES`` per E-step plus the
    inner solves' work)."""
    stepper = EMStepper(kind, X, y)
    w, b = w0, b0
    for t in range(1, max_iter + 1):
        w, b = stepper.step(w, b, sym.posterior(kind, X, y, w, b))
        if sym.neg_loglik(kind, X, y, w, b) <= target:
            return t, stepper.passes + E_STEP_PASSES * t, stepper.n_hessians
    return None, stepper.passes + E_STEP_PASSES * max_iter, stepper.n_hessians


def lean_em(kind, X, y, w0, b0, T):
    """``T`` EM iterations as the lean GD step is timed, without monitoring: the E-step's
    posterior only (``symmetric.posterior``: one product pair and one ``expit``, no loss), then
    the library's M-step (``EMStepper.step``, as ``symmetric.run`` takes it)."""
    stepper = EMStepper(kind, X, y)
    w, b = w0, b0
    for _ in range(T):
        w, b = stepper.step(w, b, sym.posterior(kind, X, y, w, b))
    return w, b


def run_steps(step, w0, b0, T):
    w, b = w0, b0
    for _ in range(T):
        w, b = step(w, b)
    return w, b


def measure(kind, w_norm, b_norm, inst, args):
    """One instance: rows of the two tables."""
    rows = []
    rng = np.random.default_rng([inst, int(10 * b_norm), kind == "linear"])
    w_star, b_star = sym.random_instance(kind, args.d, b_norm, w_norm=w_norm, rng=rng)
    X, y, _ = sym.sample(kind, w_star, b_star, args.n, rng)
    w0, b0 = sym.initial_point(w_star, b_star, rng)
    gw, gb = lean_gradient(kind, X, y)(w0, b0)
    rw, rb = sym.gradient(kind, X, y, w0, b0)
    assert np.allclose(gw, rw, atol=1e-12) and np.allclose(gb, rb, atol=1e-12)
    l_star, em_used = optimum(kind, X, y, w0, b0, args.em_max)
    target = l_star + args.tol
    l_w, l_b = sym.curvature_bounds(kind, X)
    tag = [kind, w_norm, b_norm, inst]
    # ---- per-step costs, same run: lean GD step, library gd_step, library run("gd")
    eta1 = 1.0 / max(l_w, l_b)
    lean = gradient_stepper(kind, X, y, (eta1, eta1))
    k = 200
    t_lean = median_time(lambda: run_steps(lean, w0, b0, k), args.repeats) / k

    def lib_step(w, b):
        return sym.gd_step(kind, X, y, w, b, eta1)

    t_lib = median_time(lambda: run_steps(lib_step, w0, b0, k), args.repeats) / k
    t_librun = median_time(
        lambda: sym.run(kind, X, y, w0, b0, "gd", max_iter=k, step_size=eta1, tol=None),
        args.repeats) / k
    # ---- EM
    T_em, passes, hess = em_counts(kind, X, y, w0, b0, target, args.max_iter)
    result = {}
    if T_em is not None:
        s_em = median_time(lambda: sym.run(kind, X, y, w0, b0, "em", max_iter=T_em,
                                           tol=None), args.repeats)
        result["em"] = (T_em, s_em)
        rows.append(tag + ["em", "", T_em, s_em, passes, hess, "", 0, 0.0])
        # The same iterates without the loss at every iteration (checked, to the rounding of
        # the two posteriors' expit): EM unmonitored, as the lean GD step is.
        w_lean, b_lean = lean_em(kind, X, y, w0, b0, T_em)
        last = sym.run(kind, X, y, w0, b0, "em", max_iter=T_em, tol=None).path[-1]
        assert np.allclose(np.concatenate([w_lean, b_lean]), last, rtol=1e-8, atol=1e-10)
        s_lean = median_time(lambda: lean_em(kind, X, y, w0, b0, T_em), args.repeats)
        result["em_lean"] = (T_em, s_lean)
        rows.append(tag + ["em (lean)", "", T_em, s_lean, passes, hess, "", 0, 0.0])
    else:
        rows.append(tag + ["em", "", f"not reached in {args.max_iter}", float("nan"),
                           "", hess, "", 0, 0.0])
    # ---- GD and gradient EM: grid search, then timing of the best step
    searches = (
        ("gd", GD_GRID, lambda c: (c * eta1, c * eta1)),
        ("gradient_em", GEM_GRID, lambda c: (c / l_w, c / l_b)),
    )
    for name, grid, steps_of in searches:
        T, c, grid_text, grid_steps, grid_s = grid_search(
            kind, X, y, w0, b0, target, args.max_iter, grid, steps_of)
        if T is None:
            rows.append(tag + [name, "", f"not reached in {args.max_iter}", float("nan"),
                               "", 0, grid_text, grid_steps, grid_s])
            continue
        step = gradient_stepper(kind, X, y, steps_of(c))
        sec = median_time(lambda step=step, T=T: run_steps(step, w0, b0, T), args.repeats)
        result[name] = (T, sec)
        rows.append(tag + [name, c, T, sec, GRADIENT_STEP_PASSES * T, 0, grid_text,
                           grid_steps, grid_s])
        if name == "gd":
            s_lib = median_time(lambda T=T, c=c: sym.run(
                kind, X, y, w0, b0, "gd", max_iter=T, step_size=c * eta1, tol=None),
                args.repeats)
            result["gd_lib"] = (T, s_lib)
    for r in rows[-3:]:
        print(r, flush=True)
    em, gd = result.get("em"), result.get("gd")
    gem, lean = result.get("gradient_em"), result.get("em_lean")
    nan = float("nan")
    cost_row = tag + [
        t_lean, t_lib, t_librun, t_lib / t_lean, t_librun / t_lean,
        em[1] / em[0] if em else nan,
        em[1] / em[0] / t_lean if em else nan,
        gd[0] / em[0] if em and gd else nan,
        gd[1] / em[1] if em and gd else nan,
        result["gd_lib"][1] / em[1] if em and gd else nan,
        gem[0] / em[0] if em and gem else nan,
        gem[1] / em[1] if em and gem else nan,
        lean[1] / lean[0] / t_lean if lean else nan,
        gd[1] / lean[1] if lean and gd else nan,
    ]
    print(cost_row, f"L* = {l_star:.12f} (EM iterations: {em_used})", flush=True)
    return rows, cost_row


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
    rows, cost_rows = [], []
    for kind, w_norm, b_norm in SETTINGS:
        for inst in range(args.instances):
            r, c = measure(kind, w_norm, b_norm, inst, args)
            rows += r
            cost_rows.append(c)
    common = [
        f"n = {args.n}, d = {args.d}, x ~ N(0, I_d), {args.instances} instance(s) per setting; "
        f"accuracy L - L* <= {args.tol:g} on the mean negative log-likelihood L",
        "L* = symmetric.run(em, tol=1e-15) polished by BFGS (gtol 1e-12)",
        "GD: eta = c / max(L_w, L_beta), c in 2^(k/2), k = -2..8; gradient EM: c / L_block, "
        "k = -2..4; searched from c = 1 up while improving, then down, each run capped at the "
        "best T so far ('>T'); 'div': L rose above its start + 1; 'skip': not tried",
        f"seconds: median of {args.repeats} runs of exactly T steps after a warm-up; EM "
        "through symmetric.run (which computes L at every iterate) and as lean EM (without it), "
        "GD and gradient EM with the lean step written in the script (unmonitored)",
        "passes: products of the n-row design with one vector, as the library counts them "
        "(FitResult.passes): GD and gradient EM 4 per step (Xw, X beta and the gradient's two "
        "X^T r); EM 2 per E-step plus its inner solves' evaluations and Hessians; hessians: "
        "weighted Gram matrices formed by EM's inner solves",
        "grid_steps / grid_s: steps and monitored seconds of the whole grid search (not included "
        "in the method's seconds)",
    ]
    write_table(
        "time_to_accuracy",
        ["model", "w_norm", "beta_norm", "instance", "method", "best_c", "iterations", "seconds",
         "passes", "hessians", "grid (c: iterations)", "grid_steps", "grid_s"],
        rows, title="Iterations, seconds and passes to reach L* + tol", notes=common,
        quick=args.quick,
    )
    write_table(
        "time_to_accuracy_ratios",
        ["model", "w_norm", "beta_norm", "instance", "lean_step_s", "lib_gd_step_s",
         "lib_run_gd_step_s", "lib_step/lean", "lib_run/lean", "em_iter_s", "em_iter/lean_step",
         "gd/em_iters", "gd/em_seconds", "lib_gd/em_seconds", "gem/em_iters", "gem/em_seconds",
         "lean_em_iter/lean_step", "gd/lean_em_seconds"],
        cost_rows, title="Cost of one EM iteration in lean GD steps; other method / EM",
        notes=common + [
            "lean_step_s: median over 200 lean GD steps; lib_gd_step_s: symmetric.gd_step "
            "(argument checks included); lib_run_gd_step_s: symmetric.run(gd, tol=None) / steps "
            "(it also computes L at every iterate); em_iter_s = EM seconds to accuracy / EM "
            "iterations (cold first M-steps included)",
            "gd/em_seconds uses the lean GD step; lib_gd/em_seconds symmetric.run(gd); above 1: "
            "EM is faster",
            "lean EM ('em (lean)'): the same EM iterates (checked to 1e-8) without the loss at "
            "every iteration, E-step posterior + EMStepper.step, as unmonitored as the lean GD "
            "step; lean_em_iter/lean_step and gd/lean_em_seconds use it",
        ],
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
