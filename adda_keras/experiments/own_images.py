"""Your own images: train a detector on a folder of normal images, score files and folders, recalibrate.

What ``adda-keras fit``, ``score`` and ``calibrate`` run, usable from Python too::

    report = fit_folder(FitConfig("data/train/good", "model.keras", val_dir="data/validation/good"))
    print(report.summary())
    scored = score_paths(ScoreConfig("model.keras", ["data/test"], out="scores.csv", maps="maps"))
    again = calibrate_model(CalibrateConfig("model.keras", "data/validation2/good", "model2.keras", target_fpr=0.01))

:func:`fit_folder` reads the normal images (at their own size and colour
when these are the same for every file, else at the shared defaults of
:func:`~adda_keras.data.image_format`), holds out a seeded fraction of them
as normal validation images (or reads a validation folder), trains, fits
the detector's threshold on the validation images only (at a target
false-positive rate; with images of a known anomaly, best F1 or a target
recall is available too) and saves one file that holds the networks, the
settings and the threshold. It prints one line per epoch and logs every
metric to a CSV beside the model.

:func:`score_paths` reads images with the preprocessing that the saved model
implies (its image size; one channel = grayscale, three = RGB), so a user
cannot score with the wrong preprocessing, and writes one CSV row per image
(path, score, label, threshold, normalised score) and, when asked, each
image's anomaly map as data (``.npy`` at the file's own size) and as a
picture. :func:`load_images_for` is the same reading for Python code, so the
two give equal scores.

:func:`calibrate_model` refits the threshold of a saved model on another
validation folder (another target, F1 or recall on known anomalies) and,
for ADA, its β on known anomalies, without retraining: the networks are
copied as they are into a new file.

Every function checks its settings, the input folders and the output paths
before any training or scoring, and raises ``ValueError`` naming the bad
one. Outputs are written whole or not at all, never over an input or inside
a folder being read (:mod:`~adda_keras.experiments.files`).
"""

from __future__ import annotations

import csv
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data.folder import (
    COLOR_MODES,
    MAX_IMAGE_SIDE,
    ImageFormat,
    UnreadableImage,
    find_image_files,
    image_format,
    load_image_files,
    read_image_files,
)
from adda_keras.data.foreign import make_foreign_patches
from adda_keras.detectors import (
    DEFAULT_TARGET_FPR,
    THRESHOLD_STRATEGIES,
    AnomalyDetector,
    KerasDetector,
    available_detectors,
    detector_capabilities,
    load_detector,
    make_detector,
)
from adda_keras.detectors.ada import MIN_BETA_ANOMALIES
from adda_keras.diagnostics import belief_aurocs, describe_belief_aurocs
from adda_keras.experiments.common import check_output_dir
from adda_keras.experiments.files import atomic_output, check_file_target, check_not_an_input, shared_files
from adda_keras.experiments.map_files import map_at_size, overlay_picture, write_map
from adda_keras.experiments.progress import EpochLines, ProgressBar
from adda_keras.models.networks import check_network_shape
from adda_keras.options import MAX_BATCH_SIZE, MAX_EPOCHS
from adda_keras.validation import check_int, check_number, check_seed

logger = logging.getLogger(__name__)

__all__ = [
    "CSV_COLUMNS",
    "MAX_BATCH_SIZE",
    "MAX_EPOCHS",
    "NEGATIVE_SCORES",
    "NORMALISED_SCORE",
    "CalibrateConfig",
    "CalibrateReport",
    "FitConfig",
    "FitReport",
    "ScoreConfig",
    "ScoreReport",
    "calibrate_model",
    "check_fit_config",
    "color_mode_of",
    "describe_threshold",
    "fit_folder",
    "load_images_for",
    "normalised_scores",
    "read_scores_csv",
    "score_paths",
]

#: seed offset of the held-out self-made anomalies that ``fit -v``'s belief report reads
BELIEF_PATCH_SEED = 9002
#: the columns of the score CSV (``map`` and ``overlay`` follow when those are written)
CSV_COLUMNS = ("path", "score", "label", "threshold", "normalised_score")
#: what the normalised score is, for the help and the summary
NORMALISED_SCORE = (
    "normalised_score = (score - m) / (threshold - m), m = the median score of the normal validation images: "
    "0 = a typical normal image, 1 = the threshold (above 1: labelled anomalous); a monotone rescaling, so it "
    "ranks images exactly as the score does"
)
#: why raw scores can be negative, for the help and the summary
NEGATIVE_SCORES = (
    "raw scores have no fixed scale and may be negative: ADA's score is the attention-weighted residual minus "
    "beta * D(x), the discriminator's belief that the image is normal, so confidently normal images score below "
    "0; only the order of the scores and their place against the threshold matter"
)
#: images read and scored at a time (a multiple of ``predict``'s default batch, so scores match the Python API's)
SCORE_CHUNK = 512


