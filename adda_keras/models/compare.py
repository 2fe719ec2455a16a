"""The comparing discriminator: an image and its reconstruction in, where they disagree abnormally out.

A GAN discriminator judges an image alone, and on a few hundred normal
images it memorises its training reals (its belief on held-out normals and
on anomalies is then about the same). DRAEM (Zavrtanik et al., ICCV 2021)
shows what a discriminator can learn instead: given the image *and its
reconstruction* stacked, it learns where the two differ in a way that
normal images never do, trained against self-made anomalies whose masks are
known (their ablation: 93.9 image AUROC without the reconstruction, 98.0
with it).

:func:`build_comparator` is that network, small and fully convolutional:
``[image, reconstruction]`` (and their absolute difference) to per-pixel
anomaly logits at the input's resolution and one image logit, the maximum
of the logits averaged over windows of about a seventh of the side (one
anomalous pixel is noise, a window of them is an anomaly).
:class:`ComparatorModel` trains it with a frozen generator's
reconstructions precomputed: every batch holds normal images (every pixel
normal), self-made anomalies with their masks (per-pixel focal loss, image
label 1) and, where given, labelled anomalies without masks (image label 1
only), in equal numbers; the three streams are shifted together by a random
translation each step, so that the network cannot learn where things sit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf
from keras import layers

from adda_keras.models.base import AdversarialModelBase
from adda_keras.models.networks import validate_image_shape

#: name of the comparator's per-pixel anomaly logits and of its image logit
PIXEL_LOGITS, IMAGE_LOGIT = "pixel_logits", "image_logit"
#: DRAEM's focal-loss focusing parameter
FOCAL_GAMMA = 2.0


def pooling_window(image_shape: Sequence[int]) -> int:
    """Side of the window whose mean logit is an anomaly candidate: about a seventh of the image's side, >= 3."""
    return max(3, round(min(int(image_shape[0]), int(image_shape[1])) / 7))


def build_comparator(image_shape: Sequence[int], filters: int = 16, name: str = "comparator") -> keras.Model:
    """Build the comparator: ``[image, reconstruction]`` to ``[image_logit (N, 1), pixel_logits (N, H, W, 1)]``.

    A shallow encoder-decoder at full and half resolution with one skip
    connection; a dilated convolution at half resolution widens what each
    pixel sees to about 20 pixels. Logits are of "anomalous" (higher =
    more anomalous), unlike a GAN discriminator's.
    """
    shape = validate_image_shape(image_shape, 2)
    image = keras.Input(shape=shape, name="image")
    reconstruction = keras.Input(shape=shape, name="reconstruction")
    difference = layers.Subtract(name="difference")([image, reconstruction])
    absolute = layers.Add(name="absolute_difference")(
        [
            layers.ReLU(name="above")(difference),
            layers.ReLU(name="below")(layers.Rescaling(-1.0, name="negated")(difference)),
        ]
    )
    x = layers.Concatenate(name="stacked")([image, reconstruction, absolute])
    full = layers.LeakyReLU(0.2, name="cmp_in_act")(layers.Conv2D(filters, 3, padding="same", name="cmp_in_conv")(x))
    half = layers.Conv2D(2 * filters, 4, strides=2, padding="same", name="cmp_down_conv")(full)
    half = layers.LeakyReLU(0.2, name="cmp_down_act")(half)
    half = layers.Conv2D(2 * filters, 3, padding="same", dilation_rate=2, name="cmp_mid_conv")(half)
    half = layers.LeakyReLU(0.2, name="cmp_mid_act")(half)
    half = layers.Dropout(0.2, name="cmp_mid_dropout")(half)
    up = layers.UpSampling2D(2, interpolation="nearest", name="cmp_up")(half)
    x = layers.Concatenate(name="cmp_skip")([up, full])
    x = layers.LeakyReLU(0.2, name="cmp_out_act")(layers.Conv2D(filters, 3, padding="same", name="cmp_out_conv")(x))
    pixel_logits = layers.Conv2D(1, 1, name=PIXEL_LOGITS)(x)
    window = pooling_window(shape)
    pooled = layers.AveragePooling2D(window, strides=1, padding="same", name="window_mean")(pixel_logits)
    image_logit = layers.GlobalMaxPooling2D(name=IMAGE_LOGIT)(pooled)
    return keras.Model([image, reconstruction], [image_logit, pixel_logits], name=name)


