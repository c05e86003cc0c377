"""The data types of ``moe_lib.params`` and the checks of ``moe_lib._validation``.

Parameters check their own shapes on construction and, against a family and a data set, their
finiteness, variances and reference rows; ``make_data`` validates designs and (given a family)
labels; the free vector round-trips; the penalty is the documented sum of squares.
"""

from __future__ import annotations

import numpy as np
import pytest

from moe_lib import (
    LinearExperts,
    LogisticExperts,
    MoEParams,
    MultinomialExperts,
    SymmetricLinearExperts,
    from_free,
    make_data,
    penalty,
    random_params,
    to_free,
)
from moe_lib._validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_rng,
)
from moe_lib.params import penalty_weights


@pytest.mark.parametrize(
    ("gate", "coef", "sigma", "message"),
    [
        (np.zeros(3), np.zeros((2, 3)), None, "gate must be 2-dimensional"),
        (np.zeros((0, 3)), np.zeros((0, 3)), None, "gate must have at least one row"),
        (np.zeros((2, 3)), np.zeros(3), None, "coef must have one row per expert"),
        (np.zeros((2, 3)), np.zeros((2, 3, 3, 3)), None, "coef must have one row per expert"),
        (np.zeros((2, 3)), np.zeros((2, 3)), np.ones(3), r"sigma must have shape \(2\)"),
        ([["a"]], np.zeros((1, 1)), None, "gate must be a numeric array"),
    ],
)
def test_params_check_their_shapes(gate, coef, sigma, message):
    with pytest.raises((ValueError, TypeError), match=message):
        MoEParams(gate, coef, sigma)


def test_params_check_against_family_and_data():
    data = make_data(np.zeros((4, 2)), np.zeros(4))
    good = MoEParams(np.zeros((2, 3)), np.zeros((2, 3)), np.ones(2))
    assert good.check(LinearExperts(), data) is good
    with pytest.raises(ValueError, match=r"params must have gate shape \(2, 3\)"):
        good.replace(gate=np.zeros((2, 2))).check(LinearExperts(), data)
    with pytest.raises(ValueError, match="sigma must hold 2 finite positive"):
        good.replace(sigma=np.array([1.0, -1.0])).check(LinearExperts(), data)
    with pytest.raises(ValueError, match="gate row 0 must be zero"):
        good.replace(gate=np.ones((2, 3))).check(LinearExperts(), data)
    with pytest.raises(ValueError, match="finite gate and coef"):
        good.replace(coef=np.full((2, 3), np.inf)).check(LinearExperts(), data)
    with pytest.raises(ValueError, match=r"coef\[:, 0, :\] must be zero"):
        MoEParams(np.zeros((2, 3)), np.ones((2, 3, 3))).check(MultinomialExperts(3), data)
    with pytest.raises(ValueError, match="tied as"):
        MoEParams(np.zeros((2, 3)), np.ones((2, 3))).check(SymmetricLinearExperts(), data)
    assert not good.replace(sigma=np.array([1.0, np.nan])).is_finite()
    assert good.is_finite()


def test_make_data_validates_and_adds_intercepts():
    X = np.arange(6.0).reshape(3, 2)
    data = make_data(X, [0.0, 1.0, 0.0], gate_X=np.zeros((3, 0)))
    np.testing.assert_array_equal(data.X[:, 0], 1.0)
    assert data.gate_X.shape == (3, 1) and data.gate_mask.tolist() == [0.0]
    assert make_data(X, np.zeros(3), fit_intercept=False).X.shape == (3, 2)
    with pytest.raises(ValueError, match="X must hold finite values"):
        make_data(np.array([[np.nan]]), [0.0])
    with pytest.raises(ValueError, match=r"gate_X must have shape \(3, \*\)"):
        make_data(X, np.zeros(3), gate_X=np.zeros((2, 1)))
    with pytest.raises(ValueError, match=r"y must have shape \(3,\)"):
        make_data(X, np.zeros(4))
    with pytest.raises(TypeError, match="fit_intercept must be True or False"):
        make_data(X, np.zeros(3), fit_intercept=1)
    with pytest.raises(ValueError, match=r"binary labels in \{0, 1\}"):
        make_data(X, [-1, 1, 1], family=LogisticExperts())
    with pytest.raises(ValueError, match="must not exceed n_trials"):
        make_data(X, [0, 3, 1], n_trials=2, family=LogisticExperts())
    with pytest.raises(ValueError, match="at least one sample"):
        make_data(np.zeros((0, 2)), np.zeros(0))


@pytest.mark.parametrize(
    "family",
    [LinearExperts(), LogisticExperts(), MultinomialExperts(4), SymmetricLinearExperts()],
    ids=lambda f: f.name,
)
def test_free_vector_round_trip(family):
    rng = np.random.default_rng(0)
    K = 2
    params = random_params(family, K, 3, 2, rng)
    v = to_free(family, params)
    back = from_free(family, v, params)
    np.testing.assert_allclose(back.gate, params.gate, rtol=1e-15)
    np.testing.assert_allclose(back.coef, params.coef, rtol=1e-15)
    if family.has_sigma:
        np.testing.assert_allclose(back.sigma, params.sigma, rtol=1e-15)
    assert v.size == (K - 1) * 2 + family.n_free_params(K, 3)


@pytest.mark.parametrize(
    "family", [LinearExperts(), LogisticExperts(), MultinomialExperts(3)], ids=lambda f: f.name
)
def test_penalty_weights_reproduce_the_penalty(family):
    rng = np.random.default_rng(1)
    data = make_data(rng.normal(size=(5, 2)), np.zeros(5, dtype=int))
    params = random_params(family, 3, 3, 3, rng)
    d = penalty_weights(family, data, params)
    v = to_free(family, params)
    assert penalty(family, data, params, 0.7) == pytest.approx(0.35 * np.sum(d * v**2), rel=1e-13)


def test_validation_messages_name_the_argument():
    assert check_int(np.int64(3), "k") == 3
    with pytest.raises(TypeError, match="k must be an integer"):
        check_int(True, "k")
    with pytest.raises(TypeError, match="k must be an integer"):
        check_int(2.0, "k")
    assert check_real(1, "tol", min_value=0.0) == 1.0
    with pytest.raises(ValueError, match=r"tol must be a finite number > 0"):
        check_real(0.0, "tol", min_value=0.0, strict=True)
    with pytest.raises(ValueError, match="tol must be a finite number"):
        check_real(np.nan, "tol")
    with pytest.raises(ValueError, match=r"p must be a finite number >= 0 and <= 1"):
        check_real(2.0, "p", min_value=0.0, max_value=1.0)
    with pytest.raises(TypeError, match="tol must be a real number"):
        check_real("1", "tol")
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(ValueError, match=r"algorithm must be one of \('em', 'gd'\)"):
        check_choice("newton", "algorithm", ("em", "gd"))
    gen = np.random.default_rng(0)
    assert check_rng(gen) is gen
    assert isinstance(check_rng(np.random.RandomState(0)), np.random.Generator)
    with pytest.raises(ValueError, match="random_state must be None, an integer >= 0"):
        check_rng(-1)
    with pytest.raises(ValueError, match=r"X must have shape \(2, \*\)"):
        check_array(np.zeros((3, 1)), "X", shape=(2, None))
    with pytest.raises(TypeError, match="X must be a numeric array, got a string"):
        check_array("abc", "X")
