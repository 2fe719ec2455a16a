"""What the own-images commands show while they work: one line per epoch, and a progress bar for scoring.

Keras' own display prints a dozen metrics per epoch and no overall estimate
of the time left. :class:`EpochLines` prints one readable line per epoch
(the loss that matters for the method, the epoch's time and the estimated
time to the end) and leaves the full metrics to a CSV log file
(``keras.callbacks.CSVLogger``). :class:`ProgressBar` is a dependency-free
bar for loops over images; it redraws in place on a terminal and stays
silent elsewhere (a log file gets the command's summary instead).
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import keras

__all__ = ["KEY_METRICS", "EpochLines", "ProgressBar", "format_seconds"]

#: the metrics shown per epoch, first found wins: the reconstruction loss of the generative models, else the loss
KEY_METRICS = ("loss_pixel", "loss_reconstruction", "loss")


def format_seconds(seconds: float) -> str:
    """``"42 s"``, ``"3 min 05 s"`` or ``"1 h 02 min"``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class EpochLines(keras.callbacks.Callback):
    """Print ``epoch 3/30  loss_pixel 12.3 (val 13.1)  2.1 s  ETA 57 s`` after every epoch.

    The ETA is the mean epoch time so far times the epochs left. ``stream``
    defaults to standard output, read when the epoch ends (so a caller's
    redirection applies).
    """

    def __init__(self, epochs: int, stream: TextIO | None = None) -> None:
        super().__init__()
        self.epochs = epochs
        self.stream = stream
        self._start = 0.0
        self._epoch_start = 0.0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Start the epoch's clock."""
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Print the epoch's line."""
        logs = logs or {}
        now = time.perf_counter()
        done = epoch + 1
        parts = [f"epoch {done}/{self.epochs}"]
        key = next((name for name in KEY_METRICS if name in logs), None)
        if key is not None:
            loss = f"{key} {float(logs[key]):.4g}"
            if f"val_{key}" in logs:
                loss += f" (val {float(logs[f'val_{key}']):.4g})"
            parts.append(loss)
        parts.append(format_seconds(now - self._epoch_start))
        if done < self.epochs:
            parts.append(f"ETA {format_seconds((now - self._start) / done * (self.epochs - done))}")
        print("  ".join(parts), file=self.stream or sys.stdout, flush=True)


class ProgressBar:
    """``scoring [#######.....] 700/1000 images, 3.4 s, ETA 1.5 s``, redrawn in place on a terminal.

    Silent unless ``stream`` is a terminal or ``force`` is true, so that
    logs and pipes do not fill with carriage returns.
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None, force: bool = False, width: int = 30):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.width = width
        self._start = time.perf_counter()

    def update(self, done: int) -> None:
        """Redraw the bar for ``done`` of ``total`` items."""
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self._start
        filled = round(self.width * done / self.total)
        eta = f", ETA {format_seconds(elapsed / done * (self.total - done))}" if 0 < done < self.total else ""
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} images, "
            f"{format_seconds(elapsed)}{eta}"
        )
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
