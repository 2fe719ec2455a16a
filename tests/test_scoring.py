"""The score formulas against a direct NumPy computation (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adda_keras.scoring import (
    EPSILON,
    ada_score,
    ada_score_from_terms,
    attention_weighted_residual,
    pixel_residual_score,
    rescale_beta,
    spread_ratio,
    weighted_residual_map,
)

unit = st.floats(0.0, 1.0, allow_nan=False, width=32)


@st.composite
def batches(draw):
    n = draw(st.integers(1, 4))
    h = draw(st.integers(2, 8))
    w = draw(st.integers(2, 8))
    c = draw(st.sampled_from([1, 3]))
    x = draw(arrays(np.float32, (n, h, w, c), elements=unit))
    x_hat = draw(arrays(np.float32, (n, h, w, c), elements=unit))
    attention = draw(arrays(np.float32, (n, h, w), elements=st.floats(0.0, 2.0, width=32)))
    d = draw(arrays(np.float32, (n,), elements=unit))
    beta = draw(st.floats(0.0, 5.0))
    return x, x_hat, attention, d, beta


def numpy_ada(x, x_hat, c, d, beta):
    """docs/method.md: ||c*(x - x̂)||² / ||c||² - beta*D(x), residual averaged over channels."""
    r = ((x.astype(np.float64) - x_hat) ** 2).mean(-1)
    c = c.astype(np.float64)
    num = ((c**2) * r).sum((1, 2))
    den = (c**2).sum((1, 2))
    weighted = np.where(den > 1e-12, num / np.maximum(den, 1e-12), r.mean((1, 2)))
    return weighted - beta * d


@settings(max_examples=60, deadline=None)
@given(batches())
def test_ada_score_matches_numpy(batch):
    x, x_hat, c, d, beta = batch
    got = ada_score(x, x_hat, c, d, beta).numpy()
    np.testing.assert_allclose(got, numpy_ada(x, x_hat, c, d, beta), rtol=1e-4, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(batches(), st.floats(0.01, 100.0))
def test_weighted_residual_ignores_attention_scale(batch, scale):
    x, x_hat, c, _, _ = batch
    a = attention_weighted_residual(x, x_hat, c).numpy()
    b = attention_weighted_residual(x, x_hat, c * np.float32(scale)).numpy()
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(batches())
def test_weighted_residual_is_a_weighted_mean(batch):
    x, x_hat, c, _, _ = batch
    r = ((x - x_hat) ** 2).mean(-1).reshape(len(x), -1)
    got = attention_weighted_residual(x, x_hat, c).numpy()
    assert np.all(got >= r.min(1) - 1e-5) and np.all(got <= r.max(1) + 1e-5)


def test_zero_attention_falls_back_to_mean_residual(rng):
    x = rng.random((3, 5, 5, 1), dtype=np.float32)
    x_hat = rng.random((3, 5, 5, 1), dtype=np.float32)
    got = attention_weighted_residual(x, x_hat, np.zeros((3, 5, 5), np.float32)).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, pixel_residual_score(x, x_hat).numpy(), rtol=1e-6)


def test_attention_on_the_only_differing_pixel_gives_its_residual():
    x = np.zeros((1, 4, 4, 1), np.float32)
    x_hat = x.copy()
    x_hat[0, 1, 2, 0] = 0.5  # the only reconstruction error
    x_hat[0, 3, 3, 0] = 0.9  # an error outside the attended region
    c = np.zeros((1, 4, 4), np.float32)
    c[0, 1, 2] = 1.0
    assert abs(float(attention_weighted_residual(x, x_hat, c)[0]) - 0.25) < 1e-6
    assert abs(float(ada_score(x, x_hat, c, np.array([1.0]), 0.2)[0]) - 0.05) < 1e-6


@settings(max_examples=60, deadline=None)
@given(batches(), st.floats(0.05, 5.0))
def test_rescale_beta_gives_the_score_at_the_other_beta(batch, beta_from):
    x, x_hat, c, d, beta_to = batch
    at_from = ada_score(x, x_hat, c, d, beta_from).numpy()
    cam_only = ada_score(x, x_hat, c, d, 0.0).numpy()
    expected = ada_score(x, x_hat, c, d, beta_to).numpy()
    np.testing.assert_allclose(rescale_beta(at_from, cam_only, beta_from, beta_to), expected, rtol=1e-4, atol=1e-4)


def test_rescale_beta_refuses_what_it_cannot_undo():
    with pytest.raises(ValueError, match="beta_from must be > 0"):
        rescale_beta(np.zeros(3), np.zeros(3), 0.0, 0.5)
    with pytest.raises(ValueError, match="one shape"):
        rescale_beta(np.zeros(3), np.zeros(4), 0.2, 0.5)


# -- one formula: every caller's former expression, bit for bit -----------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(batches(), st.floats(0.0, 50.0), st.floats(0.0, 5.0))
def test_the_one_formula_gives_every_former_expression_bit_for_bit(batch, ratio, beta):
    """``ada_score_from_terms`` on the precisions its callers used before it existed (issue 25, item 2)."""
    x, x_hat, c, d, _ = batch
    rng = np.random.default_rng(len(x))
    residual32 = rng.random(len(x), dtype=np.float32)
    probability32 = rng.random(len(x), dtype=np.float32)
    residual64, probability64 = residual32.astype(np.float64), probability32.astype(np.float64)
    # the detectors' score (scoring.ada_score), in float32 tensors
    probability = tf.reshape(tf.convert_to_tensor(d, tf.float32), (-1,))
    former = attention_weighted_residual(x, x_hat, c) - float(beta) * probability
    assert np.array_equal(ada_score(x, x_hat, c, d, beta).numpy(), former.numpy())
    # decide_beta, on float64 terms
    assert np.array_equal(
        ada_score_from_terms(residual64, probability64, beta * ratio), residual64 - beta * ratio * probability64
    )
    # _auroc_per_beta, on the float32 terms of one scoring pass
    assert np.array_equal(
        ada_score_from_terms(residual32, probability32, beta * ratio), residual32 - beta * ratio * probability32
    )
    # the stored-units study (float64 residual, float32 probability as stored)
    assert np.array_equal(ada_score_from_terms(residual64, probability32, ratio), residual64 - ratio * probability32)


@settings(max_examples=30, deadline=None)
@given(batches())
def test_the_weighted_residual_map_averages_to_the_attention_term(batch):
    x, x_hat, c, _, _ = batch
    per_pixel = weighted_residual_map(x, x_hat, c).numpy()
    np.testing.assert_allclose(
        per_pixel.mean((1, 2)), attention_weighted_residual(x, x_hat, c).numpy(), rtol=1e-4, atol=1e-6
    )


def test_the_map_keeps_its_old_import_and_the_spread_ratio_its_floor():
    from adda_keras.detectors import ada

    assert ada.weighted_residual_map is weighted_residual_map
    assert spread_ratio(np.array([0.0, 1.0]), np.zeros(2)) == 0.5 / EPSILON
    assert spread_ratio(np.array([0.0, 2.0]), np.array([0.0, 1.0])) == 2.0
