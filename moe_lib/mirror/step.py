"""The mirror-descent step with the complete-data log-partition as mirror map, solved numerically.

:func:`mirror_descent_step` minimises the model :func:`moe_lib.mirror.md_objective`
over the *realisable* parameters (the "projected" step of the general theorem, our convention for
the general families; chapter 4 of the book). No M-step of the library is called, so the equality
``mirror_descent_step(step_size=1) == em_step`` of Theorem 4.1 of Fruytier, Mokhtari & Sanghavi
(2025) is a genuine check. The minimisation is a :class:`moe_lib.solvers.Problem` for the one
solver layer: the analytic gradient, and a Hessian by central differences of that gradient.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from moe_lib import solvers as _solvers
from moe_lib._validation import check_bool, check_int, check_real
from moe_lib.mirror.objective import MirrorDescentModel, check_step
from moe_lib.mirror.registry import check_params, view_of
from moe_lib.mirror.view import FamilyLike
from moe_lib.params import MoEData, MoEParams, from_free, to_free
from moe_lib.solvers import Problem, maximize, polish_steps

#: Bound on the Newton polishing steps after the Newton solve.
MAX_POLISH = 10

#: A solution this many times larger than the start (in its largest free coordinate), or an
#: objective below ``-RUNAWAY`` times the scale of the loss, means the mirror-descent subproblem had
#: no minimiser and the solver ran away.
RUNAWAY = 1e8

#: Relative step of the central differences of the gradient.
FD_STEP = 1e-5


def fd_hessian(grad, v: np.ndarray) -> np.ndarray:
    """Symmetrised central-difference Jacobian of a gradient function at ``v``, shape (m, m).

    Examples
    --------
    >>> import numpy as np
    >>> fd_hessian(lambda v: np.array([2 * v[0] + v[1], v[0]]), np.zeros(2))
    array([[2., 1.],
           [1., 0.]])
    """
    m = v.size
    H = np.empty((m, m))
    for j in range(m):
        h = FD_STEP * max(1.0, abs(v[j]))
        e = np.zeros(m)
        e[j] = h
        H[:, j] = (grad(v + e) - grad(v - e)) / (2.0 * h)
    return 0.5 * (H + H.T)


def fd_hessp(grad, v: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Central-difference Hessian-vector product ``H(v) u`` of a gradient function, shape (m,).

    Examples
    --------
    >>> import numpy as np
    >>> fd_hessp(lambda v: np.array([2 * v[0] + v[1], v[0]]), np.zeros(2), np.array([1.0, 1.0]))
    array([3., 1.])
    """
    norm = float(np.linalg.norm(u))
    if norm == 0:
        return np.zeros_like(v)
    h = FD_STEP * max(1.0, float(np.max(np.abs(v)))) / norm
    return (grad(v + h * u) - grad(v - h * u)) / (2.0 * h)


class MirrorStepProblem(Problem):
    """``-md_objective / n`` in free coordinates, for the maximisers of :mod:`moe_lib.solvers`.

    Dividing by ``n`` makes the solvers' gradient tolerance a tolerance per sample. The negated
    Hessian is the central-difference Jacobian of :meth:`objective_gradient`, which evaluates
    without touching the cache of the point being differentiated.

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    model : MirrorDescentModel
    like : MoEParams
        Shapes of the parameters (``from_free``).

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, make_data, to_free
    >>> family, data = LinearExperts(), make_data(np.array([[0.0], [1.0]]), np.array([0.5, -1.0]))
    >>> params = MoEParams(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(2))
    >>> problem = MirrorStepProblem(family, data, MirrorDescentModel(
    ...     view_of(family, data), params, 0.0, 1.0), params)
    >>> v = to_free(family, params)
    >>> problem.value(v) == 0.0, problem.neg_hessian(v).shape
    (True, (8, 8))
    """

    def __init__(self, family: FamilyLike, data: MoEData, model: MirrorDescentModel,
                 like: MoEParams) -> None:
        super().__init__()
        self.family, self.data, self.model, self.like = family, data, model, like
        self.scale = 1.0 / model.view.n

    def objective_gradient(self, v: np.ndarray) -> np.ndarray:
        """Gradient of ``md_objective / n`` (the minimised function) at ``v``, uncached."""
        params = from_free(self.family, v, self.like)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self.model.gradient(params, self.data) * self.scale

    def _evaluate(self, x):
        self.x_ = np.array(x, dtype=float, copy=True)
        self.params_ = from_free(self.family, x, self.like)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f = self.model.value(self.params_, self.data) * self.scale
        # Outside the domain (an overflowing variance, say) the step is refused by the solver.
        return -f if np.isfinite(f) else -np.inf

    def _gradient(self):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return -self.model.gradient(self.params_, self.data) * self.scale

    def _neg_hessian(self):
        return fd_hessian(self.objective_gradient, self.x_)

    def _neg_hessp(self, u):
        return fd_hessp(self.objective_gradient, self.x_, u)


