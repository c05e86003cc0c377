"""Real data sets used in the book, and the designs book chapter 7 builds from images.

Three loaders, none of which touches the network:

* :func:`load_tonedata` (:mod:`~moe_lib.datasets.tonedata`) -- the tone-perception data of
  Cohen (1980), shipped with ``moe_lib``; a classic two-regime example for mixtures of linear
  regressions / experts.
* :func:`load_inverted_digits` (:mod:`~moe_lib.datasets.digits`) -- scikit-learn's bundled 8x8
  digits with a random half of the images colour-inverted, an offline stand-in for the
  "Random Invert FMNIST" experiment of Fruytier, Mokhtari & Sanghavi (ICML 2025).
* :func:`load_fashion_mnist` (:mod:`~moe_lib.datasets.fashion`) -- Fashion-MNIST read from IDX
  files the user has downloaded, with optional random inversion (the set-up of the paper itself).

:func:`read_idx` (:mod:`~moe_lib.datasets.idx`) is the small, strict reader of the IDX format
used by the last loader. :func:`pca_designs` and :func:`informative_columns`
(:mod:`~moe_lib.datasets.designs`) turn images into :class:`moe_lib.params.MoEData` designs.

This package imports :mod:`moe_lib.params` (for ``make_data``) and nothing above it; scikit-learn
is imported inside the functions that need it, so importing the package is cheap.

Examples
--------
>>> from moe_lib.datasets import load_tonedata
>>> load_tonedata(return_X_y=True)[0].shape
(150, 1)
"""

from moe_lib.datasets.designs import informative_columns, pca_designs
from moe_lib.datasets.digits import load_inverted_digits
from moe_lib.datasets.fashion import load_fashion_mnist
from moe_lib.datasets.idx import read_idx
from moe_lib.datasets.tonedata import load_tonedata

__all__ = [
    "informative_columns",
    "load_fashion_mnist",
    "load_inverted_digits",
    "load_tonedata",
    "pca_designs",
    "read_idx",
]