@dataclass(frozen=True)
class FitConfig:
    """Settings of :func:`fit_folder` (the options of ``adda-keras fit``).

    Attributes:
        normal_dir: folder of normal images (searched recursively, like every folder here).
        out: the model file to write: ``.keras`` for the networks' methods,
            ``.pkl`` for the pixel detectors (``knn``, ``pca``, ...).
        method: a registered detector name (:func:`~adda_keras.available_detectors`).
        image_size: ``(height, width)`` the images are resized to; ``None``:
            the normal images' own size when all share it, else the default
            (:func:`~adda_keras.data.image_format`, the rule of the folder readers).
        color: ``"grayscale"`` or ``"rgb"``; ``None``: ``"rgb"`` if any normal image is in colour.
        epochs: training epochs (networks only), at most :data:`MAX_EPOCHS`.
        batch_size: training batch size (networks only), at most :data:`MAX_BATCH_SIZE`.
        val_fraction: share of the normal images held out for validation
            (threshold, and ADA's β scale), in ``(0, 1)``; not used with ``val_dir``.
        val_dir: a folder of normal validation images, instead of holding
            out a share of ``normal_dir``. Held-out images are only as new to
            the model as they are different from the training images: crops
            of the same photos, or frames of the same video, score lower than
            images of new parts, and a threshold fitted on them flags too many
            of those. Validation images from a part, a day or a camera of
            their own give a threshold that holds on new images.
        known_anomaly_dir: images of a known anomaly. Methods that learn
            from it (``learning`` "semi-supervised" or "supervised",
            :func:`~adda_keras.detectors.detector_capabilities`; for
            ``ada-compare`` they are optional) train on all
            but ``val_fraction`` of them; the others never train on them:
            they only join the validation set, so that ``threshold="f1"`` or
            ``"recall"`` can be used, and a method that chooses β
            (``ada``) chooses it on them
            (:meth:`~adda_keras.detectors.ada.VAEGANDetector.choose_beta`).
            A folder that holds a copy of a training or validation image
            (same content, any name) is refused.
        threshold: ``"fpr"``, ``"f1"`` or ``"recall"`` (see
            :meth:`~adda_keras.detectors.AnomalyDetector.fit_threshold`).
        target_fpr: false-positive rate on the normal validation images, in ``(0, 1)``.
        target_recall: share of the validation anomalies to flag (``"recall"``), in ``(0, 1]``.
        seed: seeds the validation split and training.
        verbose: ``1`` (or more): one line per epoch on standard output; ``0``: none.
        log_file: the CSV of every metric per epoch (networks only); ``None``:
            beside ``out``, named after it (``model.keras`` -> ``model.log.csv``).
        diagnose: measure what each discriminator of a VAEGAN-family
            detector believes (:func:`adda_keras.diagnostics.belief_aurocs`
            on the training, validation, known and held-out self-made
            images) and report it (``adda-keras fit -v``).
    """

    normal_dir: str
    out: str
    method: str = "ada"
    image_size: tuple[int, int] | int | None = None
    color: str | None = None
    epochs: int = 30
    batch_size: int = 64
    val_fraction: float = 0.1
    val_dir: str | None = None
    known_anomaly_dir: str | None = None
    threshold: str = "fpr"
    target_fpr: float = DEFAULT_TARGET_FPR
    target_recall: float = 0.9
    seed: int = 0
    verbose: int = 1
    log_file: str | None = None
    diagnose: bool = False

    @property
    def log_path(self) -> Path:
        """Where the per-epoch metrics go."""
        return Path(self.log_file) if self.log_file is not None else Path(self.out).with_suffix(".log.csv")


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
    image_format: ImageFormat | None = None
    log_file: Path | None = None
    beliefs: dict[str, dict[str, float]] | None = None

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
        c = self.config
        shape = self.detector.image_shape_
        how = (
            self.image_format.describe()
            if self.image_format is not None
            else f"{shape[0]}x{shape[1]} {color_mode_of(self.detector)}"
        )
        if c.val_dir is None:
            read = (
                f"read {self.n_train + self.n_val} normal images from {c.normal_dir}: "
                f"{self.n_train} to train, {self.n_val} held out for validation (seed {c.seed})"
            )
        else:
            read = (
                f"read {self.n_train} normal images to train from {c.normal_dir} "
                f"and {self.n_val} to validate from {c.val_dir}"
            )
        lines = [read, f"images read at {how}"]
        if c.known_anomaly_dir is not None:
            lines.append(
                f"known anomalies from {c.known_anomaly_dir}: {self.n_known_train} to train, "
                f"{self.n_known_val} for validation"
            )
        timing = f"trained {c.method!r} in {self.train_seconds:.1f} s"
        if self.seconds_per_epoch is not None:
            epochs = self.detector.epochs
            timing += f" ({epochs} epoch{'s' * (epochs != 1)}, {self.seconds_per_epoch:.2f} s per epoch)"
        if self.log_file is not None:
            timing += f"; every metric per epoch in {self.log_file}"
        lines.append(timing)
        lines += describe_beta_choice(self.detector)
        if self.beliefs is not None:
            lines += describe_belief_aurocs(self.beliefs)
        lines.append(f"threshold {self.detector.threshold_:.6g}: {describe_threshold(self.detector.threshold_info_)}")
        lines.append(f"model saved to {self.out}")
        return "\n".join(lines)


