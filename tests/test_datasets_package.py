"""Tests of the moe_lib.datasets package as a whole: public names, doctests, no network."""

from __future__ import annotations

import doctest
import importlib
import socket

import numpy as np
import pytest
from idx_files import make_fashion_dir

import moe_lib
from moe_lib import datasets

MODULES = [
    "moe_lib.datasets",
    "moe_lib.datasets._inversion",
    "moe_lib.datasets.designs",
    "moe_lib.datasets.digits",
    "moe_lib.datasets.fashion",
    "moe_lib.datasets.idx",
    "moe_lib.datasets.tonedata",
]

PUBLIC = [
    "informative_columns",
    "load_fashion_mnist",
    "load_inverted_digits",
    "load_tonedata",
    "pca_designs",
    "read_idx",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name), raise_on_error=False)
    assert result.failed == 0
    assert result.attempted > 0


def test_public_names():
    assert sorted(datasets.__all__) == PUBLIC
    for name in ("load_fashion_mnist", "load_inverted_digits", "load_tonedata", "read_idx"):
        assert getattr(moe_lib, name) is getattr(datasets, name)
    for name in PUBLIC:
        doc = getattr(datasets, name).__doc__
        assert "Parameters" in doc and "Examples" in doc and ">>> " in doc


@pytest.fixture
def no_network(monkeypatch):
    """Make every attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("moe_lib.datasets tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_refuse_really_blocks(no_network):
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("127.0.0.1", 9))


def test_every_loader_works_offline(no_network, tmp_path):
    X, y = datasets.load_tonedata(return_X_y=True)
    assert X.shape == (150, 1)
    raw = datasets.load_inverted_digits(n_classes=3, random_state=1)
    train, test, _ = datasets.pca_designs(raw.X_train, raw.y_train, raw.X_test, raw.y_test, 2)
    assert train.X.shape[1] == test.X.shape[1] == 3
    assert datasets.informative_columns(raw.X_train).size > 0
    images, _ = make_fashion_dir(tmp_path, n_images=3)
    fashion = datasets.load_fashion_mnist(tmp_path, invert_prob=0.5, random_state=0)
    np.testing.assert_array_equal(fashion.data[~fashion.inverted],
                                  images.reshape(3, 784)[~fashion.inverted] / 255.0)


def test_missing_fashion_files_are_not_downloaded(no_network, tmp_path):
    # A missing file is an error that says where to get the data, never a download.
    with pytest.raises(FileNotFoundError, match="never downloaded"):
        datasets.load_fashion_mnist(tmp_path)
    assert list(tmp_path.iterdir()) == []
