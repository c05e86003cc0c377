"""Which view a family gets, and the argument checks every function of the package shares.

The view is looked up by the family's ``name`` (:data:`VIEWS`), never by its class: this package
uses an expert family only through its attributes and methods (``name``, ``check_y``,
``coef_shape``, ``check_coef``, ``has_sigma``, ``n_classes``, and those that
:mod:`moe_lib.params` calls), so it needs nothing from the modules that compute EM steps.
"""

from __future__ import annotations

import numpy as np

from moe_lib.mirror.families import LinearView, LogisticView, MultinomialView
from moe_lib.mirror.symmetric_families import SymmetricLinearView, SymmetricLogisticView
from moe_lib.mirror.view import FamilyLike, FamilyView
from moe_lib.params import MoEData, MoEParams

#: The view of each expert family, by the family's ``name``.
VIEWS: dict[str, type[FamilyView]] = {
    view.name: view
    for view in (
        LinearView,
        LogisticView,
        MultinomialView,
        SymmetricLinearView,
        SymmetricLogisticView,
    )
}


def view_of(family: FamilyLike, data: MoEData) -> FamilyView:
    """The exponential-family view of ``family`` on ``data``.

    Parameters
    ----------
    family : ExpertFamily
        Any object whose ``name`` is a key of :data:`VIEWS`.
    data : MoEData

    Returns
    -------
    FamilyView

    Raises
    ------
    TypeError
        When ``family`` has no known ``name`` or ``data`` is not a :class:`MoEData`.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import SymmetricLogisticExperts
    >>> from moe_lib.params import make_data
    >>> data = make_data(np.ones((2, 1)), np.array([0, 1]))
    >>> type(view_of(SymmetricLogisticExperts(), data)).__name__
    'SymmetricLogisticView'
    >>> view_of("linear", data)
    Traceback (most recent call last):
    ...
    TypeError: family must be an expert family named one of ('linear', 'logistic', \
'multinomial', 'symmetric-linear', 'symmetric-logistic'), got 'linear'
    """
    name = getattr(family, "name", None)
    view = VIEWS.get(name) if isinstance(name, str) else None
    if view is None:
        raise TypeError(
            f"family must be an expert family named one of {tuple(VIEWS)}, got {family!r}"
        )
    if not isinstance(data, MoEData):
        raise TypeError(f"data must be a MoEData (see moe_lib.make_data), got {type(data)}")
    return view(family, data)


def check_params(view: FamilyView, params: MoEParams, name: str = "params") -> MoEParams:
    """``params`` checked against the view's family and designs, as float arrays.

    Checks the gate and coefficient shapes, finite values, positive variances where the family has
    them and the family's own constraint (``check_coef``: tied symmetric experts). Unlike
    :meth:`MoEParams.check` it accepts any gate row 0, since natural parameters are defined for
    every gate. ``sigma`` is dropped for families without variances.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import LinearExperts
    >>> from moe_lib.params import make_data
    >>> view = view_of(LinearExperts(), make_data(np.ones((2, 1)), np.zeros(2)))
    >>> check_params(view, MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))).n_experts
    2
    >>> check_params(view, MoEParams(np.zeros((2, 2)), np.zeros((2, 2))), "params_t")
    Traceback (most recent call last):
    ...
    ValueError: params_t.sigma is required for LinearExperts()
    """
    if not isinstance(params, MoEParams):
        raise TypeError(f"{name} must be a MoEParams, got {type(params).__name__}")
    gate = np.asarray(params.gate, dtype=float)
    K = gate.shape[0]
    if gate.shape[1] != view.G.shape[1]:
        raise ValueError(
            f"{name}.gate must have shape (n_experts, {view.G.shape[1]}) to match data.gate_X, "
            f"got {gate.shape}"
        )
    coef = np.asarray(params.coef, dtype=float)
    shape = view.family.coef_shape(K, view.X.shape[1])
    if coef.shape != shape:
        raise ValueError(f"{name}.coef must have shape {shape}, got {coef.shape}")
    sigma = None
    if view.family.has_sigma:
        if params.sigma is None:
            raise ValueError(f"{name}.sigma is required for {view.family!r}")
        sigma = np.asarray(params.sigma, dtype=float)
        if not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError(f"{name}.sigma must hold {K} finite positive values, got {sigma}")
    if not (np.all(np.isfinite(gate)) and np.all(np.isfinite(coef))):
        raise ValueError(f"{name} must hold finite gate and coef values")
    view.family.check_coef(coef, name)
    return MoEParams(gate, coef, sigma)


def as_natural(view: FamilyView, obj: MoEParams | np.ndarray, name: str) -> np.ndarray:
    """Natural parameters (n, D) from model parameters, or checked natural parameters as given.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib.experts import LogisticExperts
    >>> from moe_lib.params import make_data
    >>> view = view_of(LogisticExperts(), make_data(np.ones((2, 1)), np.array([0, 1])))
    >>> as_natural(view, np.zeros((2, 4)), "theta").shape
    (2, 4)
    >>> as_natural(view, np.zeros((2, 3)), "theta")
    Traceback (most recent call last):
    ...
    ValueError: natural parameters have 3 coordinates per sample, which matches no number of \
experts for LogisticExperts()
    """
    if isinstance(obj, MoEParams):
        return view.natural(check_params(view, obj, name))
    theta = np.asarray(obj, dtype=float)
    if theta.ndim != 2 or theta.shape[0] != view.n:
        raise ValueError(
            f"{name} must be a MoEParams or natural parameters of shape (n_samples={view.n}, D), "
            f"got shape {theta.shape}"
        )
    view.n_experts_from_dim(theta.shape[1])
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{name} must hold finite natural parameters")
    view.check_domain(theta)
    return theta
