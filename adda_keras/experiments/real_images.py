"""Real-image benchmarks: digits over real photographs, and texture inspection (``reproduce --benchmark``).

Two benchmarks outside synthetic noise, generated offline from photographs
that ship with scikit-image and scikit-learn (:mod:`adda_keras.data.photos`):

* ``photo-digits`` — the bundled MNIST digits composited over crops of real
  photographs (grayscale or RGB), normal = one digit, anomalies = the other
  nine (:func:`adda_keras.data.one_class_split`). Training digits lie over
  *training* photographs, validation digits over *validation* photographs,
  test digits over *test* photographs, which no training step and no
  choice ever saw. Image AUROC per method, Table 1-style.
* ``textures`` — 64x64 crops of real texture photographs with realistic
  defects drawn with masks (:mod:`adda_keras.data.inspection`): image
  AUROC, pixel AUROC and AUPRO per texture and per defect kind. Training,
  validation and test crops come from disjoint bands of each photograph;
  the texture :data:`~adda_keras.data.inspection.HELD_OUT_TEXTURE` is held
  out of every choice and reported apart.

Each unit (a digit and colour, or a texture, and a seed) trains one
self-supervised VAEGAN, whose scores are AnoVAEGAN (the residual), ADA and
CAM-only, and one ``ada-synthetic`` ``D_ano`` on top of it, besides the
classical pixel detectors. Every unit scores its *validation* images too
(labelled validation anomalies: other digits over validation photographs,
or validation crops with defects of another seed), so that the choice
between methods and settings can be read from validation columns, never
from test ones. It also records the false-positive rate that each
detector's stored threshold (fitted on normal validation images for a
target FPR) gives on normal test images, with the binomial uncertainty of
the validation estimate.

Like ``reproduce --table``, finished units are kept (``units/<name>.json``)
and reused when their settings fingerprint matches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data import held_out_validation, load_mnist, one_class_split
from adda_keras.data.defects import NORMAL, DefectSet
from adda_keras.data.inspection import (
    HELD_OUT_TEXTURE,
    INSPECTION_DEFECTS,
    INSPECTION_TEXTURES,
    add_inspection_defects,
    inspection_crops,
)
from adda_keras.data.photos import PHOTO_SPLITS, digits_on_photos, photo_crops
from adda_keras.detectors import DEFAULT_TARGET_FPR, AnomalyDetector, make_detector
from adda_keras.diagnostics import belief_aurocs
from adda_keras.evaluation import aupro, auroc, pixel_auroc, wilson_interval
from adda_keras.experiments.common import check_output_dir, machine_info
from adda_keras.experiments.units import fingerprint_of, stored_unit, write_csv_atomically, write_unit
from adda_keras.localisation import PatchKNN

logger = logging.getLogger(__name__)

BENCHMARKS = ("photo-digits", "textures")
#: the scores of the one self-supervised VAEGAN of a unit, and the ensemble trained on top of it
VAEGAN_METHODS = ("anovaegan", "ada-cam-only", "ada", "ada-synthetic")
#: ``ada-synthetic``'s D_ano alone: its local evidence against "normal" as the map, ``-logit`` as the score
EVIDENCE = "d-ano-evidence"
#: methods without a threshold of their own (they are parts or peers, not fitted detectors)
UNTHRESHOLDED = (EVIDENCE, "patch-knn")
PHOTO_METHODS = (*VAEGAN_METHODS, EVIDENCE, "pca", "knn")
TEXTURE_METHODS = (*VAEGAN_METHODS, EVIDENCE, "knn", "patch-knn")
LABELS = {
    "anovaegan": "AnoVAEGAN (residual of the same VAEGAN)",
    "ada-cam-only": "ADA, CAM only",
    "ada": "ADA, CAM + D",
    "ada-synthetic": "ADA + D_ano on self-made anomalies",
    EVIDENCE: "D_ano alone (−CAM_ano, −logit)",
    "pca": "PCA on pixels",
    "knn": "kNN on pixels",
    "patch-knn": "patch-kNN on pixels",
}
#: seeds of the images of a unit: its seed plus these
PHOTO_SEEDS = {"train": 100, "validation": 200, "test": 300, "val-anomalies": 400}
TEXTURE_SEEDS = {"train": 0, "validation": 10, "test": 20, "val-defects": 30, "test-defects": 40}


@dataclass(frozen=True)
class RealPreset:
    """How big a real-image run is.

    Attributes:
        name: preset name.
        digits: normal digits of ``photo-digits``.
        seeds: seeds (the tables give means over units).
        epochs: VAEGAN training epochs.
        max_test_anomalies_per_class: test anomalies kept per digit.
        val_anomalies_per_class: labelled validation anomalies per digit.
        textures: textures of ``textures`` (the held-out one included).
        texture_crops: training, validation and test crops per texture.
        texture_epochs: VAEGAN training epochs on textures.
    """

    name: str
    digits: tuple[int, ...]
    seeds: tuple[int, ...]
    epochs: int
    max_test_anomalies_per_class: int
    val_anomalies_per_class: int
    textures: tuple[str, ...]
    texture_crops: tuple[int, int, int]
    texture_epochs: int


PRESETS = {
    # CI-sized: the pipeline end to end in about a minute; the numbers mean nothing.
    "tiny": RealPreset("tiny", (0,), (0,), 1, 5, 3, ("brick",), (48, 24, 28), 1),
    # Ten digits (one colour per command) or five textures, one seed: each command within 30 min on an idle
    # 2-core CPU (two VAEGANs per unit).
    "quick": RealPreset(
        "quick", tuple(range(10)), (0,), 20, 100, 20, (*INSPECTION_TEXTURES, HELD_OUT_TEXTURE), (200, 80, 120), 15
    ),
}


@dataclass(frozen=True)
class RealConfig:
    """One ``reproduce --benchmark`` command."""

    benchmark: str
    preset: RealPreset
    color: str = "grayscale"
    output_dir: str = "results/real_images"
    methods: tuple[str, ...] = field(default=())

    @property
    def folder(self) -> Path:
        """``<output>/<preset>/<benchmark>[-rgb]``."""
        suffix = "-rgb" if self.benchmark == "photo-digits" and self.color == "rgb" else ""
        return Path(self.output_dir) / self.preset.name / f"{self.benchmark}{suffix}"

    @property
    def units(self) -> list[tuple[str, int]]:
        """``(subject, seed)``: a normal digit or a texture."""
        subjects = self.preset.digits if self.benchmark == "photo-digits" else self.preset.textures
        return [(str(subject), seed) for subject in subjects for seed in self.preset.seeds]

    def command(self) -> str:
        """The command that reproduces this run."""
        parts = [f"python -m adda_keras reproduce --benchmark {self.benchmark} --preset {self.preset.name}"]
        if self.benchmark == "photo-digits" and self.color != "grayscale":
            parts.append(f"--color {self.color}")
        if self.output_dir != "results/real_images":
            parts.append(f"--output {self.output_dir}")
        return " ".join(parts)


def make_real_config(
    benchmark: str, preset: str = "quick", color: str = "grayscale", output_dir: str = "results/real_images"
) -> RealConfig:
    """Validate the options; ``ValueError`` names a bad one."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark must be one of {BENCHMARKS}; got {benchmark!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {tuple(PRESETS)}; got {preset!r}")
    if color not in ("grayscale", "rgb"):
        raise ValueError(f"color must be 'grayscale' or 'rgb'; got {color!r}")
    if benchmark == "textures" and color != "grayscale":
        raise ValueError("the texture benchmark is grayscale (its photographs are); drop --color")
    methods = PHOTO_METHODS if benchmark == "photo-digits" else TEXTURE_METHODS
    return RealConfig(benchmark, PRESETS[preset], color, output_dir, methods)


