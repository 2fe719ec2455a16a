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
* ``units/`` — one file per finished (digit, seed) unit with its rows and the
  fingerprint of every setting that produced it; a rerun reuses finished units
  whose fingerprint matches, so an interrupted run resumes where it stopped,
  and refuses (naming the differing settings) when it does not, unless
  ``overwrite`` asks to recompute them.

Non-default noise settings get their own folder (``table1-noisy-s0.5``,
``table1-noisy-nseed7``), so robustness runs never mix with the main table.

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

from adda_keras.data import (
    MNIST_SOURCES,
    BackgroundNoise,
    apply_noise,
    load_mnist,
    one_class_split,
    semi_supervised_split,
)
from adda_keras.data.protocol import AnomalySplit
from adda_keras.detectors import AnomalyDetector, make_detector
from adda_keras.diagnostics import diagnose
from adda_keras.evaluation import auroc, plot_roc
from adda_keras.experiments.common import check_output_dir, fill_added_parameters, machine_info
from adda_keras.experiments.units import fingerprint_of, read_unit, write_unit
from adda_keras.validation import check_int, check_number, check_seed

logger = logging.getLogger(__name__)

CLASSICAL = ("isolation-forest", "ocsvm", "pca", "knn")
TABLE1_METHODS = ("anovae", "anogan", "anovaegan", "ada-d-only", "ada-cam-only", "ada", *CLASSICAL)
TABLE3_METHODS = ("ada", "cnn-regression", "ada-cam-ano", "ada-semi", *CLASSICAL)
TABLE3_KNOWN = (1, 3, 5, 7, 9)
#: Table 1's scores of the one self-supervised VAEGAN trained per unit
VAEGAN_SCORES = ("anovaegan", "ada-d-only", "ada-cam-only", "ada")
#: arrays of a unit's curves file that are not a method's scores
_CURVE_KEYS = ("y_test", "test_classes")

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
#: Table 1's robustness runs (``make reproduce-quick``): suffix of the
#: ``table1-noisy`` folder (:attr:`ReproduceConfig.table_name`) -> what changed
ROBUSTNESS_RUNS = {
    "": "noise strength 1 (tuned)",
    "-s0.5": "noise strength 0.5",
    "-s2": "noise strength 2",
    "-nseed7": "noise seed 7 (never used in tuning)",
}


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
    """One reproduction command: a table, a preset and the options that override it.

    ``noise_seed`` (``None``: each unit's split seed) seeds the background
    noise; ``methods`` (``None``: every method of the table) filters the
    methods reported; ``overwrite`` recomputes finished units made with other
    settings instead of refusing them.
    """

    table: int
    preset: Preset
    digits: tuple[int, ...]
    noise: bool = True
    output_dir: str = "results"
    noise_seed: int | None = None
    methods: tuple[str, ...] | None = None
    overwrite: bool = False

    @property
    def selected_methods(self) -> tuple[str, ...]:
        """The methods this run reports, in the table's order."""
        every = TABLE1_METHODS if self.table == 1 else TABLE3_METHODS
        return tuple(m for m in every if self.methods is None or m in self.methods)

    @property
    def table_name(self) -> str:
        """``table1-noisy``, ``table1-clean``, ``table3-noisy``...; other noise settings add a suffix.

        ``-s0.5`` marks a noise strength other than the preset's and
        ``-nseed7`` a fixed noise seed, so such runs get their own folder.
        """
        name = f"table{self.table}-{'noisy' if self.noise else 'clean'}"
        if self.noise and self.preset.noise_strength != PRESETS[self.preset.name].noise_strength:
            name += f"-s{self.preset.noise_strength:g}"
        if self.noise and self.noise_seed is not None:
            name += f"-nseed{self.noise_seed}"
        return name

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
    noise_strength: float | None = None,
    noise_seed: int | None = None,
    methods: Sequence[str] | None = None,
    overwrite: bool = False,
) -> ReproduceConfig:
    """Validate the options and build a :class:`ReproduceConfig`.

    ``digits`` are normal digits for Table 1 and known-anomaly digits for
    Table 3 (whose normal digit is always 0, as in the paper). Repeated
    digits, seeds or methods are dropped with a warning (each unit runs
    once). ``noise_strength`` (default: the preset's) and ``noise_seed``
    (default: the split seed) need the noise on; ``methods`` must be methods
    of the table. Every problem raises ``ValueError`` naming the option.
    """
    if table not in (1, 3):
        raise ValueError(f"table must be 1 or 3; got {table!r}")
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    if seeds is not None:
        seeds = _unique("seeds", [check_seed("seeds", s) for s in seeds])
        if not seeds:
            raise ValueError("seeds must hold at least one seed")
        chosen = replace(chosen, seeds=seeds)
    if source is not None:
        if source not in MNIST_SOURCES:
            raise ValueError(f"source must be one of {MNIST_SOURCES}; got {source!r}")
        chosen = replace(chosen, source=source)
    if epochs is not None:
        chosen = replace(chosen, epochs=check_int("epochs", epochs))
    if (noise_strength is not None or noise_seed is not None) and not noise:
        raise ValueError("noise_strength and noise_seed (--noise-strength, --noise-seed) need the noise on")
    if noise_strength is not None:
        try:
            chosen = replace(chosen, noise_strength=check_number("noise_strength", noise_strength, open_low=True))
        except ValueError as error:
            raise ValueError(f"{error} (for clean images turn the noise off: --noise off)") from None
    if noise_seed is not None:
        noise_seed = check_seed("noise_seed", noise_seed)
    default_digits = tuple(range(10)) if table == 1 else TABLE3_KNOWN
    valid = range(10) if table == 1 else range(1, 10)
    given = list(digits if digits is not None else default_digits)
    bad = [d for d in given if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d not in valid]
    if bad or not given:
        raise ValueError(
            f"digits for table {table} must be "
            f"{'normal digits 0-9' if table == 1 else 'known-anomaly digits 1-9 (the normal digit is 0)'}; got {bad}"
        )
    digits = _unique("digits", [int(d) for d in given])
    if methods is not None:
        every = TABLE1_METHODS if table == 1 else TABLE3_METHODS
        unknown = [m for m in methods if m not in every]
        if unknown or not methods:
            raise ValueError(f"methods for table {table} must be among {', '.join(every)}; got {unknown or []}")
        methods = _unique("methods", list(methods))
    return ReproduceConfig(table, chosen, digits, noise, output_dir, noise_seed, methods, overwrite)


