"""The detector API every method shares: configure, ``fit``, score, map, threshold, save, load.

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
    labels = detector.predict(split.x_test).labels   # 1 = anomaly, at detector.threshold_
    detector.save("ada.keras")
    same = load_detector("ada.keras")

Thresholds belong to the detector and are fitted on validation data only:
``fit`` with normal validation images ``x_val`` sets ``threshold_`` so that
:data:`DEFAULT_TARGET_FPR` of them score above it, and
:meth:`AnomalyDetector.fit_threshold` refits it (another false-positive
rate; best F1 or a target recall where labelled validation anomalies
exist). Without validation images there is no threshold: the library does
not invent one (the minimum training score, anomalib's answer, flags
almost everything), and ``predict`` returns no labels unless given
``threshold=``. The threshold and its provenance (``threshold_info_``) are
saved with the detector.

The methods live beside this module, one family each (see
:mod:`adda_keras.detectors`).
"""

from __future__ import annotations

import abc
import json
import logging
import math
import pickle
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import keras
import numpy as np
import tensorflow as tf

from adda_keras.data.pipeline import check_images, make_dataset
from adda_keras.evaluation import images_for_fpr, threshold_at_fpr, threshold_best_f1, wilson_interval
from adda_keras.training import DivergenceGuard, resolve_strategy, set_seed
from adda_keras.validation import check_int, check_number, check_seed

logger = logging.getLogger(__name__)

_REGISTRY: dict[str, type[AnomalyDetector]] = {}

#: what a detector learns from (its class's ``learning``): normal images only ("one-class"); normal images and
#: labelled images of a known anomaly, while still scoring unknown ones ("semi-supervised"); or a classifier of
#: normal against the known anomaly ("supervised"). The last two need known-anomaly images to fit.
LEARNING_TYPES = ("one-class", "semi-supervised", "supervised")
#: how :meth:`AnomalyDetector.fit_threshold` chooses the threshold
THRESHOLD_STRATEGIES = ("fpr", "f1", "recall")
#: the false-positive rate on normal validation images at which ``fit`` sets the threshold
DEFAULT_TARGET_FPR = 0.05
#: the quantile of the normal validation maps' pixel values kept as ``threshold_info_["map_scale"]``
MAP_SCALE_QUANTILE = 0.999
#: the default scoring batch of the API and the command line, chosen by measurement (``results/benchmark_scoring.md``:
#: on 2 cores of an AMD EPYC, CPU time per image fell from 16 to 128 images a batch and was flat beyond, at 28x28
#: and at 64x64)
SCORE_BATCH_SIZE = 128


@dataclass(frozen=True)
class AnomalyResult:
    """What a detector says about a batch of images.

    Attributes:
        scores: ``(N,)`` float32, higher = more anomalous.
        maps: ``(N, H, W)`` float32 per-pixel anomaly maps (for ADA, the
            attention-weighted squared residual, whose mean is the
            attention term of the score); ``None`` for detectors without a
            spatial explanation (IsolationForest, OneClassSVM).
        labels: ``(N,)`` int64, 1 where the score lies above ``threshold``
            (anomaly), else 0; ``None`` when there is no threshold.
        threshold: the threshold that made ``labels`` (the detector's
            ``threshold_`` or the one passed to ``predict``), or ``None``.
    """

    scores: np.ndarray
    maps: np.ndarray | None
    labels: np.ndarray | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class DetectorCapabilities:
    """What a registered method can do, read from its class (:func:`detector_capabilities`).

    Attributes:
        method: the registered name.
        learning: one of :data:`LEARNING_TYPES`.
        chooses_beta: whether ``choose_beta`` sets the method's β from labelled
            validation anomalies after ``fit`` (``fit --known-anomaly``,
            ``calibrate --beta-from-known``).
        known_anomalies_optional: whether a method that learns from known
            anomalies also trains without them (its class's
            ``known_anomalies_optional``; ``ada-compare``).
    """

    method: str
    learning: str
    chooses_beta: bool
    known_anomalies_optional: bool = False

    @property
    def trains_on_known(self) -> bool:
        """Whether ``fit`` trains on images of a known anomaly when it is given them."""
        return self.learning != "one-class"

    @property
    def needs_known_anomaly(self) -> bool:
        """Whether ``fit`` needs images of a known anomaly (it trains on them and cannot do without)."""
        return self.trains_on_known and not self.known_anomalies_optional


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


