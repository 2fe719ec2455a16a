"""The localisation benchmark: do the anomaly maps point at the defect? (``python -m adda_keras localise``)

The paper's attention is a map, but the paper scores whole images only.
This module asks whether the maps point at the defect, on test images with
generated defects and known masks (:mod:`adda_keras.data.defects`), with
the pixel AUROC and the AUPRO of :mod:`adda_keras.evaluation`. The maps
compared (:data:`MAP_METHODS`):

* ``ada`` — ADA's map as in the paper: the attention-weighted squared
  residual ``c² (x - x̂)² / mean(c²)`` with no attention floor
  (``detector.variant(attention_floor=0).anomaly_map``);
* ``ada-floor`` — the same with ``attention_floor`` added to ``c``
  everywhere, the floor chosen on validation data (the library's default
  floor, 0.5, is one of the candidates);
* ``residual`` — the plain squared residual ``(x - x̂)²`` of the same
  VAEGAN (AnoVAEGAN's map);
* ``attention`` — the attention ``c = CAM(x) + CAM(x̂)`` alone;
* ``grad-cam`` — Grad-CAM of the discriminator's evidence *against* "real
  normal" (the negated logit) on its last feature maps: where the
  discriminator sees something wrong. (Grad-CAM of the logit itself equals
  the CAM up to scale on this architecture, so it would repeat
  ``attention``.)
* ``patch-knn`` — the classical peer: each pixel's patch against the
  nearest patches of the normal training images
  (:class:`~adda_keras.localisation.PatchKNN`).

Each map is also scored smoothed by a small Gaussian, as anomalib does.
Every setting (the floor, each method's smoothing ``sigma``, the
neighbourhood of patch-kNN) is chosen on *validation* defects: validation
normals given defects with another seed; test images are never used to
choose anything.

:func:`run_localisation` (``python -m adda_keras localise``) runs a
benchmark and writes its tables and figures; like ``reproduce``, it keeps
one file per finished unit and reuses it on a rerun with the same settings.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, one_class_split
from adda_keras.data.defects import (
    DIGIT_DEFECTS,
    TEXTURE_DEFECTS,
    DefectSet,
    add_digit_defects,
    add_texture_defects,
    texture_crops,
)
from adda_keras.detectors import make_detector
from adda_keras.evaluation import aupro
from adda_keras.experiments.common import check_output_dir, machine_info
from adda_keras.experiments.units import fingerprint_of, stored_unit, write_unit
from adda_keras.localisation import PatchKNN, evaluate_maps, smooth_maps, vaegan_maps

logger = logging.getLogger(__name__)

MAP_METHODS = ("ada", "ada-floor", "residual", "attention", "grad-cam", "patch-knn")
#: display names in the tables
LABELS = {
    "ada": "ADA map (c-weighted residual, no floor)",
    "ada-floor": "ADA map + attention floor",
    "residual": "plain residual (AnoVAEGAN)",
    "attention": "attention c alone",
    "grad-cam": "Grad-CAM (not-normal evidence)",
    "patch-knn": "patch-kNN on pixels",
}
#: methods whose image score is their detector's own (ADA's score with β·D; the mean residual);
#: the others score an image by its map's maximum, as anomalib does
OWN_IMAGE_SCORE = ("ada", "ada-floor", "residual")
BENCHMARKS = ("digits", "textures")
#: candidates chosen on validation defects
SIGMA_GRID = (0.5, 1.0, 2.0)
FLOOR_GRID = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
RADIUS_GRID = (2, None)
#: seeds of the validation and test defects are the unit's seed plus these
VAL_DEFECT_SEED, TEST_DEFECT_SEED = 2000, 1000
TEXTURE, FOREIGN_TEXTURE = "brick", "gravel"
#: bands of the texture photo (fractions of its height) for training, validation and test crops
TEXTURE_BANDS = {"train": (0.0, 0.6), "val": (0.6, 0.75), "test": (0.75, 1.0)}


# -- the benchmark runner -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LocalisePreset:
    """How big a localisation run is.

    Attributes:
        name: preset name.
        digits: normal digits of the digit benchmark (one VAEGAN each, per noise condition).
        seeds: seeds; the tables give means over units.
        epochs: VAEGAN training epochs.
        max_train: most normal training images (``None``: all of the split).
        max_eval: most normal validation / test images that get defects (``None``: all).
        texture_crops: training, validation and test crops of the texture benchmark.
    """

    name: str
    digits: tuple[int, ...]
    seeds: tuple[int, ...]
    epochs: int
    max_train: int | None
    max_eval: int | None
    texture_crops: tuple[int, int, int]


PRESETS = {
    # CI-sized: the pipeline end to end in about a minute; the numbers mean nothing.
    "tiny": LocalisePreset("tiny", (0,), (0,), 1, 64, 30, (64, 30, 30)),
    # Three normal digits, one seed, 20 epochs: about 20 minutes per benchmark on 2 CPU cores.
    "quick": LocalisePreset("quick", (0, 2, 6), (0,), 20, None, None, (500, 100, 160)),
}


@dataclass(frozen=True)
class LocaliseConfig:
    """One ``localise`` command: a benchmark, a preset and the output folder."""

    benchmark: str
    preset: LocalisePreset
    output_dir: str = "results/localisation"

    @property
    def folder(self) -> Path:
        """Where this benchmark's files go: ``<output>/<preset>/<benchmark>``."""
        return Path(self.output_dir) / self.preset.name / self.benchmark

    @property
    def kinds(self) -> tuple[str, ...]:
        """The defect kinds of the benchmark."""
        return DIGIT_DEFECTS if self.benchmark == "digits" else TEXTURE_DEFECTS

    @property
    def units(self) -> list[tuple[str, str, int]]:
        """``(subject, condition, seed)``: a normal digit with noise off / on, or the texture."""
        if self.benchmark == "digits":
            subjects = [(str(d), condition) for d in self.preset.digits for condition in ("clean", "noisy")]
        else:
            subjects = [(TEXTURE, "clean")]
        return [(subject, condition, seed) for subject, condition in subjects for seed in self.preset.seeds]

    def command(self) -> str:
        """The command that reproduces this run."""
        command = f"python -m adda_keras localise --benchmark {self.benchmark} --preset {self.preset.name}"
        return command if self.output_dir == "results/localisation" else f"{command} --output {self.output_dir}"


