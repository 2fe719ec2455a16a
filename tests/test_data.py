"""Tests of the data layer: readers, noise, protocol and tf.data pipeline.

Fast and offline: the network loaders are replaced with stubs, MNIST tests use
the bundled test set or small subsets of it, and bookkeeping tests use tiny
synthetic images that carry their own index in a pixel.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import socket
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adda_keras.data import (
    BackgroundNoise,
    add_background_noise,
    apply_noise,
    digit_support,
    load_folder_dataset,
    load_image_folder,
    load_mnist,
    make_dataset,
    mnist,
    one_class_split,
    read_idx,
    semi_supervised_split,
)

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


# --- helpers -----------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray, type_code: int = 0x08) -> Path:
    """Write ``array`` as an IDX file (gzipped if the name ends in .gz)."""
    dtype = {0x08: ">u1", 0x0C: ">i4"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.astype(dtype).tobytes()
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def tagged_dataset(n: int = 400, n_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Tiny images whose pixel (0, 0) encodes their index, labels ``i % n_classes``."""
    images = np.zeros((n, 4, 4, 1), dtype=np.float32)
    images[:, 0, 0, 0] = np.arange(n) / n
    return images, np.arange(n, dtype=np.int64) % n_classes


def indices(images: np.ndarray, n: int = 400) -> set[int]:
    """Recover the indices of ``tagged_dataset`` images."""
    return set(np.rint(images[:, 0, 0, 0] * n).astype(int).tolist())


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    """A 2,000-image subset of the bundled MNIST test set (all ten digits)."""
    data = load_mnist("bundled")
    return data.images[:2000], data.labels[:2000]


# --- IDX and MNIST -----------------------------------------------------------


@pytest.mark.parametrize("name", ["tiny-idx3-ubyte", "tiny-idx3-ubyte.gz"])
def test_read_idx_round_trip(tmp_path: Path, name: str) -> None:
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    result = read_idx(write_idx(tmp_path / name, array))
    assert result.dtype == np.uint8
    np.testing.assert_array_equal(result, array)


def test_read_idx_int32(tmp_path: Path) -> None:
    array = np.array([-5, 0, 70000], dtype=np.int32)
    result = read_idx(write_idx(tmp_path / "ints.idx", array, type_code=0x0C))
    np.testing.assert_array_equal(result, array)


def test_read_idx_rejects_corrupt_files(tmp_path: Path) -> None:
    bad_magic = tmp_path / "bad_magic"
    bad_magic.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(ValueError, match="magic number"):
        read_idx(bad_magic)
    truncated = write_idx(tmp_path / "short", np.zeros((4, 4), dtype=np.uint8))
    truncated.write_bytes(truncated.read_bytes()[:-3])
    with pytest.raises(ValueError, match="short.*truncated"):
        read_idx(truncated)
    broken_gzip = write_idx(tmp_path / "cut.gz", np.zeros((64, 64), dtype=np.uint8))
    broken_gzip.write_bytes(broken_gzip.read_bytes()[:20])
    with pytest.raises(ValueError, match=r"cut\.gz"):
        read_idx(broken_gzip)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent.gz")


def test_bundled_mnist() -> None:
    data = load_mnist("bundled")
    assert data.source == "bundled"
    assert data.images.shape == (10000, 28, 28, 1)
    assert data.images.dtype == np.float32
    assert data.labels.dtype == np.int64
    assert 0.0 == data.images.min() and data.images.max() == 1.0
    assert np.bincount(data.labels).tolist() == MNIST_TEST_COUNTS
    # Cached and protected: a second load is the same read-only object.
    assert load_mnist("bundled") is data
    with pytest.raises(ValueError, match="read-only"):
        data.images[0, 0, 0, 0] = 1.0


