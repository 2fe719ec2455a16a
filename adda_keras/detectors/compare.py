"""``ada-compare`` and ``compare``: ADA with a second discriminator that compares an image with its reconstruction.

An extension of the paper, not the paper's method. The paper's second
discriminator ``D_ano`` judges an image alone (``ada-semi``); trained on a
few hundred normal images it memorises them, and its belief hardly
separates held-out normals from anomalies. Here the second discriminator is
a *comparator* (:mod:`adda_keras.models.compare`, after DRAEM): it sees the
image and the self-supervised VAEGAN's reconstruction of it, and learns
where the two differ in a way that normal images never do. It is always
trained against self-made anomalies (foreign patches with their masks,
:func:`adda_keras.data.foreign.make_foreign_patches`, made from the
training images only) and, where given, against labelled anomalies of a
known kind (image labels only, as many as normal images in every batch).

Two scores of one fitted detector:

* ``ada-compare`` — the comparator joins ADA's score as ``D_ano`` joins
  ``ada-semi``'s: its per-pixel anomaly probability ``m`` joins the
  attention (``c = CAM(x) + CAM(x̂) + floor + 2·m``; 2 is a discriminator's
  attention peak), and its belief that the image is normal,
  ``sigmoid(-image logit)``, joins ``D_G(x)`` in the β term. β is in spread
  units, as for ADA; with labelled validation anomalies it is chosen by
  :meth:`~adda_keras.detectors.ada.VAEGANDetector.choose_beta`'s rule.
* ``compare`` — the comparator alone: the image logit is the score, ``m``
  the map.

The reconstruction always comes from the self-supervised VAEGAN (``D_G``'s),
trained on normal images only; ``fit`` accepts a fitted ``ada`` detector of
the same images as ``self_supervised`` so that AnoVAEGAN, ADA and
``ada-compare`` are scores of one trained VAEGAN.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras.data.foreign import make_foreign_patches
from adda_keras.detectors.ada import BETA_SWITCH_SE, PartsFn, VAEGANDetector, _EnsembleDetector, compile_vaegan_parts
from adda_keras.detectors.base import AnomalyResult, register_detector
from adda_keras.detectors.fast_scoring import run_in_batches
from adda_keras.models.compare import ComparatorModel, build_comparator
from adda_keras.models.vaegan import VAEGAN
from adda_keras.scoring import ada_score_from_terms, attention_weighted_residual, weighted_residual_map
from adda_keras.training import DivergenceGuard, resolve_strategy, set_seed
from adda_keras.validation import check_int, check_number

logger = logging.getLogger(__name__)

COMPARE_METHODS = ("ada-compare", "compare")
#: weight of the comparator's anomaly probability in the attention (a discriminator's CAM(x) + CAM(x̂) peaks at 2)
COMPARATOR_ATTENTION = 2.0
#: the comparator's default Adam learning rate: on a toy task (noise images, perfect reconstructions) it left the
#: plateau of chance image loss after ~40 steps, against ~160 at the VAEGAN's 5e-4
COMPARATOR_LEARNING_RATE = 2e-3
#: comparator epochs per VAEGAN epoch when ``comparator_epochs`` is not given. On the validation images of normal
#: digit 2 (quick preset, 20 VAEGAN epochs), the comparator's belief AUROC against held-out self-made anomalies
#: and against the unseen digit 3 was 0.528 / 0.544 after 20 comparator epochs, 0.756 / 0.773 after 100 and
#: 0.801 / 0.820 after 300, while the gap between its training and validation normals grew (0.58 -> 0.70);
#: 10 per epoch (200) keeps the detector within 1.5x the training time of ``ada-synthetic``
COMPARATOR_EPOCHS_PER_EPOCH = 10
#: seed offset of the self-made anomalies the comparator trains on
TRAIN_PATCH_SEED = 9001
#: scoring batch of the reconstructions the comparator trains on
_RECONSTRUCTION_BATCH = 256


@register_detector(*COMPARE_METHODS)
class CompareADADetector(_EnsembleDetector):
    """ADA whose second discriminator compares the image with its reconstruction (no labelled anomaly needed).

    Args:
        method: ``"ada-compare"`` (ADA + comparator) or ``"compare"`` (the comparator alone).
        comparator_epochs: passes over the normal training images when
            training the comparator (``None``: :data:`COMPARATOR_EPOCHS_PER_EPOCH`
            times ``epochs``: its steps are cheap, and learning to find a
            patch starts only after a plateau of a few hundred steps).
        comparator_learning_rate: the comparator's Adam learning rate.
        patches_per_image: self-made anomalies made of each training image
            (a pool, reconstructed once, drawn from in every batch).
        known_weight: weight of the labelled anomalies' loss, when ``fit``
            gets ``x_known``.
        beta_switch_se: as :class:`~adda_keras.detectors.ada.SemiSupervisedADADetector`'s,
            when β is chosen on labelled validation anomalies.
        **params: every setting of :class:`~adda_keras.detectors.ada.VAEGANDetector`
            (the self-supervised VAEGAN's, and the score's).
    """

    methods = COMPARE_METHODS
    learning = "semi-supervised"  # the comparator trains on known anomalies when given them, and without them
    known_anomalies_optional = True
    second_network = "comparator"
    beta_at_fit = ("ada-compare",)
    _fitted_networks = ("model_g_", "comparator_")

    def __init__(
        self,
        method: str = "ada-compare",
        comparator_epochs: int | None = None,
        comparator_learning_rate: float = COMPARATOR_LEARNING_RATE,
        patches_per_image: int = 2,
        known_weight: float = 1.0,
        beta_switch_se: float = BETA_SWITCH_SE,
        **params: Any,
    ) -> None:
        super().__init__(method, beta_switch_se, **params)
        self.comparator_epochs = (
            None if comparator_epochs is None else check_int("comparator_epochs", comparator_epochs)
        )
        self.comparator_learning_rate = check_number(
            "comparator_learning_rate", comparator_learning_rate, open_low=True
        )
        self.patches_per_image = check_int("patches_per_image", patches_per_image)
        self.known_weight = check_number("known_weight", known_weight)
        self._score_fn: tuple[Any, Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]] | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {
            **super().get_params(),
            "comparator_epochs": self.comparator_epochs,
            "comparator_learning_rate": self.comparator_learning_rate,
            "patches_per_image": self.patches_per_image,
            "known_weight": self.known_weight,
        }

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
        self_supervised: VAEGANDetector | None = None,
    ) -> CompareADADetector:
        """Train the VAEGAN (unless given) and the comparator; choose β on ``x_val_known`` if given; threshold."""
        x_train, x_val, others = self._check_training_data(x_train, x_val, x_known=x_known, x_val_known=x_val_known)
        if len(x_train) < 2:
            raise ValueError("x_train must hold at least 2 images (self-made anomalies borrow from another); got 1")
        self_supervised = self._self_supervised(x_train, x_val, callbacks, self_supervised)
        self.model_g_ = self_supervised.model_
        self.image_shape_ = tuple(x_train.shape[1:])
        vaegan_history = {f"vaegan_{k}": v for k, v in self_supervised.history_.items()}
        self.comparator_ = self._train_comparator(x_train, others["x_known"], callbacks, verbose)
        self.history_ = {**vaegan_history, **self.history_}
        self._parts_fn = None
        reference = self._spread_reference(x_train, x_val)
        self.spread_ratio_ = self._spread_ratio(reference)
        self._choose_beta_at_fit(reference, others["x_val_known"])
        return self._threshold_after_fit(x_val)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """The self-supervised VAEGAN's reconstructions of ``images`` (what the comparator compares them with)."""
        batches = [
            self.model_g_.reconstruct(tf.constant(images[i : i + _RECONSTRUCTION_BATCH])).numpy()
            for i in range(0, len(images), _RECONSTRUCTION_BATCH)
        ]
        return np.concatenate(batches).astype(np.float32)

    def _train_comparator(
        self,
        x_train: np.ndarray,
        x_known: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        verbose: int | str,
    ) -> keras.Model:
        """Train the comparator on normal images, self-made anomalies and (if given) labelled ones, in equal numbers."""
        made, masks = make_foreign_patches(x_train, self.seed + TRAIN_PATCH_SEED, self.patches_per_image * len(x_train))
        streams = [
            self._stream((x_train, self.reconstruct(x_train)), self.seed),
            self._stream((made, self.reconstruct(made), masks), self.seed + 1),
        ]
        if x_known is not None:
            streams.append(self._stream((x_known, self.reconstruct(x_known)), self.seed + 2))
        dataset = tf.data.Dataset.zip(tuple(streams)).prefetch(tf.data.AUTOTUNE)
        set_seed(self.seed)
        with resolve_strategy(self.distribute).scope():
            model = ComparatorModel(build_comparator(x_train.shape[1:]), known_weight=self.known_weight, seed=self.seed)
            model.compile(learning_rate=self.comparator_learning_rate)
        history = model.fit(
            dataset,
            epochs=self.comparator_epochs or COMPARATOR_EPOCHS_PER_EPOCH * self.epochs,
            steps_per_epoch=math.ceil(len(x_train) / self.batch_size),
            callbacks=[DivergenceGuard(), *callbacks],
            verbose=verbose,
            shuffle=False,  # the streams shuffle, seeded
        )
        self.history_ = {f"comparator_{k}": [float(v) for v in values] for k, values in history.history.items()}
        return model.comparator

    def _stream(self, arrays: tuple[np.ndarray, ...], seed: int) -> tf.data.Dataset:
        """An endless, seeded, reshuffled stream of ``batch_size`` batches of ``arrays`` (aligned)."""
        dataset = tf.data.Dataset.from_tensor_slices(arrays)
        dataset = dataset.shuffle(len(arrays[0]), seed=seed, reshuffle_each_iteration=True).repeat()
        return dataset.batch(self.batch_size, drop_remainder=False)

    def _compiled_parts(self) -> PartsFn:
        """ADA's pass with ``D_G``, and the comparator on ``(x, x̂)`` joining the attention and the belief."""
        if self._parts_fn is None:
            ada_parts = compile_vaegan_parts(
                self.model_g_,
                [self.model_g_.discriminator],
                self.image_shape_,
                self.attention,
                self.normalisation,
                self.attention_floor,
                self.attention_sources,
            )
            comparator = self.comparator_

            # no Python control flow inside: AutoGraph has nothing to convert (and trips on the closure)
            @tf.function(input_signature=[tf.TensorSpec((None, *self.image_shape_), tf.float32)], autograph=False)
            def parts(images: tf.Tensor) -> dict[str, tf.Tensor]:
                result = dict(ada_parts(images))
                image_logit, pixel_logits = comparator([images, result["reconstruction"]], training=False)
                anomaly_map = tf.sigmoid(pixel_logits[..., 0])
                result["comparator_logit"] = image_logit[:, 0]
                result["comparator_map"] = anomaly_map
                result["attention"] = result["attention"] + COMPARATOR_ATTENTION * anomaly_map
                result["normal_probability"] = result["normal_probability"] + tf.sigmoid(-image_logit[:, 0])
                result["weighted_residual"] = attention_weighted_residual(
                    images, result["reconstruction"], result["attention"]
                )
                return result

            self._parts_fn = parts
        return self._parts_fn

    def _scoring_networks(self) -> tuple[VAEGAN, list[keras.Model]]:
        return self.model_g_, [self.model_g_.discriminator, self.comparator_]

    def _score_pass(self) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
        """The compiled ``(images, beta) -> (scores, maps)`` of this method, on the parts of :meth:`_compiled_parts`."""
        parts_fn = self._compiled_parts()
        if self._score_fn is None or self._score_fn[0] is not parts_fn:
            alone = self.method == "compare"

            @tf.function(autograph=False)
            def score(images: tf.Tensor, beta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                parts = parts_fn(images)
                if alone:
                    return parts["comparator_logit"], parts["comparator_map"]
                return (
                    ada_score_from_terms(parts["weighted_residual"], parts["normal_probability"], beta),
                    weighted_residual_map(images, parts["reconstruction"], parts["attention"]),
                )

            self._score_fn = (parts_fn, score)
        return self._score_fn[1]

    def _predict(self, images: np.ndarray, batch_size: int) -> AnomalyResult:
        """Scores and maps in batches of exactly ``batch_size`` (the last one padded), as the VAEGAN family's."""
        images = self._check_input(images)
        beta = tf.constant(self._score_beta(), tf.float32)
        scores, maps = run_in_batches(self._score_pass(), images, batch_size, beta)
        return AnomalyResult(scores, maps)

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return self._score_pass()(images, tf.constant(self._score_beta(), tf.float32))

    def _score_beta(self) -> float:
        return 0.0 if self.method == "compare" else self.beta_effective_
