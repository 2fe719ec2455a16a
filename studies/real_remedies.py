"""Remedies for ADA on real images, compared on validation images only; writes results/real_images/remedies/.

    python -m studies.real_remedies                 # the default units (digits 2, 5; brick, grass)
    python -m studies.real_remedies --units photo-digits:2 textures:brick
    python -m studies.real_remedies --units photo-digits:5 --variants synthetic-all synthetic-patches
    python -m studies.real_remedies --table-only    # rewrite table.md from the stored units

Resumable: each unit's variants are stored as they finish (``units/*.json``) and skipped on the next run.

The real-image benchmarks (:mod:`adda_keras.experiments.real_images`) show
ADA near its own residual on digits over photographs and far from the
published numbers on textures. This module compares candidate remedies on
the *validation* images of a few units of those benchmarks (the same
images, seeds and settings as the benchmark's validation columns), so that
what is recommended is read from images that no test column uses:

* **trained variants** of the self-supervised VAEGAN: longer training
  (twice the epochs), more capacity (a 32-dimensional latent code instead
  of 16) and differentiable augmentation of the discriminator's inputs;
* **self-made anomaly kinds** for ``ada-synthetic``'s ``D_ano``: all five
  kinds, the patch-like ones only (cutpaste, scar, blend) and the smooth
  deformations only (blur, warp), each on top of the baseline's ``D_G``;
* **scores of the baseline's networks** (no training): ADA's own score, the
  maximum of its attention-weighted residual map smoothed at several
  scales (a local, multi-scale image score instead of the image mean), the
  residual in the discriminator's feature space (``|f(x) - f(x̂)|²`` of its
  last feature map, mean and smoothed maximum), and the patch-level kNN.

No function here reads a unit's test images: :func:`validation_images`
keeps the training and validation parts of a unit and drops the rest, and
every record holds validation numbers only.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from adda_keras.data.defects import NORMAL, DefectSet
from adda_keras.data.synthetic import SYNTHETIC_KINDS
from adda_keras.detectors import make_detector
from adda_keras.detectors.ada import VAEGANDetector
from adda_keras.evaluation import auroc, pixel_auroc
from adda_keras.experiments.common import check_output_dir, machine_info
from adda_keras.experiments.real_images import PRESETS, photo_digit_images, texture_images
from adda_keras.experiments.units import write_unit
from adda_keras.localisation import PatchKNN, smooth_maps

logger = logging.getLogger(__name__)

#: changes to the baseline ``ada`` detector's settings (``epochs_factor`` multiplies the preset's epochs)
TRAINED_VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "epochs-x2": {"epochs_factor": 2},
    "latent-32": {"latent_dim": 32},
    "diff-augment": {"diff_augment": True},
}
#: ``ada-synthetic`` variants: the self-made anomaly kinds its ``D_ano`` learns to reject
SYNTHETIC_VARIANTS: dict[str, tuple[str, ...]] = {
    "synthetic-all": SYNTHETIC_KINDS,
    "synthetic-patches": ("cutpaste", "scar", "blend"),
    "synthetic-smooth": ("blur", "warp"),
}
#: Gaussian widths (pixels) of the smoothed-maximum image scores
SMOOTHING_SIGMAS = (1.0, 2.0, 4.0)
#: the units compared by default: two normal digits over photographs and two textures that choices may see
DEFAULT_UNITS = (("photo-digits", "2"), ("textures", "brick"), ("photo-digits", "5"), ("textures", "grass"))


@dataclass
class ValidationImages:
    """The parts of a benchmark unit that choices may use: normal training and validation images, labelled ones."""

    x_train: np.ndarray
    x_val_normal: np.ndarray
    val: DefectSet


def validation_images(benchmark: str, subject: str, seed: int = 0, preset: str = "quick") -> ValidationImages:
    """A unit's training and validation images, exactly as the benchmark makes them; its test images are dropped."""
    if benchmark == "photo-digits":
        unit = photo_digit_images(PRESETS[preset], int(subject), seed, "grayscale")
    elif benchmark == "textures":
        unit = texture_images(PRESETS[preset], subject, seed)
    else:
        raise ValueError(f"benchmark must be 'photo-digits' or 'textures'; got {benchmark!r}")
    return ValidationImages(unit.x_train, unit.x_val_normal, unit.val)


