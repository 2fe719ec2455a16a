"""One detector API for every method of the paper, registered by name.

In the spirit of scikit-learn and anomalib, a detector is configured in its
constructor, trained with :meth:`AnomalyDetector.fit`, and answers with
:meth:`~AnomalyDetector.score_samples` (one score per image, higher = more
anomalous), :meth:`~AnomalyDetector.anomaly_map` (one map per image) or
:meth:`~AnomalyDetector.predict` (both, as an :class:`AnomalyResult`).
Methods are registered by name so that experiments and the CLI can loop
over them::

    detector = make_detector("ada", epochs=30)
    detector.fit(split.x_train, x_val=split.x_val)
    scores = detector.score_samples(split.x_test)

Detectors that differ only in their score share one trained model:
``detector.variant("anovaegan")`` returns the pixel-residual detector of
the same VAEGAN without training again.

Scores and maps for a batch come from one compiled ``tf.function`` pass
(reconstruction, attention of both ``x`` and ``x̂``, ``D(x)``); large inputs
are cut into batches, never looped image by image.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from adda_keras.attention import ATTENTION_METHODS, NORMALISATIONS, attention_maps, check_option
from adda_keras.data.pipeline import check_images, make_dataset
from adda_keras.models.vaegan import VAEGAN
from adda_keras.scoring import ada_score, attention_weighted_residual, squared_residual
from adda_keras.training import DivergenceGuard, resolve_strategy, set_seed

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, type[AnomalyDetector]] = {}
_EPSILON = 1e-12


@dataclass(frozen=True)
class AnomalyResult:
    """What a detector says about a batch of images.

    Attributes:
        scores: ``(N,)`` float32, higher = more anomalous.
        maps: ``(N, H, W)`` float32 per-pixel anomaly maps (for ADA, the
            attention-weighted squared residual, whose mean is the
            attention term of the score).
    """

    scores: np.ndarray
    maps: np.ndarray


def register_detector(*names: str) -> Callable[[type[AnomalyDetector]], type[AnomalyDetector]]:
    """Class decorator: make a detector available to :func:`make_detector` under ``names``."""

    def decorate(cls: type[AnomalyDetector]) -> type[AnomalyDetector]:
        for name in names:
            if name in _REGISTRY:
                raise ValueError(f"a detector named {name!r} is already registered")
            _REGISTRY[name] = cls
        return cls

    return decorate


def available_detectors() -> list[str]:
    """Names accepted by :func:`make_detector`, in registration order."""
    return list(_REGISTRY)


def make_detector(name: str, **params: Any) -> AnomalyDetector:
    """Create the detector registered as ``name`` with constructor ``params``."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown detector {name!r}; available: {', '.join(available_detectors())}")
    return _REGISTRY[name](method=name, **params)


