"""Table 3 for every normal digit: does a known anomaly help, on the anomalies nobody labelled?

The paper's Table 3 keeps normal digit 0 and varies the known anomaly; on
noisy MNIST, self-supervised ADA is already near the ceiling there, so the
claim cannot show (``reproduce --table 3``). This protocol
(``reproduce --table 3 --protocol ten-digits``) takes every normal digit
0-9, one known anomaly digit per normal digit by a fixed rule
(:func:`known_anomaly_of`: the next digit, 9 -> 0) and ``n_known`` labelled
anomalies (100 and 10 by default), and reports AUROC separately on

* the **unknown** anomalies: the test digits other than the normal and the
  known one (what the paper's claim is about: a detector that generalises
  beyond the labelled kind), and
* the **known** anomaly: the known digit's test images (which never
  overlap its labelled training and validation images).

Methods: self-supervised ADA, ``CAM_ano`` and the ``D_G + D_ano`` ensemble
(``ada-semi``, β chosen on the validation known anomalies, as the library
does), CNN regression and kNN on pixels, all on the same split. The ADA
rows share one self-supervised VAEGAN per (normal digit, seed): its
training images do not depend on the known anomaly or ``n_known``.

Like the other tables, finished units (one per normal digit and seed) are
kept in ``units/`` with a fingerprint of their settings and reused; the
per-image test scores are kept beside them (``.npz``), and so are the two
terms of every ADA-family score (:data:`PART_SETS`): the attention-weighted
residual and the normal probability of ``D_G`` alone (``ada``), ``D_ano``
alone (``ada-cam-ano``) and both (``ada-semi``), on the validation normals,
the labelled anomalies, self-made anomalies of the validation normals and
the test images. From them, other βs, other combinations of the two
discriminators and ``choose_beta`` on a few labelled anomalies are read
without retraining (:mod:`studies.semi_analysis`).
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

from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, semi_supervised_split
from adda_keras.data.protocol import AnomalySplit
from adda_keras.data.synthetic import PATCH_KINDS, make_synthetic_anomalies
from adda_keras.detectors import AnomalyDetector, make_detector
from adda_keras.diagnostics import discriminator_beliefs
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import check_output_dir, machine_info
from adda_keras.experiments.reproduce import PRESETS, Preset
from adda_keras.experiments.units import (
    fingerprint_of,
    save_npz_atomically,
    stored_unit,
    write_csv_atomically,
    write_unit,
)
from adda_keras.validation import check_int, check_seed

logger = logging.getLogger(__name__)

#: the methods of the ten-digit table, in its order
METHODS = ("ada", "ada-cam-ano", "ada-semi", "cnn-regression", "knn")
LABELS = {
    "ada": "ADA, self-supervised (CAM + D_G)",
    "ada-cam-ano": "CAM_ano only",
    "ada-semi": "ensemble D_G + D_ano (ada-semi)",
    "cnn-regression": "CNN regression (supervised)",
    "knn": "kNN on pixels",
}
DEFAULT_N_KNOWN = (100, 10)
PARTS = ("unknown", "known")
#: the ADA-family detectors whose score terms each unit keeps
PART_METHODS = ("ada", "ada-cam-ano", "ada-semi")
#: the image sets on which they are kept: validation normals, validation and training labelled anomalies,
#: self-made (patch-like) anomalies of the validation normals, and the test images
PART_SETS = ("val", "val_known", "known", "val_made", "test")
#: seed offset of the self-made validation anomalies (as ``ada-synthetic``'s)
VAL_MADE_SEED = 7002


def known_anomaly_of(normal: int) -> int:
    """The fixed rule of the table: the known anomaly of normal digit ``d`` is ``(d + 1) mod 10``."""
    return (int(normal) + 1) % 10


@dataclass(frozen=True)
class SemiConfig:
    """One ``reproduce --table 3 --protocol ten-digits`` command."""

    preset: Preset
    digits: tuple[int, ...] = tuple(range(10))
    n_known: tuple[int, ...] = DEFAULT_N_KNOWN
    output_dir: str = "results"

    @property
    def folder(self) -> Path:
        """``<output>/<preset>/table3-ten-digits``."""
        return Path(self.output_dir) / self.preset.name / "table3-ten-digits"

    def command(self) -> str:
        """The command that reproduces this run."""
        parts = [f"python -m adda_keras reproduce --table 3 --protocol ten-digits --preset {self.preset.name}"]
        if self.digits != tuple(range(10)):
            parts.append("--digits " + " ".join(map(str, self.digits)))
        if self.preset.seeds != PRESETS[self.preset.name].seeds:
            parts.append("--seeds " + " ".join(map(str, self.preset.seeds)))
        if self.n_known != DEFAULT_N_KNOWN:
            parts.append("--n-known " + " ".join(map(str, self.n_known)))
        if self.output_dir != "results":
            parts.append(f"--output {self.output_dir}")
        return " ".join(parts)


def make_semi_config(
    preset: str = "quick",
    digits: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    n_known: Sequence[int] | None = None,
    output_dir: str = "results",
) -> SemiConfig:
    """Validate the options; ``ValueError`` names a bad one."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; valid presets: {', '.join(PRESETS)}")
    chosen = PRESETS[preset]
    digits = tuple(range(10)) if digits is None else tuple(dict.fromkeys(digits))
    bad = [d for d in digits if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or not 0 <= d <= 9]
    if bad or not digits:
        raise ValueError(f"digits of the ten-digit Table 3 are normal digits 0-9; got {bad or list(digits)}")
    if seeds is not None:
        seeds = tuple(dict.fromkeys(check_seed("seeds", s) for s in seeds))
        if not seeds:
            raise ValueError("seeds must hold at least one seed")
        chosen = replace(chosen, seeds=seeds)
    n_known = DEFAULT_N_KNOWN if n_known is None else tuple(dict.fromkeys(check_int("n_known", n) for n in n_known))
    if not n_known:
        raise ValueError("n_known must hold at least one number")
    return SemiConfig(chosen, tuple(int(d) for d in digits), n_known, output_dir)


