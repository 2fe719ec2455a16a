"""VAE: the model behind the AnoVAE baseline (pixel reconstruction error)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from adda_keras.models.base import AdversarialModelBase, kl_divergence, split_batch, sum_squared_error
from adda_keras.models.networks import build_decoder, build_encoder


@keras.saving.register_keras_serializable(package="adda_keras")
class VAE(AdversarialModelBase):
    """Encoder + decoder trained on ``kl_weight · L_prior + Σ (x - x̂)²``.

    The same sub-networks as the VAEGAN, without a discriminator: the
    difference between AnoVAE and AnoVAEGAN is the adversarial training alone.
    """

    network_names = ("encoder", "decoder")
    hyperparameter_names = ("kl_weight",)
    tracker_names = ("loss_prior", "loss_pixel")

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        kl_weight: float = 1.0,
        seed: int | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, metadata=metadata, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.kl_weight = float(kl_weight)
        self.latent_dim = int(decoder.inputs[0].shape[-1])

    @classmethod
    def build_default(
        cls, image_shape: Sequence[int], latent_dim: int = 16, seed: int | None = None, **kwargs: Any
    ) -> VAE:
        """Build a VAE with the library's default sub-networks."""
        return cls(build_encoder(image_shape, latent_dim), build_decoder(image_shape, latent_dim), seed=seed, **kwargs)

    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Reconstruct ``images`` from the posterior mean (deterministic)."""
        z_mean, _ = self.encoder(images, training=training)
        return self.decoder(z_mean, training=training)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One update of encoder and decoder on the evidence lower bound."""
        images, _ = split_batch(data)
        with tf.GradientTape(persistent=True) as tape:
            z_mean, z_log_var = self.encoder(images, training=True)
            z = z_mean + tf.exp(0.5 * z_log_var) * self._latent_sample(tf.shape(images)[0], self.latent_dim)
            reconstructions = self.decoder(z, training=True)
            prior = tf.reduce_mean(kl_divergence(z_mean, z_log_var))
            pixel = tf.reduce_mean(sum_squared_error(images, reconstructions))
            loss = self.kl_weight * prior + pixel
        self._apply(tape, loss, "encoder")
        self._apply(tape, loss, "decoder")
        del tape
        return self._record({"loss_prior": prior, "loss_pixel": pixel})

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Validation losses (posterior-mean reconstruction)."""
        images, _ = split_batch(data)
        z_mean, z_log_var = self.encoder(images, training=False)
        reconstructions = self.decoder(z_mean, training=False)
        return self._record(
            {
                "loss_prior": tf.reduce_mean(kl_divergence(z_mean, z_log_var)),
                "loss_pixel": tf.reduce_mean(sum_squared_error(images, reconstructions)),
            }
        )