def test_auto_falls_back_to_bundled(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def offline() -> None:
        raise OSError("no network")

    monkeypatch.setattr(mnist, "_load_keras", offline)
    monkeypatch.setattr(mnist, "_load_tfds", offline)
    with caplog.at_level(logging.INFO, logger="adda_keras.data.mnist"):
        data = load_mnist("auto")
    assert data.source == "bundled" and len(data) == 10000
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'keras'" in m for m in warnings) and any("'tfds'" in m for m in warnings)
    assert any("falling back to the bundled" in m for m in warnings)


def closed_port() -> int:
    """A local TCP port that nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No download host and no cached download: what a machine without network sees."""
    monkeypatch.setattr(mnist, "_DOWNLOAD_ADDRESS", ("127.0.0.1", closed_port()))
    monkeypatch.setattr(mnist, "_keras_cached", lambda: False)
    monkeypatch.setattr(mnist, "_tfds_prepared", lambda: False)


@pytest.mark.parametrize("source", ["keras", "tfds"])
@pytest.mark.usefixtures("offline")
def test_network_sources_fail_fast_offline(source: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ConnectionError, match=r"unreachable.*--source bundled"):
        load_mnist(source)
    assert time.perf_counter() - start < 5


@pytest.mark.usefixtures("offline")
def test_auto_falls_back_within_seconds_offline(caplog: pytest.LogCaptureFixture) -> None:
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="adda_keras.data.mnist"):
        data = load_mnist("auto")
    assert data.source == "bundled" and time.perf_counter() - start < 10
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("unreachable" in m for m in warnings) and any("falling back to the bundled" in m for m in warnings)


def test_reachability_probe_gives_up_after_its_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        start = time.perf_counter()
        problem = mnist._probe(silent.getsockname(), timeout=0.5)
    assert problem is not None and time.perf_counter() - start < 2