def noisy_semi_split(preset: Preset, mnist: Any, normal: int, n_known: int, seed: int) -> AnomalySplit:
    """The ten-digit protocol's split of one normal digit: known anomaly by :func:`known_anomaly_of`, noise added."""
    split = semi_supervised_split(
        mnist.images,
        mnist.labels,
        normal_class=normal,
        known_anomaly_class=known_anomaly_of(normal),
        n_known=n_known,
        seed=seed,
        max_test_anomalies_per_class=preset.max_test_anomalies_per_class,
    )
    return apply_noise(split, BackgroundNoise(strength=preset.noise_strength), seed=seed)


def part_aurocs(split: AnomalySplit, scores: np.ndarray) -> dict[str, float]:
    """AUROC of normal test images against the unknown anomalies and against the known anomaly's test images."""
    normal = split.y_test == 0
    known = split.test_classes == split.known_anomaly_class
    unknown = (split.y_test == 1) & ~known
    out = {}
    for part, anomalous in (("unknown", unknown), ("known", known)):
        keep = normal | anomalous
        out[part] = auroc(split.y_test[keep], scores[keep])
    return out


def run_semi_unit(config: SemiConfig, mnist: Any, normal: int, seed: int) -> tuple[list[dict[str, Any]], dict]:
    """Every method of one normal digit and seed, for each ``n_known``: rows and per-image test scores."""
    epochs = config.preset.epochs
    rows: list[dict[str, Any]] = []
    scores: dict[str, np.ndarray] = {}
    ada: AnomalyDetector | None = None
    knn: AnomalyDetector | None = None
    ada_seconds = knn_seconds = 0.0
    for n_known in config.n_known:
        split = noisy_semi_split(config.preset, mnist, normal, n_known, seed)
        fitted: dict[str, tuple[AnomalyDetector, float]] = {}
        if ada is None:  # the normal training images are the same for every n_known
            started = time.perf_counter()
            ada = make_detector("ada", epochs=epochs, seed=seed).fit(split.x_train, split.x_val)
            ada_seconds = time.perf_counter() - started
            started = time.perf_counter()
            knn = make_detector("knn", seed=seed).fit(split.x_train)
            knn_seconds = time.perf_counter() - started
        fitted["ada"] = (ada, ada_seconds)
        known = {"x_known": split.x_known, "x_val_known": split.x_val_known}
        started = time.perf_counter()
        semi = make_detector("ada-semi", epochs=epochs, seed=seed)
        semi.fit(split.x_train, split.x_val, self_supervised=ada, **known)
        semi_seconds = time.perf_counter() - started
        fitted["ada-cam-ano"] = (semi.variant("ada-cam-ano"), semi_seconds)
        fitted["ada-semi"] = (semi, ada_seconds + semi_seconds)
        started = time.perf_counter()
        cnn = make_detector("cnn-regression", epochs=epochs, seed=seed).fit(split.x_train, split.x_val, **known)
        fitted["cnn-regression"] = (cnn, time.perf_counter() - started)
        fitted["knn"] = (knn, knn_seconds)
        scores[f"y_test-n{n_known}"] = split.y_test
        scores[f"test_classes-n{n_known}"] = split.test_classes
        scores.update(score_terms(fitted, split, n_known, seed))
        for method in METHODS:
            detector, seconds = fitted[method]
            values = detector.score_samples(split.x_test)
            scores[f"{method}-n{n_known}"] = values
            row = {"normal": normal, "known_digit": known_anomaly_of(normal), "n_known": n_known, "seed": seed}
            row.update({"method": method, **{f"auroc_{k}": round(v, 5) for k, v in part_aurocs(split, values).items()}})
            row["train_seconds"] = round(seconds, 1)
            if method == "ada-semi":
                row["beta_selected"] = semi.beta_selected_
            rows.append(row)
    return rows, scores


