"""Training you can trust: seeds, a divergence guard, device strategies.

* :func:`set_seed` makes CPU runs repeatable (Python, NumPy and TensorFlow
  seeds, plus TensorFlow's deterministic kernels).
* :class:`DivergenceGuard` stops training the moment a loss turns NaN, inf
  or explodes, and says which loss did it; a GAN that diverged silently
  would otherwise produce meaningless scores.
* :func:`resolve_strategy` turns the ``distribute`` option of every detector
  (``None``, ``"mirrored"``, or a ``tf.distribute.Strategy``) into a
  strategy, so that scaling to several GPUs is one argument.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import tensorflow as tf

DISTRIBUTE_OPTIONS = ("default", "mirrored")


class TrainingDivergedError(RuntimeError):
    """Raised when a monitored loss becomes non-finite or explodes."""


def set_seed(seed: int, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally force deterministic kernels.

    Deterministic kernels make two CPU runs with one seed give equal weights
    (and so equal scores); on a GPU they cost some speed, hence the switch.
    """
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


class DivergenceGuard(keras.callbacks.Callback):
    """Stop training with :class:`TrainingDivergedError` on a NaN/inf or exploding loss.

    Args:
        limit: a logged ``loss*`` value whose magnitude exceeds this counts as
            divergence.
    """

    def __init__(self, limit: float = 1e6) -> None:
        super().__init__()
        self.limit = float(limit)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        """Check every logged loss after each batch."""
        for name, value in (logs or {}).items():
            value = float(value)
            if not math.isfinite(value):
                raise TrainingDivergedError(
                    f"training diverged: {name} became {value} at batch {batch}; "
                    "try a lower learning rate or check the input images"
                )
            if name.startswith("loss") and abs(value) > self.limit:
                raise TrainingDivergedError(
                    f"training diverged: {name} reached {value:.3g} (limit {self.limit:g}) at batch {batch}; "
                    "try a lower learning rate"
                )


def resolve_strategy(distribute: str | tf.distribute.Strategy | None) -> tf.distribute.Strategy:
    """Return the ``tf.distribute`` strategy for a detector's ``distribute`` option.

    ``None`` or ``"default"``: the current (usually single-device) strategy.
    ``"mirrored"``: synchronous data parallelism over every visible GPU, or
    over the logical CPU devices when there is no GPU.
    """
    if isinstance(distribute, tf.distribute.Strategy):
        return distribute
    if distribute in (None, "default"):
        return tf.distribute.get_strategy()
    if distribute == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in gpus] or [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    raise ValueError(
        f"unknown distribute option {distribute!r}; valid options: None, 'default', 'mirrored' "
        "or a tf.distribute.Strategy"
    )
