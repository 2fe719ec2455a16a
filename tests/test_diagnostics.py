"""The attention issue's building blocks: diagnostics, the resize decoder, held-out validation data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from adda_keras.data import BackgroundNoise, add_background_noise, held_out_validation, load_mnist, one_class_split
from adda_keras.data.protocol import VALIDATION_NOISE_SEED, _split_indices
from adda_keras.diagnostics import attention_share, diagnose, reconstruction_variety
from adda_keras.models import build_decoder, build_discriminator


def test_attention_share_by_hand():
    support = np.zeros((1, 4, 4), dtype=bool)
    support[0, :2, :] = True  # half the image
    attention = np.zeros((1, 4, 4))
    attention[0, 0, 0] = 1.0  # all of c² on the support
    assert attention_share(attention, support)[0] == pytest.approx(2.0)
    attention[0, 3, 3] = 1.0  # half on, half off: indifferent
    assert attention_share(attention, support)[0] == pytest.approx(1.0)
    assert np.isnan(attention_share(np.zeros((1, 4, 4)), support)[0])  # no attention: unmeasurable


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (3, 5, 5), elements=st.floats(0, 1)),
    arrays(bool, (3, 5, 5)),
)
def test_attention_share_bounds(attention, support):
    share = attention_share(attention, support)
    area = support.mean(axis=(1, 2))
    finite = np.isfinite(share)
    # share of mass is in [0, 1], so share / area lies in [0, 1 / area]
    assert (share[finite] >= 0).all()
    assert (share[finite] <= 1 / area[finite] + 1e-9).all()


def test_attention_share_rejects_bad_shapes():
    with pytest.raises(ValueError, match="same shape"):
        attention_share(np.ones((2, 4, 4)), np.ones((2, 5, 5), dtype=bool))


def test_variety_is_zero_for_a_template_and_one_for_the_inputs(rng):
    images = rng.random((20, 8, 8, 1))
    assert reconstruction_variety(images, np.repeat(images[:1], 20, axis=0)) == pytest.approx(0.0)
    assert reconstruction_variety(images, images) == pytest.approx(1.0)


def _period_two_energy(image: np.ndarray) -> float:
    """Energy of the period-2 (checkerboard) frequencies relative to all non-constant energy."""
    spectrum = np.abs(np.fft.fft2(image - image.mean())) ** 2
    h, w = image.shape
    return float((spectrum[h // 2, :].sum() + spectrum[:, w // 2].sum()) / max(spectrum.sum(), 1e-12))


def test_resize_decoder_has_no_checkerboard_on_a_constant_code():
    import keras

    keras.utils.set_random_seed(0)
    z = np.ones((1, 16), dtype=np.float32)
    resize = build_decoder((28, 28, 1), upsampling="resize")(z).numpy()[0, ..., 0]
    keras.utils.set_random_seed(0)
    transpose = build_decoder((28, 28, 1), upsampling="transpose")(z).numpy()[0, ..., 0]
    # the untrained transposed decoder carries a period-2 pattern; resize-convolution much less
    assert _period_two_energy(resize) < 0.5 * _period_two_energy(transpose)


def test_discriminator_downsampling_sets_the_cam_resolution():
    for layers, size in ((0, 28), (1, 14), (2, 7)):
        _, features = build_discriminator((28, 28, 1), downsampling_layers=layers).outputs
        assert tuple(features.shape[1:3]) == (size, size)
    with pytest.raises(ValueError, match="downsampling_layers"):
        build_discriminator((28, 28, 1), downsampling_layers=3)


def test_held_out_validation_never_touches_a_protected_test_split():
    mnist = load_mnist("bundled")
    validation = held_out_validation(mnist.images, mnist.labels, 3, seed=0, protected_seeds=(0, 1))
    assert set(validation.y.tolist()) == {0, 1}
    assert (validation.classes[validation.y == 0] == 3).all()
    for seed in (0, 1):
        _, _, test_rows = _split_indices(mnist.labels, 3, seed, 0.1, 0.3, 100)
        assert not set(test_rows.tolist()) & set(validation.indices.tolist())
        # the indices are those of the test split one_class_split really returns
        split = one_class_split(mnist.images, mnist.labels, 3, seed=seed, max_test_anomalies_per_class=100)
        np.testing.assert_array_equal(split.test_classes, mnist.labels[test_rows])
    with pytest.raises(ValueError, match="max_test_anomalies_per_class"):
        held_out_validation(mnist.images, mnist.labels, 3, seed=0, max_test_anomalies_per_class=None)


def test_held_out_validation_noise_is_one_fixed_pattern_per_normal_class():
    """The validation-noise seed convention lives in the library, not in each script and notebook."""
    mnist = load_mnist("bundled")
    noise = BackgroundNoise(strength=1.0)
    clean = held_out_validation(mnist.images, mnist.labels, 3, seed=0, anomalies_per_class=5)
    noisy = held_out_validation(mnist.images, mnist.labels, 3, seed=0, anomalies_per_class=5, noise=noise)
    np.testing.assert_array_equal(noisy.indices, clean.indices)
    np.testing.assert_array_equal(noisy.x, add_background_noise(clean.x, noise, VALIDATION_NOISE_SEED + 3))
    assert not np.array_equal(noisy.x, clean.x)
    again = held_out_validation(mnist.images, mnist.labels, 3, seed=0, anomalies_per_class=5, noise=noise)
    np.testing.assert_array_equal(again.x, noisy.x)
    silent = BackgroundNoise(strength=0)
    off = held_out_validation(mnist.images, mnist.labels, 3, seed=0, anomalies_per_class=5, noise=silent)
    np.testing.assert_array_equal(off.x, clean.x)
    with pytest.raises(ValueError, match="noise must be a BackgroundNoise"):
        held_out_validation(mnist.images, mnist.labels, 3, seed=0, noise=1.0)


def test_diagnose_a_trained_model(trained_ada, tiny_split):
    health = diagnose(trained_ada, tiny_split.x_val[:32])
    assert set(health) >= {"attention_share", "variety", "residual", "d_real", "d_reconstruction", "d_sample"}
    assert all(np.isfinite(v) for v in health.values())
    assert 0 <= health["attention_share"] <= 1 / health["support_area"]
    assert all(0 <= health[k] <= 1 for k in ("d_real", "d_reconstruction", "d_sample"))


def test_score_anatomy_figure(trained_ada, tiny_split):
    from adda_keras.evaluation import plot_score_anatomy

    x = tiny_split.x_test[:3]
    parts = trained_ada.explain(x)
    fig = plot_score_anatomy(
        x,
        parts["reconstruction"],
        parts["attention"],
        trained_ada.anomaly_map(x),
        trained_ada.variant("anovaegan").score_samples(x),
        trained_ada.score_samples(x),
        ["a", "b", "c"],
    )
    assert len(fig.axes) == 15 and "ADA" in fig.axes[0].get_ylabel()


def test_the_validated_defaults_reach_the_networks():
    from adda_keras import make_detector
    from adda_keras.detectors.ada import SCORE_DEFAULTS, VAEGAN_DEFAULTS
    from adda_keras.models import VAEGAN

    detector = make_detector("ada")
    params = detector.get_params()
    assert {k: params[k] for k in SCORE_DEFAULTS} == SCORE_DEFAULTS
    assert {k: params[k] for k in VAEGAN_DEFAULTS} == VAEGAN_DEFAULTS
    model = VAEGAN.build_default((28, 28, 1), **VAEGAN_DEFAULTS)
    layer_types = {type(layer).__name__ for layer in model.discriminator.layers}
    assert "SpectralNormalization" in layer_types  # the remedy that balanced D on validation data
    assert "UpSampling2D" in {type(layer).__name__ for layer in model.decoder.layers}
    assert tuple(model.discriminator.outputs[1].shape[1:3]) == (14, 14)  # the CAM's resolution


def test_bad_vaegan_settings_are_named():
    from adda_keras import make_detector

    with pytest.raises(ValueError, match="spectral_norm must be True or False"):
        make_detector("ada", spectral_norm="yes")
    with pytest.raises(ValueError, match="upsampling"):
        make_detector("ada", upsampling="bicubic")
    with pytest.raises(ValueError, match="instance_noise must be a finite number"):
        make_detector("ada", instance_noise=-0.1)
