"""Background noise for "MNIST with noise": spurious signal around the digit.

The paper evaluates on MNIST with added noise but does not publish its
recipe, so this module defines the project's own, seeded one. The noise lies
only in the background: it is cut away from the *digit support* (pixels
brighter than ``support_threshold``), so a pixel-wise model is distracted by
it while an attention map that follows the digit can ignore it. It is applied
alike to train and test, normal and anomalous images.

The support is not dilated by default (``support_dilation=0``): a noise-free
halo around the digit would draw the digit's silhouette into the noise and
make detection *easier* for pixel-wise detectors (measured: PCA and kNN
AUROC rose with noise strength when the halo was 2 px wide).

Recipe at ``strength=1.0`` for 28x28 images (the defaults of
:class:`BackgroundNoise`), drawn independently for every image. It was
calibrated with baselines only (PCA reconstruction error and k-nearest
neighbours on pixels, ``studies/calibrate_noise.py``) so that the noise clearly
hurts pixel-wise detectors while the digit stays easy to read:

- strokes: 6 straight line segments; centre uniform over the image, direction
  uniform, length U(6, 16) px, thickness 1.5 px with a one-pixel
  anti-aliased edge, intensity U(0.6, 1.0);
- blobs: 6 isotropic Gaussian blobs; centre uniform over the image,
  sigma U(1, 2.5) px, peak U(0.5, 1.0);
- pixels: salt noise, each pixel with probability 0.15, intensity U(0.3, 1.0).

Elements are combined with each other and with the image by a pixel-wise
maximum, ``out = max(x, noise * (1 - support))``: the digit is untouched and
overlapping elements do not add up beyond the brighter one. The same noise is
applied to every channel.

``strength = s`` scales the mean number of strokes and blobs and the salt
rate by ``s`` (a count ``m * s`` that is not whole is rounded up or down at
random so that its mean stays ``m * s``), and all intensities by
``min(s, 1)``: a weak setting gives fewer and fainter elements, a strong one
gives more. ``s = 0`` disables the noise. Lengths, thicknesses and sigmas are
in pixels of a 28-pixel image and scale with ``min(H, W) / reference_size``
for other image sizes.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from adda_keras.data.pipeline import _check_int, check_images

logger = logging.getLogger(__name__)

__all__ = ["NOISE_KINDS", "BackgroundNoise", "add_background_noise", "digit_support"]

NOISE_KINDS = ("strokes", "blobs", "pixels")
"""Names accepted in :attr:`BackgroundNoise.kinds`."""

# Pixels rasterised at once: bounds the memory of the (n, H, W) temporaries to
# a few tens of MB whatever the batch size.
_CHUNK_PIXELS = 1 << 22


@dataclass(frozen=True)
class BackgroundNoise:
    """Settings of the background noise; the defaults are the project's recipe.

    ``strength`` (>= 0, 0 disables) scales counts, salt rate and intensities
    (see the module docstring). ``kinds`` selects among ``"strokes"``,
    ``"blobs"`` and ``"pixels"``. ``support_threshold`` and
    ``support_dilation`` define the digit support that stays free of noise.
    The remaining fields are the recipe at strength 1: expected counts per
    image, ``(low, high)`` ranges of uniform draws, and sizes in pixels of a
    ``reference_size`` image (``None``: sizes are absolute pixels whatever the
    image size).
    """

    strength: float = 1.0
    kinds: tuple[str, ...] = NOISE_KINDS
    support_threshold: float = 0.1
    support_dilation: int = 0
    strokes_per_image: float = 6.0
    stroke_length: tuple[float, float] = (6.0, 16.0)
    stroke_width: float = 1.5
    stroke_intensity: tuple[float, float] = (0.6, 1.0)
    blobs_per_image: float = 6.0
    blob_sigma: tuple[float, float] = (1.0, 2.5)
    blob_peak: tuple[float, float] = (0.5, 1.0)
    pixel_rate: float = 0.15
    pixel_intensity: tuple[float, float] = (0.3, 1.0)
    reference_size: int | None = 28

    def __post_init__(self) -> None:
        """Reject settings that would fail later or give images outside [0, 1]."""
        kinds = self.kinds
        if (
            isinstance(kinds, str)
            or not isinstance(kinds, (tuple, list))
            or not kinds
            or len(set(kinds)) != len(kinds)
            or any(kind not in NOISE_KINDS for kind in kinds)
        ):
            raise ValueError(
                f"kinds must be a tuple of distinct names from {NOISE_KINDS} "
                f"(use strength=0 to disable the noise); got {kinds!r}"
            )
        object.__setattr__(self, "kinds", tuple(kinds))
        _check_number("strength", self.strength, low=0.0)
        _check_number("support_threshold", self.support_threshold, 0.0, 1.0, open_high=True)
        _check_int("support_dilation", self.support_dilation, minimum=0)
        _check_number("strokes_per_image", self.strokes_per_image, low=0.0)
        _check_number("blobs_per_image", self.blobs_per_image, low=0.0)
        _check_number("stroke_width", self.stroke_width, low=0.0, open_low=True)
        _check_number("pixel_rate", self.pixel_rate, low=0.0, high=1.0)
        _check_range("stroke_length", self.stroke_length)
        _check_range("blob_sigma", self.blob_sigma)
        _check_range("stroke_intensity", self.stroke_intensity, high=1.0)
        _check_range("blob_peak", self.blob_peak, high=1.0)
        _check_range("pixel_intensity", self.pixel_intensity, high=1.0)
        if self.reference_size is not None:
            _check_int("reference_size", self.reference_size, minimum=1)


def digit_support(images: np.ndarray, threshold: float = 0.1, dilation: int = 0) -> np.ndarray:
    """Boolean mask ``(N, H, W, 1)`` of the object's pixels, with a safety margin.

    A pixel is in the support if any channel exceeds ``threshold``, or if it
    lies within ``dilation`` pixels (square neighbourhood) of such a pixel.
    The noise keeps out of this mask so that it never touches the digit.
    """
    images = check_images(images)
    _check_number("threshold", threshold, 0.0, 1.0, open_high=True)
    _check_int("dilation", dilation, minimum=0)
    support = images.max(axis=-1) > threshold
    if dilation:
        size = 2 * int(dilation) + 1
        support = ndimage.maximum_filter(support, size=(1, size, size), mode="constant")
    return support[..., np.newaxis]


def add_background_noise(images: np.ndarray, noise: BackgroundNoise, seed: int) -> np.ndarray:
    """Return a copy of ``images`` with seeded noise outside the digit support.

    ``images`` is float32 ``(N, H, W, C)`` in ``[0, 1]`` of any size and
    channel count; the result has the same shape and dtype and stays in
    ``[0, 1]`` (it is a pixel-wise maximum of values in ``[0, 1]``). The same
    ``seed`` gives the same output for the same input; the noise of an image
    depends on its position in the batch, not on its content.
    """
    images = check_images(images)
    if not isinstance(noise, BackgroundNoise):
        message = f"noise must be a BackgroundNoise; got {type(noise).__name__}"
        raise ValueError(message)  # noqa: TRY004 (ValueError for every bad argument)
    _check_int("seed", seed, minimum=0)
    if noise.strength == 0:
        return images.copy()

    n_images, height, width, _ = images.shape
    rng = np.random.default_rng(seed)
    scale = 1.0
    if noise.reference_size is not None:
        scale = min(height, width) / noise.reference_size
    gain = min(float(noise.strength), 1.0)
    strokes = _draw_strokes(rng, noise, images.shape, scale, gain)
    blobs = _draw_blobs(rng, noise, images.shape, scale, gain)
    rate = 0.0
    if "pixels" in noise.kinds:
        rate = min(noise.pixel_rate * noise.strength, 1.0)
    low, high = noise.pixel_intensity
    support = digit_support(images, noise.support_threshold, noise.support_dilation)

    grid_y = np.arange(height, dtype=np.float32)[np.newaxis, :, np.newaxis]
    grid_x = np.arange(width, dtype=np.float32)[np.newaxis, np.newaxis, :]
    output = np.empty_like(images)
    chunk = max(1, _CHUNK_PIXELS // (height * width))
    for start in range(0, n_images, chunk):
        part = slice(start, min(start + chunk, n_images))
        layer = np.zeros((part.stop - part.start, height, width), dtype=np.float32)
        for params in strokes:
            stroke = _stroke_layer(*(p[part] for p in params), grid_y, grid_x)
            np.maximum(layer, stroke, out=layer)
        for params in blobs:
            blob = _blob_layer(*(p[part] for p in params), grid_y, grid_x)
            np.maximum(layer, blob, out=layer)
        if rate > 0:
            # One uniform draw u decides whether a pixel is salted (u < rate) and,
            # as u / rate is then uniform on [0, 1), how bright it is.
            u = rng.random(layer.shape, dtype=np.float32)
            salt = gain * (low + (high - low) * (u / np.float32(rate)))
            np.maximum(layer, np.where(u < rate, salt, 0.0), out=layer)
        layer[support[part, ..., 0]] = 0.0
        np.maximum(images[part], layer[..., np.newaxis], out=output[part])
    logger.debug(
        "Added background noise (strength %g, kinds %s) to %d images",
        noise.strength,
        noise.kinds,
        n_images,
    )
    return output


def _draw_counts(rng: np.random.Generator, mean: float, n_images: int) -> np.ndarray:
    """Per-image counts with mean ``mean``: its integer part, plus one with
    probability equal to its fractional part (strength 1 gives exact counts)."""
    whole = math.floor(mean)
    return whole + (rng.random(n_images) < mean - whole).astype(np.int64)


def _draw_strokes(
    rng: np.random.Generator,
    noise: BackgroundNoise,
    shape: tuple[int, ...],
    scale: float,
    gain: float,
) -> list[tuple[np.ndarray, ...]]:
    """Parameters of each stroke slot, a tuple of ``(N,)`` arrays (endpoints,
    half-width, intensity); intensity is 0 where an image has fewer strokes."""
    if "strokes" not in noise.kinds:
        return []
    n_images, height, width = shape[:3]
    counts = _draw_counts(rng, noise.strokes_per_image * noise.strength, n_images)
    half_width = np.full(n_images, 0.5 * scale * noise.stroke_width)
    slots = []
    for slot in range(int(counts.max())):
        centre_x = rng.uniform(-0.5, width - 0.5, n_images)
        centre_y = rng.uniform(-0.5, height - 0.5, n_images)
        angle = rng.uniform(0.0, np.pi, n_images)
        half_length = 0.5 * scale * rng.uniform(*noise.stroke_length, n_images)
        intensity = gain * rng.uniform(*noise.stroke_intensity, n_images)
        intensity *= slot < counts
        dx, dy = half_length * np.cos(angle), half_length * np.sin(angle)
        params = (
            centre_x - dx,
            centre_y - dy,
            centre_x + dx,
            centre_y + dy,
            half_width,
            intensity,
        )
        slots.append(tuple(p.astype(np.float32) for p in params))
    return slots


def _draw_blobs(
    rng: np.random.Generator,
    noise: BackgroundNoise,
    shape: tuple[int, ...],
    scale: float,
    gain: float,
) -> list[tuple[np.ndarray, ...]]:
    """Parameters of each blob slot, a tuple of ``(N,)`` arrays (centre, sigma,
    peak); peak is 0 where an image has fewer blobs."""
    if "blobs" not in noise.kinds:
        return []
    n_images, height, width = shape[:3]
    counts = _draw_counts(rng, noise.blobs_per_image * noise.strength, n_images)
    slots = []
    for slot in range(int(counts.max())):
        centre_x = rng.uniform(-0.5, width - 0.5, n_images)
        centre_y = rng.uniform(-0.5, height - 0.5, n_images)
        sigma = scale * rng.uniform(*noise.blob_sigma, n_images)
        peak = gain * rng.uniform(*noise.blob_peak, n_images) * (slot < counts)
        params = (centre_x, centre_y, sigma, peak)
        slots.append(tuple(p.astype(np.float32) for p in params))
    return slots


def _stroke_layer(
    x0: np.ndarray,
    y0: np.ndarray,
    x1: np.ndarray,
    y1: np.ndarray,
    half_width: np.ndarray,
    intensity: np.ndarray,
    grid_y: np.ndarray,
    grid_x: np.ndarray,
) -> np.ndarray:
    """One anti-aliased segment per image, ``(n, H, W)``: full intensity up to
    ``half_width`` from the segment, fading linearly to 0 over the next pixel."""
    x0, y0, x1, y1, half_width, intensity = (
        p[:, np.newaxis, np.newaxis] for p in (x0, y0, x1, y1, half_width, intensity)
    )
    dx, dy = x1 - x0, y1 - y0
    # Position of each pixel's projection along the segment, clamped to its ends.
    t = (grid_x - x0) * dx + (grid_y - y0) * dy
    t = np.clip(t / (dx * dx + dy * dy), 0.0, 1.0)
    distance = np.hypot(grid_x - x0 - t * dx, grid_y - y0 - t * dy)
    return intensity * np.clip(half_width + 0.5 - distance, 0.0, 1.0)


def _blob_layer(
    centre_x: np.ndarray,
    centre_y: np.ndarray,
    sigma: np.ndarray,
    peak: np.ndarray,
    grid_y: np.ndarray,
    grid_x: np.ndarray,
) -> np.ndarray:
    """One isotropic Gaussian blob per image, ``(n, H, W)``, as the outer product
    of two 1-D Gaussians (cheaper than a 2-D exponential)."""
    centre_x, centre_y, sigma, peak = (p[:, np.newaxis, np.newaxis] for p in (centre_x, centre_y, sigma, peak))
    along_x = np.exp(-((grid_x - centre_x) ** 2) / (2 * sigma**2))
    along_y = np.exp(-((grid_y - centre_y) ** 2) / (2 * sigma**2))
    return peak * along_y * along_x


def _is_real(value: object) -> bool:
    """Whether ``value`` is a finite real number (bools excluded)."""
    return (
        not isinstance(value, bool)
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(value)
    )


def _check_number(
    name: str,
    value: float,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
    open_high: bool = False,
) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite number in
    the interval from ``low`` to ``high`` (each end excluded if ``open_*``)."""
    if (
        not _is_real(value)
        or value < low
        or value > high
        or (open_low and value == low)
        or (open_high and value == high)
    ):
        closing = ")" if open_high or high == math.inf else "]"
        interval = f"{'(' if open_low else '['}{low}, {high}{closing}"
        raise ValueError(f"{name} must be a number in {interval}; got {value!r}")


def _check_range(name: str, value: tuple[float, float], high: float | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is a pair ``(a, b)`` of numbers with
    ``0 < a <= b`` (and ``b <= high`` if given)."""
    pair = value if isinstance(value, (tuple, list)) and len(value) == 2 else None
    if not (
        pair is not None
        and all(_is_real(v) for v in pair)
        and 0 < pair[0] <= pair[1]
        and (high is None or pair[1] <= high)
    ):
        bound = "" if high is None else f" <= {high}"
        raise ValueError(f"{name} must be a pair (low, high) with 0 < low <= high{bound}; got {value!r}")
