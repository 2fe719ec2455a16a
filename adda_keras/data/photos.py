"""Real photographs that ship inside installed packages, split so that test photographs are never seen.

The real-image benchmarks (:mod:`adda_keras.experiments.real_images`) need
natural clutter and real textures without any download. scikit-image's
``data`` module and scikit-learn's sample images bundle a few dozen
photographs; this module names them (:data:`PHOTOS`), loads them as float32
``(H, W, C)`` arrays in ``[0, 1]`` (:func:`load_photo`), cuts seeded crops
at random positions and scales (:func:`photo_crops`) and composites digits
over crops (:func:`digits_on_photos`).

The photographs are divided once, here, into three disjoint groups
(:data:`PHOTO_SPLITS`): training images are drawn over ``"train"``
photographs, every choice (settings, β, thresholds) is made on
``"validation"`` photographs, and the test images of the benchmark lie over
``"test"`` photographs that no training step and no choice ever saw. A test
(``tests/test_real_images.py``) checks that the groups share no photograph
and no pixel content.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from adda_keras.data.pipeline import check_images
from adda_keras.validation import check_int, check_number, check_seed

__all__ = [
    "PHOTOS",
    "PHOTO_SPLITS",
    "digits_on_photos",
    "load_photo",
    "photo_crops",
]


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        try:
            from skimage import data as skimage_data
        except ImportError as error:  # pragma: no cover - scikit-image is a dependency
            raise ImportError("the real-image benchmarks need scikit-image: pip install scikit-image") from error
        image = getattr(skimage_data, name)()
        return image[0] if isinstance(image, tuple) else image

    return load


def _sklearn(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(name)

    return load


#: every photograph the benchmarks use: name -> (loader, what it shows)
PHOTOS: dict[str, tuple[Callable[[], np.ndarray], str]] = {
    "astronaut": (_skimage("astronaut"), "portrait of an astronaut, flag and spacecraft (RGB)"),
    "camera": (_skimage("camera"), "cameraman on a lawn, buildings behind (gray)"),
    "coffee": (_skimage("coffee"), "a cup of coffee on a table (RGB)"),
    "coins": (_skimage("coins"), "coins on a plain background (gray)"),
    "rocket": (_skimage("rocket"), "a rocket on its launch pad (RGB)"),
    "motorcycle": (_skimage("stereo_motorcycle"), "a motorcycle in a workshop (RGB)"),
    "clock": (_skimage("clock"), "a clock on a patterned wall, motion-blurred (gray)"),
    "cell": (_skimage("cell"), "a cell under a microscope (gray)"),
    "chelsea": (_skimage("chelsea"), "a cat on a wooden floor (RGB)"),
    "hubble": (_skimage("hubble_deep_field"), "galaxies of the Hubble deep field (RGB)"),
    "retina": (_skimage("retina"), "a human retina (RGB)"),
    "china": (_sklearn("china.jpg"), "a temple in a landscape (RGB, scikit-learn)"),
    "flower": (_sklearn("flower.jpg"), "a flower among leaves (RGB, scikit-learn)"),
    "moon": (_skimage("moon"), "the surface of the moon (gray)"),
    "brick": (_skimage("brick"), "a brick wall (gray texture)"),
    "grass": (_skimage("grass"), "grass (gray texture)"),
    "gravel": (_skimage("gravel"), "gravel (gray texture)"),
    "tissue": (_skimage("immunohistochemistry"), "stained tissue under a microscope (RGB texture)"),
}

#: disjoint photograph groups of the digits-on-photographs benchmark: backgrounds of training images,
#: of validation images (every choice), and of test images (never seen by training or by any choice)
PHOTO_SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("astronaut", "camera", "coffee", "coins", "rocket", "clock", "cell"),
    "validation": ("chelsea", "hubble", "retina"),
    "test": ("china", "flower", "motorcycle"),
}


@functools.lru_cache(maxsize=32)
def _load_photo_cached(name: str, color: str) -> np.ndarray:
    raw = np.asarray(PHOTOS[name][0]())
    if raw.dtype == bool:
        raw = raw.astype(np.uint8) * 255
    photo = raw.astype(np.float32)
    photo /= 255.0 if raw.dtype == np.uint8 else max(float(photo.max()), 1.0)
    if photo.ndim == 2:
        photo = photo[..., None]
    photo = photo[..., :3]  # drop an alpha channel
    if color == "grayscale" and photo.shape[-1] == 3:
        photo = (photo @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
    elif color == "rgb" and photo.shape[-1] == 1:
        photo = np.repeat(photo, 3, axis=-1)
    photo = np.clip(photo, 0.0, 1.0)
    photo.setflags(write=False)
    return photo


def load_photo(name: str, color: str = "grayscale") -> np.ndarray:
    """One bundled photograph as float32 ``(H, W, C)`` in ``[0, 1]`` (C = 1 for grayscale, 3 for RGB).

    Gray photographs are repeated into three channels for ``"rgb"``; colour
    ones are converted with the ITU-R 601 luma weights for ``"grayscale"``.
    The array is cached and read-only.
    """
    if name not in PHOTOS:
        raise ValueError(f"photo must be one of {sorted(PHOTOS)}; got {name!r}")
    if color not in ("grayscale", "rgb"):
        raise ValueError(f"color must be 'grayscale' or 'rgb'; got {color!r}")
    return _load_photo_cached(name, color)


def photo_crops(
    names: Sequence[str],
    n_crops: int,
    size: int,
    seed: int,
    color: str = "grayscale",
    zoom: tuple[float, float] = (0.1, 0.3),
) -> np.ndarray:
    """``n_crops`` seeded square crops of the photographs ``names``, resized to ``size``: ``(n, size, size, C)``.

    Each crop picks a photograph uniformly, a side of ``zoom`` (a uniform
    fraction of the photograph's shorter side, so the clutter appears at
    several scales), and a uniform position; it is resized with an
    antialiasing filter.
    """
    if isinstance(names, str) or not names or any(n not in PHOTOS for n in names):
        raise ValueError(f"names must be a non-empty list of photos from {sorted(PHOTOS)}; got {names!r}")
    check_int("n_crops", n_crops, minimum=0)
    check_int("size", size, minimum=2)
    check_seed("seed", seed)
    if not (len(zoom) == 2 and 0 < zoom[0] <= zoom[1] <= 1):
        raise ValueError(f"zoom must be (low, high) fractions with 0 < low <= high <= 1; got {zoom!r}")
    photos = [load_photo(name, color) for name in names]
    rng = np.random.default_rng(seed)
    crops = np.empty((n_crops, size, size, photos[0].shape[-1]), np.float32)
    for index in range(n_crops):
        photo = photos[rng.integers(len(photos))]
        height, width = photo.shape[:2]
        side = max(2, int(round(rng.uniform(*zoom) * min(height, width))))
        top, left = rng.integers(height - side + 1), rng.integers(width - side + 1)
        crops[index] = _resize(photo[top : top + side, left : left + side], size)
    return crops


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    """``(h, w, C)`` in [0, 1] -> ``(size, size, C)``, one channel at a time with a Lanczos filter."""
    channels = [
        np.asarray(Image.fromarray(image[..., c]).resize((size, size), Image.Resampling.LANCZOS))
        for c in range(image.shape[-1])
    ]
    return np.clip(np.stack(channels, axis=-1), 0.0, 1.0)


def digits_on_photos(
    digits: np.ndarray, backgrounds: np.ndarray, background_level: float = 0.6, ink: float = 1.0
) -> np.ndarray:
    """Composite white digit strokes over photographs: ``(1 - d)·level·b + d·ink``.

    ``digits`` ``(N, H, W, 1)`` are MNIST-like strokes in [0, 1] (their
    intensity ``d`` is the stroke's opacity); ``backgrounds`` ``(N, H, W, C)``
    photo crops of the same size, dimmed to ``background_level`` so the
    stroke stays visible over a bright sky. The result has the backgrounds'
    channels.
    """
    digits = check_images(digits, "digits")
    backgrounds = check_images(backgrounds, "backgrounds")
    if digits.shape[-1] != 1:
        raise ValueError(f"digits must have one channel; got shape {digits.shape}")
    if digits.shape[:3] != backgrounds.shape[:3]:
        raise ValueError(
            f"backgrounds must match digits in number and size {digits.shape[:3]}; got {backgrounds.shape[:3]}"
        )
    check_number("background_level", background_level, 0.0, 1.0)
    check_number("ink", ink, 0.0, 1.0)
    return ((1.0 - digits) * background_level * backgrounds + digits * ink).astype(np.float32)