# -- data ---------------------------------------------------------------------------------------------------------
@dataclass
class UnitImages:
    """One unit's images: normal training and validation images, labelled validation and test images.

    ``val`` and ``test`` are :class:`~adda_keras.data.defects.DefectSet`; on
    ``photo-digits`` their masks are empty and their kinds are ``"normal"``
    or ``"digit <d>"``.
    """

    x_train: np.ndarray
    x_val_normal: np.ndarray
    val: DefectSet
    test: DefectSet


def _as_set(images: np.ndarray, labels: np.ndarray, classes: np.ndarray) -> DefectSet:
    kinds = np.array([NORMAL if y == 0 else f"digit {c}" for y, c in zip(labels, classes, strict=True)])
    return DefectSet(images.astype(np.float32), np.zeros(images.shape[:3], bool), kinds)


def photo_digit_images(preset: RealPreset, digit: int, seed: int, color: str, mnist: Any = None) -> UnitImages:
    """The digit-over-photographs images of one unit (backgrounds from the three photograph groups)."""
    mnist = load_mnist("bundled") if mnist is None else mnist
    split = one_class_split(
        mnist.images, mnist.labels, digit, seed=seed, max_test_anomalies_per_class=preset.max_test_anomalies_per_class
    )
    validation = held_out_validation(
        mnist.images,
        mnist.labels,
        digit,
        seed=seed,
        anomalies_per_class=preset.val_anomalies_per_class,
        max_test_anomalies_per_class=preset.max_test_anomalies_per_class,
    )
    size = split.x_train.shape[1]

    def over(images: np.ndarray, group: str, offset: int) -> np.ndarray:
        backgrounds = photo_crops(PHOTO_SPLITS[group], len(images), size, seed + offset, color=color)
        return digits_on_photos(images, backgrounds)

    x_val_normal = over(split.x_val, "validation", PHOTO_SEEDS["validation"])
    x_val_labelled = over(validation.x, "validation", PHOTO_SEEDS["val-anomalies"])
    return UnitImages(
        over(split.x_train, "train", PHOTO_SEEDS["train"]),
        x_val_normal,
        _as_set(x_val_labelled, validation.y, validation.classes),
        _as_set(over(split.x_test, "test", PHOTO_SEEDS["test"]), split.y_test, split.test_classes),
    )


