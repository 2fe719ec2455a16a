"""Scoring throughput of the VAEGAN family against the machine's limit: old and fast path in one run, FLOPs, peak.

For each image size (``--sizes``, default 28x28 grayscale, 64x64 grayscale
and RGB), ADA is trained for two epochs on ``--train-images`` images (the
second epoch is timed; throughput does not depend on how well it is
trained), ``ada-semi`` and ``ada-synthetic`` train their ``D_ano`` beside it
and the other scores are variants of the same networks. Each method then
scores ``--images`` images by the path the library used before
(:func:`~adda_keras.detectors.fast_scoring.reference_path`: the Keras
networks as saved, batches of 512, the score assembled eagerly) and by the
fast path (one compiled pass per fixed batch, the decoder at low
resolution), interleaved ``--repeats`` times so that other jobs on the
machine slow both alike; the best run of each is kept, in wall-clock time
and in CPU time of the process (all threads). The fast path's batch is
swept over ``--batch-sizes`` for ADA, and ADA's TFLite export runs with
XNNPACK at batches of 1 and of 16.

FLOPs per image come from TensorFlow's profiler on each path's frozen
graph (the old path: the compiled pass; the few elementwise operations it
ran eagerly after it are left out). The machine's peak is measured on both
cores by a large float32 matmul and a large 3x3 convolution (the better of
the two); the fraction of peak is images/s x FLOPs per image / peak, and
the network's limit is peak / FLOPs per image of the original networks.
Every figure carries the load average at the time it was measured.

    python scripts/benchmark_scoring.py [--sizes 28:grayscale 64:grayscale 64:rgb] [--images 1024] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from adda_keras import make_detector
from adda_keras.data import BackgroundNoise, apply_noise, load_mnist, semi_supervised_split
from adda_keras.detectors.base import SCORE_BATCH_SIZE
from adda_keras.detectors.export import TFLITE_BATCH, export_detector, run_tflite
from adda_keras.detectors.fast_scoring import REFERENCE_BATCH_SIZE, VAEGANPasses, reference_path
from adda_keras.experiments.common import machine_info

METHODS = ("ada", "anovaegan", "ada-d-only", "ada-semi", "ada-synthetic")
#: the issue's targets: the fast path at least twice the old one, and ADA at >= 55% of the network's limit
SPEEDUP_TARGET, LIMIT_TARGET = 2.0, 0.55


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every training epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Start the clock."""
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Record the epoch's duration."""
        self.seconds.append(time.perf_counter() - self._start)


def load() -> float:
    """The one-minute load average."""
    return os.getloadavg()[0]


def timed(run: Callable[[], Any]) -> tuple[float, float]:
    """Wall-clock and process CPU seconds of ``run()``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - start_cpu


def measure_peak(repeats: int = 3) -> dict[str, float]:
    """The best float32 GFLOP/s of a 2048^3 matmul and of a 3x3 convolution (32x64x64x64 -> 64), on every core.

    Returns ``gflops`` (wall clock), ``gflops_cpu`` (per CPU-second of the
    process) and ``load``.
    """
    a, b = tf.random.normal((2048, 2048)), tf.random.normal((2048, 2048))
    images, kernel = tf.random.normal((32, 64, 64, 64)), tf.random.normal((3, 3, 64, 64))
    kernels = {
        "matmul": (tf.function(tf.matmul), (a, b), 2 * 2048**3),
        "conv2d": (
            tf.function(lambda x, k: tf.nn.conv2d(x, k, 1, "SAME")),
            (images, kernel),
            2 * 32 * 64**2 * 9 * 64**2,
        ),
    }
    best = {"gflops": 0.0, "gflops_cpu": 0.0, "load": load()}
    for function, inputs, flops in kernels.values():
        function(*inputs).numpy()
        for _ in range(repeats):
            wall, cpu = timed(lambda f=function, i=inputs: [f(*i) for _ in range(10)][-1].numpy())
            best["gflops"] = max(best["gflops"], 10 * flops / wall / 1e9)
            best["gflops_cpu"] = max(best["gflops_cpu"], 10 * flops / cpu / 1e9)
    return best


def graph_flops(function: Any, *specs: tf.TensorSpec) -> int:
    """Floating-point operations of one call of a ``tf.function`` on ``specs``, by TensorFlow's profiler."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    frozen = convert_variables_to_constants_v2(function.get_concrete_function(*specs))
    options = (
        tf.compat.v1.profiler.ProfileOptionBuilder(tf.compat.v1.profiler.ProfileOptionBuilder.float_operation())
        .with_empty_output()
        .build()
    )
    return int(tf.compat.v1.profiler.profile(frozen.graph, options=options).total_float_ops)


