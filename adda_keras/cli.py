"""Command line: ``python -m adda_keras`` (or ``adda-keras``) demo, reproduce, localise, fit, score, calibrate, export.

Each subcommand is a thin layer over an experiment of :mod:`adda_keras.experiments`
(:mod:`~adda_keras.experiments.demo`, :mod:`~adda_keras.experiments.reproduce`,
:mod:`~adda_keras.experiments.localise`, :mod:`~adda_keras.experiments.own_images`)
or :mod:`adda_keras.detectors.export`; it parses and validates options, runs,
and prints what it did and where the results went.

Parsing imports nothing heavy (the methods and bounds come from
:mod:`adda_keras.options`), so ``--help`` and option errors answer at once;
TensorFlow is imported only to run a command. At the default verbosity its
start-up lines are silenced (``TF_CPP_MIN_LOG_LEVEL=3``, its Python loggers
at ERROR); ``-v`` keeps them, with the library's own log and tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import NoReturn

from adda_keras import TF_LOG_LEVEL_GIVEN
from adda_keras.options import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_IMAGE_SIDE,
    MAX_NOISE_STRENGTH,
    MNIST_SOURCE_NAMES,
    describe_methods,
    missing_dependency,
)


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
    if len(sides) not in (1, 2) or min(sides) < 1 or max(sides) > MAX_IMAGE_SIDE:
        raise argparse.ArgumentTypeError(
            f"must be a side (64) or height x width (64x48), 1 to {MAX_IMAGE_SIDE} pixels; got {text!r}"
        )
    return (sides[0], sides[-1])


def _int_in(low: int, high: int) -> Callable[[str], int]:
    """A parser type: an integer in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}; got {text!r}")
        return value

    return parse


def _fraction(open_high: bool = True) -> Callable[[str], float]:
    """A parser type: a number in ``(0, 1)`` (or ``(0, 1]``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (0 < value < 1 or (not open_high and value == 1)):
            raise argparse.ArgumentTypeError(f"must be a number in (0, 1{')' if open_high else ']'}; got {text!r}")
        return value

    return parse


def _finite(text: str) -> float:
    """A parser type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number; got {text!r}")
    return value