@dataclass(frozen=True)
class MirrorStepResult:
    """How :func:`mirror_descent_step` solved its subproblem.

    Attributes
    ----------
    x : ndarray of shape (m,)
        The step in the free coordinates of :func:`moe_lib.params.to_free`.
    grad_norm : float
        Euclidean norm of the gradient of ``md_objective / n`` at ``x`` (per sample).
    n_iter : int
        Iterations of the solver (Newton or Newton-CG), polishing steps not counted.
    converged : bool
        True when ``grad_norm <= tol``.
    dense_hessian : bool
        True when finite-difference Hessians were formed (at most
        :data:`moe_lib.solvers.MAX_NEWTON_DIM` free parameters), False for Hessian-vector
        products.

    Examples
    --------
    >>> import numpy as np
    >>> MirrorStepResult(np.zeros(2), 1e-15, 3, True, True).converged
    True
    """

    x: np.ndarray
    grad_norm: float
    n_iter: int
    converged: bool
    dense_hessian: bool


def mirror_descent_step(
    family: FamilyLike,
    data: MoEData,
    params: MoEParams,
    alpha: float = 0.0,
    step_size: float = 1.0,
    *,
    tol: float = 1e-12,
    max_iter: int = 200,
    return_result: bool = False,
) -> MoEParams | tuple[MoEParams, MirrorStepResult]:
    """One (projected) mirror-descent step with mirror map ``A``, solved numerically.

    Minimises :func:`moe_lib.mirror.md_objective` ``(., params)`` over the realisable
    parameters ``(w, beta, sigma)``, i.e. over the free coordinates of
    :func:`moe_lib.params.to_free`, from ``params``, with :func:`moe_lib.solvers.maximize`: the
    analytic gradient (:func:`moe_lib.mirror.md_objective_gradient`) and central
    differences of it, forming the Hessian (Newton) up to
    :data:`moe_lib.solvers.MAX_NEWTON_DIM` free parameters, else Hessian-vector products
    (Newton-CG). Newton is finished by Newton steps with a fresh Hessian each
    (:func:`moe_lib.solvers.polish_steps`) while they shrink the gradient. The objective is
    divided by ``n``, so ``tol`` bounds the Euclidean norm of the gradient *per sample*. No M-step
    of the library is used: at ``step_size=1`` the result equals :func:`moe_lib.steps.em_step`
    (Theorem 4.1 of Fruytier, Mokhtari & Sanghavi, 2025), which is what the tests and the book
    check.

    For ``step_size <= 1`` the objective is ``(A_x(theta_x) - <Ttilde_x, theta_x>)/eta`` with
    ``Ttilde = (1 - eta) grad A(theta_t) + eta Tbar`` a convex combination of expected statistics,
    so the step is an M-step with blended targets and has a minimiser whenever EM's has. With
    ``step_size > 1`` the targets may leave the mean-parameter space and the step may not exist.
    Linear experts get no variance floor here (the EM M-step has one, far below any variance of a
    well-posed fit).

    Parameters
    ----------
    family : ExpertFamily
    data : MoEData
    params : MoEParams
        The current iterate ``theta_t``.
    alpha : float
        L2 penalty (composite step when > 0).
    step_size : float
        ``eta > 0``.
    tol : float
        Gradient tolerance per sample (Euclidean norm).
    max_iter : int
        Bound on the solver's iterations.
    return_result : bool
        Also return a :class:`MirrorStepResult`.

    Returns
    -------
    MoEParams, or (MoEParams, MirrorStepResult)

    Raises
    ------
    ValueError
        When the subproblem has no minimiser (the iterate runs off to parameters ``1e8`` times
        larger than the start).

    Warns
    -----
    ConvergenceWarning
        When the solver stops with a gradient per sample above ``100 * tol``.

    Examples
    --------
    >>> import numpy as np
    >>> from moe_lib import LinearExperts, MoEParams, em_step, make_data
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((40, 1))
    >>> data = make_data(x, np.where(x[:, 0] > 0, 2.0, -1.0) + rng.standard_normal(40))
    >>> start = MoEParams(np.array([[0.0, 0.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [-1.0, 0.0]]),
    ...                   np.ones(2))
    >>> new, result = mirror_descent_step(LinearExperts(), data, start, return_result=True)
    >>> em = em_step(LinearExperts(), data, start)
    >>> bool(np.max(np.abs(new.coef - em.coef)) < 1e-8), result.converged
    (True, True)
    """
    alpha, step_size = check_step(alpha, step_size)
    tol = check_real(tol, "tol", min_value=0.0, strict=True)
    max_iter = check_int(max_iter, "max_iter", min_value=1)
    return_result = check_bool(return_result, "return_result")
    view = view_of(family, data)
    params = check_params(view, params)
    problem = MirrorStepProblem(
        family, data, MirrorDescentModel(view, params, alpha, step_size), params
    )
    v0 = to_free(family, params)
    # The solvers stop on the largest gradient entry; this bound on it bounds the Euclidean norm.
    v, info = maximize(problem, v0, tol=tol / np.sqrt(v0.size), max_iter=max_iter)
    # maximize runs Newton, on finite-difference Hessians, up to MAX_NEWTON_DIM unknowns and
    # Newton-CG on Hessian-vector products above; the polish forms Hessians, so it runs only below.
    dense = v0.size <= _solvers.MAX_NEWTON_DIM
    if dense:
        # Below ~1e-9 per sample the objective changes under its rounding: only the gradient can
        # judge a step, and a fresh finite-difference Hessian per step keeps the steps exact.
        v = polish_steps(problem, v, MAX_POLISH, refresh=True)
    size = float(np.max(np.abs(v))) if np.all(np.isfinite(v)) else np.inf
    value = -problem.value(v)
    # With step_size <= 1 the model majorises L - L(theta_t), so its minimum is at least
    # -L(theta_t) + min L: a value far below the loss's own scale, like a huge parameter, means
    # the model is unbounded below (step_size > 1 pushing the target moments outside their hull,
    # e.g. a negative target variance sending a sigma to 0).
    loss_scale = 1.0 + abs(problem.model.loss_t) * problem.scale
    if info.unbounded or not (
        size <= RUNAWAY * (1.0 + float(np.max(np.abs(v0)))) and value >= -RUNAWAY * loss_scale
    ):
        raise ValueError(
            f"the mirror-descent subproblem with step_size={step_size} appears to have no "
            f"minimiser: its iterate ran off to a parameter of size {size:.3g} and an objective "
            f"of {value:.3g} per sample (the objective decreases without bound along it)"
        )
    grad_norm = float(np.linalg.norm(problem.gradient(v)))
    if not grad_norm <= 100 * tol:
        warnings.warn(
            f"mirror_descent_step stopped with a gradient of {grad_norm:.2e} per sample "
            f"(> 100 * tol = {100 * tol:.1e}) after {info.n_iter} iterations",
            ConvergenceWarning,
            stacklevel=2,
        )
    new = from_free(family, v, params)
    if not return_result:
        return new
    return new, MirrorStepResult(v, grad_norm, info.n_iter, grad_norm <= tol, dense)
