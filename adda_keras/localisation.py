"""Anomaly maps for localisation: where in an image is the anomaly?

The paper's attention is a map, but the paper scores whole images only.
These functions make the maps that :mod:`adda_keras.experiments.localise`
compares against ground-truth masks (with the pixel AUROC and the AUPRO of
:mod:`adda_keras.evaluation`):

* :func:`vaegan_maps` — from one fitted ``ada`` detector: ADA's map as in
  the paper (``c² (x - x̂)² / mean(c²)``, no attention floor), the same with
  attention floors, the plain residual (AnoVAEGAN's map), the attention
  ``c`` alone and :func:`not_normal_grad_cam`;
* :func:`not_normal_grad_cam` — Grad-CAM of the discriminator's evidence
  *against* "real normal": where it sees something wrong (Grad-CAM of the
  logit itself equals the CAM up to scale on this architecture);
* :class:`PatchKNN` — the classical peer: each pixel's patch against the
  nearest patches of the normal training images;
* :func:`smooth_maps` — a small Gaussian, as anomalib applies;
* :func:`evaluate_maps` — image AUROC, pixel AUROC and AUPRO per defect kind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import tensorflow as tf
from scipy import ndimage

from adda_keras.attention import grad_cam, normalise_maps
from adda_keras.data import check_images
from adda_keras.data.defects import NORMAL, DefectSet
from adda_keras.evaluation import aupro, auroc, pixel_auroc
from adda_keras.validation import check_int, check_number, check_seed


def smooth_maps(maps: np.ndarray, sigma: float) -> np.ndarray:
    """Each ``(H, W)`` map of ``(N, H, W)`` blurred by a Gaussian of ``sigma`` pixels (0: unchanged).

    Reflecting at the border, so a defect at the edge keeps its weight.
    """
    sigma = check_number("sigma", sigma)
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (N, H, W); got {maps.shape}")
    if sigma == 0:
        return maps.copy()
    return ndimage.gaussian_filter(maps, sigma=(0, sigma, sigma), mode="reflect")


def _patches(images: np.ndarray, size: int) -> np.ndarray:
    """Every pixel's ``size x size`` neighbourhood (reflected at the border), ``(N, H, W, size*size*C)``."""
    half = size // 2
    padded = np.pad(images, ((0, 0), (half, half), (half, half), (0, 0)), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (size, size), axis=(1, 2))
    n, height, width = images.shape[:3]
    return np.ascontiguousarray(windows.reshape(n, height, width, -1), dtype=np.float32)


