"""Random colour inversion of images, shared by the digits and Fashion-MNIST loaders.

Inverting an image (``x -> 1 - x``) flips the sign of the evidence its pixels carry for each
class, which is why the "Random Invert FMNIST" experiment of Fruytier, Mokhtari & Sanghavi
(ICML 2025) suits a mixture of two experts (book chapter 7).
"""

from __future__ import annotations

import numpy as np


def invert_rows(X: np.ndarray, rng: np.random.Generator, prob: float) -> np.ndarray:
    """Invert (``x -> 1 - x``) each row of ``X`` in place with probability ``prob``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Float array with values in [0, 1]; modified in place.
    rng : numpy.random.Generator
        Source of the ``n_samples`` uniform draws (one per row, in row order).
    prob : float
        Inversion probability in [0, 1].

    Returns
    -------
    inverted : ndarray of shape (n_samples,), dtype bool
        Which rows were inverted.

    Examples
    --------
    >>> X = np.array([[0.0, 0.25], [1.0, 0.5]])
    >>> invert_rows(X, np.random.default_rng(0), 1.0)
    array([ True,  True])
    >>> X
    array([[1.  , 0.75],
           [0.  , 0.5 ]])
    """
    inverted = rng.random(X.shape[0]) < prob
    np.subtract(1.0, X, out=X, where=inverted[:, None])
    return inverted