def describe_beta_choice(detector: AnomalyDetector) -> list[str]:
    """Lines on the last ``choose_beta`` of ``detector``: the choice, the AUROC per β and their uncertainty."""
    choice = getattr(detector, "beta_choice_", None)
    validation = getattr(detector, "beta_validation_", None)
    if not choice or not validation:
        return []
    curve = ", ".join(f"{beta:g}: {value:.3f}" for beta, value in validation.items())
    kept = choice["chosen"] == choice["current"]
    verdict = (
        f"beta {choice['chosen']:g} kept" if kept else f"beta {choice['chosen']:g} chosen (was {choice['current']:g})"
    )
    reason = (
        f"best candidate {choice['best']:g} gains {choice['gain']:+.3f} +- {choice['gain_se']:.3f} (bootstrap "
        f"standard error over {choice['n_anomalies']} anomalies and {choice['n_normal']} normal images); "
        f"a change needs more than {choice['switch_se']:g} standard errors"
    )
    return [
        f"{verdict} on {choice.get('on', 'the known anomalies')}: {reason}",
        f"  validation AUROC per beta: {curve}",
        *(f"  warning: {message}" for message in choice["warnings"]),
    ]


@dataclass(frozen=True)
class ScoreConfig:
    """Settings of :func:`score_paths` (the options of ``adda-keras score``).

    Attributes:
        model: a file saved by :func:`fit_folder` or a detector's ``save``.
        paths: image files and folders (searched recursively).
        out: the CSV to write (whole or not at all; never the model, never inside a scored folder).
        maps: a folder for each image's anomaly map as a float32 ``.npy`` array at the image file's own size,
            or ``None``.
        threshold: overrides the model's threshold.
        overlays: a folder for one PNG per image (input, heat map, outline above the normal map level, verdict),
            or ``None``.
        skip_unreadable: skip (and list) files that cannot be decoded instead of stopping at the first.
        progress: draw a progress bar on standard error when it is a terminal.
    """

    model: str
    paths: Sequence[str]
    out: str = "scores.csv"
    maps: str | None = None
    threshold: float | None = None
    overlays: str | None = None
    skip_unreadable: bool = False
    progress: bool = False


