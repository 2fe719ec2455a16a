"""Anomaly scores of the documentation's Method page (``docs/method.md``), one function each (higher = more anomalous).

The functions take tensors (or arrays) and contain no model code, so that
each formula can be read, tested against a direct NumPy computation, and
reused by every detector:

* :func:`pixel_residual_score` — AnoVAE / AnoVAEGAN: ``mean (x - x̂)²``.
* :func:`attention_weighted_residual` — ``||c ⊙ (x - x̂)||² / ||c||²``.
* :func:`ada_score_from_terms` — ADA on its two terms: ``weighted residual - β · D(x)``.
  This is the one place the ADA formula is written: :func:`ada_score`, the
  detectors' scores, the choice of β (:func:`~adda_keras.detectors.ada.decide_beta`)
  and the studies that re-read stored score terms all call it, so a change
  here changes every one of them together.
* :func:`ada_score` — ADA from images, reconstructions, attention and ``D(x)``.
* :func:`weighted_residual_map` — the per-pixel map whose mean is the attention term.
* :func:`spread_ratio` — ``std(attention term) / std(D(x))``, the unit of β.
* :func:`rescale_beta` — the ADA score at another β, from its scores at one
  β and at β = 0 ("CAM only") of the same model.

Pixel sums are taken as means over channels (so grayscale and RGB images
share a scale); the weighted residual is a weighted mean of the per-pixel
squared error with weights ``c²``, so it lives on the same scale as the
plain pixel residual. Where an attention map is zero everywhere there is no
preferred region, and the weighted residual falls back to the plain mean
residual (uniform attention) instead of dividing by zero.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

TensorLike = tf.Tensor | np.ndarray

#: the one guard against division by zero of the score formulas (a weight sum, a spread)
EPSILON = 1e-12


def squared_residual(images: TensorLike, reconstructions: TensorLike) -> tf.Tensor:
    """Per-pixel squared error, averaged over channels: ``(N, H, W)``."""
    images = tf.convert_to_tensor(images, tf.float32)
    reconstructions = tf.convert_to_tensor(reconstructions, tf.float32)
    return tf.reduce_mean(tf.square(images - reconstructions), axis=-1)


def pixel_residual_score(images: TensorLike, reconstructions: TensorLike) -> tf.Tensor:
    """Reconstruction-error score ``mean over pixels of (x - x̂)²``, shape ``(N,)``."""
    return tf.reduce_mean(squared_residual(images, reconstructions), axis=(1, 2))


def attention_weighted_residual(images: TensorLike, reconstructions: TensorLike, attention: TensorLike) -> tf.Tensor:
    """``||c ⊙ (x - x̂)||² / ||c||²`` per image, shape ``(N,)``.

    ``attention`` is ``c``, shape ``(N, H, W)``, non-negative. An all-zero
    map gives the plain mean residual (uniform attention).
    """
    residual = squared_residual(images, reconstructions)
    weights = tf.square(tf.convert_to_tensor(attention, tf.float32))
    total = tf.reduce_sum(weights, axis=(1, 2))
    weighted = tf.reduce_sum(weights * residual, axis=(1, 2)) / tf.maximum(total, EPSILON)
    return tf.where(total > EPSILON, weighted, tf.reduce_mean(residual, axis=(1, 2)))


def ada_score_from_terms(
    weighted_residual: TensorLike, normal_probability: TensorLike, beta_effective: float
) -> TensorLike:
    """ADA score on its two terms: ``weighted_residual - beta_effective · normal_probability``.

    ``weighted_residual`` is ``||c ⊙ (x - x̂)||² / ||c||²`` and
    ``normal_probability`` is ``D(x)`` (or ``D_G(x) + D_ano(x)``), one value
    per image; ``beta_effective`` is the raw weight of the D term (β in
    spread units times :func:`spread_ratio`). Works on tensors and on arrays
    alike and converts neither, so that each caller keeps its precision
    (float32 in the detectors' scoring pass, float64 for stored terms).
    """
    return weighted_residual - beta_effective * normal_probability


def spread_ratio(weighted_residual: np.ndarray, normal_probability: np.ndarray) -> float:
    """``std(weighted residual) / std(D(x))`` on normal images: β is a weight in these units.

    The denominator is floored at :data:`EPSILON` (a constant ``D(x)`` gives
    a very large ratio, not a division by zero).
    """
    spread_attention = float(np.std(weighted_residual))
    spread_d = float(np.std(normal_probability))
    return spread_attention / max(spread_d, EPSILON)


def weighted_residual_map(images: TensorLike, reconstructions: TensorLike, attention: TensorLike) -> tf.Tensor:
    """Per-pixel ``c² (x - x̂)² / mean(c²)``, shape ``(N, H, W)``: its mean is the attention term of the score.

    An all-zero map gives the plain squared residual (uniform attention), as
    :func:`attention_weighted_residual` does.
    """
    residual = squared_residual(images, reconstructions)
    weights = tf.square(attention)
    mean_weight = tf.reduce_mean(weights, axis=(1, 2), keepdims=True)
    return tf.where(mean_weight > EPSILON, weights * residual / tf.maximum(mean_weight, EPSILON), residual)


def ada_score(
    images: TensorLike,
    reconstructions: TensorLike,
    attention: TensorLike,
    normal_probability: TensorLike,
    beta: float,
) -> tf.Tensor:
    """ADA score ``||c ⊙ (x - x̂)||² / ||c||² - β · D(x)``, shape ``(N,)``.

    ``normal_probability`` is ``D(x)`` (or the sum ``D_G(x) + D_ano(x)`` for
    the semi-supervised ensemble), shape ``(N,)``. ``beta = 0`` is the
    paper's "CAM only" ablation.
    """
    probability = tf.reshape(tf.convert_to_tensor(normal_probability, tf.float32), (-1,))
    return ada_score_from_terms(
        attention_weighted_residual(images, reconstructions, attention), probability, float(beta)
    )


def rescale_beta(ada_scores: np.ndarray, cam_only_scores: np.ndarray, beta_from: float, beta_to: float) -> np.ndarray:
    """ADA scores at ``beta_to`` from the same model's scores at ``beta_from`` and at β = 0, shape ``(N,)``.

    ``ada - cam_only = -β_from · D(x)`` (same attention term, same spread
    ratio), so ``cam_only + (beta_to / beta_from) · (ada - cam_only)`` is
    exactly the score at ``beta_to``: a stored evaluation can be read at
    another β without retraining. ``beta_from`` must be > 0.
    """
    if not beta_from > 0:
        raise ValueError(f"beta_from must be > 0 (at 0 the scores carry no trace of D); got {beta_from!r}")
    ada = np.asarray(ada_scores, np.float64)
    cam_only = np.asarray(cam_only_scores, np.float64)
    if ada.shape != cam_only.shape:
        raise ValueError(f"ada_scores and cam_only_scores must have one shape; got {ada.shape} and {cam_only.shape}")
    return cam_only + (float(beta_to) / float(beta_from)) * (ada - cam_only)
