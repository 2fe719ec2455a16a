"""Texture inspection: crops of real texture photographs and realistic defects drawn with masks.

The evaluation data of the texture benchmark in
:mod:`adda_keras.experiments.real_images`. Normal images are crops of one
texture photograph (:data:`INSPECTION_TEXTURES`, plus the held-out
:data:`HELD_OUT_TEXTURE`, which no choice ever sees); training, validation
and test crops come from disjoint rectangles of the photograph
(:data:`INSPECTION_REGIONS`: the top half for training, the bottom half's
left 40% for validation and its right 60% for test), so no test pixel was
seen in training or in any choice.

Defects (:data:`INSPECTION_DEFECTS`) are drawn inside irregular regions
(a smoothed random field thresholded inside an ellipse, with a soft edge),
sizes for 64x64 crops (they scale with the crop):

* ``"scratch"`` — a thin curved line (a quadratic Bézier curve), 1-2 px
  wide, 15-40 px long, darker or brighter by 0.25-0.5;
* ``"smudge"`` — the region blurred (Gaussian, sigma 2-4 px) and slightly
  lightened: smeared material;
* ``"stain"`` — the region darkened multiplicatively (x0.45-0.7) with a
  darker rim, as a dried liquid leaves;
* ``"foreign"`` — the region filled with a crop of another photograph
  (:data:`FOREIGN_PHOTOS`): foreign material;
* ``"missing"`` — a hole: the region replaced by a dark, nearly flat
  cavity (0.03-0.15 plus faint noise) with a bright chipped edge;
* ``"colour"`` — a discolouration: the region's tones remapped by a gamma
  of 0.4-0.6 or 1.8-2.6 (brighter or darker, texture kept).

The mask of a defect is the region (``alpha > 0.5``) where the image
visibly changed (by more than :data:`MIN_CHANGE`); ``"foreign"`` and
``"missing"`` are masked whole. A draw that changes fewer than 8 pixels is
drawn again. These defects are for evaluation only: the self-made training
anomalies of ``ada-synthetic`` come from :mod:`adda_keras.data.synthetic`,
which shares no code and no parameter with this module.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from adda_keras.data.defects import NORMAL, DefectSet
from adda_keras.data.photos import load_photo
from adda_keras.data.pipeline import check_images
from adda_keras.validation import check_int, check_seed

__all__ = [
    "FOREIGN_PHOTOS",
    "HELD_OUT_TEXTURE",
    "INSPECTION_REGIONS",
    "INSPECTION_DEFECTS",
    "INSPECTION_TEXTURES",
    "add_inspection_defects",
    "inspection_crops",
]

#: the textures every choice may look at (their validation crops)
INSPECTION_TEXTURES = ("brick", "grass", "gravel", "tissue")
#: the texture held out of every choice, reported separately
HELD_OUT_TEXTURE = "moon"
INSPECTION_DEFECTS = ("scratch", "smudge", "stain", "foreign", "missing", "colour")
#: photographs whose crops are pasted as foreign material (none is a texture of the benchmark)
FOREIGN_PHOTOS = ("coffee", "rocket", "astronaut")
#: ``((top, bottom), (left, right))`` of each split's rectangle, as fractions of the (shrunk) photograph
INSPECTION_REGIONS = {
    "train": ((0.0, 0.5), (0.0, 1.0)),
    "validation": ((0.5, 1.0), (0.0, 0.4)),
    "test": ((0.5, 1.0), (0.4, 1.0)),
}
#: how much a pixel must change to belong to a defect's mask
MIN_CHANGE = 0.04
_WHOLE_REGION = ("foreign", "missing")
_MIN_PIXELS, _MAX_TRIES = 8, 30


def inspection_crops(
    texture: str, split: str, n_crops: int, seed: int, size: int = 64, downscale: int = 2
) -> np.ndarray:
    """``n_crops`` seeded grayscale crops ``(n, size, size, 1)`` of ``texture`` from the rectangle of ``split``.

    The photograph is shrunk by ``downscale`` (block mean), and each crop
    lies wholly inside :data:`INSPECTION_REGIONS` ``[split]``.
    """
    if texture not in (*INSPECTION_TEXTURES, HELD_OUT_TEXTURE):
        raise ValueError(f"texture must be one of {(*INSPECTION_TEXTURES, HELD_OUT_TEXTURE)}; got {texture!r}")
    if split not in INSPECTION_REGIONS:
        raise ValueError(f"split must be one of {tuple(INSPECTION_REGIONS)}; got {split!r}")
    check_int("n_crops", n_crops, minimum=0)
    check_seed("seed", seed)
    check_int("size", size, minimum=8)
    check_int("downscale", downscale)
    photo = shrunk_photo(texture, downscale)
    tops, lefts = crop_positions(photo.shape, split, n_crops, seed, size)
    crops = np.stack([photo[t : t + size, x : x + size] for t, x in zip(tops, lefts, strict=True)]) if n_crops else []
    return np.asarray(crops, np.float32).reshape(n_crops, size, size, 1)


def shrunk_photo(texture: str, downscale: int = 2) -> np.ndarray:
    """The grayscale photograph of ``texture`` shrunk by ``downscale`` (block mean), ``(H, W)``."""
    photo = load_photo(texture, "grayscale")[..., 0]
    height, width = (s // downscale for s in photo.shape)
    return photo[: height * downscale, : width * downscale].reshape(height, downscale, width, downscale).mean((1, 3))


def crop_positions(
    shape: tuple[int, int], split: str, n_crops: int, seed: int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded top-left corners of ``n_crops`` crops of side ``size`` wholly inside ``split``'s rectangle."""
    height, width = shape
    (top, bottom), (left, right) = INSPECTION_REGIONS[split]
    first_row, last_row = int(top * height), int(bottom * height) - size
    first_col, last_col = int(left * width), int(right * width) - size
    if last_row < first_row or last_col < first_col:
        raise ValueError(
            f"the {split} rectangle of a {height}x{width} photograph (after shrinking) holds no {size}px crop; "
            "lower size or downscale"
        )
    rng = np.random.default_rng(seed)
    return rng.integers(first_row, last_row + 1, n_crops), rng.integers(first_col, last_col + 1, n_crops)