def _noise_strength(zero_allowed: bool) -> Callable[[str], float]:
    """A parser type: a background noise strength in ``[0, MAX]`` (or ``(0, MAX]``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not ((0 <= value if zero_allowed else 0 < value) and value <= MAX_NOISE_STRENGTH):
            low = "[0" if zero_allowed else "(0"
            raise argparse.ArgumentTypeError(f"must be a number in {low}, {MAX_NOISE_STRENGTH:g}]; got {text!r}")
        return value

    return parse


_positive_int = _int_in(1, MAX_EPOCHS)
_seed = _int_in(0, 2**32 - 1)


def _digit(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(f"digit must be 0-9; got {text}")
    return value


SCORE_HELP = """\
Each CSV row: path, score, label (1 = score above the threshold), threshold,
normalised_score. normalised_score = (score - m) / (threshold - m), m = the
median score of the normal validation images: about 0 for a typical normal
image, 1.0 at the threshold, above 1 for an image labelled anomalous; it ranks
images exactly as the score does. Raw scores have no fixed scale and may be
negative: ADA's score is an attention-weighted residual minus beta * D(x), the
discriminator's belief that the image is normal, so confidently normal images
score below 0. An image labelled normal is below the threshold, whatever its
map shows.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (imports no TensorFlow)."""
    parser = _Parser(
        prog="adda-keras",
        description="Image anomaly detection with Adversarial Discriminative Attention (ADA) and its peers.",
        epilog="methods (fit --method):\n" + describe_methods(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress, TensorFlow's start-up lines and tracebacks"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="train ADA on one noisy-MNIST digit and compare it with AnoVAEGAN")
    demo.add_argument("--digit", type=_digit, default=0, help="the normal digit (default 0)")
    demo.add_argument("--source", choices=MNIST_SOURCE_NAMES, default="bundled", help="MNIST source (default bundled)")
    demo.add_argument(
        "--noise-strength", type=_noise_strength(True), default=1.0, help="background noise strength, 0 = clean"
    )
    demo.add_argument("--epochs", type=_positive_int, default=30, help="training epochs (default 30)")
    demo.add_argument(
        "--beta", type=float, help="weight of D(x) in the ADA score, spread units (default: the library's, 0.5)"
    )
    demo.add_argument("--attention", choices=("cam", "grad-cam"), help="attention method (default: the library's, cam)")
    demo.add_argument("--seed", type=_seed, default=0)
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
    reproduce.add_argument(
        "--protocol",
        choices=("paper", "ten-digits"),
        default="paper",
        help="table 3: the paper's (normal 0, known 1/3/5/7/9) or every normal digit with known (d + 1) mod 10",
    )
    reproduce.add_argument(
        "--n-known", type=_positive_int, nargs="+", help="table 3 ten-digits: labelled anomalies (default 100 10)"
    )
    reproduce.add_argument("--preset", choices=("tiny", "quick", "paper"), default="quick")
    reproduce.add_argument("--digits", type=int, nargs="+", help="normal digits (table 1) or known anomalies (table 3)")
    reproduce.add_argument("--seeds", type=int, nargs="+", help="override the preset's seeds")  # bounded by make_config
    reproduce.add_argument("--source", choices=MNIST_SOURCE_NAMES, help="override the preset's MNIST source")
    reproduce.add_argument("--epochs", type=_positive_int, help="override the preset's training epochs")
    reproduce.add_argument("--noise", choices=("on", "off"), default="on", help="background noise (default on)")
    reproduce.add_argument(
        "--noise-strength",
        type=_noise_strength(False),
        help="background noise strength > 0 (default: the preset's, 1.0)",
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
        "fit",
        help="train a detector on a folder of your normal images; fit its threshold on held-out ones",
        epilog="methods:\n" + describe_methods(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fit.add_argument("normal_dir", metavar="NORMAL_DIR", help="folder of normal images (searched recursively)")
    fit.add_argument("--out", required=True, help="model file to write: .keras (networks) or .pkl (pixel detectors)")
    fit.add_argument("--method", default="ada", help="detector name (default ada; listed below)")
    fit.add_argument(
        "--image-size",
        type=_image_size,
        help=f"64 or HxW, at most {MAX_IMAGE_SIDE} (default: the images' own size if all share it, else 64x64)",
    )
    fit.add_argument(
        "--color",
        choices=("grayscale", "rgb"),
        help="colour mode (default: rgb if any image is in colour, else grayscale)",
    )
    fit.add_argument("--epochs", type=_positive_int, default=30, help=f"training epochs, 1-{MAX_EPOCHS} (default 30)")
    fit.add_argument(
        "--batch-size", type=_int_in(1, MAX_BATCH_SIZE), default=64, help="training batch size (default 64)"
    )
    fit.add_argument(
        "--val-fraction", type=_fraction(), help="share of normal images held out for validation (default 0.1)"
    )
    fit.add_argument("--val-dir", metavar="DIR", help="normal validation images of their own, instead of holding out")
    fit.add_argument(
        "--known-anomaly",
        metavar="DIR",
        help="folder of images of a known anomaly: validation anomalies for the threshold and ada's beta "
        "(training images for the semi-supervised methods, and for ada-compare, which also trains without); "
        "copies of normal images are refused",
    )
    fit.add_argument(
        "--threshold",
        choices=("fpr", "f1", "recall"),
        default="fpr",
        help="fpr: a target false-positive rate on normal validation images (default); f1, recall: need "
        "--known-anomaly",
    )
    fit.add_argument(
        "--target-fpr", type=_fraction(), default=0.05, help="false-positive rate of --threshold fpr (default 0.05)"
    )
    fit.add_argument(
        "--target-recall",
        type=_fraction(open_high=False),
        default=0.9,
        help="share of anomalies --threshold recall flags",
    )
    fit.add_argument("--seed", type=_seed, default=0, help="seeds the validation split and training (default 0)")
    fit.add_argument("--log", metavar="FILE", help="CSV of every metric per epoch (default: beside --out, .log.csv)")

    score = commands.add_parser(
        "score",
        help="score image files and folders with a saved model: a CSV of scores and labels, maps, overlays",
        epilog=SCORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument("model", metavar="MODEL", help="a model written by fit or calibrate (.keras or .pkl)")
    score.add_argument("paths", metavar="PATH", nargs="+", help="image files and folders (searched recursively)")
    score.add_argument("--out", default="scores.csv", help="CSV to write (default scores.csv)")
    score.add_argument(
        "--maps", metavar="DIR", help="also write each image's anomaly map as a float32 .npy at the image's own size"
    )
    score.add_argument(
        "--overlays", metavar="DIR", help="also write one PNG per image: input, heat map, outline, verdict"
    )
    score.add_argument("--threshold", type=_finite, help="label with this threshold instead of the model's")
    score.add_argument(
        "--skip-unreadable", action="store_true", help="skip files that cannot be decoded (listed) instead of stopping"
    )

    calibrate = commands.add_parser(
        "calibrate",
        help="refit a saved model's threshold (and ada's beta) on validation images, without retraining",
    )
    calibrate.add_argument("model", metavar="MODEL", help="a model written by fit (.keras or .pkl)")
    calibrate.add_argument("--val-dir", metavar="DIR", required=True, help="normal validation images, new to the model")
    calibrate.add_argument("--out", required=True, help="the new model file (same suffix; not MODEL itself)")
    calibrate.add_argument(
        "--threshold", choices=("fpr", "f1", "recall"), default="fpr", help="as for fit (default fpr)"
    )
    calibrate.add_argument("--target-fpr", type=_fraction(), default=0.05, help="as for fit (default 0.05)")
    calibrate.add_argument("--target-recall", type=_fraction(open_high=False), default=0.9, help="as for fit")
    calibrate.add_argument("--known-anomaly", metavar="DIR", help="labelled validation anomalies (f1, recall, beta)")
    calibrate.add_argument(
        "--beta-from-known",
        action="store_true",
        help="ada: choose beta on the known anomalies (kept unless another is better beyond sampling error)",
    )

    export = commands.add_parser(
        "export",
        help="write a saved network model as a TensorFlow SavedModel or TFLite file: images -> score, map, label",
    )
    export.add_argument("model", metavar="MODEL", help="a .keras model written by fit or calibrate")
    export.add_argument("--format", choices=("savedmodel", "tflite"), default="savedmodel")
    export.add_argument("--out", required=True, help="a folder (savedmodel) or a .tflite file")
    return parser


def quiet_tensorflow(verbose: bool) -> None:
    """Silence TensorFlow's start-up and C++ log lines unless ``verbose``; call before TensorFlow is imported.

    The C++ side reads ``TF_CPP_MIN_LOG_LEVEL`` once, at import: 3 drops its
    INFO, WARNING and ERROR lines (oneDNN, CPU features, ``absl`` notices,
    graph-optimiser errors that do not stop a run). Its Python side logs
    through the ``tensorflow``, ``absl`` and ``keras`` loggers and warnings,
    held at ERROR. With ``verbose`` a level set by the user is kept
    (every line otherwise), so ``-v`` shows everything.
    """
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = TF_LOG_LEVEL_GIVEN or "0"
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for name in ("tensorflow", "absl", "keras", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in ("tensorflow", "keras", "absl", "google"):
        warnings.filterwarnings("ignore", module=module)
    # TensorFlow >= 2.20 prints absl's "before InitializeLog" notice and, on CPUs where oneDNN is on by default
    # (AVX-512 VNNI and newer), its oneDNN line at import, whatever TF_CPP_MIN_LOG_LEVEL says: import it here with
    # the process's stderr (file descriptor 2) closed for that moment
    with _c_stderr_silenced():
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        except ImportError:
            pass  # the command that needs it says which extra to install (missing_dependency)


@contextlib.contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Send what C++ code writes to file descriptor 2 to ``os.devnull`` inside the block (Python's stderr too)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 2)
            yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


#: the commands whose numbers the README, the docs and results/ publish
PUBLISHING_COMMANDS = ("demo", "reproduce", "localise")
#: their TensorFlow intra-op threads, unless TF_NUM_INTRAOP_THREADS is set: TensorFlow splits sums among its
#: threads, so a training's last digits (and, after 20 epochs, an AUROC's third decimal) depend on how many there
#: are; results/ was made on 2 cores, so 2 gives the published numbers on a machine of any size (of the same CPU
#: kind: another instruction set, such as AVX-512 against AVX2, still changes the last digits)
REPRODUCIBLE_THREADS = "2"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status.

    A bad option, an unwritable output folder, stale results or an
    unreachable network end the run with one ``error:`` line on stderr and
    exit status 2 (with ``-v``, the full traceback); the commands check all
    of these before training. Ctrl-C ends it with one ``interrupted:`` line
    and status 130 (the shell's for SIGINT).
    """
    args = build_parser().parse_args(argv)
    quiet_tensorflow(args.verbose)
    if args.command in PUBLISHING_COMMANDS:
        os.environ.setdefault("TF_NUM_INTRAOP_THREADS", REPRODUCIBLE_THREADS)
    os.environ.setdefault("MPLBACKEND", "Agg")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        try:
            _run(args)
        except ModuleNotFoundError as error:
            raise (missing_dependency(error) or error) from error
    except (ValueError, ConnectionError, ImportError) as error:
        if args.verbose:
            raise
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.verbose:
            raise
        print(
            f"interrupted: {args.command} stopped; outputs are written whole or not at all, so no file was left "
            "half-written and an earlier file at an output path is unchanged",
            file=sys.stderr,
        )
        return 130
    return 0


