"""Tests of moe_lib.mirror.objective: the mirror-descent model and its gradient.

Checked against finite differences, and against Q and the log-likelihood of moe_lib.model (its
E-step and joint densities, which share no code with the model under test).
"""

from __future__ import annotations

import numpy as np
import pytest
from _mirror_cases import CASES, make_instance, other_params

from moe_lib import (
    e_step,
    from_free,
    joint_log_prob,
    log_likelihood,
    mirror,
    penalty,
    to_free,
)
from moe_lib.mirror.objective import MirrorDescentModel
from moe_lib.mirror.registry import view_of


@pytest.mark.parametrize("case", ["linear-K3", "binomial", "multinomial-C3", "sym-logistic"])
@pytest.mark.parametrize("alpha,step_size", [(0.0, 1.0), (0.5, 0.4)])
def test_md_objective_gradient_by_finite_differences(case, alpha, step_size):
    family, data, params_t = make_instance(case, 9, n=60)
    params = other_params(family, params_t, np.random.default_rng(9), size=0.3)
    v = to_free(family, params)
    g = mirror.md_objective_gradient(family, data, params, params_t, alpha, step_size)
    h = 1e-6
    fd = np.empty_like(v)
    for j in range(v.size):
        e = np.zeros_like(v)
        e[j] = h
        fp = mirror.md_objective(
            family, data, from_free(family, v + e, params), params_t, alpha, step_size
        )
        fm = mirror.md_objective(
            family, data, from_free(family, v - e, params), params_t, alpha, step_size
        )
        fd[j] = (fp - fm) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


def _total_q(family, data, params, params_t):
    """Q(theta | theta_t) = sum_i sum_k r_ik log p(y_i, z=k | x_i; theta), from moe_lib.model."""
    resp = e_step(family, data, params_t)[0]
    return float(np.sum(resp * joint_log_prob(family, data, params)))


@pytest.mark.parametrize("case", list(CASES))
def test_md_objective_is_the_q_difference_and_the_exact_decrease(case):
    """md(theta) = Q(theta_t|theta_t) - Q(theta|theta_t) (+ penalty), and
    L(theta) = L(theta_t) + md(theta) - sum_x KL(post_t || post_theta) <= L(theta_t) + md(theta)
    (chapter 4 of the book)."""
    family, data, params_t = make_instance(case, 10)
    rng = np.random.default_rng(10)
    for size in (0.2, 1.0):
        params = other_params(family, params_t, rng, size=size)
        md = mirror.md_objective(family, data, params, params_t)
        q_t = _total_q(family, data, params_t, params_t)
        q_diff = q_t - _total_q(family, data, params, params_t)
        assert abs(md - q_diff) <= 1e-9 * max(1.0, abs(q_diff))
        md_pen = mirror.md_objective(family, data, params, params_t, alpha=0.5)
        assert abs(md_pen - md - penalty(family, data, params, 0.5)) <= 1e-9 * max(1.0, abs(md))
        r_t = e_step(family, data, params_t)[0]
        r = e_step(family, data, params)[0]
        kl_post = float(np.sum(r_t * (np.log(r_t) - np.log(r))))
        nll, nll_t = -log_likelihood(family, data, params), -log_likelihood(family, data, params_t)
        assert abs(nll - (nll_t + md - kl_post)) <= 1e-9 * max(1.0, abs(nll))
        assert nll <= nll_t + md + 1e-9


@pytest.mark.parametrize("case", list(CASES))
def test_model_loss_is_the_negative_log_likelihood(case):
    """The model's L(theta_t), from A_x, h and T, is -loglik of moe_lib.model."""
    family, data, params_t = make_instance(case, 17, n=50)
    model = MirrorDescentModel(view_of(family, data), params_t, 0.0, 1.0)
    expected = -log_likelihood(family, data, params_t)
    assert abs(model.loss_t - expected) <= 1e-11 * abs(expected)


def test_model_arguments_are_checked():
    family, data, params = make_instance("linear-K2", 14, n=20)
    with pytest.raises(ValueError, match="alpha"):
        mirror.md_objective(family, data, params, params, alpha=-1.0)
    with pytest.raises(ValueError, match="step_size"):
        mirror.md_objective_gradient(family, data, params, params, step_size=-1.0)
    with pytest.raises(ValueError, match="params_t.sigma"):
        mirror.md_objective(family, data, params, params.replace(sigma=None))
