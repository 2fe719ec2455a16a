"""Command line: ``python -m adda_keras`` (or ``adda-keras``) ``demo``, ``reproduce``, ``localise``, ``fit``, ``score``.

Each subcommand is a thin layer over an experiment of :mod:`adda_keras.experiments`
(:mod:`~adda_keras.experiments.demo`, :mod:`~adda_keras.experiments.reproduce`,
:mod:`~adda_keras.experiments.localise`, :mod:`~adda_keras.experiments.own_images`);
it parses and validates options, runs, and prints what it did and where the results went.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line and exit status 2, like the commands' own errors."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: message`` (and where to find help), exit with status 2."""
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _image_size(text: str) -> tuple[int, int]:
    """``64`` or ``64x48`` (height x width) as ``(height, width)``."""
    try:
        sides = tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        sides = ()
    if len(sides) not in (1, 2) or min(sides) < 1:
        raise argparse.ArgumentTypeError(f"must be a side (64) or height x width (64x48) in pixels; got {text!r}")
    return (sides[0], sides[-1])


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer; got {text}")
    return value


def _digit(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"digit must be 0-9; got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    from adda_keras.data import MNIST_SOURCES

    parser = _Parser(prog="python -m adda_keras", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and show Keras progress bars")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="train ADA on one noisy-MNIST digit and compare it with AnoVAEGAN")
    demo.add_argument("--digit", type=_digit, default=0, help="the normal digit (default 0)")
    demo.add_argument("--source", choices=MNIST_SOURCES, default="bundled", help="MNIST source (default bundled)")
    demo.add_argument("--noise-strength", type=float, default=1.0, help="background noise strength, 0 = clean")
    demo.add_argument("--epochs", type=_positive_int, default=30, help="training epochs (default 30)")
    demo.add_argument(
        "--beta", type=float, help="weight of D(x) in the ADA score, spread units (default: the library's, 0.5)"
    )
    demo.add_argument("--attention", choices=("cam", "grad-cam"), help="attention method (default: the library's, cam)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--output", default="outputs/demo", help="output folder (default outputs/demo)")

    reproduce = commands.add_parser(
        "reproduce",
        help="reproduce the paper's Table 1 or 3 beside classical detectors, or run a real-image benchmark",
    )
    target = reproduce.add_mutually_exclusive_group(required=True)
    target.add_argument("--table", type=int, choices=(1, 3))
    target.add_argument(
        "--benchmark",
        choices=("photo-digits", "textures"),
        help="a real-image benchmark: digits over real photographs, or texture inspection (results/real_images)",
    )
    reproduce.add_argument(
        "--color",
        choices=("grayscale", "rgb"),
        default="grayscale",
        help="photo-digits: colour mode (default grayscale)",
    )
    reproduce.add_argument("--preset", choices=("tiny", "quick", "paper"), default="quick")
    reproduce.add_argument("--digits", type=int, nargs="+", help="normal digits (table 1) or known anomalies (table 3)")
    reproduce.add_argument("--seeds", type=int, nargs="+", help="override the preset's seeds")
    reproduce.add_argument("--source", choices=MNIST_SOURCES, help="override the preset's MNIST source")
    reproduce.add_argument("--epochs", type=_positive_int, help="override the preset's training epochs")
    reproduce.add_argument("--noise", choices=("on", "off"), default="on", help="background noise (default on)")
    reproduce.add_argument(
        "--noise-strength", type=float, help="background noise strength > 0 (default: the preset's, 1.0)"
    )
    reproduce.add_argument(
        "--noise-seed", type=int, help="seed of the background noise (default: each unit's split seed)"
    )
    reproduce.add_argument("--methods", nargs="+", metavar="NAME", help="report only these methods of the table")
    reproduce.add_argument(
        "--overwrite", action="store_true", help="recompute finished units that were made with other settings"
    )
    reproduce.add_argument("--output", help="output folder (default results; results/real_images with --benchmark)")

    localise = commands.add_parser(
        "localise", help="score anomaly maps against defect masks: pixel AUROC and AUPRO per method and defect"
    )
    localise.add_argument("--benchmark", choices=("digits", "textures"), required=True)
    localise.add_argument("--preset", choices=("tiny", "quick"), default="quick")
    localise.add_argument(
        "--output", default="results/localisation", help="output folder (default results/localisation)"
    )

    fit = commands.add_parser(
        "fit", help="train a detector on a folder of your normal images; fit its threshold on held-out ones"
    )
    fit.add_argument("normal_dir", metavar="NORMAL_DIR", help="folder of normal images (searched recursively)")
    fit.add_argument("--out", required=True, help="model file to write: .keras (networks) or .pkl (pixel detectors)")
    fit.add_argument("--method", default="ada", help="detector name (default ada; see README for the list)")
    fit.add_argument("--image-size", type=_image_size, default=(64, 64), help="64 or HxW (default 64)")
    fit.add_argument("--color", choices=("grayscale", "rgb"), default="rgb", help="colour mode (default rgb)")
    fit.add_argument("--epochs", type=int, default=30, help="training epochs (default 30)")
    fit.add_argument("--batch-size", type=int, default=64, help="training batch size (default 64)")
    fit.add_argument("--val-fraction", type=float, help="share of normal images held out for validation (default 0.1)")
    fit.add_argument("--val-dir", metavar="DIR", help="normal validation images of their own, instead of holding out")
    fit.add_argument(
        "--known-anomaly",
        metavar="DIR",
        help="folder of images of a known anomaly: validation anomalies for the threshold and ada's beta "
        "(training images for the semi-supervised methods)",
    )
    fit.add_argument(
        "--threshold",
        choices=("fpr", "f1", "recall"),
        default="fpr",
        help="fpr: a target false-positive rate on normal validation images (default); f1, recall: need "
        "--known-anomaly",
    )
    fit.add_argument("--target-fpr", type=float, default=0.05, help="false-positive rate of --threshold fpr")
    fit.add_argument("--target-recall", type=float, default=0.9, help="share of anomalies --threshold recall flags")
    fit.add_argument("--seed", type=int, default=0, help="seeds the validation split and training (default 0)")

    score = commands.add_parser(
        "score", help="score image files and folders with a saved model: a CSV of scores and labels, map images"
    )
    score.add_argument("model", metavar="MODEL", help="a model written by fit (.keras or .pkl)")
    score.add_argument("paths", metavar="PATH", nargs="+", help="image files and folders (searched recursively)")
    score.add_argument("--out", default="scores.csv", help="CSV to write (default scores.csv)")
    score.add_argument("--maps", metavar="DIR", help="also write one PNG per image: input, anomaly map, label")
    score.add_argument("--threshold", type=float, help="label with this threshold instead of the model's")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    A bad option, an unwritable output folder, stale results or an
    unreachable network end the run with one ``error:`` line on stderr and
    exit status 2 (with ``-v``, the full traceback); the commands check all
    of these before training.
    """
    args = build_parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        _run(args)
    except (ValueError, ConnectionError, ImportError) as error:
        if args.verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _run(args: argparse.Namespace) -> None:
    """Run the parsed subcommand and print where its results went."""
    from adda_keras.experiments.demo import DemoConfig, run_demo
    from adda_keras.experiments.reproduce import make_config, run_reproduction

    if args.command == "reproduce" and args.benchmark is not None:
        from adda_keras.experiments.real_images import make_real_config, run_real_images

        table_only = ("digits", "seeds", "source", "epochs", "noise_strength", "noise_seed", "methods")
        given = [f"--{name.replace('_', '-')}" for name in table_only if getattr(args, name) is not None]
        if given or args.noise != "on":
            raise ValueError(
                f"{', '.join(given) or '--noise'} belong(s) to --table runs; a --benchmark runs its preset"
            )
        real = make_real_config(args.benchmark, args.preset, args.color, args.output or "results/real_images")
        run_real_images(real)
        print((real.folder / "table.md").read_text())
        print(f"results written to {real.folder.resolve()}")
    elif args.command == "reproduce":
        if args.color != "grayscale":
            raise ValueError("--color belongs to --benchmark photo-digits; the tables use MNIST's grayscale")
        config = make_config(
            args.table,
            args.preset,
            args.digits,
            args.seeds,
            args.source,
            args.noise == "on",
            args.output or "results",
            args.epochs,
            noise_strength=args.noise_strength,
            noise_seed=args.noise_seed,
            methods=args.methods,
            overwrite=args.overwrite,
        )
        run_reproduction(config)
        print((config.folder / "table.md").read_text())
        print(f"results written to {config.folder.resolve()}")
    if args.command == "localise":
        from adda_keras.experiments.localise import make_localise_config, run_localisation

        config = make_localise_config(args.benchmark, args.preset, args.output)
        run_localisation(config)
        print((config.folder / "table.md").read_text())
        print(f"results written to {config.folder.resolve()}")
    if args.command == "fit":
        from adda_keras.experiments.own_images import FitConfig, fit_folder, progress_verbosity

        if args.val_dir is not None and args.val_fraction is not None:
            raise ValueError("give --val-dir or --val-fraction, not both: validation images come from one of them")
        fit_config = FitConfig(
            normal_dir=args.normal_dir,
            out=args.out,
            method=args.method,
            image_size=args.image_size,
            color=args.color,
            epochs=args.epochs,
            batch_size=args.batch_size,
            val_fraction=0.1 if args.val_fraction is None else args.val_fraction,
            val_dir=args.val_dir,
            known_anomaly_dir=args.known_anomaly,
            threshold=args.threshold,
            target_fpr=args.target_fpr,
            target_recall=args.target_recall,
            seed=args.seed,
            verbose=progress_verbosity(),
        )
        print(fit_folder(fit_config).summary())
    if args.command == "score":
        from adda_keras.experiments.own_images import ScoreConfig, score_paths

        print(score_paths(ScoreConfig(args.model, args.paths, args.out, args.maps, args.threshold)).summary())
    if args.command == "demo":
        score_settings = {name: value for name in ("beta", "attention") if (value := getattr(args, name)) is not None}
        config = DemoConfig(
            digit=args.digit,
            source=args.source,
            noise_strength=args.noise_strength,
            epochs=args.epochs,
            seed=args.seed,
            output_dir=args.output,
            **score_settings,  # unset: DemoConfig's defaults, which are the library's
        )
        result = run_demo(config, verbose="auto" if args.verbose else 0)
        print(result.table())
        print(f"results written to {os.path.abspath(config.output_dir)}")
