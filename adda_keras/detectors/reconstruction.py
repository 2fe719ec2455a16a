"""Reconstruction baselines of the paper: AnoVAE and AnoGAN.

* ``anovae`` — a VAE of the shared encoder/decoder; score = pixel residual
  ``mean (x - x̂)²``, map = the squared residual.
* ``anogan`` — a DCGAN of the shared decoder/discriminator (no encoder);
  score = the final loss of a latent search (see
  :func:`adda_keras.models.gan.make_latent_search`), map = the pixel
  residual ``|x - G(z*)|`` of the best latent code found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Self

import keras
import numpy as np
import tensorflow as tf

from adda_keras.detectors.base import KerasDetector, register_detector
from adda_keras.models.gan import GAN, latent_starts, make_latent_search
from adda_keras.models.vae import VAE
from adda_keras.scoring import squared_residual
from adda_keras.validation import check_int, check_number


class _OneClassKerasDetector(KerasDetector):
    """The fit shared by the one-class generative baselines: check, build, train, threshold."""

    def _fit_one_class(
        self,
        build: Callable[[tuple[int, ...]], keras.Model],
        x_train: np.ndarray,
        x_val: np.ndarray | None,
        x_known: np.ndarray | None,
        callbacks: Iterable[keras.callbacks.Callback],
        verbose: int | str,
    ) -> Self:
        """Train ``build(image_shape)`` on normal images as ``model_``, then fit the threshold on ``x_val``."""
        if x_known is not None:
            raise ValueError(f"{self.method!r} is a one-class detector and takes no known anomalies")
        x_train, x_val, _ = self._check_training_data(x_train, x_val)
        shape = tuple(x_train.shape[1:])
        self.model_ = self._fit_model(lambda: build(shape), x_train, x_val, None, callbacks, verbose)
        self.image_shape_ = shape
        return self._threshold_after_fit(x_val)


@register_detector("anovae")
class AnoVAEDetector(_OneClassKerasDetector):
    """AnoVAE: VAE reconstruction error.

    Args:
        kl_weight: weight of the KL prior term, a finite number >= 0.
        **params: see :class:`~adda_keras.detectors.KerasDetector`.
    """

    methods = ("anovae",)
    learning = "one-class"

    def __init__(self, method: str = "anovae", kl_weight: float = 1.0, **params: Any) -> None:
        super().__init__(method, **params)
        self.kl_weight = check_number("kl_weight", kl_weight)
        self.model_: VAE | None = None
        self._score = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {**super().get_params(), "kl_weight": self.kl_weight}

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> AnoVAEDetector:
        """Train the VAE on normal images."""
        self._score = None
        return self._fit_one_class(
            lambda shape: VAE.build_default(shape, self.latent_dim, seed=self.seed, kl_weight=self.kl_weight),
            x_train,
            x_val,
            x_known,
            callbacks,
            verbose,
        )

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self._score is None:
            model = self.model_

            @tf.function(input_signature=[tf.TensorSpec((None, *self.image_shape_), tf.float32)])
            def score(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
                residual = squared_residual(batch, model(batch, training=False))
                return tf.reduce_mean(residual, axis=(1, 2)), residual

            self._score = score
        return self._score(images)

    def _networks(self) -> dict[str, keras.Model]:
        return {"encoder": self.model_.encoder, "decoder": self.model_.decoder}

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.model_ = VAE(networks["encoder"], networks["decoder"], kl_weight=self.kl_weight)
        self._score = None


@register_detector("anogan")
class AnoGANDetector(_OneClassKerasDetector):
    """AnoGAN: a GAN scored by latent search.

    Args:
        search_steps: Adam steps of each image's latent search (the paper
            uses a few hundred; the default keeps CPU scoring fast).
        search_learning_rate: step size of the search, a finite number > 0.
        feature_weight: λ, the weight of the discriminator-feature term (0.1), in ``[0, 1]``.
        **params: see :class:`~adda_keras.detectors.KerasDetector`.
    """

    methods = ("anogan",)
    learning = "one-class"

    def __init__(
        self,
        method: str = "anogan",
        search_steps: int = 100,
        search_learning_rate: float = 0.05,
        feature_weight: float = 0.1,
        **params: Any,
    ) -> None:
        super().__init__(method, **params)
        self.search_steps = check_int("search_steps", search_steps)
        self.search_learning_rate = check_number("search_learning_rate", search_learning_rate, open_low=True)
        self.feature_weight = check_number("feature_weight (lambda)", feature_weight, 0.0, 1.0)
        self.model_: GAN | None = None
        self._search = None

    def get_params(self) -> dict[str, Any]:
        """Constructor parameters."""
        return {
            **super().get_params(),
            "search_steps": self.search_steps,
            "search_learning_rate": self.search_learning_rate,
            "feature_weight": self.feature_weight,
        }

    def fit(
        self,
        x_train: np.ndarray,
        x_val: np.ndarray | None = None,
        x_known: np.ndarray | None = None,
        x_val_known: np.ndarray | None = None,
        callbacks: Iterable[keras.callbacks.Callback] = (),
        verbose: int | str = 0,
    ) -> AnoGANDetector:
        """Train the GAN on normal images."""
        self._search = None
        return self._fit_one_class(
            lambda shape: GAN.build_default(shape, self.latent_dim, seed=self.seed),
            x_train,
            x_val,
            x_known,
            callbacks,
            verbose,
        )

    def _predict_batch(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if self._search is None:
            self._search = make_latent_search(
                self.model_, self.image_shape_, self.search_steps, self.search_learning_rate, self.feature_weight
            )
        starts = latent_starts(images.numpy(), self.model_.latent_dim, self.seed)
        scores, generated = self._search(images, tf.constant(starts))
        return scores, tf.reduce_mean(tf.abs(images - generated), axis=-1)

    def _networks(self) -> dict[str, keras.Model]:
        return {"decoder": self.model_.decoder, "discriminator": self.model_.discriminator}

    def _restore(self, networks: dict[str, keras.Model], state: dict[str, Any]) -> None:
        super()._restore(networks, state)
        self.model_ = GAN(networks["decoder"], networks["discriminator"])
        self._search = None
