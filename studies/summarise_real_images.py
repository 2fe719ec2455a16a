"""The real-image benchmarks' targets, read from the committed units: ``results/real_images/<preset>/targets.md``.

Reads every finished unit of ``results/real_images/<preset>/{photo-digits,photo-digits-rgb,textures}/units``
and writes each target as met / not met with its numbers, saying how many units
each mean covers (a run still in progress gives a partial table, and says so).
It also rewrites each benchmark's ``table.md`` and ``runs.csv`` from the units
that have finished, so an interrupted run still has its tables (the command in
``table.md`` resumes it).
Validation numbers are printed beside test numbers: choices may be read only
from the former.

    python -m studies.summarise_real_images [--preset quick]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from adda_keras.data.inspection import HELD_OUT_TEXTURE
from adda_keras.detectors import DEFAULT_TARGET_FPR
from adda_keras.experiments.real_images import make_real_config, write_tables

RESULTS = Path("results/real_images")


def load_units(folder: Path) -> list[dict]:
    """Every finished unit of a benchmark folder (empty when the folder does not exist)."""
    return [json.loads(p.read_text()) for p in sorted((folder / "units").glob("*.json"))]


def mean(units: list[dict], method: str, key: str, kind: str = "all") -> float:
    """Mean over units of a method's image AUROC (``key``: ``test_image_auroc`` or ``val_image_auroc``)."""
    return float(np.mean([u["methods"][method][key][kind] for u in units]))


def test_auroc(unit: dict, method: str) -> float:
    """One unit's test image AUROC of ``method`` over all anomalies."""
    return float(unit["methods"][method]["test_image_auroc"]["all"])


def map_mean(units: list[dict], method: str, metric: str, split: str = "test") -> float:
    """Mean over units of a method's pixel metric on all defects."""
    return float(np.mean([u["methods"][method][f"{split}_maps"]["all"][metric] for u in units]))


def verdict(ok: bool) -> str:
    """Bold met / not met."""
    return "**met**" if ok else "**not met**"


def digit_targets(units: list[dict], label: str) -> list[str]:
    """The digits-over-photographs targets for one colour variant."""
    if not units:
        return [f"- {label}: no unit finished yet."]
    n = len(units)
    coverage = f"{n} of 10 digits" + (
        "" if n == 10 else f" ({', '.join(u['subject'] for u in units)}; run in progress)"
    )
    best = max(("ada-synthetic", "ada"), key=lambda m: mean(units, m, "val_image_auroc"))
    test = {m: mean(units, m, "test_image_auroc") for m in ("ada-synthetic", "ada", "anovaegan", "knn", "pca")}
    val = {m: mean(units, m, "val_image_auroc") for m in ("ada-synthetic", "ada", "anovaegan", "knn", "pca")}
    lines = [
        f"- {label}, {coverage}: test AUROC ada-synthetic {test['ada-synthetic']:.3f}, ADA {test['ada']:.3f}, "
        f"AnoVAEGAN {test['anovaegan']:.3f}, kNN {test['knn']:.3f}, PCA {test['pca']:.3f} (validation: "
        f"{val['ada-synthetic']:.3f}, {val['ada']:.3f}, {val['anovaegan']:.3f}, {val['knn']:.3f}, {val['pca']:.3f}); "
        f"the better of ada-synthetic and ADA on validation is `{best}`.",
        f"  - `{best}` ≥ 0.85: {verdict(test[best] >= 0.85)} ({test[best]:.3f}).",
        f"  - ≥ its own residual + 0.10: {verdict(test[best] >= test['anovaegan'] + 0.10)} "
        f"({test[best] - test['anovaegan']:+.3f}).",
        f"  - ≥ kNN + 0.15: {verdict(test[best] >= test['knn'] + 0.15)} ({test[best] - test['knn']:+.3f}).",
    ]
    per_digit = [f"{u['subject']}: {test_auroc(u, best) - test_auroc(u, 'ada'):+.3f}" for u in units]
    lines.append(f"  - `{best}` − ADA per digit (test): {', '.join(per_digit)}.")
    return lines


