"""A folder data set of texture photos with generated defects: the "your own images" example.

It ships offline: the photos are scikit-image's bundled ``brick``, ``grass``
and ``gravel`` (512x512 grayscale). :func:`write_texture_folders` writes
ordinary PNG folders in the layout of MVTec AD, which users of anomalib
know::

    train/good/             normal crops of the photo's top half (fit trains on them)
    validation/good/        normal crops of its bottom half (fit sets the threshold on them)
    validation/defects/     with n_val_defects: defective crops of the bottom half, labelled
                            validation anomalies (fit --known-anomaly: ADA chooses β on them)
    test/good/              other normal crops of the bottom half
    test/<kind>/            crops with one defect each: scratch, stain, patch
    ground_truth/<kind>/    <name>_mask.png, white on the defect's pixels

Normal images are crops of one texture; anomalies are crops of the same
texture with a generated defect (a scratch, a stain, or a patch of another
texture). Crops and defects come from :func:`adda_keras.data.defects.texture_crops`
and :func:`adda_keras.data.defects.add_texture_defects`. Training crops
come from the top half of the photo, validation and test crops (at other
positions) from the bottom half, so no validation or test pixel was seen in
training and validation images are as new to the model as test images. Both
matter for the threshold, which is fitted on the validation images: crops
held out at random from the training half overlap training crops and score
like them, and a threshold fitted on them flagged nearly every normal test
crop; validation crops from a band of their own between the training and
test bands still missed the drift of the wall's pattern down the photo, and
ADA's threshold flagged 55% of the normal test crops (``docs/own_images.md``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from adda_keras.data.defects import NORMAL, TEXTURES, add_texture_defects, texture_crops
from adda_keras.validation import check_int, check_seed

__all__ = ["HELD_OUT_BAND", "NORMAL_FOLDER", "TRAIN_BAND", "write_texture_folders"]

#: the name of the folders of normal images (``train/good``, ``test/good``), as in MVTec AD
NORMAL_FOLDER = "good"
#: rows of the photo (fractions of its height) that training crops come from
TRAIN_BAND = (0.0, 0.5)
#: rows of the photo that validation and test crops come from
HELD_OUT_BAND = (0.5, 1.0)
_SUBFOLDERS = ("train", "validation", "test", "ground_truth")


def write_texture_folders(
    output: str | os.PathLike[str],
    normal: str = "brick",
    foreign: str = "gravel",
    n_train: int = 240,
    n_val: int = 40,
    n_test: int = 160,
    size: int = 64,
    seed: int = 0,
    overwrite: bool = False,
    n_val_defects: int = 0,
) -> dict[str, int]:
    """Write the texture example into ``output``; return the number of images in each folder.

    Args:
        output: the folder to write (created if needed).
        normal: the texture of normal images, one of
            :data:`~adda_keras.data.defects.TEXTURES`.
        foreign: the texture pasted by ``"patch"`` defects.
        n_train: normal training crops (``train/good``).
        n_val: normal validation crops (``validation/good``).
        n_test: test crops, split into four equal groups: normal
            (``test/good``), scratch, stain and patch.
        size: crop side in pixels (the photo is first shrunk by 2).
        seed: seeds the crops and the defects.
        overwrite: replace the ``train``, ``validation``, ``test`` and
            ``ground_truth`` folders of an earlier run; without it, a non-empty ``output``
            raises ``ValueError``.
        n_val_defects: defective validation crops (``validation/defects``,
            every kind in turn), drawn apart from the test crops and with
            patches of their own; 0 writes none. They leave every other
            folder as it is without them.
    """
    for name, value in (("normal", normal), ("foreign", foreign)):
        if value not in TEXTURES:
            raise ValueError(f"{name} must be one of {TEXTURES}; got {value!r}")
    if normal == foreign:
        raise ValueError(f"foreign must be another texture than normal ({normal!r}): a patch of it is the defect")
    check_int("n_train", n_train)
    check_int("n_val", n_val)
    check_int("n_test", n_test, minimum=4)
    check_int("size", size, minimum=8)
    check_seed("seed", seed)
    check_int("n_val_defects", n_val_defects, minimum=0)
    folder = Path(output)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"output must be a folder; {folder} is a file")
    if folder.is_dir() and any(folder.iterdir()):
        if not overwrite:
            raise ValueError(f"the output folder {folder} is not empty; choose another or pass overwrite=True")
        for sub in _SUBFOLDERS:
            shutil.rmtree(folder / sub, ignore_errors=True)
    train = texture_crops(normal, n_train, seed, band=TRAIN_BAND, size=size)
    validation = texture_crops(normal, n_val, seed + 4, band=HELD_OUT_BAND, size=size)
    test = texture_crops(normal, n_test, seed + 1, band=HELD_OUT_BAND, size=size)
    patches = texture_crops(foreign, 32, seed + 2, size=size)
    defects = add_texture_defects(test, patches, seed=seed + 3)
    counts = {
        f"train/{NORMAL_FOLDER}": _write_pngs(folder / "train" / NORMAL_FOLDER, train, "train"),
        f"validation/{NORMAL_FOLDER}": _write_pngs(folder / "validation" / NORMAL_FOLDER, validation, "validation"),
    }
    for kind in [NORMAL, *sorted(set(defects.kinds.tolist()) - {NORMAL})]:
        keep = defects.kinds == kind
        sub = NORMAL_FOLDER if kind == NORMAL else kind
        names = [f"{sub}_{index:03d}" for index in np.flatnonzero(keep)]
        counts[f"test/{sub}"] = _write_pngs(folder / "test" / sub, defects.images[keep], names)
        if kind != NORMAL:
            masks = defects.masks[keep][..., None].astype(np.float32)
            _write_pngs(folder / "ground_truth" / kind, masks, [f"{n}_mask" for n in names])
    if n_val_defects:
        counts["validation/defects"] = _write_pngs(
            folder / "validation" / "defects", _validation_defects(normal, foreign, n_val_defects, size, seed), "defect"
        )
    return counts


def _validation_defects(normal: str, foreign: str, count: int, size: int, seed: int) -> np.ndarray:
    """``count`` defective crops of the held-out band, every kind in turn, from seeds the test set does not use."""
    # add_texture_defects leaves a quarter of its crops normal: draw 4/3 as many and keep the defective ones
    crops = texture_crops(normal, -(-4 * count // 3) + 4, seed + 5, band=HELD_OUT_BAND, size=size)
    patches = texture_crops(foreign, 32, seed + 6, size=size)
    defects = add_texture_defects(crops, patches, seed=seed + 7)
    return defects.images[defects.kinds != NORMAL][:count]


def _write_pngs(folder: Path, images: np.ndarray, names: str | list[str]) -> int:
    """Write ``(N, H, W, 1)`` images in [0, 1] as 8-bit grayscale PNGs named ``names`` (or ``prefix_000``...)."""
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(names, str):
        names = [f"{names}_{index:03d}" for index in range(len(images))]
    for image, name in zip(images, names, strict=True):
        Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return len(images)