def texture_images(preset: RealPreset, texture: str, seed: int) -> UnitImages:
    """The crops of one texture: training, normal validation, validation and test crops with defects."""
    n_train, n_val, n_test = preset.texture_crops
    x_train = inspection_crops(texture, "train", n_train, seed + TEXTURE_SEEDS["train"])
    x_val_normal = inspection_crops(texture, "validation", n_val, seed + TEXTURE_SEEDS["validation"])
    val_crops = inspection_crops(texture, "validation", n_val, seed + TEXTURE_SEEDS["val-defects"])
    test_crops = inspection_crops(texture, "test", n_test, seed + TEXTURE_SEEDS["test"])
    return UnitImages(
        x_train,
        x_val_normal,
        add_inspection_defects(val_crops, seed + TEXTURE_SEEDS["val-defects"]),
        add_inspection_defects(test_crops, seed + TEXTURE_SEEDS["test-defects"]),
    )


# -- one unit -----------------------------------------------------------------------------------------------------
def fit_unit_detectors(
    images: UnitImages, methods: Sequence[str], epochs: int, seed: int
) -> dict[str, tuple[AnomalyDetector, float]]:
    """Fit every detector that ``methods`` need: ``{method: (detector, fit seconds)}``.

    The VAEGAN scores share one VAEGAN; ``d-ano-evidence`` is a part of ``ada-synthetic``.
    """
    fitted: dict[str, tuple[AnomalyDetector, float]] = {}
    if set(methods) & set(VAEGAN_METHODS):
        started = time.perf_counter()
        ada = make_detector("ada", epochs=epochs, seed=seed).fit(images.x_train, images.x_val_normal)
        seconds = time.perf_counter() - started
        for method in ("anovaegan", "ada-cam-only", "ada"):
            variant = ada if method == "ada" else ada.variant(method)
            if variant.threshold_ is None:
                variant.fit_threshold(images.x_val_normal)
            fitted[method] = (variant, seconds)
        if "ada-synthetic" in methods or EVIDENCE in methods:
            started = time.perf_counter()
            synthetic = make_detector("ada-synthetic", epochs=epochs, seed=seed)
            synthetic.fit(images.x_train, images.x_val_normal, self_supervised=ada)
            fitted["ada-synthetic"] = (synthetic, seconds + time.perf_counter() - started)
    for method in ("pca", "knn"):
        if method in methods:
            started = time.perf_counter()
            detector = make_detector(method, seed=seed).fit(images.x_train, images.x_val_normal)
            fitted[method] = (detector, time.perf_counter() - started)
    return fitted


