"""moe_lib against R flexmix and scikit-learn on the same fits (benchmark item 3).

R flexmix (optional; detected at run time)
    The same model and the same start: ``flexmix(y ~ x, k = K, cluster = R0,
    model = FLXMRglm(family = "gaussian" | "binomial"), concomitant = FLXPmultinom(~ x))`` is a
    mixture of linear (or logistic) experts with a multinomial-logit gate on ``x``, which is
    ``MixtureOfLinearExperts`` / ``MixtureOfLogisticExperts`` with ``gate_X = X``. Both start from
    the same responsibilities ``R0`` (flexmix's ``cluster=`` takes a posterior matrix; moe_lib's
    ``init_resp=``), so both begin with an M-step from ``R0``. Reported: the log-likelihood each
    reaches, the iterations each used, the wall time (median of ``--repeats`` fits after a
    warm-up: flexmix timed inside R with ``Sys.time()``, moe_lib inside Python with
    ``time.perf_counter``, in the same run) and the ratio flexmix / moe_lib. As a check that both
    mean the same likelihood, moe_lib's log-likelihood is also evaluated at flexmix's fitted
    parameters. Differences to keep in mind: flexmix stops on a relative change of the
    log-likelihood (``tolerance``), moe_lib on its own rule (``tol``), both set to 1e-10 here;
    flexmix's Gaussian M-step estimates sigma with a degrees-of-freedom correction (not the
    exact maximiser), and its gate M-step calls ``nnet`` with its own iteration bound, so its
    EM step is not exact and it may stop at a slightly lower log-likelihood.
    Data are exchanged through temporary CSV files; nothing is downloaded. Without ``Rscript``
    (or without the flexmix package) this part is skipped with a message; to install:
    ``apt-get install r-base-core r-cran-flexmix`` (Debian/Ubuntu) or, in R,
    ``install.packages("flexmix")``.

scikit-learn (where it fits the same model)
    A mixture of experts has no counterpart in scikit-learn (``GaussianMixture`` on ``(x, y)`` is
    a different model: a joint density, not a conditional one, so its likelihood is not
    comparable). What *is* the same problem is one expert's weighted M-step: a weighted least
    squares or weighted logistic regression with the responsibilities as sample weights. The
    script times moe_lib's exact M-step of one expert (``LinearExperts().m_step`` /
    ``LogisticExperts().m_step`` with a single column of weights) against
    ``LinearRegression().fit(X, y, sample_weight=r)`` and
    ``LogisticRegression(C=inf, tol=1e-10).fit(X, y, sample_weight=r)``, and compares the weighted
    log-likelihood each reaches (K = 1 when the weights are all 1: plain regression).

Usage::

    python benchmarks/against_other_software.py [--quick] [--repeats 5] [--no-r]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import median_time, single_thread_blas, write_table  # noqa: E402

single_thread_blas()

import numpy as np  # noqa: E402

from moe_lib import (  # noqa: E402
    LinearExperts,
    LogisticExperts,
    MixtureOfLinearExperts,
    MixtureOfLogisticExperts,
    MoEParams,
    load_tonedata,
    log_likelihood,
    make_data,
    random_params,
    sample,
)

#: The flexmix columns of a row when flexmix was not run (no Rscript, or it failed).
NO_FLEXMIX = [float("nan"), "", "", *[float("nan")] * 5]

R_SCRIPT = r"""
suppressMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
R0 <- as.matrix(read.csv(args[2]))
family <- args[3]
reps <- as.integer(args[4])
out <- args[5]
xcols <- grep("^x", names(d), value = TRUE)
lhs <- if (family == "binomial") "cbind(y, 1 - y)" else "y"
fml <- as.formula(paste(lhs, "~", paste(xcols, collapse = " + ")))
cfml <- as.formula(paste("~", paste(xcols, collapse = " + ")))
ctrl <- list(iter.max = as.integer(args[6]), tolerance = 1e-10, minprior = 0, verbose = 0)
fitit <- function() {
  flexmix(fml, data = d, k = ncol(R0), cluster = R0,
          model = FLXMRglm(family = family), concomitant = FLXPmultinom(cfml), control = ctrl)
}
fit <- fitit()  # warm-up
times <- numeric(reps)
for (i in seq_len(reps)) {
  t0 <- as.numeric(Sys.time())
  fit <- fitit()
  times[i] <- as.numeric(Sys.time()) - t0
}
pars <- parameters(fit)                           # rows: coef.(Intercept), coef.x1, ..., [sigma]
gate <- parameters(fit, which = "concomitant")    # (q, K), column 1 is the reference
res <- c(loglik = as.numeric(logLik(fit)), iter = fit@iter, converged = as.numeric(fit@converged),
         seconds = median(times), K_used = ncol(pars))
