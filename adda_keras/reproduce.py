"""Reproduce the paper's Tables 1 and 3, beside the detectors a user would pick instead.

``python -m adda_keras reproduce --table 1 --preset quick`` runs every method
of the table on the same splits and seeds and writes, into
``<output>/<preset>/<table>/``:

* ``runs.csv`` — one row per (method, digit, known anomaly, seed) with the
  AUROC, training seconds and attention + score milliseconds per image;
* ``table.md`` — the paper's layout, ours beside the paper's numbers, mean ±
  std over seeds, with the configuration and the machine;
* ``roc_digit<k>.png`` — ROC curves per normal digit (first seed);
* ``config.json`` — the preset, the options, library versions and machine;
* ``units/`` — one file per finished (digit, seed) unit; a rerun skips
  finished units, so an interrupted run resumes where it stopped.

Table 1 (one-class): normal digit 0–9; AnoVAE, AnoGAN, AnoVAEGAN and the
ADA ablations, plus IsolationForest, OneClassSVM, PCA and kNN on pixels.
Table 3 (semi-supervised): normal digit 0, known anomaly 1/3/5/7/9;
self-supervised ADA, CNN regression, CAM_ano and the D_G + D_ano ensemble,
plus the same classical detectors.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split, semi_supervised_split
from adda_keras.data.protocol import AnomalySplit
from adda_keras.detectors import AnomalyDetector, make_detector
from adda_keras.evaluation import auroc, plot_roc
from adda_keras.experiments import machine_info

logger = logging.getLogger(__name__)

CLASSICAL = ("isolation-forest", "ocsvm", "pca", "knn")
TABLE1_METHODS = ("anovae", "anogan", "anovaegan", "ada-d-only", "ada-cam-only", "ada", *CLASSICAL)
TABLE3_METHODS = ("ada", "cnn-regression", "ada-cam-ano", "ada-semi", *CLASSICAL)
TABLE3_KNOWN = (1, 3, 5, 7, 9)

#: display names in the paper's tables
LABELS = {
    "anovae": "AnoVAE",
    "anogan": "AnoGAN",
    "anovaegan": "AnoVAEGAN",
    "ada-d-only": "ADA, D only",
    "ada-cam-only": "ADA, CAM only",
    "ada": "ADA, CAM + D",
    "cnn-regression": "CNN regression (supervised)",
    "ada-cam-ano": "ADA CAM_ano",
    "ada-semi": "ADA CAM + D_G + D_ano",
    "isolation-forest": "IsolationForest (pixels)",
    "ocsvm": "OneClassSVM (pixels)",
    "pca": "PCA residual (pixels)",
    "knn": "kNN distance (pixels)",
}

#: METHOD.md, Table 1 (MNIST with noise) and Table 3 (semi-supervised, normal 0)
PAPER_TABLE1 = {
    "anovae": (0.63, 0.83, 0.54, 0.57, 0.62, 0.67, 0.61, 0.69, 0.55, 0.70),
    "anogan": (0.45, 0.75, 0.48, 0.49, 0.58, 0.51, 0.51, 0.59, 0.47, 0.56),
    "anovaegan": (0.71, 0.86, 0.60, 0.65, 0.68, 0.66, 0.70, 0.73, 0.64, 0.70),
    "ada-d-only": (0.55, 0.70, 0.54, 0.52, 0.53, 0.51, 0.57, 0.59, 0.57, 0.56),
    "ada-cam-only": (0.74, 0.92, 0.62, 0.68, 0.69, 0.69, 0.73, 0.78, 0.66, 0.74),
    "ada": (0.74, 0.92, 0.62, 0.68, 0.68, 0.69, 0.73, 0.77, 0.67, 0.74),
}
PAPER_TABLE1_MEAN = {
    "anovae": 0.640,
    "anogan": 0.540,
    "anovaegan": 0.692,
    "ada-d-only": 0.563,
    "ada-cam-only": 0.725,
    "ada": 0.725,
}
PAPER_TABLE3 = {
    "ada": (0.74, 0.74, 0.74, 0.74, 0.74),
    "cnn-regression": (0.90, 0.94, 0.95, 0.93, 0.94),
    "ada-cam-ano": (0.78, 0.77, 0.75, 0.77, 0.77),
    "ada-semi": (0.93, 0.94, 0.95, 0.95, 0.95),
}
PAPER_TABLE3_MEAN = {"ada": 0.738, "cnn-regression": 0.932, "ada-cam-ano": 0.768, "ada-semi": 0.945}


@dataclass(frozen=True)
class Preset:
    """How big a reproduction run is.

    Attributes:
        name: preset name.
        source: MNIST source (``bundled``, ``keras``, ``tfds`` or ``auto``).
        seeds: seeds; each number in the table is the mean over them.
        epochs: training epochs of every generative model and the classifier.
        anogan_search_steps: latent-search steps per test batch.
        max_test_anomalies_per_class: test anomalies kept per digit (``None``: all).
        n_known: known-anomaly training images (Table 3).
        noise_strength: background noise strength when noise is on.
    """

    name: str
    source: str
    seeds: tuple[int, ...]
    epochs: int
    anogan_search_steps: int
    max_test_anomalies_per_class: int | None
    n_known: int
    noise_strength: float = 1.0


PRESETS = {
    # CI-sized: proves the pipeline end to end, the numbers mean nothing.
    "tiny": Preset("tiny", "bundled", (0,), 1, 5, 10, 20),
    # All ten digits, one seed, bundled data: ~30 minutes per table on 2 CPU cores.
    "quick": Preset("quick", "bundled", (0,), 20, 50, 100, 100),
    # The paper's scale: five seeds, full MNIST where a network is available; for a GPU.
    "paper": Preset("paper", "auto", (0, 1, 2, 3, 4), 100, 300, None, 100),
}


@dataclass(frozen=True)
class ReproduceConfig:
    """One reproduction command: a table, a preset and the options that override it."""

    table: int
    preset: Preset
    digits: tuple[int, ...]
    noise: bool = True
    output_dir: str = "results"

    @property
    def table_name(self) -> str:
        """``table1-noisy``, ``table1-clean``, ``table3-noisy``..."""
        return f"table{self.table}-{'noisy' if self.noise else 'clean'}"

    @property
    def folder(self) -> Path:
        """Where this table's files go."""
        return Path(self.output_dir) / self.preset.name / self.table_name