def texture_targets(units: list[dict]) -> list[str]:
    """The texture inspection targets."""
    if not units:
        return ["- textures: no unit finished yet."]
    chosen = [u for u in units if u["subject"] != HELD_OUT_TEXTURE]
    held = [u for u in units if u["subject"] == HELD_OUT_TEXTURE]
    methods = ("ada", "ada-cam-only", "ada-synthetic", "anovaegan", "knn", "patch-knn")
    best = max(("ada", "ada-cam-only", "ada-synthetic"), key=lambda m: mean(chosen, m, "val_image_auroc"))
    image = {m: mean(chosen, m, "test_image_auroc") for m in methods}
    lines = [
        f"- textures, {len(chosen)} textures that choices may see ({', '.join(u['subject'] for u in chosen)})"
        + (f" and the held-out `{HELD_OUT_TEXTURE}`" if held else "; the held-out texture has not finished yet")
        + ". Test image AUROC: "
        + ", ".join(f"{m} {v:.3f}" for m, v in image.items())
        + f"; the best ADA variant on validation is `{best}` "
        f"(validation {mean(chosen, best, 'val_image_auroc'):.3f}).",
        f"  - image AUROC ≥ 0.90 (mean over textures): {verdict(image[best] >= 0.90)} ({image[best]:.3f}).",
    ]
    if held:
        value = mean(held, best, "test_image_auroc")
        lines.append(f"  - held-out texture ≥ 0.85: {verdict(value >= 0.85)} ({value:.3f}).")
    pixel = {m: map_mean(chosen, m, "pixel_auroc") for m in ("ada", "ada-synthetic", "anovaegan", "patch-knn")}
    pro = {m: map_mean(chosen, m, "aupro") for m in ("ada", "ada-synthetic", "anovaegan", "patch-knn")}
    best_map = max(("ada", "ada-synthetic"), key=lambda m: map_mean(chosen, m, "pixel_auroc", "val"))
    lines += [
        f"  - pixel AUROC ≥ 0.90 (`{best_map}`, the better ADA map on validation): "
        f"{verdict(pixel[best_map] >= 0.90)} ({pixel[best_map]:.3f}; AnoVAEGAN {pixel['anovaegan']:.3f}, "
        f"patch-kNN {pixel['patch-knn']:.3f}).",
        f"  - AUPRO ≥ 0.70: {verdict(pro[best_map] >= 0.70)} ({pro[best_map]:.3f}; patch-kNN {pro['patch-knn']:.3f}).",
        f"  - ADA's maps ≥ patch-kNN's pixel AUROC: {verdict(pixel[best_map] >= pixel['patch-knn'])} "
        f"({pixel[best_map]:.3f} vs {pixel['patch-knn']:.3f}).",
    ]
    return lines


def fpr_targets(name: str, units: list[dict]) -> list[str]:
    """Whether the stored thresholds' FPR on normal test images lies within 0.5x-2x of the target."""
    if not units:
        return []
    low, high = 0.5 * DEFAULT_TARGET_FPR, 2 * DEFAULT_TARGET_FPR
    cells = []
    for method in ("ada", "ada-synthetic", "anovaegan", "knn"):
        rates = [u["methods"][method]["fpr"]["test_fpr"] for u in units]
        inside = sum(low <= r <= high for r in rates)
        cells.append(f"{method} {np.mean(rates):.3f} (units inside: {inside}/{len(rates)})")
    n_val = units[0]["methods"]["ada"]["fpr"]["n_val"]
    interval = units[0]["methods"]["ada"]["fpr"]["val_fpr_interval"]
    mean_ok = all(
        low <= np.mean([u["methods"][m]["fpr"]["test_fpr"] for u in units]) <= high
        for m in ("ada", "ada-synthetic", "anovaegan", "knn")
    )
    return [
        f"- {name}: test FPR of the stored threshold (target {DEFAULT_TARGET_FPR:.2f}, allowed "
        f"{low:.3f}–{high:.3f}), mean over units: {'; '.join(cells)}. Mean within the band for every method: "
        f"{verdict(mean_ok)}. The validation estimate rests on {n_val} normal images (95% interval "
        f"{interval[0]:.3f}–{interval[1]:.3f} in the first unit)."
    ]


def timing(name: str, units: list[dict]) -> str:
    """Unit time of a benchmark, and scoring throughput of ADA on its test images."""
    if not units:
        return f"- {name}: no unit finished yet."
    seconds = sum(u["seconds"] for u in units)
    per_image = np.mean([u["methods"]["ada"]["test_seconds_per_image"] for u in units])
    return (
        f"- {name}: {seconds / 60:.1f} min of unit time for {len(units)} unit(s) ({seconds / len(units) / 60:.1f} "
        f"min per unit, on a machine shared with other jobs); ADA scored {1 / per_image:.0f} images/s inside the run."
    )


def main() -> None:
    """Write ``targets.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="quick")
    args = parser.parse_args()
    folder = RESULTS / args.preset
    for benchmark, color in (("photo-digits", "grayscale"), ("photo-digits", "rgb"), ("textures", "grayscale")):
        config = make_real_config(benchmark, args.preset, color, str(RESULTS))
        records = {f"{u['subject']}-seed{u['seed']}": u for u in load_units(config.folder)}
        if records:
            write_tables(config, records)
    gray = load_units(folder / "photo-digits")
    rgb = load_units(folder / "photo-digits-rgb")
    textures = load_units(folder / "textures")
    lines = [
        f"# Real-image targets ({args.preset} preset)",
        "",
        "Written by `python -m studies.summarise_real_images` from the committed units; test AUROC unless said. "
        "Which method is reported for a target (ada-synthetic or ADA; the ADA map) was read from validation columns.",
        "",
        "## Digits over real photographs",
        "",
        *digit_targets(gray, "grayscale"),
        *(digit_targets(rgb, "RGB") if rgb else ["- RGB: not run in this preset yet (`--color rgb`)."]),
        "",
        "## Texture inspection",
        "",
        *texture_targets(textures),
        "",
        "## Thresholds on new images",
        "",
        *fpr_targets("digits over photographs (grayscale)", gray),
        *fpr_targets("digits over photographs (RGB)", rgb),
        *fpr_targets("textures", textures),
        "",
        "## Time",
        "",
        timing("digits over photographs (grayscale)", gray),
        *([timing("digits over photographs (RGB)", rgb)] if rgb else []),
        timing("textures", textures),
        "",
    ]
    (folder / "targets.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