def detector_capabilities(name: str) -> DetectorCapabilities:
    """The capabilities that the class registered as ``name`` declares (``learning``, ``beta_choosers``).

    The command line and the experiments read these instead of lists of
    names, so a new detector declares them once, on its class
    (``tests/test_detectors.py`` checks that every registered one does).
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown detector {name!r}; available: {', '.join(available_detectors())}")
    cls = _REGISTRY[name]
    learning = getattr(cls, "learning", None)
    if learning not in LEARNING_TYPES:
        raise TypeError(f"{cls.__name__} (method {name!r}) must declare learning, one of {LEARNING_TYPES}")
    return DetectorCapabilities(
        name, learning, name in cls.beta_choosers, bool(getattr(cls, "known_anomalies_optional", False))
    )


def make_detector(name: str, **params: Any) -> AnomalyDetector:
    """Create the detector registered as ``name`` with constructor ``params``."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown detector {name!r}; available: {', '.join(available_detectors())}")
    return _REGISTRY[name](method=name, **params)


class AnomalyDetector(abc.ABC):
    """Base class: configure in ``__init__``, then ``fit``, then score.

    Subclasses implement :meth:`fit`, which ends with
    ``return self._threshold_after_fit(x_val)``, and ``_predict`` (scores
    and maps; Keras models through :class:`KerasDetector`), and list their
    constructor parameters in :meth:`get_params`. Each registered class
    declares its capabilities as class attributes: ``learning`` (one of
    :data:`LEARNING_TYPES`) and ``beta_choosers`` (see
    :func:`detector_capabilities`).
    """

    #: the names this class is registered under (:func:`register_detector`)
    methods: ClassVar[tuple[str, ...]] = ()
    #: what the class learns from, one of :data:`LEARNING_TYPES`; every registered class declares it
    learning: ClassVar[str]
    #: those of ``methods`` whose β ``choose_beta`` may set from labelled validation anomalies after ``fit``
    beta_choosers: ClassVar[tuple[str, ...]] = ()

    def __init__(self, method: str) -> None:
        if method not in self.methods:
            raise ValueError(f"{type(self).__name__} implements {list(self.methods)}; got method {method!r}")
        self.method = method
        self.image_shape_: tuple[int, int, int] | None = None
        #: the score above which an image is labelled anomalous (fitted on validation data), or None
        self.threshold_: float | None = None
        #: how ``threshold_`` was fitted: strategy, targets, validation counts and rates, ``map_scale``
        self.threshold_info_: dict[str, Any] | None = None

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

    def predict(
        self, images: np.ndarray, batch_size: int = SCORE_BATCH_SIZE, threshold: float | None = None
    ) -> AnomalyResult:
        """Scores, anomaly maps and labels of ``images`` (``(N, H, W, C)`` floats in [0, 1]).

        Labels are 1 where the score lies above ``threshold`` (default: the
        fitted ``threshold_``); without either, ``labels`` is ``None``.
        """
        if threshold is not None and (
            isinstance(threshold, bool)
            or not isinstance(threshold, (int, float, np.number))
            or not math.isfinite(threshold)
        ):
            raise ValueError(f"threshold must be a finite number; got {threshold!r}")
        check_int("batch_size", batch_size)
        result = self._predict(images, batch_size)
        threshold = self.threshold_ if threshold is None else float(threshold)
        if threshold is None:
            return result
        return replace(result, labels=(result.scores > threshold).astype(np.int64), threshold=threshold)

    @abc.abstractmethod
    def _predict(self, images: np.ndarray, batch_size: int) -> AnomalyResult:
        """Scores and maps of ``images``, without labels."""

    def fit_threshold(
        self,
        x_val: np.ndarray,
        x_val_anomalies: np.ndarray | None = None,
        strategy: str = "fpr",
        target_fpr: float = DEFAULT_TARGET_FPR,
        target_recall: float = 0.9,
        batch_size: int = SCORE_BATCH_SIZE,
    ) -> AnomalyDetector:
        """Set ``threshold_`` from validation images (never test images), and record how in ``threshold_info_``.

        Args:
            x_val: normal validation images, not used for training.
            x_val_anomalies: labelled validation anomalies (needed by
                ``"f1"`` and ``"recall"``; with ``"fpr"`` they only add the
                recall to ``threshold_info_``).
            strategy: ``"fpr"``: flag ``target_fpr`` of the normal images;
                ``"f1"``: the best F1 of normal against anomalous images;
                ``"recall"``: the highest threshold that flags at least
                ``target_recall`` of the anomalies.
            target_fpr: in ``(0, 1)``.
            target_recall: in ``(0, 1]``.
            batch_size: scoring batch size.

        ``threshold_info_`` records the strategy, its target, the number of
        validation images of each kind, the median score of the normal ones
        (``normal_median``: the zero of the normalised score of
        ``adda-keras score``), the false-positive rate (and recall)
        the threshold gives on them (with the 95% Wilson interval of that
        rate: what new normal images may show from sampling alone), and ``map_scale``, the
        :data:`MAP_SCALE_QUANTILE` quantile of the normal images' map values
        (a common colour scale for map overlays; ``None`` without maps).
        With fewer than ``1 / target_fpr`` normal images the ``"fpr"``
        threshold interpolates between the highest scores: it is logged as
        a warning, since the rate is then not measured but extrapolated; with
        fewer than :func:`~adda_keras.evaluation.images_for_fpr` images, a
        warning says that the rate on new images may be half or twice the target.
        """
        if strategy not in THRESHOLD_STRATEGIES:
            raise ValueError(f"strategy must be one of {THRESHOLD_STRATEGIES}; got {strategy!r}")
        check_number("target_fpr", target_fpr, 0.0, 1.0, open_low=True, open_high=True)
        check_number("target_recall", target_recall, 0.0, 1.0, open_low=True)
        check_int("batch_size", batch_size)
        if x_val is None:
            raise ValueError(
                "a threshold needs normal validation images (x_val); adda_keras does not invent one from "
                "training scores"
            )
        if strategy != "fpr" and x_val_anomalies is None:
            raise ValueError(f"the {strategy!r} threshold needs labelled validation anomalies (x_val_anomalies)")
        normal = self._predict(x_val, batch_size)
        anomalous = None if x_val_anomalies is None else self._predict(x_val_anomalies, batch_size).scores
        info: dict[str, Any] = {
            "strategy": strategy,
            "n_normal": len(normal.scores),
            "normal_median": float(np.median(normal.scores)),
        }
        if strategy == "fpr":
            threshold = threshold_at_fpr(normal.scores, target_fpr)
            info["target_fpr"] = float(target_fpr)
            if len(normal.scores) * target_fpr < 1:
                self._warn_once(
                    ("fpr unmeasurable", len(normal.scores), target_fpr),
                    f"{len(normal.scores)} normal validation image(s) cannot measure a false-positive rate of "
                    f"{target_fpr:g}: the threshold interpolates between their highest scores; hold out at least "
                    f"{math.ceil(1 / target_fpr)} images",
                )
            elif len(normal.scores) < images_for_fpr(target_fpr):
                flagged = int(np.sum(normal.scores > threshold))
                interval = "{:.3f}-{:.3f}".format(*wilson_interval(flagged, len(normal.scores)))
                self._warn_once(
                    ("fpr imprecise", len(normal.scores), target_fpr),
                    f"{len(normal.scores)} normal validation images measure a false-positive rate of {target_fpr:g} "
                    f"only to within a factor of two (95% interval {interval}): new normal images may be flagged at "
                    "half or twice that rate from sampling alone; hold out at least "
                    f"{images_for_fpr(target_fpr)} images for a threshold that transfers",
                )
        else:
            labels = np.r_[np.zeros(len(normal.scores)), np.ones(len(anomalous))]
            scores = np.r_[normal.scores, anomalous].astype(np.float64)
            if strategy == "f1":
                inclusive = threshold_best_f1(labels, scores)
            else:
                info["target_recall"] = float(target_recall)
                ranked = np.sort(anomalous.astype(np.float64))[::-1]
                inclusive = float(ranked[math.ceil(target_recall * len(ranked)) - 1])
            threshold = _just_below(inclusive, scores)
        info["validation_fpr"] = float(np.mean(normal.scores > threshold))
        info["validation_fpr_interval"] = list(
            wilson_interval(int(np.sum(normal.scores > threshold)), len(normal.scores))
        )
        if anomalous is not None:
            info["n_anomalies"] = len(anomalous)
            info["validation_recall"] = float(np.mean(anomalous > threshold))
        info["map_scale"] = None if normal.maps is None else float(np.quantile(normal.maps, MAP_SCALE_QUANTILE))
        self.threshold_, self.threshold_info_ = float(threshold), info
        logger.info("threshold %.6g fitted on validation data: %s", self.threshold_, info)
        return self

    def _warn_once(self, key: tuple[Any, ...], message: str, log: logging.Logger = logger) -> None:
        """Log ``message`` as a warning unless this detector already gave the warning ``key``.

        One ``fit`` may fit a threshold or measure a spread several times on
        the same validation images (``fit``, ``choose_beta``, a refit at the
        user's target), and an ensemble fits the self-supervised detector
        inside its own ``fit`` (:meth:`_share_warnings`): the user hears each
        warning once.
        """
        given = self.__dict__.setdefault("_warnings_given", set())
        if key not in given:
            given.add(key)
            log.warning(message)

    def _share_warnings(self, inner: AnomalyDetector) -> AnomalyDetector:
        """``inner`` (a detector fitted inside this one's ``fit``) gives only warnings this one has not."""
        inner._warnings_given = self.__dict__.setdefault("_warnings_given", set())
        return inner

    def _threshold_after_fit(self, x_val: np.ndarray | None) -> AnomalyDetector:
        """End of every ``fit``: the default threshold on ``x_val``, or none (and say so)."""
        self.threshold_ = self.threshold_info_ = None
        if x_val is None:
            logger.info(
                "no validation images (x_val): no threshold fitted; predict() gives no labels until "
                "fit_threshold() is called or a threshold is passed"
            )
            return self
        return self.fit_threshold(x_val)

    def score_samples(self, images: np.ndarray, batch_size: int = SCORE_BATCH_SIZE) -> np.ndarray:
        """One anomaly score per image, ``(N,)``: **higher = more anomalous**.

        This is the opposite sign of scikit-learn's ``score_samples`` (where
        IsolationForest and OneClassSVM return higher = more *normal*): a
        score from here can be given to ``roc_auc_score(y, scores)`` with
        anomalies labelled 1 as it is; negate it to compare with a
        scikit-learn detector's ``score_samples``.
        """
        return self.predict(images, batch_size).scores

    def anomaly_map(self, images: np.ndarray, batch_size: int = SCORE_BATCH_SIZE) -> np.ndarray:
        """One per-pixel anomaly map per image, ``(N, H, W)``."""
        maps = self.predict(images, batch_size).maps
        if maps is None:
            raise ValueError(f"the {self.method!r} detector gives scores but no per-pixel anomaly maps")
        return maps

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (JSON-able), as scikit-learn estimators report them."""
        return {}

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


class KerasDetector(AnomalyDetector):
    """A detector built from Keras networks: shared training settings, compiled scoring, ``.keras`` files.

    Args:
        method: the registered name.
        epochs: training epochs.
        batch_size: training batch size.
        latent_dim: size of the latent code (generative models).
        learning_rate: Adam learning rate.
        seed: seeds weights, noise and data order (deterministic on CPU); an integer in
            ``[0, 2**32 - 1]``.
        distribute: ``None``, ``"mirrored"`` or a ``tf.distribute.Strategy``.
        checkpoint_dir: if set, training state is backed up there after every
            epoch (``keras.callbacks.BackupAndRestore``) and an interrupted
            ``fit`` resumes from it when called again.
    """

    def __init__(
        self,
        method: str,
        epochs: int = 30,
        batch_size: int = 64,
        latent_dim: int = 16,
        learning_rate: float = 5e-4,
        seed: int = 0,
        distribute: str | tf.distribute.Strategy | None = None,
        checkpoint_dir: str | None = None,
    ) -> None:
        super().__init__(method)
        self.epochs = check_int("epochs", epochs)
        self.batch_size = check_int("batch_size", batch_size)
        self.latent_dim = check_int("latent_dim", latent_dim)
        self.learning_rate = check_number("learning_rate", learning_rate, open_low=True)
        self.seed = check_seed("seed", seed)
        resolve_strategy(distribute)  # reject unknown options now, not after data loading
        self.distribute = distribute
        self.checkpoint_dir = checkpoint_dir
        self.history_: dict[str, list[float]] = {}

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters (``distribute`` only when it is a name)."""
        params: dict[str, Any] = {
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "latent_dim": self.latent_dim,
            "learning_rate": self.learning_rate,
            "seed": self.seed,
            "checkpoint_dir": self.checkpoint_dir,
        }
        if self.distribute is None or isinstance(self.distribute, str):
            params["distribute"] = self.distribute
        return params

    # -- training ----------------------------------------------------------
    def _check_training_data(
        self, x_train: np.ndarray, x_val: np.ndarray | None, **others: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None, dict[str, np.ndarray | None]]:
        """Validate every training array and check that their image shapes agree."""
        x_train = check_images(x_train, "x_train")
        checked = {"x_val": x_val, **others}
        for name, array in checked.items():
            if array is not None:
                checked[name] = check_images(array, name)
                if checked[name].shape[1:] != x_train.shape[1:]:
                    raise ValueError(
                        f"{name} must have the image shape of x_train {x_train.shape[1:]}; "
                        f"got {checked[name].shape[1:]}"
                    )
        return x_train, checked.pop("x_val"), checked

    def _fit_model(
        self,
        build: Callable[[], keras.Model],
        x_train: np.ndarray,
        x_val: np.ndarray | None,
        x_known: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        verbose: int | str,
    ) -> keras.Model:
        """Seed, build and compile under the strategy, then ``fit`` with the divergence guard."""
        set_seed(self.seed)
        with resolve_strategy(self.distribute).scope():
            model = build()
            model.compile(learning_rate=self.learning_rate)
        train = make_dataset(x_train, self.batch_size, shuffle=True, seed=self.seed, extra=x_known)
        val = None if x_val is None else make_dataset(x_val, self.batch_size, shuffle=False)
        callbacks = [DivergenceGuard(), *callbacks]
        if self.checkpoint_dir is not None:
            callbacks.append(keras.callbacks.BackupAndRestore(self.checkpoint_dir))
        history = model.fit(
            train,
            epochs=self.epochs,
            validation_data=val,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles, seeded
        )
        self.history_ = {k: [float(v) for v in values] for k, values in history.history.items()}
        return model

    # -- inference ---------------------------------------------------------
    def _predict(self, images: np.ndarray, batch_size: int) -> AnomalyResult:
        """Scores and anomaly maps of ``images``, one compiled pass per batch."""
        images = self._check_input(images)
        scores, maps = [], []
        for start in range(0, len(images), batch_size):
            batch_scores, batch_maps = self._predict_batch(tf.constant(images[start : start + batch_size]))
            scores.append(batch_scores.numpy())
            maps.append(batch_maps.numpy())
        return AnomalyResult(np.concatenate(scores).astype(np.float32), np.concatenate(maps).astype(np.float32))

    @abc.abstractmethod
    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Scores ``(n,)`` and maps ``(n, H, W)`` of one batch."""

    # -- saving --------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Save the trained networks, settings and calibration as one ``.keras`` file."""
        path = Path(path)
        if path.suffix != ".keras":
            raise ValueError(f"a Keras detector saves to a '.keras' file; got {str(path)!r}")
        if self.image_shape_ is None:
            raise RuntimeError("fit the detector before saving it")
        metadata = {"method": self.method, "params": self.get_params(), "state": self._fitted_state()}
        DetectorBundle(self._networks(), metadata).save(path)

    @abc.abstractmethod
    def _networks(self) -> dict[str, keras.Model]:
        """The trained functional networks that define the detector."""

    def _fitted_state(self) -> dict[str, Any]:
        """JSON-able fitted attributes besides the networks."""
        return {
            "image_shape": list(self.image_shape_),
            "history": self.history_,
            "threshold": self.threshold_,
            "threshold_info": self.threshold_info_,
        }

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        """Rebuild the fitted detector from saved networks and state (files saved before thresholds have none)."""
        self.image_shape_ = tuple(state["image_shape"])
        self.history_ = state["history"]
        self.threshold_ = state.get("threshold")
        self.threshold_info_ = state.get("threshold_info")


