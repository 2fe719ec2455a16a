"""Throughput of ``adda-keras score`` end to end, with and without ``--maps`` and ``--overlays``, in images per second.

What a user waits for: files read from disk, scored by a saved ADA model,
the CSV written and, with ``--maps``, each image's map saved as ``.npy`` at
the file's size, with ``--overlays`` a picture drawn with Pillow. The
images are 64x64 crops of scikit-image's brick photo, written as PNG files
(the content does not change the cost); the model is ADA trained for one
epoch (throughput does not depend on how well it is trained). Each setting
is run ``--repeats`` times and the best run is kept; the load average of
the machine is recorded with the result, since the development machine's
two cores are shared. Each run is a fresh Python process (the command's
own cost). With ``--baseline DIR``, a checkout of an earlier adda_keras
(e.g. ``mkdir /tmp/old && git archive d3246ae | tar -x -C /tmp/old``) scores
the same files with the same model in runs interleaved with this one's, so
that both see the same load. Writes ``results/benchmark_score_maps.md``.

    python scripts/benchmark_score_maps.py [--images 1000] [--repeats 3] [--color grayscale] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from adda_keras.data.defects import texture_crops
from adda_keras.experiments.common import machine_info
from adda_keras.experiments.own_images import FitConfig, fit_folder

#: the issue's target for scoring with maps at 64x64
TARGET = 200.0
#: one ``score`` run in a fresh process: images/s after loading (as ``score`` prints it), CPU ms per image in all
_RUN = """
import json, sys, time
cpu = time.process_time()
from adda_keras.experiments.own_images import ScoreConfig, score_paths
report = score_paths(ScoreConfig(**json.loads(sys.argv[1])))
n = len(report.files)
print(json.dumps({"rate": n / report.seconds, "cpu_ms": 1000 * (time.process_time() - cpu) / n}))
"""


def score_run(library: Path, config: dict) -> dict[str, float]:
    """Run ``score_paths(ScoreConfig(**config))`` with the adda_keras found in ``library``, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(library), "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run(
        [sys.executable, "-c", _RUN, json.dumps(config)], capture_output=True, text=True, env=env, check=False
    )
    if run.returncode:
        raise RuntimeError(f"score run failed with {library}: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def write_crops(folder: Path, n_images: int, color: str, seed: int) -> None:
    """``n_images`` 64x64 brick crops as PNG files (gray in three channels for ``rgb``)."""
    folder.mkdir(parents=True)
    crops = texture_crops("brick", n_images, seed=seed, size=64)
    for index, crop in enumerate(crops):
        pixels = np.round(crop[..., 0] * 255).astype(np.uint8)
        image = Image.fromarray(pixels).convert("RGB" if color == "rgb" else "L")
        image.save(folder / f"crop_{index:05d}.png")


def _checkout_name(folder: Path) -> str:
    """How a results page names a baseline checkout: its git commit (a machine's path means nothing elsewhere)."""
    commit = subprocess.run(
        ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return f"commit {commit.stdout.strip()} (DIR, a checkout of it)" if commit.returncode == 0 else f"`{folder.name}`"


def main() -> None:
    """Train, then time ``score`` in three settings (and against ``--baseline``); write the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--color", choices=("grayscale", "rgb"), default="grayscale")
    parser.add_argument("--baseline", help="a checkout of an earlier adda_keras to time in the same run")
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    libraries = {"this": Path(__file__).resolve().parents[1]}
    if args.baseline:
        libraries = {"baseline": Path(args.baseline).resolve(), **libraries}
    work = Path(tempfile.mkdtemp(prefix="adda-benchmark-"))
    try:
        write_crops(work / "train", 64, args.color, seed=1)
        write_crops(work / "val", 32, args.color, seed=2)
        write_crops(work / "test", args.images, args.color, seed=3)
        model = work / "ada.keras"
        fit_folder(FitConfig(str(work / "train"), str(model), val_dir=str(work / "val"), epochs=1, verbose=0))
        base = {"model": str(model), "paths": [str(work / "test")], "out": str(work / "s.csv")}
        settings = {
            "scores only": base,
            "--maps": {**base, "maps": str(work / "maps")},
            "--maps --overlays": {**base, "maps": str(work / "maps"), "overlays": str(work / "overlays")},
        }
        best: dict[tuple[str, str], dict] = {}
        for _ in range(args.repeats):
            for name, config in settings.items():
                for library, path in libraries.items():
                    for folder in ("maps", "overlays"):
                        shutil.rmtree(work / folder, ignore_errors=True)
                    before = os.getloadavg()[0]
                    result = score_run(path, config)
                    entry = best.setdefault((name, library), {"rate": 0.0, "cpu_ms": float("inf"), "loads": []})
                    entry["rate"] = max(entry["rate"], result["rate"])
                    entry["cpu_ms"] = min(entry["cpu_ms"], result["cpu_ms"])
                    entry["loads"].append(before)
                    print(f"{name} ({library}): {result['rate']:.0f} images/s, {result['cpu_ms']:.2f} CPU ms, "
                          f"load {before:.1f}", flush=True)  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    machine = machine_info()
    with_maps = best[("--maps", "this")]["rate"]
    baseline = _checkout_name(Path(args.baseline)) if args.baseline else None
    baseline_note = (
        f" `baseline`: the library at {baseline}, run alternately with this checkout (`this`)." if baseline else ""
    )
    lines = [
        "# `adda-keras score` throughput with maps, 64x64",
        "",
        f"Made by `python scripts/benchmark_score_maps.py --images {args.images} --repeats {args.repeats} "
        f"--color {args.color}{' --baseline DIR' if baseline else ''}`: {args.images} PNG files "
        f"of 64x64 {args.color} brick crops scored by a saved ADA model, end to end (read, score, write the CSV; "
        f"`.npy` maps at the file's size; overlay pictures drawn with Pillow), each run a fresh process; best of "
        f"{args.repeats} runs.{baseline_note}",
        "",
        "| setting | library | images / s | CPU ms / image (all threads, model loading included) | load |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {library} | {entry['rate']:,.0f} | {entry['cpu_ms']:.2f} | "
            f"{min(entry['loads']):.1f}-{max(entry['loads']):.1f} |"
            for (name, library), entry in best.items()
        ),
        "",
        "Images per second count reading the files, scoring them, writing the CSV and the maps, after the model "
        "was loaded and its scoring pass traced (what `score` prints). CPU time is that of the whole process, all "
        "threads, from start to end (loading TensorFlow and the model included). The load column is the one-minute "
        "load average before each run: the machine's two cores were shared with other jobs.",
        "",
        f"Target of the own-images issue: >= {TARGET:.0f} images/s with maps; "
        f"{'met' if with_maps >= TARGET else 'not met'} ({with_maps:,.0f} with `--maps`, "
        f"{best[('--maps --overlays', 'this')]['rate']:,.0f} with `--maps --overlays`).",
        "",
        f"Machine: {machine['cpu_model']}, {machine['cpu_count']} CPUs, GPUs {machine['gpus'] or 'none'}, "
        f"TensorFlow {machine['tensorflow']}.",
        "",
    ]
    out = Path(args.output) / "benchmark_score_maps.md"
    out.write_text("\n".join(lines))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
