"""Encoder, decoder and discriminator builders shared by every model.

All four methods of the paper (AnoVAE, AnoGAN, AnoVAEGAN and ADA) belong to
one architecture family (VAEGAN, Larsen et al. 2016), so they are assembled
from these three functional sub-networks. Keeping the builders in one place
means a comparison between methods compares *scores*, not architectures.

The decoder upsamples by resize-convolution (nearest-neighbour
``UpSampling2D`` followed by a 3x3 ``Conv2D``, Odena et al. 2016) by default.
Stride-2 transposed convolutions leave a period-2 checkerboard on every
output; the discriminator then learns that cheap real-vs-fake cue instead of
the image content, and its attention leaves the object (measured in
``results/attention_tuning.md``). ``upsampling="transpose"`` keeps the old
layers for comparison.

The discriminator has a convolutional trunk followed by global average
pooling and a single dense unit. That head is what makes the plain class
activation map (CAM) of Zhou et al. 2016 possible: the map is the trunk's
last feature maps weighted by the dense kernel. The discriminator therefore
returns two tensors: the logit (before the sigmoid) and those feature maps.

Image size: the networks were designed for 28x28 digits, with a bottleneck of
7x7 cells. Larger images get one more stride-2 stage per doubling of their
side beyond 32 pixels (:func:`extra_stages`: 0 for 28 and 32, 1 for 64, 2 for
128), in the encoder, the decoder and the discriminator alike, so the
bottleneck and the CAM stay at 7-8 and 14-16 cells and a training step grows
with the pixel count, not faster. The builders choose their filters from the
image size when ``filters`` is not given; at 28x28 that is exactly the
original networks, so results on MNIST do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

#: Name of the discriminator's last convolution, the layer CAM looks at.
ATTENTION_LAYER = "attention_features"
#: Name of the discriminator's dense head whose kernel weights the CAM.
HEAD_LAYER = "head"


#: the largest image side that needs no extra stride-2 stage
BASE_SIDE = 32


def extra_stages(image_shape: Sequence[int]) -> int:
    """Stride-2 stages added to the 28x28 networks for an image of this size.

    One per doubling of the smaller side beyond :data:`BASE_SIDE`: 0 up to
    32 pixels, 1 up to 64, 2 up to 128, 3 up to 256.
    """
    side = min(int(image_shape[0]), int(image_shape[1]))
    stages = 0
    while side > BASE_SIDE * 2**stages:
        stages += 1
    return stages


def encoder_filters(image_shape: Sequence[int]) -> tuple[int, ...]:
    """Default filters of :func:`build_encoder`: ``(32, 64)``, plus 128 per extra stage."""
    return (32, 64) + (128,) * extra_stages(image_shape)


def decoder_filters(image_shape: Sequence[int]) -> tuple[int, ...]:
    """Default filters of :func:`build_decoder`: ``(32, 16)``, preceded by 64 per extra stage."""
    return (64,) * extra_stages(image_shape) + (32, 16)


def discriminator_filters(image_shape: Sequence[int]) -> tuple[int, ...]:
    """Default trunk filters of :func:`build_discriminator`: ``(32, 64)``, preceded by a strided 32 per extra stage."""
    return (32,) * extra_stages(image_shape) + (32, 64)


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
            f"for these networks; got {height}x{width} (sizes that work: 28, 32, 64, 128)"
        )
    return shape


def check_network_shape(image_shape: Sequence[int]) -> tuple[int, int, int]:
    """Check that the default networks of every model can be built for ``image_shape``; return it as a tuple.

    The deepest default network is the encoder, with ``2 + extra_stages``
    stride-2 layers, so height and width must be multiples of
    ``2 ** (2 + extra_stages)``: 4 up to 32 pixels, 8 up to 64, 16 up to 128.
    Commands call it before reading data or training, so a bad size fails at once.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3:
        raise ValueError(f"image_shape must be (height, width, channels); got {image_shape!r}")
    return validate_image_shape(shape, 2 ** len(encoder_filters(shape)))


#: how the decoder doubles its resolution
UPSAMPLING_MODES = ("resize", "transpose")


def _conv_block(
    x: keras.KerasTensor, filters: int, strides: int, name: str, spectral_norm: bool = False
) -> keras.KerasTensor:
    conv = layers.Conv2D(filters, 4 if strides > 1 else 3, strides=strides, padding="same", name=f"{name}_conv")
    if spectral_norm:
        conv = layers.SpectralNormalization(conv, name=f"{name}_sn")
    return layers.LeakyReLU(0.2, name=f"{name}_act")(conv(x))


