"""Your own images: train a detector on a folder of normal images, then score files and folders.

What ``adda-keras fit`` and ``adda-keras score`` run, usable from Python too::

    report = fit_folder(FitConfig("data/train/good", "model.keras", image_size=(64, 64), color="rgb"))
    print(report.summary())
    scored = score_paths(ScoreConfig("model.keras", ["data/test"], out="scores.csv", maps="maps"))

:func:`fit_folder` reads the normal images, holds out a seeded fraction of
them as normal validation images, trains, fits the detector's threshold on
the validation images only (at a target false-positive rate; with images of
a known anomaly, best F1 or a target recall is available too) and saves one
file that holds the networks, the settings and the threshold.

:func:`score_paths` reads images with the preprocessing that the saved model
implies (its image size; one channel = grayscale, three = RGB), so a user
cannot score with the wrong preprocessing, and writes one CSV row per image
(path, score, label, threshold) and, when asked, one PNG per image with the
input, its anomaly map over it and the label. :func:`load_images_for` is the
same reading for Python code, so the two give equal scores.

Both check every setting, the input folders and the output paths before any
training or scoring, and raise ``ValueError`` naming the bad one.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data.folder import COLOR_MODES, find_image_files, load_image_files
from adda_keras.detectors import (
    DEFAULT_TARGET_FPR,
    THRESHOLD_STRATEGIES,
    AnomalyDetector,
    KerasDetector,
    available_detectors,
    load_detector,
    make_detector,
)
from adda_keras.detectors.ada import SEMI_SUPERVISED_METHODS
from adda_keras.experiments.common import check_output_dir
from adda_keras.models.networks import check_network_shape
from adda_keras.validation import check_int, check_number, check_seed

logger = logging.getLogger(__name__)

__all__ = [
    "CSV_COLUMNS",
    "SUPERVISED_METHODS",
    "FitConfig",
    "FitReport",
    "ScoreConfig",
    "ScoreReport",
    "check_fit_config",
    "color_mode_of",
    "fit_folder",
    "load_images_for",
    "progress_verbosity",
    "read_scores_csv",
    "score_paths",
]

#: methods that train on images of a known anomaly and so need ``known_anomaly_dir``
SUPERVISED_METHODS = (*SEMI_SUPERVISED_METHODS, "cnn-regression")
#: the columns of the score CSV (``map`` only when maps are written)
CSV_COLUMNS = ("path", "score", "label", "threshold")
#: images read and scored at a time (the default batch of ``predict``, so scores match the Python API's bit for bit)
SCORE_CHUNK = 512


@dataclass(frozen=True)
class FitConfig:
    """Settings of :func:`fit_folder` (the options of ``adda-keras fit``).

    Attributes:
        normal_dir: folder of normal images (searched recursively, like every folder here).
        out: the model file to write: ``.keras`` for the networks' methods,
            ``.pkl`` for the pixel detectors (``knn``, ``pca``, ...).
        method: a registered detector name (:func:`~adda_keras.available_detectors`).
        image_size: ``(height, width)`` the images are resized to.
        color: ``"grayscale"`` or ``"rgb"``.
        epochs: training epochs (networks only).
        batch_size: training batch size (networks only).
        val_fraction: share of the normal images held out for validation
            (threshold, and ADA's β scale), in ``(0, 1)``; not used with ``val_dir``.
        val_dir: a folder of normal validation images, instead of holding
            out a share of ``normal_dir``. Held-out images are only as new to
            the model as they are different from the training images: crops
            of the same photos, or frames of the same video, score lower than
            images of new parts, and a threshold fitted on them flags too many
            of those. Validation images from a part, a day or a camera of
            their own give a threshold that holds on new images.
        known_anomaly_dir: images of a known anomaly. Methods in
            :data:`SUPERVISED_METHODS` train on all but ``val_fraction`` of
            them; the others never train on them: they only join the
            validation set, so that ``threshold="f1"`` or ``"recall"`` can be
            used, and ``ada`` chooses its β on them
            (:meth:`~adda_keras.detectors.ada.VAEGANDetector.choose_beta`).
        threshold: ``"fpr"``, ``"f1"`` or ``"recall"`` (see
            :meth:`~adda_keras.detectors.AnomalyDetector.fit_threshold`).
        target_fpr: false-positive rate on the normal validation images, in ``(0, 1)``.
        target_recall: share of the validation anomalies to flag (``"recall"``), in ``(0, 1]``.
        seed: seeds the validation split and training.
        verbose: Keras' progress display (``1``: a bar; ``2``: a line per epoch; ``0``: none).
    """

    normal_dir: str
    out: str
    method: str = "ada"
    image_size: tuple[int, int] = (64, 64)
    color: str = "rgb"
    epochs: int = 30
    batch_size: int = 64
    val_fraction: float = 0.1
    val_dir: str | None = None
    known_anomaly_dir: str | None = None
    threshold: str = "fpr"
    target_fpr: float = DEFAULT_TARGET_FPR
    target_recall: float = 0.9
    seed: int = 0
    verbose: int = 2


@dataclass
class FitReport:
    """What :func:`fit_folder` did."""

    config: FitConfig
    detector: AnomalyDetector
    train_files: list[Path]
    val_files: list[Path]
    n_known_train: int
    n_known_val: int
    train_seconds: float
    out: str

    @property
    def n_train(self) -> int:
        """Normal images trained on."""
        return len(self.train_files)

    @property
    def n_val(self) -> int:
        """Normal images held out for validation (the threshold)."""
        return len(self.val_files)

    @property
    def seconds_per_epoch(self) -> float | None:
        """Training seconds divided by the epochs (``None`` for the pixel detectors, which have no epochs)."""
        if not isinstance(self.detector, KerasDetector):
            return None
        return self.train_seconds / self.detector.epochs

    def summary(self) -> str:
        """Lines for the terminal: data, training, threshold, file."""
        c, info = self.config, self.detector.threshold_info_ or {}
        height, width = _image_size(c.image_size)
        if c.val_dir is None:
            read = (
                f"read {self.n_train + self.n_val} normal images from {c.normal_dir} as {height}x{width} {c.color}: "
                f"{self.n_train} to train, {self.n_val} held out for validation (seed {c.seed})"
            )
        else:
            read = (
                f"read {self.n_train} normal images to train from {c.normal_dir} and {self.n_val} to validate "
                f"from {c.val_dir}, as {height}x{width} {c.color}"
            )
        lines = [read]
        if c.known_anomaly_dir is not None:
            lines.append(
                f"known anomalies from {c.known_anomaly_dir}: {self.n_known_train} to train, "
                f"{self.n_known_val} for validation"
            )
        timing = f"trained {c.method!r} in {self.train_seconds:.1f} s"
        if self.seconds_per_epoch is not None:
            epochs = self.detector.epochs
            timing += f" ({epochs} epoch{'s' * (epochs != 1)}, {self.seconds_per_epoch:.2f} s per epoch)"
        lines.append(timing)
        validation = getattr(self.detector, "beta_validation_", None)
        if validation:
            curve = ", ".join(f"{beta:g}: {value:.3f}" for beta, value in validation.items())
            lines.append(f"beta {self.detector.beta:g} chosen on the known anomalies (validation AUROC: {curve})")
        lines.append(f"threshold {self.detector.threshold_:.6g}: {_describe_threshold(info)}")
        lines.append(f"model saved to {self.out}")
        return "\n".join(lines)


@dataclass(frozen=True)
class ScoreConfig:
    """Settings of :func:`score_paths` (the options of ``adda-keras score``).

    Attributes:
        model: a file saved by :func:`fit_folder` or a detector's ``save``.
        paths: image files and folders (searched recursively).
        out: the CSV to write.
        maps: a folder for one PNG per image (input, map overlay, label), or ``None``.
        threshold: overrides the model's threshold.
    """

    model: str
    paths: Sequence[str]
    out: str = "scores.csv"
    maps: str | None = None
    threshold: float | None = None


@dataclass
class ScoreReport:
    """What :func:`score_paths` wrote."""

    config: ScoreConfig
    files: list[Path]
    scores: np.ndarray
    labels: np.ndarray | None
    threshold: float | None
    seconds: float
    map_files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        """Lines for the terminal: counts, threshold, files."""
        n = len(self.files)
        lines = [f"scored {n} images in {self.seconds:.1f} s ({n / max(self.seconds, 1e-9):.0f} images/s)"]
        if self.labels is None:
            lines.append("no threshold: the model has none and none was given (--threshold); labels left empty")
        else:
            lines.append(f"{int(self.labels.sum())} of {n} labelled anomalous (score > threshold {self.threshold:.6g})")
        lines.append(f"scores written to {self.config.out}")
        if self.config.maps is not None:
            lines.append(f"{len(self.map_files)} map images written to {self.config.maps}")
        return "\n".join(lines)


def color_mode_of(detector: AnomalyDetector) -> str:
    """The colour mode a fitted detector expects: ``"grayscale"`` for one channel, ``"rgb"`` for three."""
    if detector.image_shape_ is None:
        raise ValueError(f"the {detector.method!r} detector is not fitted")
    channels = detector.image_shape_[2]
    if channels not in (1, 3):
        raise ValueError(f"the detector expects {channels}-channel images; files can be read as 1 or 3 channels")
    return "grayscale" if channels == 1 else "rgb"


def load_images_for(
    detector: AnomalyDetector, paths: Sequence[str | os.PathLike[str]]
) -> tuple[list[Path], np.ndarray]:
    """The image files that ``paths`` name, read as ``detector`` expects: the reading of ``adda-keras score``.

    Files and folders as :func:`~adda_keras.data.find_image_files` finds
    them; size and colour mode from the detector's ``image_shape_``.
    """
    files = find_image_files(paths)
    return files, load_image_files(files, detector.image_shape_[:2], color_mode_of(detector))


# -- fit ---------------------------------------------------------------------------------------------------


def check_fit_config(config: FitConfig) -> AnomalyDetector:
    """Check every setting of ``config`` and the output path; return the untrained detector.

    Reads no image and trains nothing, so a bad option fails at once.
    """
    if config.method not in available_detectors():
        raise ValueError(f"unknown method {config.method!r}; available: {', '.join(available_detectors())}")
    if config.color not in COLOR_MODES:
        raise ValueError(f"color must be one of {tuple(COLOR_MODES)}; got {config.color!r}")
    check_number("val_fraction", config.val_fraction, 0.0, 1.0, open_low=True, open_high=True)
    check_number("target_fpr", config.target_fpr, 0.0, 1.0, open_low=True, open_high=True)
    check_number("target_recall", config.target_recall, 0.0, 1.0, open_low=True)
    check_seed("seed", config.seed)
    if config.threshold not in THRESHOLD_STRATEGIES:
        raise ValueError(f"threshold must be one of {THRESHOLD_STRATEGIES}; got {config.threshold!r}")
    if config.method in SUPERVISED_METHODS and config.known_anomaly_dir is None:
        raise ValueError(f"method {config.method!r} trains on a known anomaly: give a folder of its images")
    if config.threshold != "fpr" and config.known_anomaly_dir is None:
        raise ValueError(f"the {config.threshold!r} threshold needs validation anomalies: give a known-anomaly folder")
    shape = (*_image_size(config.image_size), 3 if config.color == "rgb" else 1)
    detector = make_detector(config.method, seed=config.seed)
    if isinstance(detector, KerasDetector):
        check_network_shape(shape)
        detector = make_detector(config.method, seed=config.seed, epochs=config.epochs, batch_size=config.batch_size)
    suffix = ".keras" if isinstance(detector, KerasDetector) else ".pkl"
    out = Path(config.out)
    if out.suffix != suffix:
        raise ValueError(f"a {config.method!r} model is saved to a {suffix!r} file; got out={config.out!r}")
    if out.is_dir():
        raise ValueError(f"out must be a file name; {out} is a folder")
    check_output_dir(out.parent if str(out.parent) else ".")
    _check_folder(config.normal_dir, "the normal image folder")
    if config.val_dir is not None:
        _check_folder(config.val_dir, "the validation image folder")
    if config.known_anomaly_dir is not None:
        _check_folder(config.known_anomaly_dir, "the known-anomaly folder")
    return detector


def fit_folder(config: FitConfig) -> FitReport:
    """Train ``config.method`` on a folder of normal images, fit its threshold on held-out ones, save it.

    See the module docstring; raises ``ValueError`` (before any training)
    for a bad setting, an unreadable or too small folder or an unwritable output.
    """
    detector = check_fit_config(config)
    size = _image_size(config.image_size)
    train_files = find_image_files([config.normal_dir])
    if config.val_dir is None:
        n_val = round(config.val_fraction * len(train_files))
        if n_val < 1 or n_val >= len(train_files):
            raise ValueError(
                f"val_fraction {config.val_fraction:g} of the {len(train_files)} normal images leaves {n_val} for "
                f"validation and {len(train_files) - n_val} for training; both need at least one image (the "
                "threshold is fitted on validation images only: add images, change val_fraction or give val_dir)"
            )
        order = np.random.default_rng(config.seed).permutation(len(train_files))
        val_files, train_files = [train_files[i] for i in order[:n_val]], [train_files[i] for i in order[n_val:]]
    else:
        val_files = find_image_files([config.val_dir])
        overlap = {p.resolve() for p in train_files} & {p.resolve() for p in val_files}
        if overlap:
            raise ValueError(f"val_dir and normal_dir share {len(overlap)} image(s), e.g. {sorted(overlap)[0]}")
    x_train = load_image_files(train_files, size, config.color)
    x_val = load_image_files(val_files, size, config.color)
    known_train = known_val = None
    if config.known_anomaly_dir is not None:
        known = load_image_files(find_image_files([config.known_anomaly_dir]), size, config.color)
        if config.method in SUPERVISED_METHODS:
            if len(known) < 2:
                raise ValueError(
                    f"the known-anomaly folder {config.known_anomaly_dir} holds {len(known)} image; "
                    f"{config.method!r} needs at least 2 (to train on and to validate with)"
                )
            k_val = min(max(1, round(config.val_fraction * len(known))), len(known) - 1)
            k_order = np.random.default_rng(config.seed + 1).permutation(len(known))
            known_val, known_train = known[k_order[:k_val]], known[k_order[k_val:]]
        else:
            known_val = known
    start = time.perf_counter()
    detector.fit(
        x_train,
        x_val=x_val,
        x_known=known_train,
        x_val_known=known_val if config.method in SUPERVISED_METHODS else None,
        verbose=config.verbose if isinstance(detector, KerasDetector) else 0,
    )
    train_seconds = time.perf_counter() - start
    if config.method == "ada" and known_val is not None:
        detector.choose_beta(x_val, known_val)
    if config.threshold != "fpr" or config.target_fpr != DEFAULT_TARGET_FPR or known_val is not None:
        detector.fit_threshold(  # fit() set the default one
            x_val,
            x_val_anomalies=known_val,
            strategy=config.threshold,
            target_fpr=config.target_fpr,
            target_recall=config.target_recall,
        )
    detector.save(config.out)
    return FitReport(
        config=config,
        detector=detector,
        train_files=train_files,
        val_files=val_files,
        n_known_train=0 if known_train is None else len(known_train),
        n_known_val=0 if known_val is None else len(known_val),
        train_seconds=train_seconds,
        out=config.out,
    )


# -- score -------------------------------------------------------------------------------------------------


def score_paths(config: ScoreConfig) -> ScoreReport:
    """Score image files and folders with a saved model; write the CSV (and map PNGs).

    Raises ``ValueError`` (before scoring) for an unreadable model, a path
    without images, an unwritable output, maps asked of a detector that has
    none, or a non-finite ``threshold``.
    """
    if config.threshold is not None and not (
        isinstance(config.threshold, (int, float)) and math.isfinite(config.threshold)
    ):
        raise ValueError(f"threshold must be a finite number; got {config.threshold!r}")
    out = Path(config.out)
    if out.is_dir():
        raise ValueError(f"out must be a file name; {out} is a folder")
    check_output_dir(out.parent if str(out.parent) else ".")
    try:
        detector = load_detector(config.model)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error
    if not config.paths:
        raise ValueError("give at least one image file or folder to score")
    files = find_image_files(config.paths)
    color = color_mode_of(detector)
    if config.maps is not None:
        check_output_dir(config.maps)
        if detector.predict(load_image_files(files[:1], detector.image_shape_[:2], color)).maps is None:
            raise ValueError(f"the {detector.method!r} detector gives scores but no maps; leave out the maps folder")
    map_scale = (detector.threshold_info_ or {}).get("map_scale")
    start = time.perf_counter()
    scores, labels, map_files = [], [], []
    threshold = None
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*CSV_COLUMNS, *(["map"] if config.maps is not None else [])])
        for first in range(0, len(files), SCORE_CHUNK):
            chunk = files[first : first + SCORE_CHUNK]
            images = load_image_files(chunk, detector.image_shape_[:2], color)
            result = detector.predict(images, threshold=config.threshold)
            threshold = result.threshold
            for index, path in enumerate(chunk):
                row = [str(path), f"{result.scores[index]:.9g}"]
                row += ["", ""] if result.labels is None else [int(result.labels[index]), f"{threshold:.9g}"]
                if config.maps is not None:
                    target = Path(config.maps) / f"{first + index:05d}_{path.stem}.png"
                    _save_map(target, images[index], result, index, map_scale, str(path))
                    map_files.append(target)
                    row.append(str(target))
                writer.writerow(row)
            scores.append(result.scores)
            labels.append(result.labels)
    return ScoreReport(
        config=config,
        files=files,
        scores=np.concatenate(scores),
        labels=None if labels[0] is None else np.concatenate(labels),
        threshold=threshold,
        seconds=time.perf_counter() - start,
        map_files=map_files,
    )


def read_scores_csv(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a CSV written by :func:`score_paths`: ``paths`` (list), ``scores`` (float64), ``labels`` and ``threshold``.

    ``labels`` is an int64 array, or ``None`` when the CSV has none;
    ``threshold`` a float or ``None``.
    """
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or any(column not in rows[0] for column in CSV_COLUMNS):
        raise ValueError(f"{path} is not a score CSV of adda_keras (columns {CSV_COLUMNS})")
    labelled = rows[0]["label"] != ""
    return {
        "paths": [row["path"] for row in rows],
        "scores": np.array([float(row["score"]) for row in rows]),
        "labels": np.array([int(row["label"]) for row in rows]) if labelled else None,
        "threshold": float(rows[0]["threshold"]) if labelled else None,
    }


def _save_map(target: Path, image: np.ndarray, result: Any, index: int, map_scale: float | None, title: str) -> None:
    """One PNG: the input, and the input with its anomaly map over it, titled with score and label."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    picture = image[..., 0] if image.shape[-1] == 1 else image
    anomaly_map = result.maps[index]
    top = map_scale if map_scale else max(float(anomaly_map.max()), 1e-12)
    verdict = "no threshold" if result.labels is None else ("ANOMALY" if result.labels[index] else "normal")
    figure = Figure(figsize=(5.2, 2.8))
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    for ax in (left, right):
        ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
    overlay = right.imshow(anomaly_map, cmap="jet", alpha=0.5, vmin=0, vmax=top)
    figure.colorbar(overlay, ax=right, fraction=0.046, pad=0.04)
    left.set_title("input", fontsize="small")
    right.set_title("anomaly map", fontsize="small")
    threshold = "" if result.threshold is None else f" (threshold {result.threshold:.4g})"
    figure.suptitle(f"{verdict}: score {result.scores[index]:.4g}{threshold}\n{Path(title).name}", fontsize="small")
    figure.savefig(target, dpi=100)


def _check_folder(path: str, name: str) -> None:
    """Raise ``ValueError`` unless ``path`` is an existing folder (``name`` says which one)."""
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{name} {folder} {'is not a folder' if folder.exists() else 'does not exist'}")


def _image_size(value: Any) -> tuple[int, int]:
    """``(height, width)`` from an int or a pair of positive ints."""
    pair = (value, value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    try:
        height, width = pair
    except (TypeError, ValueError):
        raise ValueError(f"image_size must be a positive int or (height, width); got {value!r}") from None
    return check_int("image height", height), check_int("image width", width)


def _describe_threshold(info: dict[str, Any]) -> str:
    """The provenance of a threshold in words."""
    rates = f"{info['validation_fpr']:.1%} of {info['n_normal']} normal validation images above it"
    if "validation_recall" in info:
        rates += f", {info['validation_recall']:.1%} of {info['n_anomalies']} validation anomalies"
    if info["strategy"] == "fpr":
        return f"target false-positive rate {info['target_fpr']:g}; {rates}"
    if info["strategy"] == "recall":
        return f"target recall {info['target_recall']:g}; {rates}"
    return f"best F1 on the validation images; {rates}"


def progress_verbosity() -> int:
    """Keras' display for a terminal (a progress bar) or a log file (one line per epoch)."""
    return 1 if sys.stdout.isatty() else 2
