"""``ada-synthetic``: the paper's ``D_G`` + ``D_ano`` ensemble with ``D_ano`` trained against self-made anomalies.

The semi-supervised half of the paper trains a second discriminator
``D_ano`` to call a few labelled anomalies "not normal", and scores with
both discriminators' CAMs and beliefs (``ada-semi``). Labelled anomalies
are rare; :class:`SyntheticADADetector` makes its own from the normal
training images (:func:`adda_keras.data.synthetic.make_synthetic_anomalies`:
moved patches, foreign scars, blended foreign content, local blur, local
swirls) and trains ``D_ano`` against them inside the same VAEGAN
``train_step`` as ``ada-semi`` (the anomalies ride along with every normal
batch). Nothing but normal images is needed, as for ``ada``.

β (the weight of ``D_G(x) + D_ano(x)``, in spread units) is chosen on
self-made anomalies of the *validation* normals (another seed, so none of
them was seen in training) when ``beta="auto"`` (the default); a number
fixes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras.attention import cam_from_features
from adda_keras.data.synthetic import PATCH_KINDS, SYNTHETIC_KINDS, make_synthetic_anomalies
from adda_keras.detectors.ada import (
    BETA_GRID,
    BETA_SWITCH_SE,
    SCORE_DEFAULTS,
    SemiSupervisedADADetector,
    VAEGANDetector,
)
from adda_keras.detectors.base import register_detector
from adda_keras.models.networks import HEAD_LAYER
from adda_keras.validation import check_int, check_number

logger = logging.getLogger(__name__)

#: seeds of the self-made anomalies of training and of validation images (plus the detector's seed)
TRAIN_ANOMALY_SEED, VAL_ANOMALY_SEED = 7001, 7002


@register_detector("ada-synthetic")
class SyntheticADADetector(SemiSupervisedADADetector):
    """ADA with a second discriminator trained against self-made anomalies (no labelled anomaly needed).

    Args:
        method: ``"ada-synthetic"``.
        synthetic_kinds: the kinds of self-made anomalies ``D_ano`` learns
            to reject (among :data:`~adda_keras.data.synthetic.SYNTHETIC_KINDS`).
            Default: the patch-like kinds
            (:data:`~adda_keras.data.synthetic.PATCH_KINDS`: cutpaste, scar,
            blend), which beat all five kinds on the validation images of
            every unit compared (two digits over photographs, two textures;
            ``studies/real_remedies.py``): the smooth kinds (blur,
            warp) teach ``D_ano`` that blur is anomalous, and a VAEGAN's
            reconstructions are blurry.
        synthetic_per_image: self-made anomalies per training image.
        beta: ``"auto"`` (β chosen from ``BETA_GRID`` on self-made
            anomalies of the validation images, by
            :meth:`~adda_keras.detectors.ada.VAEGANDetector.choose_beta`'s
            rule: the default 0.5 is kept unless a candidate's AUROC gain
            exceeds ``beta_switch_se`` bootstrap standard errors, and is kept
            when every candidate ranks the anomalies below the normal
            images) or a number in spread units.
        anomaly_spectral_norm: whether ``D_ano`` is spectrally normalised.
            Off by default: a spectrally normalised discriminator is
            Lipschitz, so it can hardly separate an image from a copy with a
            small local change (a self-made anomaly); ``D_G`` keeps the
            ``spectral_norm`` setting.
        anomaly_weight: weight of the self-made anomalies' term in
            ``D_ano``'s loss (the paper's semi-supervised loss has 1).
        **params: every other setting of :class:`~adda_keras.detectors.ada.VAEGANDetector`.
    """

    methods = ("ada-synthetic",)
    learning = "one-class"  # D_ano trains on self-made anomalies: no labelled images
    beta_choosers = ("ada-synthetic",)

    def __init__(
        self,
        method: str = "ada-synthetic",
        synthetic_kinds: Sequence[str] = PATCH_KINDS,
        synthetic_per_image: int = 1,
        beta: float | str = "auto",
        anomaly_spectral_norm: bool = False,
        anomaly_weight: float = 1.0,
        **params: Any,
    ) -> None:
        if beta != "auto" and isinstance(beta, str):
            raise ValueError(f"beta must be 'auto' or a number >= 0; got {beta!r}")
        self.auto_beta = beta == "auto"
        super().__init__(method, beta=SCORE_DEFAULTS["beta"] if self.auto_beta else beta, **params)
        kinds = (synthetic_kinds,) if isinstance(synthetic_kinds, str) else tuple(synthetic_kinds)
        if not kinds or set(kinds) - set(SYNTHETIC_KINDS) or len(set(kinds)) != len(kinds):
            raise ValueError(f"synthetic_kinds must be distinct names from {SYNTHETIC_KINDS}; got {synthetic_kinds!r}")
        self.synthetic_kinds = kinds
        self.synthetic_per_image = check_int("synthetic_per_image", synthetic_per_image)
        if not isinstance(anomaly_spectral_norm, (bool, np.bool_)):
            raise ValueError(f"anomaly_spectral_norm must be True or False; got {anomaly_spectral_norm!r}")
        self.anomaly_spectral_norm = bool(anomaly_spectral_norm)
        self.anomaly_weight = check_number("anomaly_weight", anomaly_weight, open_low=True)
        #: validation AUROC (self-made anomalies of the validation images) per candidate β, when chosen
        self.beta_validation_: dict[float, float] | None = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {
            **self.vaegan_params(),
            "beta_switch_se": self.beta_switch_se,
            "beta": "auto" if self.auto_beta else self.beta,
            "synthetic_kinds": list(self.synthetic_kinds),
            "synthetic_per_image": self.synthetic_per_image,
            "anomaly_spectral_norm": self.anomaly_spectral_norm,
            "anomaly_weight": self.anomaly_weight,
        }

    def _build_settings(self) -> dict[str, Any]:
        """``D_ano``'s VAEGAN: the shared settings with ``D_ano``'s own spectral norm and anomaly weight."""
        return {
            **self.vaegan_settings,
            "spectral_norm": self.anomaly_spectral_norm,
            "anomaly_weight": self.anomaly_weight,
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
    ) -> SyntheticADADetector:
        """Make anomalies from ``x_train``, train ``D_G`` (unless given) and ``D_ano``, choose β, fit the threshold.

        ``self_supervised`` may be a fitted ``ada`` detector of the same
        training images (see :meth:`vaegan_params`): its generator and
        discriminator are reused, so AnoVAEGAN, ADA and ``ada-synthetic``
        are scores of the same trained VAEGAN.
        """
        if x_known is not None or x_val_known is not None:
            raise ValueError("'ada-synthetic' makes its own anomalies; for labelled ones use 'ada-semi'")
        x_train, x_val, _ = self._check_training_data(x_train, x_val)
        made, _ = make_synthetic_anomalies(
            x_train,
            self.seed + TRAIN_ANOMALY_SEED,
            self.synthetic_kinds,
            n=self.synthetic_per_image * len(x_train),
        )
        if self_supervised is None:
            self_supervised = self._share_warnings(VAEGANDetector("ada", **self.vaegan_params()))
            self_supervised.fit(x_train, x_val, callbacks=callbacks)
        super().fit(x_train, x_val, made, None, callbacks, verbose, self_supervised=self_supervised)
        self.beta_validation_ = self.beta_choice_ = None
        if self.auto_beta:
            reference = self._spread_reference(x_train, x_val)
            val_made, _ = make_synthetic_anomalies(reference, self.seed + VAL_ANOMALY_SEED, self.synthetic_kinds)
            decision = self._beta_decision(
                reference, val_made, BETA_GRID, SCORE_DEFAULTS["beta"], self.beta_switch_se, self.seed
            )
            self._record_beta_choice(decision, "self-made anomalies of the validation images")
            self._threshold_after_fit(x_val)
        return self

    def choose_beta(
        self,
        x_val: np.ndarray,
        x_val_anomalies: np.ndarray,
        grid: Sequence[float] = BETA_GRID,
        switch_se: float = BETA_SWITCH_SE,
        seed: int = 0,
    ) -> SyntheticADADetector:
        """β from labelled validation anomalies, by :meth:`VAEGANDetector.choose_beta`'s rule (and its arguments).

        Replaces the β chosen at fit time on self-made anomalies (it is the
        current β that a candidate must beat); the networks are unchanged
        and the default threshold is refitted on ``x_val``.
        """
        decision = self._checked_beta_decision(x_val, x_val_anomalies, grid, switch_se, seed)
        self._record_beta_choice(decision, "the known anomalies")
        return self._threshold_after_fit(self._check_input(x_val))

    def _record_beta_choice(self, decision: dict[str, Any], on: str) -> None:
        """Take ``decision``'s β, unless every candidate ranks the anomalies below the normal images.

        Self-made anomalies that every β scores as *more normal* than the
        normal images (AUROC < 0.5 for all) say that ``D_ano`` learned its
        own generator, not what is anomalous: the "best" β would then be
        the one that hides the D term's error best, chosen on a wrong
        signal, so β stays where it was, with a warning.
        """
        if max(decision["validation"].values()) < 0.5 and decision["chosen"] != decision["current"]:
            message = (
                f"every candidate beta ranks the {on} below the normal images (validation AUROC "
                f"{', '.join(f'{v:.3f}' for v in decision['validation'].values())}): D_ano learned its own generator, "
                f"not what is anomalous, so beta stays at {decision['current']:g}"
            )
            logger.warning("beta choice: %s", message)
            decision = {**decision, "chosen": decision["current"], "warnings": [*decision["warnings"], message]}
        self.beta_selected_ = decision["chosen"]
        self.beta_validation_ = decision["validation"]
        self.beta_choice_ = {**{k: v for k, v in decision.items() if k != "validation"}, "on": on}
        logger.info("beta %g chosen on %s", self.beta_selected_, on)

    def evidence_maps(self, images: np.ndarray, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """``D_ano``'s local evidence against "normal": maps ``(N, H, W)`` and image scores ``(N,)``.

        ``D_ano``'s logit is the spatial mean of its raw CAM plus a bias, so
        ``-CAM_ano`` (not normalised per image, resized to the input) says
        how much each place argues that the image is anomalous, on one scale
        for every image; the image score is ``-logit``. These are the maps
        of a discriminator trained to reject local self-made anomalies.
        """
        images = self._check_input(images)
        head = self.discriminator_ano_.get_layer(HEAD_LAYER).kernel
        maps, scores = [], []
        for start in range(0, len(images), batch_size):
            batch = tf.constant(images[start : start + batch_size])
            logit, features = self.discriminator_ano_(batch, training=False)
            raw = -cam_from_features(features, head)
            maps.append(tf.image.resize(raw[..., None], batch.shape[1:3], method="bilinear")[..., 0].numpy())
            scores.append(-logit[:, 0].numpy())
        return np.concatenate(maps), np.concatenate(scores)