@dataclass
class ScoreReport:
    """What :func:`score_paths` wrote (``seconds``: reading, scoring and writing, after the model was loaded)."""

    config: ScoreConfig
    files: list[Path]
    scores: np.ndarray
    labels: np.ndarray | None
    threshold: float | None
    seconds: float
    map_files: list[Path] = field(default_factory=list)
    overlay_files: list[Path] = field(default_factory=list)
    skipped: list[UnreadableImage] = field(default_factory=list)
    threshold_info: dict[str, Any] | None = None
    normalised: np.ndarray | None = None

    def summary(self) -> str:
        """Lines for the terminal: counts, threshold and its provenance, skipped files, outputs."""
        n = len(self.files)
        lines = [f"scored {n} images in {self.seconds:.1f} s ({n / max(self.seconds, 1e-9):.0f} images/s)"]
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} unreadable file(s):")
            lines += [f"  {item.reason}" for item in self.skipped]
        if self.labels is None:
            lines.append("no threshold: the model has none and none was given (--threshold); labels left empty")
        else:
            lines.append(f"{int(self.labels.sum())} of {n} labelled anomalous (score > threshold {self.threshold:.6g})")
            if self.config.threshold is not None:
                lines.append("threshold: given on the command line (--threshold)")
            else:
                lines.append(f"threshold: {describe_threshold(self.threshold_info)}")
        if self.normalised is None and self.labels is not None:
            lines.append("normalised_score left empty: " + _why_not_normalised(self.threshold, self.threshold_info))
        if n and float(np.min(self.scores)) < 0:
            lines.append(f"note: {NEGATIVE_SCORES}")
        lines.append(f"scores written to {self.config.out}")
        if self.config.maps is not None:
            lines.append(f"{len(self.map_files)} maps (.npy, at each image's own size) written to {self.config.maps}")
        if self.config.overlays is not None:
            lines.append(f"{len(self.overlay_files)} overlay pictures written to {self.config.overlays}")
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
    if config.color is not None and config.color not in COLOR_MODES:
        raise ValueError(f"color must be one of {tuple(COLOR_MODES)}; got {config.color!r}")
    if config.image_size is not None:
        _image_size(config.image_size)
    check_number("val_fraction", config.val_fraction, 0.0, 1.0, open_low=True, open_high=True)
    check_number("target_fpr", config.target_fpr, 0.0, 1.0, open_low=True, open_high=True)
    check_number("target_recall", config.target_recall, 0.0, 1.0, open_low=True)
    check_int("epochs", config.epochs, 1, MAX_EPOCHS)
    check_int("batch_size", config.batch_size, 1, MAX_BATCH_SIZE)
    check_seed("seed", config.seed)
    if config.threshold not in THRESHOLD_STRATEGIES:
        raise ValueError(f"threshold must be one of {THRESHOLD_STRATEGIES}; got {config.threshold!r}")
    if detector_capabilities(config.method).needs_known_anomaly and config.known_anomaly_dir is None:
        raise ValueError(f"method {config.method!r} trains on a known anomaly: give a folder of its images")
    if config.threshold != "fpr" and config.known_anomaly_dir is None:
        raise ValueError(f"the {config.threshold!r} threshold needs validation anomalies: give a known-anomaly folder")
    detector = make_detector(config.method, seed=config.seed)
    if isinstance(detector, KerasDetector):
        if config.image_size is not None:
            check_network_shape((*_image_size(config.image_size), 3 if config.color == "rgb" else 1))
        detector = make_detector(config.method, seed=config.seed, epochs=config.epochs, batch_size=config.batch_size)
    suffix = ".keras" if isinstance(detector, KerasDetector) else ".pkl"
    out = Path(config.out)
    if out.suffix != suffix:
        raise ValueError(f"a {config.method!r} model is saved to a {suffix!r} file; got out={config.out!r}")
    if out.is_dir():
        raise ValueError(f"out must be a file name; {out} is a folder")
    _check_folder(config.normal_dir, "the normal image folder")
    folders = [config.normal_dir]
    if config.val_dir is not None:
        _check_folder(config.val_dir, "the validation image folder")
        folders.append(config.val_dir)
    if config.known_anomaly_dir is not None:
        _check_folder(config.known_anomaly_dir, "the known-anomaly folder")
        folders.append(config.known_anomaly_dir)
    check_not_an_input(out, folders, "the model file (--out)")
    check_output_dir(out.parent if str(out.parent) else ".")
    if isinstance(detector, KerasDetector):
        check_file_target(config.log_path, "the log file (--log)")
        check_not_an_input(config.log_path, folders, "the log file")
        if config.log_path.resolve() == out.resolve():
            raise ValueError(f"the log file {config.log_path} is the model file; choose another log file")
        check_output_dir(config.log_path.parent if str(config.log_path.parent) else ".")
    return detector


