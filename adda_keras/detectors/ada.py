"""Adversarial Discriminative Attention and AnoVAEGAN: the VAEGAN-based detectors.

Self-supervised (:class:`VAEGANDetector`), one VAEGAN, four scores:

* ``anovaegan`` — pixel residual ``mean (x - x̂)²`` (Baur et al. 2018);
* ``ada`` — "CAM + D": ``||c ⊙ (x - x̂)||² / ||c||² - β·D(x)``, ``c = CAM(x) + CAM(x̂)``;
* ``ada-cam-only`` — β = 0;
* ``ada-d-only`` — ``-D(x)``.

Semi-supervised (:class:`SemiSupervisedADADetector`), with a few images of
one known anomaly: a second VAEGAN whose discriminator also learns the known
anomalies as "not normal" gives ``D_ano``; with ``D_G`` from the
self-supervised VAEGAN:

* ``ada-semi`` — "CAM + D_G + D_ano": ``c`` sums the CAMs of both
  discriminators on ``x`` and ``x̂``; the score subtracts
  ``β·(D_G(x) + D_ano(x))``;
* ``ada-cam-ano`` — attention from ``D_ano`` alone, no D term.

The reconstruction ``x̂`` always comes from the self-supervised VAEGAN's
generator (trained on normal images only). Scores and maps for a batch come
from one compiled ``tf.function`` pass per fixed batch shape that computes
only what the score needs, with the decoder in its exact low-resolution
form (:mod:`adda_keras.detectors.fast_scoring`).

β is given in units of the two terms' spread on normal validation images:
the raw weight is ``β · std(attention term) / std(D term)``, so β means the
same whatever the image scale (the paper's β = 0.2 belongs to its own,
unpublished score scale). Where labelled validation anomalies exist
(semi-supervised), β is instead chosen from ``beta_grid`` by validation AUROC.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import keras
import numpy as np
import scipy.stats
import tensorflow as tf

from adda_keras.attention import ATTENTION_METHODS, NORMALISATIONS, check_option
from adda_keras.detectors.base import SCORE_BATCH_SIZE, AnomalyResult, KerasDetector, register_detector
from adda_keras.detectors.fast_scoring import VAEGANPasses, run_in_batches
from adda_keras.evaluation import auroc
from adda_keras.models.networks import UPSAMPLING_MODES
from adda_keras.models.vaegan import VAEGAN
from adda_keras.scoring import EPSILON, ada_score_from_terms, spread_ratio
from adda_keras.scoring import weighted_residual_map as weighted_residual_map  # its old import path
from adda_keras.training import resolve_strategy
from adda_keras.validation import check_number

logger = logging.getLogger(__name__)

#: The VAEGAN settings shared by every VAEGAN-based score (AnoVAEGAN and the
#: ADA ablations are scores of one trained model, as in the paper), chosen on
#: held-out validation data of normal digits 2, 5 and 7 by
#: ``studies/tune_attention.py`` (``results/attention_tuning.md``): spectral
#: normalisation keeps the discriminator from becoming certain that every
#: reconstruction is fake, and its attention then sits on the digit.
VAEGAN_DEFAULTS: dict[str, Any] = {
    "kl_weight": 0.1,
    "feature_weight": 0.05,
    "pixel_weight": 1.0,
    "gamma": 1.0,
    "adversarial_weight": 1.0,
    "instance_noise": 0.0,
    "residual_swap": False,
    "diff_augment": False,
    "equilibrium": False,
    "upsampling": "resize",
    "discriminator_downsampling": 1,
    "spectral_norm": True,
}
#: The score settings, chosen on the same validation data among attention
#: normalisations, attention sources, floors and β, with β re-measured in the
#: units of each attention setting (``results/tuning_rerun/``).
SCORE_DEFAULTS: dict[str, Any] = {
    "beta": 0.5,
    "attention": "cam",
    "normalisation": "absmax",
    "attention_floor": 0.5,
    "attention_sources": "both",
}
#: which images' CAMs form the attention ``c``
ATTENTION_SOURCES = ("both", "input")
#: settings that change the score but not the trained networks (see ``variant``)
SCORE_SETTINGS = ("beta", "attention", "normalisation", "attention_floor", "attention_sources")
#: the scores with a D term, whose β is in spread units
BETA_METHODS = ("ada", "ada-semi")
#: candidate β (in spread units) when labelled validation anomalies exist
BETA_GRID = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
#: fewest normal validation images on which β's spread ratio is measured (else x_train is used)
MIN_SPREAD_IMAGES = 10
#: fewest labelled anomalies from which :meth:`VAEGANDetector.choose_beta` chooses without a warning
MIN_BETA_ANOMALIES = 10
#: a candidate β replaces the current one only if its validation AUROC gain exceeds this many standard errors
BETA_SWITCH_SE = 2.0
#: bootstrap resamples behind those standard errors
BETA_BOOTSTRAPS = 500

PartsFn = VAEGANPasses


def compile_vaegan_parts(
    model: VAEGAN,
    discriminators: list[keras.Model],
    image_shape: tuple[int, int, int],
    attention: str,
    normalisation: str,
    attention_floor: float = 0.0,
    attention_sources: str = "both",
) -> PartsFn:
    """Compile the forward passes that the VAEGAN-based scores need (a :class:`VAEGANPasses`).

    Called on a batch ``x``, it returns the reconstruction ``x̂`` (by ``model``), the
    attention ``c = sum over discriminators of CAM(x) + CAM(x̂)``, the two
    halves of ``c``, the summed normal probability ``sum D(x)`` and the
    attention-weighted residual. One discriminator gives self-supervised
    ADA; ``[D_G, D_ano]`` gives the semi-supervised ensemble.
    ``attention_floor`` is added to ``c`` everywhere (see
    :class:`VAEGANDetector`); ``attention_sources="input"`` drops the
    ``CAM(x̂)`` half from ``c`` (it is still returned for plots).
    ``image_shape`` is that of the images the detector scores (each batch
    shape is traced once).
    """
    check_option("attention sources", attention_sources, ATTENTION_SOURCES)
    return VAEGANPasses(model, discriminators, attention, normalisation, attention_floor, attention_sources)


def check_vaegan_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Validate the VAEGAN settings of a detector; return them with canonical types.

    Loss weights and ``instance_noise`` must be finite and >= 0,
    ``upsampling`` one of :data:`~adda_keras.models.networks.UPSAMPLING_MODES`,
    ``discriminator_downsampling`` 0, 1 or 2; ``spectral_norm``, ``residual_swap``, ``diff_augment`` and
    ``equilibrium`` bools.
    """
    checked = dict(settings)
    for name in ("kl_weight", "feature_weight", "pixel_weight", "gamma", "adversarial_weight", "instance_noise"):
        value = checked[name]
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
        checked[name] = float(value)
    check_option("upsampling", checked["upsampling"], UPSAMPLING_MODES)
    downsampling = checked["discriminator_downsampling"]
    if isinstance(downsampling, bool) or downsampling not in (0, 1, 2):
        raise ValueError(f"discriminator_downsampling must be 0, 1 or 2; got {downsampling!r}")
    checked["discriminator_downsampling"] = int(downsampling)
    for name in ("spectral_norm", "residual_swap", "diff_augment", "equilibrium"):
        if not isinstance(checked[name], (bool, np.bool_)):
            raise ValueError(f"{name} must be True or False; got {checked[name]!r}")
        checked[name] = bool(checked[name])
    return checked


