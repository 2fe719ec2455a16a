"""Defective images with ground-truth masks: the localisation benchmarks' test data.

The one-class protocol tells *whether* an image is anomalous (another
digit); it cannot tell whether an anomaly map points at the right pixels.
Here normal images get a generated defect whose pixels are known, so maps
can be scored against masks (:func:`adda_keras.evaluation.pixel_auroc`,
:func:`adda_keras.evaluation.aupro`).

Defects of a digit (:data:`DIGIT_DEFECTS`), sizes in pixels of a 28x28
image (they scale with the image):

* ``"stroke"`` — an extra straight stroke across the digit: a segment of
  length U(10, 16) through a random pixel of the digit, 1.5 px wide,
  intensity U(0.8, 1);
* ``"erase"`` — an erased segment: the digit's pixels within a disc of
  radius U(2.5, 3.5) around one of its pixels are set to 0;
* ``"blob"`` — a bright blob on the digit: a Gaussian of sigma U(1.2, 2)
  at one of its pixels, 1.5 times its peak clipped to 1 (a solid core);
* ``"background"`` — a small foreign digit (another class, shrunk to
  12x12) in the background, where it touches neither the digit nor its
  one-pixel margin: the paper's stated limitation, an anomaly where the
  discriminator does not look.

Defects of a texture (:data:`TEXTURE_DEFECTS`), sizes for 32x32 crops:

* ``"scratch"`` — a thin straight line, 1 px wide, U(10, 20) long, brighter
  or darker than the texture by U(0.35, 0.6);
* ``"stain"`` — a soft disc (radius U(3, 5)) shifted in brightness by
  U(0.25, 0.45), up or down;
* ``"patch"`` — a square of side U(6, 9) replaced by the same-sized crop of
  another texture (a foreign material).

The mask of a defect is every pixel the defect covers *and* visibly
changed, by more than ``min_change`` (0.2 for digits, 0.1 for textures): a
stroke drawn over a bright digit pixel changes nothing there, and no map can
be asked to find it. A ``"patch"`` is masked whole: a foreign material is a
defect even where its brightness happens to match. Draws that change fewer than 3 pixels are redrawn.

:func:`texture_crops` cuts the normal texture images from a photo that
scikit-image ships (``brick``, ``grass``, ``gravel``: 512x512 grayscale),
from disjoint horizontal bands for training, validation and test.

A seed gives the same defects for the same images; defects are applied to
images as they are given (with background noise already added, for the noisy
benchmark), while ``clean_images`` locate the digit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from adda_keras.data.noise import _blob_layer, _stroke_layer
from adda_keras.data.pipeline import check_images
from adda_keras.validation import check_int, check_number, check_seed

__all__ = [
    "DIGIT_DEFECTS",
    "NORMAL",
    "TEXTURES",
    "TEXTURE_DEFECTS",
    "DefectSet",
    "add_digit_defects",
    "add_texture_defects",
    "texture_crops",
]

DIGIT_DEFECTS = ("stroke", "erase", "blob", "background")
"""Defect kinds of :func:`add_digit_defects`."""
TEXTURE_DEFECTS = ("scratch", "stain", "patch")
"""Defect kinds of :func:`add_texture_defects`."""
NORMAL = "normal"
"""The kind of an image left without a defect."""

#: fewest changed pixels a defect must have; fewer and it is drawn again
_MIN_PIXELS = 3
_MAX_TRIES = 20
#: kinds whose mask is their whole footprint: a foreign material is anomalous even where it happens to match
_WHOLE_REGION = ("patch",)

#: draws one defect: ``(image index, generator) -> (defective image, footprint)``
Draw = Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class DefectSet:
    """Test images, some with a defect, and the masks of the defects.

    Attributes:
        images: ``(N, H, W, C)`` float32 in [0, 1].
        masks: ``(N, H, W)`` bool, True on a defect's pixels (all False on
            normal images).
        kinds: ``(N,)`` str, :data:`NORMAL` or the defect kind.
    """

    images: np.ndarray
    masks: np.ndarray
    kinds: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """``(N,)`` int64: 1 for an image with a defect, 0 for a normal one."""
        return (self.kinds != NORMAL).astype(np.int64)

    def select(self, kind: str) -> DefectSet:
        """The normal images and those with defects of ``kind`` (``"all"``: every image)."""
        if kind == "all":
            return self
        if kind not in set(self.kinds.tolist()) - {NORMAL}:
            raise ValueError(
                f"kind must be 'all' or one of {sorted(set(self.kinds.tolist()) - {NORMAL})}; got {kind!r}"
            )
        keep = (self.kinds == NORMAL) | (self.kinds == kind)
        return DefectSet(self.images[keep], self.masks[keep], self.kinds[keep])


#: the texture photos of ``skimage.data`` that :func:`texture_crops` accepts
TEXTURES = ("brick", "grass", "gravel")


def texture_crops(
    name: str, n_crops: int, seed: int, band: tuple[float, float] = (0.0, 1.0), size: int = 32, downscale: int = 2
) -> np.ndarray:
    """Random square crops of a texture photo that scikit-image ships, ``(n_crops, size, size, 1)`` in [0, 1].

    The photo is shrunk by ``downscale`` (block mean) and crops are drawn,
    seeded, with their top edge and bottom edge inside the rows of ``band``
    (fractions of the height), so training, validation and test crops come
    from disjoint parts of the photo when their bands do not overlap.

    Args:
        name: one of :data:`TEXTURES`.
        n_crops: how many crops.
        seed: seeds the crop positions.
        band: ``(top, bottom)`` fractions of the photo's height, ``0 <= top < bottom <= 1``.
        size: crop side in pixels (after shrinking).
        downscale: integer shrink factor of the photo.
    """
    if name not in TEXTURES:
        raise ValueError(f"name must be one of {TEXTURES}; got {name!r}")
    check_int("n_crops", n_crops)
    check_seed("seed", seed)
    check_int("size", size, minimum=2)
    check_int("downscale", downscale)
    if not (isinstance(band, (tuple, list)) and len(band) == 2 and 0 <= band[0] < band[1] <= 1):
        raise ValueError(f"band must be (top, bottom) fractions with 0 <= top < bottom <= 1; got {band!r}")
    try:
        from skimage import data as skimage_data
    except ImportError as error:
        raise ImportError("the texture benchmark needs scikit-image: pip install scikit-image") from error
    photo = getattr(skimage_data, name)().astype(np.float32) / 255.0
    height, width = (s // downscale for s in photo.shape)
    photo = photo[: height * downscale, : width * downscale].reshape(height, downscale, width, downscale).mean((1, 3))
    first, last = int(band[0] * height), int(band[1] * height) - size
    if last < first or width < size:
        raise ValueError(
            f"band {band} of the {height}x{width} shrunk {name!r} photo holds no {size}x{size} crop; "
            "widen the band or lower size or downscale"
        )
    rng = np.random.default_rng(seed)
    tops = rng.integers(first, last + 1, n_crops)
    lefts = rng.integers(0, width - size + 1, n_crops)
    crops = np.stack([photo[t : t + size, x : x + size] for t, x in zip(tops, lefts, strict=True)])
    return np.clip(crops, 0.0, 1.0)[..., None].astype(np.float32)


def _assign_kinds(n_images: int, kinds: Sequence[str], valid: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Split ``n_images`` into equal groups at random: one left normal, one per defect kind."""
    kinds = tuple(kinds)
    if isinstance(kinds, str) or not kinds or len(set(kinds)) != len(kinds) or any(k not in valid for k in kinds):
        raise ValueError(f"kinds must be distinct names from {valid}; got {kinds!r}")
    groups = len(kinds) + 1
    if n_images < groups:
        raise ValueError(
            f"images must hold at least {groups} images (one normal group and one per kind); got {n_images}"
        )
    per_group = n_images // groups
    assigned = np.full(n_images, NORMAL, dtype=object)
    order = rng.permutation(n_images)
    for index, kind in enumerate(kinds):
        assigned[order[(index + 1) * per_group : (index + 2) * per_group]] = kind
    return assigned.astype(str)