def fit_folder(config: FitConfig) -> FitReport:
    """Train ``config.method`` on a folder of normal images, fit its threshold on held-out ones, save it.

    See the module docstring; raises ``ValueError`` (before any training)
    for a bad setting, an unreadable or too small folder, validation or
    known-anomaly images that repeat training images, or an unwritable output.
    """
    detector = check_fit_config(config)
    capabilities = detector_capabilities(config.method)
    train_files = find_image_files([config.normal_dir])
    chosen = image_format(train_files, _optional_size(config.image_size), config.color)
    size, color = _image_size(chosen.size), chosen.color
    if isinstance(detector, KerasDetector):
        try:
            check_network_shape((*size, 3 if color == "rgb" else 1))
        except ValueError as error:
            raise ValueError(
                f"the images would be read at {chosen.describe()}, but {error}; give --image-size"
            ) from None
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
        _refuse_shared(val_files, train_files, "the validation folder", "training image")
    known_files = None
    if config.known_anomaly_dir is not None:
        known_files = find_image_files([config.known_anomaly_dir])
        _refuse_shared(known_files, train_files + val_files, "the known-anomaly folder", "normal image")
        if capabilities.chooses_beta and not capabilities.trains_on_known and len(known_files) < MIN_BETA_ANOMALIES:
            logger.warning(
                "the known-anomaly folder %s holds %d image(s), fewer than the %d from which beta is chosen: "
                "beta will stay at its default (they still give the threshold's recall); saying so now, before "
                "training",
                config.known_anomaly_dir,
                len(known_files),
                MIN_BETA_ANOMALIES,
            )
    _check_memory(len(train_files) + len(val_files) + len(known_files or []), (*size, 3 if color == "rgb" else 1))
    x_train = load_image_files(train_files, size, color)
    x_val = load_image_files(val_files, size, color)
    known_train = known_val = None
    if known_files is not None:
        known = load_image_files(known_files, size, color)
        if capabilities.trains_on_known:
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
    keras_detector = isinstance(detector, KerasDetector)
    callbacks = []
    if keras_detector:
        import keras

        callbacks.append(keras.callbacks.CSVLogger(str(config.log_path)))
        if config.verbose:
            callbacks.append(EpochLines(config.epochs))
    start = time.perf_counter()
    detector.fit(
        x_train,
        x_val=x_val,
        x_known=known_train,
        x_val_known=known_val if capabilities.trains_on_known else None,
        verbose=0,
        **({"callbacks": callbacks} if keras_detector else {}),
    )
    train_seconds = time.perf_counter() - start
    if capabilities.chooses_beta and known_val is not None:
        detector.choose_beta(x_val, known_val)
    if config.threshold != "fpr" or config.target_fpr != DEFAULT_TARGET_FPR or known_val is not None:
        detector.fit_threshold(  # fit() set the default one
            x_val,
            x_val_anomalies=known_val,
            strategy=config.threshold,
            target_fpr=config.target_fpr,
            target_recall=config.target_recall,
        )
    beliefs = None
    if config.diagnose and _has_discriminator(detector):
        made, _ = make_foreign_patches(x_val, config.seed + BELIEF_PATCH_SEED)
        beliefs = belief_aurocs(detector, x_train, x_val, known_val, made)
    with atomic_output(config.out) as temporary:
        detector.save(temporary)
    return FitReport(
        config=config,
        detector=detector,
        train_files=train_files,
        val_files=val_files,
        n_known_train=0 if known_train is None else len(known_train),
        n_known_val=0 if known_val is None else len(known_val),
        train_seconds=train_seconds,
        out=config.out,
        image_format=chosen,
        log_file=config.log_path if keras_detector else None,
        beliefs=beliefs,
    )


def _has_discriminator(detector: AnomalyDetector) -> bool:
    """Whether ``detector`` is fitted with a VAEGAN discriminator to diagnose."""
    return getattr(detector, "model_", None) is not None or getattr(detector, "model_g_", None) is not None


# -- score -------------------------------------------------------------------------------------------------


