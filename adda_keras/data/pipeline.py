"""Array checks and ``tf.data`` input pipelines.

Every part of the data layer speaks one convention: images are float32 arrays
of shape ``(N, H, W, C)`` (channels last) with values in ``[0, 1]``, labels are
int64 arrays of shape ``(N,)``. :func:`check_images` and :func:`check_labels`
enforce it at the library's entry points, so that a bad array fails early with
a message naming the argument instead of deep inside a training step.
:func:`make_dataset` turns checked arrays into the batches that
``keras.Model.fit`` consumes.
"""

from __future__ import annotations

import logging

import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

__all__ = ["check_images", "check_labels", "make_dataset"]


def check_images(images: np.ndarray, name: str = "images", *, allow_uint8: bool = False) -> np.ndarray:
    """Validate a non-empty image batch; return it as float32 ``(N, H, W, C)``.

    Floating arrays must already lie in ``[0, 1]`` and hold no NaN or inf:
    silently rescaling them would hide a preprocessing mistake. ``uint8``
    arrays (0..255) are rescaled only when ``allow_uint8`` is true, i.e. where
    the calling function documents it. ``name`` is the argument name used in
    error messages. A float32 input is returned without a copy.
    """
    array = np.asarray(images)
    if array.ndim != 4:
        raise ValueError(f"{name} must have rank 4 (N, H, W, C); got shape {array.shape}")
    if min(array.shape) < 1:
        raise ValueError(
            f"{name} must hold at least one image of positive height, width and "
            f"channels (N, H, W, C); got shape {array.shape}"
        )
    if array.dtype == np.uint8:
        if not allow_uint8:
            raise ValueError(
                f"{name} must be floating point with values in [0, 1]; got dtype uint8 (divide by 255 first)"
            )
        return array.astype(np.float32) / np.float32(255.0)
    if not np.issubdtype(array.dtype, np.floating):
        expected = "floating point with values in [0, 1]"
        if allow_uint8:
            expected += " or uint8 in 0..255"
        raise ValueError(f"{name} must be {expected}; got dtype {array.dtype}")
    finite = np.isfinite(array).reshape(len(array), -1).all(axis=1)
    if not finite.all():
        raise ValueError(f"{name} must hold finite values; {int((~finite).sum())} image(s) contain NaN or inf")
    low, high = float(array.min()), float(array.max())
    if low < 0.0 or high > 1.0:
        raise ValueError(f"{name} must have values in [0, 1]; got range [{low:g}, {high:g}]")
    return array.astype(np.float32, copy=False)


def check_labels(labels: np.ndarray, n_images: int, name: str = "labels") -> np.ndarray:
    """Validate class labels for ``n_images`` images; return them as int64 ``(N,)``.

    Float labels are rejected rather than truncated, so that a swapped
    ``(images, labels)`` pair cannot pass unnoticed.
    """
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must have rank 1 (N,); got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must be integer class ids; got dtype {array.dtype}")
    if array.shape[0] != n_images:
        raise ValueError(f"{name} must have one entry per image ({n_images}); got {array.shape[0]}")
    return array.astype(np.int64, copy=False)


def make_dataset(
    x: np.ndarray,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    extra: np.ndarray | None = None,
) -> tf.data.Dataset:
    """Build a batched, prefetched ``tf.data.Dataset`` of images for ``Model.fit``.

    One epoch is one pass over ``x``. With ``shuffle`` the order is drawn from
    ``seed`` and changes every epoch (reproducibly for a given seed).

    If ``extra`` (known anomalies, same image shape as ``x``) is given, every
    element is a pair ``(x_batch, anomaly_batch)`` of equal batch sizes: the
    anomalies are repeated as often as needed (and, with ``shuffle``,
    reshuffled on every pass), so a small labelled set accompanies every
    normal batch. This is the input of a semi-supervised model whose
    ``train_step`` receives ``(x, x_ano)``.
    """
    x = check_images(x, "x")
    _check_int("batch_size", batch_size, minimum=1)
    _check_int("seed", seed, minimum=0)
    if extra is not None:
        extra = check_images(extra, "extra")
        if extra.shape[1:] != x.shape[1:]:
            raise ValueError(f"extra must have the image shape of x {x.shape[1:]}; got {extra.shape[1:]}")

    dataset = tf.data.Dataset.from_tensor_slices(x)
    if shuffle:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if extra is not None:
        anomalies = tf.data.Dataset.from_tensor_slices(extra)
        if shuffle:
            # A seed distinct from the normal stream's keeps the two orders apart.
            anomalies = anomalies.shuffle(len(extra), seed=seed + 1, reshuffle_each_iteration=True)
        dataset = tf.data.Dataset.zip((dataset, anomalies.repeat()))
        logger.debug("Pairing %d normal images with %d anomalies", len(x), len(extra))
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _check_int(name: str, value: int, minimum: int) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is an int >= ``minimum``.

    Shared by the data modules; bools are rejected although they are ints.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