def _finish(
    images: np.ndarray,
    kinds: np.ndarray,
    rng: np.random.Generator,
    draw: Draw,
    min_change: float,
) -> DefectSet:
    """Apply ``draw`` to every image with a defect; its mask is the footprint where the image changed."""
    output = images.copy()
    masks = np.zeros(images.shape[:3], dtype=bool)
    for index in np.flatnonzero(kinds != NORMAL):
        for _ in range(_MAX_TRIES):
            defective, footprint = draw(index, rng)
            mask = footprint
            if kinds[index] not in _WHOLE_REGION:
                mask = footprint & (np.abs(defective - images[index]).max(axis=-1) > min_change)
            if mask.sum() >= _MIN_PIXELS:
                break
        output[index], masks[index] = defective, mask
    return DefectSet(output, masks, kinds)


def add_digit_defects(
    images: np.ndarray,
    foreign: np.ndarray,
    seed: int,
    kinds: Sequence[str] = DIGIT_DEFECTS,
    clean_images: np.ndarray | None = None,
    min_change: float = 0.2,
) -> DefectSet:
    """Give equal shares of normal digit ``images`` one defect each (see the module docstring).

    Args:
        images: ``(N, H, W, C)`` normal images in [0, 1], noisy or not.
        foreign: images of other digits, the source of ``"background"``
            defects (shrunk and pasted).
        seed: seeds which image gets which defect, and the defects.
        kinds: defect kinds among :data:`DIGIT_DEFECTS`; the images are
            split at random into ``len(kinds) + 1`` equal groups, one of
            them left normal (the remainder of the division too).
        clean_images: the same images without background noise; they
            locate the digit (pixels above 0.5) and its margin (above 0.1).
            Default: ``images``.
        min_change: how much a pixel must change to belong to the mask.
    """
    images = check_images(images, "images")
    foreign = check_images(foreign, "foreign")
    clean = images if clean_images is None else check_images(clean_images, "clean_images")
    if clean.shape != images.shape:
        raise ValueError(f"clean_images must have the shape of images {images.shape}; got {clean.shape}")
    check_seed("seed", seed)
    check_number("min_change", min_change, 0.0, 1.0, open_high=True)
    rng = np.random.default_rng(seed)
    assigned = _assign_kinds(len(images), kinds, DIGIT_DEFECTS, rng)
    _, height, width, _ = images.shape
    scale = min(height, width) / 28
    grid_y = np.arange(height, dtype=np.float32)[None, :, None]
    grid_x = np.arange(width, dtype=np.float32)[None, None, :]
    digit = clean.max(axis=-1) > 0.5
    margin = ndimage.binary_dilation(clean.max(axis=-1) > 0.1, structure=np.ones((1, 3, 3), bool))
    size = max(3, round(12 * scale))
    shrunk = np.stack([ndimage.zoom(f.max(axis=-1), size / np.array(f.shape[:2]), order=1) for f in foreign])
    shrunk = np.clip(shrunk[:, :size, :size], 0.0, 1.0)

    def centre_on_digit(index: int, rng: np.random.Generator) -> tuple[float, float]:
        ys, xs = np.nonzero(digit[index])
        if len(ys) == 0:
            raise ValueError(f"image {index} has no digit pixel (above 0.5 in clean_images) to put a defect on")
        pick = rng.integers(len(ys))
        return float(xs[pick]), float(ys[pick])

    def draw(index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image = images[index]
        kind = assigned[index]
        if kind == "stroke":
            x, y = centre_on_digit(index, rng)
            angle = rng.uniform(0, np.pi)
            half = 0.5 * scale * rng.uniform(10, 16)
            dx, dy = half * np.cos(angle), half * np.sin(angle)
            params = [np.array([v], np.float32) for v in (x - dx, y - dy, x + dx, y + dy, 0.75 * scale)]
            layer = _stroke_layer(*params, np.array([rng.uniform(0.8, 1.0)], np.float32), grid_y, grid_x)[0]
            return np.maximum(image, layer[..., None]), layer > 0.4
        if kind == "erase":
            x, y = centre_on_digit(index, rng)
            radius = scale * rng.uniform(2.5, 3.5)
            disc = np.hypot(grid_x[0] - x, grid_y[0] - y) <= radius
            erased = disc & (clean[index].max(axis=-1) > 0.1)
            return np.where(erased[..., None], 0.0, image).astype(np.float32), erased
        if kind == "blob":
            x, y = centre_on_digit(index, rng)
            params = [np.array([v], np.float32) for v in (x, y, scale * rng.uniform(1.2, 2.0), 1.0)]
            layer = np.minimum(1.5 * _blob_layer(*params, grid_y, grid_x)[0], 1.0)
            return np.maximum(image, layer[..., None]), layer > 0.3
        # background: a shrunk foreign digit where the box is clear of the digit and its margin
        free = ndimage.minimum_filter(~margin[index], size=size, mode="constant", cval=False)
        offset = size // 2
        tops, lefts = np.nonzero(free[offset : height - size + 1 + offset, offset : width - size + 1 + offset])
        if len(tops) == 0:  # no clear box: the least crowded one
            crowd = ndimage.uniform_filter(margin[index].astype(float), size=size, mode="constant")
            crowd = crowd[offset : height - size + 1 + offset, offset : width - size + 1 + offset]
            tops, lefts = np.nonzero(crowd == crowd.min())
        pick = rng.integers(len(tops))
        top, left = int(tops[pick]), int(lefts[pick])
        patch = np.zeros((height, width), np.float32)
        patch[top : top + size, left : left + size] = shrunk[rng.integers(len(shrunk))]
        return np.maximum(image, patch[..., None]), patch > 0.3

    return _finish(images, assigned, rng, draw, min_change)


def add_texture_defects(
    images: np.ndarray,
    foreign: np.ndarray,
    seed: int,
    kinds: Sequence[str] = TEXTURE_DEFECTS,
    min_change: float = 0.1,
) -> DefectSet:
    """Give equal shares of normal texture crops one defect each (see the module docstring).

    Args:
        images: ``(N, H, W, C)`` normal crops in [0, 1].
        foreign: crops of another texture, the source of ``"patch"``
            defects, at least as large as the images.
        seed: seeds which crop gets which defect, and the defects.
        kinds: defect kinds among :data:`TEXTURE_DEFECTS`; split as in
            :func:`add_digit_defects`.
        min_change: how much a pixel must change to belong to the mask.
    """
    images = check_images(images, "images")
    foreign = check_images(foreign, "foreign")
    if foreign.shape[1] < images.shape[1] or foreign.shape[2] < images.shape[2] or foreign.shape[3] != images.shape[3]:
        raise ValueError(
            f"foreign crops must be at least as large as images {images.shape[1:3]}, with as many channels "
            f"({images.shape[3]}); got shape {foreign.shape}"
        )
    check_seed("seed", seed)
    check_number("min_change", min_change, 0.0, 1.0, open_high=True)
    rng = np.random.default_rng(seed)
    assigned = _assign_kinds(len(images), kinds, TEXTURE_DEFECTS, rng)
    _, height, width, _ = images.shape
    scale = min(height, width) / 32
    grid_y = np.arange(height, dtype=np.float32)[None, :, None]
    grid_x = np.arange(width, dtype=np.float32)[None, None, :]

    def draw(index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image = images[index]
        kind = assigned[index]
        x, y = rng.uniform(0.2 * width, 0.8 * width), rng.uniform(0.2 * height, 0.8 * height)
        sign = rng.choice([-1.0, 1.0])
        if kind == "scratch":
            angle = rng.uniform(0, np.pi)
            half = 0.5 * scale * rng.uniform(10, 20)
            dx, dy = half * np.cos(angle), half * np.sin(angle)
            params = [np.array([v], np.float32) for v in (x - dx, y - dy, x + dx, y + dy, 0.5 * scale, 1.0)]
            alpha = _stroke_layer(*params, grid_y, grid_x)[0]
            shifted = image + sign * rng.uniform(0.35, 0.6) * alpha[..., None]
            return np.clip(shifted, 0.0, 1.0).astype(np.float32), alpha > 0.5
        if kind == "stain":
            radius = scale * rng.uniform(3, 5)
            alpha = np.clip(radius + 0.5 - np.hypot(grid_x[0] - x, grid_y[0] - y), 0.0, 1.0)
            shifted = image + sign * rng.uniform(0.25, 0.45) * alpha[..., None]
            return np.clip(shifted, 0.0, 1.0).astype(np.float32), alpha > 0.5
        side = max(2, round(scale * rng.uniform(6, 9)))
        top, left = int(np.clip(y - side / 2, 0, height - side)), int(np.clip(x - side / 2, 0, width - side))
        source = foreign[rng.integers(len(foreign))]
        src_top = rng.integers(source.shape[0] - side + 1)
        src_left = rng.integers(source.shape[1] - side + 1)
        patched = image.copy()
        patched[top : top + side, left : left + side] = source[src_top : src_top + side, src_left : src_left + side]
        footprint = np.zeros((height, width), bool)
        footprint[top : top + side, left : left + side] = True
        return patched, footprint

    return _finish(images, assigned, rng, draw, min_change)