def feature_residual_maps(detector: VAEGANDetector, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``mean over channels of (f(x) - f(x̂))²`` of the discriminator's last feature map, resized to the images."""
    model = detector.model_
    maps = []
    for start in range(0, len(images), batch_size):
        batch = tf.constant(images[start : start + batch_size])
        reconstruction = model(batch, training=False)
        _, features = model.discriminator(batch, training=False)
        _, features_rec = model.discriminator(reconstruction, training=False)
        raw = tf.reduce_mean(tf.square(features - features_rec), axis=-1)
        maps.append(tf.image.resize(raw[..., None], batch.shape[1:3], method="bilinear")[..., 0].numpy())
    return np.concatenate(maps)


def _smoothed_max(maps: np.ndarray, sigma: float) -> np.ndarray:
    return smooth_maps(maps, sigma).max(axis=(1, 2))


def score_variants(
    detector: VAEGANDetector, images: np.ndarray, patch_knn: PatchKNN | None
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Image scores and maps of the baseline's networks: ``{name: (scores, maps or None)}``."""
    ada = detector.predict(images)
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {"ada": (ada.scores, ada.maps)}
    for sigma in SMOOTHING_SIGMAS:
        out[f"ada-map-max-s{sigma:g}"] = (_smoothed_max(ada.maps, sigma), ada.maps)
    features = feature_residual_maps(detector, images)
    out["feature-residual"] = (features.mean(axis=(1, 2)), features)
    for sigma in SMOOTHING_SIGMAS:
        out[f"feature-residual-max-s{sigma:g}"] = (_smoothed_max(features, sigma), features)
    if patch_knn is not None:
        maps = patch_knn.anomaly_map(images)
        out["patch-knn"] = (maps.max(axis=(1, 2)), maps)
    return out


def _metrics(val: DefectSet, scores: np.ndarray, maps: np.ndarray | None, textures: bool) -> dict[str, float]:
    """Validation image AUROC (all kinds, then each kind) and, on textures, the maps' pixel AUROC."""
    out = {"image_auroc": auroc(val.labels, scores)}
    for kind in sorted(set(val.kinds.tolist()) - {NORMAL}):
        keep = (val.kinds == NORMAL) | (val.kinds == kind)
        out[f"image_auroc[{kind}]"] = auroc(val.labels[keep], scores[keep])
    if textures and maps is not None:
        if maps.shape[1:3] != val.masks.shape[1:3]:
            maps = tf.image.resize(maps[..., None], val.masks.shape[1:3], method="bilinear")[..., 0].numpy()
        out["pixel_auroc"] = pixel_auroc(val.masks, maps)
    return out


def _epochs(benchmark: str, preset: str) -> int:
    settings = PRESETS[preset]
    return settings.epochs if benchmark == "photo-digits" else settings.texture_epochs


def remedy_records(
    benchmark: str, subject: str, seed: int = 0, preset: str = "quick", done: Callable[[str], bool] = lambda _: False
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Train and score every remedy of one unit on its validation images; yield ``(variant, record)`` as each ends.

    ``done(variant)`` says that a variant's record exists already, or is
    not wanted (it is skipped; the baseline is still trained when a variant
    needs it).
    """
    images = validation_images(benchmark, subject, seed, preset)
    textures = benchmark == "textures"
    epochs = _epochs(benchmark, preset)
    baseline: VAEGANDetector | None = None
    needs_baseline = any(not done(v) for v in ("baseline", "scores-baseline", *SYNTHETIC_VARIANTS))
    for variant, change in TRAINED_VARIANTS.items():
        if done(variant) and not (variant == "baseline" and needs_baseline):
            continue
        params = {k: v for k, v in change.items() if k != "epochs_factor"}
        started = time.perf_counter()
        detector = make_detector("ada", epochs=epochs * change.get("epochs_factor", 1), seed=seed, **params)
        detector.fit(images.x_train, images.x_val_normal)
        seconds = time.perf_counter() - started
        if variant == "baseline":
            baseline = detector
        if not done(variant):
            result = detector.predict(images.val.images)
            yield (
                variant,
                {
                    "kind": "trained",
                    "settings": change,
                    "fit_seconds": round(seconds, 1),
                    **_metrics(images.val, result.scores, result.maps, textures),
                },
            )
    if not done("scores-baseline"):
        patch_knn = PatchKNN(seed=seed).fit(images.x_train)
        scored = score_variants(baseline, images.val.images, patch_knn)
        yield (
            "scores-baseline",
            {
                "kind": "scores",
                "scores": {name: _metrics(images.val, s, m, textures) for name, (s, m) in scored.items()},
            },
        )
    for variant, kinds in SYNTHETIC_VARIANTS.items():
        if done(variant):
            continue
        started = time.perf_counter()
        synthetic = make_detector("ada-synthetic", epochs=epochs, seed=seed, synthetic_kinds=kinds)
        synthetic.fit(images.x_train, images.x_val_normal, self_supervised=baseline)
        result = synthetic.predict(images.val.images)
        evidence_maps, evidence_scores = synthetic.evidence_maps(images.val.images)
        yield (
            variant,
            {
                "kind": "synthetic",
                "synthetic_kinds": list(kinds),
                "fit_seconds": round(time.perf_counter() - started, 1),
                "beta_selected": synthetic.beta_selected_,
                **_metrics(images.val, result.scores, result.maps, textures),
                "d_ano": _metrics(images.val, evidence_scores, evidence_maps, textures),
            },
        )


#: every variant name of a unit
VARIANTS = (*TRAINED_VARIANTS, "scores-baseline", *SYNTHETIC_VARIANTS)


def run_remedies(
    output_dir: str | Path = "results/real_images/remedies",
    units: Sequence[tuple[str, str]] = DEFAULT_UNITS,
    seed: int = 0,
    preset: str = "quick",
    variants: Sequence[str] | None = None,
) -> Path:
    """Run (or resume) the remedies of every unit (``variants``: a subset of :data:`VARIANTS`; default all).

    One JSON file per unit and variant, written as each ends; then ``table.md``.
    """
    wanted = set(VARIANTS if variants is None else variants)
    if not wanted or wanted - set(VARIANTS):
        raise ValueError(f"variants must be among {', '.join(VARIANTS)}; got {sorted(wanted - set(VARIANTS))}")
    folder = Path(output_dir)
    check_output_dir(folder / "units")
    for benchmark, subject in units:

        def path_of(variant: str, benchmark: str = benchmark, subject: str = subject) -> Path:
            return folder / "units" / f"{benchmark}-{subject}-seed{seed}-{variant}.json"

        logger.info("remedies of %s %s", benchmark, subject)
        records = remedy_records(
            benchmark, subject, seed, preset, done=lambda v: v not in wanted or path_of(v).exists()
        )
        for variant, record in records:  # stored as each variant ends, so a stopped run loses one at most
            stored = {"benchmark": benchmark, "subject": subject, "seed": seed, "preset": preset, **record}
            write_unit(path_of(variant), stored)
        write_remedies_table(folder)
    return folder / "table.md"


def load_remedy_records(folder: str | Path) -> list[dict[str, Any]]:
    """Every stored remedy record of ``folder/units``."""
    return [json.loads(p.read_text()) for p in sorted(Path(folder).glob("units/*.json"))]


def remedy_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per unit and remedy: ``benchmark, subject, remedy, image_auroc, pixel_auroc`` (validation)."""
    rows = []
    for record in records:
        base = {"benchmark": record["benchmark"], "subject": record["subject"]}
        if record["kind"] == "scores":
            for name, metrics in record["scores"].items():
                rows.append({**base, "remedy": f"score: {name}", **metrics})
        else:
            name = record_name(record)
            rows.append(
                {**base, "remedy": name, **{k: v for k, v in record.items() if k.startswith(("image_", "pixel_"))}}
            )
            if record["kind"] == "synthetic":
                rows.append({**base, "remedy": f"{name}: D_ano alone", **record["d_ano"]})
    return rows


def record_name(record: dict[str, Any]) -> str:
    """The remedy's name in tables: ``train: <variant>`` or ``ada-synthetic: <kinds>``."""
    if record["kind"] == "synthetic":
        return f"ada-synthetic: {'+'.join(record['synthetic_kinds'])}"
    settings = record["settings"]
    return "train: baseline" if not settings else "train: " + ", ".join(f"{k}={v}" for k, v in settings.items())


def write_remedies_table(folder: str | Path) -> str:
    """``table.md``: validation image AUROC (and pixel AUROC on textures) per remedy and unit."""
    folder = Path(folder)
    rows = remedy_rows(load_remedy_records(folder))
    lines = [
        "# Remedies for ADA on real images, validation images only",
        "",
        "Written by `python -m studies.real_remedies` (`studies.real_remedies`). Every "
        "number is measured on the *validation* images of a unit of the real-image benchmarks (quick preset, seed "
        "0: the same images and settings as the benchmark's validation columns); no test image is read. "
        "`train: baseline` is the benchmark's `ada`; `score: …` rows rescore the baseline's networks.",
        "",
    ]
    for benchmark in dict.fromkeys(r["benchmark"] for r in rows):
        these = [r for r in rows if r["benchmark"] == benchmark]
        subjects = list(dict.fromkeys(r["subject"] for r in these))
        metrics = ["image_auroc"] + (["pixel_auroc"] if benchmark == "textures" else [])
        for metric in metrics:
            lines += [f"## {benchmark}: validation {metric.replace('_', ' ')}", ""]
            lines += ["| remedy | " + " | ".join(subjects) + " | mean |", "|---|" + "---|" * (len(subjects) + 1)]
            for remedy in dict.fromkeys(r["remedy"] for r in these):
                values = {r["subject"]: r.get(metric) for r in these if r["remedy"] == remedy}
                if all(v is None for v in values.values()):
                    continue
                cells = [f"{values[s]:.3f}" if values.get(s) is not None else "–" for s in subjects]
                complete = [values[s] for s in subjects if values.get(s) is not None]
                mean = f"{np.mean(complete):.3f}" if len(complete) == len(subjects) else "–"
                lines.append(f"| {remedy} | " + " | ".join(cells) + f" | {mean} |")
            lines.append("")
    machine = machine_info()
    lines += [
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        "",
    ]
    text = "\n".join(lines)
    (folder / "table.md").write_text(text)
    return text


def _unit(text: str) -> tuple[str, str]:
    benchmark, _, subject = text.partition(":")
    if benchmark not in ("photo-digits", "textures") or not subject:
        raise argparse.ArgumentTypeError(f"a unit is photo-digits:<digit> or textures:<texture>; got {text!r}")
    return benchmark, subject


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", nargs="+", type=_unit, default=list(DEFAULT_UNITS), metavar="BENCHMARK:SUBJECT")
    parser.add_argument("--output", default="results/real_images/remedies")
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick"))
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, help="run only these variants (default all)")
    parser.add_argument("--table-only", action="store_true", help="only rewrite table.md from the stored units")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.table_only:
        print(write_remedies_table(args.output))
        return
    print(run_remedies(args.output, args.units, preset=args.preset, variants=args.variants).read_text())


if __name__ == "__main__":
    main()
