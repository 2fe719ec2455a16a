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

And what has each discriminator *learned*? :func:`discriminator_beliefs`
gives every discriminator's belief that an image is normal (``D_G``; the
second one, ``D_ano`` or the comparator, where the detector has it), and
:func:`belief_aurocs` reads them as AUROCs (the belief's negative as the
score): training normals against validation normals (the memorisation gap:
0.5 when the discriminator treats unseen normal images as it treats those
it trained on, towards 1 when it has memorised its training images),
validation normals against held-out labelled anomalies, and against
held-out self-made anomalies.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from adda_keras.data.noise import digit_support
from adda_keras.data.pipeline import check_images
from adda_keras.evaluation import auroc

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


#: the image sets :func:`belief_aurocs` compares with the validation normals
BELIEF_COMPARISONS = ("train_vs_val", "val_vs_known", "val_vs_made")


def discriminator_beliefs(detector: Any, images: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Each discriminator's probability that each image is normal, ``{name: (N,)}``.

    ``D_G`` is the self-supervised VAEGAN's discriminator (every ADA-family
    detector has one); ``D_ano`` the second discriminator of ``ada-semi`` /
    ``ada-synthetic``; ``comparator`` the comparing discriminator of
    ``ada-compare`` (``sigmoid(-image logit)`` of the image and its
    reconstruction). Duck-typed on the fitted attributes.
    """
    images = check_images(images, "images")
    vaegan = getattr(detector, "model_", None) or getattr(detector, "model_g_", None)
    if vaegan is None:
        raise ValueError(f"{type(detector).__name__} has no fitted VAEGAN discriminator to ask")
    networks = {"D_G": vaegan.discriminator}
    if getattr(detector, "discriminator_ano_", None) is not None:
        networks["D_ano"] = detector.discriminator_ano_
    comparator = getattr(detector, "comparator_", None)
    beliefs: dict[str, list[np.ndarray]] = {name: [] for name in [*networks, *(["comparator"] * bool(comparator))]}
    for start in range(0, len(images), batch_size):
        batch = tf.constant(images[start : start + batch_size])
        for name, network in networks.items():
            beliefs[name].append(tf.sigmoid(network(batch, training=False)[0][:, 0]).numpy())
        if comparator is not None:
            image_logit, _ = comparator([batch, vaegan.reconstruct(batch)], training=False)
            beliefs["comparator"].append(tf.sigmoid(-image_logit[:, 0]).numpy())
    return {name: np.concatenate(values) for name, values in beliefs.items()}


def belief_aurocs(
    detector: Any,
    x_train: np.ndarray,
    x_val: np.ndarray,
    x_val_known: np.ndarray | None = None,
    x_val_made: np.ndarray | None = None,
) -> dict[str, dict[str, float]]:
    """Per discriminator, the AUROC of ``-belief`` for each of :data:`BELIEF_COMPARISONS` that has images.

    ``train_vs_val``: training normals (negatives) against validation
    normals (positives), the memorisation gap; ``val_vs_known``: validation
    normals against held-out labelled anomalies; ``val_vs_made``: against
    held-out self-made anomalies. None of these images may be test images.
    """
    sets = {"train": x_train, "val": x_val, "known": x_val_known, "made": x_val_made}
    beliefs = {name: discriminator_beliefs(detector, images) for name, images in sets.items() if images is not None}
    report: dict[str, dict[str, float]] = {}
    for network in beliefs["val"]:
        report[network] = {}
        for comparison in BELIEF_COMPARISONS:
            negative, positive = comparison.split("_vs_")
            if negative in beliefs and positive in beliefs:
                a, b = beliefs[negative][network], beliefs[positive][network]
                report[network][comparison] = auroc(np.r_[np.zeros(len(a)), np.ones(len(b))], -np.r_[a, b])
    return report


def describe_belief_aurocs(report: dict[str, dict[str, float]]) -> list[str]:
    """One line per discriminator for the terminal (``adda-keras fit -v``)."""
    words = {
        "train_vs_val": "training vs validation normals",
        "val_vs_known": "vs held-out known anomalies",
        "val_vs_made": "vs held-out self-made anomalies",
    }
    return [
        f"belief AUROC of {network}: " + ", ".join(f"{words[k]} {v:.3f}" for k, v in values.items())
        for network, values in report.items()
    ]
