"""The experimental protocol: one class is normal, every other class an anomaly.

:func:`one_class_split` reproduces the paper's one-class protocol (one digit
normal, the other nine anomalous; train and validation hold normal images
only, so thresholds and normalisation are fitted on validation, never on
test). :func:`semi_supervised_split` adds a few labelled images of one anomaly
class for the semi-supervised variant; they are withheld from the test set.
:func:`apply_noise` turns a split into "MNIST with noise".

Every split is a pure function of its inputs and ``seed``. Randomness comes
from independent streams (``np.random.SeedSequence``) for the normal split,
the known anomalies and the test subsampling, so the same seed gives the same
normal train / validation / test images in both protocols.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import numpy as np

from adda_keras.data.noise import BackgroundNoise, add_background_noise
from adda_keras.data.pipeline import _check_int, check_images, check_labels

logger = logging.getLogger(__name__)

__all__ = [
    "VALIDATION_NOISE_SEED",
    "AnomalySplit",
    "ValidationSet",
    "apply_noise",
    "held_out_validation",
    "one_class_split",
    "semi_supervised_split",
]


@dataclass(frozen=True)
class AnomalySplit:
    """The parts of one anomaly-detection experiment.

    Images are float32 ``(n, H, W, C)`` in ``[0, 1]``. ``x_train`` and
    ``x_val`` hold normal images only. ``x_test`` holds held-out normal images
    and anomalies; ``y_test`` is 0 for normal, 1 for anomaly, and
    ``test_classes`` the original class id of each test image. ``x_known`` and
    ``x_val_known`` are labelled anomalies of ``known_anomaly_class`` for
    training and validation in the semi-supervised protocol (zero images
    otherwise); they never appear in ``x_test``.
    """

    x_train: np.ndarray
    x_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_classes: np.ndarray
    normal_class: int
    known_anomaly_class: int | None
    x_known: np.ndarray
    x_val_known: np.ndarray
    seed: int

    def __post_init__(self) -> None:
        """Reject parts whose image shapes or test annotations disagree."""
        shape = self.x_train.shape[1:]
        for name in ("x_val", "x_test", "x_known", "x_val_known"):
            if getattr(self, name).shape[1:] != shape:
                raise ValueError(
                    f"{name} must have the image shape of x_train {shape}; got {getattr(self, name).shape[1:]}"
                )
        n_test = len(self.x_test)
        for name in ("y_test", "test_classes"):
            if getattr(self, name).shape != (n_test,):
                raise ValueError(
                    f"{name} must have shape ({n_test},), one entry per test image; got {getattr(self, name).shape}"
                )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of every image in the split."""
        return tuple(self.x_train.shape[1:])

    def summary(self) -> str:
        """The number of images in each part, as a few lines for logs and notebooks."""
        n_anomalies = int(self.y_test.sum())
        classes, counts = np.unique(self.test_classes[self.y_test == 1], return_counts=True)
        per_class = ", ".join(f"{c}: {n}" for c, n in zip(classes.tolist(), counts.tolist(), strict=True))
        lines = [
            (
                f"AnomalySplit(normal_class={self.normal_class}, "
                f"known_anomaly_class={self.known_anomaly_class}, "
                f"seed={self.seed}, image_shape={self.image_shape})"
            ),
            f"  train: {len(self.x_train)} normal",
            f"  val:   {len(self.x_val)} normal",
            (f"  test:  {len(self.x_test) - n_anomalies} normal + {n_anomalies} anomalies ({per_class or 'none'})"),
        ]
        if self.known_anomaly_class is not None:
            lines.append(
                f"  known anomalies (class {self.known_anomaly_class}): "
                f"{len(self.x_known)} train, {len(self.x_val_known)} val"
            )
        return "\n".join(lines)


def one_class_split(
    images: np.ndarray,
    labels: np.ndarray,
    normal_class: int,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.3,
    max_test_anomalies_per_class: int | None = None,
) -> AnomalySplit:
    """Split a labelled data set for one-class anomaly detection.

    The images of ``normal_class`` are shuffled with ``seed`` and divided into
    validation, test and train parts by ``val_fraction`` and ``test_fraction``
    (each rounded up; train gets the rest). The test set also receives every
    image of every other class, at most ``max_test_anomalies_per_class`` per
    class if given (a seeded subsample, to keep evaluation fast). ``images``
    may be float in ``[0, 1]`` or uint8 in 0..255 (rescaled); ``labels`` are
    integer class ids.
    """
    return _split(
        images,
        labels,
        normal_class,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        max_per_class=max_test_anomalies_per_class,
    )