class AnomalyDetector(abc.ABC):
    """Base class: configure in ``__init__``, then ``fit``, then score.

    Subclasses implement :meth:`fit` and :meth:`_predict_batch`, and list
    their constructor parameters in :meth:`get_params`.
    """

    methods: ClassVar[tuple[str, ...]] = ()

    def __init__(self, method: str) -> None:
        if method not in self.methods:
            raise ValueError(f"{type(self).__name__} implements {list(self.methods)}; got method {method!r}")
        self.method = method
        self.image_shape_: tuple[int, int, int] | None = None

    # -- public API ------------------------------------------------------
    @abc.abstractmethod
    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> AnomalyDetector:
        """Train on normal images ``x_train`` (and known anomalies where the method uses them)."""

    def predict(self, images: np.ndarray, batch_size: int = 512) -> AnomalyResult:
        """Scores and anomaly maps of ``images`` (``(N, H, W, C)`` floats in [0, 1])."""
        images = self._check_input(images)
        scores, maps = [], []
        for start in range(0, len(images), batch_size):
            batch_scores, batch_maps = self._predict_batch(tf.constant(images[start : start + batch_size]))
            scores.append(batch_scores.numpy())
            maps.append(batch_maps.numpy())
        return AnomalyResult(np.concatenate(scores).astype(np.float32), np.concatenate(maps).astype(np.float32))

    def score_samples(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """One anomaly score per image, ``(N,)``; higher = more anomalous."""
        return self.predict(images, batch_size).scores

    def anomaly_map(self, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
        """One per-pixel anomaly map per image, ``(N, H, W)``."""
        return self.predict(images, batch_size).maps

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-able), as scikit-learn estimators report them."""
        return {}

    # -- helpers ---------------------------------------------------------
    @abc.abstractmethod
    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Scores ``(n,)`` and maps ``(n, H, W)`` of one batch."""

    def _check_input(self, images: np.ndarray) -> np.ndarray:
        if self.image_shape_ is None:
            raise RuntimeError(f"this {self.method!r} detector is not fitted yet; call fit() first")
        images = check_images(images, "images")
        if tuple(images.shape[1:]) != self.image_shape_:
            raise ValueError(
                f"images must have shape (N, {', '.join(map(str, self.image_shape_))}); got {images.shape}"
            )
        return images

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}(method={self.method!r}, {params})"


def compile_vaegan_parts(
    model: VAEGAN,
    discriminators: list[keras.Model],
    image_shape: tuple[int, int, int],
    attention: str,
    normalisation: str,
) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
    """Compile the one forward pass that every VAEGAN-based score needs.

    For a batch ``x`` it returns the reconstruction ``x̂``, the attention
    ``c = sum over discriminators of CAM(x) + CAM(x̂)``, the two halves of
    ``c``, the summed normal probability ``sum D(x)`` and the attention-weighted
    residual. One discriminator gives self-supervised ADA; ``[D_G, D_ano]``
    gives the semi-supervised ensemble.
    """

    @tf.function(input_signature=[tf.TensorSpec((None, *image_shape), tf.float32)])
    def parts(images: tf.Tensor) -> dict[str, tf.Tensor]:
        reconstruction = model(images, training=False)
        attention_input = tf.zeros(tf.shape(images)[:3])
        attention_rec = tf.zeros(tf.shape(images)[:3])
        normal_probability = tf.zeros(tf.shape(images)[:1])
        for discriminator in discriminators:
            logit, _ = discriminator(images, training=False)
            normal_probability += tf.sigmoid(logit[:, 0])
            attention_input += attention_maps(discriminator, images, attention, normalisation=normalisation)
            attention_rec += attention_maps(discriminator, reconstruction, attention, normalisation=normalisation)
        combined = attention_input + attention_rec
        return {
            "reconstruction": reconstruction,
            "attention": combined,
            "attention_input": attention_input,
            "attention_reconstruction": attention_rec,
            "normal_probability": normal_probability,
            "weighted_residual": attention_weighted_residual(images, reconstruction, combined),
        }

    return parts


#: score variants of one VAEGAN: method name -> (attention term?, D term?)
_VAEGAN_SCORES = {
    "anovaegan": "pixel residual ||x - x̂||²",
    "ada": "CAM + D: ||c ⊙ (x - x̂)||² / ||c||² - β·D(x)",
    "ada-cam-only": "CAM only (β = 0)",
    "ada-d-only": "D only: -D(x)",
}


