"""CAM and Grad-CAM: shapes, ranges, safety, and their agreement on the GAP head."""

from __future__ import annotations

import numpy as np
import pytest

from adda_keras.attention import attention_maps, normalise_maps
from adda_keras.models import build_discriminator


@pytest.fixture(scope="module")
def discriminator():
    import keras

    keras.utils.set_random_seed(1)
    return build_discriminator((28, 28, 1))


def test_normalise_maps_range_and_zero_safety(rng):
    maps = rng.normal(size=(4, 7, 7)).astype(np.float32)
    maps[1] = 0.0
    maps[2] = -1.0  # rectified to zero everywhere
    out = normalise_maps(maps).numpy()
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert np.all(out[1] == 0) and np.all(out[2] == 0)
    assert np.isclose(out[0].max(), 1.0)
    constant = normalise_maps(np.full((1, 3, 3), 2.0, np.float32), "minmax").numpy()
    assert np.all(constant == 0)


@pytest.mark.parametrize("method", ["cam", "grad-cam"])
@pytest.mark.parametrize("normalisation", ["max", "minmax"])
def test_attention_shape_range_and_constant_images(discriminator, rng, method, normalisation):
    images = np.concatenate(
        [
            rng.random((3, 28, 28, 1), dtype=np.float32),
            np.zeros((1, 28, 28, 1), np.float32),
            np.full((1, 28, 28, 1), 0.5, np.float32),
        ]
    )
    maps = attention_maps(discriminator, images, method, normalisation=normalisation).numpy()
    assert maps.shape == (5, 28, 28)
    assert np.isfinite(maps).all()
    assert maps.min() >= 0.0 and maps.max() <= 1.0 + 1e-6


def test_grad_cam_equals_cam_on_the_gap_head(discriminator, rng):
    images = rng.random((4, 28, 28, 1), dtype=np.float32)
    cam = attention_maps(discriminator, images, "cam").numpy()
    grad = attention_maps(discriminator, images, "grad-cam").numpy()
    np.testing.assert_allclose(cam, grad, atol=1e-4)


def test_grad_cam_on_another_layer(discriminator, rng):
    maps = attention_maps(discriminator, rng.random((2, 28, 28, 1), dtype=np.float32), "grad-cam", layer="dis0_act")
    assert maps.shape == (2, 28, 28)


def test_bad_options_name_the_problem(discriminator):
    images = np.zeros((1, 28, 28, 1), np.float32)
    with pytest.raises(ValueError, match="attention method"):
        attention_maps(discriminator, images, "saliency")
    with pytest.raises(ValueError, match="normalisation"):
        attention_maps(discriminator, images, normalisation="sum")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        attention_maps(discriminator, images, "grad-cam", layer="nope")


def test_absmax_keeps_evidence_of_both_signs():
    import tensorflow as tf

    maps = tf.constant([[[2.0, -4.0], [0.0, 1.0]]])
    np.testing.assert_allclose(normalise_maps(maps, "absmax").numpy(), [[[0.5, 1.0], [0.0, 0.25]]])
    np.testing.assert_allclose(normalise_maps(maps, "max").numpy(), [[[1.0, 0.0], [0.0, 0.5]]])
