"""Differentiable augmentation of what the discriminator sees (DiffAugment, Zhao et al. 2020).

A discriminator can tell reals from fakes by cues that have nothing to do
with the object: where the digit sits, a texture only one side carries.
DiffAugment applies the *same kind* of random, differentiable transformation
to real and fake images before the discriminator judges them, in its own
update and in the generator's, so that such cues stop paying and the
generator still gets gradients through the transformation.

:func:`diff_augment` uses the two policies that suit small grayscale images:

* **translation** — each image shifted by up to ``translation`` of its size
  in each direction, the uncovered border filled with 0 (as in the paper);
* **cutout** — a square of ``cutout`` times the image size, at a random
  place, set to 0.

Both are products with 0/1 matrices and masks, so they are differentiable
with respect to the images. Every tensor passed in one call gets the same
transformation per row, so that an image and its reconstruction are compared
under the same view.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf


def _shift_matrices(shifts: tf.Tensor, size: int) -> tf.Tensor:
    """``(B, size, size)`` 0/1 matrices ``M`` with ``(M @ v)[i] = v[i - shift]`` (0 outside the image)."""
    rows = tf.range(size)[None, :, None]
    columns = tf.range(size)[None, None, :]
    return tf.cast(tf.equal(columns, rows - shifts[:, None, None]), tf.float32)


def diff_augment(
    batches: Sequence[tf.Tensor],
    seed: keras.random.SeedGenerator | int | None = None,
    translation: float = 0.125,
    cutout: float = 0.5,
) -> list[tf.Tensor]:
    """Translate and cut out every image of ``batches``, the same way for row ``b`` of each tensor.

    Args:
        batches: image tensors ``(B, H, W, C)`` of one batch size and image shape.
        seed: seed or ``keras.random.SeedGenerator`` of the random shifts and squares.
        translation: the largest shift, as a fraction of the image's height / width (0 = none).
        cutout: the side of the square set to 0, as a fraction of the image's height / width (0 = none).

    Returns:
        The transformed tensors, in the order given.
    """
    if not batches:
        return []
    if not 0 <= translation < 1 or not 0 <= cutout < 1:
        raise ValueError(f"translation and cutout must be fractions in [0, 1); got {translation!r}, {cutout!r}")
    first = batches[0]
    batch_size, height, width = tf.shape(first)[0], int(first.shape[1]), int(first.shape[2])
    out = [tf.convert_to_tensor(images, tf.float32) for images in batches]
    max_dy, max_dx = int(height * translation + 0.5), int(width * translation + 0.5)
    if max_dy or max_dx:
        dy = keras.random.randint((batch_size,), -max_dy, max_dy + 1, seed=seed, dtype="int32")
        dx = keras.random.randint((batch_size,), -max_dx, max_dx + 1, seed=seed, dtype="int32")
        rows, columns = _shift_matrices(dy, height), _shift_matrices(dx, width)
        out = [tf.einsum("bij,bjkc,blk->bilc", rows, images, columns) for images in out]
    cut_h, cut_w = int(height * cutout + 0.5), int(width * cutout + 0.5)
    if cut_h and cut_w:
        top = keras.random.randint((batch_size,), 0, height - cut_h + 1, seed=seed, dtype="int32")
        left = keras.random.randint((batch_size,), 0, width - cut_w + 1, seed=seed, dtype="int32")
        y, x = tf.range(height)[None, :], tf.range(width)[None, :]
        inside_y = (y >= top[:, None]) & (y < top[:, None] + cut_h)
        inside_x = (x >= left[:, None]) & (x < left[:, None] + cut_w)
        keep = 1.0 - tf.cast(inside_y[:, :, None] & inside_x[:, None, :], tf.float32)
        out = [images * keep[..., None] for images in out]
    return out