@register_detector(*_VAEGAN_SCORES)
class VAEGANDetector(AnomalyDetector):
    """AnoVAEGAN and self-supervised ADA: one VAEGAN, four scores.

    Args:
        method: ``"anovaegan"``, ``"ada"``, ``"ada-cam-only"`` or ``"ada-d-only"``.
        epochs: training epochs (the defaults finish in about a minute on a
            2-core CPU with 600 MNIST images; the paper-scale preset uses more).
        batch_size: training batch size.
        latent_dim: size of the latent code.
        learning_rate: Adam learning rate of all three sub-networks.
        beta: weight of ``D(x)`` in the ADA score, in units of the two
            terms' spread on normal validation images: the raw weight applied
            is ``beta * std(attention term) / std(D)``, so that ``beta``
            means the same at any image scale (see ``beta_effective_``).
        attention: ``"cam"`` or ``"grad-cam"``.
        normalisation: per-image attention normalisation, ``"max"`` or ``"minmax"``.
        kl_weight, feature_weight, pixel_weight, gamma, adversarial_weight:
            VAEGAN loss weights (see :class:`~adda_keras.models.vaegan.VAEGAN`).
        seed: seeds weights, noise and data order (deterministic on CPU).
        distribute: ``None``, ``"mirrored"`` or a ``tf.distribute.Strategy``.
    """

    methods = tuple(_VAEGAN_SCORES)

    def __init__(
        self,
        method: str = "ada",
        epochs: int = 30,
        batch_size: int = 64,
        latent_dim: int = 16,
        learning_rate: float = 5e-4,
        beta: float = 0.2,
        attention: str = "cam",
        normalisation: str = "max",
        kl_weight: float = 1.0,
        feature_weight: float = 1.0,
        pixel_weight: float = 1.0,
        gamma: float = 1.0,
        adversarial_weight: float = 1.0,
        seed: int = 0,
        distribute: str | tf.distribute.Strategy | None = None,
    ) -> None:
        super().__init__(method)
        check_option("attention method", attention, ATTENTION_METHODS)
        check_option("normalisation", normalisation, NORMALISATIONS)
        for name, value in (("epochs", epochs), ("batch_size", batch_size), ("latent_dim", latent_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        if not np.isfinite(beta) or beta < 0:
            raise ValueError(f"beta must be a finite number >= 0; got {beta!r}")
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.latent_dim = int(latent_dim)
        self.learning_rate = float(learning_rate)
        self.beta = float(beta)
        self.attention = attention
        self.normalisation = normalisation
        self.loss_weights = {
            "kl_weight": float(kl_weight),
            "feature_weight": float(feature_weight),
            "pixel_weight": float(pixel_weight),
            "gamma": float(gamma),
            "adversarial_weight": float(adversarial_weight),
        }
        self.seed = int(seed)
        self.distribute = distribute
        self.model_: VAEGAN | None = None
        self.beta_effective_: float | None = None
        self.history_: dict[str, list[float]] = {}
        self._parts_fn: Callable[[tf.Tensor], dict[str, tf.Tensor]] | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (``distribute`` only when it is a name)."""
        params = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "latent_dim": self.latent_dim,
            "learning_rate": self.learning_rate,
            "beta": self.beta,
            "attention": self.attention,
            "normalisation": self.normalisation,
            **self.loss_weights,
            "seed": self.seed,
        }
        if self.distribute is None or isinstance(self.distribute, str):
            params["distribute"] = self.distribute
        return params

    # -- training ----------------------------------------------------------
    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> VAEGANDetector:
        """Train the VAEGAN on normal images, then calibrate ``beta`` on ``x_val``.

        ``x_known`` / ``x_val_known`` are not used by this self-supervised
        detector and must be ``None``.
        """
        if x_known is not None or x_val_known is not None:
            raise ValueError(f"{self.method!r} is self-supervised and takes no known anomalies; use 'ada-semi'")
        x_train = check_images(x_train, "x_train")
        x_val = None if x_val is None else check_images(x_val, "x_val")
        if x_val is not None and x_val.shape[1:] != x_train.shape[1:]:
            raise ValueError(f"x_val must have the image shape of x_train {x_train.shape[1:]}; got {x_val.shape[1:]}")
        self.model_ = self._train_vaegan(x_train, x_val, None, callbacks, verbose)
        self.image_shape_ = tuple(x_train.shape[1:])
        self._parts_fn = None
        self._calibrate(x_val if x_val is not None else x_train)
        return self

    def _train_vaegan(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None,
        x_known: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        verbose: int | str,
    ) -> VAEGAN:
        set_seed(self.seed)
        strategy = resolve_strategy(self.distribute)
        with strategy.scope():
            model = VAEGAN.build_default(x_train.shape[1:], self.latent_dim, seed=self.seed, **self.loss_weights)
            model.compile(learning_rate=self.learning_rate)
        train = make_dataset(x_train, self.batch_size, shuffle=True, seed=self.seed, extra=x_known)
        val = None if x_val is None else make_dataset(x_val, self.batch_size, shuffle=False)
        history = model.fit(
            train,
            epochs=self.epochs,
            validation_data=val,
            callbacks=[DivergenceGuard(), *callbacks],
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles, seeded
        )
        self.history_ = {k: [float(v) for v in values] for k, values in history.history.items()}
        return model

    def _calibrate(self, x_reference: np.ndarray) -> None:
        """Set the raw D weight from the terms' spread on normal reference images."""
        parts = self._batched_parts(x_reference)
        spread_attention = float(np.std(parts["weighted_residual"]))
        spread_d = float(np.std(parts["normal_probability"]))
        self.beta_effective_ = self.beta * spread_attention / max(spread_d, _EPSILON)
        logger.info(
            "beta=%g -> raw D weight %.4g (std attention term %.3g, std D %.3g)",
            self.beta,
            self.beta_effective_,
            spread_attention,
            spread_d,
        )

    # -- inference ---------------------------------------------------------
    def variant(self, method: str) -> VAEGANDetector:
        """The same trained VAEGAN scored as ``method`` (no retraining)."""
        if self.model_ is None:
            raise RuntimeError("fit the detector before asking for a variant")
        clone = type(self)(method=method, **{k: v for k, v in self.get_params().items() if k != "distribute"})
        clone.distribute = self.distribute
        clone.model_, clone.image_shape_ = self.model_, self.image_shape_
        clone.beta_effective_, clone.history_ = self.beta_effective_, self.history_
        clone._parts_fn = self._parts_fn
        return clone

    def explain(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Every intermediate of the score, for plots and notebooks.

        Returns ``reconstruction`` (N, H, W, C), ``attention`` ``c`` (N, H, W),
        ``attention_input`` / ``attention_reconstruction`` (the two CAMs),
        ``normal_probability`` ``D(x)`` (N,) and ``weighted_residual`` (N,).
        """
        return self._batched_parts(self._check_input(images))

    def _batched_parts(self, images: np.ndarray, batch_size: int = 512) -> dict[str, np.ndarray]:
        parts_fn = self._compiled_parts()
        chunks = [parts_fn(tf.constant(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
        return {key: np.concatenate([c[key].numpy() for c in chunks]) for key in chunks[0]}

    def _compiled_parts(self) -> Callable[[tf.Tensor], dict[str, tf.Tensor]]:
        """The compiled forward pass, traced once per model and shared by variants."""
        if self._parts_fn is None:
            self._parts_fn = compile_vaegan_parts(
                self.model_, [self.model_.discriminator], self.image_shape_, self.attention, self.normalisation
            )
        return self._parts_fn

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        parts = self._compiled_parts()(images)
        residual = squared_residual(images, parts["reconstruction"])
        weights = tf.square(parts["attention"])
        mean_weight = tf.reduce_mean(weights, axis=(1, 2), keepdims=True)
        weighted_map = tf.where(
            mean_weight > _EPSILON, weights * residual / tf.maximum(mean_weight, _EPSILON), residual
        )
        if self.method == "anovaegan":
            return tf.reduce_mean(residual, axis=(1, 2)), residual
        if self.method == "ada-d-only":
            return -parts["normal_probability"], parts["attention"]
        beta = 0.0 if self.method == "ada-cam-only" else self.beta_effective_
        score = ada_score(images, parts["reconstruction"], parts["attention"], parts["normal_probability"], beta)
        return score, weighted_map
