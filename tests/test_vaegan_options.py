"""VAEGAN options beyond the defaults: DiffAugment (same view per row, differentiable) and equilibrium gating."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from adda_keras.models import VAEGAN
from adda_keras.models.augment import diff_augment


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), translation=st.sampled_from([0.125, 0.25, 0.4]))
def test_translation_moves_every_pixel_by_one_shift_and_fills_with_zero(seed: int, translation: float) -> None:
    rng = np.random.default_rng(seed)
    images = rng.random((3, 10, 12, 1)).astype(np.float32) + 1.0  # every pixel > 0, so a zero is a filled border
    (shifted,) = diff_augment([images], seed=seed, translation=translation, cutout=0)
    shifted = shifted.numpy()
    limit_y, limit_x = int(10 * translation + 0.5), int(12 * translation + 0.5)
    for image, out in zip(images, shifted, strict=True):
        matches = [
            (dy, dx)
            for dy in range(-limit_y, limit_y + 1)
            for dx in range(-limit_x, limit_x + 1)
            if np.array_equal(out, np.roll(image, (dy, dx), axis=(0, 1)) * _inside(dy, dx, 10, 12))
        ]
        assert matches, "each image is its input shifted by one (dy, dx) within the limit, zero-filled"


def _inside(dy: int, dx: int, height: int, width: int) -> np.ndarray:
    """1 where a pixel shifted by (dy, dx) came from inside the image."""
    rows = (np.arange(height) - dy >= 0) & (np.arange(height) - dy < height)
    columns = (np.arange(width) - dx >= 0) & (np.arange(width) - dx < width)
    return (rows[:, None] & columns[None, :])[..., None].astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), cutout=st.sampled_from([0.25, 0.5]))
def test_cutout_zeroes_one_square_of_the_given_side(seed: int, cutout: float) -> None:
    (cut,) = diff_augment([np.ones((4, 8, 8, 1), np.float32)], seed=seed, translation=0, cutout=cutout)
    side = int(8 * cutout + 0.5)
    for image in cut.numpy()[..., 0]:
        rows, columns = np.nonzero(image == 0)
        assert len(rows) == side * side
        assert rows.max() - rows.min() + 1 == side and columns.max() - columns.min() + 1 == side


def test_every_tensor_of_a_call_gets_the_same_view_and_gradients_pass() -> None:
    images = tf.Variable(np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        first, second = diff_augment([images, 2.0 * images], seed=3)
        total = tf.reduce_sum(first)
    np.testing.assert_allclose(second.numpy(), 2.0 * first.numpy(), rtol=1e-6)
    gradient = tape.gradient(total, images).numpy()
    assert set(np.unique(gradient)) <= {0.0, 1.0} and gradient.sum() > 0
    np.testing.assert_array_equal(diff_augment([images], translation=0, cutout=0)[0].numpy(), images.numpy())
    with pytest.raises(ValueError, match="translation and cutout must be fractions"):
        diff_augment([images], translation=1.5)


@pytest.mark.parametrize("option", ["diff_augment", "equilibrium"])
def test_a_vaegan_with_the_option_trains_and_keeps_it(tiny_split, option: str) -> None:
    import keras

    keras.utils.set_random_seed(0)
    model = VAEGAN.build_default((28, 28, 1), seed=0, **{option: True})
    model.compile()
    history = model.fit(tiny_split.x_train[:64], batch_size=32, epochs=2, verbose=0)
    assert all(np.isfinite(values).all() for values in history.history.values())
    assert getattr(VAEGAN.from_config(model.get_config()), option) is True


def _logits_with_loss(real_loss: float, fake_loss: float) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Logits whose binary cross-entropy is ``real_loss`` on reals and ``fake_loss`` on both kinds of fakes."""
    real = tf.fill((4, 1), float(np.log(1 / (np.exp(real_loss) - 1))))  # -log sigmoid(l) = loss
    fake = tf.fill((4, 1), float(-np.log(1 / (np.exp(fake_loss) - 1))))  # -log(1 - sigmoid(l)) = loss
    return real, fake, fake


@pytest.mark.parametrize(
    ("real_loss", "fake_loss", "discriminator", "decoder"),
    [
        (0.68, 0.68, True, True),  # balanced: both train
        (0.10, 0.68, False, True),  # D too good on reals: it pauses
        (0.68, 1.20, True, False),  # D too poor on fakes: the decoder's adversarial term pauses
        (0.10, 1.20, True, True),  # both would pause: both train
    ],
)
def test_equilibrium_gates_follow_larsen(real_loss, fake_loss, discriminator, decoder) -> None:
    model = VAEGAN.build_default((28, 28, 1), seed=0, equilibrium=True)
    gates = model._equilibrium_gates(*_logits_with_loss(real_loss, fake_loss))
    assert (bool(gates[0]), bool(gates[1])) == (discriminator, decoder)
    plain = VAEGAN.build_default((28, 28, 1), seed=0)
    assert [bool(g) for g in plain._equilibrium_gates(*_logits_with_loss(0.1, 1.2))] == [True, True]