def _run(args: argparse.Namespace) -> None:
    """Run the parsed subcommand and print where its results went."""
    command = {
        "reproduce": _reproduce,
        "localise": _localise,
        "fit": _fit,
        "score": _score,
        "calibrate": _calibrate,
        "export": _export,
        "demo": _demo,
    }[args.command]
    command(args)


def _reproduce(args: argparse.Namespace) -> None:
    from adda_keras.experiments.reproduce import make_config, run_reproduction

    if args.benchmark is not None:
        from adda_keras.experiments.real_images import make_real_config, run_real_images

        table_only = ("digits", "seeds", "source", "epochs", "noise_strength", "noise_seed", "methods", "n_known")
        given = [f"--{name.replace('_', '-')}" for name in table_only if getattr(args, name) is not None]
        given += ["--protocol"] if args.protocol != "paper" else []
        if given or args.noise != "on":
            raise ValueError(
                f"{', '.join(given) or '--noise'} belong(s) to --table runs; a --benchmark runs its preset"
            )
        real = make_real_config(args.benchmark, args.preset, args.color, args.output or "results/real_images")
        run_real_images(real)
        print((real.folder / "table.md").read_text())
        print(f"results written to {real.folder.resolve()}")
        return
    if args.color != "grayscale":
        raise ValueError("--color belongs to --benchmark photo-digits; the tables use MNIST's grayscale")
    if args.protocol == "ten-digits":
        from adda_keras.experiments.semi_supervised import make_semi_config, run_semi_table

        if args.table != 3:
            raise ValueError("--protocol ten-digits belongs to --table 3")
        other = ("source", "epochs", "noise_strength", "noise_seed", "methods")
        given = [f"--{name.replace('_', '-')}" for name in other if getattr(args, name) is not None]
        if given or args.noise != "on" or args.overwrite:
            raise ValueError(f"{', '.join(given) or '--noise/--overwrite'} do(es) not apply to --protocol ten-digits")
        semi = make_semi_config(args.preset, args.digits, args.seeds, args.n_known, args.output or "results")
        run_semi_table(semi)
        print((semi.folder / "table.md").read_text())
        print(f"results written to {semi.folder.resolve()}")
        return
    if args.n_known is not None:
        raise ValueError("--n-known belongs to --table 3 --protocol ten-digits")
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


