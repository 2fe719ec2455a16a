"""Folders of a user's own images, read into the library's array convention.

This is how the paper's other datasets (hand gestures, pigeons, Venus), which
are not redistributable, or any new data set, enter the library: one folder of
normal images and, optionally, one folder of anomalies.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
from PIL import Image

logger = logging.getLogger(__name__)

__all__ = [
    "COLOR_MODES",
    "IMAGE_EXTENSIONS",
    "load_folder_dataset",
    "load_image_folder",
]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff")
"""File extensions read by :func:`load_image_folder` (matched case-insensitively)."""

COLOR_MODES = {"grayscale": "L", "rgb": "RGB"}
"""Valid ``color_mode`` values and the Pillow mode each converts to."""


def load_image_folder(
    directory: str | os.PathLike[str],
    image_size: tuple[int, int] = (28, 28),
    color_mode: str = "grayscale",
) -> np.ndarray:
    """Read every image in ``directory`` as float32 ``(N, H, W, C)`` in ``[0, 1]``.

    ``image_size`` is ``(height, width)``; images of another size are resized
    bilinearly. ``color_mode`` is ``"grayscale"`` (C = 1) or ``"rgb"`` (C = 3).
    Only the folder's own files are read (not sub-folders), in file-name
    order so that results are reproducible; hidden files are ignored and files
    with other extensions skipped. A file that cannot be decoded raises
    ``ValueError`` naming it rather than being dropped silently.
    """
    size = _check_options(image_size, color_mode)
    return _read_folder(directory, "directory", size, color_mode)


def load_folder_dataset(
    normal_dir: str | os.PathLike[str],
    anomaly_dir: str | os.PathLike[str] | None = None,
    image_size: tuple[int, int] = (28, 28),
    color_mode: str = "grayscale",
) -> tuple[np.ndarray, np.ndarray]:
    """Read a folder of normal images and an optional folder of anomalies.

    Returns ``(images, labels)`` as :func:`load_image_folder` reads them, with
    int64 labels 0 for every image of ``normal_dir`` and 1 for every image of
    ``anomaly_dir``, so the result feeds the protocol directly as
    ``one_class_split(images, labels, normal_class=0)``.

    Split semantics: every image in ``normal_dir`` is a normal image that the
    protocol may put into train, validation or test. Images in
    ``anomaly_dir`` are only ever test images: no model trains or calibrates
    on them, except when ``semi_supervised_split(..., known_anomaly_class=1)``
    draws some of them as known anomalies, and those are then removed from the
    test set. The protocol needs anomalies in the test set, so without
    ``anomaly_dir`` the result is only fit for training or scoring, not for an
    evaluated split.
    """
    size = _check_options(image_size, color_mode)
    normal = _read_folder(normal_dir, "normal_dir", size, color_mode)
    parts, labels = [normal], [np.zeros(len(normal), dtype=np.int64)]
    if anomaly_dir is not None:
        anomalies = _read_folder(anomaly_dir, "anomaly_dir", size, color_mode)
        parts.append(anomalies)
        labels.append(np.ones(len(anomalies), dtype=np.int64))
    return np.concatenate(parts), np.concatenate(labels)


def _check_options(image_size: tuple[int, int], color_mode: str) -> tuple[int, int]:
    """Validate the reading options; return ``image_size`` as ``(height, width)``."""
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(COLOR_MODES)}; got {color_mode!r}")
    message = f"image_size must be a pair of positive ints (height, width); got {image_size!r}"
    try:
        height, width = image_size
    except (TypeError, ValueError):
        raise ValueError(message) from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(message)
    return int(height), int(width)


def _read_folder(
    directory: str | os.PathLike[str],
    name: str,
    size: tuple[int, int],
    color_mode: str,
) -> np.ndarray:
    """Read the images of one folder; ``name`` is the argument named in errors."""
    height, width = size
    files = _image_files(directory, name)
    channels = 3 if color_mode == "rgb" else 1
    images = np.empty((len(files), height, width, channels), dtype=np.float32)
    for index, path in enumerate(files):
        try:
            with Image.open(path) as opened:
                image = opened.convert(COLOR_MODES[color_mode])
            if image.size != (width, height):
                image = image.resize((width, height), Image.Resampling.BILINEAR)
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise ValueError(f"cannot read image file {path}: {error}") from error
        pixels = np.asarray(image, dtype=np.float32)
        images[index] = pixels.reshape(height, width, channels) / np.float32(255.0)
    logger.info(
        "Read %d images (%dx%d, %s) from %s",
        len(files),
        height,
        width,
        color_mode,
        directory,
    )
    return images


def _image_files(directory: str | os.PathLike[str], name: str) -> list[Path]:
    """The supported, non-hidden image files directly inside ``directory``, by name."""
    folder = Path(directory).expanduser()
    if not folder.exists():
        raise FileNotFoundError(f"{name} must be an existing folder of images; {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{name} must be a folder of images; {folder} is not a folder")
    files = []
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            files.append(path)
        else:
            logger.debug("Skipping %s: extension not in %s", path, IMAGE_EXTENSIONS)
    if not files:
        raise ValueError(f"{name} {folder} holds no image file with a supported extension {IMAGE_EXTENSIONS}")
    return files
