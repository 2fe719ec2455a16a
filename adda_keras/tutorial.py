"""Helpers for the tutorial notebooks (``notebooks/NN_*.py``), not for the library's users.

* :data:`FAST` and :func:`pick`: one switch between the real tutorial and
  a fast mode that the test suite runs (``ADDA_KERAS_FAST=1``), e.g.
  ``epochs = pick(30, fast=1)``.
* :func:`show_images`: a grid of images, optionally with heat maps over them.
* :class:`AttentionHistory`: a Keras callback that records the
  discriminator's attention maps of a few fixed images during training.
* :func:`results_folder` and :func:`shown_path`: where the notebooks read the
  committed result tables (a checkout's ``results/``, or the ``results/``
  folder of the notebooks zip of ``make dist``, beside the notebooks), and
  how a message names it (never a machine path such as site-packages).

Each notebook's first code cell is the Colab set-up that
``scripts/sync_notebooks.py`` writes: on Colab it installs ``adda_keras``
from a wheel uploaded beside the notebook (``make dist``), else from the
repository address of ``mkdocs.yml``, so that this module can be imported at
all (it stops with an error that says what to do if it cannot).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import keras
import numpy as np

from adda_keras.attention import ATTENTION_METHODS, attention_maps, check_option
from adda_keras.data.pipeline import check_images

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FAST",
    "FAST_ENV",
    "RESULTS_ENV",
    "AttentionHistory",
    "is_fast",
    "pick",
    "results_folder",
    "show_images",
    "shown_path",
]

FAST_ENV = "ADDA_KERAS_FAST"
"""Environment variable that switches the notebooks to fast mode (``"1"`` or ``"true"``)."""

T = TypeVar("T")


def is_fast(environ: dict[str, str] | None = None) -> bool:
    """Whether ``$ADDA_KERAS_FAST`` asks for fast mode (``"1"``, ``"true"``, ``"yes"``; any case)."""
    value = (os.environ if environ is None else environ).get(FAST_ENV, "")
    return value.strip().lower() in ("1", "true", "yes")


FAST: bool = is_fast()
"""True in fast mode: small data and one or two epochs, so that a notebook runs in well under a minute.