def _unique(name: str, values: list[Any]) -> tuple[Any, ...]:
    """``values`` without repeats, in first-seen order; a repeat is reported with a warning."""
    unique = tuple(dict.fromkeys(values))
    if len(unique) < len(values):
        repeated = sorted({v for v in values if values.count(v) > 1}, key=values.index)
        logger.warning("%s repeat %s; each is used once: %s", name, repeated, list(unique))
    return unique


def run_reproduction(config: ReproduceConfig, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) every unit of the table, then write the CSV, table, plots and configuration.

    Before any training (and, unless the source is ``"auto"``, before
    loading the data) it checks that the output folder is writable and that
    every finished unit in it was made with this configuration
    (:func:`unit_fingerprint`); a unit made otherwise raises ``ValueError``
    naming the differing settings, or is recomputed if ``config.overwrite``.
    """
    from tqdm.auto import tqdm

    folder = config.folder
    check_output_dir(folder / "units")
    units = [(digit, seed) for digit in config.digits for seed in config.preset.seeds]
    # "auto" is known only once loaded (offline it falls back in seconds); other sources are checked first
    mnist = load_mnist("auto") if config.preset.source == "auto" else None
    source = config.preset.source if mnist is None else mnist.source
    fingerprints = {unit: unit_fingerprint(config, *unit, source=source) for unit in units}
    stale = _stale_units(config, fingerprints)
    if stale and not config.overwrite:
        grouped: dict[str, list[str]] = {}
        for unit, differences in stale.items():
            grouped.setdefault(differences, []).append(_unit_path(folder, *unit).stem)
        raise ValueError(
            f"finished units in {folder / 'units'} were made with other settings, so their results would be stale: "
            + "; ".join(f"{', '.join(names)}: {differences}" for differences, names in grouped.items())
            + ". Rerun with --overwrite (overwrite=True) to recompute them, or choose another --output folder"
        )
    if mnist is None:
        mnist = load_mnist(source)
    selected = set(config.selected_methods)
    started = time.perf_counter()
    for digit, seed in tqdm(units, desc=config.table_name, disable=not progress, unit="run"):
        path = _unit_path(folder, digit, seed)
        if path.exists() and (digit, seed) not in stale:
            continue
        runner = _run_table1_unit if config.table == 1 else _run_table3_unit
        rows, curves = runner(config, mnist.images, mnist.labels, digit, seed)
        rows = [row for row in rows if row["method"] in selected]
        curves = {key: value for key, value in curves.items() if key in selected or key in _CURVE_KEYS}
        np.savez_compressed(path.with_suffix(".npz"), **curves)
        unit = {"fingerprint": fingerprints[digit, seed], "rows": rows}
        write_unit(path, unit)
    rows = [row for digit, seed in units for row in json.loads(_unit_path(folder, digit, seed).read_text())["rows"]]
    _write_outputs(config, rows, units, mnist.source, time.perf_counter() - started)
    return rows


def unit_fingerprint(config: ReproduceConfig, digit: int, seed: int, source: str | None = None) -> dict[str, Any]:
    """Every setting that determines one (digit, seed) unit's results, as JSON-able values.

    The table, digit and seed, the MNIST source the data came from
    (``source``, the one ``"auto"`` resolved to; default the preset's), the
    noise (on/off, strength, the seed it is drawn with), the preset's other
    fields (epochs, search steps, test anomalies, known anomalies), the
    methods reported, and the constructor parameters (``get_params()``) of
    each method's detector. A finished unit is reused only when its stored
    fingerprint equals this one.
    """
    preset = {key: value for key, value in asdict(config.preset).items() if key not in ("seeds", "source")}
    fingerprint = {
        "table": config.table,
        "digit": digit,
        "seed": seed,
        "source": config.preset.source if source is None else source,
        "noise": config.noise,
        "noise_seed": _noise_seed(config, seed) if config.noise else None,
        "preset": preset,
        "methods": list(config.selected_methods),
        "detectors": {
            method: make_detector(method, **detector_kwargs(config, method, seed)).get_params()
            for method in config.selected_methods
        },
    }
    return fingerprint_of(fingerprint)


def detector_kwargs(config: ReproduceConfig, method: str, seed: int) -> dict[str, Any]:
    """The constructor arguments of ``method``'s detector in the unit of ``seed``."""
    if method in CLASSICAL:
        return {"seed": seed}
    kwargs: dict[str, Any] = {"epochs": config.preset.epochs, "seed": seed}
    if method == "anogan":
        kwargs["search_steps"] = config.preset.anogan_search_steps
    return kwargs


def _unit_path(folder: Path, digit: int, seed: int) -> Path:
    return folder / "units" / f"digit{digit}-seed{seed}.json"


def _stale_units(config: ReproduceConfig, fingerprints: dict[tuple[int, int], dict[str, Any]]) -> dict[Any, str]:
    """The finished units whose stored fingerprint differs from this run's, with the differences in words."""
    stale = {}
    for unit, fingerprint in fingerprints.items():
        path = _unit_path(config.folder, *unit)
        if not path.exists():
            continue
        try:
            stored = read_unit(path)
        except (OSError, ValueError) as error:
            stale[unit] = f"unreadable ({error})"
            continue
        if not isinstance(stored, dict) or "fingerprint" not in stored:
            stale[unit] = "made by an older version that recorded no settings"
        elif (filled := fill_added_parameters(stored["fingerprint"], fingerprint)) != fingerprint:
            stale[unit] = _differences(filled, fingerprint)
    return stale


def _differences(stored: dict[str, Any], current: dict[str, Any]) -> str:
    """The settings in which two fingerprints differ, in words.

    ``"preset.epochs 1 (now 3), detector epochs 1 (now 3) for anovae, ada"``:
    a detector parameter that changed alike for several methods is named once.
    """
    old, new = _flatten(stored), _flatten(current)
    missing = "(not set)"
    changed = [key for key in sorted(set(old) | set(new)) if old.get(key, missing) != new.get(key, missing)]
    words = [
        f"{key} {json.dumps(old.get(key, missing))} (now {json.dumps(new.get(key, missing))})"
        for key in changed
        if not key.startswith("detectors.")
    ]
    by_change: dict[tuple[str, str, str], list[str]] = {}
    for key in changed:
        if key.startswith("detectors."):
            _, method, parameter = key.split(".", 2)
            change = (parameter, json.dumps(old.get(key, missing)), json.dumps(new.get(key, missing)))
            by_change.setdefault(change, []).append(method)
    words += [
        f"detector {parameter} {before} (now {after}) for {', '.join(methods)}"
        for (parameter, before, after), methods in by_change.items()
    ]
    return ", ".join(words)


def _flatten(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _timed_fit(detector: AnomalyDetector, *args: Any, **kwargs: Any) -> tuple[AnomalyDetector, float]:
    start = time.perf_counter()
    detector.fit(*args, **kwargs)
    return detector, time.perf_counter() - start


def _evaluate(
    detectors: dict[str, tuple[AnomalyDetector, float]],
    split: AnomalySplit,
    base_row: dict[str, Any],
    extras: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """Score the test split with every detector; rows for the CSV and curves for the ROC plot.

    ``extras`` adds columns to one method's row (the ADA model's
    diagnostics); other rows leave those columns empty.
    """
    extra_columns = sorted({key for values in (extras or {}).values() for key in values})
    rows, curves = [], dict(zip(_CURVE_KEYS, (split.y_test, split.test_classes), strict=True))
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
                **{key: (extras or {}).get(method, {}).get(key, "") for key in extra_columns},
            }
        )
    return rows, curves


def _classical(split: AnomalySplit, seed: int) -> dict[str, tuple[AnomalyDetector, float]]:
    return {name: _timed_fit(make_detector(name, seed=seed), split.x_train) for name in CLASSICAL}


def _noise(config: ReproduceConfig) -> BackgroundNoise:
    return BackgroundNoise(strength=config.preset.noise_strength if config.noise else 0.0)


def _noise_seed(config: ReproduceConfig, seed: int) -> int:
    """The seed the background noise of the unit of split seed ``seed`` is drawn with."""
    return seed if config.noise_seed is None else config.noise_seed


def _run_table1_unit(
    config: ReproduceConfig, images: np.ndarray, labels: np.ndarray, digit: int, seed: int
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    preset = config.preset
    clean = one_class_split(
        images, labels, digit, seed=seed, max_test_anomalies_per_class=preset.max_test_anomalies_per_class
    )
    split = apply_noise(clean, _noise(config), seed=_noise_seed(config, seed))
    wanted = set(config.selected_methods)
    detectors: dict[str, tuple[AnomalyDetector, float]] = {}
    for method in ("anovae", "anogan"):
        if method in wanted:
            detector = make_detector(method, **detector_kwargs(config, method, seed))
            detectors[method] = _timed_fit(detector, split.x_train, split.x_val)
    extras = {}
    if wanted & set(VAEGAN_SCORES):
        # The paper's comparison is about the score: AnoVAEGAN (pixel residual) and
        # the three ADA scores all come from the same trained VAEGAN.
        ada, seconds = _timed_fit(
            make_detector("ada", **detector_kwargs(config, "ada", seed)), split.x_train, split.x_val
        )
        for method in VAEGAN_SCORES:
            detectors[method] = (ada if method == "ada" else ada.variant(method), seconds)
        normal = split.y_test == 0
        health = diagnose(ada, split.x_test[normal], clean.x_test[normal])
        extras["ada"] = {key: round(value, 4) for key, value in health.items()}
    if wanted & set(CLASSICAL):
        detectors.update(_classical(split, seed))
    detectors = {method: detectors[method] for method in config.selected_methods}
    base = {"table": config.table_name, "noise": config.noise, "digit": digit, "known_anomaly": "", "seed": seed}
    return _evaluate(detectors, split, base, extras=extras)


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
    split = apply_noise(split, _noise(config), seed=_noise_seed(config, seed))
    wanted = set(config.selected_methods)
    known_data = {"x_known": split.x_known, "x_val_known": split.x_val_known}
    detectors: dict[str, tuple[AnomalyDetector, float]] = {}
    # Train only what the selected methods need: the ensemble builds on self-supervised ADA.
    if wanted & {"ada", "ada-semi", "ada-cam-ano"}:
        ada, ada_seconds = _timed_fit(
            make_detector("ada", **detector_kwargs(config, "ada", seed)), split.x_train, split.x_val
        )
        detectors["ada"] = (ada, ada_seconds)
    if "cnn-regression" in wanted:
        detectors["cnn-regression"] = _timed_fit(
            make_detector("cnn-regression", **detector_kwargs(config, "cnn-regression", seed)),
            split.x_train,
            split.x_val,
            **known_data,
        )
    if wanted & {"ada-semi", "ada-cam-ano"}:
        semi, semi_seconds = _timed_fit(
            make_detector("ada-semi", **detector_kwargs(config, "ada-semi", seed)),
            split.x_train,
            split.x_val,
            self_supervised=ada,
            **known_data,
        )
        detectors["ada-cam-ano"] = (semi.variant("ada-cam-ano"), semi_seconds)
        detectors["ada-semi"] = (semi, ada_seconds + semi_seconds)
    if wanted & set(CLASSICAL):
        detectors.update(_classical(split, seed))
    detectors = {method: value for method, value in detectors.items() if method in wanted}
    base = {"table": config.table_name, "noise": config.noise, "digit": 0, "known_anomaly": known, "seed": seed}
    return _evaluate(detectors, split, base)


def _write_outputs(
    config: ReproduceConfig, rows: list[dict[str, Any]], units: list[tuple[int, int]], source: str, seconds: float
) -> None:
    import matplotlib.pyplot as plt

    folder = config.folder
    with open(folder / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)
    machine = machine_info()
    settings = {
        "command": command_line(config),
        "table": config.table,
        "noise": config.noise,
        "digits": list(config.digits),
        "noise_seed": config.noise_seed,
        "methods": list(config.selected_methods),
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
        methods = [m for m in curves.files if m not in _CURVE_KEYS]
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
    if config.preset.noise_strength != preset.noise_strength:
        parts.append(f"--noise-strength {config.preset.noise_strength:g}")
    if config.noise_seed is not None:
        parts.append(f"--noise-seed {config.noise_seed}")
    if config.selected_methods != replace(config, methods=None).selected_methods:
        parts.append("--methods " + " ".join(config.selected_methods))
    if config.output_dir != "results":
        parts.append(f"--output {config.output_dir}")
    return " ".join(parts)


def _cell(values: list[float]) -> str:
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


#: the VAEGAN diagnostics shown under Table 1 (see :mod:`adda_keras.diagnostics`)
DIAGNOSTICS = {
    "attention_share": "attention share on the digit (c², 1 = indifferent)",
    "variety": "reconstruction variety (0 = one template)",
    "d_real": "D on normal test images",
    "d_reconstruction": "D on their reconstructions",
}


def _diagnostics_lines(config: ReproduceConfig, rows: list[dict[str, Any]], key: str) -> list[str]:
    """The ADA model's health per column (normal test images), when the rows carry it."""
    ada_rows = [r for r in rows if r["method"] == "ada" and r.get("attention_share", "") != ""]
    if not ada_rows:
        return []
    lines = [
        "",
        "Health of the VAEGAN behind AnoVAEGAN and ADA, on the normal test images "
        "(`adda_keras.diagnostics`), mean over seeds:",
        "",
        f"| diagnostic | {' | '.join(str(d) for d in config.digits)} | mean |",
        "|---|" + "---|" * (len(config.digits) + 1),
    ]
    for name, label in DIAGNOSTICS.items():
        per_column = [np.mean([float(r[name]) for r in ada_rows if r[key] == d] or [np.nan]) for d in config.digits]
        cells = " | ".join(f"{v:.2f}" for v in per_column)
        lines.append(f"| {label} | {cells} | {np.nanmean(per_column):.2f} |")
    return lines


def markdown_table(config: ReproduceConfig, rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    """The paper's layout: one row per method, one column per digit, then the mean; paper numbers beside ours."""
    key = "digit" if config.table == 1 else "known_anomaly"
    methods = config.selected_methods
    paper = PAPER_TABLE1 if config.table == 1 else PAPER_TABLE3
    paper_mean = PAPER_TABLE1_MEAN if config.table == 1 else PAPER_TABLE3_MEAN
    paper_columns = tuple(range(10)) if config.table == 1 else TABLE3_KNOWN
    # the paper's tables are on MNIST with noise of the standard strength
    show_paper = config.noise and config.preset.noise_strength == PRESETS[config.preset.name].noise_strength
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
    lines += _diagnostics_lines(config, rows, key)
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