def false_positive_rates(detector: AnomalyDetector, x_val_normal: np.ndarray, x_test_normal: np.ndarray) -> dict:
    """The stored threshold's FPR on normal validation and test images, and the validation estimate's uncertainty.

    ``val_fpr_interval`` is the 95% Wilson interval of the validation FPR
    (``n_val`` images): a test FPR inside it is what sampling alone allows.
    """
    threshold = detector.threshold_
    val_flags = detector.score_samples(x_val_normal) > threshold
    test_flags = detector.score_samples(x_test_normal) > threshold
    low, high = wilson_interval(int(val_flags.sum()), len(val_flags))
    return {
        "target_fpr": DEFAULT_TARGET_FPR,
        "val_fpr": float(val_flags.mean()),
        "val_fpr_interval": [round(low, 4), round(high, 4)],
        "test_fpr": float(test_flags.mean()),
        "n_val": len(val_flags),
        "n_test_normal": len(test_flags),
    }


def _image_metrics(labels: np.ndarray, scores: np.ndarray, kinds: np.ndarray, per_kind: Sequence[str]) -> dict:
    metrics = {"all": auroc(labels, scores)}
    for kind in per_kind:
        keep = (kinds == NORMAL) | (kinds == kind)
        if (kinds == kind).any():
            metrics[kind] = auroc(labels[keep], scores[keep])
    return metrics


