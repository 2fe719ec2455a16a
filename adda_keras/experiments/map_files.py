"""Anomaly maps as files: the map as data (``.npy`` at the input's own size) and an overlay picture drawn with Pillow.

``adda-keras score --maps DIR`` writes each image's map as a float32 ``.npy``
array, resized (bilinearly) from the model's input size back to the size of
the image file, so that pixel ``(i, j)`` of the map belongs to pixel
``(i, j)`` of the file: ready for pixel-level work in any tool.
``--overlays DIR`` writes a picture per image: the input, its heat map over
it, and the outline of the pixels above the map level that normal
validation images reach (``map_scale``, see
:data:`~adda_keras.detectors.base.MAP_SCALE_QUANTILE`), under a line with
the verdict and the score. Both are drawn with NumPy and Pillow, a few
milliseconds an image, instead of a Matplotlib figure per image (tens of
milliseconds).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

__all__ = ["HEAT_COLOURS", "heat_colours", "map_at_size", "outline", "overlay_picture", "write_map"]

#: the heat map's colour ramp, low to high: black, purple, red, orange, yellow
HEAT_COLOURS = np.array([[0, 0, 0], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float32)
#: the outline's colour (cyan: visible over both the gray input and the heat ramp)
OUTLINE_COLOUR = (0, 255, 255)
#: overlays are drawn at least this many pixels high (small inputs are enlarged, pixel for pixel)
MIN_PANEL_SIDE = 128
_TEXT_HEIGHT = 14


def map_at_size(anomaly_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``anomaly_map`` ``(h, w)`` resized bilinearly to ``size`` ``(height, width)``, float32 (unchanged if equal)."""
    anomaly_map = np.asarray(anomaly_map, dtype=np.float32)
    if anomaly_map.shape == tuple(size):
        return anomaly_map
    height, width = size
    resized = Image.fromarray(anomaly_map, mode="F").resize((width, height), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.float32)


def write_map(path: str | os.PathLike[str], anomaly_map: np.ndarray) -> None:
    """Save one map as a float32 ``.npy`` array (``numpy.load`` reads it back)."""
    np.save(Path(path), np.asarray(anomaly_map, dtype=np.float32), allow_pickle=False)


def heat_colours(values: np.ndarray) -> np.ndarray:
    """Values in ``[0, 1]`` (clipped) as ``uint8`` RGB along :data:`HEAT_COLOURS`."""
    positions = np.clip(values, 0.0, 1.0) * (len(HEAT_COLOURS) - 1)
    anchors = np.arange(len(HEAT_COLOURS))
    channels = [np.interp(positions, anchors, HEAT_COLOURS[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def outline(mask: np.ndarray) -> np.ndarray:
    """The boundary pixels of a boolean mask: set pixels with an unset 4-neighbour (or on the image edge)."""
    padded = np.pad(mask, 1, constant_values=False)
    interior = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~interior


def overlay_picture(
    image: np.ndarray,
    anomaly_map: np.ndarray,
    scale: float | None,
    caption: str,
    level: float | None = None,
) -> Image.Image:
    """Three panels, input | heat map over the input | outline of ``map > level`` on the input, with a caption.

    Args:
        image: ``(H, W, C)`` floats in ``[0, 1]`` (C = 1 or 3), as the model read it.
        anomaly_map: ``(H, W)`` map of the same image.
        scale: the map value drawn as the top colour (higher values saturate); ``None``: the map's own maximum.
        caption: the line above the panels (verdict, score).
        level: the map value whose outline is drawn; ``None``: no outline.
    """
    gray = image[..., 0] if image.shape[-1] == 1 else image.mean(axis=-1)
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    base = np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    top = scale if scale else max(float(np.max(anomaly_map)), 1e-12)
    heat = heat_colours(np.asarray(anomaly_map) / top)
    weight = np.clip(np.asarray(anomaly_map) / top, 0.25, 0.85)[..., None]
    blended = np.round(heat * weight + np.round(gray * 255)[..., None] * (1 - weight)).astype(np.uint8)
    contoured = base.copy()
    if level is not None:
        contoured[outline(np.asarray(anomaly_map) > level)] = OUTLINE_COLOUR
    height, width = gray.shape
    zoom = max(1, -(-MIN_PANEL_SIDE // height))
    panels = [Image.fromarray(p).resize((width * zoom, height * zoom), Image.Resampling.NEAREST)
              for p in (base, blended, contoured)]  # fmt: skip
    gap = 4
    picture = Image.new("RGB", (3 * width * zoom + 2 * gap, height * zoom + _TEXT_HEIGHT), (255, 255, 255))
    for index, panel in enumerate(panels):
        picture.paste(panel, (index * (width * zoom + gap), _TEXT_HEIGHT))
    ImageDraw.Draw(picture).text((2, 1), caption, fill=(0, 0, 0))
    return picture
