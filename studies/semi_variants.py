"""How ``D_ano`` is trained, compared on validation images only, and the table (resumable).

    python -m studies.semi_variants                       # results/semi_variants/
    python -m studies.semi_variants --variants baseline known+made --digits 0
    python -m studies.semi_variants --table-only          # the table of the stored records

The paper's semi-supervised branch trains a second VAEGAN whose
discriminator ``D_ano`` also calls the labelled known anomalies "not
normal", and sums both discriminators' CAMs and beliefs (``ada-semi``). On
the ten-digit Table 3 that ensemble does not beat self-supervised ADA. This
module trains ``D_ano`` in other ways, each on top of the same
self-supervised ``D_G`` (one per unit), and measures, on validation images
only:

* ``val known``: AUROC of the normal validation images against the known
  digit's held-out labelled validation images;
* ``val made``: against patch-like self-made anomalies of the validation
  normals (:data:`~adda_keras.data.synthetic.PATCH_KINDS`, another seed
  than any training anomaly), a stand-in for the kinds nobody labelled.

for the ensemble's score (``ada-semi``, β by its own rule) and for
``D_ano``'s CAM alone (``ada-cam-ano``). Variants (:data:`D_ANO_VARIANTS`):
the paper's training; the known anomalies joined by as many self-made ones
of the training normals (the ``ada-synthetic`` generator, not a second
one); ``D_ano`` without spectral normalisation (as ``ada-synthetic``'s);
differentiable augmentation of its inputs; and twice the epochs. The
known anomaly's test images and the other digits are never read.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from adda_keras.data import load_mnist
from adda_keras.data.synthetic import PATCH_KINDS, make_synthetic_anomalies
from adda_keras.detectors import make_detector
from adda_keras.detectors.synthetic import TRAIN_ANOMALY_SEED
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import check_output_dir, machine_info
from adda_keras.experiments.reproduce import PRESETS
from adda_keras.experiments.semi_supervised import VAL_MADE_SEED, noisy_semi_split
from adda_keras.experiments.units import write_unit

logger = logging.getLogger(__name__)

#: changes to ``ada-semi``'s ``D_ano`` training (``epochs_factor`` multiplies the preset's epochs; ``with_made``
#: adds as many self-made anomalies of the training normals as there are labelled ones)
D_ANO_VARIANTS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "known+made": {"with_made": True},
    "no-spectral-norm": {"spectral_norm": False},
    "diff-augment": {"diff_augment": True},
    "epochs-x2": {"epochs_factor": 2},
}
#: the study's units: the paper's normal digit and one more, fixed before any of it ran
STUDY_DIGITS = (0, 5)
STUDY_N_KNOWN = 100


def _validation_aurocs(detector: Any, x_val: np.ndarray, anomalies: dict[str, np.ndarray]) -> dict[str, float]:
    normal = detector.score_samples(x_val)
    return {
        name: auroc(np.r_[np.zeros(len(normal)), np.ones(len(images))], np.r_[normal, detector.score_samples(images)])
        for name, images in anomalies.items()
    }


def run_variants(
    output: str | Path,
    digits: tuple[int, ...] = STUDY_DIGITS,
    variants: tuple[str, ...] = tuple(D_ANO_VARIANTS),
    preset: str = "quick",
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Train each variant's ``D_ano`` for each normal digit; one JSON record per unit and variant, resumable."""
    unknown = set(variants) - set(D_ANO_VARIANTS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}; valid: {', '.join(D_ANO_VARIANTS)}")
    folder = Path(output)
    check_output_dir(folder)
    chosen = PRESETS[preset]
    mnist = load_mnist(chosen.source)
    records = []
    for normal in digits:
        paths = {v: folder / f"normal{normal}-seed{seed}-{v}.json" for v in variants}
        records += [json.loads(p.read_text()) for p in paths.values() if p.exists()]
        todo = [v for v in variants if not paths[v].exists()]
        if not todo:
            continue
        split = noisy_semi_split(chosen, mnist, normal, STUDY_N_KNOWN, seed)
        made_val, _ = make_synthetic_anomalies(split.x_val, seed + VAL_MADE_SEED, PATCH_KINDS)
        anomalies = {"val_known": split.x_val_known, "val_made": made_val}
        started = time.perf_counter()
        ada = make_detector("ada", epochs=chosen.epochs, seed=seed).fit(split.x_train, split.x_val)
        ada_seconds = time.perf_counter() - started
        for variant in todo:
            settings = dict(D_ANO_VARIANTS[variant])
            epochs = chosen.epochs * settings.pop("epochs_factor", 1)
            x_known = split.x_known
            if settings.pop("with_made", False):
                made, _ = make_synthetic_anomalies(
                    split.x_train, seed + TRAIN_ANOMALY_SEED, PATCH_KINDS, n=len(split.x_known)
                )
                x_known = np.concatenate([x_known, made])
            started = time.perf_counter()
            semi = make_detector("ada-semi", epochs=epochs, seed=seed, **settings)
            semi.fit(split.x_train, split.x_val, x_known=x_known, x_val_known=split.x_val_known, self_supervised=ada)
            record = {
                "normal": normal,
                "seed": seed,
                "variant": variant,
                "n_known": STUDY_N_KNOWN,
                "beta_selected": semi.beta_selected_,
                "train_seconds": round(time.perf_counter() - started, 1),
                "ada_train_seconds": round(ada_seconds, 1),
                "validation": {
                    "ada": _validation_aurocs(ada, split.x_val, anomalies),
                    "ada-semi": _validation_aurocs(semi, split.x_val, anomalies),
                    "ada-cam-ano": _validation_aurocs(semi.variant("ada-cam-ano"), split.x_val, anomalies),
                },
                "settings": {"epochs": epochs, **D_ANO_VARIANTS[variant]},
                "machine": machine_info(),
            }
            write_unit(paths[variant], record)
            records.append(record)
            logger.info("normal %d, %s: %s", normal, variant, record["validation"])
    return records