def score_terms(
    fitted: dict[str, tuple[AnomalyDetector, float]], split: AnomalySplit, n_known: int, seed: int
) -> dict[str, np.ndarray]:
    """The two terms of each ADA-family score on each of :data:`PART_SETS`, and the β that turns them into it.

    Keys ``{method}-{set}-residual-n{n_known}`` (attention-weighted
    residual) and ``{method}-{set}-probability-n{n_known}`` (summed
    ``D(x)``); ``{method}-beta_raw-n{n_known}`` is the raw weight of the
    probability in the detector's score (0 for ``ada-cam-ano``), so
    ``residual - beta_raw * probability`` is its score.
    """
    made, _ = make_synthetic_anomalies(split.x_val, seed + VAL_MADE_SEED, PATCH_KINDS)
    images = {"val": split.x_val, "val_known": split.x_val_known, "known": split.x_known, "val_made": made}
    images["test"] = split.x_test
    terms: dict[str, np.ndarray] = {}
    for method in PART_METHODS:
        detector = fitted[method][0]
        for name, batch in images.items():
            parts = detector.explain(batch)
            terms[f"{method}-{name}-residual-n{n_known}"] = parts["weighted_residual"]
            terms[f"{method}-{name}-probability-n{n_known}"] = parts["normal_probability"]
        beta_raw = 0.0 if method == "ada-cam-ano" else detector.beta_effective_
        terms[f"{method}-beta_raw-n{n_known}"] = np.array(beta_raw)
    terms.update(stored_beliefs(fitted["ada-semi"][0], {"train": split.x_train, **images}, n_known))
    return terms


def stored_beliefs(detector: AnomalyDetector, images: dict[str, np.ndarray], n_known: int) -> dict[str, np.ndarray]:
    """What each discriminator believes of each image set: keys ``belief-{network}-{set}-n{n_known}``.

    From ``ada-semi``, whose discriminators are ``D_G`` (shared with
    ``ada``) and ``D_ano``; :func:`adda_keras.diagnostics.belief_aurocs`'
    comparisons are AUROCs of these arrays (``train`` against ``val``: the
    memorisation gap; ``val`` against ``val_known``, ``val_made``, ``test``).
    """
    stored = {}
    for name, batch in images.items():
        for network, values in discriminator_beliefs(detector, batch).items():
            stored[f"belief-{network}-{name}-n{n_known}"] = values
    return stored