Read once, when the module is imported; the test suite sets ``ADDA_KERAS_FAST=1``.
"""


def pick(default: T, fast: T) -> T:
    """``fast`` in fast mode (:data:`FAST`), else ``default``: ``epochs = pick(30, fast=1)``."""
    return fast if FAST else default


RESULTS_ENV = "ADDA_KERAS_RESULTS"
"""Environment variable naming another folder of result tables to read (a copy of someone else's ``results/``)."""

#: where the notebooks zip of ``make dist`` puts the result tables, relative to the notebooks (and so to the
#: working folder of a notebook server started beside them), and where it is once unzipped in Colab's /content
BESIDE_NOTEBOOKS = (Path("results"), Path("adda_keras-notebooks") / "results")


def _checkout() -> Path | None:
    """The project checkout that holds this package (a folder with ``pyproject.toml``), or None if installed."""
    root = Path(__file__).resolve().parents[1]
    return root if (root / "pyproject.toml").is_file() else None


def results_folder(environ: dict[str, str] | None = None, here: Path | None = None) -> Path:
    """The folder of result tables that the notebooks read (``<folder>/quick/table1-noisy/runs.csv``, ...).

    In order: ``$ADDA_KERAS_RESULTS`` if set; the ``results/`` folder of the
    checkout that holds this package; else ``results/`` beside the notebooks,
    as the notebooks zip of ``make dist`` lays it out (``here`` is the working
    folder, by default the current one: where a notebook server runs the
    notebook; on Colab, ``/content``, where the unzipped
    ``adda_keras-notebooks/results`` is looked for too). When none exists, the
    first folder beside the notebooks, so that a message can name it.
    """
    value = (os.environ if environ is None else environ).get(RESULTS_ENV, "").strip()
    if value:
        return Path(value).expanduser()
    checkout = _checkout()
    if checkout is not None and (checkout / "results").is_dir():
        return checkout / "results"
    base = Path.cwd() if here is None else here
    return next((base / c for c in BESIDE_NOTEBOOKS if (base / c).is_dir()), base / BESIDE_NOTEBOOKS[0])


def shown_path(path: Path, here: Path | None = None) -> str:
    """``path`` as a message shows it: relative to the checkout or the working folder ``here`` when inside one.

    A path elsewhere (a folder that ``$ADDA_KERAS_RESULTS`` names) is shown as it is.
    """
    path = Path(path).resolve()
    for base in (_checkout(), Path.cwd() if here is None else here):
        if base is not None and path.is_relative_to(base.resolve()):
            return path.relative_to(base.resolve()).as_posix()
    return str(path)


class AttentionHistory(keras.callbacks.Callback):
    """Record the discriminator's attention maps of a few fixed images while a VAEGAN trains.

    Pass it to the ``fit`` of a VAEGAN-based detector (``"ada"``,
    ``"anovaegan"``, ...): the model being trained then has a
    ``discriminator``, whose maps (:func:`adda_keras.attention.attention_maps`)
    are stored before the first epoch (epoch 0) and after every ``every``-th
    epoch::

        history = AttentionHistory(split.x_test[:6], every=5)
        make_detector("ada", epochs=30).fit(split.x_train, callbacks=[history])
        history.epochs   # [0, 5, 10, ..., 30]
        history.stack()  # (len(epochs), 6, 28, 28), values in [0, 1]

    Args:
        images: ``(N, H, W, C)`` float images in [0, 1] to follow.
        every: record after every ``every``-th epoch (the last epoch is
            always recorded).
        method: ``"cam"`` or ``"grad-cam"``.
        normalisation: ``"max"`` or ``"minmax"`` (as the detectors use).
    """

    def __init__(self, images: np.ndarray, every: int = 1, method: str = "cam", normalisation: str = "max") -> None:
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be a positive integer; got {every!r}")
        check_option("attention method", method, ATTENTION_METHODS)
        self.images = check_images(images, "images")
        self.every = int(every)
        self.method = method
        self.normalisation = normalisation
        self.epochs: list[int] = []
        self.maps: list[np.ndarray] = []

    def _discriminator(self) -> keras.Model:
        discriminator = getattr(self.model, "discriminator", None)
        if discriminator is None:
            raise TypeError(
                f"AttentionHistory needs a model with a discriminator (a VAEGAN); got {type(self.model).__name__}"
            )
        return discriminator

    def _record(self, epoch: int) -> None:
        maps = attention_maps(self._discriminator(), self.images, self.method, normalisation=self.normalisation)
        self.epochs.append(int(epoch))
        self.maps.append(np.asarray(maps, dtype=np.float32))

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        """Start a new record with the maps of the untrained discriminator (epoch 0)."""
        self.epochs, self.maps = [], []
        self._record(0)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Record the maps after every ``every``-th epoch and after the last one."""
        done = epoch + 1
        last = done == self.params.get("epochs") if self.params else False
        if done % self.every == 0 or last:
            self._record(done)

    def stack(self) -> np.ndarray:
        """The recorded maps as one ``(n_records, N, H, W)`` array."""
        if not self.maps:
            raise RuntimeError("no attention maps recorded yet; pass this callback to fit() first")
        return np.stack(self.maps)


def show_images(
    images: np.ndarray,
    titles: list[str] | None = None,
    overlays: np.ndarray | None = None,
    ncols: int | None = None,
    size: float = 1.3,
    cmap: str = "gray",
    row_labels: list[str] | None = None,
    suptitle: str | None = None,
) -> Figure:
    """Show images in a grid, optionally with a heat map (attention, residual) laid over each.

    Args:
        images: ``(N, H, W)`` or ``(N, H, W, C)`` images in [0, 1]; ``C`` is 1 or 3.
        titles: one title per image.
        overlays: ``(N, H, W)`` maps drawn over the images with a colour map
            (each scaled to its own maximum).
        ncols: images per row (default: all in one row).
        size: inches per image.
        cmap: colour map of single-channel images.
        row_labels: one label per row, written at the left.
        suptitle: a title over the whole grid.

    Returns:
        The matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    n = len(images)
    ncols = n if ncols is None else max(1, min(int(ncols), n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)))
    axes = np.atleast_1d(axes).reshape(nrows, ncols)
    for index, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= n:
            ax.axis("off")
            continue
        ax.imshow(images[index], cmap=cmap, vmin=0, vmax=1)
        if overlays is not None:
            overlay = np.asarray(overlays[index])
            ax.imshow(overlay, cmap="jet", alpha=0.45, vmin=0, vmax=max(float(overlay.max()), 1e-6))
        if titles is not None:
            ax.set_title(titles[index], fontsize="small")
    if row_labels is not None:
        for row, label in enumerate(row_labels[:nrows]):
            axes[row, 0].set_ylabel(label, fontsize="small")
    if suptitle:
        fig.suptitle(suptitle, fontsize="medium")
    fig.tight_layout()
    return fig
