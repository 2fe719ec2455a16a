"""The VAEGAN family's scoring pass: one compiled function per batch shape for the score *and* the map.

Every VAEGAN-based detector (``anovaegan``, ``ada`` and its ablations,
``ada-semi``, ``ada-cam-ano``, ``ada-synthetic``) scores a batch with one
call of a compiled ``tf.function`` that returns the scores and the maps
together, with nothing eager between its phases (reconstruction, the
discriminators, the attention, the score). Each score computes only what
it needs (:data:`SCORE_KINDS`): ``anovaegan`` runs no discriminator,
``ada-d-only`` no decoder, and no score runs the discriminators on the
reconstruction when the attention does not use it
(``attention_sources="input"``). The decoder runs in its exact
low-resolution form (:class:`~adda_keras.models.fast.FastDecoder`).

Images are scored in batches of one fixed shape,
:data:`~adda_keras.detectors.base.SCORE_BATCH_SIZE` by default (the API's
``batch_size`` and the command line share it): the last batch is padded
to that shape and the padding's outputs are dropped
(:func:`run_in_batches`), so each function is traced once whatever the
number of images. (TFLite export has its own fixed batch,
:data:`~adda_keras.detectors.export.TFLITE_BATCH`.)

:func:`reference_path` is the path this replaced (the Keras networks as
saved, batches of 512, the score assembled eagerly after the compiled
pass), kept as the reference that the tests and
``scripts/benchmark_scoring.py`` compare the fast path against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras.attention import attention_maps
from adda_keras.detectors.base import AnomalyResult
from adda_keras.models.fast import FastDecoder
from adda_keras.scoring import (
    ada_score,
    ada_score_from_terms,
    attention_weighted_residual,
    squared_residual,
    weighted_residual_map,
)

__all__ = [
    "REFERENCE_BATCH_SIZE",
    "SCORE_KINDS",
    "VAEGANPasses",
    "reference_path",
    "reference_result",
    "run_in_batches",
]

#: the scoring batch before the fast path (kept by :func:`reference_result`)
REFERENCE_BATCH_SIZE = 512
#: what a score needs: ``"pixel"`` the reconstruction only (``anovaegan``); ``"belief"`` the discriminators on
#: ``x`` only (``ada-d-only``); ``"ada"`` everything (the attention-weighted residual and ``D(x)``)
SCORE_KINDS = ("pixel", "belief", "ada")


class VAEGANPasses:
    """The compiled passes of one VAEGAN's generator and a list of discriminators.

    Calling it (``passes(images)``) gives every part of the score (see
    :meth:`parts`), as ``explain()`` returns them; :meth:`score_pass` gives
    the compiled ``(images, beta) -> (scores, maps)`` of one score kind.
    Both are traced once per batch shape.

    Args:
        model: the VAEGAN whose encoder and decoder reconstruct ``x̂``.
        discriminators: ``[D]`` (self-supervised) or ``[D_G, D_ano]``; their CAMs add up.
        attention: ``"cam"`` or ``"grad-cam"``.
        normalisation: the attention maps' normalisation.
        attention_floor: added to the attention ``c`` everywhere.
        attention_sources: ``"both"`` (``c`` sums the CAMs of ``x`` and
            ``x̂``) or ``"input"`` (``x`` only).
        fast: reconstruct with :class:`~adda_keras.models.fast.FastDecoder`
            (``False``: the Keras decoder as saved, for comparisons).
    """

    def __init__(
        self,
        model: keras.Model,
        discriminators: Sequence[keras.Model],
        attention: str,
        normalisation: str,
        attention_floor: float = 0.0,
        attention_sources: str = "both",
        fast: bool = True,
    ) -> None:
        self.model = model
        self.discriminators = list(discriminators)
        self.attention = attention
        self.normalisation = normalisation
        self.attention_floor = float(attention_floor)
        self.attention_sources = attention_sources
        self._decode = FastDecoder(model.decoder) if fast else (lambda z: model.decoder(z, training=False))
        self._parts = tf.function(self.parts)
        self._score_passes: dict[str, Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]] = {}

    def __call__(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """:meth:`parts`, compiled."""
        return self._parts(images)

    def reconstruct(self, images: tf.Tensor) -> tf.Tensor:
        """``x̂ = G_dec(mean of q(z|x))``, as :meth:`~adda_keras.models.vaegan.VAEGAN.reconstruct`."""
        z_mean, _ = self.model.encoder(images, training=False)
        return self._decode(z_mean)

    def belief_and_attention(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``sum D(images)`` ``(N,)`` and the summed attention maps ``(N, H, W)`` of every discriminator."""
        probability = tf.zeros(tf.shape(images)[:1])
        attention = tf.zeros(tf.shape(images)[:3])
        for discriminator in self.discriminators:
            logit, features = discriminator(images, training=False)
            probability += tf.sigmoid(logit[:, 0])
            attention += attention_maps(
                discriminator, images, self.attention, normalisation=self.normalisation, features=features
            )
        return probability, attention

    def attention_of(self, images: tf.Tensor) -> tf.Tensor:
        """The summed attention maps of every discriminator on ``images`` (no belief needed)."""
        attention = tf.zeros(tf.shape(images)[:3])
        for discriminator in self.discriminators:
            attention += attention_maps(discriminator, images, self.attention, normalisation=self.normalisation)
        return attention

    def parts(self, images: tf.Tensor) -> dict[str, tf.Tensor]:
        """Every part of the score for a batch ``x``.

        ``reconstruction`` ``x̂``; ``attention`` ``c`` (the CAMs of ``x``,
        plus those of ``x̂`` when ``attention_sources="both"``, plus the
        floor); its halves ``attention_input`` and ``attention_reconstruction``
        (computed even when ``c`` leaves it out, for plots);
        ``normal_probability`` ``sum D(x)``; ``weighted_residual``, the
        attention term of the score.
        """
        reconstruction = self.reconstruct(images)
        probability, attention_input = self.belief_and_attention(images)
        attention_rec = self.attention_of(reconstruction)
        combined = attention_input + self.attention_floor
        if self.attention_sources == "both":
            combined += attention_rec
        return {
            "reconstruction": reconstruction,
            "attention": combined,
            "attention_input": attention_input,
            "attention_reconstruction": attention_rec,
            "normal_probability": probability,
            "weighted_residual": attention_weighted_residual(images, reconstruction, combined),
        }

    def score_pass(self, kind: str) -> Callable[[tf.Tensor, tf.Tensor], tuple[tf.Tensor, tf.Tensor]]:
        """The compiled ``(images, beta) -> (scores (N,), maps (N, H, W))`` of a score kind (:data:`SCORE_KINDS`).

        ``"pixel"``: ``mean (x - x̂)²`` and the squared residual.
        ``"belief"``: ``-sum D(x)`` and the attention on ``x`` plus the floor
        (what the discriminators looked at; the reconstruction plays no part
        in this score). ``"ada"``: ``||c ⊙ (x - x̂)||² / ||c||² - beta · sum
        D(x)`` and :func:`weighted_residual_map`. ``beta`` is a float32
        scalar tensor (the raw weight), so that a new β needs no new trace.
        """
        if kind not in SCORE_KINDS:
            raise ValueError(f"kind must be one of {SCORE_KINDS}; got {kind!r}")
        if kind not in self._score_passes:
            self._score_passes[kind] = tf.function(getattr(self, f"_{kind}_scores"))
        return self._score_passes[kind]

    def _pixel_scores(self, images: tf.Tensor, beta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        residual = squared_residual(images, self.reconstruct(images))
        return tf.reduce_mean(residual, axis=(1, 2)), residual

    def _belief_scores(self, images: tf.Tensor, beta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        probability, attention = self.belief_and_attention(images)
        return -probability, attention + self.attention_floor

    def _ada_scores(self, images: tf.Tensor, beta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        reconstruction = self.reconstruct(images)
        probability, attention = self.belief_and_attention(images)
        attention += self.attention_floor
        if self.attention_sources == "both":
            attention += self.attention_of(reconstruction)
        weighted = attention_weighted_residual(images, reconstruction, attention)
        score = ada_score_from_terms(weighted, probability, beta)
        return score, weighted_residual_map(images, reconstruction, attention)


def run_in_batches(
    function: Callable[..., Any], images: np.ndarray, batch_size: int, *args: Any
) -> list[np.ndarray] | dict[str, np.ndarray]:
    """``function(batch, *args)`` over ``images`` in batches of exactly ``batch_size``, outputs concatenated.

    The last batch is padded (with copies of its last image) to the full
    shape and the padding's outputs are dropped, so a compiled ``function``
    sees one batch shape (one trace) whatever the number of images. Its
    outputs (a tuple or a dict of tensors whose first axis is the batch)
    come back as NumPy arrays of ``len(images)`` rows, as a list or a dict.
    """
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        n = len(batch)
        if n < batch_size:
            batch = np.concatenate([batch, np.repeat(batch[-1:], batch_size - n, axis=0)])
        outputs = function(tf.constant(batch), *args)
        if isinstance(outputs, dict):
            chunks.append({key: value.numpy()[:n] for key, value in outputs.items()})
        else:
            chunks.append([value.numpy()[:n] for value in outputs])
    if isinstance(chunks[0], dict):
        return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in chunks[0]}
    return [np.concatenate([chunk[i] for chunk in chunks]) for i in range(len(chunks[0]))]


def reference_path(detector: Any) -> Callable[[np.ndarray, int], AnomalyResult]:
    """The scoring path that the fast one replaced, compiled once for a fitted VAEGAN-family detector.

    The returned ``score(images, batch_size=512)`` gives an
    :class:`~adda_keras.detectors.base.AnomalyResult` as the library did
    before: the Keras networks as saved (the decoder upsamples, then
    convolves at full resolution), one compiled pass over all the parts
    (traced once for any batch size), then the score and the map assembled
    eagerly; ``ada-d-only``'s map is the whole attention ``c`` (with the
    reconstruction's CAM), as it was. For tests and benchmarks: the fast
    path must give these scores within float rounding.
    """
    model, discriminators = detector._scoring_networks()
    passes = VAEGANPasses(
        model,
        discriminators,
        detector.attention,
        detector.normalisation,
        detector.attention_floor,
        detector.attention_sources,
        fast=False,
    )
    compiled = tf.function(passes.parts, input_signature=[tf.TensorSpec((None, *detector.image_shape_), tf.float32)])
    kind, beta = detector._score_kind(), detector._score_beta()

    def score(images: np.ndarray, batch_size: int = REFERENCE_BATCH_SIZE) -> AnomalyResult:
        images = detector._check_input(images)
        scores, maps = [], []
        for start in range(0, len(images), batch_size):
            batch = tf.constant(images[start : start + batch_size])
            parts = compiled(batch)
            if kind == "pixel":
                residual = squared_residual(batch, parts["reconstruction"])
                batch_scores, batch_maps = tf.reduce_mean(residual, axis=(1, 2)), residual
            elif kind == "belief":
                batch_scores, batch_maps = -parts["normal_probability"], parts["attention"]
            else:
                reconstruction, attention = parts["reconstruction"], parts["attention"]
                batch_scores = ada_score(batch, reconstruction, attention, parts["normal_probability"], beta)
                batch_maps = weighted_residual_map(batch, reconstruction, attention)
            scores.append(batch_scores.numpy())
            maps.append(batch_maps.numpy())
        return AnomalyResult(np.concatenate(scores).astype(np.float32), np.concatenate(maps).astype(np.float32))

    return score


def reference_result(detector: Any, images: np.ndarray, batch_size: int = REFERENCE_BATCH_SIZE) -> AnomalyResult:
    """Scores and maps of ``images`` by :func:`reference_path` (compiled anew: for one-off comparisons)."""
    return reference_path(detector)(images, batch_size)