def test_auto_prefers_keras(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = np.full((3, 28, 28), 255, dtype=np.uint8), np.array([1, 2, 3])
    monkeypatch.setattr(mnist, "_load_keras", lambda: fake)
    data = load_mnist()
    assert data.source == "keras" and data.images.shape == (3, 28, 28, 1)
    assert data.images.max() == 1.0 and data.labels.dtype == np.int64


def test_load_mnist_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="'auto', 'keras', 'tfds', 'bundled'"):
        load_mnist("mnist")
    with pytest.raises(FileNotFoundError, match="source='keras'"):
        load_mnist("bundled", data_dir=tmp_path)
    monkeypatch.setenv(mnist.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    with pytest.raises(FileNotFoundError, match="elsewhere"):
        load_mnist("bundled")


# --- image folders -------------------------------------------------------------


def save(path: Path, value: int, size: tuple[int, int] = (12, 10), mode: str = "L") -> None:
    """Save a constant image of width x height ``size`` with pixel ``value``."""
    color = value if mode == "L" else (value, 0, 255 - value)
    Image.new(mode, size, color).save(path)


def test_load_image_folder(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    save(tmp_path / "b.png", 200)
    save(tmp_path / "a.PNG", 100)
    save(tmp_path / "c.jpg", 0, mode="RGB")
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden.png").write_bytes(b"garbage")
    (tmp_path / "sub").mkdir()
    save(tmp_path / "sub" / "d.png", 50)

    with caplog.at_level(logging.DEBUG, logger="adda_keras.data.folder"):
        gray = load_image_folder(tmp_path, image_size=(8, 6), color_mode="grayscale")
    assert gray.shape == (3, 8, 6, 1) and gray.dtype == np.float32
    assert load_image_folder(tmp_path, image_size=(8, 6)).shape == (3, 8, 6, 3)  # unset: c.jpg is in colour
    np.testing.assert_allclose(gray[:2, 0, 0, 0], [100 / 255, 200 / 255], atol=1e-6)
    assert any("notes.txt" in r.getMessage() for r in caplog.records)

    rgb = load_image_folder(tmp_path, image_size=(10, 12), color_mode="rgb")
    assert rgb.shape == (3, 10, 12, 3)
    assert 0.0 <= rgb.min() and rgb.max() <= 1.0
    assert rgb[2, 5, 5, 2] > 0.9 and rgb[2, 5, 5, 0] < 0.1


def test_load_image_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="missing"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="supported extension"):
        load_image_folder(tmp_path)
    (tmp_path / "file.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(ValueError, match="file.png"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="not a folder"):
        load_image_folder(tmp_path / "file.png")
    with pytest.raises(ValueError, match="color_mode.*'grayscale', 'rgb'"):
        load_image_folder(tmp_path, color_mode="RGBA")
    with pytest.raises(ValueError, match="image_size"):
        load_image_folder(tmp_path, image_size=(0, 28))


def test_load_folder_dataset(tmp_path: Path) -> None:
    (tmp_path / "normal").mkdir()
    (tmp_path / "anomaly").mkdir()
    for i in range(12):
        save(tmp_path / "normal" / f"{i:02d}.png", 10 * i)
    for i in range(3):
        save(tmp_path / "anomaly" / f"{i}.bmp", 250)
    images, labels = load_folder_dataset(tmp_path / "normal", tmp_path / "anomaly")
    assert images.shape == (15, 10, 12, 1)  # unset size and colour: the files' own (12 wide, 10 high, gray)
    assert load_folder_dataset(tmp_path / "normal", image_size=(28, 28))[0].shape == (12, 28, 28, 1)
    assert labels.dtype == np.int64 and labels.tolist() == [0] * 12 + [1] * 3
    split = one_class_split(images, labels, normal_class=0)
    assert split.y_test.sum() == 3 and len(split.x_train) > 0
    with pytest.raises(FileNotFoundError, match="anomaly_dir"):
        load_folder_dataset(tmp_path / "normal", tmp_path / "nope")


def ramp(high: float, dtype: type) -> np.ndarray:
    """A 12 x 10 horizontal ramp from 0 to ``high``: its mean is ``high / 2``."""
    values = np.tile(np.linspace(0, high, 10), (12, 1))
    return (values if np.issubdtype(dtype, np.floating) else np.rint(values)).astype(dtype)


@pytest.mark.parametrize(
    ("name", "pixels"),
    [
        ("eight_bit.png", ramp(255, np.uint8)),
        ("sixteen_bit.png", ramp(65535, np.uint16)),
        ("sixteen_bit.tif", ramp(65535, np.uint16)),
        ("float.tif", ramp(1.0, np.float32)),
    ],
)
def test_images_are_scaled_by_their_real_depth(tmp_path: Path, name: str, pixels: np.ndarray) -> None:
    Image.fromarray(pixels).save(tmp_path / name)
    for color_mode in ("grayscale", "rgb"):
        image = load_image_folder(tmp_path, image_size=(12, 10), color_mode=color_mode)[0]
        np.testing.assert_allclose(image[0, :, 0], np.linspace(0, 1, 10), atol=0.5 / 255)
        assert image.min() == 0.0 and image.max() == 1.0


def test_transparent_images_are_composited_on_the_background(tmp_path: Path) -> None:
    alpha = ramp(255, np.uint8)
    white_ink = np.dstack([np.full((12, 10, 3), 255, np.uint8), alpha])
    Image.fromarray(white_ink).save(tmp_path / "white_ink.png")
    Image.fromarray(np.dstack([np.full((12, 10), 255, np.uint8), alpha])).save(tmp_path / "white_ink_la.png")
    for image in load_image_folder(tmp_path, image_size=(12, 10)):
        np.testing.assert_allclose(image[0, :, 0], np.linspace(0, 1, 10), atol=0.5 / 255)

    black_ink = tmp_path / "black_ink"
    black_ink.mkdir()
    Image.fromarray(np.dstack([np.zeros((12, 10, 3), np.uint8), alpha])).save(black_ink / "strokes.png")
    with pytest.raises(ValueError, match=r"strokes\.png.*alpha channel only.*background=1\.0"):
        load_image_folder(black_ink)
    on_white = load_image_folder(black_ink, image_size=(12, 10), background=1.0)[0]
    np.testing.assert_allclose(on_white[0, :, 0], np.linspace(1, 0, 10), atol=0.5 / 255)
    with pytest.raises(ValueError, match="background"):
        load_image_folder(black_ink, background=2.0)


def test_images_without_a_defined_range_are_refused(tmp_path: Path) -> None:
    Image.fromarray(ramp(2.0, np.float32)).save(tmp_path / "too_bright.tif")
    with pytest.raises(ValueError, match=r"too_bright\.tif.*\[0, 1\]"):
        load_image_folder(tmp_path)
    (tmp_path / "too_bright.tif").unlink()
    Image.fromarray(ramp(100_000, np.int32)).save(tmp_path / "int32.tif")
    with pytest.raises(ValueError, match=r"int32\.tif.*8- or 16-bit"):
        load_image_folder(tmp_path)


# --- noise ---------------------------------------------------------------------


def test_noise_is_seeded_and_in_range(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x = digits[0][:200]
    before = x.copy()
    a = add_background_noise(x, BackgroundNoise(), seed=1)
    b = add_background_noise(x, BackgroundNoise(), seed=1)
    c = add_background_noise(x, BackgroundNoise(), seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == x.shape and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    np.testing.assert_array_equal(x, before)


def test_noise_stays_off_the_digit(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x = digits[0][:200]
    noise = BackgroundNoise()
    energy = (add_background_noise(x, noise, seed=0) - x) ** 2
    assert energy.sum() > 0
    support = digit_support(x, noise.support_threshold, noise.support_dilation)
    assert energy[support].sum() == 0.0
    raw_support = x > noise.support_threshold
    assert energy[~raw_support].sum() >= 0.99 * energy.sum()


def test_noise_strength(digits: tuple[np.ndarray, np.ndarray]) -> None:
    x = digits[0][:200]
    np.testing.assert_array_equal(add_background_noise(x, BackgroundNoise(0.0), 0), x)
    weak = add_background_noise(x, BackgroundNoise(strength=0.5), 0) - x
    full = add_background_noise(x, BackgroundNoise(strength=1.0), 0) - x
    assert 0 < weak.sum() < full.sum()


def test_noise_any_size_and_channels() -> None:
    x = np.zeros((3, 40, 64, 3), dtype=np.float32)
    x[:, 15:25, 25:40] = 1.0
    y = add_background_noise(x, BackgroundNoise(kinds=("strokes", "blobs"), support_dilation=2), 5)
    assert y.shape == x.shape and y[..., 0].sum() > 0
    np.testing.assert_array_equal(y[..., 0], y[..., 2])
    assert (y[:, 15:25, 25:40] == 1.0).all()  # the object is untouched
    assert y[:, 13:15, 23:42].max() == 0.0  # a requested 2-pixel margin stays dark


def test_digit_support_dilation() -> None:
    x = np.zeros((1, 9, 9, 1), dtype=np.float32)
    x[0, 4, 4, 0] = 1.0
    support = digit_support(x, threshold=0.5, dilation=2)
    assert support.shape == (1, 9, 9, 1) and support.dtype == bool
    assert support.sum() == 25 and support[0, 2:7, 2:7].all()


def test_noise_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="'strokes', 'blobs', 'pixels'"):
        BackgroundNoise(kinds=("strokes", "sparkles"))
    with pytest.raises(ValueError, match="kinds"):
        BackgroundNoise(kinds="strokes")
    with pytest.raises(ValueError, match="strength"):
        BackgroundNoise(strength=-1.0)
    with pytest.raises(ValueError, match="support_dilation"):
        BackgroundNoise(support_dilation=-1)
    with pytest.raises(ValueError, match="rank 4"):
        add_background_noise(np.zeros((28, 28), np.float32), BackgroundNoise(), 0)
    with pytest.raises(ValueError, match="uint8"):
        add_background_noise(np.zeros((1, 28, 28, 1), np.uint8), BackgroundNoise(), 0)


# --- protocol ------------------------------------------------------------------


def test_one_class_split_bookkeeping() -> None:
    images, labels = tagged_dataset()
    split = one_class_split(images, labels, normal_class=3, seed=0)
    train, val, test = (
        indices(split.x_train),
        indices(split.x_val),
        indices(split.x_test),
    )
    normal = set(np.flatnonzero(labels == 3).tolist())
    assert train | val <= normal  # no anomaly in train or validation
    assert not (train & val or train & test or val & test)
    assert (train | val | test) == set(range(400))  # every image used once
    assert (len(val), len(test & normal)) == (4, 12)
    assert sorted(set(split.test_classes[split.y_test == 1].tolist())) == [c for c in range(10) if c != 3]
    np.testing.assert_array_equal(split.y_test, (split.test_classes != 3).astype(int))
    assert split.y_test.dtype == np.int64 and split.image_shape == (4, 4, 1)
    assert "train: 24 normal" in split.summary()


def test_one_class_split_mnist(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    split = one_class_split(images, labels, normal_class=7, seed=1)
    n_normal = int((labels == 7).sum())
    n_test_normal = int((split.y_test == 0).sum())
    assert len(split.x_train) + len(split.x_val) + n_test_normal == n_normal
    assert split.y_test.sum() == len(labels) - n_normal
    assert set(split.test_classes[split.y_test == 1].tolist()) == set(range(10)) - {7}
    assert split.x_known.shape == (0, 28, 28, 1) and split.known_anomaly_class is None
    small = one_class_split(images, labels, 7, max_test_anomalies_per_class=20)
    assert np.bincount(small.test_classes).tolist().count(20) == 9


def test_split_is_deterministic(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    a, b = (one_class_split(images, labels, 0, seed=4) for _ in range(2))
    c = one_class_split(images, labels, 0, seed=5)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_train, c.x_train)


def test_semi_supervised_split_withholds_known() -> None:
    images, labels = tagged_dataset()
    split = semi_supervised_split(images, labels, 0, known_anomaly_class=5, n_known=10)
    known, known_val = indices(split.x_known), indices(split.x_val_known)
    test = indices(split.x_test)
    class5 = set(np.flatnonzero(labels == 5).tolist())
    assert len(known) == 10 and len(known_val) == 2  # default max(1, 10 // 5)
    assert known | known_val <= class5 and not known & known_val
    assert not (known | known_val) & test  # never in the test set
    assert test & class5 == class5 - known - known_val  # the rest of class 5 is
    assert len(set(split.test_classes[split.y_test == 1].tolist())) == 9
    same_normals = one_class_split(images, labels, 0)
    np.testing.assert_array_equal(split.x_train, same_normals.x_train)
    assert "known anomalies (class 5): 10 train, 2 val" in split.summary()


def test_semi_supervised_split_pixels(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    split = semi_supervised_split(images, labels, 0, 1, n_known=30, seed=2)
    test = {row.tobytes() for row in split.x_test}
    assert not any(row.tobytes() in test for row in split.x_known)
    assert not any(row.tobytes() in test for row in split.x_val_known)


@pytest.mark.parametrize("digit", [10, -1])
def test_split_rejects_unknown_digit(digits: tuple[np.ndarray, np.ndarray], digit: int) -> None:
    with pytest.raises(ValueError, match=f"normal_class.*got {digit}"):
        one_class_split(*digits, normal_class=digit)
    with pytest.raises(ValueError, match=f"known_anomaly_class.*got {digit}"):
        semi_supervised_split(*digits, 0, known_anomaly_class=digit)


def test_split_rejects_bad_input(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits[0][:100].copy(), digits[1][:100]
    images[3, 5, 5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        one_class_split(images, labels, 0)
    images = digits[0][:100]
    with pytest.raises(ValueError, match="one entry per image"):
        one_class_split(images, labels[:99], 0)
    with pytest.raises(ValueError, match="rank 4"):
        one_class_split(images[..., 0], labels, 0)
    with pytest.raises(ValueError, match="values in"):
        one_class_split(images * 255, labels, 0)
    with pytest.raises(ValueError, match="must be < 1"):
        one_class_split(images, labels, 0, val_fraction=0.5, test_fraction=0.5)
    with pytest.raises(ValueError, match="test_fraction"):
        one_class_split(images, labels, 0, test_fraction=0.0)
    with pytest.raises(ValueError, match="differ"):
        semi_supervised_split(images, labels, 0, known_anomaly_class=0)
    with pytest.raises(ValueError, match="n_known"):
        semi_supervised_split(images, labels, 0, known_anomaly_class=1, n_known=500)
    uint8 = one_class_split((images * 255).round().astype(np.uint8), labels, 0)
    assert uint8.x_train.dtype == np.float32 and uint8.x_train.max() <= 1.0


def test_apply_noise(digits: tuple[np.ndarray, np.ndarray]) -> None:
    split = semi_supervised_split(*digits, 0, 1, n_known=10, seed=0)
    assert apply_noise(split, None, seed=0) is split
    assert apply_noise(split, BackgroundNoise(strength=0), seed=0) is split
    noisy = apply_noise(split, BackgroundNoise(), seed=0)
    for name in ("x_train", "x_val", "x_test", "x_known", "x_val_known"):
        before, after = getattr(split, name), getattr(noisy, name)
        assert after.shape == before.shape and (after >= before).all()
        assert (after > before).any(), name
    np.testing.assert_array_equal(noisy.y_test, split.y_test)
    again = apply_noise(split, BackgroundNoise(), seed=0)
    np.testing.assert_array_equal(again.x_test, noisy.x_test)
    # Distinct seeds per part: the first train and val images get different noise.
    blank = np.zeros((1, 28, 28, 1), np.float32)
    parts = dataclasses.replace(split, x_train=blank, x_val=blank)
    noisy_parts = apply_noise(parts, BackgroundNoise(), seed=0)
    assert not np.array_equal(noisy_parts.x_train, noisy_parts.x_val)


# --- pipeline ------------------------------------------------------------------


def test_make_dataset_batches() -> None:
    x = np.random.default_rng(0).random((10, 6, 6, 1), dtype=np.float32)
    sizes = [int(b.shape[0]) for b in make_dataset(x, batch_size=4)]
    assert sizes == [4, 4, 2]
    dropped = make_dataset(x, batch_size=4, drop_remainder=True)
    assert [tuple(b.shape) for b in dropped] == [(4, 6, 6, 1)] * 2
    first = [b.numpy() for b in make_dataset(x, batch_size=10, seed=3)]
    second = [b.numpy() for b in make_dataset(x, batch_size=10, seed=3)]
    np.testing.assert_array_equal(first[0], second[0])
    assert not np.array_equal(first[0], x)  # shuffled
    ordered = next(iter(make_dataset(x, batch_size=10, shuffle=False)))
    np.testing.assert_array_equal(ordered.numpy(), x)


def test_make_dataset_with_known_anomalies() -> None:
    x = np.zeros((10, 6, 6, 1), dtype=np.float32)
    extra = np.ones((3, 6, 6, 1), dtype=np.float32)
    batches = list(make_dataset(x, batch_size=4, extra=extra))
    assert len(batches) == 3
    for normal, anomalies in batches:
        assert normal.shape == anomalies.shape
        assert float(anomalies.numpy().min()) == 1.0
    assert [int(n.shape[0]) for n, _ in batches] == [4, 4, 2]


def test_make_dataset_errors() -> None:
    x = np.zeros((4, 6, 6, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(x, batch_size=0)
    with pytest.raises(ValueError, match="at least one image"):
        make_dataset(x[:0])
    with pytest.raises(ValueError, match="extra must have the image shape"):
        make_dataset(x, extra=np.zeros((2, 5, 5, 1), dtype=np.float32))
