"""The fast scoring path equals the one it replaced: low-resolution decoder, one-pass scores, old files, exports."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adda_keras import available_detectors, load_detector, make_detector
from adda_keras.detectors.ada import _AttentionDetector
from adda_keras.detectors.base import SCORE_BATCH_SIZE
from adda_keras.detectors.export import TFLITE_BATCH, export_detector, pad_to_batch, run_tflite
from adda_keras.detectors.fast_scoring import reference_result, run_in_batches
from adda_keras.models.fast import FastDecoder, upsample_conv
from adda_keras.models.networks import build_decoder

TOLERANCE = 1e-5
#: the VAEGAN-family detectors that had a scoring path before this one; ``ada-compare`` and ``compare`` were born on
#: the fast path (their comparator takes two inputs, which the old pass did not know): tests/test_compare.py checks
#: their scores against their formula
BORN_FAST = {"ada-compare", "compare"}
VAEGAN_FAMILY = [
    name
    for name in available_detectors()
    if issubclass(type(make_detector(name)), _AttentionDetector) and name not in BORN_FAST
]


@settings(max_examples=25, deadline=None)
@given(
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    channels=st.integers(1, 5),
    filters=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_upsample_conv_is_the_convolution_of_the_upsampled_map(height, width, channels, filters, seed) -> None:
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(2, height, width, channels)).astype(np.float32)
    kernel = rng.normal(size=(3, 3, channels, filters)).astype(np.float32)
    bias = rng.normal(size=filters).astype(np.float32)
    upsampled = np.repeat(np.repeat(images, 2, axis=1), 2, axis=2)
    expected = tf.nn.conv2d(upsampled, kernel, 1, "SAME") + bias
    np.testing.assert_allclose(upsample_conv(images, kernel, bias), expected, atol=TOLERANCE, rtol=0)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(side=st.sampled_from([28, 32, 64]), channels=st.sampled_from([1, 3]), seed=st.integers(0, 2**16))
def test_fast_decoder_equals_the_keras_decoder(side: int, channels: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    decoder = build_decoder((side, side, channels))
    for weight in decoder.weights:  # random weights of a trained network's scale, not the zero biases of a new one
        fan_in = int(np.prod(weight.shape[:-1])) if len(weight.shape) > 1 else 1
        weight.assign(rng.normal(size=weight.shape).astype(np.float32) / np.sqrt(fan_in))
    fast = FastDecoder(decoder)
    assert fast.rewritten == sum(isinstance(layer, keras.layers.UpSampling2D) for layer in decoder.layers)
    latent = rng.normal(size=(3, 16)).astype(np.float32)
    np.testing.assert_allclose(fast(latent), decoder(latent, training=False), atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(tf.function(fast)(latent), decoder(latent, training=False), atol=TOLERANCE, rtol=0)


def test_fast_decoder_keeps_transposed_convolutions_and_refuses_branches() -> None:
    decoder = build_decoder((28, 28, 1), upsampling="transpose")
    fast = FastDecoder(decoder)
    latent = np.random.default_rng(0).normal(size=(2, 16)).astype(np.float32)
    assert fast.rewritten == 0
    np.testing.assert_array_equal(fast(latent), decoder(latent, training=False))
    inputs = keras.Input((16,))
    branched = keras.Model(inputs, keras.layers.Add()([keras.layers.Dense(4)(inputs), keras.layers.Dense(4)(inputs)]))
    with pytest.raises(ValueError, match="one chain"):
        FastDecoder(branched)


@pytest.fixture(scope="module")
def family(trained_ada, tiny_split) -> dict[str, _AttentionDetector]:
    """Every registered VAEGAN-family detector, sharing ``trained_ada``'s VAEGAN; ``D_ano`` trained for one epoch."""
    x_train, x_val = tiny_split.x_train[:32], tiny_split.x_val[:32]
    known = tiny_split.x_test[tiny_split.y_test == 1][:16]
    semi = make_detector("ada-semi", epochs=1, batch_size=32).fit(
        x_train, x_val, x_known=known, self_supervised=trained_ada
    )
    synthetic = make_detector("ada-synthetic", epochs=1, batch_size=32).fit(x_train, x_val, self_supervised=trained_ada)
    detectors = {}
    for name in VAEGAN_FAMILY:
        source = semi if name in semi.methods else synthetic if name in synthetic.methods else trained_ada
        detectors[name] = source if name == source.method else source.variant(name)
    return detectors