def build_encoder(
    image_shape: Sequence[int],
    latent_dim: int = 16,
    filters: Sequence[int] | None = None,
    name: str = "encoder",
) -> keras.Model:
    """Build ``G_enc``: an image to the mean and log-variance of ``q(z|x)``.

    One stride-2 convolution per entry of ``filters`` (default:
    :func:`encoder_filters` of the image size).
    """
    if filters is None:
        filters = encoder_filters(image_shape)
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
    filters: Sequence[int] | None = None,
    projection_filters: int = 64,
    upsampling: str = "resize",
    name: str = "decoder",
) -> keras.Model:
    """Build ``G_dec``: a latent code to an image in [0, 1] (sigmoid output).

    The code is projected to ``projection_filters`` maps at
    ``1 / 2**len(filters)`` of the image size, then each entry of ``filters``
    (default: :func:`decoder_filters` of the image size) doubles the resolution: ``upsampling="resize"`` (default) by
    nearest-neighbour upsampling and a 3x3 convolution, which cannot leave a
    checkerboard; ``"transpose"`` by a stride-2 transposed convolution. The
    defaults keep the decoder, the most expensive part of a training step,
    cheap on a laptop CPU.
    """
    if upsampling not in UPSAMPLING_MODES:
        raise ValueError(f"upsampling must be one of {UPSAMPLING_MODES}; got {upsampling!r}")
    if filters is None:
        filters = decoder_filters(image_shape)
    height, width, channels = validate_image_shape(image_shape, 2 ** len(filters))
    scale = 2 ** len(filters)
    inputs = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense((height // scale) * (width // scale) * projection_filters, name="project")(inputs)
    x = layers.LeakyReLU(0.2, name="project_act")(x)
    x = layers.Reshape((height // scale, width // scale, projection_filters), name="reshape")(x)
    for i, f in enumerate(filters):
        if upsampling == "resize":
            x = layers.UpSampling2D(2, interpolation="nearest", name=f"dec{i}_upsample")(x)
            x = layers.Conv2D(f, 3, padding="same", name=f"dec{i}_conv")(x)
        else:
            x = layers.Conv2DTranspose(f, 4, strides=2, padding="same", name=f"dec{i}_deconv")(x)
        x = layers.LeakyReLU(0.2, name=f"dec{i}_act")(x)
    outputs = layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(
    image_shape: Sequence[int],
    filters: Sequence[int] | None = None,
    attention_filters: int = 128,
    dropout: float = 0.2,
    downsampling_layers: int | None = None,
    spectral_norm: bool = False,
    name: str = "discriminator",
) -> keras.Model:
    """Build ``D``: an image to ``[logit, attention_features]``.

    ``sigmoid(logit)`` is the probability that the image is a real normal
    image. ``attention_features`` are the last convolutional maps ``A_k``;
    they feed the global-average-pool + dense head and are also the feature
    space of the VAEGAN's learned-similarity reconstruction loss.

    The first ``downsampling_layers`` entries of ``filters`` are stride-2
    convolutions, the rest stride 1 (default: all strided). Fewer strided
    layers give a finer CAM (14x14 instead of 7x7 for 28x28 images with one
    instead of two), so the attention can sit on the object rather than
    spill onto its surroundings. Without ``filters``, the trunk is
    :func:`discriminator_filters` of the image size, and
    ``downsampling_layers`` counts the strided layers of the 28x28 trunk
    ``(32, 64)``: the extra stages of a larger image are always strided, so
    one setting gives a CAM of about the same number of cells at every size. ``spectral_norm`` wraps the trunk's
    convolutions in :class:`keras.layers.SpectralNormalization` (Miyato et
    al. 2018); the dense head stays plain so that CAM can read its kernel.
    """
    extra = 0
    if filters is None:
        filters = discriminator_filters(image_shape)
        extra = extra_stages(image_shape)
    if downsampling_layers is None:
        downsampling_layers = len(filters) - extra
    if not 0 <= downsampling_layers <= len(filters) - extra:
        raise ValueError(f"downsampling_layers must be in 0..{len(filters) - extra}; got {downsampling_layers!r}")
    downsampling_layers += extra
    shape = validate_image_shape(image_shape, 2**downsampling_layers)
    inputs = keras.Input(shape=shape, name="image")
    x = inputs
    for i, f in enumerate(filters):
        x = _conv_block(x, f, 2 if i < downsampling_layers else 1, f"dis{i}", spectral_norm)
        if dropout:
            x = layers.Dropout(dropout, name=f"dis{i}_dropout")(x)
    attention_conv = layers.Conv2D(attention_filters, 3, padding="same", name=f"{ATTENTION_LAYER}_conv")
    if spectral_norm:
        attention_conv = layers.SpectralNormalization(attention_conv, name=f"{ATTENTION_LAYER}_sn")
    x = attention_conv(x)
    features = layers.LeakyReLU(0.2, name=ATTENTION_LAYER)(x)
    pooled = layers.GlobalAveragePooling2D(name="gap")(features)
    logit = layers.Dense(1, name=HEAD_LAYER)(pooled)
    return keras.Model(inputs, [logit, features], name=name)