write.csv(data.frame(key = names(res), value = unname(res)), paste0(out, "_summary.csv"),
          row.names = FALSE)
write.csv(pars, paste0(out, "_experts.csv"))
write.csv(gate, paste0(out, "_gate.csv"))
"""


def datasets(quick: bool) -> list[tuple[str, str, np.ndarray, np.ndarray, int]]:
    """(name, family, X, y, K): the tone data and synthetic linear and logistic sets."""
    X_tone, y_tone = load_tonedata(return_X_y=True)
    out = [("tonedata", "gaussian", X_tone, y_tone, 2)]
    rng = np.random.default_rng(7)
    for family_name, fam in (("gaussian", LinearExperts()), ("binomial", LogisticExperts())):
        n, d, K = (1000 if quick else 5000), 2, 2
        Xr = rng.standard_normal((n, d))
        design = make_data(Xr, np.zeros(n))
        true = random_params(fam, K, d + 1, d + 1, rng, scale=2.0)
        y, _ = sample(fam, true, design.X, design.gate_X, rng)
        out.append((f"synthetic_{family_name}_n{n}", family_name, Xr, y, K))
    return out


def moe_fit(family: str, X, y, R0, tol: float, max_iter: int):
    est_cls = MixtureOfLinearExperts if family == "gaussian" else MixtureOfLogisticExperts
    est = est_cls(n_experts=R0.shape[1], max_iter=max_iter, tol=tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, init_resp=R0)


def run_flexmix(family, X, y, R0, repeats, max_iter, tmp: Path):
    """Fit with flexmix in R; returns a dict or None if R/flexmix is unavailable."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None, "Rscript not found"
    data_csv, resp_csv, out = tmp / "data.csv", tmp / "resp.csv", tmp / "fit"
    with open(data_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"x{j + 1}" for j in range(X.shape[1])] + ["y"])
        w.writerows(np.column_stack([X, y]).tolist())
    with open(resp_csv, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([f"c{k + 1}" for k in range(R0.shape[1])])
        w.writerows(R0.tolist())
    script = tmp / "fit.R"
    script.write_text(R_SCRIPT)
    proc = subprocess.run(
        [
            rscript,
            str(script),
            str(data_csv),
            str(resp_csv),
            family,
            str(repeats),
            str(out),
            str(max_iter),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        msg = proc.stderr.strip().splitlines()[-3:]
        return None, "Rscript failed: " + " | ".join(msg)
    summary = {}
    with open(f"{out}_summary.csv") as fh:
        for row in csv.DictReader(fh):
            summary[row["key"]] = float(row["value"])
    experts = np.genfromtxt(f"{out}_experts.csv", delimiter=",", skip_header=1, dtype=float)
    experts = np.atleast_2d(experts)[:, 1:]  # drop the row-name column: (rows, K)
    gate = np.atleast_2d(np.genfromtxt(f"{out}_gate.csv", delimiter=",", skip_header=1))[:, 1:]
    summary["experts"], summary["gate"] = experts, gate
    return summary, ""


def loglik_at_flexmix(family, X, y, fx) -> float:
    """moe_lib's log-likelihood at flexmix's parameters (same likelihood, independent code)."""
    data = make_data(X, y)
    p = X.shape[1] + 1
    coef = fx["experts"][:p].T  # (K, p)
    gate = fx["gate"].T  # (K, q), row 0 is the reference (zeros)
    if family == "gaussian":
        params = MoEParams(gate, coef, fx["experts"][p])
        return log_likelihood(LinearExperts(), data, params)
    return log_likelihood(LogisticExperts(), data, MoEParams(gate, coef, None))


def sklearn_rows(sets, repeats):
    """One expert's weighted M-step: moe_lib vs scikit-learn (the same optimisation problem)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    rows = []
    rng = np.random.default_rng(3)
    for name, family, X, y, _ in sets:
        data = make_data(X, y)
        n = X.shape[0]
        for wname, r in (("ones (K=1)", np.ones(n)), ("responsibilities", rng.random(n))):
            resp = r[:, None]
            fam = LinearExperts() if family == "gaussian" else LogisticExperts()
            sigma0 = np.ones(1) if family == "gaussian" else None

            def ours(fam=fam, data=data, resp=resp, sigma0=sigma0):
                # One expert's exact weighted M-step, from zero coefficients.
                start = MoEParams(np.zeros((1, 0)), np.zeros((1, data.X.shape[1])), sigma0)
                return fam.m_step(data, resp, start, 0.0)

            if family == "gaussian":

                def theirs(X=X, y=y, r=r):
                    return LinearRegression().fit(X, y, sample_weight=r)

                coef, sigma, _ = ours()
                skl = theirs()
                beta = np.r_[skl.intercept_, skl.coef_]
                resid = y - data.X @ beta
                s2 = float(r @ resid**2 / r.sum())
                ll_theirs = float(-0.5 * r @ (np.log(2 * np.pi * s2) + resid**2 / s2))
                one = MoEParams(np.zeros((1, 0)), coef, sigma)
                ll_ours = float(r @ fam.log_prob(data, one)[:, 0])
                what = "LinearRegression(sample_weight=r)"
            else:

                def theirs(X=X, y=y, r=r):
                    return LogisticRegression(C=np.inf, tol=1e-10, max_iter=10000).fit(
                        X, y, sample_weight=r
                    )

                coef, _, _ = ours()
                skl = theirs()
                beta = np.r_[skl.intercept_, skl.coef_.ravel()][None, :]
                ll_ours = float(r @ fam.log_prob(data, MoEParams(np.zeros((1, 0)), coef))[:, 0])
                ll_theirs = float(r @ fam.log_prob(data, MoEParams(np.zeros((1, 0)), beta))[:, 0])
                what = "LogisticRegression(C=inf, tol=1e-10, lbfgs)"
            t_ours = median_time(ours, repeats=repeats)
            t_theirs = median_time(theirs, repeats=repeats)
            rows.append(
                [
                    name,
                    what,
                    wname,
                    n,
                    ll_ours,
                    ll_theirs,
                    ll_ours - ll_theirs,
                    t_ours,
                    t_theirs,
                    t_theirs / t_ours,
                ]
            )
            print(rows[-1], flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="synthetic sets of n=1000 (else 5000)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tol", type=float, default=1e-10, help="moe_lib's tol")
    ap.add_argument("--max-iter", type=int, default=2000, help="iteration bound of both")
    ap.add_argument("--no-r", action="store_true", help="skip the flexmix comparison")
    args = ap.parse_args()
    if args.repeats < 5:
        ap.error("--repeats must be >= 5")
    sets = datasets(args.quick)
    rows, notes = [], []
    r_status = "skipped (--no-r)" if args.no_r else ""
    if not args.no_r and shutil.which("Rscript") is None:
        r_status = (
            "skipped: Rscript not found. To run it: apt-get install r-base-core "
            "r-cran-flexmix (Debian/Ubuntu), or install R and run "
            'install.packages("flexmix")'
        )
        print(r_status)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for name, family, X, y, K in sets:
            R0 = np.random.default_rng(11).dirichlet(np.ones(K), size=X.shape[0])
            est = moe_fit(family, X, y, R0, args.tol, args.max_iter)
            t_moe = median_time(
                lambda f=family, X=X, y=y, R0=R0: moe_fit(f, X, y, R0, args.tol, args.max_iter),
                repeats=args.repeats,
            )
            row = [
                name,
                family,
                X.shape[0],
                K,
                est.loglik_,
                est.n_iter_,
                bool(est.converged_),
                t_moe,
            ]
            if r_status:
                row += NO_FLEXMIX
            else:
                t0 = time.perf_counter()
                fx, why = run_flexmix(family, X, y, R0, args.repeats, args.max_iter, tmp)
                if fx is None:
                    r_status = f"skipped: {why}"
                    print(r_status)
                    row += NO_FLEXMIX
                else:
                    ll_check = loglik_at_flexmix(family, X, y, fx)
                    per_iter = (fx["seconds"] / fx["iter"]) / (t_moe / est.n_iter_)
                    row += [
                        fx["loglik"],
                        int(fx["iter"]),
                        bool(fx["converged"]),
                        fx["seconds"],
                        fx["seconds"] / t_moe,
                        per_iter,
                        ll_check,
                        est.loglik_ - fx["loglik"],
                    ]
                    print(
                        f"  (R process incl. start-up and {args.repeats + 1} fits: "
                        f"{time.perf_counter() - t0:.1f} s)"
                    )
            rows.append(row)
            print(rows[-1], flush=True)
    notes = [
        "same start: responsibilities R0 ~ Dirichlet(1, ..., 1) (seed 11), passed to flexmix as "
        "cluster=R0 and to moe_lib as init_resp=R0; gate on x (concomitant=FLXPmultinom(~x))",
        f"moe_lib: tol={args.tol:g}, max_iter={args.max_iter}; flexmix: control=list(iter.max="
        f"{args.max_iter}, tolerance=1e-10, minprior=0); binomial: cbind(y, 1 - y) ~ x",
        "per_iter_ratio: (flexmix seconds / iterations) / (moe_lib seconds / iterations)",
        f"seconds: median of {args.repeats} fits after a warm-up, each program timing itself "
        "(R: Sys.time(); Python: time.perf_counter), in the same run",
        "moe_ll_at_flexmix: moe_lib's log-likelihood evaluated at flexmix's fitted parameters "
        "(equals flexmix_loglik when both mean the same likelihood)",
        "ll_gain: moe_lib loglik - flexmix loglik (positive: moe_lib reached a higher value)",
    ]
    if r_status:
        notes.append(f"flexmix: {r_status}")
    write_table(
        "against_flexmix",
        [
            "data",
            "family",
            "n",
            "K",
            "moe_loglik",
            "moe_iters",
            "moe_conv",
            "moe_s",
            "flexmix_loglik",
            "flexmix_iters",
            "flexmix_conv",
            "flexmix_s",
            "time_ratio_flexmix/moe",
            "per_iter_ratio",
            "moe_ll_at_flexmix",
            "ll_gain",
        ],
        rows,
        title="moe_lib vs R flexmix: the same MoE fit from the same start",
        notes=notes,
        quick=args.quick,
    )
    skl = sklearn_rows(sets, args.repeats)
    write_table(
        "against_sklearn",
        [
            "data",
            "sklearn",
            "weights",
            "n",
            "moe_weighted_ll",
            "sklearn_weighted_ll",
            "ll_diff",
            "moe_s",
            "sklearn_s",
            "time_ratio_sklearn/moe",
        ],
        skl,
        title="One expert's weighted M-step: moe_lib vs scikit-learn (the same problem)",
        notes=[
            "moe_lib: the family's exact m_step with one column of weights; scikit-learn: the "
            "same weighted regression with sample_weight",
            "weighted_ll: sum_i r_i log "
            "p(y_i | x_i) at each fit (sigma^2 = weighted mean squared residual for linear)",
            f"seconds: median of {args.repeats} fits after a warm-up, same process",
            "GaussianMixture on (x, y) is not used: it models the joint density, a different "
            "model whose likelihood is not comparable",
        ],
        quick=args.quick,
    )


if __name__ == "__main__":
    main()
