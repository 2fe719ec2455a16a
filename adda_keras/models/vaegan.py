"""VAEGAN (Larsen et al. 2016): the model behind AnoVAEGAN and ADA.

The encoder and decoder form a VAE whose reconstruction error is measured in
the discriminator's feature space ("learned similarity", plus an optional
pixel term); the discriminator is trained to tell real normal images from
reconstructions and from samples of the prior. Its class activation map is
the attention that ADA uses.

Semi-supervised training (the paper's ``L_GAN^ano``): when ``fit`` receives
``(images, known_anomalies)`` batches, the discriminator also learns to call
the known anomalies "not normal". The discriminator trained that way is the
paper's ``D_ano``; one trained on normal images only is ``D_G``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from adda_keras.models.augment import diff_augment
from adda_keras.models.base import (
    AdversarialModelBase,
    binary_cross_entropy,
    kl_divergence,
    mean_squared_error,
    split_batch,
    sum_squared_error,
)
from adda_keras.models.networks import build_decoder, build_discriminator, build_encoder

#: Larsen et al.'s equilibrium gating (their code's values): the binary cross-entropy a balanced discriminator
#: has on reals and on fakes, and how far from it a loss may drift before an update is skipped
EQUILIBRIUM, MARGIN = 0.68, 0.35


@keras.saving.register_keras_serializable(package="adda_keras")
class VAEGAN(AdversarialModelBase):
    """Encoder + decoder + discriminator trained jointly.

    Args:
        encoder: functional model, image -> ``[z_mean, z_log_var]``.
        decoder: functional model, latent code -> image in [0, 1].
        discriminator: functional model, image -> ``[logit, features]``.
        kl_weight: weight of ``L_prior`` in the encoder loss.
        feature_weight: weight of the learned-similarity term of ``L_image``
            (mean squared error of discriminator features).
        pixel_weight: weight of the pixel term of ``L_image`` (squared error
            summed over pixels); keeps early training stable while the
            discriminator's features are still random.
        gamma: weight of ``L_image`` against the GAN loss in the decoder
            update (Larsen's gamma).
        adversarial_weight: weight of the non-saturating generator loss.
        instance_noise: standard deviation of Gaussian noise added to every
            image the discriminator sees while training (real, reconstructed,
            sampled, known anomaly alike; Sønderby et al. 2016). It blurs
            pixel-level cues that only reals or only fakes carry. 0 = off.
        residual_swap: if true, every fake the discriminator classifies
            (reconstruction or prior sample) carries the residual ``x - x̂``
            of *another* image of the batch: its background noise and
            whatever the decoder leaves out. Real images always carry such
            a residual and plain fakes never do, so without the swap the
            discriminator can tell them apart by the noise alone, and its
            attention goes to the noise; with it, it must judge the object.
            The learned-similarity loss still compares plain reconstructions.
        diff_augment: if true, every image the discriminator sees in
            training is randomly translated and cut out
            (:func:`~adda_keras.models.augment.diff_augment`, Zhao et al.
            2020), an image and its reconstruction the same way, so that
            cues of position and local texture that only reals or only
            fakes carry stop paying; the generator's gradients pass through
            the transformation.
        equilibrium: if true, Larsen et al.'s equilibrium gating: the
            discriminator skips its update while it is too good (its loss
            on reals or on fakes below ``EQUILIBRIUM - MARGIN``), and the
            decoder drops its adversarial term while the discriminator is
            too poor (a loss above ``EQUILIBRIUM + MARGIN``); when both
            would stop, both train. Single-device training only.
        anomaly_weight: weight of the known-anomaly term of the
            discriminator's loss (semi-supervised training only; the
            paper's loss has 1).
        seed: seed of the latent noise.
    """

    network_names = ("encoder", "decoder", "discriminator")
    hyperparameter_names = (
        "kl_weight",
        "feature_weight",
        "pixel_weight",
        "gamma",
        "adversarial_weight",
        "instance_noise",
        "residual_swap",
        "diff_augment",
        "equilibrium",
        "anomaly_weight",
    )
    tracker_names = ("loss_prior", "loss_pixel", "loss_feature", "loss_generator", "loss_discriminator", "d_real")

    def __init__(
        self,
        encoder: keras.Model,
        decoder: keras.Model,
        discriminator: keras.Model,
        kl_weight: float = 1.0,
        feature_weight: float = 1.0,
        pixel_weight: float = 1.0,
        gamma: float = 1.0,
        adversarial_weight: float = 1.0,
        instance_noise: float = 0.0,
        residual_swap: bool = False,
        diff_augment: bool = False,
        equilibrium: bool = False,
        anomaly_weight: float = 1.0,
        seed: int | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, metadata=metadata, **kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.discriminator = discriminator
        self.kl_weight = float(kl_weight)
        self.feature_weight = float(feature_weight)
        self.pixel_weight = float(pixel_weight)
        self.gamma = float(gamma)
        self.adversarial_weight = float(adversarial_weight)
        self.instance_noise = float(instance_noise)
        self.residual_swap = bool(residual_swap)
        self.diff_augment = bool(diff_augment)
        self.equilibrium = bool(equilibrium)
        self.anomaly_weight = float(anomaly_weight)
        if self.equilibrium and tf.distribute.get_strategy().num_replicas_in_sync > 1:
            raise ValueError("equilibrium gating decides per device; build and train it on one device")
        self.latent_dim = int(decoder.inputs[0].shape[-1])

    @classmethod
    def build_default(
        cls,
        image_shape: Sequence[int],
        latent_dim: int = 16,
        seed: int | None = None,
        upsampling: str = "resize",
        discriminator_downsampling: int | None = None,
        spectral_norm: bool = False,
        **kwargs: Any,
    ) -> VAEGAN:
        """Build a VAEGAN with the library's default sub-networks.

        ``upsampling`` goes to :func:`build_decoder`;
        ``discriminator_downsampling`` (the number of strided layers, which
        sets the CAM's resolution) and ``spectral_norm`` to
        :func:`build_discriminator`; the rest (loss weights,
        ``instance_noise``) to the constructor.
        """
        return cls(
            build_encoder(image_shape, latent_dim),
            build_decoder(image_shape, latent_dim, upsampling=upsampling),
            build_discriminator(
                image_shape, downsampling_layers=discriminator_downsampling, spectral_norm=spectral_norm
            ),
            seed=seed,
            **kwargs,
        )

    # -- inference -------------------------------------------------------
    def call(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        """Reconstruct ``images`` from the posterior mean (deterministic)."""
        z_mean, _ = self.encoder(images, training=training)
        return self.decoder(z_mean, training=training)

    def reconstruct(self, images: tf.Tensor) -> tf.Tensor:
        """Deterministic reconstruction ``x̂ = G_dec(mean of q(z|x))``."""
        return self(images, training=False)

    # -- training --------------------------------------------------------
    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One joint update of encoder, decoder and discriminator."""
        images, known_anomalies = split_batch(data)
        batch_size = tf.shape(images)[0]
        with tf.GradientTape(persistent=True) as tape:
            z_mean, z_log_var = self.encoder(images, training=True)
            epsilon = self._latent_sample(batch_size, self.latent_dim)
            z = z_mean + tf.exp(0.5 * z_log_var) * epsilon
            reconstructions = self.decoder(z, training=True)
            samples = self.decoder(self._latent_sample(batch_size, self.latent_dim), training=True)

            # what the discriminator sees: reals, reconstructions, samples (and, with the residual swap, the
            # plain reconstructions whose features the learned similarity compares)
            views = [images, reconstructions, samples]
            if self.residual_swap:
                swapped = tf.roll(tf.stop_gradient(images - reconstructions), shift=1, axis=0)
                views = [images, reconstructions + swapped, samples + swapped, reconstructions]
            if self.diff_augment:
                views = diff_augment(views, seed=self.seed_generator)
            logit_real, features_real = self.discriminator(self._noisy(views[0]), training=True)
            logit_rec, features_rec = self.discriminator(self._noisy(views[1]), training=True)
            if self.residual_swap:
                _, features_rec = self.discriminator(self._noisy(views[3]), training=True)
            logit_sample, _ = self.discriminator(self._noisy(views[2]), training=True)

            prior = tf.reduce_mean(kl_divergence(z_mean, z_log_var))
            pixel = tf.reduce_mean(sum_squared_error(images, reconstructions))
            feature = tf.reduce_mean(mean_squared_error(tf.stop_gradient(features_real), features_rec))
            reconstruction = self.pixel_weight * pixel + self.feature_weight * feature
            generator = tf.reduce_mean(binary_cross_entropy(1.0, logit_rec) + binary_cross_entropy(1.0, logit_sample))

            train_discriminator, train_decoder = self._equilibrium_gates(logit_real, logit_rec, logit_sample)
            encoder_loss = self.kl_weight * prior + reconstruction
            adversarial = self.adversarial_weight * generator
            if self.equilibrium:
                adversarial = adversarial * tf.cast(train_decoder, adversarial.dtype)
            decoder_loss = self.gamma * reconstruction + adversarial
            discriminator_terms = (
                binary_cross_entropy(1.0, logit_real)
                + binary_cross_entropy(0.0, logit_rec)
                + binary_cross_entropy(0.0, logit_sample)
            )
            discriminator_loss = tf.reduce_mean(discriminator_terms)
            if known_anomalies is not None:
                if self.diff_augment:
                    (known_anomalies,) = diff_augment([known_anomalies], seed=self.seed_generator)
                logit_anomaly, _ = self.discriminator(self._noisy(known_anomalies), training=True)
                discriminator_loss += self.anomaly_weight * tf.reduce_mean(binary_cross_entropy(0.0, logit_anomaly))

        self._apply(tape, encoder_loss, "encoder")
        self._apply(tape, decoder_loss, "decoder")
        if self.equilibrium:
            update = functools.partial(self._apply_and_confirm, tape, discriminator_loss, "discriminator")
            tf.cond(train_discriminator, update, lambda: tf.constant(False))
        else:
            self._apply(tape, discriminator_loss, "discriminator")
        del tape
        return self._record(
            {
                "loss_prior": prior,
                "loss_pixel": pixel,
                "loss_feature": feature,
                "loss_generator": generator,
                "loss_discriminator": discriminator_loss,
                "d_real": tf.reduce_mean(tf.sigmoid(logit_real)),
            }
        )

    def _apply_and_confirm(self, tape: tf.GradientTape, loss: tf.Tensor, network_name: str) -> tf.Tensor:
        self._apply(tape, loss, network_name)
        return tf.constant(True)

    def _equilibrium_gates(
        self, logit_real: tf.Tensor, logit_rec: tf.Tensor, logit_sample: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Whether the discriminator and the decoder's adversarial term train this step (both, without gating)."""
        if not self.equilibrium:
            return tf.constant(True), tf.constant(True)
        loss_on_reals = tf.reduce_mean(binary_cross_entropy(1.0, logit_real))
        loss_on_fakes = 0.5 * tf.reduce_mean(
            binary_cross_entropy(0.0, logit_rec) + binary_cross_entropy(0.0, logit_sample)
        )
        too_good = (loss_on_reals < EQUILIBRIUM - MARGIN) | (loss_on_fakes < EQUILIBRIUM - MARGIN)
        too_poor = (loss_on_reals > EQUILIBRIUM + MARGIN) | (loss_on_fakes > EQUILIBRIUM + MARGIN)
        train_discriminator, train_decoder = tf.logical_not(too_good), tf.logical_not(too_poor)
        neither = tf.logical_not(train_discriminator | train_decoder)
        return train_discriminator | neither, train_decoder | neither

    def _noisy(self, images: tf.Tensor) -> tf.Tensor:
        """``images`` plus instance noise for the discriminator (unchanged when it is off)."""
        if self.instance_noise == 0:
            return images
        return images + self.instance_noise * keras.random.normal(tf.shape(images), seed=self.seed_generator)

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        """Validation losses on normal images (posterior-mean reconstruction)."""
        images, _ = split_batch(data)
        z_mean, z_log_var = self.encoder(images, training=False)
        reconstructions = self.decoder(z_mean, training=False)
        logit_real, features_real = self.discriminator(images, training=False)
        logit_rec, features_rec = self.discriminator(reconstructions, training=False)
        return self._record(
            {
                "loss_prior": tf.reduce_mean(kl_divergence(z_mean, z_log_var)),
                "loss_pixel": tf.reduce_mean(sum_squared_error(images, reconstructions)),
                "loss_feature": tf.reduce_mean(mean_squared_error(features_real, features_rec)),
                "loss_generator": tf.reduce_mean(binary_cross_entropy(1.0, logit_rec)),
                "loss_discriminator": tf.reduce_mean(
                    binary_cross_entropy(1.0, logit_real) + binary_cross_entropy(0.0, logit_rec)
                ),
                "d_real": tf.reduce_mean(tf.sigmoid(logit_real)),
            }
        )
