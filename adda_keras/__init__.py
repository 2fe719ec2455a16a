"""adda_keras: robust image anomaly detection with Adversarial Discriminative Attention.

Kimura et al., "Adversarial Discriminative Attention for Robust Anomaly
Detection", WACV 2020, in Keras 3 / TensorFlow. The layout follows the
method: :mod:`~adda_keras.data` -> :mod:`~adda_keras.models` ->
:mod:`~adda_keras.attention` -> :mod:`~adda_keras.scoring` ->
:mod:`~adda_keras.detectors` (one family a module) -> :mod:`~adda_keras.evaluation`
and :mod:`~adda_keras.localisation` -> :mod:`~adda_keras.experiments` (what the
command line runs). Project maintenance lives in ``scripts/`` and one-off
studies (which chose a default or write a results page) in the top-level
``studies/`` package, outside this one: nothing here imports them.

The detector API is imported on first use (``adda_keras.make_detector``
imports :mod:`adda_keras.detectors`, which registers every detector and
imports TensorFlow), so that ``import adda_keras.cli`` and
``adda-keras --help`` start in a fraction of a second.
"""

import importlib
import os
from typing import Any

#: the user's own TF_CPP_MIN_LOG_LEVEL, if any (``adda-keras -v`` restores it, or shows every line)
TF_LOG_LEVEL_GIVEN = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
# Keep TensorFlow's C++ start-up chatter out of notebooks and terminals.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

#: names exported from :mod:`adda_keras.detectors`, imported when first asked for
_DETECTOR_API = ("AnomalyDetector", "AnomalyResult", "available_detectors", "load_detector", "make_detector")

__all__ = ["AnomalyDetector", "AnomalyResult", "__version__", "available_detectors", "load_detector", "make_detector"]


def __getattr__(name: str) -> Any:
    """Import the detector API (and with it TensorFlow) when one of its names is first used."""
    if name in _DETECTOR_API:
        try:
            detectors = importlib.import_module("adda_keras.detectors")
        except ModuleNotFoundError as error:
            from adda_keras.options import missing_dependency

            raise (missing_dependency(error) or error) from error
        value = getattr(detectors, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'adda_keras' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_DETECTOR_API})