def _decision(records: list[dict[str, Any]], digits: list[int], variants: list[str]) -> str:
    """A variant replaces the paper's training only if its ensemble is better on the known validation anomalies on
    every digit and not worse on the self-made ones on the mean (the real-image remedies' "better on every unit")."""
    ensemble = {(r["variant"], r["normal"]): r["validation"]["ada-semi"] for r in records}
    winners = []
    for variant in variants[1:]:
        if not all((variant, d) in ensemble and ("baseline", d) in ensemble for d in digits):
            continue
        known = all(ensemble[variant, d]["val_known"] > ensemble["baseline", d]["val_known"] for d in digits)
        made = np.mean([ensemble[variant, d]["val_made"] - ensemble["baseline", d]["val_made"] for d in digits])
        if known and made >= 0:
            winners.append(variant)
    rule = (
        "Rule (that of the real-image remedies, better on every unit; written down after the first records were "
        "seen): a variant replaces the paper's training only if its ensemble is better on "
        "the known validation anomalies on every digit and not worse on the self-made ones on the mean."
    )
    if not winners:
        return f"{rule} **No variant does**: `ada-semi` keeps the paper's training."
    return f"{rule} **Better by that rule: {', '.join(winners)}.**"


def variants_markdown(records: list[dict[str, Any]], command: str) -> str:
    """Validation AUROCs of each variant (ensemble and ``D_ano``'s CAM alone), per digit and mean."""
    digits = sorted({r["normal"] for r in records})
    variants = [v for v in D_ANO_VARIANTS if any(r["variant"] == v for r in records)]
    lines = [
        "# How D_ano is trained, compared on validation images (n_known 100, quick preset, seed 0)",
        "",
        "AUROC of the normal validation images against the known digit's held-out labelled validation images "
        "(`known`) and against patch-like self-made anomalies of the validation normals (`made`, a stand-in for "
        "the kinds nobody labelled; the `known+made` variant trains on the same generator's anomalies of the "
        "training images, so its `made` column flatters it). Every variant shares the self-supervised D_G of "
        "its digit; the first line is self-supervised ADA for reference. No test image is read.",
        "",
        "| variant | score | " + " | ".join(f"{d}: known | {d}: made" for d in digits) + " | mean known | mean made |",
        "|---|---|" + "---|---|" * len(digits) + "---|---|",
    ]
    keys = ("val_known", "val_made")

    def line(variant: str, score: str, label: str) -> str:
        mine = {r["normal"]: r["validation"][score] for r in records if r["variant"] == variant}
        cells = [f"{mine[d][k]:.3f}" if d in mine else "–" for d in digits for k in keys]
        means = [f"{np.mean([v[k] for v in mine.values()]):.3f}" for k in keys]
        complete = "" if len(mine) == len(digits) else f" (of {len(mine)} digit{'s' * (len(mine) > 1)})"
        return f"| {label} | {score} | " + " | ".join(cells + [m + complete for m in means]) + " |"

    lines.append(line(variants[0], "ada", "– (ADA, D_G only)"))
    lines += [line(variant, score, variant) for variant in variants for score in ("ada-semi", "ada-cam-ano")]
    lines += ["", _decision(records, digits, variants)]
    seconds = {v: np.mean([r["train_seconds"] for r in records if r["variant"] == v]) for v in variants}
    machine = records[0]["machine"]
    lines += [
        "",
        "D_ano training seconds per unit (mean): " + ", ".join(f"{v} {s:.0f}" for v, s in seconds.items()) + ".",
        "",
        f"Command: `{command}`  ",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default="results/semi_variants")
    parser.add_argument("--digits", type=int, nargs="+", default=list(STUDY_DIGITS))
    parser.add_argument("--variants", nargs="+", default=list(D_ANO_VARIANTS), choices=list(D_ANO_VARIANTS))
    parser.add_argument("--preset", default="quick", choices=("tiny", "quick", "paper"))
    parser.add_argument("--table-only", action="store_true", help="write the table of the stored records")
    args = parser.parse_args()
    folder = Path(args.output)
    if args.table_only:
        records = [json.loads(p.read_text()) for p in sorted(folder.glob("normal*-seed*-*.json"))]
        if not records:
            raise SystemExit(f"no stored record in {folder}")
    else:
        records = run_variants(folder, tuple(args.digits), tuple(args.variants), args.preset)
    (folder / "table.md").write_text(variants_markdown(records, "python -m studies.semi_variants"))
    print((folder / "table.md").read_text())


if __name__ == "__main__":
    main()