def flops_per_image(detector: Any, batch: int = 8) -> tuple[float, float]:
    """FLOPs per image of the old path (the compiled pass of every part) and of the fast path (one score kind)."""
    model, discriminators = detector._scoring_networks()
    images = tf.TensorSpec((batch, *detector.image_shape_), tf.float32)
    settings = (detector.attention, detector.normalisation, detector.attention_floor, detector.attention_sources)
    old = VAEGANPasses(model, discriminators, *settings, fast=False)
    new = VAEGANPasses(model, discriminators, *settings)
    old_flops = graph_flops(tf.function(old.parts), images)
    new_flops = graph_flops(new.score_pass(detector._score_kind()), images, tf.TensorSpec((), tf.float32))
    return old_flops / batch, new_flops / batch


def benchmark_images(
    size: int, color: str, n_images: int, n_train: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Test images, normal training images, known anomalies and a description of them."""
    if size == 28 and color == "grayscale":
        mnist = load_mnist("bundled")
        split = semi_supervised_split(mnist.images, mnist.labels, normal_class=0, known_anomaly_class=1, n_known=50)
        split = apply_noise(split, BackgroundNoise(), seed=0)
        return split.x_test[:n_images], split.x_train[:n_train], split.x_known, "noisy MNIST test images"
    from adda_keras.data.defects import texture_crops

    channels = 3 if color == "rgb" else 1
    test = texture_crops("brick", n_images, seed=0, size=size).repeat(channels, axis=-1)
    train = texture_crops("brick", n_train, seed=1, size=size).repeat(channels, axis=-1)
    known = texture_crops("gravel", 50, seed=2, size=size).repeat(channels, axis=-1)
    what = "crops of scikit-image's brick photo" + (" (gray in 3 channels)" if channels == 3 else "")
    return test, train, known, what


def fitted_family(train: np.ndarray, known: np.ndarray, methods: list[str]) -> tuple[dict[str, Any], float]:
    """The requested detectors on networks trained for two epochs, and ADA's seconds per (second) epoch."""
    timer = EpochTimer()
    ada = make_detector("ada", epochs=2).fit(train, callbacks=[timer])
    detectors = {}
    for name in methods:
        if name == "ada-semi":
            detectors[name] = make_detector(name, epochs=2).fit(train, x_known=known, self_supervised=ada)
        elif name == "ada-synthetic":
            detectors[name] = make_detector(name, epochs=2).fit(train, self_supervised=ada)
        else:
            detectors[name] = ada if name == "ada" else ada.variant(name)
    return detectors, timer.seconds[-1]


def compare_paths(detector: Any, images: np.ndarray, repeats: int) -> dict[str, dict[str, float]]:
    """Best wall and CPU seconds of the old and the fast path over ``repeats`` interleaved runs, with the loads."""
    old = reference_path(detector)
    runs = {
        "old": lambda: old(images, REFERENCE_BATCH_SIZE),
        "fast": lambda: detector.predict(images, SCORE_BATCH_SIZE),
    }
    best = {path: {"wall": float("inf"), "cpu": float("inf"), "loads": []} for path in runs}
    for run in runs.values():
        run()  # trace outside the timing
    for _ in range(repeats):
        for path, run in runs.items():
            best[path]["loads"].append(load())
            wall, cpu = timed(run)
            best[path]["wall"], best[path]["cpu"] = min(best[path]["wall"], wall), min(best[path]["cpu"], cpu)
    return best


def batch_sweep(detector: Any, images: np.ndarray, batch_sizes: list[int], repeats: int) -> dict[int, dict]:
    """Best wall and CPU seconds of the fast path at each batch size, interleaved."""
    best = {b: {"wall": float("inf"), "cpu": float("inf"), "loads": []} for b in batch_sizes}
    for b in batch_sizes:
        detector.predict(images[:b], b)
    for _ in range(repeats):
        for b in batch_sizes:
            best[b]["loads"].append(load())
            wall, cpu = timed(lambda b=b: detector.predict(images, b))
            best[b]["wall"], best[b]["cpu"] = min(best[b]["wall"], wall), min(best[b]["cpu"], cpu)
    return best


def tflite_timings(detector: Any, images: np.ndarray, repeats: int, folder: Path) -> dict[int, dict]:
    """Best wall and CPU seconds of ADA's TFLite export (XNNPACK, 2 threads) at batches of 1 and TFLITE_BATCH."""
    detector.threshold_ = detector.threshold_ if detector.threshold_ is not None else 0.0
    paths = {
        b: export_detector(detector, folder / f"ada_{b}.tflite", "tflite", batch_size=b) for b in (1, TFLITE_BATCH)
    }
    best = {b: {"wall": float("inf"), "cpu": float("inf"), "loads": []} for b in paths}
    for path in paths.values():
        run_tflite(path, images[:TFLITE_BATCH], num_threads=os.cpu_count())
    for _ in range(repeats):
        for b, path in paths.items():
            best[b]["loads"].append(load())
            wall, cpu = timed(lambda p=path: run_tflite(p, images, num_threads=os.cpu_count()))
            best[b]["wall"], best[b]["cpu"] = min(best[b]["wall"], wall), min(best[b]["cpu"], cpu)
    return best


def row(
    size: str, method: str, path: str, batch: int, timing: dict, n: int, mflops: float, peak: dict[str, float]
) -> str:
    """One markdown row: throughput, CPU per image, FLOPs, achieved rate and fraction of peak, load."""
    rate, cpu_ms = n / timing["wall"], 1000 * timing["cpu"] / n
    achieved, per_cpu = rate * mflops / 1000, mflops / cpu_ms
    loads = timing["loads"]
    return (
        f"| {size} | {method} | {path} | {batch} | {rate:,.0f} | {cpu_ms:.3f} | {mflops:.1f} | {achieved:.0f} | "
        f"{100 * achieved / peak['gflops']:.0f}% | {per_cpu:.0f} | {100 * per_cpu / peak['gflops_cpu']:.0f}% | "
        f"{min(loads):.1f}-{max(loads):.1f} |"
    )


HEADER = [
    "| size | method | path | batch | images / s | CPU ms / image | MFLOP / image | GFLOP/s | % of peak | "
    "GFLOP per CPU-s | % of peak per CPU-s | load |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def main() -> None:
    """Measure the peak, then every size and method; print and write ``results/benchmark_scoring.md``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["28:grayscale", "64:grayscale", "64:rgb"])
    parser.add_argument("--images", type=int, default=1024, help="images scored per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--train-images", type=int, default=128, help="images of each training epoch")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[16, 32, 64, 128, 256, 512])
    parser.add_argument("--output", default="results")
    args = parser.parse_args()
    model, cores = machine_info()["cpu_model"], os.cpu_count()
    peak = measure_peak()
    print(f"{model}, {cores} cores: peak {peak['gflops']:.0f} GFLOP/s (load {peak['load']:.1f})", flush=True)
    rows, sweep_rows, lite_rows, summary, training = [], [], [], [], []
    for spec in args.sizes:
        side, color = spec.split(":")
        size = f"{side}x{side} {color}"
        images, train, known, what = benchmark_images(int(side), color, args.images, args.train_images)
        detectors, epoch = fitted_family(train, known, args.methods)
        training.append(f"| {size} | {len(train)} | {epoch:.2f} | {load():.1f} |")
        n = len(images)
        for name, detector in detectors.items():
            old_flops, new_flops = (f / 1e6 for f in flops_per_image(detector))
            timing = compare_paths(detector, images, args.repeats)
            rows.append((size, name, "old", REFERENCE_BATCH_SIZE, timing["old"], n, old_flops))
            rows.append((size, name, "fast", SCORE_BATCH_SIZE, timing["fast"], n, new_flops))
            speedup = timing["old"]["wall"] / timing["fast"]["wall"]
            cpu_speedup = timing["old"]["cpu"] / timing["fast"]["cpu"]
            line = f"{size} {name}: fast/old {speedup:.2f}x images/s, {cpu_speedup:.2f}x CPU per image"
            verdict = "met" if speedup >= SPEEDUP_TARGET else "not met"
            summary.append((line, name, n, timing, old_flops, verdict))
            print(line, flush=True)
            if name == "ada":
                for b, t in batch_sweep(detector, images, args.batch_sizes, args.repeats).items():
                    sweep_rows.append((size, name, "fast", b, t, n, new_flops))
                with tempfile.TemporaryDirectory() as folder:
                    for b, t in tflite_timings(detector, images, args.repeats, Path(folder)).items():
                        lite_rows.append((size, name, "TFLite + XNNPACK", b, t, n, new_flops))
    # the peak again, after the runs: the better of the two is the machine's, the load of the other jobs permitting
    again = measure_peak()
    print(f"peak again: {again['gflops']:.0f} GFLOP/s (load {again['load']:.1f})", flush=True)
    peaks = (peak, again)
    peak = {key: max(p[key] for p in peaks) for key in ("gflops", "gflops_cpu")}
    rows, sweep_rows, lite_rows = ([row(*r, peak) for r in table] for table in (rows, sweep_rows, lite_rows))
    targets = []
    for line, name, n, timing, old_flops, verdict in summary:
        if name == "ada":
            limit = peak["gflops"] * 1000 / old_flops
            line += (
                f"; the network's limit {limit:,.0f} images/s ({old_flops:.0f} MFLOP at {peak['gflops']:.0f} "
                f"GFLOP/s), old path at {100 * n / timing['old']['wall'] / limit:.0f}% of it, fast path at "
                f"{100 * n / timing['fast']['wall'] / limit:.0f}% (target {100 * LIMIT_TARGET:.0f}%)"
            )
        targets.append(f"- {line}; target {SPEEDUP_TARGET:.0f}x images/s: {verdict}")
    info = machine_info()
    command = (
        f"python scripts/benchmark_scoring.py --sizes {' '.join(args.sizes)} --images {args.images} "
        f"--repeats {args.repeats} --train-images {args.train_images} --methods {' '.join(args.methods)} "
        f"--batch-sizes {' '.join(map(str, args.batch_sizes))}"
    )
    lines = [
        "# Scoring throughput of the VAEGAN family: old path against fast path, and the machine's limit",
        "",
        f"Command: `{command}`; {args.images} images per size ({what} at 64x64, noisy MNIST at 28x28), best of "
        f"{args.repeats} interleaved runs per path.",
        "",
        f"Machine: {model}, {cores} cores, GPUs {info['gpus'] or 'none'}, TensorFlow {info['tensorflow']}, Keras "
        f"{info['keras']}. Measured peak on all {cores} cores (best of a 2048^3 float32 matmul and a 3x3 "
        f"convolution of 32x64x64x64 -> 64, before and after the runs, the better kept): **{peak['gflops']:.0f} "
        f"GFLOP/s** wall clock, {peak['gflops_cpu']:.0f} GFLOP per CPU-second (before: {peaks[0]['gflops']:.0f} "
        f"GFLOP/s at load {peaks[0]['load']:.1f}; after: {peaks[1]['gflops']:.0f} at load {peaks[1]['load']:.1f}). "
        "Wall-clock fractions of peak depend on the load (other jobs take cores); the CPU-second ones do not.",
        "",
        "The load column is the one-minute load average over the runs of that row: the machine's two cores are "
        "shared with other jobs, which slow the wall clock (images / s) more than the CPU time per image. "
        "`old`: the path before the fast one (the Keras networks as saved, batches of 512, the score assembled "
        "eagerly after the compiled pass); `fast`: one compiled pass per fixed batch, each score computing only "
        "what it needs, the decoder's upsample-and-convolve at low resolution. MFLOP per image by TensorFlow's "
        "profiler on each path's graph; GFLOP/s = images / s x MFLOP per image; % of peak against the measured peak.",
        "",
        *HEADER,
        *rows,
        "",
        "## Against the targets",
        "",
        *targets,
        "",
        f"## ADA's fast path by batch size (the default, `SCORE_BATCH_SIZE`, is {SCORE_BATCH_SIZE})",
        "",
        *HEADER,
        *sweep_rows,
        "",
        f"## ADA exported to TFLite (XNNPACK, {cores} threads), batch 1 against the export's {TFLITE_BATCH}",
        "",
        *HEADER,
        *lite_rows,
        "",
        "## Training, ADA, seconds of the second epoch (batch 64)",
        "",
        "| size | images | s / epoch | load |",
        "|---|---|---|---|",
        *training,
        "",
        "The paper reports about 10 ms per attention map per image on an Nvidia Titan X.",
        "",
    ]
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark_scoring.md").write_text("\n".join(lines))
    print(f"written to {out / 'benchmark_scoring.md'}")


if __name__ == "__main__":
    main()