def unit_fingerprint(config: SemiConfig, normal: int, seed: int) -> dict[str, Any]:
    """Every setting that determines one unit's numbers."""
    preset = {k: v for k, v in asdict(config.preset).items() if k in ("epochs", "max_test_anomalies_per_class")}
    fingerprint = {
        "protocol": "ten-digits",
        "normal": normal,
        "known": known_anomaly_of(normal),
        "seed": seed,
        "n_known": list(config.n_known),
        "noise_strength": config.preset.noise_strength,
        "preset": preset,
        "detectors": {
            m: make_detector(m, seed=seed, **({} if m == "knn" else {"epochs": config.preset.epochs})).get_params()
            for m in ("ada", "ada-semi", "cnn-regression", "knn")
        },
    }
    return fingerprint_of(fingerprint)


def stored_rows(path: Path, fingerprint: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The rows of the unit stored at ``path`` if it was made with ``fingerprint``'s settings, else None."""
    stored = stored_unit(path, fingerprint)
    return None if stored is None else stored["rows"]


def run_semi_table(config: SemiConfig, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) every unit; write ``runs.csv``, ``table.md`` and ``config.json``; return the rows."""
    from tqdm.auto import tqdm

    folder = config.folder
    check_output_dir(folder / "units")
    mnist = load_mnist(config.preset.source)
    rows: list[dict[str, Any]] = []
    units = [(d, s) for d in config.digits for s in config.preset.seeds]
    for normal, seed in tqdm(units, desc="table3-ten-digits", disable=not progress, unit="unit"):
        path = folder / "units" / f"normal{normal}-seed{seed}.json"
        fingerprint = unit_fingerprint(config, normal, seed)
        stored = stored_rows(path, fingerprint)
        if stored is not None:
            rows += stored
            continue
        if path.exists():
            logger.warning("unit %s was made with other settings; recomputing it", path.stem)
        started = time.perf_counter()
        unit_rows, scores = run_semi_unit(config, mnist, normal, seed)
        save_npz_atomically(path.with_suffix(".npz"), scores)
        record = {"fingerprint": fingerprint, "seconds": round(time.perf_counter() - started, 1), "rows": unit_rows}
        write_unit(path, record)
        rows += unit_rows
    write_semi_outputs(config, rows)
    return rows


def write_finished(config: SemiConfig) -> list[dict[str, Any]]:
    """Write the tables of the finished units only (an interrupted run's), training nothing; return their rows."""
    rows: list[dict[str, Any]] = []
    for normal in config.digits:
        for seed in config.preset.seeds:
            path = config.folder / "units" / f"normal{normal}-seed{seed}.json"
            rows += stored_rows(path, unit_fingerprint(config, normal, seed)) or []
    if not rows:
        raise ValueError(f"no finished unit with these settings in {config.folder / 'units'}")
    write_semi_outputs(config, rows)
    return rows


def read_semi_runs(folder: str | Path) -> list[dict[str, Any]]:
    """The rows of a ten-digit Table 3's ``runs.csv`` with typed values (for notebooks and summaries)."""
    path = Path(folder) / "runs.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: run `python -m adda_keras reproduce --table 3 --protocol ten-digits`"
        )
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row.update({k: int(row[k]) for k in ("normal", "known_digit", "n_known", "seed")})
        row.update({k: float(row[k]) for k in ("auroc_unknown", "auroc_known", "train_seconds")})
    return rows


def ensemble_gain(rows: list[dict[str, Any]], part: str, n_known: int) -> dict[int, float]:
    """Ensemble (``ada-semi``) minus self-supervised ADA on ``part`` anomalies: AUROC per normal digit, seed mean."""
    value = {(r["normal"], r["seed"], r["method"]): r[f"auroc_{part}"] for r in rows if r["n_known"] == n_known}
    gains: dict[int, list[float]] = {}
    for (normal, seed, method), auroc_value in value.items():
        if method == "ada" and (normal, seed, "ada-semi") in value:
            gains.setdefault(normal, []).append(value[normal, seed, "ada-semi"] - auroc_value)
    return {normal: float(np.mean(g)) for normal, g in sorted(gains.items())}


def write_semi_outputs(config: SemiConfig, rows: list[dict[str, Any]]) -> None:
    """``runs.csv``, ``config.json`` and ``table.md`` of ``rows``."""
    folder = config.folder
    write_csv_atomically(folder / "runs.csv", rows)
    machine = machine_info()
    settings = {"command": config.command(), "preset": asdict(config.preset), "machine": machine}
    (folder / "config.json").write_text(json.dumps(settings, indent=2))
    (folder / "table.md").write_text(semi_markdown(config, rows, machine))


def _cell(values: list[float]) -> str:
    if not values:
        return "–"
    return f"{np.mean(values):.3f}" + (f" ± {np.std(values):.3f}" if len(values) > 1 else "")


def semi_markdown(config: SemiConfig, rows: list[dict[str, Any]], machine: dict[str, Any]) -> str:
    """One table per ``n_known`` and part (unknown / known anomalies): methods by normal digit, mean over seeds."""
    digits = [d for d in config.digits if any(r["normal"] == d for r in rows)]
    seeds = sorted({r["seed"] for r in rows})
    lines = [
        f"# Table 3 for every normal digit ({config.preset.name} preset)",
        "",
        "Noisy MNIST (background noise strength "
        f"{config.preset.noise_strength:g}). Normal digit d; the known anomaly is digit (d + 1) mod 10 (a fixed "
        "rule); `n_known` labelled training images of it (and n_known / 5 validation images, on which `ada-semi` "
        "chooses β). Test AUROC of the normal test images against the **unknown** anomalies (the eight other "
        "digits) and against the **known** digit's test images, which never overlap its labelled ones. ADA rows "
        f"share one self-supervised VAEGAN per digit and seed. Seeds {seeds}; mean (± std over seeds).",
        "",
        f"Units in this table: {len({(r['normal'], r['seed']) for r in rows})} of "
        f"{len(config.digits) * len(config.preset.seeds)}.",
    ]
    for n_known in config.n_known:
        for part in PARTS:
            lines += ["", f"## n_known = {n_known}, {part} anomalies", ""]
            lines += [
                "| method | " + " | ".join(f"{d} (known {known_anomaly_of(d)})" for d in digits) + " | mean |",
                "|---|" + "---|" * (len(digits) + 1),
            ]
            for method in METHODS:
                mine = [r for r in rows if r["method"] == method and r["n_known"] == n_known]
                cells = [_cell([r[f"auroc_{part}"] for r in mine if r["normal"] == d]) for d in digits]
                per_seed = [np.mean([r[f"auroc_{part}"] for r in mine if r["seed"] == s]) for s in seeds]
                lines.append(f"| {LABELS[method]} | " + " | ".join(cells) + f" | **{_cell(per_seed)}** |")
            these = [r for r in rows if r["n_known"] == n_known]
            ensemble = {(r["normal"], r["seed"]): r[f"auroc_{part}"] for r in these if r["method"] == "ada-semi"}
            single = {(r["normal"], r["seed"]): r[f"auroc_{part}"] for r in these if r["method"] == "ada"}
            gains = [np.mean([ensemble[d, s] - single[d, s] for s in seeds if (d, s) in ensemble]) for d in digits]
            lines.append("| ensemble − ADA | " + " | ".join(f"{g:+.3f}" for g in gains) + f" | {np.mean(gains):+.3f} |")
    betas = [r.get("beta_selected") for r in rows if r["method"] == "ada-semi"]
    lines += [
        "",
        f"β chosen by `ada-semi` on the validation known anomalies (all units and n_known): "
        f"{', '.join(f'{b:g}' for b in betas)}.",
        "",
        f"Command: `{config.command()}`  ",
        f"Preset: {asdict(config.preset)}  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        "",
    ]
    return "\n".join(lines)
