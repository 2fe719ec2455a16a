"""The command line answers at once and quietly: ``--help`` without TensorFlow, the method table, option bounds.

Also the pieces behind it that need no trained model: the progress display,
atomic outputs, outputs refused inside inputs, files compared by content,
and the image-format rule shared by the CLI and the folder readers.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adda_keras.cli import build_parser, main
from adda_keras.options import METHOD_SUMMARIES, MNIST_SOURCE_NAMES

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def test_help_is_fast_imports_no_tensorflow_and_lists_every_method() -> None:
    probe = "import sys, adda_keras.cli as c; c.build_parser().format_help(); print('tensorflow' in sys.modules)"
    assert _run("-c", probe).stdout.strip() == "False"
    seconds = []
    for _ in range(3):  # the best of three: the machine is shared
        start = time.perf_counter()
        run = _run("-m", "adda_keras", "--help")
        seconds.append(time.perf_counter() - start)
        assert run.returncode == 0 and run.stderr == ""
    assert min(seconds) < 1.0, seconds
    for name, summary in METHOD_SUMMARIES.items():
        assert f"{name}  " in run.stdout and summary in run.stdout


def test_the_method_table_names_exactly_the_registered_detectors() -> None:
    """The help's static table (read without TensorFlow) against the real registry: add a line for a new method."""
    from adda_keras import available_detectors
    from adda_keras.data import MNIST_SOURCES

    assert set(METHOD_SUMMARIES) == set(available_detectors()), "update adda_keras/options.py METHOD_SUMMARIES"
    assert tuple(MNIST_SOURCE_NAMES) == tuple(MNIST_SOURCES)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "x", "--out", "m.keras", "--image-size", "65536"], "1 to 1024"),
        (["fit", "x", "--out", "m.keras", "--epochs", "1e9"], "--epochs"),
        (["fit", "x", "--out", "m.keras", "--batch-size", "100000"], "--batch-size"),
        (["fit", "x", "--out", "m.keras", "--target-recall", "0"], "--target-recall"),
        (["fit", "x", "--out", "m.keras", "--seed", str(2**32)], "--seed"),
        (["score", "m.keras", "x", "--threshold", "inf"], "--threshold"),
        (["calibrate", "m.keras", "--val-dir", "v", "--out", "n.keras", "--target-fpr", "0"], "--target-fpr"),
        (["export", "m.keras", "--out", "o", "--format", "onnx"], "--format"),
        (["demo", "--noise-strength", "1e300"], "--noise-strength"),  # regression: OverflowError traceback
        (["reproduce", "--table", "1", "--noise-strength", "0"], "--noise-strength"),
    ],
)
def test_numeric_options_are_bounded_by_the_parser(argv, message, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1


def test_tensorflow_start_up_lines_are_silent_by_default_and_back_with_v(tmp_path: Path) -> None:
    """Regression: every command printed oneDNN / absl / cpu_feature_guard lines when the user's TF log level was 0."""
    from adda_keras import make_detector

    images = np.random.default_rng(0).uniform(0, 1, (12, 8, 8, 1)).astype(np.float32)
    make_detector("knn").fit(images[:8], x_val=images[8:]).save(tmp_path / "knn.pkl")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a.png")
    argv = ["-m", "adda_keras", "score", str(tmp_path / "knn.pkl"), str(tmp_path / "a.png")]
    argv += ["--out", str(tmp_path / "out" / "s.csv")]
    env = {"TF_CPP_MIN_LOG_LEVEL": "0"}
    quiet = _run(*argv, env=env)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    verbose = _run(*argv[:2], "-v", *argv[2:], env=env)
    assert verbose.returncode == 0
    assert any(marker in verbose.stderr for marker in ("I0000", "W0000", "oneDNN", "absl", "cpu_feature_guard"))


def test_epoch_lines_and_progress_bar() -> None:
    from adda_keras.experiments.progress import EpochLines, ProgressBar, format_seconds

    stream = io.StringIO()
    lines = EpochLines(epochs=3, stream=stream)
    lines.on_train_begin()
    for epoch in range(3):
        lines.on_epoch_begin(epoch)
        lines.on_epoch_end(epoch, {"loss_pixel": 12.345, "val_loss_pixel": 13.0, "d_real": 0.5})
    printed = stream.getvalue().splitlines()
    assert len(printed) == 3 and printed[0].startswith("epoch 1/3  loss_pixel 12.35 (val 13)")
    assert "ETA" in printed[0] and "ETA" not in printed[2] and "d_real" not in printed[0]
    assert [format_seconds(s) for s in (5, 185, 3725)] == ["5 s", "3 min 05 s", "1 h 02 min"]
    silent = io.StringIO()
    bar = ProgressBar(10, "scoring", stream=silent)
    bar.update(5)
    assert silent.getvalue() == ""  # not a terminal: no carriage returns in logs
    shown = io.StringIO()
    bar = ProgressBar(10, "scoring", stream=shown, force=True)
    bar.update(5)
    bar.close()
    assert "scoring [" in shown.getvalue() and "5/10 images" in shown.getvalue()


def test_outputs_are_written_whole_or_not_at_all(tmp_path: Path) -> None:
    from adda_keras.experiments.files import atomic_output

    target = tmp_path / "scores.csv"
    target.write_text("the previous run")
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half a")
        raise RuntimeError("the run fails half-way")
    assert target.read_text() == "the previous run" and list(tmp_path.iterdir()) == [target]
    with atomic_output(target) as temporary:
        assert temporary.suffix == ".csv" and temporary.parent == tmp_path
        temporary.write_text("new")
    assert target.read_text() == "new" and list(tmp_path.iterdir()) == [target]


def test_outputs_are_refused_on_and_inside_inputs_and_copies_are_found(tmp_path: Path) -> None:
    from adda_keras.experiments.files import check_not_an_input, shared_files

    (tmp_path / "images").mkdir()
    (tmp_path / "model.keras").write_bytes(b"model")
    with pytest.raises(ValueError, match="also an input"):
        check_not_an_input(tmp_path / "." / "model.keras", [tmp_path / "model.keras"], "--out")
    with pytest.raises(ValueError, match="inside the input folder"):
        check_not_an_input(tmp_path / "images" / "deep" / "maps", [tmp_path / "images"], "--maps")
    check_not_an_input(tmp_path / "maps", [tmp_path / "images", tmp_path / "model.keras"], "--maps")
    (tmp_path / "a.png").write_bytes(b"same")
    (tmp_path / "images" / "renamed.png").write_bytes(b"same")
    (tmp_path / "images" / "other.png").write_bytes(b"other")
    pairs = shared_files([tmp_path / "a.png"], sorted((tmp_path / "images").iterdir()))
    assert pairs == [(tmp_path / "a.png", tmp_path / "images" / "renamed.png")]


def test_the_image_format_follows_the_files_when_they_agree(tmp_path: Path) -> None:
    from adda_keras.data import DEFAULT_IMAGE_SIZE, image_format

    for name, size, mode in [("a.png", (24, 16), "L"), ("b.png", (24, 16), "L"), ("c.png", (24, 16), "RGB")]:
        Image.new(mode, size).save(tmp_path / name)
    gray = image_format([tmp_path / "a.png", tmp_path / "b.png"])
    assert (gray.size, gray.color, gray.size_source) == ((16, 24), "grayscale", "uniform")
    assert "16x24 (every file's own size), grayscale (no file is in colour)" == gray.describe()
    assert image_format(sorted(tmp_path.iterdir())).color == "rgb"
    Image.new("L", (30, 30)).save(tmp_path / "d.png")
    mixed = image_format(sorted(tmp_path.iterdir()))
    assert mixed.size == DEFAULT_IMAGE_SIZE and "sizes differ, from 16x24 to 30x30" in mixed.describe()
    assert image_format([tmp_path / "d.png"], (8, 8), "rgb").describe() == "8x8 (as given), rgb (as given)"
    Image.new("L", (2000, 1500)).save(tmp_path / "huge.png")
    with pytest.raises(ValueError, match="larger than the 1024 pixels"):
        image_format([tmp_path / "huge.png"])


def test_parser_builds_without_heavy_imports() -> None:
    assert "calibrate" in build_parser().format_help() and "export" in build_parser().format_help()