def _region(rng: np.random.Generator, height: int, width: int, scale: float) -> np.ndarray:
    """A soft irregular blob ``(H, W)`` in [0, 1]: smoothed noise thresholded inside a random ellipse."""
    cy, cx = rng.uniform(0.25, 0.75) * height, rng.uniform(0.25, 0.75) * width
    ry, rx = scale * rng.uniform(5, 12), scale * rng.uniform(5, 12)
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    dy, dx = yy - cy, xx - cx
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / rx
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / ry
    ellipse = 1.0 - np.hypot(u, v)
    field = ndimage.gaussian_filter(rng.standard_normal((height, width)).astype(np.float32), 2.5 * scale)
    field /= field.std() + 1e-8
    shape = ellipse + 0.25 * field
    return np.clip(shape / 0.15, 0.0, 1.0).astype(np.float32)  # soft edge about 15% of the radius wide


def _curve(rng: np.random.Generator, height: int, width: int, scale: float) -> tuple[np.ndarray, float]:
    """A quadratic Bézier curve's coverage ``(H, W)`` in [0, 1] (antialiased) and its width."""
    length = scale * rng.uniform(15, 40)
    cy, cx = rng.uniform(0.25, 0.75) * height, rng.uniform(0.25, 0.75) * width
    angle = rng.uniform(0, np.pi)
    start = np.array([cy - 0.5 * length * np.sin(angle), cx - 0.5 * length * np.cos(angle)])
    end = np.array([cy + 0.5 * length * np.sin(angle), cx + 0.5 * length * np.cos(angle)])
    bend = rng.uniform(-0.3, 0.3) * length * np.array([np.cos(angle), -np.sin(angle)])
    middle = 0.5 * (start + end) + bend
    t = np.linspace(0, 1, int(4 * length) + 2)[:, None]
    points = (1 - t) ** 2 * start + 2 * (1 - t) * t * middle + t**2 * end
    half_width = 0.5 * scale * rng.uniform(1.0, 2.0)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.full((height, width), np.inf, np.float32)
    for y, x in points:
        distance = np.minimum(distance, np.hypot(yy - y, xx - x))
    return np.clip(half_width + 0.5 - distance, 0.0, 1.0), half_width