def semi_supervised_split(
    images: np.ndarray,
    labels: np.ndarray,
    normal_class: int,
    known_anomaly_class: int,
    n_known: int = 100,
    n_known_val: int | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.3,
    max_test_anomalies_per_class: int | None = None,
) -> AnomalySplit:
    """Split like :func:`one_class_split`, plus labelled anomalies of one class.

    ``n_known`` images of ``known_anomaly_class`` go to ``x_known`` and
    ``n_known_val`` (default ``max(1, n_known // 5)``) to ``x_val_known``,
    drawn with ``seed``. They are removed from the pool, so they never appear
    in the test set; the test set keeps every anomaly class, including the
    remaining images of the known class. The normal train / validation / test
    images are the same as those of :func:`one_class_split` with the same seed.
    """
    _check_int("n_known", n_known, minimum=1)
    if n_known_val is None:
        n_known_val = max(1, n_known // 5)
    _check_int("n_known_val", n_known_val, minimum=0)
    return _split(
        images,
        labels,
        normal_class,
        known=(known_anomaly_class, int(n_known), int(n_known_val)),
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        max_per_class=max_test_anomalies_per_class,
    )


#: base of the background-noise seed of :func:`held_out_validation` (plus the normal class)
VALIDATION_NOISE_SEED = 1000


@dataclass(frozen=True)
class ValidationSet:
    """Labelled validation images for choosing settings, kept out of chosen test splits.

    ``x`` holds normal images (``y == 0``) and anomalies (``y == 1``);
    ``classes`` the original class of each image and ``indices`` its row
    in the data set the images came from.
    """

    x: np.ndarray
    y: np.ndarray
    classes: np.ndarray
    indices: np.ndarray


def held_out_validation(
    images: np.ndarray,
    labels: np.ndarray,
    normal_class: int,
    seed: int,
    protected_seeds: tuple[int, ...] = (0, 1, 2),
    anomalies_per_class: int = 30,
    max_test_anomalies_per_class: int | None = 100,
    val_fraction: float = 0.1,
    test_fraction: float = 0.3,
    noise: BackgroundNoise | None = None,
) -> ValidationSet:
    """Labelled validation data that never appears in the test split of a protected run.

    The one-class protocol's validation split has normal images only, which
    cannot rank settings. This draws labelled anomalies from the other
    classes' images and normal images from the validation split of
    :func:`one_class_split` with ``seed``, keeping only images that are in
    *no* test split of ``one_class_split(..., seed=s)`` for ``s`` in
    ``protected_seeds`` (same fractions and ``max_test_anomalies_per_class``).
    Settings chosen on it can then be applied to every protected run
    without touching a test image. The anomaly draw is seeded by ``seed``.

    With ``noise``, every image gets background noise drawn with the seed
    ``VALIDATION_NOISE_SEED + normal_class``: one fixed pattern per normal
    class, shared by every script and notebook that chooses settings, and
    never the pattern of a test split (:func:`apply_noise` draws those from
    the split seed).
    """
    if noise is not None and not isinstance(noise, BackgroundNoise):
        raise ValueError(f"noise must be a BackgroundNoise or None; got {type(noise).__name__}")
    x = check_images(images, allow_uint8=True)
    y = check_labels(labels, len(x))
    if max_test_anomalies_per_class is None:
        raise ValueError(
            "held_out_validation needs max_test_anomalies_per_class: with every anomaly in the test split "
            "no labelled anomaly is left for validation"
        )
    _check_int("anomalies_per_class", anomalies_per_class, minimum=1)
    in_test = np.zeros(len(x), dtype=bool)
    for protected in protected_seeds:
        in_test[
            _split_indices(y, normal_class, protected, val_fraction, test_fraction, max_test_anomalies_per_class)[2]
        ] = True
    val_idx = _split_indices(y, normal_class, seed, val_fraction, test_fraction, max_test_anomalies_per_class)[1]
    normal_idx = val_idx[~in_test[val_idx]]
    rng = np.random.default_rng(np.random.SeedSequence(int(seed)).spawn(4)[3])
    anomaly_idx = []
    for cls in np.unique(y[y != normal_class]):
        pool = np.flatnonzero((y == cls) & ~in_test)
        anomaly_idx.append(np.sort(rng.choice(pool, min(anomalies_per_class, len(pool)), replace=False)))
    indices = np.concatenate([normal_idx, *anomaly_idx])
    chosen = x[indices]
    if noise is not None and noise.strength > 0:
        chosen = add_background_noise(chosen, noise, VALIDATION_NOISE_SEED + int(normal_class))
    return ValidationSet(chosen, (y[indices] != normal_class).astype(np.int64), y[indices], indices)


def apply_noise(split: AnomalySplit, noise: BackgroundNoise | None, seed: int) -> AnomalySplit:
    """Return ``split`` with background noise added to every image part.

    Train, validation, test and known-anomaly images each get noise from
    their own seed derived from ``seed``, so no two parts share a noise
    pattern. With ``noise`` None or of strength 0 the split is returned as is.
    """
    if noise is not None and not isinstance(noise, BackgroundNoise):
        message = f"noise must be a BackgroundNoise or None; got {type(noise).__name__}"
        raise ValueError(message)
    _check_int("seed", seed, minimum=0)
    if noise is None or noise.strength == 0:
        return split
    parts = ("x_train", "x_val", "x_test", "x_known", "x_val_known")
    children = np.random.SeedSequence(int(seed)).spawn(len(parts))
    noisy = {}
    for name, child in zip(parts, children, strict=True):
        images = getattr(split, name)
        if len(images):
            part_seed = int(child.generate_state(1)[0])
            noisy[name] = add_background_noise(images, noise, part_seed)
    logger.info(
        "Added background noise (strength %g) to the split of normal class %d",
        noise.strength,
        split.normal_class,
    )
    return dataclasses.replace(split, **noisy)


def _split(
    images: np.ndarray,
    labels: np.ndarray,
    normal_class: int,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    max_per_class: int | None,
    known: tuple[int, int, int] | None = None,
) -> AnomalySplit:
    """The body of both protocols; ``known`` is ``(class, n_known, n_known_val)``."""
    x = check_images(images, allow_uint8=True)
    y = check_labels(labels, len(x))
    classes = np.unique(y)
    _check_class("normal_class", normal_class, classes)
    if len(classes) < 2:
        raise ValueError(
            f"labels must contain a class besides normal_class={normal_class} to "
            "provide test anomalies; got only that class"
        )
    _check_int("seed", seed, minimum=0)
    for name, value in (
        ("val_fraction", val_fraction),
        ("test_fraction", test_fraction),
    ):
        if isinstance(value, bool) or not (isinstance(value, (int, float, np.floating)) and 0 < value < 1):
            raise ValueError(f"{name} must be a number in (0, 1); got {value!r}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave training images; got {val_fraction} + {test_fraction}"
        )
    if max_per_class is not None:
        _check_int("max_test_anomalies_per_class", max_per_class, minimum=1)

    normal_rng, known_rng, test_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(int(seed)).spawn(3)
    )
    normal = normal_rng.permutation(np.flatnonzero(y == normal_class))
    n_val = math.ceil(len(normal) * val_fraction)
    n_test = math.ceil(len(normal) * test_fraction)
    if len(normal) - n_val - n_test < 1:
        raise ValueError(
            f"normal_class {normal_class} has only {len(normal)} images: too few "
            f"for val_fraction={val_fraction} and test_fraction={test_fraction} "
            "to leave a training image"
        )
    val_idx, test_normal_idx, train_idx = np.split(normal, [n_val, n_val + n_test])

    withheld = known_idx = known_val_idx = np.empty(0, dtype=np.int64)
    known_class = None
    if known is not None:
        known_class, n_known, n_known_val = known
        _check_class("known_anomaly_class", known_class, classes)
        if known_class == normal_class:
            raise ValueError(f"known_anomaly_class must differ from normal_class; both are {normal_class}")
        pool = np.flatnonzero(y == known_class)
        if n_known + n_known_val >= len(pool):
            raise ValueError(
                f"n_known + n_known_val must be smaller than the {len(pool)} images "
                f"of known_anomaly_class {known_class} (some must remain for the "
                f"test set); got {n_known} + {n_known_val}"
            )
        withheld = known_rng.choice(pool, n_known + n_known_val, replace=False)
        known_idx, known_val_idx = withheld[:n_known], withheld[n_known:]

    anomaly_idx = []
    for cls in classes[classes != normal_class]:
        members = np.setdiff1d(np.flatnonzero(y == cls), withheld)
        if max_per_class is not None and len(members) > max_per_class:
            members = np.sort(test_rng.choice(members, max_per_class, replace=False))
        anomaly_idx.append(members)
    test_idx = np.concatenate([test_normal_idx, *anomaly_idx])

    split = AnomalySplit(
        x_train=x[train_idx],
        x_val=x[val_idx],
        x_test=x[test_idx],
        y_test=(y[test_idx] != normal_class).astype(np.int64),
        test_classes=y[test_idx],
        normal_class=int(normal_class),
        known_anomaly_class=None if known_class is None else int(known_class),
        x_known=x[known_idx],
        x_val_known=x[known_val_idx],
        seed=int(seed),
    )
    logger.debug("%s", split.summary())
    return split


def _split_indices(
    y: np.ndarray, normal_class: int, seed: int, val_fraction: float, test_fraction: float, max_per_class: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train, validation and test row indices of the one-class protocol (as :func:`_split` draws them)."""
    normal_rng, _, test_rng = (np.random.default_rng(child) for child in np.random.SeedSequence(int(seed)).spawn(3))
    normal = normal_rng.permutation(np.flatnonzero(y == normal_class))
    n_val = math.ceil(len(normal) * val_fraction)
    n_test = math.ceil(len(normal) * test_fraction)
    val_idx, test_normal_idx, train_idx = np.split(normal, [n_val, n_val + n_test])
    anomaly_idx = []
    for cls in np.unique(y[y != normal_class]):
        members = np.flatnonzero(y == cls)
        if max_per_class is not None and len(members) > max_per_class:
            members = np.sort(test_rng.choice(members, max_per_class, replace=False))
        anomaly_idx.append(members)
    return train_idx, val_idx, np.concatenate([test_normal_idx, *anomaly_idx])


def _check_class(name: str, value: int, classes: np.ndarray) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a label class."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value not in classes:
        raise ValueError(f"{name} must be one of the classes present in labels {classes.tolist()}; got {value!r}")
