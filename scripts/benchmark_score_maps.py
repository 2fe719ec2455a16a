"""Throughput of ``adda-keras score`` end to end, with and without ``--maps`` and ``--overlays``, in images per second.

What a user waits for: files read from disk, scored by a saved ADA model,
the CSV written and, with ``--maps``, each image's map saved as ``.npy`` at
the file's size, with ``--overlays`` a picture drawn with Pillow. The
images are 64x64 crops of scikit-image's brick photo, written as PNG files
(the content does not change the cost); the model is ADA trained for one
epoch (throughput does not depend on how well it is trained). Each setting
is run ``--repeats`` times and the best run is kept; the load average of
the machine is recorded with the result, since the development machine's
two cores are shared. Writes ``results/benchmark_score_maps.md``.

    python scripts/benchmark_score_maps.py [--images 1000] [--repeats 3] [--color grayscale]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from adda_keras.data.defects import texture_crops
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.own_images import FitConfig, ScoreConfig, fit_folder, score_paths

#: the issue's target for scoring with maps at 64x64
TARGET = 200.0


def write_crops(folder: Path, n_images: int, color: str, seed: int) -> None:
    """``n_images`` 64x64 brick crops as PNG files (gray in three channels for ``rgb``)."""
    folder.mkdir(parents=True)
    crops = texture_crops("brick", n_images, seed=seed, size=64)
    for index, crop in enumerate(crops):
        pixels = np.round(crop[..., 0] * 255).astype(np.uint8)
        image = Image.fromarray(pixels).convert("RGB" if color == "rgb" else "L")
        image.save(folder / f"crop_{index:05d}.png")


def main() -> None:
    """Train, then time ``score_paths`` in three settings; write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--color", choices=("grayscale", "rgb"), default="grayscale")
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="adda-benchmark-"))
    try:
        write_crops(work / "train", 64, args.color, seed=1)
        write_crops(work / "val", 32, args.color, seed=2)
        write_crops(work / "test", args.images, args.color, seed=3)
        model = work / "ada.keras"
        fit_folder(FitConfig(str(work / "train"), str(model), val_dir=str(work / "val"), epochs=1, verbose=0))
        settings = {
            "scores only": {},
            "--maps": {"maps": str(work / "maps")},
            "--maps --overlays": {"maps": str(work / "maps"), "overlays": str(work / "overlays")},
        }
        rates, totals, cpu_ms, loads = {}, {}, {}, []
        for name, options in settings.items():
            rates[name] = totals[name] = 0.0
            cpu_ms[name] = float("inf")
            for _ in range(args.repeats):
                for folder in ("maps", "overlays"):
                    shutil.rmtree(work / folder, ignore_errors=True)
                loads.append(os.getloadavg()[0])
                start, cpu = time.perf_counter(), time.process_time()
                report = score_paths(ScoreConfig(str(model), [str(work / "test")], str(work / "s.csv"), **options))
                total, cpu = time.perf_counter() - start, time.process_time() - cpu
                n = len(report.files)
                rates[name] = max(rates[name], n / report.seconds)
                totals[name] = max(totals[name], n / total)
                cpu_ms[name] = min(cpu_ms[name], 1000 * cpu / n)
            print(
                f"{name}: {rates[name]:.0f} images/s ({totals[name]:.0f} with model loading), {cpu_ms[name]:.2f} CPU ms"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine = machine_info()
    lines = [
        "# `adda-keras score` throughput with maps, 64x64",
        "",
        f"Made by `python scripts/benchmark_score_maps.py --images {args.images} --repeats {args.repeats} "
        f"--color {args.color}`: {args.images} PNG files of 64x64 {args.color} brick crops scored by a saved ADA "
        "model, end to end (read, score, write the CSV; `.npy` maps at the file's size; overlay pictures drawn "
        f"with Pillow); best of {args.repeats} runs.",
        "",
        "| setting | images / s | images / s, model loading included | CPU ms / image (all threads) |",
        "|---|---|---|---|",
        *(f"| {name} | {rates[name]:,.0f} | {totals[name]:,.0f} | {cpu_ms[name]:.2f} |" for name in rates),
        "",
        "Images per second count reading the files, scoring them, writing the CSV and the maps, after the model "
        "was loaded and its scoring pass traced (what `score` prints); the next column includes loading the "
        "model file, a fixed cost of a few seconds per run. CPU time is that of the whole process, all threads.",
        "",
        f"Target of the own-images issue: >= {TARGET:.0f} images/s with maps; "
        f"{'met' if rates['--maps'] >= TARGET else 'not met'} ({rates['--maps']:,.0f} with `--maps`, "
        f"{rates['--maps --overlays']:,.0f} with `--maps --overlays`).",
        "",
        f"Machine: {machine['processor']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}; load average during the runs {min(loads):.1f} to {max(loads):.1f} "
        "(the cores were shared with other jobs).",
        "",
    ]
    out = Path(args.output) / "benchmark_score_maps.md"
    out.write_text("\n".join(lines))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
