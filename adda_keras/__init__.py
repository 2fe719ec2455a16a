"""adda_keras: robust image anomaly detection with Adversarial Discriminative Attention.

Kimura et al., "Adversarial Discriminative Attention for Robust Anomaly
Detection", WACV 2020, in Keras 3 / TensorFlow. The layout follows the
method: :mod:`~adda_keras.data` -> :mod:`~adda_keras.models` ->
:mod:`~adda_keras.attention` -> :mod:`~adda_keras.scoring` ->
:mod:`~adda_keras.detectors` (one family a module) -> :mod:`~adda_keras.evaluation`
and :mod:`~adda_keras.localisation` -> :mod:`~adda_keras.experiments` (what the
command line runs).
"""

import os

# Keep TensorFlow's C++ start-up chatter out of notebooks and terminals.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Importing the detectors package registers every detector by name.
from adda_keras.detectors import (  # noqa: E402
    AnomalyDetector,
    AnomalyResult,
    available_detectors,
    load_detector,
    make_detector,
)

__version__ = "0.1.0"

__all__ = ["AnomalyDetector", "AnomalyResult", "__version__", "available_detectors", "load_detector", "make_detector"]