def make_config(
    table: int,
    preset: str = "quick",
    digits: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    source: str | None = None,
    noise: bool = True,
    output_dir: str = "results",
    epochs: int | None = None,
) -> ReproduceConfig:
    """Validate the options and build a :class:`ReproduceConfig`.

    ``digits`` are normal digits for Table 1 and known-anomaly digits for
    Table 3 (whose normal digit is always 0, as in the paper).
    """
    if table not in (1, 3):
        raise ValueError(f"table must be 1 or 3; got {table!r}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    if seeds is not None:
        chosen = replace(chosen, seeds=tuple(int(s) for s in seeds))
    if source is not None:
        chosen = replace(chosen, source=source)
    if epochs is not None:
        chosen = replace(chosen, epochs=int(epochs))
    default_digits = tuple(range(10)) if table == 1 else TABLE3_KNOWN
    digits = tuple(int(d) for d in (digits if digits is not None else default_digits))
    valid = range(10) if table == 1 else range(1, 10)
    bad = [d for d in digits if d not in valid]
    if bad or not digits:
        raise ValueError(
            f"digits for table {table} must be "
            f"{'normal digits 0-9' if table == 1 else 'known-anomaly digits 1-9 (the normal digit is 0)'}; got {bad}"
        )
    return ReproduceConfig(table, chosen, digits, noise, output_dir)


def run_reproduction(config: ReproduceConfig, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) every unit of the table, then write the CSV, table, plots and configuration."""
    from tqdm.auto import tqdm

    folder = config.folder
    (folder / "units").mkdir(parents=True, exist_ok=True)
    mnist = load_mnist(config.preset.source)
    units = [(digit, seed) for digit in config.digits for seed in config.preset.seeds]
    started = time.perf_counter()
    for digit, seed in tqdm(units, desc=config.table_name, disable=not progress, unit="run"):
        path = folder / "units" / f"digit{digit}-seed{seed}.json"
        if path.exists():
            continue
        runner = _run_table1_unit if config.table == 1 else _run_table3_unit
        rows, curves = runner(config, mnist.images, mnist.labels, digit, seed)
        np.savez_compressed(path.with_suffix(".npz"), **curves)
        _write_atomically(path, json.dumps(rows, indent=1))
    rows = [
        row
        for digit, seed in units
        for row in json.loads((folder / "units" / f"digit{digit}-seed{seed}.json").read_text())
    ]
    _write_outputs(config, rows, units, mnist.source, time.perf_counter() - started)
    return rows


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file so an interrupted run never leaves half a unit."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def _timed_fit(detector: AnomalyDetector, *args: Any, **kwargs: Any) -> tuple[AnomalyDetector, float]:
    start = time.perf_counter()
    detector.fit(*args, **kwargs)
    return detector, time.perf_counter() - start


def _evaluate(
    detectors: dict[str, tuple[AnomalyDetector, float]],
    split: AnomalySplit,
    base_row: dict[str, Any],
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Score the test split with every detector; rows for the CSV and curves for the ROC plot."""
    rows, curves = [], {"y_test": split.y_test, "test_classes": split.test_classes}
    for method, (detector, train_seconds) in detectors.items():
        detector.score_samples(split.x_test[:32])  # trace compiled passes outside the timing
        start = time.perf_counter()
        scores = detector.score_samples(split.x_test)
        score_ms = 1000 * (time.perf_counter() - start) / len(split.x_test)
        curves[method] = scores
        rows.append(
            {
                **base_row,
                "method": method,
                "auroc": round(auroc(split.y_test, scores), 5),
                "train_seconds": round(train_seconds, 2),
                "score_ms_per_image": round(score_ms, 4),
            }
        )
    return rows, curves


def _classical(split: AnomalySplit, seed: int) -> dict[str, tuple[AnomalyDetector, float]]:
    return {name: _timed_fit(make_detector(name, seed=seed), split.x_train) for name in CLASSICAL}


def _noise(config: ReproduceConfig) -> BackgroundNoise:
    return BackgroundNoise(strength=config.preset.noise_strength if config.noise else 0.0)


def _run_table1_unit(
    config: ReproduceConfig, images: np.ndarray, labels: np.ndarray, digit: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    preset = config.preset
    split = one_class_split(
        images, labels, digit, seed=seed, max_test_anomalies_per_class=preset.max_test_anomalies_per_class
    )
    split = apply_noise(split, _noise(config), seed=seed)
    common = {"epochs": preset.epochs, "seed": seed}
    ada, seconds = _timed_fit(make_detector("ada", **common), split.x_train, split.x_val)
    detectors = {
        "anovae": _timed_fit(make_detector("anovae", **common), split.x_train, split.x_val),
        "anogan": _timed_fit(
            make_detector("anogan", search_steps=preset.anogan_search_steps, **common), split.x_train, split.x_val
        ),
        # AnoVAEGAN has its own validation-chosen VAEGAN settings (see ada.TUNED_PIXEL_WEIGHT)
        "anovaegan": _timed_fit(make_detector("anovaegan", **common), split.x_train, split.x_val),
        **{name: (ada.variant(name), seconds) for name in ("ada-d-only", "ada-cam-only")},
        "ada": (ada, seconds),
        **_classical(split, seed),
    }
    base = {"table": config.table_name, "noise": config.noise, "digit": digit, "known_anomaly": "", "seed": seed}
    return _evaluate(detectors, split, base)


def _run_table3_unit(
    config: ReproduceConfig, images: np.ndarray, labels: np.ndarray, known: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    preset = config.preset
    split = semi_supervised_split(
        images,
        labels,
        normal_class=0,
        known_anomaly_class=known,
        n_known=preset.n_known,
        seed=seed,
        max_test_anomalies_per_class=preset.max_test_anomalies_per_class,
    )
    split = apply_noise(split, _noise(config), seed=seed)
    common = {"epochs": preset.epochs, "seed": seed}
    ada, ada_seconds = _timed_fit(make_detector("ada", **common), split.x_train, split.x_val)
    known_data = {"x_known": split.x_known, "x_val_known": split.x_val_known}
    semi, semi_seconds = _timed_fit(
        make_detector("ada-semi", **common), split.x_train, split.x_val, self_supervised=ada, **known_data
    )
    detectors = {
        "ada": (ada, ada_seconds),
        "cnn-regression": _timed_fit(
            make_detector("cnn-regression", **common), split.x_train, split.x_val, **known_data
        ),
        "ada-cam-ano": (semi.variant("ada-cam-ano"), semi_seconds),
        "ada-semi": (semi, ada_seconds + semi_seconds),
        **_classical(split, seed),
    }
    base = {"table": config.table_name, "noise": config.noise, "digit": 0, "known_anomaly": known, "seed": seed}
    return _evaluate(detectors, split, base)


def _write_outputs(
    config: ReproduceConfig, rows: list[dict[str, Any]], units: list[tuple[int, int]], source: str, seconds: float
) -> None:
    import matplotlib.pyplot as plt

    folder = config.folder
    with open(folder / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    machine = machine_info()
    settings = {
        "command": command_line(config),
        "table": config.table,
        "noise": config.noise,
        "digits": list(config.digits),
        "preset": asdict(config.preset),
        "data_source_used": source,
        "seconds_this_invocation": round(seconds, 1),
        "machine": machine,
    }
    (folder / "config.json").write_text(json.dumps(settings, indent=2))
    (folder / "table.md").write_text(markdown_table(config, rows, machine))
    first_seed = config.preset.seeds[0]
    for digit, seed in units:
        if seed != first_seed:
            continue
        curves = np.load(folder / "units" / f"digit{digit}-seed{seed}.npz")
        methods = [m for m in curves.files if m not in ("y_test", "test_classes")]
        what = f"normal digit {digit}" if config.table == 1 else f"normal 0, known anomaly {digit}"
        fig = plot_roc(
            {LABELS[m]: (curves["y_test"], curves[m]) for m in methods}, title=f"{config.table_name}: {what}"
        )
        fig.set_size_inches(6, 6)
        fig.savefig(folder / f"roc_digit{digit}.png", dpi=80)
        plt.close(fig)


def command_line(config: ReproduceConfig) -> str:
    """The command that reproduces ``config``."""
    preset = PRESETS[config.preset.name]
    parts = [f"python -m adda_keras reproduce --table {config.table} --preset {config.preset.name}"]
    default_digits = tuple(range(10)) if config.table == 1 else TABLE3_KNOWN
    if config.digits != default_digits:
        parts.append("--digits " + " ".join(map(str, config.digits)))
    if config.preset.seeds != preset.seeds:
        parts.append("--seeds " + " ".join(map(str, config.preset.seeds)))
    if config.preset.source != preset.source:
        parts.append(f"--source {config.preset.source}")
    if config.preset.epochs != preset.epochs:
        parts.append(f"--epochs {config.preset.epochs}")
    if not config.noise:
        parts.append("--noise off")
    if config.output_dir != "results":
        parts.append(f"--output {config.output_dir}")
    return " ".join(parts)


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def markdown_table(config: ReproduceConfig, rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    """The paper's layout: one row per method, one column per digit, then the mean; paper numbers beside ours."""
    key = "digit" if config.table == 1 else "known_anomaly"
    methods = TABLE1_METHODS if config.table == 1 else TABLE3_METHODS
    paper = PAPER_TABLE1 if config.table == 1 else PAPER_TABLE3
    paper_mean = PAPER_TABLE1_MEAN if config.table == 1 else PAPER_TABLE3_MEAN
    paper_columns = tuple(range(10)) if config.table == 1 else TABLE3_KNOWN
    show_paper = config.noise  # the paper's tables are on MNIST with noise
    header = "normal digit" if config.table == 1 else "known anomaly (normal digit 0)"
    lines = [
        f"# {config.table_name} ({config.preset.name} preset)",
        "",
        f"AUROC on the test split; {'ours (paper)' if show_paper else 'ours'} per cell; "
        f"mean over seeds {list(config.preset.seeds)}" + (" ± std." if len(config.preset.seeds) > 1 else "."),
        "",
        f"| method | {' | '.join(f'{header} {d}' if i == 0 else str(d) for i, d in enumerate(config.digits))} | mean |",
        "|---|" + "---|" * (len(config.digits) + 1),
    ]
    for method in methods:
        cells = []
        for d in config.digits:
            values = [r["auroc"] for r in rows if r["method"] == method and r[key] == d]
            cell = _cell(values)
            if show_paper and method in paper and d in paper_columns:
                cell += f" ({paper[method][paper_columns.index(d)]:.2f})"
            cells.append(cell)
        per_seed_means = [
            np.mean([r["auroc"] for r in rows if r["method"] == method and r["seed"] == s])
            for s in config.preset.seeds
            if any(r["method"] == method and r["seed"] == s for r in rows)
        ]
        mean = _cell([float(m) for m in per_seed_means])
        if show_paper and method in paper_mean and set(config.digits) == set(paper_columns):
            mean += f" ({paper_mean[method]:.3f})"
        lines.append(f"| {LABELS[method]} | {' | '.join(cells)} | {mean} |")
    timings = {
        method: (
            np.mean([r["train_seconds"] for r in rows if r["method"] == method]),
            np.mean([r["score_ms_per_image"] for r in rows if r["method"] == method]),
        )
        for method in methods
    }
    lines += [
        "",
        "Mean training seconds per model and attention + score milliseconds per image "
        "(ADA variants share one VAEGAN, so they share its training time):",
        "",
        "| method | train s | score ms / image |",
        "|---|---|---|",
        *[f"| {LABELS[m]} | {t:.1f} | {s:.3f} |" for m, (t, s) in timings.items()],
        "",
        f"Command: `{command_line(config)}`  ",
        f"Preset: {asdict(config.preset)}  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"Python {machine['python']}, TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, "
        f"scikit-learn {machine['scikit-learn']}.",
        "",
    ]
    return "\n".join(lines)
