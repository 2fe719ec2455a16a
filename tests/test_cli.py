"""``python -m adda_keras demo`` end to end with tiny settings."""

from __future__ import annotations

import csv
import json
import os
import socket
import time

import pytest

from adda_keras.cli import main
from adda_keras.data import mnist
from adda_keras.experiments.demo import DemoConfig, run_demo


def test_demo_writes_scores_plots_and_summary(tmp_path):
    config = DemoConfig(digit=1, epochs=1, max_test_anomalies_per_class=15, output_dir=str(tmp_path))
    result = run_demo(config)
    assert set(result.auroc) == {"AnoVAEGAN (pixel residual)", "ADA (CAM + D)", "kNN (pixels)"}
    assert all(0.0 <= v <= 1.0 for v in result.auroc.values())
    rows = list(csv.DictReader(open(tmp_path / "scores.csv")))
    assert len(rows) == result.n_test and {"digit", "anomaly", "score_ada", "score_anovaegan"} <= set(rows[0])
    assert all(r["digit"] != "1" for r in rows if r["anomaly"] == "1")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["machine"]["tensorflow"] and summary["config"]["digit"] == 1
    assert (tmp_path / "roc.png").stat().st_size > 1000 and (tmp_path / "examples.png").stat().st_size > 1000
    assert "ADA (CAM + D)" in result.table()


@pytest.mark.parametrize("argv", [["demo", "--digit", "10"], ["demo", "--source", "web"], ["demo", "--epochs", "0"]])
def test_cli_rejects_bad_options(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--output", "{file}"], "is a file"),
        (["--beta", "nan"], "beta"),
        (["--noise-strength", "-1"], "strength"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_demo_checks_everything_before_training(tmp_path, capsys, argv, message):
    (tmp_path / "file").write_text("not a folder")
    start = time.perf_counter()
    try:
        status = main(["demo", "--epochs", "1", *[arg.format(file=tmp_path / "file") for arg in argv]])
    except SystemExit as stop:  # the parser's own checks (bounded options) exit at once
        status = stop.code
    assert status == 2
    assert message in one_error_line(capsys)
    assert time.perf_counter() - start < 10  # no training happened


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_demo_refuses_a_read_only_output_folder(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        assert main(["demo", "--epochs", "1", "--output", str(tmp_path / "out")]) == 2
    finally:
        tmp_path.chmod(0o755)
    assert "not writable" in one_error_line(capsys)


def test_demo_offline_names_the_network_and_the_bundled_data(tmp_path, capsys, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()
    monkeypatch.setattr(mnist, "_DOWNLOAD_ADDRESS", closed)
    monkeypatch.setattr(mnist, "_keras_cached", lambda: False)
    start = time.perf_counter()
    assert main(["demo", "--source", "keras", "--epochs", "1", "--output", str(tmp_path)]) == 2
    err = one_error_line(capsys)
    assert "unreachable" in err and "--source bundled" in err and time.perf_counter() - start < 10


def test_demo_uses_the_library_score_defaults(monkeypatch, tmp_path):
    """Regression: the command line once fixed ``--beta`` at 0.2 while the library's default moved to 0.5."""
    from adda_keras.cli import build_parser
    from adda_keras.detectors.ada import SCORE_DEFAULTS
    from adda_keras.experiments import demo

    seen = {}

    def fake_run_demo(config, verbose=0):  # stops before training: only the settings are under test
        seen["config"] = config
        raise SystemExit(0)

    monkeypatch.setattr(demo, "run_demo", fake_run_demo)
    with pytest.raises(SystemExit):
        main(["demo", "--epochs", "1", "--output", str(tmp_path / "out")])
    assert seen["config"].beta == SCORE_DEFAULTS["beta"]
    assert seen["config"].attention == SCORE_DEFAULTS["attention"]
    with pytest.raises(SystemExit):
        main(["demo", "--beta", "2", "--output", str(tmp_path / "out")])
    assert seen["config"].beta == 2.0
    demo_parser = build_parser()._subparsers._group_actions[0].choices["demo"]
    beta_help = next(action.help for action in demo_parser._actions if action.dest == "beta")
    assert f"{SCORE_DEFAULTS['beta']:g})" in beta_help, "the help names another default than the library's"


def test_publishing_commands_pin_the_thread_count_and_training_then_repeats_exactly(tmp_path, monkeypatch):
    """Same command, same numbers (issue 27): a training's last digits depend on TensorFlow's intra-op thread count
    (measured: 1e-5 apart after two epochs with 1 and 2 threads), so demo, reproduce and localise pin it to the 2 of
    the machine that made results/ unless the user set it; at that count, two processes with other OpenMP and
    inter-op settings train a tiny ADA to exactly the same scores."""
    import os
    import subprocess
    import sys

    from adda_keras.cli import PUBLISHING_COMMANDS, REPRODUCIBLE_THREADS

    monkeypatch.delenv("TF_NUM_INTRAOP_THREADS", raising=False)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["demo", "--output", str(blocker / "out")]) == 2  # stops before training, after the pin
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == REPRODUCIBLE_THREADS and "demo" in PUBLISHING_COMMANDS
    script = (
        "import sys, numpy as np\n"
        "from adda_keras import make_detector\n"
        "from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split\n"
        "mnist = load_mnist('bundled')\n"
        "split = one_class_split(mnist.images, mnist.labels, normal_class=0, seed=0, max_test_anomalies_per_class=5)\n"
        "split = apply_noise(split, BackgroundNoise(strength=1.0), seed=0)\n"
        "ada = make_detector('ada', epochs=2, batch_size=32, seed=0).fit(split.x_train[:192], split.x_val[:32])\n"
        "print(ada.score_samples(split.x_test[:48]).tobytes().hex())\n"
    )
    printed = []
    for threads in ("1", "4"):
        env = {**os.environ, "TF_NUM_INTRAOP_THREADS": REPRODUCIBLE_THREADS}
        env.update(OMP_NUM_THREADS=threads, TF_NUM_INTEROP_THREADS=threads)
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        printed.append(run.stdout.strip().splitlines()[-1])
    assert printed[0] == printed[1]
