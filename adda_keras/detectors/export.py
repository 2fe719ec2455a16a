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
delegate), for phones and small devices. Its input is one image at a time
(:data:`TFLITE_BATCH`): the decoder's upsampling leaves the batch
dimension dynamic otherwise, and TFLite's built-in convolutions then fail. Where a detector needs an
operation that TFLite lacks, the conversion fails with an error that says
so, and the SavedModel remains available. Pixel detectors (scikit-learn)
have no TensorFlow graph, and AnoGAN scores by a latent search (gradient
steps per image): neither can be exported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from adda_keras.detectors.base import AnomalyDetector, KerasDetector

__all__ = ["EXPORT_FORMATS", "export_detector", "serving_function"]

#: the formats of :func:`export_detector`
EXPORT_FORMATS = ("savedmodel", "tflite")
#: the TFLite model's batch size: fixed, because TFLite's built-in convolutions need static shapes
TFLITE_BATCH = 1


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


def export_detector(detector: AnomalyDetector, path: str | os.PathLike[str], format: str = "savedmodel") -> Path:
    """Write ``detector`` as a serving artifact at ``path``: a SavedModel folder or a ``.tflite`` file.

    Raises ``ValueError`` for an unknown format, a detector without
    networks or without a threshold, a ``.tflite`` path of another suffix,
    or a detector that TFLite's built-in operations cannot express. The
    artifact is written beside ``path`` and moved there when complete; an
    existing ``path`` is replaced only then.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {EXPORT_FORMATS}; got {format!r}")
    _check_exportable(detector)
    path = Path(path)
    if format == "tflite" and path.suffix != ".tflite":
        raise ValueError(f"a TFLite model is one '.tflite' file; got {str(path)!r}")
    module = _Serving(detector, batch=None if format == "savedmodel" else TFLITE_BATCH)
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
            if path.exists():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
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