def make_localise_config(
    benchmark: str, preset: str = "quick", output_dir: str = "results/localisation"
) -> LocaliseConfig:
    """Validate the options; ``ValueError`` names a bad one."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}; got {benchmark!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}; got {preset!r}")
    return LocaliseConfig(benchmark, PRESETS[preset], output_dir)


@dataclass
class _UnitData:
    """One unit's images: normal training and validation images, validation and test defects."""

    x_train: np.ndarray
    x_val_normal: np.ndarray
    val: DefectSet
    test: DefectSet


def _digit_data(preset: LocalisePreset, digit: int, noisy: bool, seed: int, mnist: Any) -> _UnitData:
    clean = one_class_split(mnist.images, mnist.labels, digit, seed=seed, max_test_anomalies_per_class=100)
    split = apply_noise(clean, BackgroundNoise(strength=1.0 if noisy else 0.0), seed=seed)
    # foreign digits for "background" defects: the split's anomalies, half for validation, half for test
    foreign = clean.x_test[clean.y_test == 1]
    normal = clean.y_test == 0
    cap = slice(None, preset.max_eval)
    val = add_digit_defects(split.x_val[cap], foreign[0::2], seed + VAL_DEFECT_SEED, clean_images=clean.x_val[cap])
    test = add_digit_defects(
        split.x_test[normal][cap], foreign[1::2], seed + TEST_DEFECT_SEED, clean_images=clean.x_test[normal][cap]
    )
    return _UnitData(split.x_train[: preset.max_train], split.x_val, val, test)


