"""DCGAN without an encoder, and AnoGAN's latent search (Schlegl et al. 2017).

AnoGAN has no encoder, so a test image is scored by *searching* the latent
space for the generated image closest to it, minimising

    L(z) = (1 - λ) · ||x - G(z)||₁ + λ · ||f_D(x) - f_D(G(z))||₁

(λ = 0.1), and taking the final loss as the anomaly score. The search runs
for a whole batch at once inside one compiled function (Adam on ``z``, one
independent problem per image, each started from a code seeded by the
image itself, so a score does not depend on the batch).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras.models.base import AdversarialModelBase, binary_cross_entropy, split_batch
from adda_keras.models.networks import build_decoder, build_discriminator


@keras.saving.register_keras_serializable(package="adda_keras")
class GAN(AdversarialModelBase):
    """Generator (the shared decoder) + discriminator, non-saturating GAN loss."""

    network_names = ("decoder", "discriminator")
    hyperparameter_names = ()
    tracker_names = ("loss_generator", "loss_discriminator", "d_real")

    def __init__(
        self,
        decoder: keras.Model,
        discriminator: keras.Model,
        seed: int | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, metadata=metadata, **kwargs)
        self.decoder = decoder
        self.discriminator = discriminator
        self.latent_dim = int(decoder.inputs[0].shape[-1])

    @classmethod
    def build_default(
        cls, image_shape: Sequence[int], latent_dim: int = 16, seed: int | None = None, **kwargs: Any
    ) -> GAN:
        """Build a GAN with the library's default sub-networks."""
        return cls(build_decoder(image_shape, latent_dim), build_discriminator(image_shape), seed=seed, **kwargs)

    def call(self, z: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Generate images from latent codes."""
        return self.decoder(z, training=training)

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One update of discriminator and generator."""
        images, _ = split_batch(data)
        z = self._latent_sample(tf.shape(images)[0], self.latent_dim)
        with tf.GradientTape(persistent=True) as tape:
            fakes = self.decoder(z, training=True)
            logit_real, _ = self.discriminator(images, training=True)
            logit_fake, _ = self.discriminator(fakes, training=True)
            discriminator_loss = tf.reduce_mean(
                binary_cross_entropy(1.0, logit_real) + binary_cross_entropy(0.0, logit_fake)
            )
            generator_loss = tf.reduce_mean(binary_cross_entropy(1.0, logit_fake))
        self._apply(tape, discriminator_loss, "discriminator")
        self._apply(tape, generator_loss, "decoder")
        del tape
        return self._record(
            {
                "loss_generator": generator_loss,
                "loss_discriminator": discriminator_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(logit_real)),
            }
        )

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Discriminator statistics on validation images."""
        images, _ = split_batch(data)
        logit_real, _ = self.discriminator(images, training=False)
        return self._record(
            {
                "loss_generator": tf.zeros(()),
                "loss_discriminator": tf.reduce_mean(binary_cross_entropy(1.0, logit_real)),
                "d_real": tf.reduce_mean(tf.sigmoid(logit_real)),
            }
        )


def latent_starts(images: np.ndarray, latent_dim: int, seed: int = 0) -> np.ndarray:
    """The initial latent code of each image's search, ``(N, latent_dim)`` float32.

    Each image's code is drawn from its own generator, seeded by ``seed`` and
    a hash of the image's pixels, so an image starts from the same code
    whatever batch it is scored in and whatever its neighbours are; equal
    images start equally.
    """
    starts = np.empty((len(images), latent_dim), dtype=np.float32)
    for index, image in enumerate(np.asarray(images, dtype=np.float32)):
        digest = hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=8).digest()
        starts[index] = np.random.default_rng([seed, int.from_bytes(digest, "little")]).standard_normal(latent_dim)
    return starts


def make_latent_search(
    gan: GAN,
    image_shape: tuple[int, int, int],
    steps: int = 100,
    learning_rate: float = 0.05,
    feature_weight: float = 0.1,
):
    """Compile AnoGAN's batched latent search for ``gan``.

    Returns a function ``(images, starts) -> (scores, generated)``: from the
    initial codes ``starts`` (``(N, latent_dim)``, see :func:`latent_starts`),
    ``steps`` Adam steps on each image's own code, then the final loss of
    each image's search (``(N,)``) and its generated image. Every image has
    its own code, Adam moments and step count; nothing is shared across the
    batch, so an image's score does not depend on the other images.
    """
    decoder, discriminator, latent_dim = gan.decoder, gan.discriminator, gan.latent_dim
    beta_1, beta_2, epsilon = 0.9, 0.999, 1e-7

    def per_image_loss(images: tf.Tensor, features: tf.Tensor, z: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        generated = decoder(z, training=False)
        _, generated_features = discriminator(generated, training=False)
        flat = tf.shape(images)[0]
        pixel = tf.reduce_sum(tf.reshape(tf.abs(images - generated), (flat, -1)), axis=-1)
        feature = tf.reduce_sum(tf.reshape(tf.abs(features - generated_features), (flat, -1)), axis=-1)
        return (1.0 - feature_weight) * pixel + feature_weight * feature, generated

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *image_shape), tf.float32),
            tf.TensorSpec((None, latent_dim), tf.float32),
        ]
    )
    def search(images: tf.Tensor, starts: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        _, features = discriminator(images, training=False)
        z = starts
        m = tf.zeros_like(z)
        v = tf.zeros_like(z)
        for step in tf.range(1, steps + 1):
            with tf.GradientTape() as tape:
                tape.watch(z)
                loss, _ = per_image_loss(images, features, z)
                total = tf.reduce_sum(loss)  # images are independent: the sum separates
            grad = tape.gradient(total, z)
            m = beta_1 * m + (1 - beta_1) * grad
            v = beta_2 * v + (1 - beta_2) * tf.square(grad)
            t = tf.cast(step, tf.float32)
            z = z - learning_rate * (m / (1 - beta_1**t)) / (tf.sqrt(v / (1 - beta_2**t)) + epsilon)
        return per_image_loss(images, features, z)

    return search