def _nearest_distance(queries: np.ndarray, bank: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """Euclidean distance from each row of ``queries`` to its nearest row of ``bank``."""
    bank_norms = np.einsum("ij,ij->i", bank, bank)
    out = np.empty(len(queries), np.float32)
    for start in range(0, len(queries), chunk):
        part = queries[start : start + chunk]
        squared = np.einsum("ij,ij->i", part, part)[:, None] + bank_norms[None, :] - 2 * part @ bank.T
        out[start : start + chunk] = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return out


class PatchKNN:
    """A classical pixel-level anomaly map: distance of each pixel's patch to the nearest normal patch.

    Each pixel is described by the ``patch_size x patch_size`` patch around
    it; its anomaly is the Euclidean distance to the nearest patch of the
    normal training images. With ``radius`` set, only training patches
    whose centre lies within ``radius`` pixels of the same position count
    (for aligned images such as digits: a stroke where no normal image has
    one is anomalous); with ``radius=None`` every training patch counts
    (for stationary textures), a random ``max_bank`` of them (seeded).

    Args:
        patch_size: odd patch side in pixels.
        radius: the positional neighbourhood, or ``None`` for all positions.
        max_bank: most training patches kept when ``radius`` is ``None``.
        seed: seeds the subsample of the bank.
    """

    def __init__(self, patch_size: int = 5, radius: int | None = 2, max_bank: int = 20000, seed: int = 0) -> None:
        self.patch_size = check_int("patch_size", patch_size)
        if patch_size % 2 == 0:
            raise ValueError(f"patch_size must be odd; got {patch_size}")
        self.radius = None if radius is None else check_int("radius", radius, minimum=0)
        self.max_bank = check_int("max_bank", max_bank)
        self.seed = check_seed("seed", seed)
        self.train_patches_: np.ndarray | None = None
        self.image_shape_: tuple[int, ...] | None = None

    def fit(self, x_train: np.ndarray) -> PatchKNN:
        """Store the patches of the normal training images."""
        patches = _patches(check_images(x_train, "x_train"), self.patch_size)
        if self.radius is None:
            flat = patches.reshape(-1, patches.shape[-1])
            if len(flat) > self.max_bank:
                flat = flat[np.random.default_rng(self.seed).choice(len(flat), self.max_bank, replace=False)]
            patches = flat
        self.train_patches_ = patches
        self.image_shape_ = tuple(x_train.shape[1:])
        return self

    def anomaly_map(self, images: np.ndarray) -> np.ndarray:
        """``(N, H, W)`` distances of every pixel's patch to the nearest normal patch."""
        if self.train_patches_ is None:
            raise RuntimeError("this PatchKNN is not fitted yet; call fit() first")
        images = check_images(images, "images")
        if tuple(images.shape[1:]) != self.image_shape_:
            raise ValueError(f"images must have shape (N, {self.image_shape_}); got {images.shape}")
        patches = _patches(images, self.patch_size)
        n, height, width, depth = patches.shape
        if self.radius is None:
            return _nearest_distance(patches.reshape(-1, depth), self.train_patches_).reshape(n, height, width)
        maps = np.empty((n, height, width), np.float32)
        r = self.radius
        for y in range(height):
            for x in range(width):
                bank = self.train_patches_[:, max(0, y - r) : y + r + 1, max(0, x - r) : x + r + 1].reshape(-1, depth)
                maps[:, y, x] = _nearest_distance(patches[:, y, x], bank)
        return maps


def not_normal_grad_cam(discriminator: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Grad-CAM of the discriminator's evidence against "real normal", ``(N, H, W)`` in [0, 1].

    The Grad-CAM of the *negated* logit on the discriminator's last feature
    maps (:func:`adda_keras.attention.grad_cam`), rectified, resized to the
    image and scaled to a maximum of 1 per image.
    """
    images = check_images(images, "images")
    size = images.shape[1:3]
    maps = []
    for start in range(0, len(images), batch_size):
        raw = -grad_cam(discriminator, tf.constant(images[start : start + batch_size]))
        resized = tf.image.resize(raw[..., None], size, method="bilinear")[..., 0]
        maps.append(normalise_maps(resized).numpy())
    return np.concatenate(maps)


def vaegan_maps(
    detector: Any, images: np.ndarray, floors: Sequence[float], x_reference: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Maps and image scores of one fitted ``ada`` detector: ``{name: (maps (N, H, W), scores (N,))}``.

    Names: ``ada`` (no attention floor, as in the paper), ``residual``,
    ``attention`` (``c`` without floor), ``grad-cam`` and ``ada-floor=<f>``
    for every floor of ``floors``; all from the detector's own passes
    (``predict``, ``variant``, ``explain``) with its other score settings.

    Args:
        detector: a fitted ``ada`` detector.
        images: the images to map, ``(N, H, W, C)`` in [0, 1].
        floors: the attention floors to score with, besides the paper's 0.
        x_reference: normal images (the ``x_val`` of ``fit``) on which β's
            spread ratio is measured again for every floor, so that the image
            scores of all floors use the same β (see ``variant``); the maps
            do not depend on it.
    """
    paper = detector.variant(attention_floor=0.0, x_reference=x_reference)
    ada = paper.predict(images)
    residual = detector.variant("anovaegan").predict(images)
    attention = paper.explain(images)["attention"]
    grad = not_normal_grad_cam(detector.model_.discriminator, images)
    out = {
        "ada": (ada.maps, ada.scores),
        "residual": (residual.maps, residual.scores),
        "attention": (attention, attention.max(axis=(1, 2))),
        "grad-cam": (grad, grad.max(axis=(1, 2))),
    }
    for floor in floors:
        floored = detector.variant(attention_floor=float(floor), x_reference=x_reference).predict(images)
        out[f"ada-floor={floor:g}"] = (floored.maps, floored.scores)
    return out


def evaluate_maps(
    defects: DefectSet, maps: np.ndarray, scores: np.ndarray | None, kinds: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Image AUROC, pixel AUROC and AUPRO per defect kind (and ``"all"``); ``scores=None``: each map's maximum."""
    scores = maps.max(axis=(1, 2)) if scores is None else scores
    results = {}
    for kind in (*kinds, "all"):
        keep = (defects.kinds == NORMAL) | (defects.kinds == kind) if kind != "all" else slice(None)
        results[kind] = {
            "image_auroc": auroc(defects.labels[keep], scores[keep]),
            "pixel_auroc": pixel_auroc(defects.masks[keep], maps[keep]),
            "aupro": aupro(defects.masks[keep], maps[keep]),
        }
    return results
