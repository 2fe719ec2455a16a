"""MNIST, from the network when reachable and from the bundled test set otherwise.

The repository embeds the real 10,000-image MNIST test set (``data/mnist``) so
that every notebook and test runs offline; the one-class protocol splits it
into train / validation / test. Where a network is reachable the full
70,000-image MNIST comes from ``keras.datasets`` or ``tensorflow_datasets``.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import logging
import os
import site
import socket
import ssl
import struct
import sys
import sysconfig
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "BUNDLED_MNIST_DIR",
    "DATA_DIR_ENV",
    "MNIST_SOURCES",
    "MnistData",
    "load_mnist",
    "read_idx",
]


def _bundled_mnist_dir() -> Path:
    """``<repo>/data/mnist`` in a checkout; where a wheel installed the same files otherwise.

    A wheel (``make dist``, or ``pip install`` from the repository) carries the
    files as data files, installed under ``share/adda_keras/mnist`` of the
    environment's data prefix (``sys.prefix``, or ``/usr/local`` and the user
    base for system and user installs, as on Colab).
    """
    checkout = Path(__file__).resolve().parents[2] / "data" / "mnist"
    prefixes = [sys.prefix, sysconfig.get_paths().get("data", sys.prefix), "/usr/local", site.getuserbase()]
    installed = [Path(prefix) / "share" / "adda_keras" / "mnist" for prefix in prefixes]
    return next((folder for folder in [checkout, *installed] if folder.is_dir()), checkout)


BUNDLED_MNIST_DIR: Path = _bundled_mnist_dir()
"""Folder of the bundled MNIST test set (``<repo>/data/mnist``, or where a wheel installed it)."""

DATA_DIR_ENV = "ADDA_KERAS_DATA_DIR"
"""Environment variable that overrides :data:`BUNDLED_MNIST_DIR`."""

MNIST_SOURCES = ("auto", "keras", "tfds", "bundled")
"""Valid values of ``load_mnist(source=...)``."""

REACHABILITY_TIMEOUT = 3.0
"""Seconds that ``load_mnist`` waits for the download host before calling the network unreachable."""

# Where keras.datasets and tensorflow-datasets download MNIST from.
_DOWNLOAD_ADDRESS = ("storage.googleapis.com", 443)
_IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
_LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
_GZIP_MAGIC = b"\x1f\x8b"
# IDX type codes (third byte of the magic number) -> big-endian numpy dtype.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass(frozen=True)
class MnistData:
    """MNIST images and labels, and the source they came from.

    ``images`` is float32 ``(N, 28, 28, 1)`` in ``[0, 1]``, ``labels`` int64
    ``(N,)`` with digits 0..9, ``source`` one of ``"keras"``, ``"tfds"``,
    ``"bundled"``. Bundled arrays are shared with a cache and therefore
    read-only; take ``.copy()`` to modify them.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __len__(self) -> int:
        """Number of images."""
        return int(self.labels.shape[0])


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the format MNIST is distributed in), optionally gzipped.

    Gzip is detected from the file's content, not its name. A file whose
    magic number, header or payload size is inconsistent raises
    ``ValueError`` naming the file, so a corrupt download is never mistaken
    for data.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be an existing IDX file; {path} does not exist")
    try:
        with path.open("rb") as handle:
            raw = handle.read()
        if raw[:2] == _GZIP_MAGIC:
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable IDX file (corrupt gzip stream?): {error}") from error

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES or raw[3] == 0:
        raise ValueError(
            f"{path} is not an IDX file: expected magic number 0x0000TTDD (TT a "
            f"type code, DD >= 1 dimensions); got {raw[:4].hex() or 'an empty file'}"
        )
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path} is truncated: its header needs {header_size} bytes, got {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    count = int(np.prod(shape, dtype=np.int64))
    payload = len(raw) - header_size
    if payload != count * dtype.itemsize:
        raise ValueError(
            f"{path} is corrupt or truncated: shape {shape} needs {count * dtype.itemsize} data bytes, got {payload}"
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header_size)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def load_mnist(source: str = "auto", data_dir: str | os.PathLike[str] | None = None) -> MnistData:
    """Load MNIST: float32 ``(N, 28, 28, 1)`` images in ``[0, 1]``, int64 labels.

    Sources:

    - ``"bundled"``: the real MNIST test set shipped in the repository
      (10,000 images), read from ``data_dir``, else ``$ADDA_KERAS_DATA_DIR``,
      else :data:`BUNDLED_MNIST_DIR`. Works offline.
    - ``"keras"``: ``keras.datasets.mnist``, train + test (70,000 images);
      downloads on first use.
    - ``"tfds"``: ``tensorflow_datasets`` ``"mnist"``, train + test
      (70,000 images); downloads on first use.
    - ``"auto"``: keras, then tfds, then the bundled files; each failure and
      the fall-back to the bundled files are logged at WARNING, and the
      source used is recorded in :attr:`MnistData.source`.

    Before a download, the download host is probed with a
    :data:`REACHABILITY_TIMEOUT`-second connection attempt: offline,
    ``"keras"`` and ``"tfds"`` raise ``ConnectionError`` within seconds (it
    says to use ``source="bundled"``) and ``"auto"`` falls back to the
    bundled files, instead of waiting for the download to time out.
    """
    if source not in MNIST_SOURCES:
        raise ValueError(f"source must be one of {MNIST_SOURCES}; got {source!r}")
    if source == "bundled":
        return _bundled(data_dir)
    if source == "keras":
        return _to_mnist_data(*_load_keras(), "keras")
    if source == "tfds":
        return _to_mnist_data(*_load_tfds(), "tfds")

    for name, loader in (("keras", _load_keras), ("tfds", _load_tfds)):
        try:
            data = _to_mnist_data(*loader(), name)
        # Any failure (offline, missing package, bad download) falls through.
        except Exception as error:  # noqa: BLE001
            logger.warning("MNIST source %r failed (%s: %s)", name, type(error).__name__, error)
            continue
        logger.info("MNIST loaded from %r: %d images", name, len(data))
        return data
    data = _bundled(data_dir)
    logger.warning("MNIST: falling back to the bundled test set (%d images) in place of full MNIST", len(data))
    return data


def _probe(address: tuple[str, int], timeout: float) -> str | None:
    """Try a TLS connection to ``address``; ``None`` if the handshake succeeds, else why not.

    A handshake, not just a TCP connection, since a proxy or firewall may
    accept connections it never serves. The attempt runs in a daemon thread
    so that a stalled name lookup, which ignores socket timeouts, cannot hold
    the caller longer than ``timeout``.
    """
    outcome: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection(address, timeout=timeout) as raw:
                ssl.create_default_context().wrap_socket(raw, server_hostname=address[0]).close()
        except OSError as error:
            outcome.append(f"{type(error).__name__}: {error}")
        else:
            outcome.append(None)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else f"no answer within {timeout:g} s"


def _check_download_reachable(source: str) -> None:
    """Raise ``ConnectionError`` quickly if the MNIST download host cannot be reached."""
    problem = _probe(_DOWNLOAD_ADDRESS, REACHABILITY_TIMEOUT)
    if problem is not None:
        raise ConnectionError(
            f"MNIST source {source!r} must download MNIST from {_DOWNLOAD_ADDRESS[0]}, which is unreachable "
            f"({problem}): the network is down or blocked. Use the MNIST test set shipped with the library "
            "instead: --source bundled on the command line, load_mnist('bundled') in Python (10,000 images)."
        )


def _keras_cached() -> bool:
    """Whether ``keras.datasets.mnist`` has its file already (then it needs no network)."""
    home = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser()
    return any((base / "datasets" / "mnist.npz").is_file() for base in (home, Path("/tmp/.keras")))


def _tfds_prepared() -> bool:
    """Whether tensorflow-datasets has MNIST prepared locally (then it needs no network)."""
    root = Path(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets")).expanduser()
    return any((root / "mnist").glob("*/dataset_info.json"))


def _load_keras() -> tuple[np.ndarray, np.ndarray]:
    """Full MNIST (train + test) from ``keras.datasets``, uint8 images and labels."""
    if not _keras_cached():
        _check_download_reachable("keras")
    import keras  # imported here: only this source needs it

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    # keras raises a bare Exception for a failed download
    except Exception as error:  # noqa: BLE001
        raise ConnectionError(
            f"MNIST source 'keras' failed to download or read mnist.npz ({error}); "
            "use --source bundled (load_mnist('bundled')) for the MNIST test set shipped with the library"
        ) from error
    return np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])