def score_paths(config: ScoreConfig) -> ScoreReport:
    """Score image files and folders with a saved model; write the CSV (and maps, and overlay pictures).

    Raises ``ValueError`` (before scoring) for an unreadable model, a path
    without images, an output that is an input or lies in a scored folder,
    an unwritable output, maps asked of a detector that has none, or a
    non-finite ``threshold``; and, without ``skip_unreadable``, for the
    first file that cannot be decoded. The CSV is written whole at the end,
    so a failed run leaves a previous CSV as it was.
    """
    if config.threshold is not None and not (
        isinstance(config.threshold, (int, float)) and math.isfinite(config.threshold)
    ):
        raise ValueError(f"threshold must be a finite number; got {config.threshold!r}")
    if not config.paths:
        raise ValueError("give at least one image file or folder to score")
    out = Path(config.out)
    if out.is_dir():
        raise ValueError(f"out must be a file name; {out} is a folder")
    inputs = [config.model, *config.paths]
    check_not_an_input(out, inputs, "the score CSV (--out)")
    for folder, option in ((config.maps, "--maps"), (config.overlays, "--overlays")):
        if folder is not None:
            check_not_an_input(folder, inputs, f"the {option} folder")
            if Path(folder).resolve() == out.resolve():
                raise ValueError(f"the {option} folder {folder} is the score CSV")
    check_output_dir(out.parent if str(out.parent) else ".")
    try:
        detector = load_detector(config.model)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error
    files = find_image_files(config.paths)
    color = color_mode_of(detector)
    size = detector.image_shape_[:2]
    warm_up = detector.predict(np.zeros((1, *detector.image_shape_), np.float32))  # traces the compiled pass once
    if config.maps is not None or config.overlays is not None:
        if warm_up.maps is None:
            raise ValueError(
                f"the {detector.method!r} detector gives scores but no maps; leave out --maps and --overlays"
            )
    for folder in (config.maps, config.overlays):
        if folder is not None:
            check_output_dir(folder)
    info = detector.threshold_info_ or {}
    map_scale = info.get("map_scale")
    start = time.perf_counter()
    rows: list[list[Any]] = []
    kept: list[Path] = []
    skipped: list[UnreadableImage] = []
    scores, labels, normalised, map_files, overlay_files = [], [], [], [], []
    threshold = config.threshold if config.threshold is not None else detector.threshold_
    bar = ProgressBar(len(files), "scoring", force=False) if config.progress else None
    for first in range(0, len(files), SCORE_CHUNK):
        chunk = files[first : first + SCORE_CHUNK]
        if config.skip_unreadable:
            images, chunk_files, chunk_skipped = read_image_files(chunk, size, color)
            skipped += chunk_skipped
        else:
            images, chunk_files = load_image_files(chunk, size, color), chunk
        if len(chunk_files):
            result = detector.predict(images, threshold=config.threshold)
            chunk_normalised = normalised_scores(result.scores, threshold, info)
            index_of = {path: first + i for i, path in enumerate(chunk)}
            for index, path in enumerate(chunk_files):
                row = [str(path), f"{result.scores[index]:.9g}"]
                row += ["", ""] if result.labels is None else [int(result.labels[index]), f"{threshold:.9g}"]
                row.append("" if chunk_normalised is None else f"{chunk_normalised[index]:.6g}")
                name = f"{index_of[path]:05d}_{path.stem}"
                if config.maps is not None:
                    target = Path(config.maps) / f"{name}.npy"
                    write_map(target, map_at_size(result.maps[index], _file_size(path)))
                    map_files.append(target)
                    row.append(str(target))
                if config.overlays is not None:
                    target = Path(config.overlays) / f"{name}.png"
                    caption = _caption(result, index, path)
                    picture = overlay_picture(images[index], result.maps[index], map_scale, caption, map_scale)
                    picture.save(target, compress_level=1)  # a few times faster than the default 6, files ~1.5x
                    overlay_files.append(target)
                    row.append(str(target))
                rows.append(row)
            kept += chunk_files
            scores.append(result.scores)
            labels.append(result.labels)
            normalised.append(chunk_normalised)
        if bar is not None:
            bar.update(min(first + SCORE_CHUNK, len(files)))
    if bar is not None:
        bar.close()
    if not kept:
        raise ValueError(
            f"none of the {len(files)} image files could be read: " + "; ".join(s.reason for s in skipped[:3])
        )
    header = [*CSV_COLUMNS, *(["map"] if config.maps is not None else [])]
    header += ["overlay"] if config.overlays is not None else []
    with atomic_output(out) as temporary, open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return ScoreReport(
        config=config,
        files=kept,
        scores=np.concatenate(scores),
        labels=None if labels[0] is None else np.concatenate(labels),
        threshold=threshold,
        seconds=time.perf_counter() - start,
        map_files=map_files,
        overlay_files=overlay_files,
        skipped=skipped,
        threshold_info=detector.threshold_info_,
        normalised=None if normalised[0] is None else np.concatenate(normalised),
    )


def normalised_scores(scores: np.ndarray, threshold: float | None, info: dict[str, Any] | None) -> np.ndarray | None:
    """``(score - m) / (threshold - m)`` with ``m`` the normal validation median: 1.0 at the threshold.

    A monotone (increasing) rescaling of the scores, so it ranks images as
    they do, on a scale that reads the same for every method: about 0 for a
    typical normal image, above 1 for an image labelled anomalous. ``None``
    without a threshold, for a model saved before the median was recorded,
    or when the threshold does not lie above the median (see
    :data:`NORMALISED_SCORE`).
    """
    median = (info or {}).get("normal_median")
    if threshold is None or median is None or not threshold > median:
        return None
    return ((np.asarray(scores, dtype=np.float64) - median) / (threshold - median)).astype(np.float32)


def _why_not_normalised(threshold: float | None, info: dict[str, Any] | None) -> str:
    """Why :func:`normalised_scores` gave ``None``."""
    median = (info or {}).get("normal_median")
    if median is None:
        return "the model file predates the normal validation median it needs (recalibrate it: adda-keras calibrate)"
    return f"the threshold {threshold:.6g} does not lie above the normal validation median {median:.6g}"