def focal_loss(targets: tf.Tensor, logits: tf.Tensor, gamma: float = FOCAL_GAMMA) -> tf.Tensor:
    """Per-example mean of the focal loss (Lin et al. 2017) of per-pixel ``logits`` against 0/1 ``targets``."""
    cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    probability = tf.sigmoid(logits)
    p_true = targets * probability + (1.0 - targets) * (1.0 - probability)
    loss = tf.pow(1.0 - p_true, gamma) * cross_entropy
    return tf.reduce_mean(tf.reshape(loss, (tf.shape(loss)[0], -1)), axis=-1)


@keras.saving.register_keras_serializable(package="adda_keras")
class ComparatorModel(AdversarialModelBase):
    """Trains a comparator on ``((x, x̂), (made, made_rec, masks)[, (known, known_rec)])`` batches.

    Args:
        comparator: from :func:`build_comparator`.
        shift: the largest translation (pixels) applied to a whole batch.
        known_weight: weight of the labelled anomalies' image loss.
        seed: seeds the translations.
    """

    network_names = ("comparator",)
    hyperparameter_names = ("shift", "known_weight")
    tracker_names = ("loss_pixel", "loss_image", "loss_known")

    def __init__(
        self,
        comparator: keras.Model,
        shift: int = 2,
        known_weight: float = 1.0,
        seed: int | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(seed=seed, metadata=metadata, **kwargs)
        self.comparator = comparator
        self.shift = int(shift)
        self.known_weight = float(known_weight)

    def call(self, inputs: tuple[tf.Tensor, tf.Tensor], training: bool = False) -> tf.Tensor:
        """The image logit of ``(images, reconstructions)``."""
        return self.comparator(list(inputs), training=training)[0]

    def _shifted(self, tensors: list[tf.Tensor]) -> list[tf.Tensor]:
        """``tensors`` (batch-first, spatial axes 1 and 2) rolled by one random translation."""
        if self.shift == 0:
            return tensors
        offset = keras.random.randint((2,), -self.shift, self.shift + 1, seed=self.seed_generator)
        return [tf.roll(t, offset, axis=[1, 2]) for t in tensors]

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        """One update: normals (all pixels 0, image 0), self-made anomalies (their masks, image 1), known (image 1)."""
        (images, reconstructions), (made, made_rec, masks), *known = data
        with tf.GradientTape() as tape:
            images, reconstructions, made, made_rec, masks = self._shifted(
                [images, reconstructions, made, made_rec, masks]
            )
            logit_normal, pixels_normal = self.comparator([images, reconstructions], training=True)
            logit_made, pixels_made = self.comparator([made, made_rec], training=True)
            loss_pixel = tf.reduce_mean(focal_loss(tf.zeros_like(pixels_normal), pixels_normal)) + tf.reduce_mean(
                focal_loss(masks[..., None], pixels_made)
            )
            loss_image = tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(logit_normal), logits=logit_normal)
            ) + tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logit_made), logits=logit_made)
            )
            loss_known = tf.constant(0.0)
            if known:
                known_images, known_rec = self._shifted(list(known[0]))
                logit_known, _ = self.comparator([known_images, known_rec], training=True)
                loss_known = tf.reduce_mean(
                    tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(logit_known), logits=logit_known)
                )
            loss = loss_pixel + loss_image + self.known_weight * loss_known
        self._apply(tape, loss, "comparator")
        return self._record({"loss_pixel": loss_pixel, "loss_image": loss_image, "loss_known": loss_known})
