"""Folders of a user's own images, read into the library's array convention.

This is how the paper's other datasets (hand gestures, pigeons, Venus), which
are not redistributable, or any new data set, enter the library: one folder of
normal images and, optionally, one folder of anomalies.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from adda_keras.options import MAX_IMAGE_SIDE
from adda_keras.validation import check_number

logger = logging.getLogger(__name__)

__all__ = [
    "COLOR_MODES",
    "DEFAULT_COLOR_MODE",
    "DEFAULT_IMAGE_SIZE",
    "IMAGE_EXTENSIONS",
    "MAX_IMAGE_SIDE",
    "ImageFormat",
    "UnreadableImage",
    "file_digest",
    "pixel_digest",
    "find_image_files",
    "image_format",
    "load_folder_dataset",
    "load_image_files",
    "load_image_folder",
    "read_image_files",
]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff")
"""File extensions read by :func:`load_image_folder` (matched case-insensitively)."""

COLOR_MODES = {"grayscale": "L", "rgb": "RGB"}
"""Valid ``color_mode`` values and the Pillow mode each converts to."""

DEFAULT_IMAGE_SIZE = (64, 64)
"""``(height, width)`` images are read at when neither the caller nor the data fixes it (the files' sizes differ)."""

DEFAULT_COLOR_MODE = "grayscale"
"""The colour mode of a folder without any colour image; a folder with one is read as ``"rgb"``."""

# Pillow modes without colour (1-bit, 8-bit, 16/32-bit integer, float, with or without alpha).
_GRAY_MODES = ("1", "L", "LA", "La", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
# Pillow modes of 16-bit single-channel images, scaled by 65535.
_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
_TIFF_BITS_PER_SAMPLE = 258
# A range of values below this is a constant image (under 1/4 of an 8-bit step).
_CONSTANT = 1e-3


def load_image_folder(
    directory: str | os.PathLike[str],
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    background: float = 0.0,
) -> np.ndarray:
    """Read every image in ``directory`` as float32 ``(N, H, W, C)`` in ``[0, 1]``.

    ``image_size`` is ``(height, width)``; images of another size are resized
    bilinearly. ``color_mode`` is ``"grayscale"`` (C = 1) or ``"rgb"`` (C = 3).
    Only the folder's own files are read (not sub-folders), in file-name
    order so that results are reproducible; hidden files are ignored and files
    with other extensions skipped. A file that cannot be decoded raises
    ``ValueError`` naming it rather than being dropped silently.

    Values are scaled by each file's real depth: 8-bit images by 255, 16-bit
    ones (PNG, TIFF) by 65535; floating-point images (TIFF) must already lie
    in ``[0, 1]`` and are kept as they are. Transparent images (an alpha
    channel or a palette transparency) are composited over a uniform
    ``background`` gray level (0 = black, the default, the background of
    MNIST-like images; 1 = white). An image whose content lies only in its
    alpha channel (e.g. black strokes on transparency) would come out
    constant over a black background, so it raises ``ValueError`` that
    suggests ``background=1.0``.

    Without ``image_size`` or ``color_mode``, the files decide
    (:func:`image_format`): their own size when it is the same for all,
    else :data:`DEFAULT_IMAGE_SIZE`; ``"rgb"`` when any file is in colour.
    """
    _check_given(image_size, color_mode, background)
    chosen = image_format(_image_files(directory, "directory"), image_size, color_mode)
    size = _check_options(chosen.size, chosen.color, background)
    return _read_folder(directory, "directory", size, chosen.color, background)


def load_folder_dataset(
    normal_dir: str | os.PathLike[str],
    anomaly_dir: str | os.PathLike[str] | None = None,
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    background: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Read a folder of normal images and an optional folder of anomalies.

    Returns ``(images, labels)`` as :func:`load_image_folder` reads them
    (same ``image_size``, ``color_mode`` and ``background``), with
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

    Without ``image_size`` or ``color_mode``, both folders' files decide, by
    the rule that ``adda-keras fit`` follows too (:func:`image_format`):
    their own size when every file has the same one, else
    :data:`DEFAULT_IMAGE_SIZE`; ``"rgb"`` when any file is in colour, else
    grayscale. The choice is logged.
    """
    _check_given(image_size, color_mode, background)
    files = _image_files(normal_dir, "normal_dir")
    if anomaly_dir is not None:
        files = files + _image_files(anomaly_dir, "anomaly_dir")
    chosen = image_format(files, image_size, color_mode)
    logger.info("Reading %s", chosen.describe())
    image_size, color_mode = chosen.size, chosen.color
    size = _check_options(image_size, color_mode, background)
    normal = _read_folder(normal_dir, "normal_dir", size, color_mode, background)
    parts, labels = [normal], [np.zeros(len(normal), dtype=np.int64)]
    if anomaly_dir is not None:
        anomalies = _read_folder(anomaly_dir, "anomaly_dir", size, color_mode, background)
        parts.append(anomalies)
        labels.append(np.ones(len(anomalies), dtype=np.int64))
    return np.concatenate(parts), np.concatenate(labels)


def find_image_files(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The image files that ``paths`` name: files as given, folders searched recursively.

    Inside a folder, files with an extension in :data:`IMAGE_EXTENSIONS` are
    taken, in path order, skipping hidden files and folders; a file named
    directly must have such an extension. A path that does not exist, a
    named file of another type, or a folder without images raises
    ``ValueError`` naming it, and so does a file reached twice.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: list[Path] = []
    for given in paths:
        path = Path(given).expanduser()
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in IMAGE_EXTENSIONS
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not inside:
                raise ValueError(f"the folder {path} holds no image file with an extension in {IMAGE_EXTENSIONS}")
            found += inside
        elif path.is_file():
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                raise ValueError(f"{path} is not an image file: its extension is not in {IMAGE_EXTENSIONS}")
            found.append(path)
        else:
            raise ValueError(f"no such file or folder: {path}")
    resolved = [p.resolve() for p in found]
    if len(set(resolved)) != len(resolved):
        twice = sorted({str(p) for p in resolved if resolved.count(p) > 1})
        raise ValueError(f"these images are named more than once (overlapping paths): {twice[:3]}")
    return found


def load_image_files(
    files: Sequence[str | os.PathLike[str]],
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
    background: float = 0.0,
) -> np.ndarray:
    """Read the image ``files``, in the given order, exactly as :func:`load_image_folder` reads a folder's files.

    ``(N, H, W, C)`` float32 in ``[0, 1]``; see :func:`load_image_folder` for
    ``image_size``, ``color_mode`` (unset: :func:`image_format` decides) and
    ``background``. A file that cannot be decoded raises ``ValueError`` naming it.
    """
    _check_given(image_size, color_mode, background)
    files = [Path(f) for f in files]
    if not files:
        raise ValueError("files must name at least one image file")
    chosen = image_format(files, image_size, color_mode)
    size = _check_options(chosen.size, chosen.color, background)
    return _read_files(files, size, chosen.color, background)


@dataclass(frozen=True)
class UnreadableImage:
    """A file that :func:`read_image_files` skipped, and why."""

    path: Path
    reason: str


def read_image_files(
    files: Sequence[str | os.PathLike[str]],
    image_size: tuple[int, int],
    color_mode: str,
    background: float = 0.0,
) -> tuple[np.ndarray, list[Path], list[UnreadableImage]]:
    """Read ``files`` like :func:`load_image_files`, but skip those that cannot be decoded instead of failing.

    For scoring thousands of files where one broken file must not stop the
    rest (``adda-keras score --skip-unreadable``). Returns the images of the
    readable files, those files (in the given order) and every skipped file
    with the reason; the images array has zero rows when none was readable.
    """
    size = _check_options(image_size, color_mode, background)
    height, width = size
    channels = 3 if color_mode == "rgb" else 1
    images = np.empty((len(files), height, width, channels), dtype=np.float32)
    kept: list[Path] = []
    skipped: list[UnreadableImage] = []
    for given in files:
        path = Path(given)
        try:
            images[len(kept)] = _read_one(path, size, color_mode, background)
        except ValueError as error:
            skipped.append(UnreadableImage(path, str(error)))
            continue
        kept.append(path)
    return images[: len(kept)], kept, skipped


@dataclass(frozen=True)
class ImageFormat:
    """The size and colour mode a set of image files is read at, and whether the files or defaults decided."""

    size: tuple[int, int]
    color: str
    #: why this size: ``"given"``, ``"uniform"`` (every file has it) or ``"default"`` (sizes differ)
    size_source: str
    #: why this colour mode: ``"given"``, ``"files"`` (the files' modes) or ``"default"``
    color_source: str
    #: the smallest and largest ``(height, width)`` among the files (``None`` when not looked at)
    size_range: tuple[tuple[int, int], tuple[int, int]] | None = None

    def describe(self) -> str:
        """The choice in words, e.g. ``"64x64 (every file's own size) grayscale (no file is in colour)"``."""
        height, width = self.size
        why_size = {
            "given": "as given",
            "uniform": "every file's own size",
            "default": "the default: the files' sizes differ"
            + (
                ""
                if self.size_range is None
                else f", from {self.size_range[0][0]}x{self.size_range[0][1]} "
                f"to {self.size_range[1][0]}x{self.size_range[1][1]}"
            ),
        }[self.size_source]
        why_color = {
            "given": "as given",
            "files": "some files are in colour" if self.color == "rgb" else "no file is in colour",
            "default": "the default",
        }[self.color_source]
        return f"{height}x{width} ({why_size}), {self.color} ({why_color})"


def image_format(
    files: Sequence[str | os.PathLike[str]],
    image_size: tuple[int, int] | None = None,
    color_mode: str | None = None,
) -> ImageFormat:
    """The size and colour mode to read ``files`` at: as given, else what the files themselves say.

    The one rule behind every reader's defaults (the folder readers of this
    module and ``adda-keras fit``): an unset ``image_size`` becomes the
    files' own ``(height, width)`` when all of them share it, else
    :data:`DEFAULT_IMAGE_SIZE`; an unset ``color_mode`` becomes ``"rgb"``
    when any file is stored in colour, else :data:`DEFAULT_COLOR_MODE`. Only
    the files' headers are read. A shared size with a side above
    :data:`MAX_IMAGE_SIDE` raises ``ValueError`` (give ``image_size``), and
    so does a file whose header cannot be read.
    """
    if image_size is not None and color_mode is not None:
        return ImageFormat(image_size, color_mode, "given", "given")
    sizes, colour = set(), False
    for given in files:
        try:
            with Image.open(given) as opened:
                sizes.add((opened.height, opened.width))
                colour = colour or opened.mode not in _GRAY_MODES
        except (OSError, ValueError, Image.DecompressionBombError) as error:
            raise ValueError(f"cannot read image file {given}: {error}") from error
    if color_mode is not None:
        color, color_source = color_mode, "given"
    else:
        color, color_source = ("rgb" if colour else DEFAULT_COLOR_MODE), "files"
    size_range = (min(sizes), max(sizes)) if sizes else None
    if image_size is not None:
        return ImageFormat(image_size, color, "given", color_source, size_range)
    if len(sizes) == 1:
        (size,) = sizes
        if max(size) > MAX_IMAGE_SIDE:
            raise ValueError(
                f"the images are {size[0]}x{size[1]} pixels, larger than the {MAX_IMAGE_SIDE} pixels per side "
                "read by default: give an image size (e.g. --image-size 256) to resize them"
            )
        return ImageFormat(size, color, "uniform", color_source, size_range)
    return ImageFormat(DEFAULT_IMAGE_SIZE, color, "default", color_source, size_range)


def file_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes: equal files have equal digests, whatever their names or folders."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pixel_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of an image's decoded pixels as 8-bit RGB (with its size): the same picture, whatever the file.

    A PNG re-saved as BMP or TIFF, or a grayscale image re-saved as RGB, has
    other bytes but the same pixels, and so the same digest (a lossy
    re-encoding such as JPEG changes the pixels and is not caught). A file
    that cannot be decoded falls back to :func:`file_digest` of its bytes.
    """
    try:
        with Image.open(path) as opened:
            rgb = np.asarray(opened.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, Image.DecompressionBombError):
        return "bytes:" + file_digest(path)
    digest = hashlib.sha256(f"{rgb.shape[0]}x{rgb.shape[1]}:".encode())
    digest.update(np.ascontiguousarray(rgb).tobytes())
    return "pixels:" + digest.hexdigest()


def _check_given(image_size: tuple[int, int] | None, color_mode: str | None, background: float) -> None:
    """Check the reading options that were given (``None``: the files decide later), before any file is opened."""
    _check_options(
        (1, 1) if image_size is None else image_size,
        DEFAULT_COLOR_MODE if color_mode is None else color_mode,
        background,
    )


def _check_options(image_size: tuple[int, int], color_mode: str, background: float) -> tuple[int, int]:
    """Validate the reading options; return ``image_size`` as ``(height, width)``."""
    check_number("background", background, 0.0, 1.0)
    if color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {tuple(COLOR_MODES)}; got {color_mode!r}")
    message = f"image_size must be a pair of ints in [1, {MAX_IMAGE_SIDE}] (height, width); got {image_size!r}"
    try:
        height, width = image_size
    except (TypeError, ValueError):
        raise ValueError(message) from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= MAX_IMAGE_SIDE:
            raise ValueError(message)
    return int(height), int(width)


def _read_folder(
    directory: str | os.PathLike[str],
    name: str,
    size: tuple[int, int],
    color_mode: str,
    background: float,
) -> np.ndarray:
    """Read the images of one folder; ``name`` is the argument named in errors."""
    images = _read_files(_image_files(directory, name), size, color_mode, background)
    logger.info("Read %d images (%dx%d, %s) from %s", len(images), *size, color_mode, directory)
    return images


def _read_files(files: list[Path], size: tuple[int, int], color_mode: str, background: float) -> np.ndarray:
    """Decode, composite and resize ``files`` into one float32 array."""
    height, width = size
    channels = 3 if color_mode == "rgb" else 1
    images = np.empty((len(files), height, width, channels), dtype=np.float32)
    for index, path in enumerate(files):
        images[index] = _read_one(path, size, color_mode, background)
    return images


def _read_one(path: Path, size: tuple[int, int], color_mode: str, background: float) -> np.ndarray:
    """Decode and resize one file; ``ValueError`` naming it when it cannot be decoded."""
    try:
        with Image.open(path) as opened:
            pixels = _decode(opened, color_mode, background)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"cannot read image file {path}: {error}") from error
    return _resize(pixels, *size)


def _decode(image: Image.Image, color_mode: str, background: float) -> np.ndarray:
    """One opened image as float32 ``(h, w, C)`` in ``[0, 1]``, scaled by its real depth and mode."""
    channels = 3 if color_mode == "rgb" else 1
    if image.mode in _SIXTEEN_BIT_MODES or (image.mode == "I" and _bits_per_sample(image) == 16):
        gray = np.asarray(image).astype(np.float32) / np.float32(65535.0)
        return np.repeat(gray[..., np.newaxis], channels, axis=-1)
    if image.mode == "F":
        gray = np.asarray(image, dtype=np.float32)
        low, high = (float(gray.min()), float(gray.max())) if np.isfinite(gray).all() else (np.nan, np.nan)
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(
                f"a floating-point image must hold finite values in [0, 1]; got range [{low:g}, {high:g}] "
                "(rescale it, or save it as 8- or 16-bit)"
            )
        return np.repeat(gray[..., np.newaxis], channels, axis=-1)
    if image.mode.startswith("I"):
        raise ValueError(
            f"{image.mode!r} images ({_bits_per_sample(image) or 32}-bit integers) have no defined white level; "
            "save them as 8- or 16-bit, or as floating point in [0, 1]"
        )
    transparent = image.mode in ("LA", "La", "PA", "RGBA", "RGBa") or "transparency" in image.info
    target = COLOR_MODES[color_mode] + ("A" if transparent else "")
    if image.mode == "P" or image.mode == "PA":
        image = image.convert("RGBA" if transparent else "RGB")  # palette: resolve the colours first
    pixels = np.asarray(image.convert(target), dtype=np.float32) / np.float32(255.0)
    pixels = pixels.reshape(*pixels.shape[:2], -1)
    if not transparent:
        return pixels
    colour, alpha = pixels[..., :channels], pixels[..., channels:]
    composited = colour * alpha + np.float32(background) * (1.0 - alpha)
    if np.ptp(composited) < _CONSTANT and np.ptp(alpha) >= _CONSTANT:
        raise ValueError(
            f"its content is in the alpha channel only: composited over the background gray level {background:g} "
            "it is a constant image; pass background=1.0 (white) or another level that contrasts with it"
        )
    return composited


def _bits_per_sample(image: Image.Image) -> int | None:
    """Bits per sample of an integer image: 16 for a PNG in mode ``I``, the TIFF tag otherwise (if any)."""
    if image.format == "PNG":
        return 16  # PNG holds at most 16 bits per sample; older Pillow reads 16-bit PNG as mode "I"
    bits = getattr(image, "tag_v2", {}).get(_TIFF_BITS_PER_SAMPLE)
    if isinstance(bits, tuple):
        bits = bits[0]
    return int(bits) if bits else None


def _resize(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Bilinear resize of float ``(h, w, C)`` pixels to ``(height, width, C)``, channel by channel, in float."""
    if pixels.shape[:2] == (height, width):
        return pixels
    channels = [
        Image.fromarray(np.ascontiguousarray(pixels[..., c])).resize((width, height), Image.Resampling.BILINEAR)
        for c in range(pixels.shape[-1])
    ]
    return np.clip(np.stack([np.asarray(c) for c in channels], axis=-1), 0.0, 1.0)


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