def add_inspection_defects(
    images: np.ndarray, seed: int, kinds: tuple[str, ...] = INSPECTION_DEFECTS, normal_share: float = 0.25
) -> DefectSet:
    """Give ``1 - normal_share`` of the crops one defect each, kinds in equal shares (module docstring).

    Args:
        images: ``(N, H, W, 1)`` normal crops in [0, 1].
        seed: seeds which crop gets which defect, and the defects.
        kinds: defect kinds among :data:`INSPECTION_DEFECTS`.
        normal_share: the share of crops left normal (at least one).
    """
    images = check_images(images, "images")
    check_seed("seed", seed)
    if isinstance(kinds, str) or not kinds or len(set(kinds)) != len(kinds) or set(kinds) - set(INSPECTION_DEFECTS):
        raise ValueError(f"kinds must be distinct names from {INSPECTION_DEFECTS}; got {kinds!r}")
    if not 0 < normal_share < 1:
        raise ValueError(f"normal_share must be in (0, 1); got {normal_share!r}")
    n_images, height, width, _ = images.shape
    n_normal = max(1, int(round(normal_share * n_images)))
    if n_images - n_normal < len(kinds):
        raise ValueError(f"images must hold at least {n_normal + len(kinds)} crops for {len(kinds)} kinds")
    rng = np.random.default_rng(seed)
    assigned = np.full(n_images, NORMAL, dtype=object)
    order = rng.permutation(n_images)
    defective = order[n_normal:]
    assigned[defective] = [kinds[i % len(kinds)] for i in range(len(defective))]
    assigned = assigned.astype(str)
    scale = min(height, width) / 64
    foreign = [load_photo(name, "grayscale")[..., 0] for name in FOREIGN_PHOTOS]
    output, masks = images.copy(), np.zeros(images.shape[:3], bool)
    for index in np.flatnonzero(assigned != NORMAL):
        image = images[index, ..., 0]
        for _ in range(_MAX_TRIES):
            changed, alpha = _draw(str(assigned[index]), image, rng, scale, foreign)
            mask = alpha > 0.5
            if assigned[index] not in _WHOLE_REGION:
                mask &= np.abs(changed - image) > MIN_CHANGE
            if mask.sum() >= _MIN_PIXELS:
                break
        output[index, ..., 0], masks[index] = changed, mask
    return DefectSet(output, masks, assigned)


def _draw(
    kind: str, image: np.ndarray, rng: np.random.Generator, scale: float, foreign: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """One defect of ``kind`` on a ``(H, W)`` crop: the changed crop and the defect's soft coverage."""
    height, width = image.shape
    if kind == "scratch":
        alpha, _ = _curve(rng, height, width, scale)
        target = np.clip(image + rng.choice([-1.0, 1.0]) * rng.uniform(0.25, 0.5), 0.0, 1.0)
        return (1 - alpha) * image + alpha * target, alpha
    alpha = _region(rng, height, width, scale)
    if kind == "smudge":
        blurred = ndimage.gaussian_filter(image, scale * rng.uniform(2.0, 4.0), mode="reflect")
        target = blurred + rng.uniform(0.03, 0.1)
    elif kind == "stain":
        rim = np.clip(alpha * (1 - alpha) * 4, 0.0, 1.0)
        target = image * rng.uniform(0.45, 0.7) * (1 - 0.3 * rim)
    elif kind == "foreign":
        source = foreign[rng.integers(len(foreign))]
        side = int(round(rng.uniform(0.2, 0.5) * min(source.shape)))
        top, left = rng.integers(source.shape[0] - side + 1), rng.integers(source.shape[1] - side + 1)
        zoom = (height / side, width / side)
        target = ndimage.zoom(source[top : top + side, left : left + side], zoom, order=1)[:height, :width]
    elif kind == "missing":
        cavity = rng.uniform(0.03, 0.15) + 0.02 * rng.standard_normal(image.shape)
        edge = np.clip(alpha * (1 - alpha) * 4, 0.0, 1.0)
        target = cavity + edge * rng.uniform(0.3, 0.6)
        alpha = np.clip(alpha * 1.5, 0.0, 1.0)  # a hole has a harder edge than a stain
    elif kind == "colour":
        gamma = rng.uniform(0.4, 0.6) if rng.random() < 0.5 else rng.uniform(1.8, 2.6)
        target = np.power(np.clip(image, 1e-4, 1.0), gamma)
    else:  # pragma: no cover - kinds are checked by the caller
        raise ValueError(f"unknown defect kind {kind!r}")
    changed = (1 - alpha) * image + alpha * np.clip(target, 0.0, 1.0)
    return changed.astype(np.float32), alpha
