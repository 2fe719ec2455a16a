"""Compare remedies for real images on *validation* images only (the choices behind ``results/real_images``).

For one unit of each real-image benchmark (normal digit 4 over photographs,
the tissue texture; never the held-out texture), this trains the self-supervised
VAEGAN once per training length and a ``D_ano`` per set of self-made anomaly
kinds, and scores only the unit's validation images (validation photographs,
validation crops with defects of their own seed). The test images are never
built. It writes ``results/real_images/validation/remedies.csv`` and
``remedies.md``; a finished row is reused on a rerun.

    python scripts/real_images_validation.py                 # the committed run: digit 4 and the tissue texture
    python scripts/real_images_validation.py --epochs 20 40  # ... and a longer training
    python scripts/real_images_validation.py --tiny     # a smoke run
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from adda_keras.data.synthetic import SYNTHETIC_KINDS
from adda_keras.detectors import make_detector
from adda_keras.evaluation import auroc
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.real_images import PRESETS, photo_digit_images, texture_images

#: the D_ano variants compared: a name and the self-made anomaly kinds it learns to reject
KIND_SETS = {
    "all kinds": SYNTHETIC_KINDS,
    "patches (cutpaste, scar, blend)": ("cutpaste", "scar", "blend"),
    "smooth (blur, warp)": ("blur", "warp"),
}
FIELDS = ["benchmark", "unit", "epochs", "remedy", "beta", "val_auroc", "seconds"]


def _units(tiny: bool) -> list[tuple[str, str]]:
    if tiny:
        return [("photo-digits", "1"), ("textures", "brick")]
    return [("photo-digits", "4"), ("textures", "tissue")]


def run(output: Path, tiny: bool, epoch_grid: tuple[int, ...]) -> list[dict]:
    """Train and score every remedy of every unit (reusing rows already in ``remedies.csv``)."""
    output.mkdir(parents=True, exist_ok=True)
    path = output / "remedies.csv"
    rows = []
    if path.exists():
        with open(path) as handle:
            rows = list(csv.DictReader(handle))
    preset = PRESETS["tiny" if tiny else "quick"]
    epoch_grid = (1,) if tiny else epoch_grid
    for benchmark, unit in _units(tiny):
        if benchmark == "photo-digits":
            images = photo_digit_images(preset, int(unit), seed=0, color="grayscale")
        else:
            images = texture_images(preset, unit, seed=0)
        val = images.val
        for epochs in epoch_grid:
            key = (benchmark, unit, str(epochs))
            if any((r["benchmark"], r["unit"], r["epochs"]) == key for r in rows):
                continue  # rows are written once a unit's training length is finished whole
            started = time.perf_counter()
            ada = make_detector("ada", epochs=epochs, seed=0).fit(images.x_train, images.x_val_normal)
            ada_seconds = time.perf_counter() - started
            for method in ("anovaegan", "ada-cam-only", "ada"):
                detector = ada if method == "ada" else ada.variant(method)
                rows.append(_row(key, method, "", auroc(val.labels, detector.score_samples(val.images)), ada_seconds))
            for name, kinds in KIND_SETS.items():
                started = time.perf_counter()
                synthetic = make_detector("ada-synthetic", epochs=epochs, seed=0, synthetic_kinds=kinds)
                synthetic.fit(images.x_train, images.x_val_normal, self_supervised=ada)
                seconds = time.perf_counter() - started
                for beta in ("auto", 0.0, 0.5, 2.0):
                    scored = synthetic if beta == "auto" else synthetic.variant(beta=beta)
                    label = f"auto={synthetic.beta_selected_:g}" if beta == "auto" else f"{beta:g}"
                    value = auroc(val.labels, scored.score_samples(val.images))
                    rows.append(_row(key, f"ada-synthetic, {name}", label, value, seconds))
            _write(path, rows)
            print(f"{benchmark} {unit} {epochs} epochs done", flush=True)
    _write(path, rows)
    (output / "remedies.md").write_text(report(rows))
    return rows


def _row(key: tuple[str, str, str], remedy: str, beta: str, value: float, seconds: float) -> dict:
    benchmark, unit, epochs = key
    return {
        "benchmark": benchmark,
        "unit": unit,
        "epochs": epochs,
        "remedy": remedy,
        "beta": beta,
        "val_auroc": round(value, 4),
        "seconds": round(seconds, 1),
    }


def _write(path: Path, rows: list[dict]) -> None:
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(path)


def report(rows: list[dict]) -> str:
    """A markdown table: validation AUROC per remedy and unit, with the mean per benchmark."""
    machine = machine_info()
    lines = [
        "# Remedies for real images, compared on validation images only",
        "",
        "Validation AUROC (labelled validation anomalies: other digits over *validation* photographs; validation "
        "crops with defects of their own seed). Test images were never built by this script. "
        "`python scripts/real_images_validation.py`.",
        "",
    ]
    for benchmark in dict.fromkeys(r["benchmark"] for r in rows):
        subset = [r for r in rows if r["benchmark"] == benchmark]
        units = list(dict.fromkeys(r["unit"] for r in subset))
        lines += [f"## {benchmark}", "", "| epochs | remedy | β | " + " | ".join(units) + " | mean |"]
        lines.append("|---|---|---|" + "---|" * (len(units) + 1))
        keys = list(dict.fromkeys((r["epochs"], r["remedy"], r["beta"].split("=")[0]) for r in subset))
        for epochs, remedy, beta in keys:
            cells, values = [], []
            for unit in units:
                match = [
                    r
                    for r in subset
                    if (r["epochs"], r["remedy"], r["beta"].split("=")[0], r["unit"]) == (epochs, remedy, beta, unit)
                ]
                if match:
                    value = float(match[-1]["val_auroc"])
                    values.append(value)
                    shown = match[-1]["beta"]
                    cells.append(f"{value:.3f}" + (f" (β {shown.split('=')[1]})" if "=" in shown else ""))
                else:
                    cells.append("–")
            lines.append(f"| {epochs} | {remedy} | {beta} | " + " | ".join(cells) + f" | **{np.mean(values):.3f}** |")
        lines.append("")
    lines.append(
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="one epoch, two units: a smoke run")
    parser.add_argument("--output", default="results/real_images/validation", help="output folder")
    parser.add_argument("--epochs", type=int, nargs="+", default=[20], help="training lengths to compare")
    args = parser.parse_args()
    output = Path(args.output if not args.tiny else f"{args.output}-tiny")
    rows = run(output, args.tiny, tuple(args.epochs))
    print((output / "remedies.md").read_text() if rows else "nothing to do")


if __name__ == "__main__":
    main()
