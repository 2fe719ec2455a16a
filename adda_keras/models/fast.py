"""Fast inference form of a trained decoder: the same function, 2.25x fewer multiply-adds, the same weights.

The default decoder (:func:`~adda_keras.models.networks.build_decoder`,
``upsampling="resize"``) doubles its resolution by nearest-neighbour
upsampling followed by a 3x3 convolution. The convolution then runs at the
high resolution over a map in which every pixel is repeated 2x2, so most of
its multiply-adds read the same low-resolution pixel several times.

Exactly: an output pixel at row ``p = 2i + r`` (``r`` its parity, the
*phase*) reads upsampled rows ``p - 1, p, p + 1``, which are low-resolution
rows ``i - 1, i, i`` for ``r = 0`` and ``i, i, i + 1`` for ``r = 1``. Taps
that fall on the same low-resolution row add up, so along each axis the
3x3 kernel ``K`` becomes two taps per phase, ``(K0 | K1 + K2)`` for even
and ``(K0 + K1 | K2)`` for odd outputs: each of the four phases ``(r, s)``
is a 2x2 convolution of the *low-resolution* map, and interleaving the four
results (depth-to-space, the sub-pixel convolution of Shi et al. 2016)
gives the high-resolution output. That is 16 instead of 36 multiply-adds
per low-resolution pixel and channel pair, and no upsampled copy in memory.

The four interleaved 2x2 kernels are one 4x4 kernel (:func:`subpixel_kernel`:
taps ``K2, K1 + K2, K0 + K1, K0`` along each axis) of a stride-2 transposed
convolution, which computes all four phases and writes each where
depth-to-space would put it, in one operation. On the development machine
(2 cores of an AMD EPYC; ``results/benchmark_scoring.md``) that single
operation was faster than four 2x2 convolutions and a depth-to-space, and
than one convolution with four phases as channels; it is a built-in
operation of TFLite (``TRANSPOSE_CONV``) too.

:class:`FastDecoder` builds this form from a trained decoder at scoring
time, from the decoder's own variables (so it follows the weights, and
saved ``.keras`` files are unchanged: the file keeps the original
networks). Every other layer (the projection, the activations, the final
``image`` convolution, transposed-convolution decoders) is called as it is.
The result equals the Keras decoder up to float rounding (the summed taps
change the order of the additions; about 1e-7 on images in [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

__all__ = ["FOLD", "FastDecoder", "is_upsample_conv", "subpixel_kernel", "upsample_conv"]

#: row ``t`` of the 4x4 transposed-convolution kernel is the sum of the 3x3 kernel's rows ``a`` with ``FOLD[t, a] = 1``
FOLD = np.array([[0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]], np.float32)


def subpixel_kernel(kernel: tf.Tensor) -> tf.Tensor:
    """The ``(4, 4, out, in)`` stride-2 transposed-convolution kernel of a ``(3, 3, in, out)`` convolution kernel.

    Along each axis its taps are ``K2, K1 + K2, K0 + K1, K0``: interleaved,
    the 2x2 kernels of the four output phases (see the module docstring).
    """
    return tf.einsum("ti,uj,ijcd->tudc", FOLD, FOLD, tf.convert_to_tensor(kernel, tf.float32))


def upsample_conv(inputs: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor | None = None) -> tf.Tensor:
    """``conv3x3_same(upsample_nearest_2x(inputs), kernel) + bias`` computed on the low-resolution ``inputs``.

    ``inputs`` is ``(N, h, w, in)``, ``kernel`` ``(3, 3, in, out)``; the
    result is ``(N, 2h, 2w, out)``: a stride-2 transposed convolution with
    :func:`subpixel_kernel` (``"SAME"`` padding crops exactly the row and
    column that the 3x3 convolution's zero padding leaves out).
    """
    inputs = tf.convert_to_tensor(inputs, tf.float32)
    height, width = int(inputs.shape[1]), int(inputs.shape[2])
    filters = int(kernel.shape[-1])
    batch = inputs.shape[0] if inputs.shape[0] is not None else tf.shape(inputs)[0]
    output_shape = tf.stack([batch, 2 * height, 2 * width, filters])
    outputs = tf.nn.conv2d_transpose(inputs, subpixel_kernel(kernel), output_shape, strides=2, padding="SAME")
    return outputs if bias is None else tf.nn.bias_add(outputs, bias)


def is_upsample_conv(upsample: keras.layers.Layer, conv: keras.layers.Layer) -> bool:
    """Whether ``upsample`` then ``conv`` is the resize-convolution that :func:`upsample_conv` computes exactly.

    ``UpSampling2D(2, interpolation="nearest")`` then a plain ``Conv2D`` with
    a 3x3 kernel, stride 1, ``"same"`` padding, no dilation, one group, in
    channels-last layout.
    """
    return (
        isinstance(upsample, keras.layers.UpSampling2D)
        and tuple(upsample.size) == (2, 2)
        and upsample.interpolation == "nearest"
        and upsample.data_format == "channels_last"
        and type(conv) is keras.layers.Conv2D
        and tuple(conv.kernel_size) == (3, 3)
        and tuple(conv.strides) == (1, 1)
        and tuple(conv.dilation_rate) == (1, 1)
        and conv.padding == "same"
        and conv.groups == 1
        and conv.data_format == "channels_last"
    )


class FastDecoder:
    """A trained decoder with every resize-convolution computed at low resolution (:func:`upsample_conv`).

    Call it like the decoder (``fast(z)``, inference only); it reads the
    decoder's variables on every call, so it stays equal to the decoder if
    the weights change. ``rewritten`` counts the pairs it replaced (0 for a
    transposed-convolution decoder, which it then runs layer by layer, as
    Keras does).

    Args:
        decoder: a functional model whose layers form one chain, e.g. built
            by :func:`~adda_keras.models.networks.build_decoder`.

    Raises:
        ValueError: if ``decoder``'s layers do not form one chain (a layer
            with several inputs, or one that does not take the previous
            layer's output).
    """

    def __init__(self, decoder: keras.Model) -> None:
        layers = [layer for layer in decoder.layers if not isinstance(layer, keras.layers.InputLayer)]
        previous = decoder.inputs[0]
        for layer in layers:
            if layer.input is not previous:
                raise ValueError(
                    f"FastDecoder needs a decoder whose layers form one chain; {layer.name!r} does not take "
                    "the previous layer's output"
                )
            previous = layer.output
        self.decoder = decoder
        self._steps: list[Callable[[tf.Tensor], tf.Tensor]] = []
        self.rewritten = 0
        index = 0
        while index < len(layers):
            if index + 1 < len(layers) and is_upsample_conv(layers[index], layers[index + 1]):
                self._steps.append(_fast_upsample_conv(layers[index + 1]))
                self.rewritten += 1
                index += 2
            else:
                self._steps.append(_as_step(layers[index]))
                index += 1

    def __call__(self, latent: tf.Tensor) -> tf.Tensor:
        """Decode ``latent`` ``(N, latent_dim)`` into images, as ``decoder(latent, training=False)`` does."""
        outputs = tf.convert_to_tensor(latent, tf.float32)
        for step in self._steps:
            outputs = step(outputs)
        return outputs


def _fast_upsample_conv(conv: keras.layers.Conv2D) -> Callable[[tf.Tensor], tf.Tensor]:
    """The step that replaces ``UpSampling2D`` + ``conv``: :func:`upsample_conv`, then ``conv``'s activation."""

    def step(inputs: tf.Tensor) -> tf.Tensor:
        bias = conv.bias if conv.use_bias else None
        return conv.activation(upsample_conv(inputs, conv.kernel, bias))

    return step


def _as_step(layer: keras.layers.Layer) -> Callable[[tf.Tensor], tf.Tensor]:
    """A layer kept as it is, called in inference mode."""

    def step(inputs: tf.Tensor) -> tf.Tensor:
        return layer(inputs, training=False)

    return step
