"""Is the VAEGAN healthy, and does its discriminator look at the object?

ADA only helps when three things hold, and each has a number here:

* the VAEGAN *reconstructs*: reconstructions follow their inputs rather than
  one class template (:func:`reconstruction_variety`), with a small residual
  on normal images (:func:`reconstruction_residual`);
* the discriminator is *in balance*: neither sure of everything nor fooled by
  everything (:func:`discriminator_outputs`: ``D`` on reals, reconstructions
  and samples of the prior);
* its attention sits *on the object*: :func:`attention_share` is the share
  of the attention mass ``c²`` on the object's support divided by the
  support's share of the image, so 1 means indifferent, above 1 means the
  attention prefers the object, below 1 that it prefers the background.

:func:`diagnose` gathers all of them for a fitted VAEGAN-based detector; the
tuning script, the result tables and the notebooks report these numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from adda_keras.data.noise import digit_support
from adda_keras.data.pipeline import check_images

_EPSILON = 1e-12


def attention_share(attention: np.ndarray, support: np.ndarray) -> np.ndarray:
    """Per image, the share of ``c²`` on ``support`` divided by the support's area share.

    Args:
        attention: ``(N, H, W)`` non-negative attention maps ``c``.
        support: ``(N, H, W)`` or ``(N, H, W, 1)`` boolean object masks.

    Returns:
        ``(N,)`` floats; NaN for an image whose attention is zero everywhere
        or whose support is empty (no preference can be measured).
    """
    attention = np.asarray(attention, dtype=np.float64)
    support = np.asarray(support, dtype=bool)
    if support.ndim == 4:
        support = support[..., 0]
    if attention.ndim != 3 or attention.shape != support.shape:
        raise ValueError(
            f"attention (N, H, W) and support must have the same shape; got {attention.shape} and {support.shape}"
        )
    if (attention < 0).any():
        raise ValueError("attention must be non-negative")
    weights = np.square(attention)
    total = weights.sum(axis=(1, 2))
    on_support = (weights * support).sum(axis=(1, 2))
    area = support.mean(axis=(1, 2))
    valid = (total > _EPSILON) & (area > 0)
    share = np.full(len(attention), np.nan)
    share[valid] = on_support[valid] / total[valid] / area[valid]
    return share


def reconstruction_residual(images: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Mean squared residual per image, ``(N,)``."""
    return np.mean(np.square(np.asarray(images) - np.asarray(reconstructions)), axis=(1, 2, 3))


def reconstruction_variety(images: np.ndarray, reconstructions: np.ndarray) -> float:
    """How much reconstructions differ from each other, relative to their inputs.

    The mean squared distance of each reconstruction from the mean
    reconstruction, divided by the same quantity for the inputs. A VAE whose
    posterior collapsed returns one template for every image (variety near
    0); a model that reconstructs follows its inputs (near 1; the noise a
    reconstruction leaves out keeps it somewhat below).
    """
    images = np.asarray(images, dtype=np.float64)
    reconstructions = np.asarray(reconstructions, dtype=np.float64)
    spread_input = np.mean(np.square(images - images.mean(axis=0)))
    spread_rec = np.mean(np.square(reconstructions - reconstructions.mean(axis=0)))
    return float(spread_rec / max(spread_input, _EPSILON))


def discriminator_outputs(model: Any, images: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """``D``'s normal probability on ``images``, their reconstructions and as many prior samples.

    Args:
        model: a :class:`~adda_keras.models.vaegan.VAEGAN`.
        images: normal images ``(N, H, W, C)``.
        seed: seed of the prior samples.
    """
    images = tf.constant(check_images(images, "images"))
    reconstructions = model.reconstruct(images)
    z = tf.random.stateless_normal((images.shape[0], model.latent_dim), seed=(int(seed), 0))
    samples = model.decoder(z, training=False)
    return {
        name: tf.sigmoid(model.discriminator(batch, training=False)[0][:, 0]).numpy()
        for name, batch in (("real", images), ("reconstruction", reconstructions), ("sample", samples))
    }


def diagnose(
    detector: Any, images: np.ndarray, clean_images: np.ndarray | None = None, support_threshold: float = 0.5
) -> dict[str, float]:
    """Every diagnostic of a fitted VAEGAN-based detector on normal ``images``, as means.

    Args:
        detector: a fitted ``anovaegan``/``ada`` detector (anything with
            ``explain`` and ``model_``).
        images: normal validation images, as the detector sees them (noisy).
        clean_images: the same images without background noise; they define
            the object's support (pixels above ``support_threshold``). If
            omitted, ``images`` define it.
        support_threshold: intensity above which a clean pixel is object.

    Returns:
        ``attention_share``, ``attention_share_input`` (``CAM(x)`` alone),
        ``support_area``, ``residual``, ``variety``, and ``d_real``,
        ``d_reconstruction``, ``d_sample`` (mean ``D`` outputs).
    """
    images = check_images(images, "images")
    support = digit_support(images if clean_images is None else clean_images, threshold=support_threshold)
    parts = detector.explain(images)
    outputs = discriminator_outputs(detector.model_, images)
    return {
        "attention_share": float(np.nanmean(attention_share(parts["attention"], support))),
        "attention_share_input": float(np.nanmean(attention_share(parts["attention_input"], support))),
        "support_area": float(support.mean()),
        "residual": float(reconstruction_residual(images, parts["reconstruction"]).mean()),
        "variety": reconstruction_variety(images, parts["reconstruction"]),
        **{f"d_{name}": float(values.mean()) for name, values in outputs.items()},
    }
