"""Encoder, decoder and discriminator builders shared by every model.

All four methods of the paper (AnoVAE, AnoGAN, AnoVAEGAN and ADA) belong to
one architecture family (VAEGAN, Larsen et al. 2016), so they are assembled
from these three functional sub-networks. Keeping the builders in one place
means a comparison between methods compares *scores*, not architectures.

The discriminator has a convolutional trunk followed by global average
pooling and a single dense unit. That head is what makes the plain class
activation map (CAM) of Zhou et al. 2016 possible: the map is the trunk's
last feature maps weighted by the dense kernel. The discriminator therefore
returns two tensors: the logit (before the sigmoid) and those feature maps.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

#: Name of the discriminator's last convolution, the layer CAM looks at.
ATTENTION_LAYER = "attention_features"
#: Name of the discriminator's dense head whose kernel weights the CAM.
HEAD_LAYER = "head"


def validate_image_shape(image_shape: Sequence[int], downsampling: int) -> tuple[int, int, int]:
    """Return ``image_shape`` as a tuple after checking it suits the networks.

    Height and width must be divisible by ``downsampling`` (``2 ** number of
    strided convolutions``) so that the decoder reproduces the input size.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels); got {image_shape!r}")
    height, width, channels = shape
    if channels not in (1, 3):
        raise ValueError(f"image_shape must have 1 or 3 channels; got {channels}")
    if height % downsampling or width % downsampling or min(height, width) < downsampling:
        raise ValueError(
            f"image height and width must be positive multiples of {downsampling} "
            f"for these networks; got {height}x{width}"
        )
    return shape


def _conv_block(x: keras.KerasTensor, filters: int, strides: int, name: str) -> keras.KerasTensor:
    x = layers.Conv2D(filters, 4 if strides > 1 else 3, strides=strides, padding="same", name=f"{name}_conv")(x)
    return layers.LeakyReLU(0.2, name=f"{name}_act")(x)


def build_encoder(
    image_shape: Sequence[int],
    latent_dim: int = 16,
    filters: Sequence[int] = (32, 64),
    name: str = "encoder",
) -> keras.Model:
    """Build ``G_enc``: an image to the mean and log-variance of ``q(z|x)``."""
    shape = validate_image_shape(image_shape, 2 ** len(filters))
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = _conv_block(x, f, 2, f"enc{i}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(128, name="hidden")(x)
    x = layers.LeakyReLU(0.2, name="hidden_act")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name=name)


def build_decoder(
    image_shape: Sequence[int],
    latent_dim: int = 16,
    filters: Sequence[int] = (32, 16),
    projection_filters: int = 64,
    name: str = "decoder",
) -> keras.Model:
    """Build ``G_dec``: a latent code to an image in [0, 1] (sigmoid output).

    The code is projected to ``projection_filters`` maps at
    ``1 / 2**len(filters)`` of the image size, then each entry of ``filters``
    is one stride-2 transposed convolution. The defaults keep the decoder,
    the most expensive part of a training step, cheap on a laptop CPU.
    """
    height, width, channels = validate_image_shape(image_shape, 2 ** len(filters))
    scale = 2 ** len(filters)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense((height // scale) * (width // scale) * projection_filters, name="project")(inputs)
    x = layers.LeakyReLU(0.2, name="project_act")(x)
    x = layers.Reshape((height // scale, width // scale, projection_filters), name="reshape")(x)
    for i, f in enumerate(filters):
        x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", name=f"dec{i}_deconv")(x)
        x = layers.LeakyReLU(0.2, name=f"dec{i}_act")(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(
    image_shape: Sequence[int],
    filters: Sequence[int] = (32, 64),
    attention_filters: int = 128,
    dropout: float = 0.2,
    name: str = "discriminator",
) -> keras.Model:
    """Build ``D``: an image to ``[logit, attention_features]``.

    ``sigmoid(logit)`` is the probability that the image is a real normal
    image. ``attention_features`` are the last convolutional maps ``A_k``;
    they feed the global-average-pool + dense head and are also the feature
    space of the VAEGAN's learned-similarity reconstruction loss.
    """
    shape = validate_image_shape(image_shape, 2 ** len(filters))
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = _conv_block(x, f, 2, f"dis{i}")
        if dropout:
            x = layers.Dropout(dropout, name=f"dis{i}_dropout")(x)
    x = layers.Conv2D(attention_filters, 3, padding="same", name=f"{ATTENTION_LAYER}_conv")(x)
    features = layers.LeakyReLU(0.2, name=ATTENTION_LAYER)(x)
    pooled = layers.GlobalAveragePooling2D(name="gap")(features)
    logit = layers.Dense(1, name=HEAD_LAYER)(pooled)
    return keras.Model(inputs, [logit, features], name=name)