class _AttentionDetector(KerasDetector):
    """Shared settings and scoring plumbing of the VAEGAN-based detectors."""

    #: fitted attributes (besides shape, history, β) that a variant shares
    _fitted_networks: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        method: str,
        beta: float = SCORE_DEFAULTS["beta"],
        attention: str = SCORE_DEFAULTS["attention"],
        normalisation: str = SCORE_DEFAULTS["normalisation"],
        attention_floor: float = SCORE_DEFAULTS["attention_floor"],
        attention_sources: str = SCORE_DEFAULTS["attention_sources"],
        **params: Any,
    ) -> None:
        vaegan_settings = {**VAEGAN_DEFAULTS, **{k: params.pop(k) for k in VAEGAN_DEFAULTS if k in params}}
        super().__init__(method, **params)
        check_option("attention method", attention, ATTENTION_METHODS)
        check_option("normalisation", normalisation, NORMALISATIONS)
        check_option("attention sources", attention_sources, ATTENTION_SOURCES)
        if not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"beta must be a finite number >= 0; got {beta!r}")
        self.beta = float(beta)
        self.attention = attention
        self.normalisation = normalisation
        self.attention_sources = attention_sources
        if not (np.isfinite(attention_floor) and attention_floor >= 0):
            raise ValueError(f"attention_floor must be a finite number >= 0; got {attention_floor!r}")
        self.attention_floor = float(attention_floor)
        #: the VAEGAN's architecture and loss settings (keys of :data:`VAEGAN_DEFAULTS`)
        self.vaegan_settings = check_vaegan_settings(vaegan_settings)
        if self.vaegan_settings["equilibrium"] and resolve_strategy(self.distribute).num_replicas_in_sync > 1:
            raise ValueError(
                "equilibrium gating decides per device, so it cannot train on several devices: "
                "use distribute=None with equilibrium=True"
            )
        #: std(attention term) / std(D term) on normal validation images, measured at fit time
        self.spread_ratio_: float | None = None
        self._parts_fn: PartsFn | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {
            **super().get_params(),
            "beta": self.beta,
            "attention": self.attention,
            "normalisation": self.normalisation,
            "attention_floor": self.attention_floor,
            "attention_sources": self.attention_sources,
            **self.vaegan_settings,
        }

    def _build_settings(self) -> dict[str, Any]:
        """The settings :meth:`VAEGAN.build_default` gets for the VAEGAN that ``fit`` trains."""
        return self.vaegan_settings

    def _train_vaegan(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None,
        x_known: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        verbose: int | str,
    ) -> VAEGAN:
        shape = x_train.shape[1:]
        settings = self._build_settings()
        return self._fit_model(
            lambda: VAEGAN.build_default(shape, self.latent_dim, seed=self.seed, **settings),
            x_train,
            x_val,
            x_known,
            callbacks,
            verbose,
        )

    def explain(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Every intermediate of the score, for plots and notebooks.

        Returns ``reconstruction`` (N, H, W, C), ``attention`` ``c`` (N, H, W),
        ``attention_input`` / ``attention_reconstruction`` (the CAMs of ``x``
        and ``x̂``), ``normal_probability`` ``D(x)`` (N,) and
        ``weighted_residual`` (N,).
        """
        return self._batched_parts(self._check_input(images))

    def _batched_parts(self, images: np.ndarray, batch_size: int = SCORE_BATCH_SIZE) -> dict[str, np.ndarray]:
        return run_in_batches(self._compiled_parts(), images, batch_size)

    def _predict(self, images: np.ndarray, batch_size: int) -> AnomalyResult:
        """Scores and maps in batches of exactly ``batch_size`` (the last one padded): one trace per batch size."""
        images = self._check_input(images)
        beta = tf.constant(self._score_beta(), tf.float32)
        scores, maps = run_in_batches(self._compiled_parts().score_pass(self._score_kind()), images, batch_size, beta)
        return AnomalyResult(scores, maps)

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        beta = tf.constant(self._score_beta(), tf.float32)
        return self._compiled_parts().score_pass(self._score_kind())(images, beta)

    def _score_kind(self) -> str:
        """What the score needs (:data:`~adda_keras.detectors.fast_scoring.SCORE_KINDS`)."""
        return "ada"

    def _score_beta(self) -> float:
        """The raw weight of the D term in this detector's score (0 for the scores without one)."""
        return self.beta_effective_

    def _compiled_parts(self) -> PartsFn:
        """The compiled forward pass, traced once and shared by variants."""
        if self._parts_fn is None:
            model, discriminators = self._scoring_networks()
            self._parts_fn = compile_vaegan_parts(
                model,
                discriminators,
                self.image_shape_,
                self.attention,
                self.normalisation,
                self.attention_floor,
                self.attention_sources,
            )
        return self._parts_fn

    @property
    def beta_effective_(self) -> float | None:
        """The raw weight of the D term: β (in spread units) times ``spread_ratio_``."""
        if self.spread_ratio_ is None:
            return None
        return self._beta_in_use() * self.spread_ratio_

    def _beta_in_use(self) -> float:
        return self.beta

    def _copy_beta(self, source: _AttentionDetector, overridden: bool) -> None:
        """Take over the β that ``source`` chose at fit time, unless the variant sets its own."""

    def variant(
        self, method: str | None = None, x_reference: np.ndarray | None = None, **score_settings: Any
    ) -> _AttentionDetector:
        """The same trained networks, scored as ``method`` and/or with other score settings.

        ``score_settings`` may change ``beta``, ``attention``,
        ``normalisation``, ``attention_floor`` and ``attention_sources``: they
        need no retraining. The variant has no threshold (its scores differ):
        fit one with ``fit_threshold``.

        ``beta`` is in units of the spread of the attention term, and that
        term changes with the attention settings. By default the variant
        keeps the spread ratio measured at fit time, with the fit-time
        attention settings; pass normal images as ``x_reference`` (e.g. the
        ``x_val`` of ``fit``) to measure it again for the variant's own
        settings, so that a given β means the same for every setting. A
        variant with other attention settings, a D term and no
        ``x_reference`` logs a warning.
        """
        if self.image_shape_ is None:
            raise RuntimeError("fit the detector before asking for a variant")
        unknown = set(score_settings) - set(SCORE_SETTINGS)
        if unknown:
            raise ValueError(f"variant() can change only {list(SCORE_SETTINGS)}; got {sorted(unknown)}")
        if x_reference is not None:
            x_reference = self._check_input(x_reference)
        clone = type(self)(method=method or self.method, **{**self.get_params(), **score_settings})
        clone.distribute = self.distribute
        for name in ("image_shape_", "history_", "spread_ratio_", *self._fitted_networks):
            setattr(clone, name, getattr(self, name))
        clone._copy_beta(self, "beta" in score_settings)
        same_pass = all(score_settings.get(k, getattr(self, k)) == getattr(self, k) for k in SCORE_SETTINGS[1:])
        if same_pass and clone._scoring_networks() == self._scoring_networks():
            clone._parts_fn = self._parts_fn  # same networks and attention: share the traced pass
        if x_reference is not None:
            clone.spread_ratio_ = clone._spread_ratio(x_reference)
        elif not same_pass and clone.method in BETA_METHODS and clone._beta_in_use() > 0:
            logger.warning(
                "variant(%s): beta=%g is in the spread units of the fit-time attention term, not of this "
                "variant's; pass x_reference (normal images) to re-measure the spread ratio",
                ", ".join(f"{k}={v!r}" for k, v in score_settings.items()),
                clone._beta_in_use(),
            )
        return clone

    @abc.abstractmethod
    def _scoring_networks(self) -> tuple[VAEGAN, list[keras.Model]]:
        """The VAEGAN that reconstructs and the discriminators that attend."""

    def _spread_reference(self, x_train: np.ndarray, x_val: np.ndarray | None) -> np.ndarray:
        """The normal images on which β's spread ratio is measured: ``x_val``, else ``x_train``.

        A spread over a handful of images is 0 or noise (one image gives a
        ratio of 0, which would silently drop the D term), so an ``x_val`` of
        fewer than :data:`MIN_SPREAD_IMAGES` images is replaced by
        ``x_train``, with a warning.
        """
        if x_val is None:
            return x_train
        if len(x_val) < MIN_SPREAD_IMAGES:
            self._warn_once(
                ("spread on x_train", len(x_val)),
                f"x_val holds {len(x_val)} image(s), fewer than the {MIN_SPREAD_IMAGES} needed to measure beta's "
                "spread ratio (on so few images the D term would get a weight of about 0, or noise); measuring it "
                "on x_train instead",
                logger,
            )
            return x_train
        return x_val

    def _spread_ratio(self, x_reference: np.ndarray) -> float:
        """``std(attention term) / std(D term)`` on normal reference images; warns when it cannot be measured."""
        parts = self._batched_parts(x_reference)
        spread_attention = float(np.std(parts["weighted_residual"]))
        spread_d = float(np.std(parts["normal_probability"]))
        if spread_attention <= EPSILON or spread_d <= EPSILON:
            logger.warning(
                "beta's spread ratio is degenerate on %d reference image(s) (std of the attention term %.3g, "
                "of D(x) %.3g): the D term of the score gets %s weight",
                len(x_reference),
                spread_attention,
                spread_d,
                "no" if spread_attention <= EPSILON else "an overwhelming",
            )
        return spread_ratio(parts["weighted_residual"], parts["normal_probability"])

    def _auroc_per_beta(
        self, x_normal: np.ndarray, x_anomalous: np.ndarray, grid: Sequence[float]
    ) -> dict[float, float]:
        """Validation AUROC of the score at every β of ``grid`` (spread units), from one pass over the images."""
        labels = np.r_[np.zeros(len(x_normal)), np.ones(len(x_anomalous))]
        parts = self._batched_parts(np.concatenate([x_normal, x_anomalous]))
        return {
            float(b): auroc(
                labels,
                ada_score_from_terms(parts["weighted_residual"], parts["normal_probability"], b * self.spread_ratio_),
            )
            for b in grid
        }

    def _beta_decision(
        self,
        x_normal: np.ndarray,
        x_anomalous: np.ndarray,
        grid: Sequence[float],
        current: float,
        switch_se: float,
        seed: int,
    ) -> dict[str, Any]:
        """β from ``grid`` on these validation images by :func:`decide_beta`, the rule every choice of β shares."""
        parts = self._batched_parts(np.concatenate([x_normal, x_anomalous]))
        return decide_beta(
            parts["weighted_residual"],
            parts["normal_probability"],
            len(x_normal),
            self.spread_ratio_,
            grid,
            current,
            switch_se,
            seed,
        )

    def _checked_beta_decision(
        self, x_val: np.ndarray, x_val_anomalies: np.ndarray, grid: Sequence[float], switch_se: float, seed: int
    ) -> dict[str, Any]:
        """``choose_beta``'s arguments checked, then :meth:`_beta_decision` from the β in use."""
        if self.method not in self.beta_choosers:
            scores = " or ".join(repr(m) for m in self.beta_choosers)
            raise ValueError(f"choose_beta applies to the {scores} score; {self.method!r} has no D term to weight")
        if isinstance(grid, (str, bytes)) or not isinstance(grid, Iterable):
            raise ValueError(f"grid must be a sequence of numbers >= 0, e.g. (0, 0.5, 2); got {grid!r}")
        grid = list(grid)
        if not grid or not all(
            isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and np.isfinite(b) and b >= 0
            for b in grid
        ):
            raise ValueError(f"grid must hold one or more finite numbers >= 0; got {grid!r}")
        if not (isinstance(switch_se, (int, float)) and np.isfinite(switch_se) and switch_se >= 0):
            raise ValueError(f"switch_se must be a finite number >= 0; got {switch_se!r}")
        x_val = self._check_input(x_val)
        x_val_anomalies = self._check_input(x_val_anomalies)
        return self._beta_decision(x_val, x_val_anomalies, grid, float(self._beta_in_use()), switch_se, seed)

    def _loss_settings(self) -> dict[str, float]:
        """The settings that :class:`VAEGAN`'s constructor takes (not the builders')."""
        return {k: v for k, v in self.vaegan_settings.items() if k in VAEGAN.hyperparameter_names}

    def _fitted_state(self) -> dict[str, Any]:
        return {**super()._fitted_state(), "spread_ratio": self.spread_ratio_}

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.spread_ratio_ = state["spread_ratio"]
        self._parts_fn = None


#: score variants of one self-supervised VAEGAN
SELF_SUPERVISED_METHODS = ("anovaegan", "ada", "ada-cam-only", "ada-d-only")


@register_detector(*SELF_SUPERVISED_METHODS)
class VAEGANDetector(_AttentionDetector):
    """AnoVAEGAN and self-supervised ADA: one VAEGAN, four scores.

    Args:
        method: ``"anovaegan"``, ``"ada"``, ``"ada-cam-only"`` or ``"ada-d-only"``.
        **params: the settings below, all optional.

    Settings of the score (defaults in :data:`SCORE_DEFAULTS`, chosen on
    validation data): ``beta`` (0.5), the weight of ``D(x)`` in units of
    the two terms' spread on normal validation images (see the module
    docstring; ``beta_effective_`` is the raw weight applied); ``attention``
    (``"cam"`` or ``"grad-cam"``); ``normalisation`` (``"absmax"``: evidence
    of either sign, ``"max"`` or ``"minmax"``: positive evidence only);
    ``attention_floor`` (0.5), a constant added to ``c`` everywhere: the
    paper's known failure case is an anomaly *in the background*, which the
    attention masks out; a floor keeps some weight on every pixel (the
    attention's peak is 2 per discriminator), and a very large floor turns
    the attention term into the plain pixel residual; ``attention_sources`` (``"both"``: ``c = CAM(x) + CAM(x̂)`` as
    in the paper; ``"input"``: ``CAM(x)`` alone).
    The VAEGAN (defaults in :data:`VAEGAN_DEFAULTS`, chosen on validation
    data): loss weights ``kl_weight``, ``feature_weight``, ``pixel_weight``,
    ``gamma``, ``adversarial_weight``, ``instance_noise``, ``residual_swap``,
    ``diff_augment`` and ``equilibrium`` (see
    :class:`~adda_keras.models.vaegan.VAEGAN`); the decoder's ``upsampling``,
    the discriminator's ``discriminator_downsampling`` (strided layers: 1
    gives a 14x14 CAM on 28x28 images) and ``spectral_norm``.
    Training (see :class:`~adda_keras.detectors.KerasDetector`): ``epochs``
    (30, about a minute for 600 MNIST images on 2 CPU cores), ``batch_size``,
    ``latent_dim``, ``learning_rate``, ``seed``, ``distribute``,
    ``checkpoint_dir``.
    """

    methods = SELF_SUPERVISED_METHODS
    learning = "one-class"
    beta_choosers = ("ada",)  # the only score of the four with both terms
    _fitted_networks = ("model_",)

    def __init__(self, method: str = "ada", **params: Any) -> None:
        super().__init__(method, **params)
        self.model_: VAEGAN | None = None
        #: validation AUROC per candidate β of the last :meth:`choose_beta` (None before)
        self.beta_validation_: dict[float, float] | None = None
        #: the last :meth:`choose_beta`'s decision and its sampling uncertainty (None before)
        self.beta_choice_: dict[str, Any] | None = None

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> VAEGANDetector:
        """Train the VAEGAN on normal images, then calibrate ``beta`` on ``x_val``."""
        if x_known is not None or x_val_known is not None:
            raise ValueError(f"{self.method!r} is self-supervised and takes no known anomalies; use 'ada-semi'")
        x_train, x_val, _ = self._check_training_data(x_train, x_val)
        self.model_ = self._train_vaegan(x_train, x_val, None, callbacks, verbose)
        self.image_shape_ = tuple(x_train.shape[1:])
        self._parts_fn = None
        self.spread_ratio_ = self._spread_ratio(self._spread_reference(x_train, x_val))
        logger.info("beta=%g -> raw D weight %.4g", self.beta, self.beta_effective_)
        self.beta_validation_ = None
        return self._threshold_after_fit(x_val)

    def choose_beta(
        self,
        x_val: np.ndarray,
        x_val_anomalies: np.ndarray,
        grid: Sequence[float] = BETA_GRID,
        switch_se: float = BETA_SWITCH_SE,
        seed: int = 0,
    ) -> VAEGANDetector:
        """Set ``beta`` from ``grid`` by validation AUROC, but only where the labelled images can tell.

        The default β was chosen on noisy MNIST, where ``D(x)`` helps; on other
        images the discriminator's belief can run the wrong way (on notebook
        07's brick textures ``D(x)`` alone has an AUROC far below 0.5), and
        only labelled anomalies can tell. With a handful of them, though, the
        best of seven AUROCs is often best by chance, and a β chosen on one
        pair of images can cost far more on new ones than it gained on these.
        So the current ``beta`` (the default unless set) is kept unless the
        best candidate beats it by more than ``switch_se`` standard errors of
        the AUROC gain, estimated by a paired, stratified bootstrap over the
        normal and the anomalous validation images (:data:`BETA_BOOTSTRAPS`
        resamples, seeded by ``seed``). With fewer than
        :data:`MIN_BETA_ANOMALIES` anomalies it is kept in any case, with a
        warning: resampling one or two anomalies cannot show how differently
        new ones would rank, so the bootstrap error would be too small to
        trust (``switch_se=0`` still takes the best). A warning is also
        logged when no candidate's AUROC
        differs from 0.5 by more than two standard errors: such "anomalies"
        look like the normal images to the detector (copies of them, or
        mislabelled), and no β can be chosen from them.

        Both sets must be validation images, never the images the detector is
        evaluated on. The networks are unchanged; the default threshold is
        refitted on ``x_val`` (the scores change with β).

        Args:
            x_val: normal validation images.
            x_val_anomalies: anomalous validation images (e.g. of a known anomaly).
            grid: candidate β values, in spread units (0 = no D term); the
                current β is always a candidate, and the smallest of equally
                good values is the best.
            switch_se: how many standard errors the gain must exceed (0 = take the best AUROC).
            seed: seeds the bootstrap.

        Returns:
            ``self``, with ``beta`` set, every candidate's validation AUROC in
            ``beta_validation_`` and the decision with its uncertainty in
            ``beta_choice_`` (``current``, ``best``, ``chosen``, ``gain``,
            ``gain_se``, ``se`` per β, ``n_normal``, ``n_anomalies``,
            ``switch_se``, ``warnings``).
        """
        decision = self._checked_beta_decision(x_val, x_val_anomalies, grid, switch_se, seed)
        self.beta = decision["chosen"]
        self.beta_validation_ = decision.pop("validation")
        self.beta_choice_ = decision
        return self._threshold_after_fit(x_val)

    def _scoring_networks(self) -> tuple[VAEGAN, list[keras.Model]]:
        return self.model_, [self.model_.discriminator]

    def _score_kind(self) -> str:
        return {"anovaegan": "pixel", "ada-d-only": "belief"}.get(self.method, "ada")

    def _score_beta(self) -> float:
        return self.beta_effective_ if self.method == "ada" else 0.0

    def _networks(self) -> dict[str, keras.Model]:
        return {
            "encoder": self.model_.encoder,
            "decoder": self.model_.decoder,
            "discriminator": self.model_.discriminator,
        }

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.model_ = VAEGAN(
            networks["encoder"], networks["decoder"], networks["discriminator"], **self._loss_settings()
        )


def decide_beta(
    residual: np.ndarray,
    probability: np.ndarray,
    n_normal: int,
    spread_ratio: float,
    grid: Sequence[float],
    current: float,
    switch_se: float,
    seed: int,
) -> dict[str, Any]:
    """The β rule of :meth:`VAEGANDetector.choose_beta` on the two terms of the score, one per validation image.

    ``residual`` and ``probability`` hold the attention-weighted residual
    and ``D(x)`` of ``n_normal`` normal images, then of the labelled
    anomalies; the score at β is ``residual - β · spread_ratio ·
    probability``. The best candidate of ``grid`` replaces ``current`` only
    when its AUROC gain exceeds ``switch_se`` bootstrap standard errors;
    below :data:`MIN_BETA_ANOMALIES` anomalies ``current`` is kept (unless
    ``switch_se`` is 0); warnings (logged and returned) below that minimum
    and when every AUROC is 0.5 within error. A function of arrays, so that
    stored score terms can be read with the library's own rule. Returns
    ``validation`` (AUROC per β), ``current``, ``best``, ``chosen``,
    ``gain``, ``gain_se``, ``se``, ``n_normal``, ``n_anomalies``,
    ``switch_se`` and ``warnings``.
    """
    residual = np.asarray(residual, np.float64)
    probability = np.asarray(probability, np.float64)
    n_anomalies = len(residual) - n_normal
    candidates = sorted({float(b) for b in grid} | {float(current)})
    labels = np.r_[np.zeros(n_normal), np.ones(n_anomalies)]
    scores = {b: ada_score_from_terms(residual, probability, b * spread_ratio) for b in candidates}
    validation = {b: auroc(labels, scores[b]) for b in candidates}
    resampled = _bootstrap_aurocs(scores, n_normal, BETA_BOOTSTRAPS, seed)
    best = max(candidates, key=validation.get)  # the first, i.e. smallest, of equals
    gain = validation[best] - validation[current]
    gain_se = float(np.std(resampled[best] - resampled[current]))
    too_few = n_anomalies < MIN_BETA_ANOMALIES and switch_se > 0
    chosen = best if gain > 0 and gain > switch_se * gain_se and not too_few else current
    se = {b: float(np.std(resampled[b])) for b in candidates}
    warnings = []
    if too_few:
        warnings.append(
            f"only {n_anomalies} labelled anomalies (fewer than {MIN_BETA_ANOMALIES}): one of them "
            f"more or less moves an AUROC by up to {1 / n_anomalies:.2f}, and resampling so few cannot "
            f"show how differently new anomalies would rank (bootstrap standard error at beta {current:g}: "
            f"{se[current]:.3f}), so beta stays at {current:g}"
        )
    if all(abs(validation[b] - 0.5) <= max(2 * se[b], 0.01) for b in candidates):
        warnings.append(
            "the labelled anomalies are indistinguishable from the normal validation images (every candidate's "
            f"AUROC is 0.5 within sampling error: {', '.join(f'{validation[b]:.3f}' for b in candidates)}); "
            "are they copies of normal images, or mislabelled? beta is not changed on their account"
        )
    for message in warnings:
        logger.warning("beta choice: %s", message)
    decision = {
        "validation": validation,
        "current": float(current),
        "best": best,
        "chosen": chosen,
        "gain": float(gain),
        "gain_se": gain_se,
        "se": se,
        "n_normal": n_normal,
        "n_anomalies": n_anomalies,
        "switch_se": float(switch_se),
        "warnings": warnings,
    }
    logger.info("beta %g (validation AUROC per beta: %s; choice %s)", chosen, validation, decision)
    return decision


def _bootstrap_aurocs(
    scores: dict[float, np.ndarray], n_normal: int, n_resamples: int, seed: int
) -> dict[float, np.ndarray]:
    """AUROC of each β's scores on ``n_resamples`` paired, stratified bootstrap resamples (for :meth:`choose_beta`).

    ``scores[b]`` holds the ``n_normal`` normal images' scores, then the
    anomalies'. Normal and anomalous images are resampled separately, and
    every β sees the same resample, so that differences between βs keep
    their correlation. AUROC by ranks (Mann-Whitney, ties counted half).
    """
    rng = np.random.default_rng(seed)
    n_anomalous = len(next(iter(scores.values()))) - n_normal
    picks = np.concatenate(
        [
            rng.integers(0, n_normal, (n_resamples, n_normal)),
            n_normal + rng.integers(0, n_anomalous, (n_resamples, n_anomalous)),
        ],
        axis=1,
    )
    result = {}
    for beta, values in scores.items():
        ranks = scipy.stats.rankdata(values[picks], axis=1)
        rank_sum = ranks[:, n_normal:].sum(axis=1)
        result[beta] = (rank_sum - n_anomalous * (n_anomalous + 1) / 2) / (n_anomalous * n_normal)
    return result


SEMI_SUPERVISED_METHODS = ("ada-semi", "ada-cam-ano")


class _EnsembleDetector(_AttentionDetector):
    """What the detectors that add a second network to the self-supervised VAEGAN's ``D_G`` share.

    The reconstruction and ``D_G`` come from a self-supervised ``ada``
    detector (fitted here, or given as ``self_supervised``); the second
    network (``D_ano``, or ``ada-compare``'s comparator) is saved under
    :attr:`second_network` and held in the attribute of that name plus
    ``_``. β: the fitted value is ``beta_selected_`` (``beta`` stays as
    given), chosen on labelled validation anomalies by
    :meth:`VAEGANDetector.choose_beta`'s rule when ``fit`` gets them.
    """

    #: the second network's key in the saved file (its attribute adds ``_``)
    second_network: ClassVar[str]

    def __init__(self, method: str, beta_switch_se: float = BETA_SWITCH_SE, **params: Any) -> None:
        super().__init__(method, **params)
        self.beta_switch_se = check_number("beta_switch_se", beta_switch_se)
        self.model_g_: VAEGAN | None = None
        setattr(self, f"{self.second_network}_", None)
        self.beta_selected_: float | None = None
        #: validation AUROC per candidate β and the decision with its uncertainty, when β was chosen
        self.beta_validation_: dict[float, float] | None = None
        self.beta_choice_: dict[str, Any] | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {**super().get_params(), "beta_switch_se": self.beta_switch_se}

    def vaegan_params(self) -> dict[str, Any]:
        """The parameters of the self-supervised ``ada`` detector that shares this one's generator and ``D_G``."""
        return _AttentionDetector.get_params(self)

    def _self_supervised(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        given: VAEGANDetector | None,
    ) -> VAEGANDetector:
        """``given`` (checked), or a self-supervised ``ada`` detector fitted here on the same images."""
        if given is None:
            given = self._share_warnings(VAEGANDetector("ada", **self.vaegan_params()))
            return given.fit(x_train, x_val, callbacks=callbacks)
        if given.model_ is None or given.image_shape_ != tuple(x_train.shape[1:]):
            raise ValueError("self_supervised must be an 'ada' detector fitted on images of the same shape")
        return given

    def _choose_beta_at_fit(self, reference: np.ndarray, x_val_known: np.ndarray | None) -> None:
        """``beta_selected_``: ``beta``, or the rule's choice on ``x_val_known`` for a score with a D term."""
        self.beta_selected_ = self.beta
        self.beta_validation_ = self.beta_choice_ = None
        if x_val_known is not None and self.method in self.beta_at_fit:
            decision = self._beta_decision(
                reference, x_val_known, BETA_GRID, float(self.beta), self.beta_switch_se, self.seed
            )
            self.beta_selected_ = decision["chosen"]
            self.beta_validation_ = decision.pop("validation")
            self.beta_choice_ = decision

    #: the methods whose β ``fit`` chooses on labelled validation anomalies
    beta_at_fit: ClassVar[tuple[str, ...]] = ()

    def _beta_in_use(self) -> float:
        return self.beta_selected_

    def _copy_beta(self, source: _AttentionDetector, overridden: bool) -> None:
        self.beta_selected_ = self.beta if overridden else source.beta_selected_

    def _networks(self) -> dict[str, keras.Model]:
        return {
            "encoder": self.model_g_.encoder,
            "decoder": self.model_g_.decoder,
            "discriminator_g": self.model_g_.discriminator,
            self.second_network: getattr(self, f"{self.second_network}_"),
        }

    def _fitted_state(self) -> dict[str, Any]:
        return {**super()._fitted_state(), "beta_selected": self.beta_selected_}

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.beta_selected_ = state["beta_selected"]
        self.model_g_ = VAEGAN(
            networks["encoder"], networks["decoder"], networks["discriminator_g"], **self._loss_settings()
        )
        setattr(self, f"{self.second_network}_", networks[self.second_network])


@register_detector(*SEMI_SUPERVISED_METHODS)
class SemiSupervisedADADetector(_EnsembleDetector):
    """Semi-supervised ADA: the ``D_G`` + ``D_ano`` ensemble and its ``CAM_ano`` ablation.

    ``fit`` needs ``x_known`` (training images of the known anomaly). It
    trains the self-supervised VAEGAN (``D_G`` and the generator), unless a
    fitted ``ada`` detector of the same data is passed as ``self_supervised``,
    and a second VAEGAN whose discriminator also sees ``x_known`` as "not
    normal" (``D_ano``). With ``x_val_known``, β is chosen from
    :data:`BETA_GRID` by validation AUROC (normal ``x_val`` against
    ``x_val_known``) with the rule of :meth:`VAEGANDetector.choose_beta`:
    ``beta`` is kept unless a candidate is better by more than
    ``beta_switch_se`` bootstrap standard errors (a few labelled anomalies
    rarely tell βs apart); otherwise ``beta`` is used as given.

    Args:
        method: ``"ada-semi"`` or ``"ada-cam-ano"``.
        beta_switch_se: standard errors a candidate β must gain by to replace
            ``beta`` (0: the best validation AUROC, as before this rule).
        **params: the settings of :class:`VAEGANDetector`.
    """

    methods = SEMI_SUPERVISED_METHODS
    learning = "semi-supervised"  # D_ano trains on the known anomaly; β is chosen at fit, from x_val_known
    second_network = "discriminator_ano"
    beta_at_fit = ("ada-semi",)
    _fitted_networks = ("model_g_", "discriminator_ano_")

    def __init__(self, method: str = "ada-semi", beta_switch_se: float = BETA_SWITCH_SE, **params: Any) -> None:
        super().__init__(method, beta_switch_se, **params)

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
        self_supervised: VAEGANDetector | None = None,
    ) -> SemiSupervisedADADetector:
        """Train ``D_ano`` (and ``D_G`` unless given), then choose β on validation data."""
        if x_known is None:
            raise ValueError(f"{self.method!r} needs x_known: training images of the known anomaly")
        x_train, x_val, others = self._check_training_data(x_train, x_val, x_known=x_known, x_val_known=x_val_known)
        self.model_g_ = self._self_supervised(x_train, x_val, callbacks, self_supervised).model_
        self.discriminator_ano_ = self._train_vaegan(
            x_train, x_val, others["x_known"], callbacks, verbose
        ).discriminator
        self.image_shape_ = tuple(x_train.shape[1:])
        self._parts_fn = None
        reference = self._spread_reference(x_train, x_val)
        self.spread_ratio_ = self._spread_ratio(reference)
        self._choose_beta_at_fit(reference, others["x_val_known"])
        return self._threshold_after_fit(x_val)

    def _score_beta(self) -> float:
        return 0.0 if self.method == "ada-cam-ano" else self.beta_effective_

    def _scoring_networks(self) -> tuple[VAEGAN, list[keras.Model]]:
        if self.method == "ada-cam-ano":
            return self.model_g_, [self.discriminator_ano_]
        return self.model_g_, [self.model_g_.discriminator, self.discriminator_ano_]
