"""Shared fixtures: a small noisy-MNIST split and a tiny trained detector."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split  # noqa: E402


@pytest.fixture(scope="session")
def tiny_split():
    """Digit 0 normal, 20 test anomalies per other digit, background noise on."""
    mnist = load_mnist("bundled")
    split = one_class_split(mnist.images, mnist.labels, normal_class=0, seed=0, max_test_anomalies_per_class=20)
    return apply_noise(split, BackgroundNoise(strength=1.0), seed=0)


@pytest.fixture(scope="session")
def trained_ada(tiny_split):
    """An ADA detector trained for real for a few epochs on 256 normal images."""
    from adda_keras import make_detector

    detector = make_detector("ada", epochs=2, batch_size=32, seed=0)
    return detector.fit(tiny_split.x_train[:256], x_val=tiny_split.x_val[:64])


@pytest.fixture()
def rng():
    return np.random.default_rng(0)
