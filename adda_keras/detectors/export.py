"""Serving artifacts: a fitted network detector as a TensorFlow SavedModel or a TFLite file, without adda_keras.

``export_detector(detector, path, "savedmodel")`` writes a SavedModel whose
``serving_default`` signature takes a batch of images ``images``
(float32 ``(N, H, W, C)`` in ``[0, 1]``, the detector's own size) and
returns ``score`` ``(N,)``, ``map`` ``(N, H, W)`` and ``label`` ``(N,)``
(int64, 1 = score above the detector's threshold, which is baked in). It is
the detector's own compiled scoring pass, traced once more, so its scores
equal :meth:`~adda_keras.detectors.AnomalyDetector.score_samples` up to
float rounding; it loads with ``tf.saved_model.load`` alone (TensorFlow
Serving, a C++ program, another Python without adda_keras).

``"tflite"`` converts the same function with ``tf.lite.TFLiteConverter``
to one ``.tflite`` file, with TFLite's built-in operations only (no Flex
delegate), for phones and small devices; TFLite's interpreter runs its
convolutions with the XNNPACK delegate (its default on CPUs). Its input is
a fixed batch of :data:`TFLITE_BATCH` images: TFLite's built-in
convolutions need static shapes, and a batch of 16 costs less CPU time per
image than one image at a time (``results/benchmark_scoring.md``). Send
fewer images padded to the batch and drop the padding's outputs:
:func:`pad_to_batch` pads, :func:`run_tflite` does both for any number of
images. Where a detector needs an operation that TFLite lacks, the
conversion fails with an error that says so, and the SavedModel remains
available. Pixel detectors (scikit-learn)
have no TensorFlow graph, and AnoGAN scores by a latent search (gradient
steps per image): neither can be exported.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from adda_keras.detectors.base import AnomalyDetector, KerasDetector
from adda_keras.validation import check_int

__all__ = [
    "EXPORT_FORMATS",
    "TFLITE_BATCH",
    "check_export_target",
    "export_detector",
    "pad_to_batch",
    "run_tflite",
    "serving_function",
]

#: the formats of :func:`export_detector`
EXPORT_FORMATS = ("savedmodel", "tflite")
#: the TFLite model's batch size: fixed, because TFLite's built-in convolutions need static shapes; 16 had the
#: lowest CPU time per image with XNNPACK (``results/benchmark_scoring.md``)
TFLITE_BATCH = 16
#: the file inside every exported SavedModel folder that marks it as this library's export (and so replaceable)
EXPORT_MARKER = "adda_keras-export.json"


class _Serving(tf.Module):
    """The networks (tracked, so that their weights are saved) and the scoring function."""

    def __init__(self, detector: KerasDetector, batch: int | None = None) -> None:
        super().__init__(name="adda_keras_serving")
        self.networks = dict(detector._networks())
        threshold = tf.constant(detector.threshold_, tf.float32)
        height, width, channels = detector.image_shape_

        @tf.function(input_signature=[tf.TensorSpec((batch, height, width, channels), tf.float32, name="images")])
        def serve(images: tf.Tensor) -> dict[str, tf.Tensor]:
            scores, maps = detector._predict_batch(images)
            scores = tf.cast(scores, tf.float32)
            return {
                "score": scores,
                "map": tf.cast(maps, tf.float32),
                "label": tf.cast(scores > threshold, tf.int64),
            }

        self.serve = serve


def serving_function(detector: AnomalyDetector) -> tf.types.experimental.ConcreteFunction:
    """The concrete ``images -> {score, map, label}`` function that :func:`export_detector` writes."""
    _check_exportable(detector)
    return _Serving(detector).serve.get_concrete_function()


def export_detector(
    detector: AnomalyDetector,
    path: str | os.PathLike[str],
    format: str = "savedmodel",
    batch_size: int = TFLITE_BATCH,
) -> Path:
    """Write ``detector`` as a serving artifact at ``path``: a SavedModel folder or a ``.tflite`` file.

    Raises ``ValueError`` for an unknown format, a detector without
    networks or without a threshold, a target that :func:`check_export_target`
    refuses, or a detector that TFLite's built-in operations cannot express.
    The artifact is written beside ``path`` and moved there when complete;
    the only things it replaces are an earlier export (a SavedModel folder
    holding :data:`EXPORT_MARKER`, or a ``.tflite`` file), and only then.
    ``batch_size`` is the TFLite model's fixed batch (the SavedModel takes
    any batch).
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}; got {format!r}")
    _check_exportable(detector)
    path = Path(path).expanduser().resolve()
    check_export_target(path, format)
    module = _Serving(detector, batch=None if format == "savedmodel" else check_int("batch_size", batch_size))
    try:
        concrete = module.serve.get_concrete_function()
    except Exception as error:  # noqa: BLE001  (tracing raises many types; one error that names the detector)
        raise ValueError(
            f"the {detector.method!r} detector's scoring cannot be traced into one graph for export "
            f"({type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''})"
        ) from error
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        if format == "savedmodel":
            tf.saved_model.save(module, str(staging / "model"), signatures={"serving_default": concrete})
            marker = {"method": detector.method, "format": format, "image_shape": list(detector.image_shape_)}
            (staging / "model" / EXPORT_MARKER).write_text(json.dumps(marker) + "\n")
            if path.exists():  # an earlier export (check_export_target): set aside, replaced, then deleted
                os.replace(path, staging / "previous")
            os.replace(staging / "model", path)
        else:
            converter = tf.lite.TFLiteConverter.from_concrete_functions([_frozen(concrete)], module)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
            try:
                flat = converter.convert()
            except Exception as error:  # noqa: BLE001  (the converter raises ConverterError and others)
                first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise ValueError(
                    f"TFLite cannot express the {detector.method!r} detector with its built-in operations "
                    f"({first_line}); export --format savedmodel instead"
                ) from error
            (staging / "model.tflite").write_bytes(flat)
            os.replace(staging / "model.tflite", path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return path


def check_export_target(path: str | os.PathLike[str], format: str) -> None:
    """Raise ``ValueError`` unless exporting to ``path`` can only create or replace an earlier export.

    A SavedModel goes to a new folder, an empty one, or a folder that an
    earlier export wrote (it holds :data:`EXPORT_MARKER`); any other
    existing folder (one of the user's, the current folder, the folder of
    the model) and any existing file are refused, so that an export never
    deletes what it did not create. A TFLite model is one ``.tflite`` file:
    a folder of that name is refused; an existing file is replaced whole.
    """
    path = Path(path).expanduser().resolve()
    if format == "tflite":
        if path.suffix != ".tflite":
            raise ValueError(f"a TFLite model is one '.tflite' file; got {str(path)!r}")
        if path.is_dir():
            raise ValueError(f"--out {path} is an existing folder; a TFLite model is one '.tflite' file")
        return
    if path.exists() and not path.is_dir():
        raise ValueError(f"a SavedModel is a folder; {path} is an existing file")
    if path.is_dir() and any(path.iterdir()) and not (path / EXPORT_MARKER).is_file():
        raise ValueError(
            f"{path} is an existing folder that holds files this export did not write; exporting would replace "
            "them: give a new folder name"
        )


def pad_to_batch(images: np.ndarray, batch_size: int = TFLITE_BATCH) -> np.ndarray:
    """``images`` ``(n, H, W, C)``, ``n <= batch_size``, padded to ``batch_size`` with copies of the last image.

    The TFLite model takes exactly :data:`TFLITE_BATCH` images; keep the
    first ``n`` rows of its outputs.
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or not 1 <= len(images) <= batch_size:
        raise ValueError(f"images must be (n, H, W, C) with 1 <= n <= {batch_size}; got shape {images.shape}")
    return np.concatenate([images, np.repeat(images[-1:], batch_size - len(images), axis=0)])


def run_tflite(
    path: str | os.PathLike[str], images: np.ndarray, num_threads: int | None = None
) -> dict[str, np.ndarray]:
    """Score any number of ``images`` with a ``.tflite`` file of :func:`export_detector`: ``score``, ``map``, ``label``.

    The images go through the model's fixed batch (:func:`pad_to_batch`
    for the last one); TFLite's interpreter applies XNNPACK, with
    ``num_threads`` threads (default: TFLite's choice).
    """
    runner = tf.lite.Interpreter(model_path=str(path), num_threads=num_threads).get_signature_runner()
    batch_size = int(runner.get_input_details()["images"]["shape"][0])
    images = np.asarray(images, dtype=np.float32)
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        outputs = runner(images=pad_to_batch(batch, batch_size))
        chunks.append({key: value[: len(batch)] for key, value in outputs.items()})
    return {key: np.concatenate([chunk[key] for chunk in chunks]) for key in ("score", "map", "label")}


def _frozen(concrete: tf.types.experimental.ConcreteFunction) -> tf.types.experimental.ConcreteFunction:
    """``concrete`` with its variables as constants, outputs still named.

    The converter keeps variables read inside nested functions (the
    detector's compiled pass) as TFLite resource variables, which the
    interpreter never initialises: the model then returns NaN or garbage.
    Freezing them first gives a self-contained model.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    constant = convert_variables_to_constants_v2(concrete)
    names = sorted(concrete.structured_outputs)  # the flat order of a dict's values

    @tf.function(input_signature=concrete.structured_input_signature[0])
    def named(images: tf.Tensor) -> dict[str, tf.Tensor]:
        return dict(zip(names, constant(images), strict=True))

    return named.get_concrete_function()


def _check_exportable(detector: AnomalyDetector) -> None:
    """Raise ``ValueError`` unless ``detector`` is a fitted network detector with a threshold."""
    if not isinstance(detector, KerasDetector):
        raise ValueError(
            f"the {detector.method!r} detector is a scikit-learn model on pixels, not a TensorFlow graph: "
            "it cannot be exported (its .pkl file is its only form)"
        )
    if detector.method == "anogan":
        raise ValueError(
            "AnoGAN's score is a latent search (gradient steps for every image), not one forward pass: "
            "it cannot be exported as a serving graph"
        )
    if detector.image_shape_ is None:
        raise ValueError(f"the {detector.method!r} detector is not fitted; fit it before exporting")
    if detector.threshold_ is None:
        raise ValueError(
            "the detector has no threshold, so its labels would mean nothing: fit one first "
            "(fit_threshold, or adda-keras calibrate)"
        )