@pytest.mark.parametrize("name", VAEGAN_FAMILY)
def test_fast_path_equals_the_old_path(family, tiny_split, name: str) -> None:
    detector = family[name]
    images = tiny_split.x_test[:45]  # not a multiple of the batch: the last batch is padded
    fast = detector.predict(images)
    old = reference_result(detector, images)
    np.testing.assert_allclose(fast.scores, old.scores, atol=TOLERANCE, rtol=0)
    if name == "ada-d-only":  # the score is -D(x): its map is now the attention on x alone (no reconstruction)
        parts = detector.explain(images)
        np.testing.assert_allclose(fast.maps, parts["attention_input"] + detector.attention_floor, atol=TOLERANCE)
    else:
        np.testing.assert_allclose(fast.maps, old.maps, atol=TOLERANCE, rtol=0)


def test_one_trace_per_batch_size_whatever_the_number_of_images(trained_ada, tiny_split) -> None:
    score_pass = trained_ada._compiled_parts().score_pass("ada")
    counts = []
    for n in (SCORE_BATCH_SIZE + 3, 5, 2 * SCORE_BATCH_SIZE):
        trained_ada.score_samples(tiny_split.x_test[:n])
        counts.append(score_pass.experimental_get_tracing_count())
    assert counts[0] == counts[-1]
    whole = trained_ada.score_samples(tiny_split.x_test[:50], batch_size=50)
    np.testing.assert_allclose(trained_ada.score_samples(tiny_split.x_test[:50]), whole, atol=TOLERANCE, rtol=0)
    chunks = run_in_batches(lambda batch: {"twice": 2 * batch}, tiny_split.x_test[:7], 4)
    np.testing.assert_array_equal(chunks["twice"], 2 * tiny_split.x_test[:7])


def test_a_saved_file_loads_and_scores_as_the_old_path_scored_it(trained_ada, tiny_split, tmp_path) -> None:
    images = tiny_split.x_test[:40]
    old = reference_result(trained_ada, images)  # what the file's detector scored before the fast path
    trained_ada.save(tmp_path / "ada.keras")
    loaded = load_detector(tmp_path / "ada.keras")
    assert set(loaded._networks()) == {"encoder", "decoder", "discriminator"}  # the file keeps the original networks
    assert loaded.model_.decoder.get_layer("dec0_upsample") is not None
    result = loaded.predict(images)
    np.testing.assert_allclose(result.scores, old.scores, atol=TOLERANCE, rtol=0)
    np.testing.assert_allclose(result.maps, old.maps, atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize("name", ["anovaegan", "ada-d-only"])
def test_exports_of_the_lighter_scores_equal_the_detector(trained_ada, tiny_split, tmp_path, name: str) -> None:
    """ADA's own export is checked in a fresh process by test_own_images_tools; these scores skip parts of the pass."""
    detector = trained_ada.variant(name)
    detector.fit_threshold(tiny_split.x_val[:32])
    images = tiny_split.x_test[: TFLITE_BATCH + 5]
    expected = detector.predict(images)
    saved = tf.saved_model.load(str(export_detector(detector, tmp_path / "model"))).signatures["serving_default"]
    served = saved(images=tf.constant(images))
    lite = run_tflite(export_detector(detector, tmp_path / "model.tflite", "tflite"), images)
    for outputs in ({k: v.numpy() for k, v in served.items()}, lite):
        np.testing.assert_allclose(outputs["score"], expected.scores, atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(outputs["map"], expected.maps, atol=TOLERANCE, rtol=0)
        np.testing.assert_array_equal(outputs["label"], expected.labels)


def test_pad_to_batch_pads_with_the_last_image_and_refuses_too_many() -> None:
    images = np.arange(2 * 4, dtype=np.float32).reshape(2, 2, 2, 1)
    padded = pad_to_batch(images, 4)
    assert padded.shape == (4, 2, 2, 1)
    np.testing.assert_array_equal(padded[2:], images[[1, 1]])
    with pytest.raises(ValueError, match="1 <= n <= 1"):
        pad_to_batch(images, 1)