def _localise(args: argparse.Namespace) -> None:
    from adda_keras.experiments.localise import make_localise_config, run_localisation

    config = make_localise_config(args.benchmark, args.preset, args.output)
    run_localisation(config)
    print((config.folder / "table.md").read_text())
    print(f"results written to {config.folder.resolve()}")


def _fit(args: argparse.Namespace) -> None:
    if args.val_dir is not None and args.val_fraction is not None:
        raise ValueError("give --val-dir or --val-fraction, not both: validation images come from one of them")
    from adda_keras.experiments.own_images import FitConfig, fit_folder

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
        verbose=1,
        log_file=args.log,
        diagnose=args.verbose,
    )
    print(fit_folder(fit_config).summary())


def _score(args: argparse.Namespace) -> None:
    from adda_keras.experiments.own_images import ScoreConfig, score_paths

    config = ScoreConfig(
        args.model,
        args.paths,
        args.out,
        maps=args.maps,
        threshold=args.threshold,
        overlays=args.overlays,
        skip_unreadable=args.skip_unreadable,
        progress=True,
    )
    print(score_paths(config).summary())


def _calibrate(args: argparse.Namespace) -> None:
    from adda_keras.experiments.own_images import CalibrateConfig, calibrate_model

    config = CalibrateConfig(
        model=args.model,
        val_dir=args.val_dir,
        out=args.out,
        threshold=args.threshold,
        target_fpr=args.target_fpr,
        target_recall=args.target_recall,
        known_anomaly_dir=args.known_anomaly,
        beta_from_known=args.beta_from_known,
    )
    print(calibrate_model(config).summary())


def _export(args: argparse.Namespace) -> None:
    from pathlib import Path

    from adda_keras.experiments.files import check_not_an_input

    check_not_an_input(args.out, [args.model], "--out", replaces_folder=True)
    if args.format == "tflite" and Path(args.out).suffix != ".tflite":
        raise ValueError(f"a TFLite model is one '.tflite' file; got --out {args.out!r}")
    from adda_keras.detectors import load_detector
    from adda_keras.detectors.export import TFLITE_BATCH, check_export_target, export_detector
    from adda_keras.experiments.common import check_output_dir

    check_output_dir(Path(args.out).resolve().parent)
    check_export_target(args.out, args.format)
    try:
        detector = load_detector(args.model)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from error
    path = export_detector(detector, args.out, args.format)
    height, width, channels = detector.image_shape_
    batch = "N" if args.format == "savedmodel" else str(TFLITE_BATCH)
    print(
        f"exported the {detector.method!r} model {args.model} as {args.format} to {path}\n"
        f"input 'images': float32 ({batch}, {height}, {width}, {channels}) in [0, 1]; outputs 'score' ({batch},), "
        f"'map' ({batch}, {height}, {width}), 'label' ({batch},) int64 at the threshold {detector.threshold_:.6g}"
    )


def _demo(args: argparse.Namespace) -> None:
    from adda_keras.experiments.demo import DemoConfig, run_demo

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
