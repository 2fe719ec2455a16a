"""Where the discriminator looks: class activation maps.

Two attention methods, chosen by name (:data:`ATTENTION_METHODS`):

* ``"cam"`` — plain CAM (Zhou et al. 2016): the discriminator's last
  feature maps ``A_k`` weighted by the kernel ``w_k`` of its
  global-average-pool + dense head, ``sum_k w_k A_k``. One forward pass.
* ``"grad-cam"`` — Grad-CAM (Selvaraju et al. 2017) on any convolutional
  layer: the maps weighted by the spatial mean of ``d logit / d A_k``. Works
  with any head; on the default layer it equals CAM up to a positive scale.

Every map is rectified (ReLU), resized bilinearly to the image size and
normalised per image so that its maximum is 1 (``"max"``, the default) or
min-max scaled to [0, 1] (``"minmax"``); ``"absmax"`` rectifies by the
absolute value instead of ReLU, keeping evidence of both signs, and then
scales the maximum to 1. The paper says attention is
normalised but not how; the per-image max keeps the *relative* weights that
the discriminator assigns, which is what the attention-weighted residual
uses. A map that is zero everywhere (a discriminator that sees nothing)
stays zero instead of turning into NaN.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import keras
import tensorflow as tf

from adda_keras.models.networks import ATTENTION_LAYER, HEAD_LAYER

ATTENTION_METHODS = ("cam", "grad-cam")
NORMALISATIONS = ("max", "minmax", "absmax")
_EPSILON = 1e-8


def check_option(name: str, value: str, valid: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``valid``; else raise a ``ValueError`` naming both."""
    if value not in valid:
        raise ValueError(f"unknown {name} {value!r}; valid options: {', '.join(map(repr, valid))}")
    return value


def normalise_maps(maps: tf.Tensor, normalisation: str = "max") -> tf.Tensor:
    """Rectify and scale each map of a ``(N, H, W)`` batch to [0, 1], safely.

    ``"max"`` and ``"minmax"`` keep the positive evidence (ReLU);
    ``"absmax"`` keeps evidence of either sign (``|map|``), so regions that
    argue *against* "real normal" are attended too. All-zero (or constant,
    for ``"minmax"``) maps come back as zeros.
    """
    check_option("normalisation", normalisation, NORMALISATIONS)
    maps = tf.abs(maps) if normalisation == "absmax" else tf.nn.relu(maps)
    top = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    if normalisation == "minmax":
        bottom = tf.reduce_min(maps, axis=(1, 2), keepdims=True)
        span = top - bottom
        return tf.where(span > _EPSILON, (maps - bottom) / tf.maximum(span, _EPSILON), tf.zeros_like(maps))
    return tf.where(top > _EPSILON, maps / tf.maximum(top, _EPSILON), tf.zeros_like(maps))


def _resize(maps: tf.Tensor, size: tuple[int, int]) -> tf.Tensor:
    return tf.image.resize(maps[..., None], size, method="bilinear")[..., 0]


def cam_from_features(features: tf.Tensor, head_kernel: tf.Tensor) -> tf.Tensor:
    """Raw CAM ``sum_k w_k A_k`` from feature maps ``(N, h, w, K)`` and a ``(K, 1)`` kernel."""
    return tf.einsum("nhwk,k->nhw", features, tf.reshape(head_kernel, (-1,)))


def attention_maps(
    discriminator: keras.Model,
    images: tf.Tensor,
    method: str = "cam",
    layer: str | None = None,
    normalisation: str = "max",
    features: tf.Tensor | None = None,
) -> tf.Tensor:
    """Attention maps ``(N, H, W)`` in [0, 1] of ``discriminator`` on ``images``.

    Args:
        discriminator: a model built by
            :func:`adda_keras.models.networks.build_discriminator` (outputs
            ``[logit, features]``, with a dense layer named ``"head"``).
        images: ``(N, H, W, C)`` float batch.
        method: ``"cam"`` or ``"grad-cam"``.
        layer: Grad-CAM's convolutional layer (default: the discriminator's
            last feature maps). Plain CAM always uses the head's input.
        normalisation: ``"max"`` or ``"minmax"`` (see the module docstring).
        features: for plain CAM, the feature maps that ``discriminator``
            already returned for ``images`` (its second output): a caller
            that needs ``D(x)`` too then runs the discriminator once, not twice
            (Grad-CAM ignores them: it needs a pass under a gradient tape).
    """
    check_option("attention method", method, ATTENTION_METHODS)
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    size = (images.shape[1], images.shape[2])
    if method == "cam":
        if layer not in (None, ATTENTION_LAYER):
            raise ValueError(
                f"plain CAM uses the layer feeding the GAP head ({ATTENTION_LAYER!r}); got layer={layer!r}"
            )
        if features is None:
            _, features = discriminator(images, training=False)
        raw = cam_from_features(features, discriminator.get_layer(HEAD_LAYER).kernel)
    else:
        raw = grad_cam(discriminator, images, layer or ATTENTION_LAYER)
    return normalise_maps(_resize(raw, size), normalisation)


def grad_cam(discriminator: keras.Model, images: tf.Tensor, layer: str = ATTENTION_LAYER) -> tf.Tensor:
    """Raw (un-rectified, un-resized) Grad-CAM of the logit on ``layer``, ``(N, h, w)``."""
    try:
        target = discriminator.get_layer(layer)
    except ValueError as error:
        names = [lay.name for lay in discriminator.layers if len(lay.output.shape) == 4]
        raise ValueError(f"discriminator has no layer {layer!r}; convolutional layers: {names}") from error
    if len(target.output.shape) != 4:
        raise ValueError(f"Grad-CAM needs a layer with (N, h, w, K) output; {layer!r} has shape {target.output.shape}")
    probe = _grad_cam_probe(discriminator, layer)
    with tf.GradientTape() as tape:
        maps, logit = probe(images, training=False)
        tape.watch(maps)
    grads = tape.gradient(logit, maps)
    weights = tf.reduce_mean(grads, axis=(1, 2))
    return tf.einsum("nhwk,nk->nhw", maps, weights)


_PROBES: weakref.WeakKeyDictionary[keras.Model, dict[str, keras.Model]] = weakref.WeakKeyDictionary()


def _grad_cam_probe(discriminator: keras.Model, layer: str) -> keras.Model:
    """A cached model exposing ``layer``'s output beside the logit in one pass."""
    probes = _PROBES.setdefault(discriminator, {})
    if layer not in probes:
        probes[layer] = keras.Model(
            discriminator.inputs, [discriminator.get_layer(layer).output, discriminator.outputs[0]]
        )
    return probes[layer]