def _load_tfds() -> tuple[np.ndarray, np.ndarray]:
    """Full MNIST (train + test) from ``tensorflow_datasets``, uint8 images, labels."""
    if importlib.util.find_spec("tensorflow_datasets") is None:
        raise ImportError(
            "source='tfds' needs the tensorflow-datasets package; install it or use source='keras' or source='bundled'"
        )
    if not _tfds_prepared():
        _check_download_reachable("tfds")
    import tensorflow_datasets as tfds  # optional dependency

    dataset = tfds.load("mnist", split="train+test", batch_size=-1, as_supervised=True)
    images, labels = tfds.as_numpy(dataset)
    return images, labels


def _to_mnist_data(images: np.ndarray, labels: np.ndarray, source: str) -> MnistData:
    """Convert uint8 digits ``(N, 28, 28[, 1])`` and labels to the array convention."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if images.shape[1:] != (28, 28, 1) or images.dtype != np.uint8 or len(images) == 0:
        raise ValueError(
            f"MNIST from {source!r} must be non-empty uint8 (N, 28, 28[, 1]); got {images.dtype} {images.shape}"
        )
    labels = np.asarray(labels).astype(np.int64)
    if labels.shape != (images.shape[0],) or labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"MNIST labels from {source!r} must be digits 0..9, one per image; got shape {labels.shape}")
    return MnistData(images.astype(np.float32) / np.float32(255.0), labels, source)


def _bundled(data_dir: str | os.PathLike[str] | None) -> MnistData:
    """The bundled MNIST test set, read once per folder and then served from a cache."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or BUNDLED_MNIST_DIR
    directory = Path(data_dir).expanduser().resolve()
    missing = [name for name in (_IMAGES_FILE, _LABELS_FILE) if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"bundled MNIST files {missing} not found in {directory} (looked in "
            f"data_dir, else ${DATA_DIR_ENV}, else {BUNDLED_MNIST_DIR}); pass "
            "data_dir=, or use source='keras' to download MNIST"
        )
    return _read_bundled(directory)


@functools.lru_cache(maxsize=4)
def _read_bundled(directory: Path) -> MnistData:
    """Parse the bundled IDX files in ``directory``.

    The arrays are made read-only: they are shared by every caller of the cache.
    """
    data = _to_mnist_data(
        read_idx(directory / _IMAGES_FILE),
        read_idx(directory / _LABELS_FILE),
        "bundled",
    )
    data.images.setflags(write=False)
    data.labels.setflags(write=False)
    return data