def _texture_data(preset: LocalisePreset, seed: int) -> _UnitData:
    n_train, n_val, n_test = preset.texture_crops
    crops = {
        part: texture_crops(TEXTURE, n, seed=seed + offset, band=TEXTURE_BANDS[part])
        for part, n, offset in (("train", n_train, 0), ("val", n_val, 1), ("test", n_test, 2))
    }
    foreign = texture_crops(FOREIGN_TEXTURE, 64, seed=seed)
    return _UnitData(
        crops["train"],
        crops["val"],
        add_texture_defects(crops["val"], foreign[0::2], seed + VAL_DEFECT_SEED),
        add_texture_defects(crops["test"], foreign[1::2], seed + TEST_DEFECT_SEED),
    )


def unit_fingerprint(config: LocaliseConfig, subject: str, condition: str, seed: int) -> dict[str, Any]:
    """Every setting that determines one unit's numbers, as JSON-able values."""
    fingerprint = {
        "benchmark": config.benchmark,
        "subject": subject,
        "condition": condition,
        "seed": seed,
        "preset": {k: v for k, v in asdict(config.preset).items() if k not in ("name", "digits", "seeds")},
        "detector": make_detector("ada", epochs=config.preset.epochs, seed=seed).get_params(),
        "maps": {"methods": MAP_METHODS, "ada_floor": 0.0, "own_image_score": OWN_IMAGE_SCORE},
        "grids": {"sigma": SIGMA_GRID, "floor": FLOOR_GRID, "radius": RADIUS_GRID},
    }
    return fingerprint_of(fingerprint)


def _choose(candidates: dict[Any, float]) -> Any:
    """The candidate of highest validation value (the first of equals)."""
    return max(candidates, key=lambda key: candidates[key])


