"""Foreign patches with their masks: the self-made anomalies that ``ada-compare``'s comparing discriminator learns.

DRAEM (Zavrtanik et al., ICCV 2021) trains a discriminative network that
sees an image *and its reconstruction* to segment self-made anomalies:
irregular regions (thresholded Perlin noise) filled with foreign texture.
:func:`make_foreign_patches` makes that kind of anomaly from normal
*training* images alone, and returns where it lies:

* the region is an irregular blob: a smooth random field (Gaussian-filtered
  white noise, a length scale of 5-15% of the side) thresholded at a level
  drawn so that the region covers about 2-20% of the image, cut to its
  largest connected piece;
* it is filled with content of *another* training image: the donor is
  flipped and turned at random (so its content does not sit as it belongs),
  moved so that its most salient place (its object, where it has one) lands
  on the region, given a random intensity transform (a gamma of 0.5-2 and a
  gain of 0.7-1.3), and blended in at an opacity of 0.6-1;
* the mask is the region itself where the blended content differs from the
  image by more than :data:`MASK_CHANGE` (a foreign patch over an equal
  background changes nothing there, and a discriminator cannot be asked to
  find what is not there). An image whose change covers fewer than
  :data:`MIN_MASK_PIXELS` pixels is drawn again.

Only the given images are used (the image and its donors), and nothing of
the evaluation defects (:mod:`adda_keras.data.inspection`,
:mod:`adda_keras.data.defects`) or of ``ada-synthetic``'s kinds
(:mod:`adda_keras.data.synthetic`) is shared: a test reads this module's
imports to keep it so, so that a detector is never evaluated on the
anomalies it was trained to find.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from adda_keras.data.pipeline import check_images
from adda_keras.validation import check_int, check_seed

__all__ = ["MASK_CHANGE", "MIN_MASK_PIXELS", "make_foreign_patches"]

#: the smallest absolute change (mean over channels) that counts as part of the anomaly's mask
MASK_CHANGE = 0.05
#: the fewest changed pixels an anomaly must have (else it is drawn again)
MIN_MASK_PIXELS = 4
_AREA = (0.02, 0.20)
_MAX_TRIES = 20


def make_foreign_patches(images: np.ndarray, seed: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` self-made anomalies of ``images`` and their masks: ``(anomalies (n, H, W, C), masks (n, H, W))``.

    Anomaly ``i`` is made from ``images[i % len(images)]`` (after a seeded
    shuffle) with foreign content from another of ``images``; ``masks`` are
    float32 0/1 and mark exactly the pixels that changed by more than
    :data:`MASK_CHANGE`.

    Args:
        images: ``(N, H, W, C)`` normal images in [0, 1], N >= 2.
        seed: seeds everything.
        n: how many anomalies (default ``len(images)``).
    """
    images = check_images(images, "images")
    check_seed("seed", seed)
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 images (foreign content comes from another); got {len(images)}")
    n = len(images) if n is None else check_int("n", n)
    rng = np.random.default_rng(seed)
    sources = rng.permutation(np.arange(n) % len(images))
    anomalies = np.empty((n, *images.shape[1:]), np.float32)
    masks = np.empty((n, *images.shape[1:3]), np.float32)
    for index, source in enumerate(sources):
        image = images[source]
        for _ in range(_MAX_TRIES):
            donor = images[(source + 1 + rng.integers(len(images) - 1)) % len(images)]
            region = _blob(image.shape[:2], rng)
            anomaly = _paste(image, _foreign(donor, region, rng), region, rng)
            changed = np.abs(anomaly - image).mean(axis=-1) > MASK_CHANGE
            if changed.sum() >= MIN_MASK_PIXELS:
                break
        anomalies[index], masks[index] = anomaly, changed
    return anomalies, masks


def _blob(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An irregular boolean region of about 2-20% of the image: the largest piece of a thresholded smooth field."""
    height, width = shape
    field = ndimage.gaussian_filter(rng.standard_normal(shape), rng.uniform(0.05, 0.15) * min(height, width))
    level = np.quantile(field, 1.0 - rng.uniform(*_AREA))
    region = field > level
    labels, count = ndimage.label(region)
    if count > 1:
        sizes = ndimage.sum(region, labels, index=np.arange(1, count + 1))
        region = labels == 1 + int(np.argmax(sizes))
    return region


def _foreign(donor: np.ndarray, region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``donor`` turned, flipped and toned, then moved so that its most salient place lands on ``region``.

    The salient place is the maximum of the donor's smoothed absolute
    deviation from its median: its object, where it has one. A patch of a
    donor's plain background over an image's plain background (or of one
    noisy background over another) changes pixels that no one could call
    anomalous, and a discriminator asked to find it learns nothing.
    """
    height, width = donor.shape[:2]
    content = donor[:, ::-1] if rng.random() < 0.5 else donor
    if height == width:
        content = np.rot90(content, int(rng.integers(4)), axes=(0, 1))
    deviation = np.abs(content - np.median(content, axis=(0, 1))).mean(axis=-1)
    saliency = ndimage.gaussian_filter(deviation, 0.1 * min(height, width))
    source_y, source_x = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    target_y, target_x = (int(round(c)) for c in ndimage.center_of_mass(region))
    content = np.roll(content, (target_y - source_y, target_x - source_x), axis=(0, 1))
    gamma, gain = np.exp(rng.uniform(np.log(0.5), np.log(2.0))), rng.uniform(0.7, 1.3)
    return np.clip(gain * np.power(np.clip(content, 0.0, 1.0), gamma), 0.0, 1.0)


def _paste(image: np.ndarray, content: np.ndarray, region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``content`` blended into ``image`` inside ``region`` at an opacity of 0.6-1."""
    opacity = rng.uniform(0.6, 1.0) * region[..., None].astype(np.float32)
    return np.clip(image * (1.0 - opacity) + content * opacity, 0.0, 1.0).astype(np.float32)