def _map_metrics(defects: DefectSet, maps: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for kind in (*INSPECTION_DEFECTS, "all"):
        keep = (defects.kinds == NORMAL) | (defects.kinds == kind) if kind != "all" else slice(None)
        if kind != "all" and not (defects.kinds == kind).any():
            continue
        out[kind] = {
            "pixel_auroc": pixel_auroc(defects.masks[keep], maps[keep]),
            "aupro": aupro(defects.masks[keep], maps[keep]),
        }
    return out


def run_unit(config: RealConfig, subject: str, seed: int, mnist: Any = None) -> dict[str, Any]:
    """Fit every method of one unit and score its validation and test images; the unit's record."""
    started = time.perf_counter()
    if config.benchmark == "photo-digits":
        images = photo_digit_images(config.preset, int(subject), seed, config.color, mnist)
        epochs = config.preset.epochs
    else:
        images = texture_images(config.preset, subject, seed)
        epochs = config.preset.texture_epochs
    fitted = fit_unit_detectors(images, config.methods, epochs, seed)
    patch_knn = None
    if "patch-knn" in config.methods:
        patch_knn = PatchKNN(seed=seed).fit(images.x_train)
    kinds_of = sorted(set(images.test.kinds.tolist()) - {NORMAL})
    record: dict[str, Any] = {"methods": {}}
    test_normal = images.test.images[images.test.labels == 0]
    for method in config.methods:
        entry: dict[str, Any] = {}
        for part, data in (("val", images.val), ("test", images.test)):
            score_started = time.perf_counter()
            if method == "patch-knn":
                maps = patch_knn.anomaly_map(data.images)
                scores = maps.max(axis=(1, 2))
            elif method == EVIDENCE:
                maps, scores = fitted["ada-synthetic"][0].evidence_maps(data.images)
            else:
                result = fitted[method][0].predict(data.images)
                scores, maps = result.scores, result.maps
            entry[f"{part}_seconds_per_image"] = (time.perf_counter() - score_started) / len(data.images)
            entry[f"{part}_image_auroc"] = _image_metrics(data.labels, scores, data.kinds, kinds_of)
            if config.benchmark == "textures":
                entry[f"{part}_maps"] = _map_metrics(data, _at_size(maps, data.images.shape[1:3]))
        if method not in UNTHRESHOLDED:
            detector, seconds = fitted[method]
            entry["fit_seconds"] = round(seconds, 1)
            entry["fpr"] = false_positive_rates(detector, images.x_val_normal, test_normal)
            if method == "ada-synthetic":
                entry["beta_selected"] = detector.beta_selected_
                entry["beta_validation"] = detector.beta_validation_
            if method in ("ada", "ada-synthetic"):
                # what each discriminator learned (issue 26): training vs validation normals, vs the validation defects
                val_defects = images.val.images[images.val.labels == 1]
                entry["beliefs"] = belief_aurocs(detector, images.x_train, images.x_val_normal, val_defects)
        record["methods"][method] = entry
    record["n_images"] = {
        "train": len(images.x_train),
        "val_normal": len(images.x_val_normal),
        "val": {k: int((images.val.kinds == k).sum()) for k in sorted(set(images.val.kinds.tolist()))},
        "test": {k: int((images.test.kinds == k).sum()) for k in sorted(set(images.test.kinds.tolist()))},
    }
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def _at_size(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Maps resized (bilinear) to the images' size when a method's maps are coarser."""
    if maps.shape[1:3] == tuple(size):
        return maps
    from scipy import ndimage

    zoom = (1, size[0] / maps.shape[1], size[1] / maps.shape[2])
    return ndimage.zoom(maps, zoom, order=1)


# -- the runner ---------------------------------------------------------------------------------------------------
#: the preset fields that determine a unit's numbers, per benchmark
_PRESET_FIELDS = {
    "photo-digits": ("epochs", "max_test_anomalies_per_class", "val_anomalies_per_class"),
    "textures": ("texture_crops", "texture_epochs"),
}


def unit_fingerprint(config: RealConfig, subject: str, seed: int) -> dict[str, Any]:
    """Every setting that determines one unit's numbers, as JSON-able values."""
    epochs = config.preset.epochs if config.benchmark == "photo-digits" else config.preset.texture_epochs
    fingerprint = {
        "benchmark": config.benchmark,
        "color": config.color,
        "subject": subject,
        "seed": seed,
        "preset": {k: v for k, v in asdict(config.preset).items() if k in _PRESET_FIELDS[config.benchmark]},
        "methods": list(config.methods),
        "detector": make_detector("ada-synthetic", epochs=epochs, seed=seed).get_params(),
    }
    return fingerprint_of(fingerprint)


def run_real_images(config: RealConfig, progress: bool = True) -> list[dict[str, Any]]:
    """Run (or resume) every unit, then write ``runs.csv`` and ``table.md``; return the rows of ``runs.csv``."""
    from tqdm.auto import tqdm

    folder = config.folder
    check_output_dir(folder / "units")
    mnist = load_mnist("bundled") if config.benchmark == "photo-digits" else None
    records = {}
    for subject, seed in tqdm(config.units, desc=f"reproduce {config.benchmark}", disable=not progress):
        name = f"{subject}-seed{seed}"
        path = folder / "units" / f"{name}.json"
        fingerprint = unit_fingerprint(config, subject, seed)
        stored = stored_unit(path, fingerprint)
        if stored is not None:
            records[name] = stored
            continue
        if path.exists():
            logger.warning("unit %s was made with other settings; recomputing it", name)
        record = {
            "fingerprint": fingerprint,
            "subject": subject,
            "seed": seed,
            **run_unit(config, subject, seed, mnist),
        }
        write_unit(path, record)
        records[name] = record
    return write_tables(config, records)


def unit_rows(records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per unit, method, split and kind: image AUROC (and pixel metrics on textures)."""
    rows = []
    for record in records.values():
        for method, entry in record["methods"].items():
            for part in ("val", "test"):
                for kind, value in entry[f"{part}_image_auroc"].items():
                    row = {"subject": record["subject"], "seed": record["seed"], "method": method, "split": part}
                    row.update({"kind": kind, "image_auroc": round(value, 5)})
                    maps = entry.get(f"{part}_maps", {}).get(kind)
                    if maps is not None:
                        row.update({k: round(v, 5) for k, v in maps.items()})
                    rows.append(row)
    return rows


def write_tables(config: RealConfig, records: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Write ``runs.csv``, ``config.json`` and ``table.md`` of the finished units ``records``; return the rows.

    ``records`` maps unit names to their stored records (those of a run, or
    every ``units/*.json`` of an interrupted one).
    """
    folder = config.folder
    rows = unit_rows(records)
    fields = ["subject", "seed", "method", "split", "kind", "image_auroc", "pixel_auroc", "aupro"]
    write_csv_atomically(folder / "runs.csv", rows, fields)
    machine = machine_info()
    settings = {"command": config.command(), "preset": asdict(config.preset), "color": config.color, "machine": machine}
    (folder / "config.json").write_text(json.dumps(settings, indent=2))
    (folder / "table.md").write_text(markdown_report(config, records, machine))
    return rows


def _mean(values: Sequence[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def markdown_report(config: RealConfig, records: dict[str, dict[str, Any]], machine: dict[str, Any]) -> str:
    """Tables of validation and test AUROC per subject and method, pixel metrics, thresholds' FPR, settings."""
    methods = [m for m in config.methods if all(m in r["methods"] for r in records.values())]
    subjects = list(dict.fromkeys(r["subject"] for r in records.values()))
    title = "Digits over real photographs" if config.benchmark == "photo-digits" else "Texture inspection"
    held_out = config.benchmark == "textures" and HELD_OUT_TEXTURE in subjects
    lines = [
        f"# {title} ({config.preset.name} preset{', ' + config.color if config.benchmark == 'photo-digits' else ''})",
        "",
        _describe(config),
        "",
        f"Units in this table: {len(records)} of the preset's {len(config.units)}"
        + ("." if len(records) >= len(config.units) else " (the run was stopped early; its command resumes it)."),
        "",
    ]

    def image_table(part: str, kind: str = "all") -> list[str]:
        header = "normal digit" if config.benchmark == "photo-digits" else "texture"
        out = [f"| {header} | " + " | ".join(LABELS[m] for m in methods) + " |", "|---|" + "---|" * len(methods)]
        chosen = [s for s in subjects if not (held_out and s == HELD_OUT_TEXTURE)]
        for subject in subjects:
            cells = []
            for method in methods:
                values = [
                    r["methods"][method][f"{part}_image_auroc"].get(kind)
                    for r in records.values()
                    if r["subject"] == subject
                ]
                cells.append(f"{_mean([v for v in values if v is not None]):.3f}")
            label = f"{subject} (held out)" if held_out and subject == HELD_OUT_TEXTURE else subject
            out.append(f"| {label} | " + " | ".join(cells) + " |")
        means = []
        for method in methods:
            values = [
                r["methods"][method][f"{part}_image_auroc"][kind] for r in records.values() if r["subject"] in chosen
            ]
            means.append(f"**{_mean(values):.3f}**")
        what = "mean of the other textures" if held_out else "mean"
        out.append(f"| {what} | " + " | ".join(means) + " |")
        return out

    lines += ["## Image AUROC, test images (test photographs: never seen in training or in any choice)", ""]
    lines += image_table("test")
    lines += ["", "## Image AUROC, validation images (what choices may be read from)", ""]
    lines += image_table("val")
    if config.benchmark == "textures":
        for metric, label in (("pixel_auroc", "Pixel AUROC"), ("aupro", "AUPRO (FPR ≤ 0.3)")):
            map_methods = [m for m in methods if m not in ("knn", "pca")]
            lines += ["", f"## {label} of the anomaly maps, test images", ""]
            lines += [
                "| texture | " + " | ".join(LABELS[m] for m in map_methods) + " |",
                "|---|" + "---|" * len(map_methods),
            ]
            for subject in subjects:
                cells = []
                for method in map_methods:
                    values = [
                        r["methods"][method]["test_maps"]["all"][metric]
                        for r in records.values()
                        if r["subject"] == subject
                    ]
                    cells.append(f"{_mean(values):.3f}")
                label = f"{subject} (held out)" if subject == HELD_OUT_TEXTURE else subject
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines += ["", "## Per defect kind, test images, mean over the textures that choices may see", ""]
        kinds = [k for k in INSPECTION_DEFECTS]
        lines += ["| method | metric | " + " | ".join(kinds) + " |", "|---|---|" + "---|" * len(kinds)]
        chosen = [r for r in records.values() if r["subject"] != HELD_OUT_TEXTURE]
        for method in methods:
            for metric in ("image_auroc", "pixel_auroc", "aupro"):
                if metric != "image_auroc" and method in ("knn", "pca"):
                    continue
                cells = []
                for kind in kinds:
                    if metric == "image_auroc":
                        values = [r["methods"][method]["test_image_auroc"].get(kind) for r in chosen]
                    else:
                        values = [r["methods"][method]["test_maps"].get(kind, {}).get(metric) for r in chosen]
                    cells.append(f"{_mean([v for v in values if v is not None]):.3f}")
                lines.append(f"| {LABELS[method]} | {metric.replace('_', ' ')} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"## Thresholds on new images (target FPR {DEFAULT_TARGET_FPR:.0%}, fitted on normal validation images)",
        "",
        "FPR of each detector's stored threshold on the normal validation images it was fitted on (with the 95% "
        "Wilson interval of that estimate) and on the normal test images; mean over units.",
        "",
        "| method | validation FPR | its 95% interval | test FPR | test FPR range over units |",
        "|---|---|---|---|---|",
    ]
    for method in methods:
        if method in UNTHRESHOLDED:
            continue
        fprs = [r["methods"][method]["fpr"] for r in records.values()]
        low = _mean([f["val_fpr_interval"][0] for f in fprs])
        high = _mean([f["val_fpr_interval"][1] for f in fprs])
        tests = [f["test_fpr"] for f in fprs]
        lines.append(
            f"| {LABELS[method]} | {_mean([f['val_fpr'] for f in fprs]):.3f} | {low:.3f}–{high:.3f} | "
            f"{_mean(tests):.3f} | {min(tests):.3f}–{max(tests):.3f} |"
        )
    synthetic = [r["methods"]["ada-synthetic"] for r in records.values() if "ada-synthetic" in r["methods"]]
    if synthetic:
        betas = ", ".join(
            f"{r['subject']}: {r['methods']['ada-synthetic']['beta_selected']:g}" for r in records.values()
        )
        lines += ["", f"β of `ada-synthetic`, chosen on self-made anomalies of the validation images: {betas}."]
    first = next(iter(records.values()))
    unit_seconds = sum(r["seconds"] for r in records.values())
    lines += [
        "",
        f"Images per unit (first unit): {json.dumps(first['n_images'])}.  ",
        f"Command: `{config.command()}`  ",
        f"Preset: {asdict(config.preset)}  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}; {unit_seconds:.0f} s of unit time in all "
        f"({unit_seconds / 60:.1f} min).",
        "",
    ]
    return "\n".join(lines)


def _describe(config: RealConfig) -> str:
    if config.benchmark == "photo-digits":
        return (
            "Bundled MNIST digits composited (white strokes) over crops of real photographs dimmed to 60%: training "
            f"digits over {', '.join(PHOTO_SPLITS['train'])}; validation digits over "
            f"{', '.join(PHOTO_SPLITS['validation'])}; test digits over {', '.join(PHOTO_SPLITS['test'])}, "
            "photographs that no training step and no choice saw. Normal = the row's digit, anomalies = the nine "
            "others. Validation AUROC uses labelled validation anomalies (other digits outside the test split, over "
            "validation photographs)."
        )
    return (
        "64x64 crops of real texture photographs (shrunk by 2) with realistic defects drawn with masks "
        f"({', '.join(INSPECTION_DEFECTS)}; `adda_keras.data.inspection`). Training, validation and test crops "
        f"come from disjoint bands of each photograph. The texture `{HELD_OUT_TEXTURE}` is held out of every choice. "
        "Image scores: each detector's own score; patch-kNN scores an image by its map's maximum."
    )