def run_unit(
    config: LocaliseConfig, subject: str, condition: str, seed: int, mnist: Any = None, figure: Path | None = None
) -> dict[str, Any]:
    """Train one VAEGAN and one patch-kNN, choose settings on validation defects, score test defects.

    Returns the unit's record: ``rows`` (method, smoothing, kind, metrics),
    ``selection`` (every validation AUPRO behind every choice), timings.
    With ``figure``, also saves a figure of test maps beside the masks there.
    """
    started = time.perf_counter()
    if config.benchmark == "digits":
        data = _digit_data(config.preset, int(subject), condition == "noisy", seed, mnist)
    else:
        data = _texture_data(config.preset, seed)
    detector = make_detector("ada", epochs=config.preset.epochs, seed=seed)
    detector.fit(data.x_train, x_val=data.x_val_normal)
    train_seconds = time.perf_counter() - started

    # -- choose every setting on validation defects (AUPRO over all kinds) --
    val_maps = vaegan_maps(detector, data.val.images, FLOOR_GRID, x_reference=data.x_val_normal)
    knn = {radius: PatchKNN(radius=radius, seed=seed).fit(data.x_train) for radius in RADIUS_GRID}
    for radius, model in knn.items():
        val_maps[f"patch-knn={radius}"] = (model.anomaly_map(data.val.images), None)
    selection: dict[str, dict[str, float]] = {}

    def val_aupro(name: str, sigma: float = 0.0) -> float:
        return aupro(data.val.masks, smooth_maps(val_maps[name][0], sigma))

    selection["floor"] = {f"{f:g}": val_aupro(f"ada-floor={f:g}") for f in FLOOR_GRID}
    floor = float(_choose(selection["floor"]))
    selection["radius"] = {str(r): val_aupro(f"patch-knn={r}") for r in RADIUS_GRID}
    radius = {str(r): r for r in RADIUS_GRID}[_choose(selection["radius"])]
    chosen_names = {
        "ada": "ada",
        "ada-floor": f"ada-floor={floor:g}",
        "residual": "residual",
        "attention": "attention",
        "grad-cam": "grad-cam",
        "patch-knn": f"patch-knn={radius}",
    }
    sigmas = {}
    for method, name in chosen_names.items():
        selection[f"sigma {method}"] = {f"{s:g}": val_aupro(name, s) for s in SIGMA_GRID}
        sigmas[method] = float(_choose(selection[f"sigma {method}"]))

    # -- score the test defects with the chosen settings --
    test_maps = vaegan_maps(detector, data.test.images, [floor], x_reference=data.x_val_normal)
    test_maps["patch-knn"] = (knn[radius].anomaly_map(data.test.images), None)
    test_maps["ada-floor"] = test_maps.pop(f"ada-floor={floor:g}")
    rows = []
    smoothed_maps = {}
    for method in MAP_METHODS:
        maps, scores = test_maps[method]
        for sigma in (0.0, sigmas[method]):
            smoothed = smooth_maps(maps, sigma)
            smoothed_maps[method, sigma] = smoothed
            image_scores = scores if method in OWN_IMAGE_SCORE else None
            for kind, metrics in evaluate_maps(data.test, smoothed, image_scores, config.kinds).items():
                rows.append(
                    {"method": method, "sigma": sigma, "kind": kind, **{k: round(v, 5) for k, v in metrics.items()}}
                )
    if figure is not None:
        _plot_maps(data.test, {m: smoothed_maps[m, sigmas[m]] for m in MAP_METHODS}, config.kinds, figure, seed)
    return {
        "rows": rows,
        "selection": selection,
        "chosen": {"attention_floor": floor, "patch_knn_radius": radius, "sigma": sigmas},
        "n_train": len(data.x_train),
        "n_val": {kind: int((data.val.kinds == kind).sum()) for kind in ("normal", *config.kinds)},
        "n_test": {kind: int((data.test.kinds == kind).sum()) for kind in ("normal", *config.kinds)},
        "train_seconds": round(train_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _plot_maps(defects: DefectSet, maps: dict[str, np.ndarray], kinds: Sequence[str], path: Path, seed: int) -> None:
    """One test image per defect kind: the image, its mask and every method's (smoothed) map."""
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(seed)
    picks = [int(rng.choice(np.flatnonzero(defects.kinds == kind))) for kind in kinds]
    columns = ["image", "mask", *(LABELS[m] for m in maps)]
    fig, axes = plt.subplots(len(picks), len(columns), figsize=(1.35 * len(columns), 1.45 * len(picks)), squeeze=False)
    for row, index in enumerate(picks):
        panels = [(defects.images[index, ..., 0], "gray"), (defects.masks[index], "gray")]
        panels += [(m[index], "magma") for m in maps.values()]
        for col, (picture, cmap) in enumerate(panels):
            ax = axes[row, col]
            ax.imshow(picture, cmap=cmap, vmin=0 if col < 2 else None, vmax=1 if col < 2 else None)
            if col > 1:
                ax.contour(defects.masks[index], levels=[0.5], colors="cyan", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=6)
        axes[row, 0].set_ylabel(defects.kinds[index], fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _unit_name(subject: str, condition: str, seed: int) -> str:
    return f"{subject}-{condition}-seed{seed}"


def run_localisation(config: LocaliseConfig, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) every unit of the benchmark, then write ``runs.csv``, ``selection.csv``, ``table.md``.

    A finished unit (``units/<name>.json``) is reused when its stored
    fingerprint (:func:`unit_fingerprint`) matches this run's; otherwise it
    is recomputed. Each unit also saves ``maps_<name>.png``.
    """
    from tqdm.auto import tqdm

    folder = config.folder
    check_output_dir(folder / "units")
    mnist = load_mnist("bundled") if config.benchmark == "digits" else None
    started = time.perf_counter()
    records = {}
    for subject, condition, seed in tqdm(config.units, desc=f"localise {config.benchmark}", disable=not progress):
        name = _unit_name(subject, condition, seed)
        path = folder / "units" / f"{name}.json"
        fingerprint = unit_fingerprint(config, subject, condition, seed)
        stored = stored_unit(path, fingerprint)
        if stored is not None:
            records[name] = stored
            continue
        if path.exists():
            logger.warning("unit %s was made with other settings; recomputing it", name)
        record = run_unit(config, subject, condition, seed, mnist, figure=folder / f"maps_{name}.png")
        record = {"fingerprint": fingerprint, "subject": subject, "condition": condition, "seed": seed, **record}
        write_unit(path, record)
        records[name] = record
    rows = [
        {"subject": r["subject"], "condition": r["condition"], "seed": r["seed"], **row}
        for r in records.values()
        for row in r["rows"]
    ]
    _write_outputs(config, rows, records, time.perf_counter() - started)
    return rows


def _write_outputs(
    config: LocaliseConfig, rows: list[dict[str, Any]], records: dict[str, dict[str, Any]], seconds: float
) -> None:
    folder = config.folder
    with open(folder / "runs.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with open(folder / "selection.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit", "setting", "candidate", "validation_aupro"])
        for name, record in records.items():
            for setting, candidates in record["selection"].items():
                for candidate, value in candidates.items():
                    writer.writerow([name, setting, candidate, round(value, 5)])
    machine = machine_info()
    settings = {
        "command": config.command(),
        "benchmark": config.benchmark,
        "preset": asdict(config.preset),
        "grids": {"sigma": SIGMA_GRID, "floor": FLOOR_GRID, "radius": RADIUS_GRID},
        "seconds_this_invocation": round(seconds, 1),
        "machine": machine,
    }
    (folder / "config.json").write_text(json.dumps(settings, indent=2))
    (folder / "table.md").write_text(markdown_report(config, rows, records, machine))


def summarise(rows: list[dict[str, Any]], condition: str, smoothed: bool) -> dict[tuple[str, str], dict[str, float]]:
    """Mean metrics over units of one condition: ``{(method, kind): {metric: mean}}``.

    ``smoothed`` picks each unit's validation-chosen smoothing; otherwise the raw maps (sigma 0).
    """
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        if row["condition"] != condition or (float(row["sigma"]) > 0) != smoothed:
            continue
        grouped.setdefault((row["method"], row["kind"]), []).append(row)
    return {
        key: {metric: float(np.mean([r[metric] for r in group])) for metric in ("image_auroc", "pixel_auroc", "aupro")}
        for key, group in grouped.items()
    }


def targets(config: LocaliseConfig, rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets that this benchmark can answer, each as met / not met with its numbers."""
    lines = []
    conditions = ("noisy", "clean") if config.benchmark == "digits" else ("clean",)
    for condition in conditions:
        where = (
            f"{config.benchmark}, {'with' if condition == 'noisy' else 'without'} noise"
            if config.benchmark == "digits"
            else config.benchmark
        )
        for smoothed in (False, True):
            table = summarise(rows, condition, smoothed)
            maps = "smoothed maps" if smoothed else "raw maps"
            ada, residual = table["ada", "all"]["aupro"], table["residual", "all"]["aupro"]
            if config.benchmark == "digits" and condition == "noisy":
                verdict = "met" if ada >= residual + 0.05 else "not met"
                lines.append(
                    f"- ADA AUPRO ≥ residual AUPRO + 0.05 ({where}, {maps}): **{verdict}**, {ada:.3f} vs {residual:.3f}"
                )
            ada_px, knn_px = table["ada", "all"]["pixel_auroc"], table["patch-knn", "all"]["pixel_auroc"]
            verdict = "met" if ada_px >= knn_px else "not met"
            lines.append(
                f"- ADA pixel AUROC ≥ patch-kNN ({where}, {maps}): **{verdict}**, {ada_px:.3f} vs {knn_px:.3f}"
            )
            if "background" in config.kinds:
                bg = {m: table[m, "background"]["aupro"] for m in ("ada", "ada-floor", "residual")}
                gap = bg["residual"] - bg["ada"]  # > 0: the attention masks the background defect out
                if gap > 0:
                    recovered = (bg["ada-floor"] - bg["ada"]) / gap
                    verdict = f"**{'met' if recovered > 0 else 'not met'}** ({recovered:.0%} of the gap)"
                else:
                    verdict = "**not met**: there is no gap to recover here"
                lines.append(
                    f"- background defects ({where}, {maps}): AUPRO of ADA {bg['ada']:.3f} against the residual's "
                    f"{bg['residual']:.3f} (the limitation, residual − ADA: {gap:+.3f}); ADA + floor "
                    f"{bg['ada-floor']:.3f}; the floor recovers part of the gap: {verdict}"
                )
    return lines


def markdown_report(
    config: LocaliseConfig, rows: list[dict[str, Any]], records: dict[str, dict[str, Any]], machine: dict[str, Any]
) -> str:
    """The tables (per condition: AUPRO, pixel AUROC, image AUROC per method and defect kind), choices and targets."""
    kinds = (*config.kinds, "all")
    subjects = sorted({r["subject"] for r in records.values()})
    lines = [
        f"# Localisation: {config.benchmark} ({config.preset.name} preset)",
        "",
        f"Anomaly maps against ground-truth defect masks; mean over units ({', '.join(subjects)}; "
        f"seeds {list(config.preset.seeds)}). Every setting (attention floor, patch-kNN neighbourhood, each map's "
        "smoothing σ) was chosen per unit by AUPRO on *validation* defects: validation normals given defects with "
        f"another seed (seed + {VAL_DEFECT_SEED}; test defects use seed + {TEST_DEFECT_SEED}); the test images "
        "chose nothing (`selection.csv` lists every candidate's validation AUPRO). Image scores: ADA's own score "
        "(with β·D) for the ADA maps, the mean residual for the residual, the map's maximum for the others.",
        "",
        "## Targets",
        "",
        *targets(config, rows),
    ]
    conditions = ("noisy", "clean") if config.benchmark == "digits" else ("clean",)
    for condition in conditions:
        heading = "with background noise" if condition == "noisy" else "without noise"
        for smoothed in (False, True):
            table = summarise(rows, condition, smoothed)
            what = "smoothed (σ chosen on validation)" if smoothed else "raw maps"
            title = f"{heading}, {what}" if config.benchmark == "digits" else what
            for metric, label in (
                ("aupro", "AUPRO (FPR ≤ 0.3)"),
                ("pixel_auroc", "pixel AUROC"),
                ("image_auroc", "image AUROC"),
            ):
                lines += [
                    "",
                    f"### {label}: {title}",
                    "",
                    f"| method | {' | '.join(kinds)} |",
                    "|---|" + "---|" * len(kinds),
                ]
                for method in MAP_METHODS:
                    cells = [f"{table[method, kind][metric]:.3f}" for kind in kinds]
                    lines.append(f"| {LABELS[method]} | {' | '.join(cells)} |")
    lines += [
        "",
        "## Choices on validation data",
        "",
        "| unit | attention floor | patch-kNN radius | σ per map |",
        "|---|---|---|---|",
    ]
    for name, record in records.items():
        chosen = record["chosen"]
        sigmas = ", ".join(f"{m} {s:g}" for m, s in chosen["sigma"].items())
        lines.append(f"| {name} | {chosen['attention_floor']:g} | {chosen['patch_knn_radius']} | {sigmas} |")
    figures = [f"![maps, {name}](maps_{name}.png)" for name in records]
    first_name, first = next(iter(records.items()))
    lines += [
        "",
        "## Maps beside masks",
        "",
        "One test image per defect kind (rows); the mask's outline in cyan over every map (smoothed as chosen).",
        "",
        *figures,
        "",
        f"Images of unit {first_name} (the others alike, within the sizes of their splits): {first['n_train']} "
        f"training; validation {first['n_val']}; test {first['n_test']}.  ",
        f"Command: `{config.command()}`  ",
        f"Preset: {asdict(config.preset)}  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}; "
        f"{sum(r['seconds'] for r in records.values()):.0f} s of unit time in all.",
        "",
    ]
    return "\n".join(lines)
