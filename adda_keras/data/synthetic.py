"""Self-made anomalies from normal training images only: what ``ada-synthetic``'s ``D_ano`` learns to reject.

The paper's semi-supervised branch trains a second discriminator ``D_ano``
against a few labelled anomalies. Where none exist, anomalies can be made
from the normal images themselves (CutPaste, Li et al. 2021; DRAEM, Zavrtanik
et al. 2021): local changes that keep most of the image normal, so the
discriminator must learn what is locally wrong, not what a whole image
looks like. :func:`make_synthetic_anomalies` applies one of these kinds
(:data:`SYNTHETIC_KINDS`) to each image:

* ``"cutpaste"`` — a rectangle of the image (2-15% of its area, aspect
  0.3-3.3) copied, optionally flipped, to another place of the same image;
* ``"scar"`` — a long thin rectangle (CutPaste-scar: 2-16% of the side wide,
  10-25% long) of another training image, rotated, pasted;
* ``"blend"`` — another training image shown through a thresholded smooth
  random field (DRAEM's Perlin masks), at opacity 0.5-1;
* ``"blur"`` — a rectangle box-blurred (3-7 px) and its contrast scaled
  by 0.5-1.5;
* ``"warp"`` — a local swirl: pixels within a disc (radius 15-35% of the
  side) rotated about its centre by up to 0.6-1.6 rad, fading to the edge,
  which bends an object's shape.

Only training images are ever used (as the image and as the donor of
foreign content); the kinds, their shapes and their parameters are
independent of the defects that the benchmarks draw for evaluation
(:mod:`adda_keras.data.inspection`, :mod:`adda_keras.data.defects`), so
that a detector is never evaluated on the anomalies it was trained to
reject. An image whose change is negligible (mean absolute change below
0.002) is drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from adda_keras.data.pipeline import check_images
from adda_keras.validation import check_int, check_seed

__all__ = ["PATCH_KINDS", "SYNTHETIC_KINDS", "make_synthetic_anomalies"]

SYNTHETIC_KINDS = ("cutpaste", "scar", "blend", "blur", "warp")
#: the kinds that put foreign or displaced content into a patch; ``ada-synthetic``'s default, chosen on validation
#: images of four real-image units (results/real_images/remedies/), where they beat all five kinds on every unit
PATCH_KINDS = ("cutpaste", "scar", "blend")
_MIN_MEAN_CHANGE, _MAX_TRIES = 0.002, 10


def make_synthetic_anomalies(
    images: np.ndarray, seed: int, kinds: Sequence[str] = SYNTHETIC_KINDS, n: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` self-made anomalies from normal ``images`` and the kind of each: ``(anomalies, kinds)``.

    Image ``i`` of the output is made from ``images[i % len(images)]`` with
    kind ``kinds[i % len(kinds)]`` (after a seeded shuffle), so every kind
    is equally common.

    Args:
        images: ``(N, H, W, C)`` normal images in [0, 1] (N >= 2: foreign
            content comes from another image).
        seed: seeds everything.
        kinds: among :data:`SYNTHETIC_KINDS`.
        n: how many anomalies (default ``len(images)``).
    """
    images = check_images(images, "images")
    check_seed("seed", seed)
    if isinstance(kinds, str) or not kinds or set(kinds) - set(SYNTHETIC_KINDS) or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names from {SYNTHETIC_KINDS}; got {kinds!r}")
    if len(images) < 2:
        raise ValueError(f"images must hold at least 2 images (foreign content comes from another); got {len(images)}")
    n = len(images) if n is None else check_int("n", n)
    rng = np.random.default_rng(seed)
    sources = rng.permutation(np.arange(n) % len(images))
    chosen = [kinds[i % len(kinds)] for i in rng.permutation(n)]
    output = np.empty((n, *images.shape[1:]), np.float32)
    for index, (source, kind) in enumerate(zip(sources, chosen, strict=True)):
        image = images[source]
        for _ in range(_MAX_TRIES):
            donor = images[(source + 1 + rng.integers(len(images) - 1)) % len(images)]
            anomaly = _MAKERS[kind](image, donor, rng)
            if np.abs(anomaly - image).mean() >= _MIN_MEAN_CHANGE:
                break
        output[index] = np.clip(anomaly, 0.0, 1.0)
    return output, np.array(chosen)


def _box(rng: np.random.Generator, height: int, width: int, area: tuple[float, float]) -> tuple[int, int]:
    """A rectangle's ``(h, w)`` of ``area`` (fractions of the image) and aspect ratio 0.3-3.3."""
    size = rng.uniform(*area) * height * width
    aspect = np.exp(rng.uniform(np.log(0.3), np.log(3.3)))
    h = int(np.clip(round(np.sqrt(size * aspect)), 2, height - 1))
    w = int(np.clip(round(np.sqrt(size / aspect)), 2, width - 1))
    return h, w


def _cutpaste(image: np.ndarray, donor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    h, w = _box(rng, height, width, (0.02, 0.15))
    top, left = rng.integers(height - h + 1), rng.integers(width - w + 1)
    patch = image[top : top + h, left : left + w]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    out = image.copy()
    top, left = rng.integers(height - h + 1), rng.integers(width - w + 1)
    out[top : top + h, left : left + w] = patch
    return out


def _scar(image: np.ndarray, donor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    side = min(height, width)
    thickness = max(1, int(round(rng.uniform(0.02, 0.16) * side)))
    length = max(2, int(round(rng.uniform(0.1, 0.25) * 2 * side)))
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cy, cx = rng.uniform(0.15, 0.85) * height, rng.uniform(0.15, 0.85) * width
    angle = rng.uniform(0, np.pi)
    along = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    across = -(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)
    inside = (np.abs(along) <= length / 2) & (np.abs(across) <= thickness / 2)
    return np.where(inside[..., None], donor, image)


def _blend(image: np.ndarray, donor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    field = ndimage.gaussian_filter(rng.standard_normal((height, width)), rng.uniform(0.06, 0.15) * min(height, width))
    field = (field - field.mean()) / (field.std() + 1e-8)
    mask = (field > rng.uniform(1.0, 1.8)).astype(np.float32)[..., None]
    opacity = rng.uniform(0.5, 1.0)
    return image * (1 - opacity * mask) + donor * opacity * mask


def _blur(image: np.ndarray, donor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    h, w = _box(rng, height, width, (0.04, 0.2))
    top, left = rng.integers(height - h + 1), rng.integers(width - w + 1)
    window = int(rng.integers(3, 8))
    blurred = ndimage.uniform_filter(image, size=(window, window, 1), mode="reflect")
    region = blurred[top : top + h, left : left + w]
    mean = region.mean(axis=(0, 1), keepdims=True)
    out = image.copy()
    out[top : top + h, left : left + w] = mean + rng.uniform(0.5, 1.5) * (region - mean)
    return out


def _warp(image: np.ndarray, donor: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    radius = rng.uniform(0.15, 0.35) * min(height, width)
    cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
    strength = rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.6)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    fade = np.clip(1 - np.hypot(dy, dx) / radius, 0.0, 1.0) ** 2
    turn = strength * fade
    source_y = cy + dy * np.cos(turn) - dx * np.sin(turn)
    source_x = cx + dy * np.sin(turn) + dx * np.cos(turn)
    return np.stack(
        [
            ndimage.map_coordinates(image[..., c], [source_y, source_x], order=1, mode="reflect")
            for c in range(image.shape[-1])
        ],
        axis=-1,
    )


_MAKERS = {"cutpaste": _cutpaste, "scar": _scar, "blend": _blend, "blur": _blur, "warp": _warp}