def _caption(result: Any, index: int, path: Path) -> str:
    """The overlay's line: verdict (a below-threshold image is "normal", whatever it shows), score, file name."""
    if result.labels is None:
        verdict = "no threshold"
    else:
        verdict = "ANOMALY" if result.labels[index] else "normal (below threshold)"
    return f"{verdict}  score {result.scores[index]:.4g}  {path.name}"


def _file_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` of an image file, from its header."""
    from PIL import Image

    with Image.open(path) as opened:
        return opened.height, opened.width


# -- calibrate -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrateConfig:
    """Settings of :func:`calibrate_model` (the options of ``adda-keras calibrate``).

    Attributes:
        model: a model file written by :func:`fit_folder` (or a detector's ``save``).
        val_dir: normal validation images (new to the model: not its training images).
        out: the new model file (same suffix as ``model``; never ``model`` itself).
        threshold: ``"fpr"``, ``"f1"`` or ``"recall"``, as in :class:`FitConfig`.
        target_fpr: false-positive rate on the normal validation images, in ``(0, 1)``.
        target_recall: share of the validation anomalies to flag (``"recall"``), in ``(0, 1]``.
        known_anomaly_dir: labelled validation anomalies (needed by ``"f1"``, ``"recall"`` and ``beta_from_known``).
        beta_from_known: ADA only: choose β on the known anomalies first
            (:meth:`~adda_keras.detectors.ada.VAEGANDetector.choose_beta`, which keeps the current β unless
            another is clearly better).
    """

    model: str
    val_dir: str
    out: str
    threshold: str = "fpr"
    target_fpr: float = DEFAULT_TARGET_FPR
    target_recall: float = 0.9
    known_anomaly_dir: str | None = None
    beta_from_known: bool = False


@dataclass
class CalibrateReport:
    """What :func:`calibrate_model` changed."""

    config: CalibrateConfig
    detector: AnomalyDetector
    old_threshold: float | None
    old_beta: float | None
    n_val: int
    n_known: int
    seconds: float

    def summary(self) -> str:
        """Lines for the terminal: what was read, what changed, where it went."""
        c = self.config
        lines = [f"read {self.n_val} normal validation images from {c.val_dir}"]
        if c.known_anomaly_dir is not None:
            lines.append(f"and {self.n_known} known anomalies from {c.known_anomaly_dir}")
        lines += describe_beta_choice(self.detector) if c.beta_from_known else []
        old = "none" if self.old_threshold is None else f"{self.old_threshold:.6g}"
        lines.append(
            f"threshold {old} -> {self.detector.threshold_:.6g}: {describe_threshold(self.detector.threshold_info_)}"
        )
        lines.append(f"networks unchanged; calibrated in {self.seconds:.1f} s; model saved to {c.out}")
        return "\n".join(lines)


def calibrate_model(config: CalibrateConfig) -> CalibrateReport:
    """Refit a saved model's threshold (and ADA's β) on validation images, without retraining; save a new file.

    Raises ``ValueError`` before any scoring for a bad setting, ``out``
    equal to ``model`` or inside an input folder, known anomalies that
    repeat validation images, or a method without β when ``beta_from_known``.
    """
    if config.threshold not in THRESHOLD_STRATEGIES:
        raise ValueError(f"threshold must be one of {THRESHOLD_STRATEGIES}; got {config.threshold!r}")
    check_number("target_fpr", config.target_fpr, 0.0, 1.0, open_low=True, open_high=True)
    check_number("target_recall", config.target_recall, 0.0, 1.0, open_low=True)
    if (config.threshold != "fpr" or config.beta_from_known) and config.known_anomaly_dir is None:
        raise ValueError("the f1 and recall thresholds and --beta-from-known need a known-anomaly folder")
    model, out = Path(config.model), Path(config.out)
    if out.suffix != model.suffix:
        raise ValueError(f"the new model file must be a {model.suffix!r} file like {config.model}; got {config.out!r}")
    _check_folder(config.val_dir, "the validation image folder")
    inputs = [config.model, config.val_dir]
    if config.known_anomaly_dir is not None:
        _check_folder(config.known_anomaly_dir, "the known-anomaly folder")
        inputs.append(config.known_anomaly_dir)
    check_not_an_input(out, inputs, "the new model file (--out)")
    if out.is_dir():
        raise ValueError(f"out must be a file name; {out} is a folder")
    check_output_dir(out.parent if str(out.parent) else ".")
    try:
        detector = load_detector(config.model)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error
    if config.beta_from_known and not detector_capabilities(detector.method).chooses_beta:
        choosers = " or ".join(repr(m) for m in available_detectors() if detector_capabilities(m).chooses_beta)
        raise ValueError(f"--beta-from-known applies to {choosers} models; {config.model} is {detector.method!r}")
    val_files = find_image_files([config.val_dir])
    known_files = None if config.known_anomaly_dir is None else find_image_files([config.known_anomaly_dir])
    if known_files is not None:
        _refuse_shared(known_files, val_files, "the known-anomaly folder", "validation image")
    start = time.perf_counter()
    _, x_val = load_images_for(detector, val_files)
    known = None if known_files is None else load_images_for(detector, known_files)[1]
    old_threshold, old_beta = detector.threshold_, getattr(detector, "beta", None)
    if config.beta_from_known:
        detector.choose_beta(x_val, known)
    detector.fit_threshold(
        x_val,
        x_val_anomalies=known,
        strategy=config.threshold,
        target_fpr=config.target_fpr,
        target_recall=config.target_recall,
    )
    with atomic_output(out) as temporary:
        detector.save(temporary)
    return CalibrateReport(
        config=config,
        detector=detector,
        old_threshold=old_threshold,
        old_beta=old_beta,
        n_val=len(x_val),
        n_known=0 if known is None else len(known),
        seconds=time.perf_counter() - start,
    )


def read_scores_csv(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a CSV written by :func:`score_paths`: ``paths`` (list), ``scores`` (float64), ``labels`` and ``threshold``.

    ``labels`` is an int64 array, or ``None`` when the CSV has none;
    ``threshold`` a float or ``None``; ``normalised_scores`` a float64
    array, or ``None`` where the column is empty or missing (CSVs written
    before it existed are read too).
    """
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    required = CSV_COLUMNS[:4]
    if not rows or any(column not in rows[0] for column in required):
        raise ValueError(f"{path} is not a score CSV of adda_keras (columns {required})")
    labelled = rows[0]["label"] != ""
    normalised = rows[0].get("normalised_score") not in (None, "")
    return {
        "paths": [row["path"] for row in rows],
        "scores": np.array([float(row["score"]) for row in rows]),
        "labels": np.array([int(row["label"]) for row in rows]) if labelled else None,
        "threshold": float(rows[0]["threshold"]) if labelled else None,
        "normalised_scores": np.array([float(row["normalised_score"]) for row in rows]) if normalised else None,
    }


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
    return (
        check_int("image height", height, 1, MAX_IMAGE_SIDE),
        check_int("image width", width, 1, MAX_IMAGE_SIDE),
    )


def describe_threshold(info: dict[str, Any] | None) -> str:
    """The provenance of a threshold in words: how it was chosen, on how many validation images, what it flags."""
    if not info:
        return "made before thresholds recorded their provenance"
    rates = (
        f"fitted on {info['n_normal']} normal validation images, {info['validation_fpr']:.1%} of which score above it"
    )
    if "validation_recall" in info:
        rates += f"; {info['validation_recall']:.1%} of {info['n_anomalies']} validation anomalies do"
    if info["strategy"] == "fpr":
        return f"target false-positive rate {info['target_fpr']:g}, {rates}"
    if info["strategy"] == "recall":
        return f"target recall {info['target_recall']:g}, {rates}"
    return f"best F1 of normal against anomalous validation images, {rates}"


def _refuse_shared(files: list[Path], others: list[Path], name: str, other_name: str) -> None:
    """Raise ``ValueError`` when a file of ``files`` has the content of one of ``others`` (named in the message)."""
    shared = shared_files(files, others)
    if shared:
        first, same = shared[0]
        raise ValueError(
            f"{name} holds {len(shared)} file(s) with the content of a {other_name}, e.g. {first} = {same}: "
            "the same image cannot be both; remove the copies"
        )


def _check_memory(n_images: int, shape: tuple[int, int, int]) -> None:
    """Raise ``ValueError`` when ``n_images`` float32 images of ``shape`` would take over half the machine's memory."""
    needed = n_images * math.prod(shape) * 4
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if needed > available / 2:
        raise ValueError(
            f"{n_images} images of {shape[0]}x{shape[1]}x{shape[2]} need {needed / 2**30:.1f} GiB as float32, over "
            f"half of this machine's {available / 2**30:.1f} GiB: give a smaller --image-size"
        )


def _optional_size(value: Any) -> tuple[int, int] | None:
    """``None`` or ``(height, width)``."""
    return None if value is None else _image_size(value)
