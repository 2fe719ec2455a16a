"""Defective digits and textures with ground-truth masks (adda_keras.data.defects)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage

from adda_keras.data import BackgroundNoise, add_background_noise, load_mnist
from adda_keras.data.defects import (
    DIGIT_DEFECTS,
    NORMAL,
    TEXTURE_DEFECTS,
    add_digit_defects,
    add_texture_defects,
    texture_crops,
)


@pytest.fixture(scope="module")
def digits():
    mnist = load_mnist("bundled")
    ones = mnist.images[mnist.labels == 1][:50]
    foreign = mnist.images[mnist.labels == 7][:20]
    return ones, foreign


def test_equal_shares_and_masks_only_on_defects(digits):
    images, foreign = digits
    defects = add_digit_defects(images, foreign, seed=0)
    counts = {kind: int((defects.kinds == kind).sum()) for kind in (NORMAL, *DIGIT_DEFECTS)}
    assert counts == {NORMAL: 10, "stroke": 10, "erase": 10, "blob": 10, "background": 10}
    assert defects.images.shape == images.shape and defects.masks.shape == images.shape[:3]
    normal = defects.kinds == NORMAL
    assert not defects.masks[normal].any() and np.array_equal(defects.images[normal], images[normal])
    assert (defects.masks[~normal].sum(axis=(1, 2)) >= 3).all()
    assert np.array_equal(defects.labels, (~normal).astype(int))


def test_each_kind_does_what_it_says(digits):
    images, foreign = digits
    defects = add_digit_defects(images, foreign, seed=3)
    change = defects.images[..., 0] - images[..., 0]
    for index in np.flatnonzero(defects.kinds == "erase"):
        assert (change[index] <= 0).all() and (defects.images[index, ..., 0][defects.masks[index]] == 0).all()
    for kind in ("stroke", "blob", "background"):
        assert (change[defects.kinds == kind] >= 0).all(), f"{kind} only adds brightness"
    # a digit 1 leaves room: the foreign digit keeps off the digit and its one-pixel margin
    margin = ndimage.binary_dilation(images[..., 0] > 0.1, structure=np.ones((1, 3, 3), bool))
    background = defects.kinds == "background"
    assert not (defects.masks[background] & margin[background]).any()


def test_defects_on_noisy_digits_use_the_clean_digit(digits):
    images, foreign = digits
    noisy = add_background_noise(images, BackgroundNoise(), seed=0)
    defects = add_digit_defects(noisy, foreign, seed=0, clean_images=images)
    erased = defects.kinds == "erase"
    # erasing removes digit pixels only; the noise around them stays
    assert (defects.masks[erased] <= (images[erased, ..., 0] > 0.1)).all()


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_masks_mark_visible_change_and_seeds_repeat(seed):
    images, foreign = _DIGITS
    defects = add_digit_defects(images, foreign, seed=seed)
    changed = np.abs(defects.images - images).max(axis=-1) > 0.2
    assert (defects.masks <= changed).all()
    again = add_digit_defects(images, foreign, seed=seed)
    assert np.array_equal(again.images, defects.images) and np.array_equal(again.masks, defects.masks)


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    mnist = load_mnist("bundled")
    return (
        mnist.images[mnist.labels == 4][:10],
        mnist.images[mnist.labels == 3][:5],
    )


_DIGITS = _load_digits()


def test_bad_arguments_are_named(digits):
    images, foreign = digits
    with pytest.raises(ValueError, match="kinds"):
        add_digit_defects(images, foreign, seed=0, kinds=("scratch",))
    with pytest.raises(ValueError, match="at least 5 images"):
        add_digit_defects(images[:3], foreign, seed=0)
    with pytest.raises(ValueError, match="clean_images"):
        add_digit_defects(images, foreign, seed=0, clean_images=images[:5])
    with pytest.raises(ValueError, match="foreign crops"):
        add_texture_defects(texture_crops("brick", 8, seed=0), texture_crops("gravel", 2, seed=0, size=16), seed=0)


def test_texture_crops_come_from_their_band():
    train = texture_crops("brick", 6, seed=0, band=(0.0, 0.5))
    test = texture_crops("brick", 6, seed=0, band=(0.5, 1.0))
    assert train.shape == (6, 32, 32, 1) and train.dtype == np.float32
    assert 0 <= train.min() and train.max() <= 1
    assert not np.array_equal(train, test)
    assert np.array_equal(train, texture_crops("brick", 6, seed=0, band=(0.0, 0.5)))
    with pytest.raises(ValueError, match="band"):
        texture_crops("brick", 2, seed=0, band=(0.5, 0.5))
    with pytest.raises(ValueError, match="holds no 32x32 crop"):
        texture_crops("brick", 2, seed=0, band=(0.0, 0.05))
    with pytest.raises(ValueError, match="name"):
        texture_crops("marble", 2, seed=0)


def test_texture_defects_have_masks():
    crops = texture_crops("brick", 20, seed=1, band=(0.7, 1.0))
    defects = add_texture_defects(crops, texture_crops("gravel", 4, seed=2), seed=0)
    assert {kind: int((defects.kinds == kind).sum()) for kind in TEXTURE_DEFECTS} == dict.fromkeys(TEXTURE_DEFECTS, 5)
    assert (defects.masks[defects.labels == 1].sum(axis=(1, 2)) >= 3).all()
    patch = defects.kinds == "patch"
    # a foreign patch is masked whole: a filled square
    for mask in defects.masks[patch]:
        rows, cols = np.nonzero(mask)
        assert mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()
    assert defects.select("stain").kinds.tolist().count("stain") == 5
    with pytest.raises(ValueError, match="kind must be"):
        defects.select("stroke")