@keras.saving.register_keras_serializable(package="adda_keras")
class DetectorBundle(keras.Model):
    """A detector's trained networks and its JSON settings, as one Keras model.

    Only used for saving: ``.keras`` files then hold every network and the
    settings needed to rebuild the detector in a fresh process.
    """

    def __init__(self, networks: dict[str, keras.Model], metadata: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.networks = dict(networks)
        self.metadata_json = json.dumps(metadata)
        self.built = True  # the networks are built functional models

    def call(self, inputs: Any) -> Any:
        """Not a model to call: it only carries networks for saving."""
        raise TypeError("DetectorBundle only stores networks; load it with adda_keras.load_detector")

    def get_config(self) -> dict[str, Any]:
        """Serialise every network and the settings."""
        return {
            **super().get_config(),
            "networks": {name: keras.saving.serialize_keras_object(net) for name, net in self.networks.items()},
            "metadata": json.loads(self.metadata_json),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> DetectorBundle:
        """Rebuild the networks (weights are loaded afterwards by Keras)."""
        config = dict(config)
        config["networks"] = {k: keras.saving.deserialize_keras_object(v) for k, v in config["networks"].items()}
        return cls(**config)


#: where detector classes lived before the detectors were grouped by family (version 0.1.0), so that
#: ``.pkl`` files saved then still load
MOVED_MODULES = {
    "adda_keras.baselines": "adda_keras.detectors.baselines",
    "adda_keras.ada": "adda_keras.detectors.ada",
    "adda_keras.reconstruction": "adda_keras.detectors.reconstruction",
    "adda_keras.supervised": "adda_keras.detectors.supervised",
}


class _Unpickler(pickle.Unpickler):
    """An unpickler that finds classes saved under their modules' old names (:data:`MOVED_MODULES`)."""

    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(MOVED_MODULES.get(module, module), name)


def load_detector(path: str | Path) -> AnomalyDetector:
    """Load a detector saved with ``save``: a ``.keras`` file (Keras detectors) or ``.pkl`` (pixel baselines).

    A file that exists but cannot be read back (corrupt, truncated, empty, or
    not written by ``save``) raises ``ValueError`` naming the file and the
    problem.

    Warning:
        A ``.pkl`` file is a Python pickle: loading it runs code that the
        file's author chose. Load only ``.pkl`` detectors that you saved
        yourself or that come from someone you trust; ``.keras`` files are
        loaded without running stored code (Keras' safe mode).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no saved detector at {str(path)!r}")
    if path.suffix not in (".keras", ".pkl"):
        raise ValueError(f"a saved detector is a '.keras' or '.pkl' file; got {str(path)!r}")
    try:
        if path.suffix == ".pkl":
            with open(path, "rb") as handle:
                detector = _Unpickler(handle).load()
        else:
            bundle = keras.saving.load_model(path, compile=False)
    # Corrupt files surface as many types (BadZipFile, UnpicklingError, EOFError,
    # a misleading "File not found"...): one error type that names the file.
    except Exception as error:  # noqa: BLE001
        raise ValueError(
            f"cannot load the detector file {str(path)!r} ({path.stat().st_size} bytes): it is corrupt, "
            f"truncated or was not written by adda_keras ({type(error).__name__}: {error})"
        ) from error
    if path.suffix == ".pkl":
        if not isinstance(detector, AnomalyDetector):
            raise ValueError(f"{str(path)!r} does not hold an adda_keras detector")
        return detector
    if not isinstance(bundle, DetectorBundle):
        raise ValueError(f"{str(path)!r} holds a {type(bundle).__name__}, not a detector saved by adda_keras")
    metadata = json.loads(bundle.metadata_json)
    detector = make_detector(metadata["method"], **metadata["params"])
    detector._restore(bundle.networks, metadata["state"])
    return detector


def _just_below(inclusive: float, scores: np.ndarray) -> float:
    """A threshold that labels exactly the scores ``>= inclusive`` as anomalies under the rule ``score > threshold``.

    Midway between ``inclusive`` and the highest score below it (a hair
    below ``inclusive`` when no score is lower).
    """
    lower = scores[scores < inclusive]
    if lower.size:
        return float((inclusive + lower.max()) / 2)
    return float(np.nextafter(np.float32(inclusive), np.float32(-np.inf)))
